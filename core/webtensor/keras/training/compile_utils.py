"""What ``compile`` turns ``loss``/``metrics`` into: per-output losses and metrics, resolved on
the first batch (when the label and prediction shapes are known, as Keras does for "accuracy")."""

from __future__ import annotations

from ... import nest
from ...function.trace import init_scope
from .. import losses as losses_module
from .. import metrics as metrics_module


def _per_output(spec, names, what):
    """A single spec, a list (one per output) or a dict by output name -> a list per output."""
    n = len(names)
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(
                f"In the dict argument `{what}`, key(s) {sorted(unknown)} do not correspond to any "
                f"model output. Received: {what}={spec}; the model's outputs are {names}"
            )
        return [spec.get(k) for k in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != n:
            raise ValueError(f"`{what}` should have {n} entries (one per model output {names}), got {len(spec)}")
        return list(spec)
    return [spec] * n


def is_binary_or_sparse_categorical(y_true, y_pred):
    t_rank, p_rank = len(y_true.shape), len(y_pred.shape)
    t_last = y_true.shape[-1] if t_rank else None
    p_last = y_pred.shape[-1] if p_rank else None
    return p_last == 1, (t_rank < p_rank or (t_last == 1 and p_last is not None and p_last > 1))


def get_metric(identifier, y_true, y_pred):
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        binary, sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        cls = (
            metrics_module.BinaryAccuracy
            if binary
            else (metrics_module.SparseCategoricalAccuracy if sparse else metrics_module.CategoricalAccuracy)
        )
        return cls(name=identifier)
    obj = metrics_module.get(identifier)
    if not isinstance(obj, metrics_module.Metric):
        obj = metrics_module.MeanMetricWrapper(obj, name=identifier if isinstance(identifier, str) else None)
    elif isinstance(identifier, str):
        obj.name = identifier
    return obj


def _clone_metric(m):
    return type(m).from_config(m.get_config()) if isinstance(m, metrics_module.Metric) else m


class CompileLoss:
    def __init__(self, loss, loss_weights=None, output_names=None):
        self.loss, self.loss_weights, self.output_names = loss, loss_weights, output_names
        self.built = False
        self.trackers: list = []

    def build(self, y_true, y_pred):
        n = len(nest.flatten(y_pred))
        names = list(self.output_names or [f"output_{i}" for i in range(n)])[:n]
        if len(names) < n:
            names += [f"output_{i}" for i in range(len(names), n)]
        self.names = names
        fns = []
        for spec in _per_output(self.loss, names, "loss"):
            fn = losses_module.get(spec) if spec is not None else None
            if fn is not None and not isinstance(fn, losses_module.Loss):
                fn = losses_module.LossFunctionWrapper(fn, name=getattr(fn, "__name__", None))
            fns.append(fn)
        if all(f is None for f in fns):
            raise ValueError("No loss to compute: `loss` is None for every model output")
        self.fns = fns
        w = self.loss_weights
        self.weights = (
            [1.0 if v is None else float(v) for v in _per_output(w, names, "loss_weights")]
            if w is not None
            else [1.0] * n
        )
        self.trackers = (
            [metrics_module.Mean(name=f"{name}_loss") if fn is not None else None for name, fn in zip(names, fns)]
            if n > 1
            else []
        )
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            with init_scope():  # trackers are created eagerly, also inside a compiled step
                self.build(y_true, y_pred)
        preds = nest.flatten(y_pred)
        trues = align(y_true, y_pred, self.names, "y")
        sws = (
            align(sample_weight, y_pred, self.names, "sample_weight")
            if sample_weight is not None
            else [None] * len(preds)
        )
        total = None
        for i, (fn, w, yt, yp, sw) in enumerate(zip(self.fns, self.weights, trues, preds, sws)):
            if fn is None or yt is None:
                continue
            value = fn(yt, yp, sw)
            if self.trackers:
                self.trackers[i].update_state(value)
            value = value * w if w != 1.0 else value
            total = value if total is None else total + value
        return total


def align(y, y_pred, names, what):
    """Labels in the model's output order: a dict by output name, a list, or one tensor."""
    n = len(nest.flatten(y_pred))
    if isinstance(y, dict):
        return [y.get(k) for k in names]
    if n == 1:
        if isinstance(y, (list, tuple)) and len(y) == 1:
            return [y[0]]
        return [y]
    if isinstance(y, (list, tuple)) and len(y) == n:
        return list(y)
    if not isinstance(y, (list, tuple)):
        return [y] * n if what == "sample_weight" else _mismatch(y, n, what)
    return _mismatch(y, n, what)


def _mismatch(y, n, what):
    count = len(y) if isinstance(y, (list, tuple)) else 1
    raise ValueError(
        f"The model has {n} outputs, but `{what}` has {count} entries; pass a list of {n} arrays or a "
        f"dict keyed by output name"
    )


class CompileMetrics:
    def __init__(self, metrics, weighted_metrics, output_names=None):
        self._metrics_spec, self._weighted_spec = metrics, weighted_metrics
        self.output_names = output_names
        self.built = False
        self.pairs: list = []  # (metric, output index, weighted)

    def build(self, y_true, y_pred):
        preds = nest.flatten(y_pred)
        n = len(preds)
        names = list(self.output_names or [f"output_{i}" for i in range(n)])
        trues = align(y_true, y_pred, names, "y")
        for spec, weighted in ((self._metrics_spec, False), (self._weighted_spec, True)):
            if spec is None:
                continue
            for i, per in enumerate(self._split(spec, names, n)):
                for ident in per:
                    if trues[i] is None:
                        continue
                    m = get_metric(_clone_metric(ident) if n > 1 else ident, trues[i], preds[i])
                    if n > 1:
                        m.name = f"{names[i]}_{m.name}"
                    if (
                        weighted
                        and spec is self._weighted_spec
                        and self._metrics_spec is not None
                        and any(x.name == m.name for x, _, _ in self.pairs)
                    ):
                        m.name = f"weighted_{m.name}"
                    self.pairs.append((m, i, weighted))
        self.built = True

    @staticmethod
    def _split(spec, names, n):
        if isinstance(spec, dict):
            return [
                spec.get(k) or []
                if isinstance(spec.get(k), (list, tuple))
                else ([spec[k]] if spec.get(k) is not None else [])
                for k in names
            ]
        spec = list(spec) if isinstance(spec, (list, tuple)) else [spec]
        if n > 1 and len(spec) == n and all(isinstance(s, (list, tuple)) or s is None for s in spec):
            return [list(s or []) for s in spec]
        return [spec] * n

    @property
    def metrics(self) -> list:
        return [m for m, _, _ in self.pairs]

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            with init_scope():  # metric variables are created eagerly (build reads only shapes)
                self.build(y_true, y_pred)
        if not self.pairs:
            return
        preds = nest.flatten(y_pred)
        names = list(self.output_names or [f"output_{i}" for i in range(len(preds))])
        trues = align(y_true, y_pred, names, "y")
        sws = align(sample_weight, y_pred, names, "sample_weight") if sample_weight is not None else None
        for m, i, weighted in self.pairs:
            m.update_state(trues[i], preds[i], sample_weight=sws[i] if weighted and sws else None)

"""``tf.keras.metrics``: stateful metrics (``update_state``/``result``/``reset_state``) as Keras 3.

State lives in variables updated with a few tensor ops per batch, so a training
step never waits for a host readback; ``result()`` is read once per epoch.
"""

from __future__ import annotations

from .. import dtypes as D
from .. import tensor as _tensor
from ..ops import array as A
from ..ops import math as M
from ..ops.nn import in_top_k
from ..ops.reduce import argmax, reduce_mean, reduce_sum
from ..tensor import Tensor, Variable, convert
from . import backend, losses as L
from .saving import _REGISTRY, deserialize_keras_object, lookup, register, serialize_keras_object


def _t(x, dtype=None):
    t = x if type(x) is Tensor else (x.value() if isinstance(x, Variable) else convert(x))
    return t if dtype is None or t.dtype is dtype else M.cast(t, dtype)


class Metric:
    """Accumulates state over batches. Subclasses create variables with ``add_variable``."""

    def __init__(self, name=None, dtype=None):
        self.name = name or backend.to_snake_case(type(self).__name__)
        self._metric_dtype = D.as_dtype(dtype) if dtype is not None else backend.float_dtype()
        self._variables: list = []
        self._initial: list = []

    dtype = property(lambda self: self._metric_dtype)
    variables = property(lambda self: list(self._variables))

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None):
        from . import initializers

        init = initializers.get(initializer)
        v = Variable(init(tuple(shape), dtype or self.dtype), trainable=False, name=f"{self.name}/{name}")
        self._variables.append(v)
        self._initial.append(v.value())
        return v

    add_weight = add_variable

    def reset_state(self) -> None:
        for v, init in zip(self._variables, self._initial):
            v.assign(init)

    def update_state(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} must implement update_state")

    def result(self):
        raise TypeError(f"{type(self).__name__} must implement result")

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def stateless_result(self, variables):
        raise TypeError("stateless metrics are not supported")

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class _Reduce(Metric):
    """total and count; Mean divides them. Unweighted counts are known on the host, so they
    accumulate there and reach the ``count`` variable when it is read."""

    def __init__(self, name=None, dtype=None):
        super().__init__(name, dtype)
        self.total = self.add_variable((), name="total")
        self._count = self.add_variable((), name="count")
        self._pending = 0.0

    @property
    def count(self):
        if self._pending:
            from ..function.trace import init_scope

            with init_scope():  # a host count, flushed eagerly (also when read inside a trace)
                self._count.assign(self._count + self._pending)
            self._pending = 0.0
        return self._count

    @property
    def variables(self):
        self.count  # noqa: B018  (flush the host count)
        return list(self._variables)

    def reset_state(self):
        self._pending = 0.0
        super().reset_state()

    def add(self, value_sum, n: float) -> None:
        """total += value_sum; count += n (n a Python number): the training loop's loss tracker."""
        self.total.assign(self.total + value_sum)
        if _tensor.graph_hook[0] is not None:  # in a tf.function: the count is part of the graph
            self._count.assign(self._count + n)
        else:
            self._pending += n

    def update_state(self, values, sample_weight=None):
        values = _t(values, self.dtype)
        if sample_weight is None:
            shape = tuple(values.shape)
            self.add(reduce_sum(values) if shape else values, float(shape[0]) if shape else 1.0)
            return
        w = _t(sample_weight, self.dtype)
        values, w = L.squeeze_or_expand_to_same_rank(values, w)
        if len(values.shape) > len(w.shape):
            values = reduce_mean(values, list(range(len(w.shape), len(values.shape))))
        w = A.broadcast_to(w, tuple(values.shape))
        self.total.assign(self.total + reduce_sum(values * w))
        count = self.count
        count.assign(count + reduce_sum(w))


@register("metrics")
class Sum(Metric):
    def __init__(self, name="sum", dtype=None):
        super().__init__(name, dtype)
        self.total = self.add_variable((), name="total")

    def update_state(self, values, sample_weight=None):
        values = _t(values, self.dtype)
        if sample_weight is not None:
            values = values * _t(sample_weight, self.dtype)
        self.total.assign(self.total + reduce_sum(values))

    def result(self):
        return A.identity(self.total)


@register("metrics")
class Mean(_Reduce):
    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype)

    def result(self):
        return M.div_no_nan(self.total.value(), self.count.value())


class MeanMetricWrapper(Mean):
    """The mean over samples of ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)
        self._fn, self._fn_kwargs = fn, kwargs
        if getattr(fn, "__module__", None) == L.__name__:
            self._direction = "down"  # a loss used as a metric: lower is better

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if values.ndim > 1:
            values = reduce_mean(values, list(range(1, values.ndim)))
        super().update_state(values, sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


# -- accuracy functions --------------------------------------------------------------------------


def _matches(y_true, y_pred):
    return M.cast(M.equal(y_true, y_pred), backend.float_dtype())


@register("metrics")
def accuracy(y_true, y_pred):
    """Fraction of exact matches (Keras's plain ``Accuracy``; compile's "accuracy" picks a better fit)."""
    y_pred = _t(y_pred)
    y_true, y_pred = L.squeeze_or_expand_to_same_rank(_t(y_true, y_pred.dtype), y_pred)
    return _matches(y_true, y_pred)


@register("metrics")
def sparse_categorical_accuracy(y_true, y_pred):
    y_pred = _t(y_pred)
    y_true = _t(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = A.squeeze(y_true, -1)
    pred = argmax(y_pred, -1, output_type=y_true.dtype if y_true.dtype.is_integer else D.int64)
    if pred.dtype is not y_true.dtype:
        pred = M.cast(pred, y_true.dtype)
    return _matches(y_true, pred)


@register("metrics")
def categorical_accuracy(y_true, y_pred):
    y_pred = _t(y_pred)
    return _matches(argmax(_t(y_true), -1, output_type=D.int32), argmax(y_pred, -1, output_type=D.int32))


@register("metrics")
def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_pred = _t(y_pred)
    y_true = _t(y_true, y_pred.dtype)
    y_true, y_pred = L.squeeze_or_expand_to_same_rank(y_true, y_pred)
    return reduce_mean(_matches(y_true, M.cast(M.greater(y_pred, threshold), y_pred.dtype)), -1)


@register("metrics")
def top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = _t(y_pred)
    return M.cast(in_top_k(argmax(_t(y_true), -1, output_type=D.int32), y_pred, k), backend.float_dtype())


@register("metrics")
def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred, y_true = _t(y_pred), _t(y_true)
    if len(y_true.shape) == len(y_pred.shape):
        y_true = A.squeeze(y_true, -1)
    return M.cast(in_top_k(M.cast(y_true, D.int32), y_pred, k), backend.float_dtype())


def _wrapper_class(name, fn, default_name, **defaults):
    keys = list(defaults)

    def __init__(self, *args, name=default_name, dtype=None, **kwargs):
        params = dict(defaults)
        params.update(zip(keys, args))
        params.update({k: kwargs.pop(k) for k in list(kwargs) if k in params})
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **params)

    cls = type(name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": f"Keras's {name}."})
    cls.__module__ = __name__
    return register("metrics")(cls)


Accuracy = _wrapper_class("Accuracy", accuracy, "accuracy")
SparseCategoricalAccuracy = _wrapper_class(
    "SparseCategoricalAccuracy", sparse_categorical_accuracy, "sparse_categorical_accuracy"
)
CategoricalAccuracy = _wrapper_class("CategoricalAccuracy", categorical_accuracy, "categorical_accuracy")
BinaryAccuracy = _wrapper_class("BinaryAccuracy", binary_accuracy, "binary_accuracy", threshold=0.5)
TopKCategoricalAccuracy = _wrapper_class(
    "TopKCategoricalAccuracy", top_k_categorical_accuracy, "top_k_categorical_accuracy", k=5
)
SparseTopKCategoricalAccuracy = _wrapper_class(
    "SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy, "sparse_top_k_categorical_accuracy", k=5
)
MeanSquaredError = _wrapper_class("MeanSquaredError", L.mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _wrapper_class("MeanAbsoluteError", L.mean_absolute_error, "mean_absolute_error")
KLDivergence = _wrapper_class("KLDivergence", L.kl_divergence, "kl_divergence")
CosineSimilarity = _wrapper_class(
    "CosineSimilarity", lambda t, p, axis=-1: -L.cosine_similarity(t, p, axis), "cosine_similarity", axis=-1
)
BinaryCrossentropy = _wrapper_class(
    "BinaryCrossentropy", L.binary_crossentropy, "binary_crossentropy", from_logits=False, label_smoothing=0.0
)
CategoricalCrossentropy = _wrapper_class(
    "CategoricalCrossentropy",
    L.categorical_crossentropy,
    "categorical_crossentropy",
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
)
SparseCategoricalCrossentropy = _wrapper_class(
    "SparseCategoricalCrossentropy",
    L.sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy",
    from_logits=False,
    ignore_class=None,
)
_METRIC_FUNCTIONS = {  # losses usable as metric names, as Keras allows
    "mse": L.mean_squared_error,
    "mae": L.mean_absolute_error,
    "mean_squared_error": L.mean_squared_error,
    "mean_absolute_error": L.mean_absolute_error,
    "binary_crossentropy": L.binary_crossentropy,
    "categorical_crossentropy": L.categorical_crossentropy,
    "sparse_categorical_crossentropy": L.sparse_categorical_crossentropy,
    "kl_divergence": L.kl_divergence,
}
_REGISTRY["metrics"].update(_METRIC_FUNCTIONS)


for _cls in (
    Accuracy,
    SparseCategoricalAccuracy,
    CategoricalAccuracy,
    BinaryAccuracy,
    TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    CosineSimilarity,
):
    _cls._direction = "up"
for _cls in (
    MeanSquaredError,
    MeanAbsoluteError,
    KLDivergence,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
):
    _cls._direction = "down"


# -- confusion-matrix metrics ----------------------------------------------------------------------


def _thresholds(thresholds, default):
    if thresholds is None:
        return [default], False
    if isinstance(thresholds, (int, float)):
        return [float(thresholds)], False
    return [float(t) for t in thresholds], True


def _confusion(y_true, y_pred, thresholds, class_id=None, top_k=None, sample_weight=None, dtype=None):
    """Per-threshold (tp, fp, tn, fn) sums: predictions above a threshold count as positive."""
    y_pred = _t(y_pred, dtype)
    y_true = _t(y_true, dtype)
    y_true, y_pred = L.squeeze_or_expand_to_same_rank(y_true, y_pred)
    if top_k is not None:
        from ..ops.nn import top_k as _top_k

        kth = _top_k(y_pred, top_k)[0][..., top_k - 1 : top_k]
        y_pred = M.where(M.greater_equal(y_pred, kth), y_pred, M.zero_fill(y_pred) - 1e9)
    if class_id is not None:
        y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
    p = A.reshape(y_pred, (-1, 1))
    t = A.reshape(M.cast(M.greater(y_true, 0.5), dtype), (-1, 1))
    th = A.reshape(convert(thresholds, dtype), (1, -1))
    pos = M.cast(M.greater(p, th), dtype)
    w = (
        1.0
        if sample_weight is None
        else A.reshape(
            A.broadcast_to(_t(sample_weight, dtype), tuple(y_true.shape)) if sample_weight is not None else 1.0, (-1, 1)
        )
    )
    tp = reduce_sum(pos * t * w, 0)
    fp = reduce_sum(pos * (1.0 - t) * w, 0)
    fn = reduce_sum((1.0 - pos) * t * w, 0)
    tn = reduce_sum((1.0 - pos) * (1.0 - t) * w, 0)
    return tp, fp, tn, fn


class _Confusion(Metric):
    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype)
        self.init_thresholds = thresholds
        self.thresholds, self._many = _thresholds(thresholds, 0.5)
        self.top_k, self.class_id = top_k, class_id
        n = len(self.thresholds)
        self.true_positives = self.add_variable((n,), name="true_positives")
        self.false_positives = self.add_variable((n,), name="false_positives")
        self.false_negatives = self.add_variable((n,), name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, _, fn = _confusion(
            y_true, y_pred, self.thresholds, self.class_id, self.top_k, sample_weight, self.dtype
        )
        self.true_positives.assign(self.true_positives + tp)
        self.false_positives.assign(self.false_positives + fp)
        self.false_negatives.assign(self.false_negatives + fn)

    def _out(self, r):
        return r if self._many else r[0]

    def get_config(self):
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


@register("metrics")
class Precision(_Confusion):
    def result(self):
        tp = self.true_positives.value()
        return self._out(M.div_no_nan(tp, tp + self.false_positives))


@register("metrics")
class Recall(_Confusion):
    def result(self):
        tp = self.true_positives.value()
        return self._out(M.div_no_nan(tp, tp + self.false_negatives))


@register("metrics")
class AUC(Metric):
    """Area under the ROC or PR curve from a confusion matrix at ``num_thresholds`` thresholds."""

    _direction = "up"

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        super().__init__(name, dtype)
        if multi_label or label_weights is not None:
            raise ValueError("AUC: multi_label and label_weights are not supported")
        self.curve, self.summation_method = curve.upper(), summation_method.lower()
        if self.curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["ROC", "PR"]')
        if self.summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}"')
        eps = backend.epsilon()
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            self.num_thresholds = len(inner) + 2
        else:
            if num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: {num_thresholds}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._init_thresholds = thresholds
        self.thresholds = [0.0 - eps] + inner + [1.0 + eps]
        self.multi_label, self.num_labels, self.label_weights = False, num_labels, None
        self.from_logits = from_logits
        n = self.num_thresholds
        self.true_positives = self.add_variable((n,), name="true_positives")
        self.false_positives = self.add_variable((n,), name="false_positives")
        self.true_negatives = self.add_variable((n,), name="true_negatives")
        self.false_negatives = self.add_variable((n,), name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _t(y_pred, self.dtype)
        if self.from_logits:
            y_pred = M.sigmoid(y_pred)
        tp, fp, tn, fn = _confusion(y_true, y_pred, self.thresholds, sample_weight=sample_weight, dtype=self.dtype)
        for v, d in (
            (self.true_positives, tp),
            (self.false_positives, fp),
            (self.true_negatives, tn),
            (self.false_negatives, fn),
        ):
            v.assign(v + d)

    def result(self):
        tp, fp = self.true_positives.value(), self.false_positives.value()
        tn, fn = self.true_negatives.value(), self.false_negatives.value()
        k = self.num_thresholds - 1
        if self.curve == "PR" and self.summation_method == "interpolation":
            dtp = tp[:k] - tp[1:]
            p = tp + fp
            dp = p[:k] - p[1:]
            slope = M.div_no_nan(dtp, M.maximum(dp, 0.0))
            intercept = tp[1:] - slope * p[1:]
            ratio = M.where(
                M.logical_and(M.greater(p[:k], 0.0), M.greater(p[1:], 0.0)),
                M.div_no_nan(p[:k], M.maximum(p[1:], 0.0)),
                A.ones_like(p[1:]),
            )
            inc = M.div_no_nan(slope * (dtp + intercept * M.log(ratio)), M.maximum(tp[1:] + fn[1:], 0.0))
            return reduce_sum(inc)
        recall = M.div_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = M.div_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, M.div_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            h = (y[:k] + y[1:]) * 0.5
        elif self.summation_method == "minoring":
            h = M.minimum(y[:k], y[1:])
        else:
            h = M.maximum(y[:k], y[1:])
        return reduce_sum((x[:k] - x[1:]) * h)

    def get_config(self):
        return {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": False,
            "num_labels": self.num_labels,
            "label_weights": None,
            "from_logits": self.from_logits,
            **({"thresholds": self.thresholds[1:-1]} if self._init_thresholds is not None else {}),
        }


def serialize(metric):
    return serialize_keras_object(metric)


def deserialize(config, custom_objects=None):
    return deserialize_keras_object(config, custom_objects, kind="metrics")


def get(identifier):
    """A name ("mse", "AUC"), config, Metric or function -> a metric (functions stay functions)."""
    if isinstance(identifier, str):
        obj = lookup("metrics", identifier, "metric")
        return obj() if isinstance(obj, type) else obj
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier) or isinstance(identifier, Metric):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")

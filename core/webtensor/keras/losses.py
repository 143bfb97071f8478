"""``tf.keras.losses``: loss functions and classes as Keras 3 computes them.

A loss class reduces the per-sample values with optional ``sample_weight``:
"sum_over_batch_size" (default) is sum(values * weight) / number of values.
"""

from __future__ import annotations

from .. import nn
from ..ops import array as A
from ..ops import math as M
from ..ops.reduce import reduce_mean, reduce_sum
from ..tensor import Tensor, convert
from . import activations, backend
from .saving import deserialize_keras_object, lookup, register, serialize_keras_object

REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight")


def _pred(y_pred):
    t = y_pred if type(y_pred) is Tensor else convert(y_pred)
    return t if t.dtype.kind == "f" else M.cast(t, backend.float_dtype())


def _true(y_true, dtype):
    t = y_true if type(y_true) is Tensor else convert(y_true)
    return t if t.dtype is dtype else M.cast(t, dtype)


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
    """Make two tensors' ranks agree when they differ by a trailing dimension of 1."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = A.expand_dims(x2, -1)
        else:
            x1 = A.squeeze(x1, -1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = A.expand_dims(x1, -1)
        else:
            x2 = A.squeeze(x2, -1)
    return x1, x2


def reduce_weighted_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    if sample_weight is not None:
        w = _true(sample_weight, values.dtype)
        values, w = squeeze_or_expand_to_same_rank(values, w)
        values = values * w
    shape = tuple(values.shape)
    if reduction in (None, "none") or not shape or shape[0] == 0:
        return values
    total = reduce_sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return M.div_no_nan(total, reduce_sum(_true(sample_weight, values.dtype)))
    n = 1
    for d in shape:
        n *= d
    return total * (1.0 / n) if n else total


# -- loss functions ------------------------------------------------------------------------------


@register("losses", "mse", "MSE")
def mean_squared_error(y_true, y_pred):
    y_pred = _pred(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_true(y_true, y_pred.dtype), y_pred)
    return reduce_mean(M.square(y_true - y_pred), -1)


@register("losses", "mae", "MAE")
def mean_absolute_error(y_true, y_pred):
    y_pred = _pred(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_true(y_true, y_pred.dtype), y_pred)
    return reduce_mean(M.abs(y_true - y_pred), -1)


@register("losses")
def huber(y_true, y_pred, delta=1.0):
    y_pred = _pred(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_true(y_true, y_pred.dtype), y_pred)
    err = y_pred - y_true
    ae = M.abs(err)
    return reduce_mean(M.where(M.less_equal(ae, delta), 0.5 * M.square(err), delta * ae - 0.5 * delta * delta), -1)


@register("losses", "kld", "KLD", "kullback_leibler_divergence")
def kl_divergence(y_true, y_pred):
    y_pred = _pred(y_pred)
    eps = backend.epsilon()
    y_true = M.clip_by_value(_true(y_true, y_pred.dtype), eps, 1.0)
    y_pred = M.clip_by_value(y_pred, eps, 1.0)
    return reduce_sum(y_true * M.log(y_true / y_pred), -1)


def _l2_normalize(x, axis):
    inv = M.minimum(M.rsqrt(reduce_sum(M.square(x), axis, keepdims=True)), 1.0 / backend.epsilon())
    return x * inv


@register("losses")
def cosine_similarity(y_true, y_pred, axis=-1):
    y_pred = _pred(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_true(y_true, y_pred.dtype), y_pred)
    return -reduce_sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis)


def _check_same_shape(target, output, op):
    if len(target.shape) != len(output.shape) or tuple(target.shape) != tuple(output.shape):
        raise ValueError(
            f"{op}: arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )


@register("losses", "bce", "BCE")
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_pred = _pred(y_pred)
    y_true = _true(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    _check_same_shape(y_true, y_pred, "binary_crossentropy")
    if from_logits:
        return reduce_mean(nn.sigmoid_cross_entropy_with_logits(y_true, y_pred), axis)
    eps = backend.epsilon()
    p = M.clip_by_value(y_pred, eps, 1.0 - eps)
    bce = y_true * M.log(p + eps) + (1.0 - y_true) * M.log(1.0 - p + eps)
    return reduce_mean(-bce, axis)


@register("losses", "cce")
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_pred = _pred(y_pred)
    y_true = _true(y_true, y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[-1]
    _check_same_shape(y_true, y_pred, "categorical_crossentropy")
    logits = y_pred if from_logits else activations.logits_of(y_pred, axis)
    if logits is not None:
        return nn.softmax_cross_entropy_with_logits(y_true, logits, axis=axis)
    eps = backend.epsilon()
    p = M.clip_by_value(y_pred / reduce_sum(y_pred, axis, keepdims=True), eps, 1.0 - eps)
    return -reduce_sum(y_true * M.log(p), axis)


@register("losses", "scce")
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Integer labels against class scores; out-of-range labels are an error (on CPU backends)."""
    y_pred = _pred(y_pred)
    labels = y_true if type(y_true) is Tensor else convert(y_true)
    ps, ls = tuple(y_pred.shape), tuple(labels.shape)
    if len(ls) == len(ps) and ls[-1] == 1:
        labels = A.squeeze(labels, -1)
        ls = ls[:-1]
    if labels.dtype.kind == "f":
        labels = M.cast(labels, "int32")
    if axis not in (-1, len(ps) - 1):
        raise ValueError(f"sparse_categorical_crossentropy: only axis=-1 is supported, got axis={axis}")
    if ls != ps[:-1]:
        raise ValueError(
            f"sparse_categorical_crossentropy: labels of shape {ls} do not match predictions of "
            f"shape {ps} (expected labels of shape {ps[:-1]})"
        )
    valid = None
    if ignore_class is not None:
        valid = M.not_equal(labels, ignore_class)
        labels = M.where(valid, labels, M.zero_fill(labels))
    logits = y_pred if from_logits else activations.logits_of(y_pred, axis)
    if logits is None:
        eps = backend.epsilon()
        logits = M.log(M.clip_by_value(y_pred, eps, 1.0 - eps))
    res = nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    return res if valid is None else M.where(valid, res, M.zero_fill(res))


# -- loss classes --------------------------------------------------------------------------------


class Loss:
    """``loss(y_true, y_pred, sample_weight=None)``: per-sample ``call`` then the reduction."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"Invalid value for argument `reduction`. Expected one of {REDUCTIONS}. Received: reduction={reduction}"
            )
        self.name = name or backend.to_snake_case(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        return reduce_weighted_values(self.call(y_true, y_pred), sample_weight, self.reduction)

    def call(self, y_true, y_pred):
        raise TypeError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn, self._fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


def _wrapper(name, fn, default_name, **defaults):
    """A Loss class over ``fn`` whose extra constructor arguments are ``defaults``."""
    keys = list(defaults)

    def __init__(self, *args, reduction="sum_over_batch_size", name=default_name, dtype=None, **kwargs):
        params = dict(defaults)
        params.update(zip(keys, args))
        for k in list(kwargs):
            if k in params:
                params[k] = kwargs.pop(k)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, dtype=dtype, **params)

    cls = type(name, (LossFunctionWrapper,), {"__init__": __init__, "__doc__": f"Keras's {name}."})
    cls.__module__ = __name__

    def from_config(klass, config):
        return klass(**config)

    cls.from_config = classmethod(from_config)
    return register("losses")(cls)


MeanSquaredError = _wrapper("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")
KLDivergence = _wrapper("KLDivergence", kl_divergence, "kl_divergence")
CosineSimilarity = _wrapper("CosineSimilarity", cosine_similarity, "cosine_similarity", axis=-1)
Huber = _wrapper("Huber", huber, "huber_loss", delta=1.0)
BinaryCrossentropy = _wrapper(
    "BinaryCrossentropy", binary_crossentropy, "binary_crossentropy", from_logits=False, label_smoothing=0.0, axis=-1
)
CategoricalCrossentropy = _wrapper(
    "CategoricalCrossentropy",
    categorical_crossentropy,
    "categorical_crossentropy",
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
)
SparseCategoricalCrossentropy = _wrapper(
    "SparseCategoricalCrossentropy",
    sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy",
    from_logits=False,
    ignore_class=None,
)


def _fix_configs():
    """Keras 3 omits some arguments from configs (Huber's delta, CosineSimilarity's axis)."""

    def trimmed(*drop):
        def get_config(self):
            c = LossFunctionWrapper.get_config(self)
            for k in drop:
                if c.get(k) == {"delta": 1.0, "axis": -1}[k]:
                    c.pop(k)
            return c

        return get_config

    Huber.get_config = trimmed("delta")
    CosineSimilarity.get_config = trimmed("axis")


_fix_configs()


def serialize(loss):
    return serialize_keras_object(loss)


def deserialize(config, custom_objects=None):
    return deserialize_keras_object(config, custom_objects, kind="losses")


def get(identifier):
    """A name ("mse", "sparse_categorical_crossentropy"), config, Loss or function -> a loss."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        obj = lookup("losses", identifier, "loss function")
        return obj() if isinstance(obj, type) else obj
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")

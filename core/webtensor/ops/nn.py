"""``tf.nn``: activations, softmax and cross-entropies, dropout, normalisation helpers."""

from __future__ import annotations

import math as _pymath

from .. import autodiff
from .. import dtypes as D
from ..backends.base import BIAS_ACTIVATIONS
from ..errors import InvalidArgumentError
from ..shape import as_int, normalize_axis
from .dispatch import FLOAT, INTEGER, check_kind, composite, operand, record, tapes, to_backend, operands, wrap
from . import array as A
from . import math as M
from . import random as RNG
from .reduce import reduce_logsumexp, reduce_max, reduce_mean, reduce_sum

sigmoid, tanh, softplus = M.sigmoid, M.tanh, M.softplus


def relu(features, name=None):
    x = operand(features, "relu")
    check_kind(x, "relu", "fiu")
    be = x._be
    zero = be.full((), 0, x._dtype)
    y = wrap(be.binary("maximum", x._h, zero), x._dtype, be)
    if tapes and x._dtype.kind == "f":

        def vjp(dy, need):
            positive = wrap(be.binary("greater", y._h, zero), D.bool_, be)  # a mask: no gradient
            return (M.where(positive, dy, wrap(zero, x._dtype, be)),)

        record((x,), (y,), vjp)
    return y


def relu6(features, name=None):
    x = operand(features, "relu6")
    return composite(
        (x,),
        lambda: M.minimum(M.maximum(x, 0.0), 6.0),
        lambda dy, need: (M.where(M.logical_and(M.greater(x, 0.0), M.less(x, 6.0)), dy, M.zero_fill(dy)),),
    )


def leaky_relu(features, alpha=0.2, name=None):
    x = operand(features, "leaky_relu")
    pos = M.greater(x, 0.0)
    return composite((x,), lambda: M.where(pos, x, x * alpha), lambda dy, need: (M.where(pos, dy, dy * alpha),))


def elu(features, name=None):
    x = operand(features, "elu")
    pos = M.greater(x, 0.0)
    y = composite(
        (x,), lambda: M.where(pos, x, M.expm1(M.minimum(x, 0.0))), lambda dy, need: (M.where(pos, dy, dy * (y + 1.0)),)
    )
    return y


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(features, name=None):
    x = operand(features, "selu")
    pos = M.greater(x, 0.0)
    return M.where(pos, x * _SELU_SCALE, M.expm1(M.minimum(x, 0.0)) * (_SELU_SCALE * _SELU_ALPHA))


def gelu(features, approximate=False, name=None):
    """Exact: x * Phi(x) via erf; approximate: the tanh form."""
    x = operand(features, "gelu")
    if approximate:
        c = _pymath.sqrt(2.0 / _pymath.pi)
        return 0.5 * x * (1.0 + M.tanh(c * (x + 0.044715 * M.pow(x, 3.0))))
    return 0.5 * x * (1.0 + M.erf(x * (1.0 / _pymath.sqrt(2.0))))


def silu(features, beta=1.0, name=None):
    x = operand(features, "silu")
    return x * M.sigmoid(x * beta) if beta != 1.0 else x * M.sigmoid(x)


swish = silu


def _axis(x, axis, op):
    return normalize_axis(-1 if axis is None else axis, len(x._h.shape), op)


def softmax(logits, axis=None, name=None):
    x = operand(logits, "softmax")
    check_kind(x, "softmax", FLOAT)
    ax = _axis(x, axis, "softmax")
    be = x._be
    if "softmax" in be.fused:
        y = wrap(be.softmax(x._h, ax), x._dtype, be)
    else:
        with autodiff.no_record():
            e = M.exp(x - reduce_max(x, ax, keepdims=True))
            y = e / reduce_sum(e, ax, keepdims=True)
    if tapes:
        record((x,), (y,), lambda dy, need: (y * (dy - reduce_sum(dy * y, ax, keepdims=True)),))
    return y


def log_softmax(logits, axis=None, name=None):
    x = operand(logits, "log_softmax")
    check_kind(x, "log_softmax", FLOAT)
    ax = _axis(x, axis, "log_softmax")
    with autodiff.no_record():
        y = x - reduce_logsumexp(x, ax, keepdims=True)
    if tapes:
        record((x,), (y,), lambda dy, need: (dy - M.exp(y) * reduce_sum(dy, ax, keepdims=True),))
    return y


def sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Per-example -log softmax(logits)[label]; labels int [...], logits [..., classes]."""
    x = operand(logits, "sparse_softmax_cross_entropy_with_logits")
    lab = operand(labels, "sparse_softmax_cross_entropy_with_logits", D.int32)
    check_kind(x, "sparse_softmax_cross_entropy_with_logits", FLOAT)
    check_kind(lab, "sparse_softmax_cross_entropy_with_logits", INTEGER)
    if lab._dtype not in (D.int32, D.int64):  # keras.datasets' uint8 labels: kernels read int32/int64
        lab = M.cast(lab, D.int32)
    xs, ls = tuple(x._h.shape), tuple(lab._h.shape)
    if not xs or xs[:-1] != ls:
        raise InvalidArgumentError(
            f"sparse_softmax_cross_entropy_with_logits: labels shape {ls} must equal "
            f"logits shape {xs} without its last dimension"
        )
    c = xs[-1]
    _check_labels(lab, c)
    if "sparse_softmax_xent" in x._be.fused:
        return _fused_sparse_xent(x, lab, c)
    with autodiff.no_record():
        lse = reduce_logsumexp(x, -1, keepdims=True)
        hot = A.one_hot(lab, c, dtype=x._dtype)
        loss = A.reshape(lse - reduce_sum(x * hot, -1, keepdims=True), ls)
    if tapes:

        def vjp(dy, need):
            p = M.exp(x - lse) if not autodiff.recording() else softmax(x)
            return (A.expand_dims(dy, -1) * (p - hot), None)

        record((x, lab), (loss,), vjp)
    return loss


def _fused_sparse_xent(x, lab, c):
    """One kernel for loss and backprop (TF's SparseSoftmaxXentWithLogits); an out-of-range
    label gives NaN, as TF on GPUs."""
    be = x._be
    if lab._be is not be:
        lab = to_backend(lab, be)
    lh, gh = be.sparse_softmax_xent(x._h, lab._h)
    loss, backprop = wrap(lh, x._dtype, be), wrap(gh, x._dtype, be)
    if tapes:

        def vjp(dy, need):
            g = backprop if not autodiff.recording() else softmax(x) - A.one_hot(lab, c, dtype=x._dtype)
            return (A.expand_dims(dy, -1) * g, None)

        record((x, lab), (loss,), vjp)
    return loss


def _check_labels(lab, c):
    """Out-of-range labels are an error on CPU backends, as in TF on CPU (one readback); in a
    trace, an assert node that replay checks on CPU backends."""
    if not lab._h.shape or 0 in lab._h.shape:
        return
    from .. import debugging

    if lab._be.name == "trace":
        debugging.assert_label_range(lab, c)
        return
    if lab._be.device_type != "CPU":
        return
    bad = debugging.label_out_of_range(lab._be, lab._h, lab._dtype, c)
    if bad is not None:
        raise InvalidArgumentError(debugging.label_range_message(bad, c))


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """-sum(labels * log_softmax(logits)); gradients for both logits and labels."""
    lab, x = operands(labels, logits, "softmax_cross_entropy_with_logits")
    check_kind(x, "softmax_cross_entropy_with_logits", FLOAT)
    if tuple(lab._h.shape) != tuple(x._h.shape):
        raise InvalidArgumentError(
            f"softmax_cross_entropy_with_logits: labels {tuple(lab._h.shape)} and "
            f"logits {tuple(x._h.shape)} must have the same shape"
        )
    ax = _axis(x, axis, "softmax_cross_entropy_with_logits")
    with autodiff.no_record():
        logp = x - reduce_logsumexp(x, ax, keepdims=True)
        loss = -reduce_sum(lab * logp, ax)
    if tapes:

        def vjp(dy, need):
            d = A.expand_dims(dy, ax)
            lp = logp if not autodiff.recording() else log_softmax(x, ax)
            return (
                d * -lp if need[0] else None,
                d * (M.exp(lp) * reduce_sum(lab, ax, keepdims=True) - lab) if need[1] else None,
            )

        record((lab, x), (loss,), vjp)
    return loss


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """max(x, 0) - x * z + log(1 + exp(-|x|)), stable for any logits."""
    z, x = operands(labels, logits, "sigmoid_cross_entropy_with_logits")
    check_kind(x, "sigmoid_cross_entropy_with_logits", FLOAT)
    if tuple(z._h.shape) != tuple(x._h.shape):
        raise InvalidArgumentError(
            f"sigmoid_cross_entropy_with_logits: labels {tuple(z._h.shape)} and "
            f"logits {tuple(x._h.shape)} must have the same shape"
        )
    with autodiff.no_record():
        loss = M.maximum(x, 0.0) - x * z + M.log1p(M.exp(-M.abs(x)))
    if tapes:
        record(
            (z, x),
            (loss,),
            lambda dy, need: (dy * -x if need[0] else None, dy * (M.sigmoid(x) - z) if need[1] else None),
        )
    return loss


def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None):
    z, x = operands(labels, logits, "weighted_cross_entropy_with_logits")
    lw = 1.0 + (pos_weight - 1.0) * z
    return (1.0 - z) * x + lw * (M.log1p(M.exp(-M.abs(x))) + M.maximum(-x, 0.0))


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Zero elements with probability ``rate``, scale the rest by 1 / (1 - rate)."""
    t = operand(x, "dropout")
    check_kind(t, "dropout", FLOAT)
    rate_v = float(rate)
    if not 0 <= rate_v < 1:
        raise InvalidArgumentError(f"dropout: rate must be in [0, 1), got {rate_v}")
    if rate_v == 0:
        return t
    shape = (
        tuple(t._h.shape)
        if noise_shape is None
        else tuple(d if n is None else int(n) for n, d in zip(noise_shape, t._h.shape))
    )
    keep = M.greater_equal(RNG.uniform(shape, dtype=t._dtype, seed=seed), rate_v)
    return M.where(keep, t * (1.0 / (1.0 - rate_v)), M.zero_fill(t))


def bias_add(value, bias, data_format=None, name=None):
    x, b = operands(value, bias, "bias_add")
    xs, bs = tuple(x._h.shape), tuple(b._h.shape)
    if len(bs) != 1 or not xs or xs[-1] != bs[0]:
        raise InvalidArgumentError(
            f"bias_add: bias shape {bs} must be 1-D and match the last dimension of value shape {xs}"
        )
    return M.add(x, b)


_FUSED_ACTIVATIONS = {
    "linear": lambda y, dy: dy,
    "relu": lambda y, dy: M.where(M.greater(y, 0.0), dy, M.zero_fill(dy)),
    "sigmoid": lambda y, dy: dy * (y * (1.0 - y)),
    "tanh": lambda y, dy: dy * (1.0 - y * y),
}
"""The gradient, from the output y, of each activation ``bias_act`` fuses (base.BIAS_ACTIVATIONS)."""
assert tuple(_FUSED_ACTIVATIONS) == BIAS_ACTIVATIONS, "ops/nn.py: a fused activation without its gradient"


_COMPOSED_ACTIVATIONS = {"linear": lambda t: t, "relu": relu, "sigmoid": M.sigmoid, "tanh": M.tanh}
"""The unfused form of each name ``bias_activation`` accepts, for backends/dtypes without the kernel."""


def bias_activation(value, bias, activation):
    """``activation(value + bias)``, bias along the last axis: the Dense/Conv epilogue.

    ``activation`` is a name from ``BIAS_ACTIVATIONS`` (linear/relu/sigmoid/tanh), which runs as one
    kernel where the backend fuses it on float32, or any callable, which is composed. A name, not a
    function, so the core never has to recognise Keras's activation functions."""
    x, b = operands(value, bias, "bias_add")
    if callable(activation):
        return activation(M.add(x, b))
    if activation not in _COMPOSED_ACTIVATIONS:
        raise InvalidArgumentError(
            f"bias_activation: activation {activation!r} is neither callable nor one of {BIAS_ACTIVATIONS}"
        )
    be, name = x._be, activation
    if "bias_act" not in be.fused or x._dtype is not D.float32 or tuple(b._h.shape) != tuple(x._h.shape[-1:]):
        return _COMPOSED_ACTIVATIONS[name](M.add(x, b))
    y = wrap(be.bias_act(x._h, b._h, name), x._dtype, be)
    if tapes:

        def vjp(dy, need):
            g = _FUSED_ACTIVATIONS[name](y, dy)
            return (g, reduce_sum(g, tuple(range(len(x._h.shape) - 1))) if need[1] else None)

        record((x, b), (y,), vjp)
    return y


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    t = operand(x, "l2_normalize")
    axis = dim if axis is None else axis
    sq = reduce_sum(M.square(t), axis, keepdims=True)
    return t * M.rsqrt(M.maximum(sq, epsilon))


def moments(x, axes, shift=None, keepdims=False, name=None):
    """(mean, variance) over ``axes``; the variance does not differentiate through the mean."""
    t = operand(x, "moments")
    mean = reduce_mean(t, axes, keepdims=True)
    var = reduce_mean(M.squared_difference(t, A.stop_gradient(mean)), axes, keepdims=True)
    if not keepdims:
        mean, var = A.squeeze(mean, axes), A.squeeze(var, axes)
    return mean, var


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    inv = M.rsqrt(variance + variance_epsilon)
    if scale is not None:
        inv = inv * scale
    shift = -mean * inv if offset is None else offset - mean * inv
    return x * inv + shift


def in_top_k(targets, predictions, k, name=None):
    """Whether each target's prediction is among the top k (ties count in its favour)."""
    p = operand(predictions, "in_top_k")
    t = operand(targets, "in_top_k")
    c = p._h.shape[-1]
    tv = reduce_sum(p * A.one_hot(t, c, dtype=p._dtype), -1, keepdims=True)
    higher = reduce_sum(M.cast(M.greater(p, tv), D.int32), -1)
    return M.less(higher, k)


def top_k(input, k=1, sorted=True, name=None):
    """(values, indices) of the k largest entries along the last axis, by repeated argmax."""
    from .reduce import argmax

    x = operand(input, "top_k")
    k = as_int(k, "top_k", "k")
    if not x._h.shape:
        raise InvalidArgumentError("top_k: input must have rank >= 1, got a scalar")
    n = x._h.shape[-1]
    if k < 0:
        raise InvalidArgumentError(f"top_k: k must be non-negative, got {k}")
    if k > n:
        raise InvalidArgumentError(f"top_k: k = {k} exceeds the last dimension {n} of shape {tuple(x._h.shape)}")
    if k == 0:
        empty = tuple(x._h.shape[:-1]) + (0,)
        return A.zeros(empty, x._dtype), A.zeros(empty, D.int32)
    vals, idxs = [], []
    lowest = float("-inf") if x._dtype.kind == "f" else x._dtype.min
    cur = x
    for _ in range(k):
        i = argmax(cur, axis=-1, output_type=D.int32)
        hot = A.one_hot(i, n, on_value=True, off_value=False, dtype=D.bool_)
        vals.append(A.gather(x, A.expand_dims(i, -1), axis=-1, batch_dims=len(x._h.shape) - 1))
        idxs.append(A.expand_dims(i, -1))
        cur = M.where(hot, A.fill(cur._h.shape, operand(lowest, "top_k", x._dtype)), cur)
    return A.concat(vals, -1), A.concat(idxs, -1)

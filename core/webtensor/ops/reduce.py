"""Reductions, arg-reductions and cumulative ops."""

from __future__ import annotations

from .. import dtypes as D
from ..composite import composite_in
from ..shape import normalize_axes, normalize_axis, prod
from .dispatch import BOOL, FLOAT, NUMERIC, Tensor, check_kind, operand, record, tapes, wrap
from . import math as M


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def _reduce(prim: str, kinds: str, pub: str, grad=None):

    def op(input_tensor, axis=None, keepdims=False, name=None):
        if type(input_tensor) is not Tensor and composite_in(input_tensor) is not None:
            return input_tensor._dispatch(op, (input_tensor,), {"axis": axis, "keepdims": keepdims})
        x = operand(input_tensor, pub)
        check_kind(x, pub, kinds)
        shape = x._h.shape
        axes = normalize_axes(axis, len(shape), pub)
        be = x._be
        y = wrap(be.reduce(prim, x._h, axes, bool(keepdims)), x._dtype, be)
        if tapes and grad is not None and x._dtype.kind == "f":
            record((x,), (y,), lambda dy, need: (grad(x, y, dy, axes, bool(keepdims)),))
        return y

    op.__name__ = op.__qualname__ = pub
    op.__doc__ = f"``tf.{pub}`` over ``axis`` (None: all axes)."
    return op


def _expand(g: Tensor, shape: tuple, axes: tuple, keepdims: bool) -> Tensor:
    """Broadcast a reduced gradient back to the input shape."""
    from .array import broadcast_to, reshape

    if not keepdims:
        g = reshape(g, _kept_shape(shape, axes))
    return broadcast_to(g, shape)


def _sum_grad(x, y, dy, axes, keepdims):
    return _expand(dy, tuple(x._h.shape), axes, keepdims)


def _minmax_grad(x, y, dy, axes, keepdims):
    shape = tuple(x._h.shape)
    yk = y if keepdims else _reshape(y, _kept_shape(shape, axes))
    hit = M.cast(M.equal(x, yk), x._dtype)
    count = reduce_sum(hit, axes, keepdims=True)
    return _expand(dy, shape, axes, keepdims) * hit / count


def _prod_grad(x, y, dy, axes, keepdims):
    """Zero-safe: the product of all other elements, from exclusive prefix and suffix products."""
    from .array import reshape, transpose

    shape = tuple(x._h.shape)
    rest = tuple(i for i in range(len(shape)) if i not in axes)
    perm = axes + rest
    xt = reshape(transpose(x, perm), (prod(shape[i] for i in axes), -1))
    others = cumprod(xt, 0, exclusive=True) * cumprod(xt, 0, exclusive=True, reverse=True)
    tshape = tuple(shape[i] for i in perm)
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    others = transpose(reshape(others, tshape), inv)
    return _expand(dy, shape, axes, keepdims) * others


def _reshape(x, shape):
    from .array import reshape

    return reshape(x, shape)


reduce_sum = _reduce("sum", NUMERIC, "reduce_sum", _sum_grad)
reduce_prod = _reduce("prod", NUMERIC, "reduce_prod", _prod_grad)
reduce_max = _reduce("max", NUMERIC, "reduce_max", _minmax_grad)
reduce_min = _reduce("min", NUMERIC, "reduce_min", _minmax_grad)
reduce_any = _reduce("any", BOOL, "reduce_any")
reduce_all = _reduce("all", BOOL, "reduce_all")


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """Mean; integer means truncate toward zero, as TF."""
    if type(input_tensor) is not Tensor and composite_in(input_tensor) is not None:
        return input_tensor._dispatch(reduce_mean, (input_tensor,), {"axis": axis, "keepdims": keepdims})
    x = operand(input_tensor, "reduce_mean")
    check_kind(x, "reduce_mean", NUMERIC)
    shape = tuple(x._h.shape)
    axes = normalize_axes(axis, len(shape), "reduce_mean")
    n = prod(shape[i] for i in axes)
    s = reduce_sum(x, axes, keepdims)
    if x._dtype.kind == "f":
        return s * (1.0 / n) if n else s / 0.0
    q = M.cast(M.cast(s, D.float64) / float(max(n, 1)), x._dtype)
    return q


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    x = operand(input_tensor, "reduce_variance")
    mean = reduce_mean(x, axis, keepdims=True)
    return reduce_mean(M.square(x - mean), axis, keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    return M.sqrt(reduce_variance(input_tensor, axis, keepdims))


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    """log(sum(exp(x))) computed stably, as TF does (max shift without gradient)."""
    from .array import reshape, stop_gradient

    x = operand(input_tensor, "reduce_logsumexp")
    check_kind(x, "reduce_logsumexp", FLOAT)
    shape = tuple(x._h.shape)
    axes = normalize_axes(axis, len(shape), "reduce_logsumexp")
    raw = reduce_max(x, axes, keepdims=True)
    mx = stop_gradient(M.where(M.is_finite(raw), raw, M.zero_fill(raw)))
    out = M.log(reduce_sum(M.exp(x - mx), axes, keepdims=True)) + mx
    return out if keepdims else reshape(out, tuple(d for i, d in enumerate(shape) if i not in axes))


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None) -> Tensor:
    return M.sqrt(reduce_sum(M.square(input_tensor), axis, keepdims))


def _argreduce(prim: str):
    def op(input, axis=None, output_type=D.int64, name=None):
        x = operand(input, prim)
        check_kind(x, prim, NUMERIC)
        rank = len(x._h.shape)
        if rank == 0:
            from ..errors import InvalidArgumentError

            raise InvalidArgumentError(f"{prim}: input must have rank >= 1, got a scalar")
        ax = normalize_axis(0 if axis is None else axis, rank, prim)
        dt = D.as_dtype(output_type)
        return wrap(x._be.argreduce(prim, x._h, ax, dt), dt, x._be)

    op.__name__ = op.__qualname__ = prim
    op.__doc__ = f"``tf.math.{prim}`` along ``axis`` (default 0), first occurrence on ties."
    return op


argmax = _argreduce("argmax")
argmin = _argreduce("argmin")


def _scan(prim: str, pub: str):
    def op(x, axis=0, exclusive=False, reverse=False, name=None):
        x = operand(x, pub)
        check_kind(x, pub, NUMERIC)
        ax = normalize_axis(axis, len(x._h.shape), pub)
        y = wrap(x._be.scan(prim, x._h, ax, bool(exclusive), bool(reverse)), x._dtype, x._be)
        if tapes and x._dtype.kind == "f":
            if prim == "sum":
                record((x,), (y,), lambda dy, need: (cumsum(dy, ax, exclusive, not reverse),))
            else:
                record((x,), (y,), lambda dy, need: (cumsum(y * dy, ax, exclusive, not reverse) / x,))
        return y

    op.__name__ = op.__qualname__ = pub
    op.__doc__ = f"``tf.math.{pub}``: cumulative {prim} along ``axis``."
    return op


cumsum = _scan("sum", "cumsum")
cumprod = _scan("prod", "cumprod")


def count_nonzero(input, axis=None, keepdims=False, dtype=D.int64, name=None) -> Tensor:
    x = operand(input, "count_nonzero")
    nz = M.not_equal(x, False if x._dtype.kind == "b" else 0)
    return reduce_sum(M.cast(nz, dtype), axis, keepdims)


__all__ = [
    "reduce_sum",
    "reduce_prod",
    "reduce_max",
    "reduce_min",
    "reduce_any",
    "reduce_all",
    "reduce_mean",
    "reduce_variance",
    "reduce_std",
    "reduce_logsumexp",
    "argmax",
    "argmin",
    "cumsum",
    "cumprod",
    "count_nonzero",
    "reduce_euclidean_norm",
]

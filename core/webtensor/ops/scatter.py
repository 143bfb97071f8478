"""``tf.scatter_nd`` and ``tf.tensor_scatter_nd_*``, composed of existing primitives.

Each index row ``indices[..., :K]`` is flattened to one offset into the first K dims, so
every op is a 1-D ``scatter_add`` (sum semantics, gradient gather) or a segment
reduction over the flattened tensor. ``update`` keeps the last of duplicate indices
(TF on CPU applies updates in order)."""

from __future__ import annotations

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..shape import dims_tuple, prod
from . import array as A
from . import math as M
from . import segment as SEG
from .dispatch import Tensor, operand
from .reduce import reduce_any, reduce_sum


def _flat_indices(indices, updates: Tensor, shape: tuple, op: str):
    """(flat offsets [U], updates as [U, *shape[K:]]) after TF's shape checks."""
    idx = A._index_tensor(indices, op)
    si, su = tuple(idx._h.shape), tuple(updates._h.shape)
    if not si:
        raise InvalidArgumentError(f"{op}: indices must have rank >= 1, got a scalar")
    k = si[-1]
    if k > len(shape):
        raise InvalidArgumentError(f"{op}: index depth {k} exceeds the rank of shape {shape}")
    want = si[:-1] + shape[k:]
    if su != want:
        raise InvalidArgumentError(
            f"{op}: updates shape {su} must be indices.shape[:-1] + shape[{k}:] = {want} (indices {si}, shape {shape})"
        )
    A._check_indices_host(idx, shape[:k], op)
    u = prod(si[:-1])
    strides = [prod(shape[i + 1 : k]) for i in range(k)]
    flat = reduce_sum(idx * operand(strides, op, idx._dtype), -1) if k else A.zeros(si[:-1], idx._dtype)
    return A.reshape(flat, (u,)), A.reshape(updates, (u,) + shape[k:]), k


def _scatter_flat(flat, upd, shape, k):
    out = A._scatter_add(flat, upd, (prod(shape[:k]),) + shape[k:], 0)
    return A.reshape(out, shape)


def scatter_nd(indices, updates, shape, name=None) -> Tensor:
    """zeros(shape) with updates added at indices (duplicates add up, as TF)."""
    upd = operand(updates, "scatter_nd")
    shape = dims_tuple(shape, "scatter_nd", "shape")
    flat, u, k = _flat_indices(indices, upd, shape, "scatter_nd")
    return _scatter_flat(flat, u, shape, k)


def _operands(tensor, updates, op):
    t = operand(tensor, op)
    upd = operand(updates, op, t._dtype)
    if upd._dtype is not t._dtype:
        raise InvalidArgumentError(f"{op}: updates dtype {upd._dtype.name} must match tensor dtype {t._dtype.name}")
    return t, upd, tuple(t._h.shape)


def tensor_scatter_nd_add(tensor, indices, updates, name=None) -> Tensor:
    t, upd, s = _operands(tensor, updates, "tensor_scatter_nd_add")
    return t + scatter_nd(indices, upd, s)


def tensor_scatter_nd_sub(tensor, indices, updates, name=None) -> Tensor:
    t, upd, s = _operands(tensor, updates, "tensor_scatter_nd_sub")
    return t - scatter_nd(indices, upd, s)


def _last_of_duplicates(flat: Tensor) -> Tensor:
    """bool [U]: True where no later index row hits the same offset."""
    u = flat._h.shape[0]
    same = M.equal(A.reshape(flat, (u, 1)), A.reshape(flat, (1, u)))
    later = M.greater(A.reshape(A.range(u), (1, u)), A.reshape(A.range(u), (u, 1)))
    return M.logical_not(reduce_any(M.logical_and(same, later), 1))


def tensor_scatter_nd_update(tensor, indices, updates, name=None) -> Tensor:
    """tensor with the addressed slices replaced; gradient flows to the kept updates and
    the untouched entries of tensor."""
    op = "tensor_scatter_nd_update"
    t, upd, s = _operands(tensor, updates, op)
    flat, u, k = _flat_indices(indices, upd, s, op)
    n = flat._h.shape[0]
    keep = A.reshape(_last_of_duplicates(flat), (n,) + (1,) * (len(s) - k))
    kept = M.where(keep, u, A.zeros((), u._dtype))
    hit = _scatter_flat(flat, A.ones((n,) + s[k:], D.int32), s, k)
    return M.where(M.greater(hit, 0), _scatter_flat(flat, kept, s, k), t)


def _extreme(reduce_fn, pick, op):
    def f(tensor, indices, updates, name=None) -> Tensor:
        t, upd, s = _operands(tensor, updates, op)
        flat, u, k = _flat_indices(indices, upd, s, op)
        p = prod(s[:k])
        seg = A.reshape(reduce_fn(u, flat, p), s)  # empty slots hold the identity
        return pick(t, seg)

    f.__name__ = f.__qualname__ = op
    f.__doc__ = f"``tf.{op}``: elementwise {pick.__name__} of tensor and the updates at each index."
    return f


tensor_scatter_nd_max = _extreme(SEG.unsorted_segment_max, M.maximum, "tensor_scatter_nd_max")
tensor_scatter_nd_min = _extreme(SEG.unsorted_segment_min, M.minimum, "tensor_scatter_nd_min")

__all__ = [
    "scatter_nd",
    "tensor_scatter_nd_add",
    "tensor_scatter_nd_max",
    "tensor_scatter_nd_min",
    "tensor_scatter_nd_sub",
    "tensor_scatter_nd_update",
]

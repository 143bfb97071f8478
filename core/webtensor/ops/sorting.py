"""Sorting, searching and counting: sort, argsort, searchsorted, unique, bincount,
confusion_matrix, histogram_fixed_width, composed of existing primitives.

argsort ranks each element by comparing it with every other one along the axis
(``[..., n, n]`` comparisons, on the tensor's backend) and inverts the ranks with a
second comparison; above ``DEVICE_LIMIT`` comparisons it ranks on the host instead
(one readback). sort is a gather by argsort, so its gradient is the gather's.
unique and bincount read their input to the host: their output shapes depend on it."""

from __future__ import annotations

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..shape import as_int, normalize_axis, prod
from . import array as A
from . import math as M
from . import segment as SEG
from .dispatch import NUMERIC, Tensor, check_kind, operand
from .reduce import reduce_any, reduce_max, reduce_sum

DEVICE_LIMIT = 1 << 24
"""Most pairwise comparisons argsort makes on the device before it ranks on the host."""


def _to_last(x: Tensor, ax: int):
    r = len(x._h.shape)
    perm = tuple(i for i in range(r) if i != ax) + (ax,)
    inv = [0] * r
    for i, p in enumerate(perm):
        inv[p] = i
    return A.transpose(x, perm), tuple(inv)


def _ranks_device(x: Tensor, descending: bool) -> Tensor:
    """int32 [..., n]: position of each element in the stable sorted order."""
    n = x._h.shape[-1]
    xi, xj = A.expand_dims(x, -1), A.expand_dims(x, -2)
    ahead = M.greater(xj, xi) if descending else M.less(xj, xi)
    r = A.range(n)
    earlier = M.less(A.reshape(r, (1, n)), A.reshape(r, (n, 1)))
    before = M.logical_or(ahead, M.logical_and(M.equal(xj, xi), earlier))
    return reduce_sum(M.cast(before, D.int32), -1)


def _argsort_last(x: Tensor, descending: bool) -> Tensor:
    s = tuple(x._h.shape)
    n = s[-1]
    if n * n * prod(s[:-1]) <= DEVICE_LIMIT:
        rank = _ranks_device(x, descending)
        r = A.range(n)
        hit = M.cast(M.equal(A.expand_dims(rank, -1), r), D.int32)  # [..., i, k]
        return reduce_sum(hit * A.reshape(r, (n, 1)), -2)
    rows = A._host_flat(A.reshape(x, (-1, n))) if n else []
    out = []
    for b in range(prod(s[:-1])):
        row = rows[b * n : (b + 1) * n]
        out.extend(sorted(range(n), key=(lambda i, r=row: -r[i]) if descending else row.__getitem__))
    return A.reshape(operand(out, "argsort", D.int32) if out else A.zeros((0,), D.int32), s)


def _direction(direction, op) -> bool:
    if direction not in ("ASCENDING", "DESCENDING"):
        raise InvalidArgumentError(f"{op}: direction must be 'ASCENDING' or 'DESCENDING', got {direction!r}")
    return direction == "DESCENDING"


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None) -> Tensor:
    """``tf.argsort``: int32 indices that sort along axis; always stable (ties keep order)."""
    x = operand(values, "argsort")
    check_kind(x, "argsort", NUMERIC)
    if not x._h.shape:
        raise InvalidArgumentError("argsort: values must have rank >= 1, got a scalar")
    desc = _direction(direction, "argsort")
    ax = normalize_axis(axis, len(x._h.shape), "argsort")
    xt, inv = _to_last(x, ax)
    return A.transpose(_argsort_last(xt, desc), inv)


def sort(values, axis=-1, direction="ASCENDING", name=None) -> Tensor:
    """``tf.sort``: the gradient routes back through the sorting permutation."""
    x = operand(values, "sort")
    check_kind(x, "sort", NUMERIC)
    if not x._h.shape:
        raise InvalidArgumentError("sort: values must have rank >= 1, got a scalar")
    desc = _direction(direction, "sort")
    ax = normalize_axis(axis, len(x._h.shape), "sort")
    xt, inv = _to_last(x, ax)
    idx = _argsort_last(xt, desc)
    r = len(xt._h.shape)
    return A.transpose(A.gather(xt, idx, axis=r - 1, batch_dims=r - 1), inv)


def searchsorted(sorted_sequence, values, side="left", out_type=D.int32, name=None) -> Tensor:
    """``tf.searchsorted``: per row, the count of sequence entries < value (left) or <= (right)."""
    seq = operand(sorted_sequence, "searchsorted")
    v = operand(values, "searchsorted", seq._dtype)
    ss, sv = tuple(seq._h.shape), tuple(v._h.shape)
    if not ss or len(ss) != len(sv) or ss[:-1] != sv[:-1]:
        raise InvalidArgumentError(
            f"searchsorted: sorted_sequence {ss} and values {sv} must have equal leading dimensions and rank >= 1"
        )
    if side not in ("left", "right"):
        raise InvalidArgumentError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    cmp = M.less if side == "left" else M.less_equal
    below = cmp(A.expand_dims(seq, -2), A.expand_dims(v, -1))  # [..., N, M]
    return reduce_sum(M.cast(below, D.as_dtype(out_type)), -1)


def _unique_host(x: Tensor, op: str):
    if len(x._h.shape) != 1:
        raise InvalidArgumentError(f"{op}: x must be a vector, got shape {tuple(x._h.shape)}")
    first, idx = {}, []
    for i, v in enumerate(A._host_flat(x)):
        idx.append(first.setdefault(v, (len(first), i))[0])
    picks = [i for _, i in first.values()]
    return picks, idx


def unique(x, out_idx=D.int32, name=None):
    """``tf.unique``: (y, idx), y in order of first occurrence, x == gather(y, idx)."""
    t = operand(x, "unique")
    picks, idx = _unique_host(t, "unique")
    dt = D.as_dtype(out_idx)
    y = A.gather(t, operand(picks, "unique", D.int32) if picks else A.zeros((0,), D.int32))
    return y, (operand(idx, "unique", dt) if idx else A.zeros((0,), dt))


def unique_with_counts(x, out_idx=D.int32, name=None):
    """``tf.unique_with_counts``: (y, idx, count)."""
    y, idx = unique(x, out_idx)
    n = y._h.shape[0]
    dt = D.as_dtype(out_idx)
    return y, idx, SEG.unsorted_segment_sum(A.ones(tuple(idx._h.shape), dt), idx, n)


def _host_max(t: Tensor) -> int:
    return int(reduce_max(t)) if prod(t._h.shape) else -1


def bincount(
    arr, weights=None, minlength=None, maxlength=None, dtype=D.int32, name=None, axis=None, binary_output=False
) -> Tensor:
    """``tf.math.bincount``: counts (or summed weights) of each value; values >= maxlength
    are dropped. axis=-1 counts each row of a 2-D arr separately."""
    op = "bincount"
    a = A._index_tensor(arr, op)
    if prod(a._h.shape) and bool(reduce_any(M.less(a, 0))):
        raise InvalidArgumentError(f"{op}: input arr must be non-negative")
    size = _host_max(a) + 1
    if minlength is not None:
        size = max(size, as_int(minlength, op, "minlength"))
    if maxlength is not None:
        size = min(size, as_int(maxlength, op, "maxlength"))
    size = max(size, 0)
    if weights is not None:
        w = operand(weights, op)
        if tuple(w._h.shape) != tuple(a._h.shape):
            raise InvalidArgumentError(
                f"{op}: weights shape {tuple(w._h.shape)} must equal arr shape {tuple(a._h.shape)}"
            )
    else:
        w = A.ones(tuple(a._h.shape), D.as_dtype(dtype))
    if axis not in (None, 0, -1):
        raise InvalidArgumentError(f"{op}: axis must be None, 0 or -1, got {axis}")
    per_row = axis == -1
    if per_row and len(a._h.shape) != 2:
        raise InvalidArgumentError(f"{op}: axis=-1 needs a 2-D arr, got shape {tuple(a._h.shape)}")
    rows = a._h.shape[0] if per_row else 1
    keep = M.less(a, size)
    if per_row:
        a = a + A.reshape(A.range(rows, dtype=a._dtype) * size, (rows, 1))
    a = M.where(keep, a, -1)  # values >= maxlength drop out (negative ids are dropped)
    out = SEG.unsorted_segment_sum(A.reshape(w, (-1,)), A.reshape(a, (-1,)), rows * size)
    if binary_output:
        out = M.cast(M.greater(out, 0), out._dtype)
    return A.reshape(out, (rows, size)) if per_row else out


def confusion_matrix(labels, predictions, num_classes=None, weights=None, dtype=D.int32, name=None) -> Tensor:
    """``tf.math.confusion_matrix``: [labels, predictions] counts (or summed weights)."""
    op = "confusion_matrix"
    lab = A.reshape(A._index_tensor(labels, op), (-1,))
    pred = A.reshape(A._index_tensor(predictions, op), (-1,))
    if lab._dtype is not pred._dtype:
        pred = M.cast(pred, lab._dtype)
    if lab._h.shape != pred._h.shape:
        raise InvalidArgumentError(
            f"{op}: labels {tuple(lab._h.shape)} and predictions "
            f"{tuple(pred._h.shape)} must have the same number of elements"
        )
    both = A.concat([lab, pred], 0)
    if prod(both._h.shape) and bool(reduce_any(M.less(both, 0))):
        raise InvalidArgumentError(f"{op}: labels and predictions must be non-negative")
    hi = _host_max(both)
    n = hi + 1 if num_classes is None else as_int(num_classes, op, "num_classes")
    if hi >= n:
        raise InvalidArgumentError(f"{op}: a label or prediction {hi} is not below num_classes {n}")
    dt = D.as_dtype(dtype)
    w = A.ones(tuple(lab._h.shape), dt) if weights is None else M.cast(A.reshape(operand(weights, op), (-1,)), dt)
    return A.reshape(SEG.unsorted_segment_sum(w, lab * n + pred, n * n), (n, n))


def histogram_fixed_width(values, value_range, nbins=100, dtype=D.int32, name=None) -> Tensor:
    """``tf.histogram_fixed_width``: values below/above the range count in the first/last bin."""
    op = "histogram_fixed_width"
    v = A.reshape(operand(values, op), (-1,))
    check_kind(v, op, NUMERIC)
    rng = operand(value_range, op, v._dtype)
    nb = as_int(nbins, op, "nbins")
    if nb <= 0:
        raise InvalidArgumentError(f"{op}: nbins must be positive, got {nb}")
    vf = M.cast(v, D.float64 if v._dtype is D.float64 else D.float32)
    lo, hi = A.unstack(M.cast(rng, vf._dtype))
    b = M.floor((vf - lo) / (hi - lo) * float(nb))
    b = M.cast(M.minimum(M.maximum(b, 0.0), float(nb - 1)), D.int32)
    return SEG.unsorted_segment_sum(A.ones(tuple(b._h.shape), D.as_dtype(dtype)), b, nb)


__all__ = [
    "argsort",
    "bincount",
    "confusion_matrix",
    "histogram_fixed_width",
    "searchsorted",
    "sort",
    "unique",
    "unique_with_counts",
]

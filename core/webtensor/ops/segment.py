"""Segment reductions and embedding_lookup, composed of existing primitives.

Sums go through the ``scatter_add`` primitive (gradient: gather). Max/min/prod have no
scatter primitive, so they mask the data against a one-hot of the segment ids,
``[N, num_segments, ...]``, and reduce over N: memory is N * num_segments * inner, fine
for the segment counts of ML use. Their gradients are those of where + reduce_max/prod,
which equal TF's (max/min split the gradient among ties; prod is zero-safe)."""

from __future__ import annotations

from itertools import pairwise

from .. import dtypes as D
from ..composite import composite_in
from ..errors import InvalidArgumentError
from ..shape import as_int, prod
from . import array as A
from . import math as M
from .dispatch import NUMERIC, Tensor, check_kind, operand
from .reduce import reduce_any, reduce_max, reduce_min, reduce_prod, reduce_sum


def _flatten(data, segment_ids, op):
    x = operand(data, op)
    check_kind(x, op, NUMERIC)
    ids = A._index_tensor(segment_ids, op)
    s, si = tuple(x._h.shape), tuple(ids._h.shape)
    if s[: len(si)] != si:
        raise InvalidArgumentError(f"{op}: segment_ids shape {si} must be a prefix of data shape {s}")
    n = prod(si)
    return A.reshape(x, (n,) + s[len(si) :]), A.reshape(ids, (n,)), s[len(si) :]


def _num(num_segments, op) -> int:
    n = as_int(num_segments, op, "num_segments")
    if n < 0:
        raise InvalidArgumentError(f"{op}: num_segments must be non-negative, got {n}")
    return n


def _check_ids(ids, n, op):
    """ids >= num_segments are an error (TF on CPU); negative ids drop their rows, as TF."""
    if ids._be.device_type == "CPU" and prod(ids._h.shape) and bool(reduce_any(M.greater_equal(ids, n))):
        bad = next(v for v in A._host_flat(ids) if v >= n)
        raise InvalidArgumentError(f"{op}: segment id {bad} is out of range [0, {n})")


def _masked(x, ids, n, inner, fill, reducer):
    """reducer over N of where(onehot[N, n], x[N, 1, ...], fill) -> [n, ...]."""
    hot = A.one_hot(ids, n, on_value=True, off_value=False, dtype=D.bool_)  # [N, n]
    hot = A.reshape(hot, tuple(hot._h.shape) + (1,) * len(inner))
    xe = A.expand_dims(x, 1)
    return reducer(M.where(hot, xe, operand(fill, "segment", x._dtype)), 0)


def _lowest(dt):
    return float("-inf") if dt.kind == "f" else dt.min


def _highest(dt):
    return float("inf") if dt.kind == "f" else dt.max


def unsorted_segment_sum(data, segment_ids, num_segments, name=None) -> Tensor:
    """Sum of the rows of each segment; ids outside [0, num_segments) are an error on CPU."""
    op = "unsorted_segment_sum"
    x, ids, inner = _flatten(data, segment_ids, op)
    n = _num(num_segments, op)
    _check_ids(ids, n, op)
    safe = M.where(M.less(ids, 0), operand(n, op, ids._dtype), ids)  # dropped rows land in row n
    out = A._scatter_add(safe, x, (n + 1,) + inner, 0)
    return A._axis_slice(out, 0, 0, n)


def _unsorted_masked(op, fill, reducer, empty):
    """unsorted_segment_max/min/prod: one masked reduction each, differing only in the value an
    empty segment holds (``fill(dtype)``) and the reducer."""

    def seg(data, segment_ids, num_segments, name=None) -> Tensor:
        x, ids, inner = _flatten(data, segment_ids, op)
        n = _num(num_segments, op)
        _check_ids(ids, n, op)
        return _masked(x, ids, n, inner, fill(x._dtype), reducer)

    seg.__name__ = seg.__qualname__ = op
    seg.__doc__ = f"``tf.math.{op}``: empty segments hold {empty}, as TF."
    return seg


unsorted_segment_max = _unsorted_masked(
    "unsorted_segment_max", _lowest, reduce_max, "the dtype's lowest value (-inf for floats)"
)
unsorted_segment_min = _unsorted_masked(
    "unsorted_segment_min", _highest, reduce_min, "the dtype's highest value (+inf for floats)"
)
unsorted_segment_prod = _unsorted_masked("unsorted_segment_prod", lambda dt: 1, reduce_prod, "1")


def _counts(ids, n, inner, dt):
    c = unsorted_segment_sum(A.ones(tuple(ids._h.shape), dt), ids, n)
    return A.reshape(c, (n,) + (1,) * len(inner))


def unsorted_segment_mean(data, segment_ids, num_segments, name=None) -> Tensor:
    """Sum / count; empty segments give 0."""
    op = "unsorted_segment_mean"
    x, ids, inner = _flatten(data, segment_ids, op)
    n = _num(num_segments, op)
    total = unsorted_segment_sum(x, ids, n)
    c = _counts(ids, n, inner, x._dtype)
    return total / M.maximum(c, operand(1, op, x._dtype))


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None) -> Tensor:
    """Sum / sqrt(count); empty segments give 0."""
    op = "unsorted_segment_sqrt_n"
    x, ids, inner = _flatten(data, segment_ids, op)
    n = _num(num_segments, op)
    c = _counts(ids, n, inner, x._dtype)
    return unsorted_segment_sum(x, ids, n) / M.sqrt(M.maximum(c, operand(1, op, x._dtype)))


def _sorted(unsorted, op, empty_zero=False):
    def seg(data, segment_ids, name=None) -> Tensor:
        ids = A._index_tensor(segment_ids, op)
        flat = A._host_flat(A.reshape(ids, (-1,)))
        if any(b < a for a, b in pairwise(flat)):
            raise InvalidArgumentError(f"{op}: segment_ids must be sorted, got {flat[:16]}")
        if flat and flat[0] < 0:
            raise InvalidArgumentError(f"{op}: segment_ids must be non-negative, got {flat[0]}")
        n = flat[-1] + 1 if flat else 0
        out = unsorted(data, ids, n)
        if empty_zero:  # TF's sorted max/min give 0, not the dtype's extreme, for empty segments
            x = operand(data, op)
            inner = tuple(x._h.shape)[len(ids._h.shape) :]
            c = _counts(A.reshape(ids, (-1,)), n, inner, D.int32)
            out = M.where(M.greater(c, 0), out, A.zeros((), out._dtype))
        return out

    seg.__name__ = seg.__qualname__ = op
    seg.__doc__ = (
        f"``tf.math.{op}``: sorted segment_ids; num_segments = last id + 1 "
        "(reads the ids to the host: the output shape depends on them)."
    )
    return seg


segment_sum = _sorted(unsorted_segment_sum, "segment_sum")
segment_mean = _sorted(unsorted_segment_mean, "segment_mean")
segment_max = _sorted(unsorted_segment_max, "segment_max", True)
segment_min = _sorted(unsorted_segment_min, "segment_min", True)
segment_prod = _sorted(unsorted_segment_prod, "segment_prod")


def embedding_lookup(params, ids, max_norm=None, name=None) -> Tensor:
    """``tf.nn.embedding_lookup``: rows of params (a list of shards is joined, TF 2's
    'div' strategy); ``max_norm`` clips each looked-up row's L2 norm."""
    if type(ids) is not Tensor and composite_in(ids) is not None:  # ragged ids: rows of embeddings
        return ids._dispatch(embedding_lookup, (params, ids), {"max_norm": max_norm})
    if isinstance(params, (list, tuple)) and params and all(hasattr(v, "_dtype") for v in params):
        params = A.concat(list(params), 0) if len(params) > 1 else params[0]
    p = operand(params, "embedding_lookup")
    idx = A._index_tensor(ids, "embedding_lookup")
    A._check_indices_host(A.reshape(idx, (-1, 1)), (p._h.shape[0],), "embedding_lookup")
    out = A.gather(p, idx)
    if max_norm is not None:
        r = len(idx._h.shape)
        axes = list(range(r, len(out._h.shape)))
        norm = M.sqrt(reduce_sum(M.square(out), axes, keepdims=True))
        mx = operand(max_norm, "embedding_lookup", out._dtype)
        out = out * M.where(
            M.greater(norm, mx),
            mx / M.maximum(norm, operand(1e-30, "embedding_lookup", out._dtype)),
            A.ones((), out._dtype),
        )
    return out


__all__ = [
    "embedding_lookup",
    "segment_max",
    "segment_mean",
    "segment_min",
    "segment_prod",
    "segment_sum",
    "unsorted_segment_max",
    "unsorted_segment_mean",
    "unsorted_segment_min",
    "unsorted_segment_prod",
    "unsorted_segment_sqrt_n",
    "unsorted_segment_sum",
]

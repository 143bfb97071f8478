"""``rt[key]``: TF's ragged indexing. The first index picks rows (an int gives one row, a
Tensor or RaggedTensor); later slices cut every row; an int into a ragged dimension is
an error (``Cannot index into an inner ragged dimension.``); dims after the ragged ones
index ``flat_values`` as a Tensor does."""

from __future__ import annotations

import operator

from ..errors import InvalidArgumentError
from .tensor import RaggedTensor, _take

_HELP = (
    "Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
    "tf.int32/tf.int64 tensors are valid indices"
)


def _int(k):
    if isinstance(k, bool) or not (isinstance(k, int) or hasattr(k, "__index__")):
        raise TypeError(f"{_HELP}, got {k!r}")
    return operator.index(k)


def _bound(k):
    return None if k is None else _int(k)


def getitem(rt: RaggedTensor, key):
    key = key if isinstance(key, tuple) else (key,) if not isinstance(key, list) or key else ()
    rank = rt.shape.rank
    real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if sum(k is Ellipsis for k in key) > 1:
        raise InvalidArgumentError("RaggedTensor.__getitem__: an index can only have a single ellipsis")
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (rank - real) + key[i + 1 :]
    elif real > rank:
        raise IndexError(f"Too many indices for RaggedTensor: {real} indices for rank {rank}")
    if real > rank:
        raise IndexError(f"Too many indices for RaggedTensor: {real} indices for rank {rank}")
    return _rows(rt, key)


def _rows(rt: RaggedTensor, key: tuple):
    if not key:
        return rt
    k, rest = key[0], key[1:]
    if k is None:
        from .ops import expand_dims

        return expand_dims(_rows(rt, rest), 0)
    if isinstance(k, slice):
        return _inner(_slice_rows(rt, k), rest)
    i = _int(k)
    n = rt.nrows_int()
    if not -n <= i < n:
        raise InvalidArgumentError(f"RaggedTensor.__getitem__: row index {i} is out of bounds for {n} rows")
    row = _row(rt, i % n)
    if not rest:
        return row
    return _rows(row, rest) if isinstance(row, RaggedTensor) else row[rest]


def _row(rt: RaggedTensor, i: int):
    a, b = rt._s[i], rt._s[i + 1]
    v = rt._values
    return _slice_rows(v, slice(a, b)) if isinstance(v, RaggedTensor) else v[a:b]


def _slice_rows(rt: RaggedTensor, sl: slice) -> RaggedTensor:
    st = _bound(sl.step)
    if st == 0:
        raise InvalidArgumentError("RaggedTensor.__getitem__: slice step cannot be zero")
    rows = range(rt.nrows_int())[slice(_bound(sl.start), _bound(sl.stop), st)]
    if rows.step == 1:  # contiguous rows: a slice of the values
        s = rt._s
        if not rows:
            return RaggedTensor._make(_take(rt._values, []), [0], rt._sdt)
        a, b = s[rows.start], s[rows.stop]
        return RaggedTensor._make(
            _take(rt._values, list(range(a, b))), [x - a for x in s[rows.start : rows.stop + 1]], rt._sdt
        )
    from .tensor import _take_rows

    return _take_rows(rt, list(rows))


def _inner(rt: RaggedTensor, key: tuple):
    """``key`` applied to dims 1.. of ``rt`` (the rows are kept)."""
    if not key:
        return rt
    k, rest = key[0], key[1:]
    if k is None:
        from .ops import expand_dims

        return expand_dims(_inner(rt, rest), 1)
    if not isinstance(k, slice):
        _int(k)
        raise ValueError("Cannot index into an inner ragged dimension.")
    st = _bound(k.step)
    if st == 0:
        raise InvalidArgumentError("RaggedTensor.__getitem__: slice step cannot be zero")
    start, stop = _bound(k.start), _bound(k.stop)
    idx, splits = [], [0]
    s = rt._s
    for a, b in zip(s, s[1:]):
        idx.extend(a + j for j in range(b - a)[start:stop:st])
        splits.append(len(idx))
    v = _take(rt._values, idx) if (start, stop, st) != (None, None, None) else rt._values
    if rest:
        v = _inner(v, rest) if isinstance(v, RaggedTensor) else v[(slice(None),) + rest]
    return RaggedTensor._make(v, splits, rt._sdt)

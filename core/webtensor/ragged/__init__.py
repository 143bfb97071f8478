"""``tf.ragged``: RaggedTensor construction and ragged-specific ops (see docs/ragged-sparse.md)."""

from __future__ import annotations

import builtins

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..tensor import convert
from .ops import boolean_mask, map_flat_values, ragged_range as range  # noqa: F401
from .spec import RaggedTensorSpec  # noqa: F401
from .tensor import RaggedTensor

__all__ = [
    "RaggedTensor",
    "RaggedTensorSpec",
    "boolean_mask",
    "constant",
    "map_flat_values",
    "range",
    "row_splits_to_segment_ids",
    "segment_ids_to_row_splits",
    "stack",
]


def _as_lists(x):
    """numpy arrays inside the nesting count as lists, as in TF."""
    if isinstance(x, (list, tuple)):
        return [_as_lists(v) for v in x]
    if getattr(x, "ndim", 0) and hasattr(x, "tolist"):
        return x.tolist()
    return x


def _depths(x, d: int, out: set) -> None:
    if isinstance(x, (list, tuple)):
        for v in x:
            _depths(v, d + 1, out)
    else:
        out.add(d)


def _max_list_depth(x) -> int:
    """Depth of nested lists reached through the first non-empty lists (for all-empty inputs)."""
    d = 0
    while isinstance(x, (list, tuple)):
        d += 1
        x = next((v for v in x if isinstance(v, (list, tuple))), x[0] if x else None)
        if x is None:
            break
    return d


def constant(pylist, dtype=None, ragged_rank=None, inner_shape=None, name=None, row_splits_dtype=D.int64):
    """``tf.ragged.constant``: a RaggedTensor from nested Python lists of different lengths."""
    pylist = _as_lists(pylist)
    depths: set = set()
    _depths(pylist, 0, depths)
    if len(depths) > 1:
        raise ValueError(
            f"ragged.constant: all scalar values must have the same nesting depth, got depths {sorted(depths)}"
        )
    depth = depths.pop() if depths else _max_list_depth(pylist)
    inner = tuple(inner_shape) if inner_shape is not None else None
    if ragged_rank is None:
        ragged_rank = depth - 1 - (len(inner) if inner else 0)
    dt = D.as_dtype(dtype) if dtype is not None else None
    if ragged_rank < 0 or depth == 0:
        return convert(pylist, dt, op="ragged.constant")
    if ragged_rank >= depth and depths is not None and depth:
        raise ValueError(f"ragged.constant: ragged_rank {ragged_rank} must be smaller than the nesting depth {depth}")
    items, nested = [pylist], []
    for _ in builtins.range(ragged_rank + 1):
        splits, nxt = [0], []
        for it in items:
            if not isinstance(it, (list, tuple)):
                raise ValueError("ragged.constant: all scalar values must have the same nesting depth")
            nxt.extend(it)
            splits.append(len(nxt))
        nested.append(splits)
        items = nxt
    nested = nested[1:]  # the first level is the single outer list
    try:
        if items:
            flat = convert(items, dt, op="ragged.constant")
        else:
            from ..ops.array import zeros

            flat = (
                zeros((0,) + (inner or ()), dt or D.float32)
                if (dt or D.float32) is not D.string
                else convert([], D.string, op="ragged.constant")
            )
    except (InvalidArgumentError, TypeError) as e:
        raise ValueError(f"ragged.constant: {e}") from None
    sdt = D.as_dtype(row_splits_dtype)
    out = flat
    for s in reversed(nested):
        out = RaggedTensor._make(out, s, sdt)
    return out


def stack(values, axis: int = 0, name=None):
    """``tf.ragged.stack``: like ``tf.stack``, but inputs of different shapes give ragged rows."""
    from ..ops.array import concat
    from ..ops.array import stack as dense_stack
    from .ops import stack as ragged_stack
    from .tensor import _tensor

    vals = list(values)
    if any(isinstance(v, RaggedTensor) for v in vals):
        return ragged_stack(vals, axis)
    ts = [_tensor(v, "ragged.stack") for v in vals]
    if not ts[0].shape.rank:
        return dense_stack(ts, axis)
    if axis == 0 and all(t.shape.rank == 1 for t in ts):
        return RaggedTensor.from_row_lengths(concat(ts, 0), [t.shape[0] for t in ts])
    return (
        ragged_stack([RaggedTensor.from_tensor(t) if t.shape.rank > 1 else t for t in ts], axis)
        if any(t.shape.rank > 1 for t in ts)
        else dense_stack(ts, axis)
    )


def row_splits_to_segment_ids(splits, name=None, out_type=None):
    rt = RaggedTensor.from_row_splits(
        convert([0] * int(list(splits)[-1] if isinstance(splits, list) else int(splits[-1])), D.int32), splits
    )
    return convert(rt._rowids(), D.as_dtype(out_type) if out_type else rt._sdt)


def segment_ids_to_row_splits(segment_ids, num_segments=None, out_type=None, name=None):
    ids = convert(segment_ids) if not isinstance(segment_ids, list) else segment_ids
    n = len(ids) if isinstance(ids, list) else ids.shape[0]
    rt = RaggedTensor.from_value_rowids(convert([0] * n, D.int32), segment_ids, num_segments)
    return convert(rt._s, D.as_dtype(out_type) if out_type else D.int64)

"""Ops on RaggedTensors: what ``tf.add(rt, 1)``, ``tf.reduce_sum(rt, axis=1)``,
``tf.concat([rt, ...])`` and friends do when the core op is handed a RaggedTensor.

Elementwise ops apply to ``flat_values`` (the row partitions must match, or a dense
operand must broadcast into the ragged shape); reductions over a ragged axis are segment
reductions; the structural ops are host index bookkeeping plus one gather.
"""

from __future__ import annotations

from .. import dtypes as D
from ..composite import CompositeTensor
from ..errors import InvalidArgumentError, UnimplementedError
from ..ops import array as A
from ..ops import math as M
from ..ops import reduce as R
from ..ops import segment as SEG
from ..tensor import Tensor, Variable, convert
from .tensor import RaggedTensor, _take, _take_rows, _tensor


def dispatch(op, args: tuple, kwargs: dict):
    kind = getattr(op, "_elementwise", 0)
    if kind == 1 or op is M.cast:
        rt = args[0]
        return rt.with_flat_values(op(rt.flat_values, *args[1:]))
    if kind == 2 or op is M.truediv:
        return elementwise(op, *args)
    fn = _HANDLERS.get(op)
    if fn is None:
        raise TypeError(
            f"{getattr(op, '__name__', op)}: RaggedTensor inputs are not supported; use "
            f"rt.to_tensor() or tf.ragged.map_flat_values"
        )
    return fn(*args, **{k: v for k, v in kwargs.items() if v is not None or k != "name"})


# -- elementwise ------------------------------------------------------------------------------


def _is_python(v) -> bool:
    return isinstance(v, (int, float, bool, list, tuple))


def _same_partitions(x: RaggedTensor, y: RaggedTensor, op: str) -> None:
    nx, ny = x._nested(), y._nested()
    if len(nx) != len(ny):
        raise InvalidArgumentError(f"{op}: ragged ranks differ: {len(nx)} and {len(ny)}")
    for level, (a, b) in enumerate(zip(nx, ny), 1):
        if a != b:
            la = [q - p for p, q in zip(a, a[1:])]
            lb = [q - p for p, q in zip(b, b[1:])]
            raise InvalidArgumentError(
                f"{op}: ragged dimension {level} does not match: row lengths {la[:16]} and {lb[:16]}"
            )


def elementwise(op, x, y):
    """A binary elementwise op with at least one RaggedTensor operand."""
    name = getattr(op, "__name__", "op")
    if isinstance(x, RaggedTensor) and isinstance(y, RaggedTensor):
        _same_partitions(x, y, name)
        return x.with_flat_values(op(x.flat_values, y.flat_values))
    if (
        isinstance(x, CompositeTensor)
        and not isinstance(x, RaggedTensor)
        or isinstance(y, CompositeTensor)
        and not isinstance(y, RaggedTensor)
    ):
        raise TypeError(f"{name}: cannot combine a RaggedTensor with a {type(x).__name__}/{type(y).__name__}")
    if isinstance(x, RaggedTensor):
        d = _dense_operand(y, x, name)
        return x.with_flat_values(op(x.flat_values, d))
    d = _dense_operand(x, y, name)
    return y.with_flat_values(op(d, y.flat_values))


def _dense_operand(v, rt: RaggedTensor, op: str) -> Tensor:
    """A dense operand broadcast against ``rt``'s flat values (TF's ragged broadcasting)."""
    t = convert(v, rt.dtype if _is_python(v) else None, op=op) if not isinstance(v, Tensor) else v
    if isinstance(v, Variable):
        t = v.value()
    flat = rt.flat_values
    inner = tuple(flat._h.shape[1:])
    ds = tuple(t._h.shape)
    if len(ds) <= len(inner):  # only the uniform inner dims: broadcasts with flat_values as is
        return t
    k = rt.ragged_rank
    full = (1,) * (1 + k + len(inner) - len(ds)) + ds
    if len(full) > 1 + k + len(inner):
        raise InvalidArgumentError(
            f"{op}: dense operand of shape {ds} has a higher rank than the RaggedTensor of shape {rt.shape}"
        )
    if any(d != 1 for d in full[1 : 1 + k]):
        raise InvalidArgumentError(
            f"{op}: cannot broadcast dense shape {ds} to the ragged shape "
            f"{rt.shape}: ragged dimensions need size 1 in the dense operand; "
            f"row lengths {rt._lengths()[:16]}"
        )
    rows = A.reshape(t, (full[0],) + full[1 + k :])
    if full[0] == 1:
        return rows
    if full[0] != rt.nrows_int():
        raise InvalidArgumentError(
            f"{op}: dense operand of shape {ds} has {full[0]} rows, the RaggedTensor {rt.nrows_int()}"
        )
    ids = list(range(rt.nrows_int()))
    v2 = rt
    while isinstance(v2, RaggedTensor):
        ids = [ids[r] for r in v2._rowids()]
        v2 = v2._values
    return A.gather(rows, convert(ids, D.int32))


def map_flat_values(op, *args, **kwargs):
    """``op`` applied to the flat values of every RaggedTensor argument (same partitions)."""
    found = []

    def swap(v):
        if isinstance(v, RaggedTensor):
            found.append(v)
            return v.flat_values
        if isinstance(v, list):
            return [swap(u) for u in v]
        if isinstance(v, tuple):
            return tuple(swap(u) for u in v)
        if isinstance(v, dict):
            return {k: swap(u) for k, u in v.items()}
        return v

    a2 = [swap(a) for a in args]
    k2 = {k: swap(v) for k, v in kwargs.items()}
    if not found:
        return op(*args, **kwargs)
    for r in found[1:]:
        _same_partitions(found[0], r, "map_flat_values")
    out = op(*a2, **k2)
    out = _tensor(out, "map_flat_values")
    nv = found[0].flat_values._h.shape[0]
    if not out._h.shape or out._h.shape[0] != nv:
        raise InvalidArgumentError(
            f"map_flat_values: op's output must keep the {nv} values in its first "
            f"dimension, got shape {tuple(out._h.shape)}"
        )
    return found[0].with_flat_values(out)


# -- reductions -------------------------------------------------------------------------------


def _segment(op, x: Tensor, ids: list, n: int) -> Tensor:
    """Segment version of reduce op ``op`` over rows of ``x``."""
    idt = convert(ids, D.int32)
    if op is R.reduce_sum:
        return SEG.unsorted_segment_sum(x, idt, n)
    if op is R.reduce_max:
        return SEG.unsorted_segment_max(x, idt, n)
    if op is R.reduce_min:
        return SEG.unsorted_segment_min(x, idt, n)
    if op is R.reduce_prod:
        return SEG.unsorted_segment_prod(x, idt, n)
    if op is R.reduce_mean:
        total = SEG.unsorted_segment_sum(x, idt, n)
        count = SEG.unsorted_segment_sum(A.ones_like(x), idt, n)
        return M.truediv(total, count)
    if op is R.reduce_any:
        return M.greater(SEG.unsorted_segment_sum(M.cast(x, D.int32), idt, n), 0)
    if op is R.reduce_all:
        return M.equal(SEG.unsorted_segment_sum(M.cast(M.logical_not(x), D.int32), idt, n), 0)
    raise TypeError(f"{op.__name__}: not supported on a RaggedTensor")


def reduce(op, rt: RaggedTensor, axis=None, keepdims: bool = False):
    if axis is None:
        return op(rt.flat_values)
    rank = rt.shape.rank
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    norm = []
    for a in axes:
        a = int(a)
        if not -rank <= a < rank:
            raise InvalidArgumentError(f"{op.__name__}: axis {a} out of range for a RaggedTensor of rank {rank}")
        norm.append(a % rank)
    out = rt
    for a in sorted(set(norm), reverse=True):
        out = _reduce_axis(op, out, a, keepdims) if isinstance(out, RaggedTensor) else op(out, a, keepdims)
    return out


def _reduce_axis(op, rt: RaggedTensor, a: int, keepdims: bool):
    name = op.__name__
    if a >= 2:
        v = rt._values
        inner = _reduce_axis(op, v, a - 1, keepdims) if isinstance(v, RaggedTensor) else op(v, a - 1, keepdims)
        return rt.with_values(inner)
    if isinstance(rt._values, RaggedTensor):
        if isinstance(rt._values._values, RaggedTensor) or keepdims:
            raise UnimplementedError(
                f"{name}: reducing axis {a} of a RaggedTensor with ragged_rank "
                f"{rt.ragged_rank} is not supported (reduce the innermost ragged axis "
                f"or a dense axis; keepdims=False)"
            )
        return _reduce_outer_of_two(op, rt, a)
    v = rt._values
    if a == 1:
        out = _segment(op, v, rt._rowids(), rt.nrows_int())
    else:
        pos = [j for n in rt._lengths() for j in range(n)]
        out = _segment(op, v, pos, max(rt._lengths(), default=0))
    return A.expand_dims(out, a) if keepdims else out


def _reduce_outer_of_two(op, rt: RaggedTensor, a: int) -> RaggedTensor:
    """Axis 0 or 1 of [N, (r1), (r2), ...]: the (r2) rows of each group (an outer row for axis 1,
    a position j for axis 0) reduce elementwise; a group is as wide as its longest row."""
    inner = rt._values
    group = rt._rowids() if a == 1 else [j for n in rt._lengths() for j in range(n)]
    ngroups = rt.nrows_int() if a == 1 else max(rt._lengths(), default=0)
    lens = inner._lengths()
    widths = [0] * ngroups
    for g, n in zip(group, lens):
        widths[g] = max(widths[g], n)
    offs = [0]
    for w in widths:
        offs.append(offs[-1] + w)
    ids = [offs[g] + k for g, n in zip(group, lens) for k in range(n)]
    return RaggedTensor._make(_segment(op, inner._values, ids, offs[-1]), offs, rt._sdt)


# -- structure ------------------------------------------------------------------------------------


def _ragged(x, rank_like: RaggedTensor, op: str) -> RaggedTensor:
    """A concat/stack operand as a RaggedTensor with ``rank_like``'s ragged rank."""
    if isinstance(x, RaggedTensor):
        return x
    if isinstance(x, CompositeTensor):
        raise TypeError(f"{op}: cannot mix a RaggedTensor with a {type(x).__name__}")
    t = _tensor(x, op)
    if len(t._h.shape) != rank_like.shape.rank:
        raise InvalidArgumentError(
            f"{op}: all inputs must have the same rank: dense shape "
            f"{tuple(t._h.shape)} and ragged shape {rank_like.shape}"
        )
    return RaggedTensor.from_tensor(t, ragged_rank=rank_like.ragged_rank, row_splits_dtype=rank_like._sdt)


def concat(values, axis, name=None):
    first = next(v for v in values if isinstance(v, RaggedTensor))
    rts = [_ragged(v, first, "concat") for v in values]
    rank = first.shape.rank
    for r in rts:
        if r.shape.rank != rank:
            raise InvalidArgumentError(f"concat: all inputs must have the same rank, got {first.shape} and {r.shape}")
    ax = int(axis) + rank if int(axis) < 0 else int(axis)
    if not 0 <= ax < rank:
        raise InvalidArgumentError(f"concat: axis {axis} out of range for rank {rank}")
    return _concat(rts, ax)


def _concat(rts: list, ax: int):
    if len(rts) == 1:
        return rts[0]
    if ax == 0:
        splits, off = [0], 0
        for r in rts:
            if r.ragged_rank != rts[0].ragged_rank:
                raise InvalidArgumentError(f"concat: ragged ranks differ: {rts[0].ragged_rank} and {r.ragged_rank}")
            splits.extend(x + off for x in r._s[1:])
            off += r._s[-1]
        vals = [r._values for r in rts]
        v = _concat(vals, 0) if isinstance(vals[0], RaggedTensor) else A.concat(vals, 0)
        return RaggedTensor._make(v, splits, rts[0]._sdt)
    n = rts[0].nrows_int()
    for r in rts:
        if r.nrows_int() != n:
            raise InvalidArgumentError(
                f"concat: inputs must have the same number of rows to concat along "
                f"axis {ax}, got {[q.nrows_int() for q in rts]}"
            )
    if ax >= 2:
        for r in rts[1:]:
            if r._s != rts[0]._s:
                raise InvalidArgumentError(
                    f"concat: row lengths must match to concat along axis {ax}: "
                    f"{rts[0]._lengths()[:16]} and {r._lengths()[:16]}"
                )
        vals = [r._values for r in rts]
        v = _concat(vals, ax - 1) if isinstance(vals[0], RaggedTensor) else A.concat(vals, ax - 1)
        return RaggedTensor._make(v, rts[0]._s, rts[0]._sdt)
    both = _concat(rts, 0)  # axis 1: row i of each input, joined
    k = len(rts)
    order = [j * n + i for i in range(n) for j in range(k)]
    joined = _take_rows(both, order)
    return RaggedTensor._make(joined._values, joined._s[::k], joined._sdt)


def expand_dims(x, axis):
    """``tf.expand_dims`` for a RaggedTensor: a new uniform dimension of size 1."""
    if not isinstance(x, RaggedTensor):
        return A.expand_dims(x, axis)
    rank = x.shape.rank
    a = int(axis) + rank + 1 if int(axis) < 0 else int(axis)
    if a == 0:
        return RaggedTensor._make(x, [0, x.nrows_int()], x._sdt)
    if a == 1:
        return RaggedTensor._make(x, list(range(x.nrows_int() + 1)), x._sdt)
    return x.with_values(expand_dims(x._values, a - 1))


def stack(values, axis=0, name=None):
    first = next(v for v in values if isinstance(v, RaggedTensor))
    rts = [_ragged(v, first, "stack") for v in values]
    rank = first.shape.rank
    ax = int(axis) + rank + 1 if int(axis) < 0 else int(axis)
    if not 0 <= ax <= rank:
        raise InvalidArgumentError(f"stack: axis {axis} out of range for rank {rank}")
    if ax == 0:
        return RaggedTensor._make(_concat(rts, 0), [0] + _cumsum([r.nrows_int() for r in rts]), first._sdt)
    return _concat([expand_dims(r, ax) for r in rts], ax)


def _cumsum(xs: list) -> list:
    out, acc = [], 0
    for x in xs:
        acc += x
        out.append(acc)
    return out


def gather(params, indices, axis=None, batch_dims=0, name=None):
    if (axis not in (None, 0)) or batch_dims:
        raise UnimplementedError("gather: RaggedTensor operands support axis=0 and batch_dims=0 only")
    if isinstance(indices, RaggedTensor):
        return indices.with_flat_values(gather(params, indices.flat_values))
    if not isinstance(params, RaggedTensor):
        return A.gather(params, indices)
    idx = _tensor(indices, "gather", D.int64 if not _is_python(indices) else None)
    if not idx._dtype.is_integer:
        raise InvalidArgumentError(f"gather: indices must be integers, got {idx._dtype.name}")
    flat = [int(v) for v in A.reshape(idx, (-1,)).tolist()] if idx._h.shape else [int(idx)]
    n = params.nrows_int()
    for j, i in enumerate(flat):
        if not 0 <= i < n:
            raise InvalidArgumentError(f"gather: indices[{j}] = {i} is not in [0, {n})")
    if not idx._h.shape:
        return params[flat[0]]
    out = _take_rows(params, flat)
    shape = tuple(idx._h.shape)
    for k in range(len(shape) - 1, 0, -1):  # index dims beyond the first are uniform partitions
        from ..shape import prod

        out = RaggedTensor._make(out, list(range(0, prod(shape[: k + 1]) + 1, shape[k])), params._sdt)
    return out


def boolean_mask(tensor, mask, axis=None, name=None):
    if axis not in (None, 0):
        raise UnimplementedError("boolean_mask: RaggedTensor operands support axis=0 only")
    if isinstance(mask, RaggedTensor):
        data = (
            tensor
            if isinstance(tensor, RaggedTensor)
            else RaggedTensor.from_tensor(_tensor(tensor, "boolean_mask"), ragged_rank=mask.ragged_rank)
        )
        return _mask_values(data, mask)
    mk = _tensor(mask, "boolean_mask", D.bool_)
    if mk._dtype is not D.bool_:
        raise InvalidArgumentError(f"boolean_mask: mask must be bool, got {mk._dtype.name}")
    if not isinstance(tensor, RaggedTensor):  # tf.ragged.boolean_mask of dense data: ragged rows
        if len(mk._h.shape) == 1:
            return A.boolean_mask(tensor, mk)
        tensor = RaggedTensor.from_tensor(_tensor(tensor, "boolean_mask"), ragged_rank=len(mk._h.shape) - 1)
    if len(mk._h.shape) == 1:
        keep = A._host_flat(mk)
        if len(keep) != tensor.nrows_int():
            raise InvalidArgumentError(f"boolean_mask: mask of {len(keep)} values for {tensor.nrows_int()} rows")
        return _take_rows(tensor, [i for i, k in enumerate(keep) if k])
    k = len(mk._h.shape) - 1
    return _mask_values(tensor, RaggedTensor.from_tensor(mk, ragged_rank=k))


def _mask_values(data: RaggedTensor, mask: RaggedTensor) -> RaggedTensor:
    """Keep the values where a ragged mask of the same partitions is true (rows shrink)."""
    nd, nm = data._nested(), mask._nested()
    if nd[: len(nm)] != nm:
        raise InvalidArgumentError(
            f"boolean_mask: mask row lengths {mask._lengths()[:16]} must match the data's {data._lengths()[:16]}"
        )
    return _mask_level(data, mask)


def _mask_level(d, m):
    if isinstance(m._values, RaggedTensor):
        return RaggedTensor._make(_mask_level(d._values, m._values), d._s, d._sdt)
    keep = A._host_flat(m._values)
    idx = [i for i, k in enumerate(keep) if k]
    splits = [0]
    for a, b in zip(m._s, m._s[1:]):
        splits.append(splits[-1] + sum(1 for k in keep[a:b] if k))
    return RaggedTensor._make(_take(d._values, idx), splits, d._sdt)


def map_fn(fn, elems, sig=None):
    """``tf.map_fn`` over the rows of RaggedTensor elems (or giving ragged results): rows of different
    lengths stack into a RaggedTensor unless ``sig`` asks for a dense TensorSpec/dtype."""
    from .. import nest
    from ..spec import TensorSpec
    from .spec import RaggedTensorSpec

    flat = nest.flatten(elems)
    n = {(f.nrows_int() if isinstance(f, RaggedTensor) else _tensor(f, "map_fn")._h.shape[0]) for f in flat}
    if len(n) != 1:
        raise ValueError(f"map_fn: all elems must have the same number of rows, got {sorted(n)}")
    rows = [list(f) if isinstance(f, RaggedTensor) else list(_tensor(f, "map_fn")) for f in flat]
    outs = [
        fn(nest.pack_sequence_as(elems, [r[i] for r in rows]) if nest.is_nested(elems) else rows[0][i])
        for i in range(n.pop())
    ]
    if not outs:
        raise ValueError("map_fn: elems has zero rows; the output shape cannot be inferred")
    dense = isinstance(sig, TensorSpec) or (sig is not None and not isinstance(sig, RaggedTensorSpec))

    def stack_col(col):
        ts = [c if isinstance(c, RaggedTensor) else _tensor(c, "map_fn") for c in col]
        if dense or all(isinstance(t, Tensor) and not t._h.shape for t in ts):
            return A.stack(ts)
        from . import stack as ragged_stack

        return ragged_stack(ts)

    cols = list(zip(*[nest.flatten(o) for o in outs]))
    res = [stack_col(c) for c in cols]
    return nest.pack_sequence_as(outs[0], res) if nest.is_nested(outs[0]) else res[0]


def where(condition, x, y):
    """``tf.where(c, x, y)`` with ragged operands: the row partitions must match; dense ones broadcast."""
    rag = [v for v in (condition, x, y) if isinstance(v, RaggedTensor)]
    for r in rag[1:]:
        _same_partitions(rag[0], r, "where")
    like = rag[0]

    def flat(v, dtype=None):
        if isinstance(v, RaggedTensor):
            return v.flat_values
        t = convert(v, dtype, op="where") if _is_python(v) else _tensor(v, "where")
        return _dense_operand(t, like, "where")

    dt = next((v.dtype for v in (x, y) if isinstance(v, (RaggedTensor, Tensor))), None)
    return like.with_flat_values(M.where(flat(condition, D.bool_), flat(x, dt), flat(y, dt)))


def reverse(rt: RaggedTensor, axis):
    """``tf.reverse``: axis 0 reverses the rows, a ragged axis each row, a dense axis the values."""
    rank = rt.shape.rank
    axes = sorted({int(a) % rank for a in (axis if isinstance(axis, (list, tuple)) else [axis])}, reverse=True)
    out = rt
    for a in axes:
        out = _reverse_axis(out, a)
    return out


def _reverse_axis(x, a: int):
    if not isinstance(x, RaggedTensor):
        return A.reverse(x, [a])
    if a == 0:
        return _take_rows(x, list(range(x.nrows_int() - 1, -1, -1)))
    if a == 1:
        idx = [j for p, q in zip(x._s, x._s[1:]) for j in range(q - 1, p - 1, -1)]
        return RaggedTensor._make(_take(x._values, idx), x._s, x._sdt)
    return x.with_values(_reverse_axis(x._values, a - 1))


def tile(rt: RaggedTensor, multiples):
    """``tf.tile`` of a RaggedTensor with one ragged dimension: rows and each row's values repeat."""
    mult = [int(m) for m in (multiples.tolist() if hasattr(multiples, "tolist") else multiples)]
    rank = rt.shape.rank
    if len(mult) != rank:
        raise InvalidArgumentError(f"tile: multiples {mult} must have one entry per dimension ({rank})")
    if rt.ragged_rank != 1:
        raise UnimplementedError("tile: RaggedTensors with more than one ragged dimension are not supported")
    idx, splits = [], [0]
    for p, q in zip(rt._s, rt._s[1:]):
        idx.extend(list(range(p, q)) * mult[1])
        splits.append(len(idx))
    v = _take(rt._values, idx)
    if any(m != 1 for m in mult[2:]):
        v = A.tile(v, [1] + mult[2:])
    one = RaggedTensor._make(v, splits, rt._sdt)
    return _concat([one] * mult[0], 0) if mult[0] != 1 else one


def ragged_range(starts, limits=None, deltas=1, dtype=None, name=None, row_splits_dtype=D.int64):
    """``tf.ragged.range``: row i is ``range(starts[i], limits[i], deltas[i])`` (scalars broadcast)."""
    if limits is None:
        starts, limits = 0, starts
    ts = [
        _tensor(v, "ragged.range", D.as_dtype(dtype) if dtype is not None and _is_python(v) else None)
        for v in (starts, limits, deltas)
    ]
    dt = D.as_dtype(dtype) if dtype is not None else next((t._dtype for t in ts if t._h.shape), ts[1]._dtype)
    ts = [M.cast(t, dt) for t in ts]
    cols = [A._host_flat(t) for t in ts]
    sizes = {len(c) for t, c in zip(ts, cols) if t._h.shape}
    if any(len(t._h.shape) > 1 for t in ts) or len(sizes) > 1:
        raise InvalidArgumentError(
            f"ragged.range: starts, limits and deltas must be scalars or 1-D of one "
            f"size, got shapes {[tuple(q._h.shape) for q in ts]}"
        )
    n = sizes.pop() if sizes else 1
    cols = [c if t._h.shape else c * n for t, c in zip(ts, cols)]
    vals, splits = [], [0]
    for s, lim, d in zip(*cols):
        if d == 0:
            raise InvalidArgumentError("ragged.range: deltas must be non-zero")
        k = 0
        while (s + k * d < lim) if d > 0 else (s + k * d > lim):
            vals.append(s + k * d)
            k += 1
        splits.append(len(vals))
    return RaggedTensor._make(convert(vals, dt), splits, D.as_dtype(row_splits_dtype))


_HANDLERS = {
    R.reduce_sum: lambda rt, axis=None, keepdims=False: reduce(R.reduce_sum, rt, axis, keepdims),
    R.reduce_max: lambda rt, axis=None, keepdims=False: reduce(R.reduce_max, rt, axis, keepdims),
    R.reduce_min: lambda rt, axis=None, keepdims=False: reduce(R.reduce_min, rt, axis, keepdims),
    R.reduce_prod: lambda rt, axis=None, keepdims=False: reduce(R.reduce_prod, rt, axis, keepdims),
    R.reduce_mean: lambda rt, axis=None, keepdims=False: reduce(R.reduce_mean, rt, axis, keepdims),
    R.reduce_any: lambda rt, axis=None, keepdims=False: reduce(R.reduce_any, rt, axis, keepdims),
    R.reduce_all: lambda rt, axis=None, keepdims=False: reduce(R.reduce_all, rt, axis, keepdims),
    A.concat: concat,
    A.stack: stack,
    A.gather: gather,
    A.boolean_mask: boolean_mask,
    A.expand_dims: expand_dims,
    M.where: lambda c, x, y: where(c, x, y),
    A.reverse: lambda rt, axis: reverse(rt, axis),
    A.tile: lambda rt, multiples: tile(rt, multiples),
    SEG.embedding_lookup: lambda params, ids, max_norm=None: ids.with_flat_values(
        SEG.embedding_lookup(params, ids.flat_values, max_norm=max_norm)
    ),
}

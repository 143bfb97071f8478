"""``tf.sparse.*`` and what the core ops do when handed a SparseTensor.

Every op computes its new index rows on the host and moves the values with one gather
or segment sum, so gradients reach ``values`` (and ``sparse_dense_matmul``'s dense
operand). Ops that need row-major order check it (``tf.sparse.reorder`` makes it).
"""

from __future__ import annotations

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..ops import array as A
from ..ops import math as M
from ..ops import segment as SEG
from ..shape import prod
from ..tensor import Tensor, Variable, convert
from .tensor import SparseTensor, _t


def _sp(x, op: str) -> SparseTensor:
    if not isinstance(x, SparseTensor):
        raise TypeError(f"{op}: expected a SparseTensor, got {type(x).__name__}")
    return x


def _idx_tensor(ids: list) -> Tensor:
    return convert(ids, D.int32 if not ids or max(ids) < 2**31 else D.int64)


def _take(values: Tensor, ids: list) -> Tensor:
    if ids == list(range(values._h.shape[0])):
        return values
    return A.gather(values, _idx_tensor(ids)) if ids else values[0:0]


def _linear(row: list, shape: list) -> int:
    k = 0
    for i, d in zip(row, shape):
        k = k * d + i
    return k


def _unlinear(k: int, shape: list) -> list:
    out = []
    for d in reversed(shape):
        out.append(k % d if d else 0)
        k = k // d if d else 0
    return out[::-1]


def check_bounds(st: SparseTensor, op: str) -> None:
    for n, r in enumerate(st._rows()):
        if any(not 0 <= i < d for i, d in zip(r, st._shape)):
            raise InvalidArgumentError(f"{op}: indices[{n}] = {r} is out of bounds: need 0 <= index < {st._shape}")


def check_order(st: SparseTensor, op: str) -> None:
    """Bounds, then strictly increasing row-major order (TF's validate_indices)."""
    check_bounds(st, op)
    rows = st._rows()
    for n in range(1, len(rows)):
        if rows[n] == rows[n - 1]:
            raise InvalidArgumentError(f"{op}: indices[{n}] = {rows[n]} is repeated")
        if rows[n] < rows[n - 1]:
            raise InvalidArgumentError(
                f"{op}: indices[{n}] = {rows[n]} is out of order. Many sparse ops "
                f"require sorted indices. Use `tf.sparse.reorder` to create a "
                f"correctly ordered copy."
            )


# -- conversion -----------------------------------------------------------------------------------


def from_dense(tensor, name=None) -> SparseTensor:
    """The non-zero (non-empty for strings) entries of a dense tensor, in row-major order."""
    t = _t(tensor)
    zero = b"" if t._dtype is D.string else False if t._dtype is D.bool_ else 0
    shape = list(t._h.shape)
    flat = A._host_flat(M.not_equal(t, zero))
    pos = [k for k, v in enumerate(flat) if v]
    rows = [_unlinear(k, shape) for k in pos]
    vals = _take(A.reshape(t, (-1,)), pos)
    return SparseTensor._make(rows, vals, shape)


def to_dense(sp_input, default_value=None, validate_indices: bool = True, name=None) -> Tensor:
    """Dense tensor with the values at their indices and ``default_value`` elsewhere."""
    st = _sp(sp_input, "sparse.to_dense")
    if validate_indices:
        check_order(st, "sparse.to_dense")
    else:
        check_bounds(st, "sparse.to_dense")
    shape = st._shape
    n = prod(shape)
    vals = st._values
    if default_value is None:
        default_value = b"" if vals._dtype is D.string else 0
    dv = A.reshape(_t(default_value, vals._dtype), (1,))
    if vals._dtype.kind in "fiu" and st._rows():  # numbers: scatter (no host list of every position)
        from ..ops.scatter import scatter_nd

        placed = scatter_nd(st._indices, vals, tuple(shape))
        if not any(A._host_flat(dv)):
            return placed
        hit = M.greater(scatter_nd(st._indices, A.ones_like(vals, D.int32), tuple(shape)), 0)
        return M.where(hit, placed, A.reshape(dv, ()))
    pos = {_linear(r, shape): k for k, r in enumerate(st._rows())}
    nv = vals._h.shape[0]
    ids = [pos.get(i, nv) for i in range(n)]
    return A.reshape(A.gather(A.concat([vals, dv], 0), _idx_tensor(ids)), tuple(shape))


def reorder(sp_input, name=None) -> SparseTensor:
    st = _sp(sp_input, "sparse.reorder")
    rows = st._rows()
    order = sorted(range(len(rows)), key=lambda k: rows[k])
    return SparseTensor._make([rows[k] for k in order], _take(st._values, order), st._shape)


def transpose(sp_input, perm=None, name=None) -> SparseTensor:
    st = _sp(sp_input, "sparse.transpose")
    r = len(st._shape)
    p = list(range(r))[::-1] if perm is None else [int(a) for a in perm]
    if sorted(p) != list(range(r)):
        raise InvalidArgumentError(f"sparse.transpose: perm {p} is not a permutation of {r} dims")
    moved = SparseTensor._make([[row[a] for a in p] for row in st._rows()], st._values, [st._shape[a] for a in p])
    return reorder(moved)


def reshape(sp_input, shape, name=None) -> SparseTensor:
    st = _sp(sp_input, "sparse.reshape")
    want = [int(d) for d in (shape.tolist() if hasattr(shape, "tolist") else shape)]
    n = prod(st._shape)
    if want.count(-1) > 1:
        raise InvalidArgumentError(f"sparse.reshape: only one dimension may be -1, got {want}")
    if -1 in want:
        known = prod(d for d in want if d != -1)
        if not known or n % known:
            raise InvalidArgumentError(
                f"sparse.reshape: cannot reshape dense shape {st._shape} ({n} elements) to {want}"
            )
        want[want.index(-1)] = n // known
    if prod(want) != n:
        raise InvalidArgumentError(
            f"sparse.reshape: cannot reshape dense shape {st._shape} ({n} elements) to {want} ({prod(want)} elements)"
        )
    rows = [_unlinear(_linear(r, st._shape), want) for r in st._rows()]
    return SparseTensor._make(rows, st._values, want)


def slice(sp_input, start, size, name=None) -> SparseTensor:
    """The entries inside the box ``[start, start + size)``, shifted to start at 0."""
    st = _sp(sp_input, "sparse.slice")
    b = [int(v) for v in (start.tolist() if hasattr(start, "tolist") else start)]
    z = [int(v) for v in (size.tolist() if hasattr(size, "tolist") else size)]
    if len(b) != len(st._shape) or len(z) != len(st._shape):
        raise InvalidArgumentError(f"sparse.slice: start {b} and size {z} need one entry per dim of {st._shape}")
    end = [min(s + k, d) for s, k, d in zip(b, z, st._shape)]
    out_shape = [max(e - s, 0) for s, e in zip(b, end)]
    keep = [k for k, r in enumerate(st._rows()) if all(s <= i < e for i, s, e in zip(r, b, end))]
    rows = [[i - s for i, s in zip(st._rows()[k], b)] for k in keep]
    return SparseTensor._make(rows, _take(st._values, keep), out_shape)


def concat(axis, sp_inputs, expand_nonconcat_dims: bool = False, name=None, expand_nonconcat_dim=None):
    """Join along ``axis``; the result's indices are in row-major order, as TF's."""
    sts = [_sp(s, "sparse.concat") for s in sp_inputs]
    if not sts:
        raise InvalidArgumentError("sparse.concat: sp_inputs must be a non-empty list")
    r = len(sts[0]._shape)
    ax = int(axis) + r if int(axis) < 0 else int(axis)
    expand = expand_nonconcat_dims or bool(expand_nonconcat_dim)
    for s in sts:
        if len(s._shape) != r:
            raise InvalidArgumentError(f"sparse.concat: all inputs must have rank {r}, got {s._shape}")
        if not expand and any(a != b for i, (a, b) in enumerate(zip(s._shape, sts[0]._shape)) if i != ax):
            raise InvalidArgumentError(
                f"sparse.concat: dense shapes {sts[0]._shape} and {s._shape} must match except in dimension {ax}"
            )
    shape = [max(s._shape[i] for s in sts) for i in range(r)]
    shape[ax] = sum(s._shape[ax] for s in sts)
    rows, off = [], 0
    for s in sts:
        rows.extend([v + off if i == ax else v for i, v in enumerate(row)] for row in s._rows())
        off += s._shape[ax]
    vals = A.concat([s._values for s in sts], 0)
    return reorder(SparseTensor._make(rows, vals, shape))


# -- arithmetic -----------------------------------------------------------------------------------


def add(a, b, threshold=0, name=None):
    """sparse + sparse -> sparse (duplicates summed, row-major); sparse + dense -> dense."""
    if not isinstance(a, SparseTensor):
        a, b = b, a
    _sp(a, "sparse.add")
    if not isinstance(b, SparseTensor):
        d = _t(b, a.dtype)
        if list(d._h.shape) != a._shape:
            raise InvalidArgumentError(
                f"sparse.add: dense shape {tuple(d._h.shape)} must equal the SparseTensor's {a._shape}"
            )
        check_bounds(a, "sparse.add")
        return M.add(d, to_dense(a, validate_indices=False) if not a._rows() or _no_dups(a) else _scatter_sum(a))
    if a._shape != b._shape:
        raise InvalidArgumentError(f"sparse.add: operands' dense shapes must match: {a._shape} and {b._shape}")
    check_bounds(a, "sparse.add")
    check_bounds(b, "sparse.add")
    rows = a._rows() + b._rows()
    keys = sorted({tuple(r) for r in rows})
    slot = {k: j for j, k in enumerate(keys)}
    ids = [slot[tuple(r)] for r in rows]
    vals = SEG.unsorted_segment_sum(A.concat([a._values, b._values], 0), convert(ids, D.int32), len(keys))
    out = SparseTensor._make([list(k) for k in keys], vals, a._shape)
    thr = float(threshold) if not isinstance(threshold, Tensor) else float(threshold)
    if thr > 0:
        keep = [k for k, v in enumerate(A._host_flat(M.abs(vals))) if v >= thr]
        out = SparseTensor._make([list(keys[k]) for k in keep], _take(vals, keep), a._shape)
    return out


def _no_dups(st: SparseTensor) -> bool:
    rows = st._rows()
    return len({tuple(r) for r in rows}) == len(rows)


def _scatter_sum(st: SparseTensor) -> Tensor:
    from ..ops.scatter import scatter_nd

    return scatter_nd(st._indices, st._values, tuple(st._shape))


def _grouped(st: SparseTensor, axis, keepdims: bool, op: str):
    """Segment ids of each value over the kept dims, their count, and the output shape."""
    r = len(st._shape)
    axes = list(range(r)) if axis is None else [axis] if isinstance(axis, int) else [int(a) for a in axis]
    axes = sorted({a + r if a < 0 else a for a in axes})
    if any(not 0 <= a < r for a in axes):
        raise InvalidArgumentError(f"{op}: axis {axis} out of range for rank {r}")
    keep = [i for i in range(r) if i not in axes]
    kshape = [st._shape[i] for i in keep]
    ids = [_linear([row[i] for i in keep], kshape) for row in st._rows()]
    out = [1 if i in axes else d for i, d in enumerate(st._shape)] if keepdims else kshape
    return ids, prod(kshape), out


def reduce_sum(sp_input, axis=None, keepdims=None, output_is_sparse: bool = False, name=None):
    st = _sp(sp_input, "sparse.reduce_sum")
    check_bounds(st, "sparse.reduce_sum")
    ids, n, out = _grouped(st, axis, bool(keepdims), "sparse.reduce_sum")
    res = A.reshape(SEG.unsorted_segment_sum(st._values, convert(ids, D.int32), n), tuple(out))
    return from_dense(res) if output_is_sparse else res


def reduce_max(sp_input, axis=None, keepdims=None, output_is_sparse: bool = False, name=None):
    """Max over the stored values only (implicit zeros are ignored); an empty group gives 0, as TF."""
    st = _sp(sp_input, "sparse.reduce_max")
    check_bounds(st, "sparse.reduce_max")
    ids, n, out = _grouped(st, axis, bool(keepdims), "sparse.reduce_max")
    idt = convert(ids, D.int32)
    mx = SEG.unsorted_segment_max(st._values, idt, n)
    count = SEG.unsorted_segment_sum(A.ones_like(st._values), idt, n)
    res = A.reshape(M.where(M.greater(count, 0), mx, A.zeros_like(mx)), tuple(out))
    return from_dense(res) if output_is_sparse else res


def retain(sp_input, to_retain, name=None) -> SparseTensor:
    st = _sp(sp_input, "sparse.retain")
    keep = A._host_flat(_t(to_retain, D.bool_))
    if len(keep) != len(st._rows()):
        raise InvalidArgumentError(f"sparse.retain: to_retain has {len(keep)} entries for {len(st._rows())} values")
    ks = [k for k, v in enumerate(keep) if v]
    return SparseTensor._make([st._rows()[k] for k in ks], _take(st._values, ks), st._shape)


def to_indicator(sp_input, vocab_size, name=None) -> Tensor:
    """bool ``[..., vocab_size]``: True where some stored id of that row equals the column."""
    st = _sp(sp_input, "sparse.to_indicator")
    if not st.dtype.is_integer:
        raise InvalidArgumentError(f"sparse.to_indicator: values must be integer ids, got {st.dtype.name}")
    v = int(vocab_size)
    lead = st._shape[:-1]
    ids = A._host_flat(st._values)
    hot = set()
    for row, i in zip(st._rows(), ids):
        if not 0 <= i < v:
            raise InvalidArgumentError(f"sparse.to_indicator: id {i} at {row} is out of range [0, {v})")
        hot.add(_linear(row[:-1], lead) * v + i)
    flat = [k in hot for k in range(prod(lead) * v)]
    return (
        convert(flat, D.bool_)
        if flat and len(lead) == 0
        else A.reshape(convert(flat, D.bool_) if flat else A.zeros((0,), D.bool_), tuple(lead) + (v,))
    )


def sparse_dense_matmul(sp_a, b, adjoint_a: bool = False, adjoint_b: bool = False, name=None) -> Tensor:
    """sparse [M, K] @ dense [K, N] (or dense @ sparse); gradients for the values and the dense."""
    if not isinstance(sp_a, SparseTensor):  # dense @ sparse = (sparse^T @ dense^T)^T
        return A.transpose(sparse_dense_matmul(b, A.transpose(_t(sp_a)), not adjoint_b, adjoint_a))
    st = sp_a
    if len(st._shape) != 2:
        raise InvalidArgumentError(f"sparse_dense_matmul: the SparseTensor must be 2-D, got {st._shape}")
    d = _t(b, st.dtype)
    if adjoint_b:
        d = A.transpose(d)
    if len(d._h.shape) != 2:
        raise InvalidArgumentError(f"sparse_dense_matmul: the dense operand must be 2-D, got {tuple(d._h.shape)}")
    rows_n, k = (st._shape[1], st._shape[0]) if adjoint_a else st._shape
    if d._h.shape[0] != k:
        raise InvalidArgumentError(
            f"sparse_dense_matmul: cannot multiply sparse {st._shape}"
            f"{' (adjoint)' if adjoint_a else ''} by dense {tuple(d._h.shape)}"
        )
    check_bounds(st, "sparse_dense_matmul")
    r, c = (1, 0) if adjoint_a else (0, 1)
    out_rows = [row[r] for row in st._rows()]
    cols = [row[c] for row in st._rows()]
    picked = A.gather(d, _idx_tensor(cols)) * A.expand_dims(st._values, 1)
    return SEG.unsorted_segment_sum(picked, convert(out_rows, D.int32), rows_n)


def map_values(op, *args, **kwargs):
    """``op`` on the values of the SparseTensor arguments (all with the same indices)."""
    sps = [a for a in list(args) + list(kwargs.values()) if isinstance(a, SparseTensor)]
    if not sps:
        raise InvalidArgumentError("sparse.map_values: no SparseTensor among the arguments")
    for s in sps[1:]:
        if s._rows() != sps[0]._rows() or s._shape != sps[0]._shape:
            raise InvalidArgumentError(
                "sparse.map_values: SparseTensor arguments must have the same indices and dense_shape"
            )
    a2 = [a.values if isinstance(a, SparseTensor) else a for a in args]
    k2 = {k: v.values if isinstance(v, SparseTensor) else v for k, v in kwargs.items()}
    return sps[0].with_values(op(*a2, **k2))


# -- core ops handed a SparseTensor ----------------------------------------------------------------

_ZERO_PRESERVING = {
    M.negative,
    M.abs,
    M.sign,
    M.square,
    M.sqrt,
    M.sin,
    M.tan,
    M.tanh,
    M.erf,
    M.expm1,
    M.log1p,
    M.floor,
    M.ceil,
    M.round,
}


def _cwise(op, st: SparseTensor, d, reverse: bool):
    """sparse (*|/) dense: the dense operand read at the stored indices; a sparse result."""
    name = op.__name__
    if reverse:
        raise TypeError(f"{name}: a dense / SparseTensor is not supported (TF neither); use tf.sparse.to_dense")
    t = (
        convert(d, st.dtype if isinstance(d, (int, float, bool, list, tuple)) else None, op=name)
        if not isinstance(d, Tensor)
        else d
    )
    if isinstance(d, Variable):
        t = d.value()
    if prod(t._h.shape) == 1:
        return st.with_values(op(st._values, A.reshape(t, ())))
    check_bounds(st, name)
    full = A.broadcast_to(t, tuple(st._shape))
    picked = A.gather_nd(full, st._indices) if st._rows() else A.zeros((0,), t._dtype)
    return st.with_values(op(st._values, picked))


def dispatch(op, args: tuple, kwargs: dict):
    if op in _ZERO_PRESERVING or op is M.cast:
        return args[0].with_values(op(args[0].values, *args[1:]))
    x, y = (args + (None, None))[:2]
    if op in (M.multiply, M.truediv):
        if isinstance(x, SparseTensor) and isinstance(y, SparseTensor):
            raise TypeError(
                f"{op.__name__}: two SparseTensors cannot be combined elementwise; convert one with tf.sparse.to_dense"
            )
        if op is M.multiply and not isinstance(x, SparseTensor):
            return _cwise(op, y, x, False)
        return _cwise(op, x, y, not isinstance(x, SparseTensor))
    raise TypeError(
        f"{getattr(op, '__name__', op)}: SparseTensor inputs are not supported; use tf.sparse.* or tf.sparse.to_dense"
    )


# -- rows, for tf.data (slicing, batching and unbatching SparseTensor components) -------------------


def take_rows(st: SparseTensor, rows: list) -> SparseTensor:
    """Rows ``rows`` of dimension 0, as a SparseTensor of ``len(rows)`` rows."""
    where: dict = {}
    for k, r in enumerate(st._rows()):
        where.setdefault(r[0], []).append(k)
    picks, idx = [], []
    for j, r in enumerate(rows):
        for k in where.get(r, []):
            picks.append(k)
            idx.append([j] + st._rows()[k][1:])
    return SparseTensor._make(idx, _take(st._values, picks), [len(rows)] + st._shape[1:])


def row(st: SparseTensor, i: int) -> SparseTensor:
    """Row ``i`` without its leading dimension."""
    one_row = take_rows(st, [i])
    return SparseTensor._make([r[1:] for r in one_row._rows()], one_row._values, st._shape[1:])


def stack_rows(sts: list) -> SparseTensor:
    """SparseTensors of one rank as rows of a new dimension 0 (dense shape: the largest of each dim)."""
    r = len(sts[0]._shape)
    if any(len(s._shape) != r for s in sts):
        raise InvalidArgumentError(f"batch: SparseTensor components of different ranks: {[s._shape for s in sts]}")
    shape = [len(sts)] + [max(s._shape[i] for s in sts) for i in range(r)]
    idx = [[j] + row_ for j, s in enumerate(sts) for row_ in s._rows()]
    return SparseTensor._make(idx, A.concat([s._values for s in sts], 0), shape)


def embedding_lookup_sparse(
    params, sp_ids, sp_weights=None, combiner: str = "mean", max_norm=None, name=None, allow_fast_lookup=False
) -> Tensor:
    """``tf.nn.embedding_lookup_sparse``: per row of ``sp_ids`` ([d0, d1]) the weighted sum / mean /
    sqrt-n of the embeddings of its ids -> ``[d0, dim...]``; an empty row gives zeros."""
    op = "embedding_lookup_sparse"
    ids = _sp(sp_ids, op)
    if combiner not in ("sum", "mean", "sqrtn"):
        raise InvalidArgumentError(f"{op}: combiner must be 'sum', 'mean' or 'sqrtn', got {combiner!r}")
    if sp_weights is not None:
        w = _sp(sp_weights, op)
        if w._rows() != ids._rows():
            raise InvalidArgumentError(f"{op}: sp_weights must have the same indices as sp_ids")
    seg = convert([r[0] for r in ids._rows()], D.int32)
    emb = SEG.embedding_lookup(params, ids._values, max_norm=max_norm)
    wv = M.cast(sp_weights._values, emb._dtype) if sp_weights is not None else A.ones((emb._h.shape[0],), emb._dtype)
    lift = (emb._h.shape[0],) + (1,) * (len(emb._h.shape) - 1)
    total = SEG.unsorted_segment_sum(emb * A.reshape(wv, lift), seg, ids._shape[0])
    if combiner == "sum":
        return total
    denom = SEG.unsorted_segment_sum(wv if combiner == "mean" else wv * wv, seg, ids._shape[0])
    if combiner == "sqrtn":
        denom = M.sqrt(denom)
    return M.div_no_nan(total, A.reshape(denom, (ids._shape[0],) + (1,) * (len(emb._h.shape) - 1)))


# -- more tf.sparse ------------------------------------------------------------------------------


def expand_dims(sp_input, axis=None, name=None) -> SparseTensor:
    st = _sp(sp_input, "sparse.expand_dims")
    r = len(st._shape)
    a = -1 if axis is None else int(axis)
    a = a + r + 1 if a < 0 else a
    if not 0 <= a <= r:
        raise InvalidArgumentError(f"sparse.expand_dims: axis {axis} out of range for rank {r}")
    return SparseTensor._make(
        [row[:a] + [0] + row[a:] for row in st._rows()], st._values, st._shape[:a] + [1] + st._shape[a:]
    )


def eye(num_rows, num_columns=None, dtype=D.float32, name=None) -> SparseTensor:
    n = int(num_rows)
    m = n if num_columns is None else int(num_columns)
    k = min(n, m)
    return SparseTensor._make([[i, i] for i in range(k)], A.ones((k,), D.as_dtype(dtype)), [n, m])


def fill_empty_rows(sp_input, default_value, name=None):
    """(SparseTensor with ``default_value`` at [r, 0...] of each empty row, bool empty-row indicator)."""
    st = _sp(sp_input, "sparse.fill_empty_rows")
    n = st._shape[0]
    present = {r[0] for r in st._rows()}
    empty = [i not in present for i in range(n)]
    extra = [[i] + [0] * (len(st._shape) - 1) for i in range(n) if empty[i]]
    dv = A.reshape(_t(default_value, st.dtype), (1,))
    vals = A.concat([st._values] + [dv] * len(extra), 0) if extra else st._values
    out = reorder(SparseTensor._make(st._rows() + extra, vals, st._shape))
    return out, convert(empty, D.bool_) if empty else A.zeros((0,), D.bool_)


def _elementwise_pair(a, b, op, name: str) -> SparseTensor:
    a, b = _sp(a, name), _sp(b, name)
    if a._shape != b._shape:
        raise InvalidArgumentError(f"{name}: dense shapes must match: {a._shape} and {b._shape}")
    keys = sorted({tuple(r) for r in a._rows()} | {tuple(r) for r in b._rows()})
    da, db = to_dense(reorder(a)), to_dense(reorder(b))
    idx = convert([list(k) for k in keys], D.int64) if keys else A.zeros((0, len(a._shape)), D.int64)
    vals = op(A.gather_nd(da, idx), A.gather_nd(db, idx)) if keys else a._values[0:0]
    return SparseTensor._make([list(k) for k in keys], vals, a._shape)


def maximum(sp_a, sp_b, name=None) -> SparseTensor:
    """Elementwise max over the union of the stored positions (implicit zeros take part), as TF."""
    return _elementwise_pair(sp_a, sp_b, M.maximum, "sparse.maximum")


def minimum(sp_a, sp_b, name=None) -> SparseTensor:
    return _elementwise_pair(sp_a, sp_b, M.minimum, "sparse.minimum")


def split(sp_input=None, num_split=None, axis=None, name=None, keyword_required=None) -> list:
    """``num_split`` pieces along ``axis``; the first ``size % num_split`` pieces are one larger, as TF."""
    st = _sp(sp_input, "sparse.split")
    r = len(st._shape)
    ax = int(axis) + r if int(axis) < 0 else int(axis)
    k = int(num_split)
    d = st._shape[ax]
    sizes = [d // k + (1 if i < d % k else 0) for i in range(k)]
    out, start = [], 0
    for z in sizes:
        b = [0] * r
        b[ax] = start
        size = list(st._shape)
        size[ax] = z
        out.append(slice(st, b, size))
        start += z
    return out

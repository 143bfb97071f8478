"""``tf.RaggedTensor``: rows of different lengths, as values plus row partitions.

A ragged tensor is ``values`` (a Tensor, or another RaggedTensor for more ragged
dimensions) cut into rows by ``row_splits``. The splits are kept as a host list of ints:
every structural op (indexing, concat, to_tensor) is index bookkeeping done once on the
host, and the values move through the ordinary ops (gather, strided slice, concat), so
gradients flow to ``flat_values`` and strings work as any other dtype.
"""

from __future__ import annotations

import operator
import sys

from .. import dtypes as D
from ..composite import CompositeTensor, ElementwiseOps
from ..errors import InvalidArgumentError, UnimplementedError
from ..shape import TensorShape, prod
from ..tensor import Tensor, Variable, convert

_SPLIT_DTYPES = (D.int32, D.int64)


def _tensor(x, op: str, dtype=None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, Variable):
        return x.value()
    return convert(x, dtype, op=op)


def _host_ints(x, op: str, what: str) -> tuple[list, D.DType]:
    """A 1-D integer argument as a Python list, and its dtype (int64 for Python lists)."""
    if isinstance(x, (list, tuple, range)):
        vals = list(x)
        if not all(isinstance(v, int) or hasattr(v, "__index__") for v in vals):
            raise InvalidArgumentError(f"{op}: {what} must be integers, got {vals!r:.80}")
        return [operator.index(v) for v in vals], D.int64
    t = _tensor(x, op)
    if getattr(t._h, "symbolic", False):
        raise UnimplementedError(
            f"{op}: {what} must be known when the RaggedTensor is built; inside "
            f"tf.function pass the RaggedTensor in as an argument instead"
        )
    if not t._dtype.is_integer:
        raise InvalidArgumentError(f"{op}: {what} must be an integer tensor, got {t._dtype.name}")
    if len(t._h.shape) != 1:
        raise InvalidArgumentError(f"{op}: {what} must be 1-D, got shape {tuple(t._h.shape)}")
    return [int(v) for v in t.tolist()], (t._dtype if t._dtype in _SPLIT_DTYPES else D.int64)


def _as_values(values, op: str):
    if isinstance(values, RaggedTensor):
        return values
    t = _tensor(values, op)
    if not t._h.shape:
        raise InvalidArgumentError(f"{op}: values must have rank >= 1, got a scalar")
    return t


def _nrows(values) -> int:
    return values.nrows_int() if isinstance(values, RaggedTensor) else values._h.shape[0]


def _check_splits(s: list, nvals: int, op: str) -> None:
    if not s or s[0] != 0:
        raise InvalidArgumentError(f"{op}: row_splits must start with 0, got {s[:8]}")
    for a, b in zip(s, s[1:]):
        if b < a:
            raise InvalidArgumentError(f"{op}: row_splits must be sorted in ascending order, got {s[:16]}")
    if s[-1] != nvals:
        raise InvalidArgumentError(
            f"{op}: the last row split ({s[-1]}) must equal the number of "
            f"values ({nvals}); row lengths {[b - a for a, b in zip(s, s[1:])][:16]}"
        )


def _uniform_splits(nrows: int, width: int) -> list:
    return list(range(0, nrows * width + 1, width)) if width else [0] * (nrows + 1)


class RaggedTensor(ElementwiseOps, CompositeTensor):
    """Rows of ``values`` cut at ``row_splits``; ``values`` may be ragged itself."""

    __slots__ = ("_values", "_s", "_sdt", "__weakref__")
    __array_priority__ = 101
    __hash__ = None

    def __init__(self, *args, **kwargs):
        raise TypeError("RaggedTensors are built with tf.ragged.constant or the RaggedTensor.from_* factory methods")

    @classmethod
    def _make(cls, values, splits: list, sdt: D.DType = D.int64) -> "RaggedTensor":
        rt = object.__new__(cls)
        rt._values, rt._s, rt._sdt = values, splits, sdt
        return rt

    # -- factories -------------------------------------------------------------------------
    @classmethod
    def from_row_splits(cls, values, row_splits, name=None, validate: bool = True) -> "RaggedTensor":
        op = "RaggedTensor.from_row_splits"
        v = _as_values(values, op)
        s, sdt = _host_ints(row_splits, op, "row_splits")
        _check_splits(s, _nrows(v), op)
        return cls._make(v, s, sdt)

    @classmethod
    def from_row_lengths(cls, values, row_lengths, name=None, validate: bool = True) -> "RaggedTensor":
        op = "RaggedTensor.from_row_lengths"
        v = _as_values(values, op)
        lengths, sdt = _host_ints(row_lengths, op, "row_lengths")
        if any(n < 0 for n in lengths):
            raise InvalidArgumentError(f"{op}: row_lengths must be non-negative, got {lengths[:16]}")
        s = [0]
        for n in lengths:
            s.append(s[-1] + n)
        if s[-1] != _nrows(v):
            raise InvalidArgumentError(
                f"{op}: row_lengths {lengths[:16]} sum to {s[-1]}, but there are {_nrows(v)} values"
            )
        return cls._make(v, s, sdt)

    @classmethod
    def from_value_rowids(cls, values, value_rowids, nrows=None, name=None, validate: bool = True) -> "RaggedTensor":
        op = "RaggedTensor.from_value_rowids"
        v = _as_values(values, op)
        ids, sdt = _host_ints(value_rowids, op, "value_rowids")
        if len(ids) != _nrows(v):
            raise InvalidArgumentError(f"{op}: {len(ids)} value_rowids for {_nrows(v)} values")
        if any(b < a for a, b in zip(ids, ids[1:])) or (ids and ids[0] < 0):
            raise InvalidArgumentError(f"{op}: value_rowids must be sorted and non-negative, got {ids[:16]}")
        n = (ids[-1] + 1 if ids else 0) if nrows is None else int(nrows)
        if ids and ids[-1] >= n:
            raise InvalidArgumentError(f"{op}: value_rowids {ids[-1]} is out of range for nrows={n}")
        counts = [0] * n
        for i in ids:
            counts[i] += 1
        return cls.from_row_lengths(v, counts).with_row_splits_dtype(sdt)

    @classmethod
    def from_row_starts(cls, values, row_starts, name=None, validate: bool = True) -> "RaggedTensor":
        v = _as_values(values, "RaggedTensor.from_row_starts")
        s, sdt = _host_ints(row_starts, "RaggedTensor.from_row_starts", "row_starts")
        return cls.from_row_splits(v, s + [_nrows(v)]).with_row_splits_dtype(sdt)

    @classmethod
    def from_row_limits(cls, values, row_limits, name=None, validate: bool = True) -> "RaggedTensor":
        v = _as_values(values, "RaggedTensor.from_row_limits")
        s, sdt = _host_ints(row_limits, "RaggedTensor.from_row_limits", "row_limits")
        return cls.from_row_splits(v, [0] + s).with_row_splits_dtype(sdt)

    @classmethod
    def from_uniform_row_length(
        cls, values, uniform_row_length, nrows=None, name=None, validate: bool = True
    ) -> "RaggedTensor":
        op = "RaggedTensor.from_uniform_row_length"
        v = _as_values(values, op)
        w, nv = int(uniform_row_length), _nrows(v)
        n = (nv // w if w else 0) if nrows is None else int(nrows)
        if n * w != nv:
            raise InvalidArgumentError(f"{op}: {nv} values cannot be cut into rows of length {w}")
        return cls._make(v, _uniform_splits(n, w))

    @classmethod
    def from_nested_row_splits(cls, flat_values, nested_row_splits, name=None, validate: bool = True) -> "RaggedTensor":
        out = flat_values
        for s in reversed(list(nested_row_splits)):
            out = cls.from_row_splits(out, s)
        return out

    @classmethod
    def from_nested_row_lengths(
        cls, flat_values, nested_row_lengths, name=None, validate: bool = True
    ) -> "RaggedTensor":
        out = flat_values
        for n in reversed(list(nested_row_lengths)):
            out = cls.from_row_lengths(out, n)
        return out

    @classmethod
    def from_nested_value_rowids(
        cls, flat_values, nested_value_rowids, nested_nrows=None, name=None, validate: bool = True
    ) -> "RaggedTensor":
        ids = list(nested_value_rowids)
        nr = list(nested_nrows) if nested_nrows is not None else [None] * len(ids)
        out = flat_values
        for i, n in reversed(list(zip(ids, nr))):
            out = cls.from_value_rowids(out, i, n)
        return out

    @classmethod
    def from_tensor(
        cls, tensor, lengths=None, padding=None, ragged_rank: int = 1, name=None, row_splits_dtype=D.int64
    ) -> "RaggedTensor":
        """Rows of a dense tensor, cut to ``lengths`` or with trailing ``padding`` dropped."""
        from ..ops import array as A
        from ..ops import math as M
        from ..ops import reduce as R

        op = "RaggedTensor.from_tensor"
        t = _tensor(tensor, op)
        shape = tuple(t._h.shape)
        if not 1 <= ragged_rank < len(shape):
            raise InvalidArgumentError(f"{op}: ragged_rank must be in [1, rank) for shape {shape}, got {ragged_rank}")
        sdt = D.as_dtype(row_splits_dtype)
        if ragged_rank > 1:  # the outer dims become uniform partitions of the innermost rows
            if lengths is not None or padding is not None:
                raise UnimplementedError(f"{op}: lengths/padding with ragged_rank > 1 is not supported")
            inner = cls.from_tensor(A.reshape(t, (-1,) + shape[ragged_rank:]), row_splits_dtype=sdt)
            for k in range(ragged_rank - 1, 0, -1):
                inner = cls._make(inner, _uniform_splits(prod(shape[:k]), shape[k]), sdt)
            return inner
        n, w = shape[0], shape[1]
        if lengths is not None and padding is not None:
            raise InvalidArgumentError(f"{op}: specify lengths or padding, not both")
        if lengths is not None:
            lens, _ = _host_ints(lengths, op, "lengths")
            if len(lens) != n:
                raise InvalidArgumentError(f"{op}: {len(lens)} lengths for {n} rows (shape {shape})")
            lens = [min(max(k, 0), w) for k in lens]
        elif padding is not None:
            pad = A.broadcast_to(M.equal(t, M.cast(_tensor(padding, op), t._dtype)), shape)
            if len(shape) > 2:
                pad = R.reduce_all(pad, list(range(2, len(shape))))
            rows = pad.numpy().tolist()
            lens = []
            for r in rows:
                k = w
                while k and r[k - 1]:
                    k -= 1
                lens.append(k)
        else:
            lens = [w] * n
        idx = [i * w + j for i in range(n) for j in range(lens[i])]
        flat = A.reshape(t, (n * w,) + shape[2:])
        s = [0]
        for k in lens:
            s.append(s[-1] + k)
        return cls._make(_take(flat, idx), s, sdt)

    @classmethod
    def from_sparse(cls, st_input, name=None, row_splits_dtype=D.int64) -> "RaggedTensor":
        """A 2-D SparseTensor (indices in row-major order) as rows of its values."""
        op = "RaggedTensor.from_sparse"
        shape = [int(d) for d in st_input.dense_shape.tolist()]
        if len(shape) != 2:
            raise InvalidArgumentError(f"{op}: the SparseTensor must be 2-D, got dense_shape {shape}")
        idx = st_input.indices.tolist()
        for a, b in zip(idx, idx[1:]):
            if b[0] < a[0] or (b[0] == a[0] and b[1] <= a[1]):
                raise InvalidArgumentError(
                    f"{op}: SparseTensor indices must be in row-major order; {a} is followed by {b}"
                )
        counts = [0] * shape[0]
        for r, _ in idx:
            counts[r] += 1
        return cls.from_row_lengths(st_input.values, counts).with_row_splits_dtype(D.as_dtype(row_splits_dtype))

    # -- structure ---------------------------------------------------------------------------
    values = property(lambda self: self._values)
    dtype = property(lambda self: self.flat_values._dtype)
    row_splits_dtype = property(lambda self: self._sdt)

    @property
    def flat_values(self) -> Tensor:
        v = self._values
        while isinstance(v, RaggedTensor):
            v = v._values
        return v

    @property
    def ragged_rank(self) -> int:
        return 1 + (self._values.ragged_rank if isinstance(self._values, RaggedTensor) else 0)

    @property
    def row_splits(self) -> Tensor:
        return convert(self._s, self._sdt, op="row_splits")

    @property
    def nested_row_splits(self) -> tuple:
        return tuple(convert(s, self._sdt) for s in self._nested())

    def _nested(self) -> list:
        """The host splits of every ragged level, outermost first."""
        out, v = [], self
        while isinstance(v, RaggedTensor):
            out.append(v._s)
            v = v._values
        return out

    @property
    def shape(self) -> TensorShape:
        inner = tuple(self.flat_values._h.shape[1:])
        return TensorShape((len(self._s) - 1,) + (None,) * self.ragged_rank + inner)

    def get_shape(self) -> TensorShape:
        return self.shape

    ndim = property(lambda self: self.shape.rank)

    def nrows_int(self) -> int:
        return len(self._s) - 1

    def nrows(self, out_type=None, name=None) -> Tensor:
        return convert(self.nrows_int(), D.as_dtype(out_type) if out_type else self._sdt)

    def _lengths(self) -> list:
        s = self._s
        return [b - a for a, b in zip(s, s[1:])]

    def row_lengths(self, axis: int = 1, name=None):
        """Lengths of the rows (axis 1), or of a deeper ragged dimension as a RaggedTensor."""
        if axis == 1:
            return convert(self._lengths(), self._sdt)
        if axis < 1 or axis > self.ragged_rank:
            raise InvalidArgumentError(
                f"row_lengths: axis {axis} must be a ragged dimension in [1, {self.ragged_rank}]"
            )
        return self.with_values(self._values.row_lengths(axis - 1))

    def nested_row_lengths(self, name=None) -> tuple:
        return tuple(convert([b - a for a, b in zip(s, s[1:])], self._sdt) for s in self._nested())

    def row_starts(self, name=None) -> Tensor:
        return convert(self._s[:-1], self._sdt)

    def row_limits(self, name=None) -> Tensor:
        return convert(self._s[1:], self._sdt)

    def _rowids(self) -> list:
        return [i for i, n in enumerate(self._lengths()) for _ in range(n)]

    def value_rowids(self, name=None) -> Tensor:
        return convert(self._rowids(), self._sdt)

    def nested_value_rowids(self, name=None) -> tuple:
        out, v = [], self
        while isinstance(v, RaggedTensor):
            out.append(v.value_rowids())
            v = v._values
        return tuple(out)

    def bounding_shape(self, axis=None, name=None, out_type=None) -> Tensor:
        dims = self._bounding()
        dt = D.as_dtype(out_type) if out_type else self._sdt
        if axis is None:
            return convert(dims, dt)
        return convert([dims[a] for a in axis] if isinstance(axis, (list, tuple)) else dims[axis], dt)

    def _bounding(self) -> list:
        dims, v = [self.nrows_int()], self
        while isinstance(v, RaggedTensor):
            dims.append(max(v._lengths(), default=0))
            v = v._values
        return dims + list(v._h.shape[1:])

    def with_values(self, new_values) -> "RaggedTensor":
        v = _as_values(new_values, "with_values")
        if _nrows(v) != self._s[-1]:
            raise InvalidArgumentError(
                f"with_values: {_nrows(v)} rows of values for row_splits ending at {self._s[-1]}"
            )
        return RaggedTensor._make(v, self._s, self._sdt)

    def with_flat_values(self, new_values) -> "RaggedTensor":
        if isinstance(self._values, RaggedTensor):
            return self.with_values(self._values.with_flat_values(new_values))
        return self.with_values(new_values)

    def with_row_splits_dtype(self, dtype) -> "RaggedTensor":
        dt = D.as_dtype(dtype)
        if dt not in _SPLIT_DTYPES:
            raise InvalidArgumentError(f"row_splits_dtype must be int32 or int64, got {dt.name}")
        v = self._values.with_row_splits_dtype(dt) if isinstance(self._values, RaggedTensor) else self._values
        return RaggedTensor._make(v, self._s, dt)

    def merge_dims(self, outer_axis: int, inner_axis: int):
        """Merge dimensions outer_axis..inner_axis into one (a Tensor when no ragged dim is left)."""
        r = self.shape.rank
        o = outer_axis + r if outer_axis < 0 else outer_axis
        i = inner_axis + r if inner_axis < 0 else inner_axis
        if not 0 <= o <= i < r:
            raise InvalidArgumentError(
                f"merge_dims: need 0 <= outer_axis <= inner_axis < rank {r}, got ({outer_axis}, {inner_axis})"
            )
        return _merge(self, o, i)

    # -- conversion --------------------------------------------------------------------------
    def to_tensor(self, default_value=None, name=None, shape=None) -> Tensor:
        """Dense, padded with ``default_value`` (0 / b'') up to the bounding or given shape."""
        from ..ops import array as A

        flat = self.flat_values
        inner = tuple(flat._h.shape[1:])
        k = self.ragged_rank
        dims = self._bounding()
        if shape is not None:
            want = list(TensorShape(shape).as_list())
            if len(want) != len(dims):
                raise InvalidArgumentError(f"to_tensor: shape {want} must have rank {len(dims)}")
            for j, w in enumerate(want[k + 1 :], k + 1):
                if w is not None and w != dims[j]:
                    raise UnimplementedError(
                        f"to_tensor: changing the uniform inner dim {j} ({dims[j]} -> {w}) is not supported"
                    )
            dims = [d if w is None else w for d, w in zip(dims, want)]
        if default_value is None:
            default_value = b"" if flat._dtype is D.string else 0
        dv = (
            convert(default_value, flat._dtype, op="to_tensor")
            if not isinstance(default_value, Tensor)
            else default_value
        )
        if len(dv._h.shape) > len(inner):
            raise InvalidArgumentError(
                f"to_tensor: default_value shape {tuple(dv._h.shape)} must broadcast to the inner shape {inner}"
            )
        pad = A.broadcast_to(
            A.reshape(dv, (1,) * (1 + len(inner) - len(dv._h.shape)) + tuple(dv._h.shape)), (1,) + inner
        )
        nv = flat._h.shape[0]
        idx = _dense_index(self._nested(), dims[: k + 1], nv)
        ext = A.concat([flat, pad], 0)
        out = A.gather(ext, convert(idx, D.int32 if nv < 2**31 else D.int64))
        return A.reshape(out, tuple(dims[: k + 1]) + inner)

    def to_list(self) -> list:
        v = self.flat_values.numpy()
        items = v.tolist() if hasattr(v, "tolist") else list(v)
        for s in reversed(self._nested()):
            items = [items[a:b] for a, b in zip(s, s[1:])]
        return items

    def numpy(self):
        """A numpy object array of rows (each a numpy array), as TF; the nested list without numpy."""
        np = sys.modules.get("numpy")
        if np is None:
            return self.to_list()
        out = np.empty(self.nrows_int(), dtype=object)
        for i in range(self.nrows_int()):
            row = self[i]
            out[i] = row.numpy()
        return out

    def to_sparse(self, name=None):
        from ..sparse.tensor import SparseTensor

        flat = self.flat_values
        coords = [[i] for i in range(self.nrows_int())]
        for s in self._nested():
            coords = [c + [j] for c, a, b in zip(coords, s, s[1:]) for j in range(b - a)]
        inner = tuple(flat._h.shape[1:])
        if inner:  # dense inner dims become more index columns
            from itertools import product as iproduct

            coords = [c + list(p) for c in coords for p in iproduct(*(range(d) for d in inner))]
        from ..ops import array as A

        vals = A.reshape(flat, (-1,))
        dims = self._bounding()
        return SparseTensor(
            convert(coords, D.int64) if coords else A.zeros((0, len(dims)), D.int64), vals, convert(dims, D.int64)
        )

    # -- indexing ----------------------------------------------------------------------------
    def __getitem__(self, key):
        from .indexing import getitem

        return getitem(self, key)

    def __iter__(self):
        return iter([self[i] for i in range(self.nrows_int())])

    def __bool__(self):
        raise TypeError("The truth value of a RaggedTensor is ambiguous")

    # operators: composite.ElementwiseOps, through the core ops, which hand RaggedTensors to ragged/ops.py

    def _dispatch(self, op, args: tuple, kwargs: dict):
        from .ops import dispatch

        return dispatch(op, args, kwargs)

    def __repr__(self):
        if getattr(self.flat_values._h, "symbolic", False):  # inside a trace: no values to show
            return f"tf.RaggedTensor(values={self._values}, row_splits={self._s})"
        return f"<tf.RaggedTensor {self.to_list()!r}>"

    __str__ = __repr__

    def __reduce__(self):
        return (_rebuild, (self.flat_values, self._nested(), self._sdt.name))


def _rebuild(flat, nested, sdt):
    rt = flat
    for s in reversed(nested):
        rt = RaggedTensor._make(rt, s, D.as_dtype(sdt))
    return rt


def _take(values, idx: list):
    """Rows ``idx`` of a Tensor or RaggedTensor (a slice when contiguous: cheaper, same gradient)."""
    if isinstance(values, RaggedTensor):
        return _take_rows(values, idx)
    from ..ops import array as A

    n = len(idx)
    if n and idx[-1] - idx[0] == n - 1 and idx == list(range(idx[0], idx[0] + n)):
        return values[idx[0] : idx[0] + n]
    if not n:
        return values[0:0]
    return A.gather(values, convert(idx, D.int32 if max(idx) < 2**31 else D.int64))


def _take_rows(rt: RaggedTensor, rows: list) -> RaggedTensor:
    s = rt._s
    idx, splits = [], [0]
    for r in rows:
        idx.extend(range(s[r], s[r + 1]))
        splits.append(len(idx))
    return RaggedTensor._make(_take(rt._values, idx), splits, rt._sdt)


def _dense_index(nested: list, dims: list, nv: int) -> list:
    """For each position of the padded ragged dims, its flat value index, or nv for padding."""
    n0 = len(nested[0]) - 1
    cur = [r if r < n0 else -1 for r in range(dims[0])]
    for splits, width in zip(nested, dims[1:]):
        nxt = []
        for r in cur:
            if r < 0:
                nxt.extend([-1] * width)
            else:
                a, b = splits[r], splits[r + 1]
                nxt.extend(a + j if a + j < b else -1 for j in range(width))
        cur = nxt
    return [nv if i < 0 else i for i in cur]


def _merge(x, o: int, i: int):
    """merge_dims on a Tensor or RaggedTensor with normalised axes."""
    from ..ops import array as A

    if o == i:
        return x
    if isinstance(x, Tensor):
        s = tuple(x._h.shape)
        return A.reshape(x, s[:o] + (prod(s[o : i + 1]),) + s[i + 1 :])
    if o == 0:  # rows and the next dim merge into values
        return _merge(x._values, 0, i - 1)
    if o >= 2:
        return x.with_values(_merge(x._values, o - 1, i - 1))
    merged = _merge(x._values, 0, i - 1)
    return RaggedTensor._make(merged, [_boundary(x._values, b, i - 1) for b in x._s], x._sdt)


def _boundary(v, b: int, depth: int) -> int:
    """Where row boundary ``b`` of ``v`` lands once dims 0..depth of ``v`` are merged."""
    for k in range(depth):
        if not isinstance(v, RaggedTensor):  # the remaining merged dims are dense: multiply
            return b * prod(v._h.shape[1 : depth - k + 1])
        b, v = v._s[b], v._values
    return b

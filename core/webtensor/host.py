"""Host data without numpy: packing Python values into buffers, and ``HostArray``.

``Tensor.numpy()`` returns a numpy array where numpy imports and a ``HostArray``
(shape, dtype, ``tolist()``, indexing) where it does not, as in the page.
"""

from __future__ import annotations

import array
import struct
import sys

from . import dtypes as D
from .shape import prod

_ARRAY_FMT = {"f": "f", "d": "d", "i": "i", "q": "q", "B": "B", "?": "B", "I": "I"}


def numpy_module():
    """numpy if it is importable here, else None (decided once).

    ``import`` rather than a ``sys.modules`` lookup: another thread may be importing
    numpy right now, and the import lock makes us wait for the finished module."""
    if _NUMPY:
        return _NUMPY[0]
    try:
        import numpy as np
    except ImportError:
        np = None
    _NUMPY.append(np)
    return np


_NUMPY: list = []  # [numpy or None] once decided


def pack(flat: list, dtype: D.DType) -> memoryview:
    """A flat list of Python scalars -> little-endian bytes of ``dtype``."""
    if dtype.fmt == "e":
        return memoryview(struct.pack(f"<{len(flat)}e", *flat))
    code = _ARRAY_FMT[dtype.fmt]
    if dtype.kind == "f":
        flat = [float(v) for v in flat]
    elif dtype.kind == "b":
        flat = [1 if v else 0 for v in flat]
    else:
        flat = [int(v) for v in flat]
    a = array.array(code, flat)
    if sys.byteorder != "little":
        a.byteswap()
    return memoryview(a).cast("B")


def unpack_array(buf, dtype: D.DType):
    """Little-endian bytes -> a flat ``array.array`` (a list for float16, which has no code)."""
    buf = memoryview(buf).cast("B")
    if dtype.fmt == "e":
        return list(struct.unpack(f"<{len(buf) // 2}e", buf))
    a = array.array(_ARRAY_FMT[dtype.fmt])
    a.frombytes(buf)
    if sys.byteorder != "little":
        a.byteswap()
    return a


def unpack(buf, dtype: D.DType) -> list:
    """Little-endian bytes -> flat list of Python scalars."""
    return _as_list(unpack_array(buf, dtype), dtype)


def _as_list(flat, dtype: D.DType) -> list:
    if dtype.kind == "b":
        return [bool(v) for v in flat]
    return flat.tolist() if isinstance(flat, array.array) else list(flat)


def nest_list(flat: list, shape: tuple):
    """Flat list -> nested lists of ``shape`` (a scalar for shape ())."""
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return list(flat)
    step = prod(shape[1:])
    return [nest_list(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def to_host(buf, shape: tuple, dtype: D.DType):
    """Bytes from a backend -> numpy array (numpy scalar for shape ()) or HostArray."""
    np = numpy_module()
    if np is not None:
        a = np.frombuffer(buf, dtype=dtype.name).reshape(shape).copy()
        return a[()] if not shape else a
    return HostArray(unpack_array(buf, dtype), shape, dtype)


class HostArray:
    """A small read-only ndarray stand-in for pages without numpy.

    The values stay in one flat ``array.array`` (bytes, not Python objects), so
    handing a HostArray back to ``tf.constant`` is a single buffer copy. A rank-0
    HostArray stands for numpy's scalar: ``item()``, ``float()``/``int()``, arithmetic,
    comparisons and ``format`` act on its value."""

    __slots__ = ("_flat", "shape", "dtype")

    def __init__(self, flat, shape: tuple, dtype: D.DType):
        self._flat, self.shape, self.dtype = flat, tuple(shape), dtype

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: len(self._flat))

    def tolist(self):
        return nest_list(_as_list(self._flat, self.dtype), self.shape)

    def buffer(self) -> memoryview:
        """The values as little-endian bytes of ``dtype``."""
        if isinstance(self._flat, array.array) and sys.byteorder == "little":
            return memoryview(self._flat).cast("B")
        return pack(list(self._flat), self.dtype)

    def _scalar(self, v):
        return bool(v) if self.dtype.kind == "b" else v

    def item(self):
        if len(self._flat) != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        return self._scalar(self._flat[0])

    def flatten(self):
        return HostArray(self._flat[:], (len(self._flat),), self.dtype)

    ravel = flatten

    def reshape(self, *shape):
        from .shape import as_shape_tuple

        shape = as_shape_tuple(shape[0] if len(shape) == 1 else shape)
        if -1 in shape:
            known = prod(d for d in shape if d != -1)
            shape = tuple(len(self._flat) // max(known, 1) if d == -1 else d for d in shape)
        if prod(shape) != len(self._flat):
            raise ValueError(f"cannot reshape array of size {len(self._flat)} into shape {shape}")
        return HostArray(self._flat, shape, self.dtype)

    def astype(self, dtype):
        dt = D.as_dtype(dtype)
        conv = float if dt.kind == "f" else bool if dt.kind == "b" else int
        return HostArray([conv(v) for v in _as_list(self._flat, self.dtype)], self.shape, dt)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __getitem__(self, i):
        if isinstance(i, tuple) and len(i) == 1:
            i = i[0]
        if isinstance(i, int):
            n = self.shape[0]
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis 0 with size {n}")
            i %= n
            step = prod(self.shape[1:])
            if len(self.shape) == 1:
                return self._scalar(self._flat[i])
            return HostArray(self._flat[i * step : (i + 1) * step], self.shape[1:], self.dtype)
        if isinstance(i, tuple) and all(isinstance(j, int) for j in i):
            out = self
            for j in i:
                out = out[j]
            return out
        return _nested_index(self.tolist(), i)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def _reduce(self, name: str, fn, axis, out_dtype=None):
        """``fn`` over a list of values along ``axis`` (None: all values)."""
        vals = _as_list(self._flat, self.dtype)
        dt = out_dtype or self.dtype
        if axis is None:
            return HostArray([fn(vals)], (), dt)
        r = len(self.shape)
        if not isinstance(axis, int) or not -r <= axis < max(r, 1):
            raise ValueError(f"{name}: axis {axis!r} is out of bounds for an array of rank {r}")
        axis %= r
        n, inner = self.shape[axis], prod(self.shape[axis + 1 :])
        out = [
            fn([vals[(o * n + k) * inner + i] for k in range(n)])
            for o in range(prod(self.shape[:axis]))
            for i in range(inner)
        ]
        return HostArray(out, self.shape[:axis] + self.shape[axis + 1 :], dt)

    def argmax(self, axis=None):
        return self._reduce("argmax", lambda v: max(range(len(v)), key=v.__getitem__), axis, D.int64)

    def argmin(self, axis=None):
        return self._reduce("argmin", lambda v: min(range(len(v)), key=v.__getitem__), axis, D.int64)

    def sum(self, axis=None):
        return self._reduce("sum", sum, axis)

    def max(self, axis=None):
        return self._reduce("max", max, axis)

    def min(self, axis=None):
        return self._reduce("min", min, axis)

    def mean(self, axis=None):
        dt = self.dtype if self.dtype.kind == "f" else D.float64  # numpy's rule
        return self._reduce("mean", lambda v: sum(v) / len(v), axis, dt)

    def _value(self, op: str):
        if self.shape:
            raise TypeError(
                f"HostArray {op} works on rank-0 values (shape {self.shape}); use tf ops on tensors, or tolist()"
            )
        return self.item()

    def __float__(self):
        return float(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer HostArrays can be used as an index, not {self.dtype.name}")
        return int(self._value("index"))

    def __format__(self, spec: str) -> str:
        return format(self._value("format") if not self.shape else str(self), spec)

    def __round__(self, ndigits=None):
        return round(self._value("round"), ndigits)

    def __abs__(self):
        return abs(self._value("abs"))

    def __neg__(self):
        return -self._value("negation")

    def __hash__(self):
        return hash(self._value("hash"))

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def __eq__(self, other):
        if isinstance(other, HostArray):
            return self.shape == other.shape and list(self._flat) == list(other._flat)
        return self.tolist() == other

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return f"HostArray({self.tolist()!r}, dtype={self.dtype.name})"


def _scalar_op(name: str, fn):
    def op(self, other):
        if isinstance(other, HostArray):
            other = other._value(name)
        return fn(self._value(name), other)

    op.__name__ = f"__{name}__"
    return op


for _name, _fn in (
    ("add", lambda a, b: a + b),
    ("radd", lambda a, b: b + a),
    ("sub", lambda a, b: a - b),
    ("rsub", lambda a, b: b - a),
    ("mul", lambda a, b: a * b),
    ("rmul", lambda a, b: b * a),
    ("truediv", lambda a, b: a / b),
    ("rtruediv", lambda a, b: b / a),
    ("floordiv", lambda a, b: a // b),
    ("rfloordiv", lambda a, b: b // a),
    ("mod", lambda a, b: a % b),
    ("pow", lambda a, b: a**b),
    ("rpow", lambda a, b: b**a),
    ("lt", lambda a, b: a < b),
    ("le", lambda a, b: a <= b),
    ("gt", lambda a, b: a > b),
    ("ge", lambda a, b: a >= b),
):
    setattr(HostArray, f"__{_name}__", _scalar_op(_name, _fn))


def _nested_index(lst, i):
    if isinstance(i, slice):
        return lst[i]
    if isinstance(i, tuple):
        head, rest = i[0], i[1:]
        if isinstance(head, int):
            return _nested_index(lst[head], rest) if rest else lst[head]
        return [_nested_index(v, rest) if rest else v for v in lst[head]]
    return lst[i]

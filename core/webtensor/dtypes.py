"""The one dtype table: every backend, the file format and host conversion read it."""

from __future__ import annotations


class DType:
    """A TensorFlow-style dtype: ``tf.float32`` etc. Compared by identity."""

    __slots__ = ("name", "size", "kind", "fmt", "min", "max")

    def __init__(self, name: str, size: int, kind: str, fmt: str, lo, hi):
        self.name, self.size, self.kind, self.fmt = name, size, kind, fmt
        self.min, self.max = lo, hi

    is_floating = property(lambda self: self.kind == "f")
    is_integer = property(lambda self: self.kind in "iu")
    is_unsigned = property(lambda self: self.kind == "u")
    is_bool = property(lambda self: self.kind == "b")
    is_complex = property(lambda self: self.kind == "c")
    is_quantized = property(lambda self: False)
    base_dtype = property(lambda self: self)
    itemsize = property(lambda self: self.size)

    @property
    def as_numpy_dtype(self):
        import numpy

        return numpy.object_ if self.kind == "S" else numpy.dtype(self.name).type

    def is_compatible_with(self, other) -> bool:
        return as_dtype(other) is self

    def __repr__(self) -> str:
        return f"tf.{self.name}"

    def __reduce__(self):
        return (as_dtype, (self.name,))


_INF = float("inf")
float16 = DType("float16", 2, "f", "e", -65504.0, 65504.0)
float32 = DType("float32", 4, "f", "f", -3.4028234663852886e38, 3.4028234663852886e38)
float64 = DType("float64", 8, "f", "d", -1.7976931348623157e308, 1.7976931348623157e308)
int32 = DType("int32", 4, "i", "i", -(2**31), 2**31 - 1)
int64 = DType("int64", 8, "i", "q", -(2**63), 2**63 - 1)
uint8 = DType("uint8", 1, "u", "B", 0, 255)
uint32 = DType("uint32", 4, "u", "I", 0, 2**32 - 1)
bool_ = DType("bool", 1, "b", "?", False, True)
half, double = float16, float64
# Byte strings: host-only (no backend stores them; see backends/host_strings.py), so not in ALL.
string = DType("string", 8, "S", "O", None, None)
# Complex: (real, imag) pairs of float tensors (core/webtensor/complex.py), so not in ALL.
complex64 = DType("complex64", 8, "c", "F", None, None)
complex128 = DType("complex128", 16, "c", "D", None, None)

ALL = (float16, float32, float64, int32, int64, uint8, uint32, bool_)
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update({"half": float16, "double": float64, "bool_": bool_, "float": float32, "int": int32})
_BY_NAME.update({"complex64": complex64, "complex128": complex128, "complex": complex128})
_BY_NAME.update(
    {
        "string": string,
        "object": string,
        "object_": string,
        "bytes": string,
        "bytes_": string,
        "str": string,
        "str_": string,
    }
)
# struct/array/memoryview format characters (native little-endian) to dtype
_BY_FMT = {"e": float16, "f": float32, "d": float64, "B": uint8, "?": bool_}


def _int_fmt(fmt: str, itemsize: int):
    if fmt in ("i", "l", "q", "n"):
        return {4: int32, 8: int64}.get(itemsize)
    if fmt in ("I", "L", "Q", "N"):
        return {4: uint32}.get(itemsize)
    return None


def from_format(fmt: str, itemsize: int) -> DType | None:
    """dtype of a buffer-protocol format string ('<f', 'd', 'l'...), None if unsupported."""
    fmt = fmt.lstrip("@=<>!")
    return _BY_FMT.get(fmt) or _int_fmt(fmt, itemsize)


def as_dtype(value) -> DType:
    """``tf.as_dtype``: accepts DTypes, names, numpy dtypes/types and Python types."""
    if isinstance(value, DType):
        return value
    if value is float:
        return float32
    if value is int:
        return int32
    if value is bool:
        return bool_
    if value is str or value is bytes:
        return string
    name = getattr(value, "name", None) if not isinstance(value, str) else value
    if name is None and hasattr(value, "__name__"):
        name = value.__name__  # numpy scalar types: numpy.float32
    if name is None and hasattr(value, "dtype"):
        name = value.dtype.name
    d = _BY_NAME.get(name) if isinstance(name, str) else None
    if d is None:
        if isinstance(name, str) and name.rstrip("0123456789") in ("bytes", "str"):
            return string  # numpy's sized byte/unicode dtypes: bytes40, str96
        raise TypeError(
            f"Cannot convert {value!r} to a webtensor dtype; supported: " + ", ".join(x.name for x in ALL) + ", string"
        ) from None
    return d


def result_kind_of(value) -> DType:
    """Default dtype for a Python scalar: bool, int32 (int64 if it does not fit), float32."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int32 if -(2**31) <= value < 2**31 else int64
    return float32

"""Host values in and out of tensors for the lookup tables and the text/category layers.

Tables live on the host, as TF keeps them on the CPU: keys and values are read as flat
Python lists (``bytes`` for strings), mapped with dicts, and written back as new tensors.
"""

from __future__ import annotations

from .. import dtypes as D
from .. import host, placement
from ..errors import UnimplementedError
from ..shape import prod
from ..tensor import Tensor, Variable, _written, convert, wrap


def tensor_of(x, dtype: D.DType | None, op: str) -> Tensor:
    """``x`` as an eager tensor; a tensor of another dtype is a TypeError (TF's table check)."""
    if isinstance(x, Variable):
        x = x.value()
    if isinstance(x, Tensor):
        if dtype is not None and x._dtype is not dtype:
            raise TypeError(
                f"{op}: dtype of argument `keys`/`values` must be {dtype.name}, "
                f"received: {x._dtype.name} {tuple(x._h.shape)}"
            )
        t = x
    else:
        t = convert(x, dtype, op=op)
    if getattr(t._h, "symbolic", False):
        raise UnimplementedError(
            f"{op}: lookup tables are eager-only for now; they cannot be traced by tf.function (see docs/text.md)"
        )
    return t


def flat(t: Tensor) -> list:
    """Flat row-major Python values of an eager tensor (``bytes`` for strings)."""
    if t._dtype is D.string:
        return list(t._h.flat)
    return host.unpack(t._be.read(t._h), t._dtype)


def shape(t: Tensor) -> tuple:
    return tuple(t._h.shape)


def make(vals: list, shp: tuple, dtype: D.DType) -> Tensor:
    """A new tensor of flat host values on the creation backend (strings: the host)."""
    shp = tuple(int(d) for d in shp)
    if len(vals) != prod(shp):
        raise ValueError(f"internal: {len(vals)} values for shape {shp}")
    be = placement.creation_backend(dtype)
    if dtype is D.string:
        return wrap(be.strings([_b(v) for v in vals], shp), D.string, be)
    return _written(be, host.pack(vals, dtype), shp, dtype)


def _b(v) -> bytes:
    return v.encode("utf-8") if isinstance(v, str) else bytes(v)


def key_of(v, dtype: D.DType):
    """A Python value as the dict key the table stores for ``dtype``."""
    if dtype is D.string:
        return _b(v)
    if dtype.is_integer:
        return int(v)
    if dtype.is_floating:
        return float(v)
    return v


def is_ragged(x) -> bool:
    """A ``tf.RaggedTensor`` (tables and layers map its flat values and keep its row structure)."""
    from ..ragged.tensor import RaggedTensor

    return isinstance(x, RaggedTensor)


def ragged_rows(x, dtype: D.DType | None, op: str) -> list:
    """The rows of a ragged-rank-1 RaggedTensor as lists of host keys."""
    if x.ragged_rank != 1 or len(x.shape) != 2:
        raise ValueError(f"{op}: only 2-D RaggedTensors (one ragged dimension) are supported here, got shape {x.shape}")
    return [[key_of(v, dtype or x.dtype) for v in row] for row in x.to_list()]

"""``tf.SparseTensor``: ``values`` at ``indices`` of a ``dense_shape``, implicit zeros elsewhere.

The three components are ordinary tensors (indices int64 ``[N, rank]``, values ``[N]``,
dense_shape int64 ``[rank]``). Index bookkeeping (order, bounds, reshapes, slices) reads
the indices to the host once; values move through the ordinary ops, so gradients reach
them (and the dense operand of ``sparse_dense_matmul``).
"""

from __future__ import annotations

from .. import dtypes as D
from ..composite import CompositeTensor
from ..errors import InvalidArgumentError
from ..ops import math as M
from ..shape import TensorShape
from ..tensor import Tensor, Variable, convert


def _t(x, dtype=None, op: str = "SparseTensor") -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, Variable):
        return x.value()
    return convert(x, dtype, op=op)


class SparseTensor(CompositeTensor):
    """``tf.SparseTensor(indices, values, dense_shape)``."""

    __slots__ = ("_indices", "_values", "_dense_shape", "_idx", "_shape", "__weakref__")
    __array_priority__ = 101
    __hash__ = None

    def __init__(self, indices, values, dense_shape):
        op = "SparseTensor"
        idx = (
            _t(indices, D.int64, op)
            if not isinstance(indices, (list, tuple)) or indices
            else convert([], D.int64, op=op)
        )
        if idx._dtype is not D.int64:
            if not idx._dtype.is_integer:
                raise InvalidArgumentError(f"{op}: indices must be integers, got {idx._dtype.name}")
            idx = M.cast(idx, D.int64)
        vals = _t(values, None, op)
        shp = _t(dense_shape, D.int64, op)
        if shp._dtype is not D.int64:
            shp = M.cast(shp, D.int64)
        shape = [int(d) for d in shp.tolist()] if shp._h.shape else None
        if shape is None:
            raise InvalidArgumentError(f"{op}: dense_shape must be 1-D, got a scalar")
        if len(idx._h.shape) == 1 and idx._h.shape[0] == 0:
            from ..ops import array as A

            idx = A.reshape(idx, (0, len(shape)))
        if len(idx._h.shape) != 2 or idx._h.shape[1] != len(shape):
            raise InvalidArgumentError(
                f"{op}: indices must be [N, {len(shape)}] for dense_shape {shape}, got shape {tuple(idx._h.shape)}"
            )
        if len(vals._h.shape) != 1 or vals._h.shape[0] != idx._h.shape[0]:
            raise InvalidArgumentError(
                f"{op}: values must be 1-D with one value per index row: "
                f"{tuple(vals._h.shape)} values for {idx._h.shape[0]} indices"
            )
        self._indices, self._values, self._dense_shape = idx, vals, shp
        self._idx = None
        self._shape = shape

    @classmethod
    def _make(cls, idx_rows: list, values: Tensor, shape: list) -> "SparseTensor":
        """From host index rows (already checked) and a values tensor."""
        from ..ops import array as A

        st = object.__new__(cls)
        st._indices = convert(idx_rows, D.int64) if idx_rows else A.zeros((0, len(shape)), D.int64)
        st._values, st._dense_shape = values, convert(shape, D.int64)
        st._idx, st._shape = [list(r) for r in idx_rows], list(shape)
        return st

    @classmethod
    def from_value(cls, value) -> "SparseTensor":
        return value

    indices = property(lambda self: self._indices)
    values = property(lambda self: self._values)
    dense_shape = property(lambda self: self._dense_shape)
    dtype = property(lambda self: self._values._dtype)
    shape = property(lambda self: TensorShape(self._shape))
    ndim = property(lambda self: len(self._shape))

    def get_shape(self) -> TensorShape:
        return self.shape

    def _rows(self) -> list:
        """The indices as host lists of ints (read once)."""
        if self._idx is None:
            v = self._indices.tolist()
            self._idx = [list(map(int, r)) for r in v] if v else []
        return self._idx

    def with_values(self, new_values) -> "SparseTensor":
        v = _t(new_values)
        if tuple(v._h.shape) != tuple(self._values._h.shape):
            raise InvalidArgumentError(
                f"with_values: new values shape {tuple(v._h.shape)} must match {tuple(self._values._h.shape)}"
            )
        st = SparseTensor._make(self._rows(), v, self._shape)
        st._indices = self._indices
        return st

    def consumers(self):
        return []

    def __repr__(self):
        return f"SparseTensor(indices={self._indices!s}, values={self._values!s}, dense_shape={self._dense_shape!s})"

    __str__ = __repr__

    def __bool__(self):
        raise TypeError("The truth value of a SparseTensor is ambiguous")

    def __reduce__(self):
        return (SparseTensor, (self._indices, self._values, self._dense_shape))

    # TF's SparseTensor has exactly two operators, ``sparse * x`` and ``sparse / x`` (x dense or
    # a scalar; ``dense * sparse`` is Tensor's ``*``), and no reflected ones: ``2 * sparse``,
    # ``+``, unary ``-`` and ``abs()`` are TypeErrors there (tf.sparse.add adds). The composite
    # operator mixins bundle ``+ - **`` and unary ops, so SparseTensor keeps its own two.
    def __mul__(self, o):
        return M.multiply(self, o)

    def __truediv__(self, o):
        return M.truediv(self, o)

    def _dispatch(self, op, args: tuple, kwargs: dict):
        from .ops import dispatch

        return dispatch(op, args, kwargs)

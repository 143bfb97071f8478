"""``tf.RaggedTensorSpec``: the type of a RaggedTensor (shape with ragged dims None, dtype,
ragged_rank, row_splits_dtype), for signatures and dataset element specs."""

from __future__ import annotations

from .. import dtypes as D
from ..shape import TensorShape


class RaggedTensorSpec:
    __slots__ = ("_shape", "_dtype", "_ragged_rank", "_row_splits_dtype", "_flat_values_spec")

    def __init__(self, shape=None, dtype=D.float32, ragged_rank=None, row_splits_dtype=D.int64, flat_values_spec=None):
        self._shape = TensorShape(shape)
        self._dtype = D.as_dtype(dtype)
        rank = self._shape.rank
        if ragged_rank is None:
            if rank is None:
                raise ValueError("RaggedTensorSpec: ragged_rank must be given when the shape's rank is unknown")
            ragged_rank = rank - 1
        if rank is not None and not 0 <= ragged_rank < max(rank, 1):
            raise ValueError(f"RaggedTensorSpec: ragged_rank must be in [0, {rank}), got {ragged_rank}")
        self._ragged_rank = int(ragged_rank)
        self._row_splits_dtype = D.as_dtype(row_splits_dtype)
        self._flat_values_spec = flat_values_spec

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    ragged_rank = property(lambda self: self._ragged_rank)
    row_splits_dtype = property(lambda self: self._row_splits_dtype)
    flat_values_spec = property(lambda self: self._flat_values_spec)
    value_type = property(lambda self: _rt())

    @classmethod
    def from_value(cls, value) -> "RaggedTensorSpec":
        return cls(value.shape, value.dtype, value.ragged_rank, value.row_splits_dtype)

    def is_compatible_with(self, other) -> bool:
        """A RaggedTensor or spec of the same dtype, ragged_rank and a compatible shape."""
        rr = getattr(other, "ragged_rank", None)
        if rr is None or getattr(other, "dtype", None) is not self._dtype or rr != self._ragged_rank:
            return False
        shape = other.shape
        return self._shape.is_compatible_with(shape)

    def __eq__(self, other):
        return (
            isinstance(other, RaggedTensorSpec)
            and self._shape == other._shape
            and self._dtype is other._dtype
            and self._ragged_rank == other._ragged_rank
            and self._row_splits_dtype is other._row_splits_dtype
        )

    def __hash__(self):
        return hash((self._shape, self._dtype.name, self._ragged_rank, self._row_splits_dtype.name))

    def __repr__(self):
        return (
            f"RaggedTensorSpec(TensorShape({self._shape.dims}), tf.{self._dtype.name}, "
            f"{self._ragged_rank}, tf.{self._row_splits_dtype.name})"
        )


def _rt():
    from .tensor import RaggedTensor

    return RaggedTensor

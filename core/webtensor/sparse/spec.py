"""``tf.SparseTensorSpec``: the type of a SparseTensor (dense shape, possibly partial, and dtype)."""

from __future__ import annotations

from .. import dtypes as D
from ..shape import TensorShape


class SparseTensorSpec:
    __slots__ = ("_shape", "_dtype")

    def __init__(self, shape=None, dtype=D.float32):
        self._shape = TensorShape(shape)
        self._dtype = D.as_dtype(dtype)

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)

    @property
    def value_type(self):
        from .tensor import SparseTensor

        return SparseTensor

    @classmethod
    def from_value(cls, value) -> "SparseTensorSpec":
        return cls(value.shape, value.dtype)

    def is_compatible_with(self, other) -> bool:
        from .tensor import SparseTensor

        if not isinstance(other, (SparseTensor, SparseTensorSpec)):
            return False
        return other.dtype is self._dtype and self._shape.is_compatible_with(other.shape)

    def __eq__(self, other):
        return isinstance(other, SparseTensorSpec) and self._shape == other._shape and self._dtype is other._dtype

    def __hash__(self):
        return hash((self._shape, self._dtype.name))

    def __repr__(self):
        return f"SparseTensorSpec(TensorShape({self._shape.dims}), tf.{self._dtype.name})"

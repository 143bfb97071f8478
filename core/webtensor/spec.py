"""``tf.TensorSpec``: a shape (possibly partial) and a dtype, for signatures and datasets."""

from __future__ import annotations

from . import dtypes as D
from .shape import TensorShape


class TensorSpec:
    __slots__ = ("shape", "dtype", "name")

    def __init__(self, shape, dtype=D.float32, name=None):
        self.shape = TensorShape(shape)
        self.dtype = D.as_dtype(dtype)
        self.name = name

    @classmethod
    def from_tensor(cls, tensor, name=None) -> "TensorSpec":
        return cls(tensor.shape, tensor.dtype, name)

    def is_compatible_with(self, other) -> bool:
        shape = getattr(other, "shape", None)
        dtype = getattr(other, "dtype", None)
        return (dtype is None or D.as_dtype(dtype) is self.dtype) and self.shape.is_compatible_with(shape)

    def __eq__(self, other):
        return (
            isinstance(other, TensorSpec)
            and self.shape == other.shape
            and self.dtype is other.dtype
            and self.name == other.name
        )

    def __hash__(self):
        return hash((self.shape, self.dtype.name, self.name))

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r}, name={self.name!r})"

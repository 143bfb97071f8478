"""Shapes: ``TensorShape`` and the one place that broadcasts and normalises axes."""

from __future__ import annotations

import operator

from .errors import InvalidArgumentError


class TensorShape:
    """TF's TensorShape: a tuple of dims where a dim may be None (unknown)."""

    __slots__ = ("_dims",)

    def __init__(self, dims=None):
        if dims is None:
            self._dims = None
        elif isinstance(dims, TensorShape):
            self._dims = dims._dims
        elif isinstance(dims, int):
            self._dims = (dims,)
        else:
            self._dims = tuple(None if d is None else int(d) for d in dims)

    @property
    def rank(self):
        return None if self._dims is None else len(self._dims)

    ndims = rank
    dims = property(lambda self: None if self._dims is None else list(self._dims))

    def as_list(self) -> list:
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self._dims)

    def is_fully_defined(self) -> bool:
        return self._dims is not None and None not in self._dims

    def num_elements(self):
        if not self.is_fully_defined():
            return None
        return prod(self._dims)

    def is_compatible_with(self, other) -> bool:
        other = TensorShape(other)
        if self._dims is None or other._dims is None:
            return True
        return len(self._dims) == len(other._dims) and all(
            a is None or b is None or a == b for a, b in zip(self._dims, other._dims)
        )

    def merge_with(self, other) -> TensorShape:
        other = TensorShape(other)
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        if self._dims is None:
            return other
        if other._dims is None:
            return self
        return TensorShape([a if a is not None else b for a, b in zip(self._dims, other._dims)])

    def concatenate(self, other) -> TensorShape:
        other = TensorShape(other)
        if self._dims is None or other._dims is None:
            return TensorShape(None)
        return TensorShape(self._dims + other._dims)

    def assert_is_compatible_with(self, other) -> None:
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {TensorShape(other)} are incompatible")

    def __len__(self):
        if self._dims is None:
            raise ValueError("Cannot take the length of shape with unknown rank.")
        return len(self._dims)

    def __iter__(self):
        return iter(self._dims or ())

    def __getitem__(self, key):
        if isinstance(key, slice):
            return TensorShape(self._dims[key])
        return self._dims[key]

    def __eq__(self, other):
        try:
            other = TensorShape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self._dims == other._dims

    def __hash__(self):
        return hash(self._dims)

    def __bool__(self):
        return self._dims is not None

    def __add__(self, other):
        return self.concatenate(other)

    def __repr__(self):
        return "TensorShape(None)" if self._dims is None else f"TensorShape({list(self._dims)})"

    def __str__(self):
        if self._dims is None:
            return "<unknown>"
        return "(" + ", ".join(str(d) for d in self._dims) + ("," if len(self._dims) == 1 else "") + ")"


def prod(dims) -> int:
    n = 1
    for d in dims:
        n *= d
    return n


_BROADCAST: dict = {}  # (a, b) -> result: eager loops repeat the same shapes every step


def broadcast_shape(a: tuple, b: tuple, op: str = "broadcast") -> tuple:
    """NumPy/TF broadcasting of two static shapes, with an error naming the op."""
    if a == b:
        return a
    out = _BROADCAST.get((a, b))
    if out is None:
        out = _broadcast(a, b, op)
        if len(_BROADCAST) > 4096:
            _BROADCAST.clear()
        _BROADCAST[(a, b)] = out
    return out


def _broadcast(a: tuple, b: tuple, op: str) -> tuple:
    n = max(len(a), len(b))
    a2 = (1,) * (n - len(a)) + a
    b2 = (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a2, b2):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise InvalidArgumentError(f"{op}: shapes {a} and {b} are incompatible (cannot broadcast {x} against {y})")
    return tuple(out)


def sum_axes_for_broadcast(in_shape: tuple, out_shape: tuple) -> tuple:
    """Axes of ``out_shape`` summed to undo broadcasting ``in_shape`` up to it."""
    lead = len(out_shape) - len(in_shape)
    axes = list(range(lead))
    for i, d in enumerate(in_shape):
        if d == 1 and out_shape[lead + i] != 1:
            axes.append(lead + i)
    return tuple(axes)


def as_int(v, op: str, arg: str):
    """An int from an int-like argument (int, numpy int, int scalar tensor); floats and strings
    are refused, where int() would truncate 3.5 or parse '0'."""
    if hasattr(v, "numpy") and hasattr(v, "dtype"):
        v = v.numpy()
        v = v.tolist() if hasattr(v, "tolist") else v
    try:
        return operator.index(v)
    except TypeError:
        raise InvalidArgumentError(f"{op}: {arg} must be an integer, got {v!r} ({type(v).__name__})") from None


def normalize_axis(axis: int, rank: int, op: str) -> int:
    axis = as_int(axis, op, "axis")
    if not -rank <= axis < max(rank, 1) or (rank == 0 and axis not in (0, -1)):
        raise InvalidArgumentError(
            f"{op}: axis {axis} is out of range for a tensor of rank {rank} (expected [-{rank}, {rank}))"
        )
    return axis + rank if axis < 0 else axis


_AXES: dict = {}  # (axis, rank) -> normalised axes, for int and tuple axes


def normalize_axes(axis, rank: int, op: str) -> tuple:
    """``axis`` None/int/list -> sorted unique non-negative tuple (None means all axes)."""
    key = (axis, rank) if type(axis) in (int, tuple) or axis is None else None
    try:
        out = _AXES.get(key) if key is not None else None
    except TypeError:  # a tuple holding tensors
        key = out = None
    if out is None:
        out = _normalize_axes(axis, rank, op)
        if key is not None:
            if len(_AXES) > 4096:
                _AXES.clear()
            _AXES[key] = out
    return out


def _normalize_axes(axis, rank: int, op: str) -> tuple:
    if axis is None:
        return tuple(range(rank))
    if isinstance(axis, (list, tuple)):
        axes = [normalize_axis(a, rank, op) for a in axis]
    else:
        if hasattr(axis, "numpy"):
            axis = axis.numpy()
            if hasattr(axis, "tolist"):
                axis = axis.tolist()
            if isinstance(axis, list):
                return _normalize_axes(axis, rank, op)
        axes = [normalize_axis(axis, rank, op)]
    if len(set(axes)) != len(axes):
        raise InvalidArgumentError(f"{op}: duplicate axis in {axis}")
    return tuple(sorted(axes))


def as_shape_tuple(shape, op: str = "shape") -> tuple:
    """A concrete shape (list, tuple, TensorShape, int tensor) -> tuple of ints."""
    if isinstance(shape, TensorShape):
        dims = shape.as_list()
    elif hasattr(shape, "numpy") and hasattr(shape, "dtype"):
        v = shape.numpy()
        dims = v.tolist() if hasattr(v, "tolist") else v
        if not isinstance(dims, list):
            dims = [dims]
    elif isinstance(shape, int):
        dims = [shape]
    else:
        dims = list(shape)
    out = []
    for d in dims:
        if d is None:
            raise InvalidArgumentError(f"{op}: shape {tuple(dims)} has an unknown dimension")
        out.append(as_int(d, op, f"shape {tuple(dims)}: dimension"))
    return tuple(out)


MAX_RANK = 8
"""The most dims a tensor may have on every backend (the GPU kernels index 8 dims)."""


def dims_tuple(shape, op: str, arg: str = "shape") -> tuple:
    """A shape that a new tensor takes: integer dims >= 0, rank <= MAX_RANK."""
    out = as_shape_tuple(shape, op)
    for d in out:
        if d < 0:
            raise InvalidArgumentError(f"{op}: {arg} {out} has a negative dimension {d} (dimensions must be >= 0)")
    check_rank(out, op)
    return out


def check_rank(shape: tuple, op: str) -> None:
    if len(shape) > MAX_RANK:
        raise InvalidArgumentError(
            f"{op}: rank {len(shape)} (shape {tuple(shape)}) exceeds the "
            f"maximum rank {MAX_RANK} that every backend supports"
        )

"""Static-shape helpers: ``Tensor.set_shape``, ``tf.ensure_shape``, ``tf.get_static_value``.

Shapes are always fully known here (eager tensors, and traced graphs with static shapes),
so these check compatibility rather than refine anything."""

from __future__ import annotations

from ..errors import InvalidArgumentError
from .dispatch import Tensor, operand


def _dims(shape) -> tuple | None:
    """A shape spec as a tuple of int-or-None, or None for an unknown rank."""
    if shape is None:
        return None
    if hasattr(shape, "as_list"):
        shape = shape.as_list() if getattr(shape, "rank", 0) is not None else None
        return None if shape is None else tuple(shape)
    if hasattr(shape, "numpy"):
        shape = shape.numpy().tolist()
    return tuple(None if d is None or d == -1 else int(d) for d in shape)


def _compatible(have: tuple, want: tuple | None) -> bool:
    return want is None or (len(have) == len(want) and all(w is None or w == h for h, w in zip(have, want)))


def set_shape(t, shape) -> None:
    """``Tensor.set_shape``: ValueError when the shape is incompatible with the known one."""
    have = tuple(t._h.shape)
    want = _dims(shape)
    if not _compatible(have, want):
        raise ValueError(f"Tensor's shape {have} is not compatible with supplied shape {list(want)}")


def ensure_shape(x, shape, name=None) -> Tensor:
    """``tf.ensure_shape``: x itself, or InvalidArgumentError naming both shapes."""
    t = operand(x, "ensure_shape")
    have, want = tuple(t._h.shape), _dims(shape)
    if not _compatible(have, want):
        raise InvalidArgumentError(
            f"ensure_shape: shape of tensor {have} is not compatible with expected shape {list(want)}"
        )
    return t


def get_static_value(tensor, partial=False):
    """The value as a host array (numpy natively) when known without running a graph;
    None for a symbolic tensor inside a tf.function trace."""
    if isinstance(tensor, Tensor) or hasattr(tensor, "_h"):
        if getattr(tensor._h, "symbolic", False):
            return None
        return tensor.numpy()
    try:
        import numpy
    except ImportError:
        return tensor
    return numpy.asarray(tensor)

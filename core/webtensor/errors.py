"""``tf.errors``: the exception types TensorFlow code catches."""

from __future__ import annotations


class OpError(Exception):
    """Base of op failures. Accepts ``(message)`` or TF's ``(node_def, op, message)``."""

    def __init__(self, *args):
        if len(args) >= 3:
            self.node_def, self.op, self.message = args[0], args[1], args[2]
        else:
            self.node_def, self.op, self.message = None, None, args[0] if args else ""
        super().__init__(self.message)


class InvalidArgumentError(OpError, ValueError):
    """Bad shapes, dtypes or values; a ValueError too, so plain ``except ValueError`` works."""


class NotFoundError(OpError):
    pass


class UnimplementedError(OpError):
    pass


class AlreadyExistsError(OpError):
    pass


class PermissionDeniedError(OpError):
    pass


class ResourceExhaustedError(OpError):
    pass


class FailedPreconditionError(OpError):
    pass


class OutOfRangeError(OpError):
    pass


class InternalError(OpError):
    pass


class UnknownError(OpError):
    pass


class DataLossError(OpError):
    pass


def describe(*tensors) -> str:
    """'(2, 3) float32 and (4,) int32' for error messages."""
    parts = []
    for t in tensors:
        shape = getattr(t, "_shape", None)
        if shape is None:
            shape = getattr(t, "shape", None)
        dt = getattr(t, "dtype", None)
        parts.append(f"{tuple(shape) if shape is not None else '?'} {getattr(dt, 'name', dt)}")
    return " and ".join(parts)

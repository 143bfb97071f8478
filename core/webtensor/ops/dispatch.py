"""Operand handling shared by every op: conversion, dtype agreement, placement.

Placement follows ``device``: the innermost ``tf.device`` scope, else the first
tensor operand's backend; operands living elsewhere are copied there.
"""

from __future__ import annotations

from .. import autodiff, placement
from ..errors import InvalidArgumentError
from ..tensor import Tensor, Variable, convert, to_backend, wrap  # noqa: F401  (re-exported)

_scope = placement._scope
tapes = autodiff.tapes
record = autodiff.record


def _placed(x: Tensor) -> Tensor:
    be = placement.for_dtype(_scope[-1], x._dtype)
    return x if x._be is be else to_backend(x, be)


def operand(x, op: str, dtype=None) -> Tensor:
    """A single operand as a Tensor on the backend the op runs on."""
    if type(x) is not Tensor:
        x = convert(x, dtype, op=op)
    if _scope[-1] is not None and x._be is not _scope[-1]:
        return _placed(x)
    return x


def _is_python(v) -> bool:
    return isinstance(v, (int, float, bool, list, tuple))


def operands(x, y, op: str):
    """Two operands of one dtype on one backend. Python values take the tensor's
    dtype; two tensors of different dtypes are an error (TF does not promote)."""
    if _scope[-1] is None:  # hot path: a tensor and a Python float, e.g. t * 0.5
        if type(x) is Tensor and type(y) is float and x._dtype.kind == "f":
            return x, wrap(x._be.full((), y, x._dtype), x._dtype, x._be)
        if type(y) is Tensor and type(x) is float and y._dtype.kind == "f":
            return wrap(y._be.full((), x, y._dtype), y._dtype, y._be), y
    if type(x) is not Tensor:
        x = x.value() if isinstance(x, Variable) else x
    if type(y) is not Tensor:
        y = y.value() if isinstance(y, Variable) else y
    if type(x) is not Tensor:
        if type(y) is Tensor:
            x = convert(x, y._dtype if _is_python(x) else None, y._be, op=op)
        else:
            x = convert(x, op=op)
            y = convert(y, x._dtype if _is_python(y) else None, x._be, op=op)
    elif type(y) is not Tensor:
        y = convert(y, x._dtype if _is_python(y) else None, x._be, op=op)
    if x._dtype is not y._dtype:
        raise InvalidArgumentError(
            f"{op}: dtype mismatch: {x._dtype.name} {tuple(x._h.shape)} and {y._dtype.name} "
            f"{tuple(y._h.shape)} (TF does not promote; use tf.cast)"
        )
    be = _scope[-1]
    if be is None:
        if x._be is not y._be:
            y = to_backend(y, x._be)
        return x, y
    return _placed(x), _placed(y)


def same_dtype(xs, op: str) -> list:
    """A list of operands converted to one dtype (the first tensor's) and one backend."""
    first = next((v for v in xs if isinstance(v, (Tensor, Variable))), None)
    dt = first._dtype if first is not None else None
    out = [operand(v, op, dt if _is_python(v) else None) for v in xs]
    for t in out:
        if t._dtype is not out[0]._dtype:
            raise InvalidArgumentError(
                f"{op}: all inputs must have the same dtype, got "
                + ", ".join(f"{v._dtype.name} {tuple(v._h.shape)}" for v in out)
            )
    be = _scope[-1] or out[0]._be
    return [v if v._be is be else to_backend(v, be) for v in out]


FLOAT, NUMERIC, INTEGER, BOOL, ANY = "f", "fiu", "iu", "b", "fiub"
KIND_NAMES = {
    FLOAT: "a floating-point tensor",
    NUMERIC: "a numeric tensor",
    INTEGER: "an integer tensor",
    BOOL: "a bool tensor",
    ANY: "a tensor",
}


def check_kind(x: Tensor, op: str, kinds: str) -> None:
    """Raise the op's dtype error unless x's dtype kind is one of ``kinds``."""
    if x._dtype.kind not in kinds:
        raise InvalidArgumentError(
            f"{op}: dtype {x._dtype.name} is not supported (expects "
            f"{KIND_NAMES[kinds]}); input shape {tuple(x._h.shape)}"
        )


def composite(inputs: tuple, forward, vjp):
    """Run ``forward()`` (public ops) as one recorded node with its own vjp. A forward
    returning a tuple is a multi-output node: the vjp then gets a tuple of output grads."""
    if not tapes:
        return forward()
    with autodiff.no_record():
        y = forward()
    record(inputs, y if type(y) is tuple else (y,), vjp)
    return y

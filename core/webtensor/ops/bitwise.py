"""``tf.bitwise``: and/or/xor/invert/left_shift/right_shift on integer tensors.

There are no bit primitives in the backend contract, so these are composed of integer
arithmetic, which every backend has and which wraps as two's complement: a bit is
``floormod(floordiv(x, 2**i), 2)``, and shifts are repeated doubling/halving (floor
division by 2 is an arithmetic shift for signed ints). The cost is one small op
sequence per bit, which suits index and hashing code rather than bulk data."""

from __future__ import annotations

from .. import dtypes as D
from . import math as M
from .dispatch import INTEGER, Tensor, check_kind, operand, operands


def _ints(x, y, op):
    a, b = operands(x, y, op)
    check_kind(a, op, INTEGER)
    return a, b


def _bits(dt: D.DType) -> int:
    return dt.size * 8


def _bitwise(x, y, op: str, combine) -> Tensor:
    a, b = _ints(x, y, op)
    dt = a._dtype
    out = M.multiply(a, 0) + M.multiply(b, 0)
    for i in range(_bits(dt)):
        bit_a = M.mod(M.floordiv(a, 1 << i) if i < _bits(dt) - 1 or dt.is_unsigned else _top(a), 2)
        bit_b = M.mod(M.floordiv(b, 1 << i) if i < _bits(dt) - 1 or dt.is_unsigned else _top(b), 2)
        out = out + combine(bit_a, bit_b) * _weight(i, dt)
    return out


def _top(x: Tensor) -> Tensor:
    """The sign bit of a signed int as 0/1 (2**(bits-1) is not representable)."""
    return M.cast(M.less(x, 0), x._dtype)


def _weight(i: int, dt: D.DType) -> int:
    w = 1 << i
    return w - (1 << _bits(dt)) if not dt.is_unsigned and i == _bits(dt) - 1 else w


def bitwise_and(x, y, name=None) -> Tensor:
    return _bitwise(x, y, "bitwise_and", lambda p, q: p * q)


def bitwise_or(x, y, name=None) -> Tensor:
    return _bitwise(x, y, "bitwise_or", lambda p, q: p + q - p * q)


def bitwise_xor(x, y, name=None) -> Tensor:
    return _bitwise(x, y, "bitwise_xor", lambda p, q: M.mod(p + q, 2))


def invert(x, name=None) -> Tensor:
    """Flips every bit: ``-x - 1`` for signed ints, ``max - x`` for unsigned."""
    t = operand(x, "invert")
    check_kind(t, "invert", INTEGER)
    return (M.multiply(t, 0) + t._dtype.max) - t if t._dtype.is_unsigned else -t - 1


def _shift_amounts(x, y, op):
    a, b = _ints(x, y, op)
    return a, b, _bits(a._dtype)


def left_shift(x, y, name=None) -> Tensor:
    """``x << y`` (wrapping); TF leaves y < 0 or y >= bits undefined, here it gives 0 bits in."""
    a, b, n = _shift_amounts(x, y, "left_shift")
    out = a + M.multiply(b, 0)
    for k in range(n):
        out = M.where(M.greater(b, k), out * 2, out)
    return out


def right_shift(x, y, name=None) -> Tensor:
    """``x >> y``: arithmetic for signed ints (sign fills), logical for unsigned."""
    a, b, n = _shift_amounts(x, y, "right_shift")
    out = a + M.multiply(b, 0)
    for k in range(n):
        out = M.where(M.greater(b, k), M.floordiv(out, 2), out)
    return out


__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift"]

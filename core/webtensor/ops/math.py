"""Elementwise math, comparisons, ``where`` and ``cast``: forward and gradient side by side."""

from __future__ import annotations

import math as _pymath

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..backends.base import BOOL_OPS, FLOAT_UNARY
from ..composite import CompositeTensor, composite_in
from ..shape import broadcast_shape, sum_axes_for_broadcast
from .dispatch import ANY, BOOL, FLOAT, NUMERIC, Tensor, check_kind, composite, operand, record, tapes, operands, wrap


def unbroadcast(g: Tensor, shape: tuple) -> Tensor:
    """Sum a gradient back down to the shape of an operand that was broadcast."""
    gs = g._h.shape
    if gs == shape:
        return g
    from .array import reshape
    from .reduce import reduce_sum

    return reshape(reduce_sum(g, sum_axes_for_broadcast(shape, gs)), shape)


# -- unary --------------------------------------------------------------------------------


def _unary(prim: str, grad=None, name: str | None = None):
    out_dtype = D.bool_ if prim in BOOL_OPS else None  # backends/base.py: the one bool-op table
    kinds = FLOAT if prim in FLOAT_UNARY else BOOL if prim == "logical_not" else NUMERIC

    def op(x, name=None):
        if type(x) is not Tensor and composite_in(x) is not None:  # ragged/sparse: its own rule
            return x._dispatch(op, (x,), {})
        x = operand(x, prim)
        check_kind(x, prim, kinds)
        be = x._be
        y = wrap(be.unary(prim, x._h), out_dtype or x._dtype, be)
        if tapes and grad is not None and x._dtype.kind == "f":
            record((x,), (y,), lambda dy, need: (grad(x, y, dy),))
        return y

    op.__name__ = op.__qualname__ = name or prim
    op.__doc__ = f"Elementwise {prim} (TF semantics)."
    op._elementwise = 1
    return op


_SQRT_2_OVER_PI = 2.0 / _pymath.sqrt(_pymath.pi)

negative = _unary("neg", lambda x, y, dy: -dy, name="negative")
abs = _unary("abs", lambda x, y, dy: dy * sign(x))
sign = _unary("sign", lambda x, y, dy: zero_fill(x))
square = _unary("square", lambda x, y, dy: dy * (x * 2.0))
sqrt = _unary("sqrt", lambda x, y, dy: dy * 0.5 / y)
rsqrt = _unary("rsqrt", lambda x, y, dy: dy * (-0.5) * y * y * y)
reciprocal = _unary("reciprocal", lambda x, y, dy: -dy * y * y)
exp = _unary("exp", lambda x, y, dy: dy * y)
log = _unary("log", lambda x, y, dy: dy * reciprocal(x))
log1p = _unary("log1p", lambda x, y, dy: dy * reciprocal(x + 1.0))
expm1 = _unary("expm1", lambda x, y, dy: dy * (y + 1.0))
sin = _unary("sin", lambda x, y, dy: dy * cos(x))
cos = _unary("cos", lambda x, y, dy: -dy * sin(x))
tan = _unary("tan", lambda x, y, dy: dy * square(reciprocal(cos(x))))
tanh = _unary("tanh", lambda x, y, dy: dy * (1.0 - y * y))
sigmoid = _unary("sigmoid", lambda x, y, dy: dy * (y * (1.0 - y)))
erf = _unary("erf", lambda x, y, dy: dy * (_SQRT_2_OVER_PI * exp(-square(x))))
floor = _unary("floor")
ceil = _unary("ceil")
round = _unary("round")
logical_not = _unary("logical_not")
is_nan = _unary("isnan", name="is_nan")
is_finite = _unary("isfinite", name="is_finite")
neg = negative


def zero_fill(x: Tensor) -> Tensor:
    """Zeros of ``x``'s shape, dtype and backend, with no conversion (vjps and masks)."""
    return wrap(x._be.full(x._h.shape, 0, x._dtype), x._dtype, x._be)


def is_inf(x, name=None) -> Tensor:
    return logical_and(logical_not(is_finite(x)), logical_not(is_nan(x)))


# -- binary -------------------------------------------------------------------------------


def _any_int(y: Tensor, prim: str) -> bool:
    """Whether an integer divisor/exponent has an element TF's CPU kernels refuse (one readback;
    none while tracing a tf.function, where the value is symbolic)."""
    if getattr(y._h, "symbolic", False):
        return False
    be = y._be
    zero = be.full((), 0, y._dtype)
    bad = be.binary("equal" if prim != "pow" else "less", y._h, zero)
    return bool(wrap(be.reduce("any", bad, tuple(range(len(y._h.shape))), False), D.bool_, be))


_INT_CHECK = {
    "floordiv": "Integer division by zero",
    "mod": "Integer division by zero",
    "pow": "Integers to negative integer powers are not allowed",
}


def _binary(prim: str, kinds: str, grad=None, name: str | None = None):
    bool_out = prim in BOOL_OPS
    pub = name or prim
    int_check = _INT_CHECK.get(prim)

    def op(x, y, name=None):
        if (type(x) is not Tensor or type(y) is not Tensor) and (
            isinstance(x, CompositeTensor) or isinstance(y, CompositeTensor)
        ):  # ragged/sparse: own rule
            return composite_in(x, y)._dispatch(op, (x, y), {})
        py_y = y if type(y) is int else None  # a Python divisor/exponent is checked without a readback
        x, y = operands(x, y, pub)
        check_kind(x, pub, kinds)
        xs, ys = x._h.shape, y._h.shape
        if xs != ys:
            broadcast_shape(xs, ys, pub)
        if (
            int_check
            and x._dtype.kind in "iu"
            and (_any_int(y, prim) if py_y is None else py_y < 0 if prim == "pow" else py_y == 0)
        ):
            raise InvalidArgumentError(f"{pub}: {int_check} (divisor/exponent y of shape {tuple(ys)} {y._dtype.name})")
        be = x._be
        z = wrap(be.binary(prim, x._h, y._h), D.bool_ if bool_out else x._dtype, be)
        if tapes and grad is not None and x._dtype.kind == "f":

            def vjp(dy, need):
                gx, gy = grad(x, y, z, dy, need)
                return (None if gx is None else unbroadcast(gx, xs), None if gy is None else unbroadcast(gy, ys))

            record((x, y), (z,), vjp)
        return z

    op.__name__ = op.__qualname__ = pub
    op.__doc__ = f"Elementwise {pub} with broadcasting (TF semantics)."
    op._elementwise = 2
    return op


def _div_grad(x, y, z, dy, need):
    return (dy / y if need[0] else None, dy * ((-x / y) / y) if need[1] else None)


def _pow_grad(x, y, z, dy, need):
    gx = dy * y * pow(x, y - 1.0) if need[0] else None
    gy = None
    if need[1]:
        pos = greater(x, 0.0)
        gy = dy * z * where(pos, log(where(pos, x, 1.0)), zero_fill(x))
    return gx, gy


def _select_grad(selector):
    def grad(x, y, z, dy, need):
        mask = selector(x, y)
        zero = zero_fill(dy)
        return (where(mask, dy, zero) if need[0] else None, where(mask, zero, dy) if need[1] else None)

    return grad


add = _binary("add", NUMERIC, lambda x, y, z, dy, need: (dy, dy))
subtract = _binary("sub", NUMERIC, lambda x, y, z, dy, need: (dy, -dy if need[1] else None), name="subtract")
multiply = _binary(
    "mul",
    NUMERIC,
    lambda x, y, z, dy, need: (dy * y if need[0] else None, dy * x if need[1] else None),
    name="multiply",
)
_div = _binary("div", FLOAT, _div_grad, name="divide")
floordiv = _binary("floordiv", NUMERIC, name="floordiv")
mod = _binary(
    "mod", NUMERIC, lambda x, y, z, dy, need: (dy, dy * -floordiv(x, y) if need[1] else None), name="floormod"
)
pow = _binary("pow", NUMERIC, _pow_grad)
equal = _binary("equal", ANY + "S")
not_equal = _binary("not_equal", ANY + "S")
less = _binary("less", NUMERIC)
less_equal = _binary("less_equal", NUMERIC)
greater = _binary("greater", NUMERIC)
greater_equal = _binary("greater_equal", NUMERIC)
logical_and = _binary("logical_and", BOOL)
logical_or = _binary("logical_or", BOOL)
maximum = _binary("maximum", NUMERIC, _select_grad(greater_equal))
minimum = _binary("minimum", NUMERIC, _select_grad(less_equal))
sub, mul, floor_div, floormod = subtract, multiply, floordiv, mod


def truediv(x, y, name=None) -> Tensor:
    """``x / y``: ints are divided in floating point (int32/int64 -> float64, as TF)."""
    if (type(x) is not Tensor or type(y) is not Tensor) and composite_in(x, y) is not None:
        return composite_in(x, y)._dispatch(truediv, (x, y), {})
    x, y = operands(x, y, "truediv")
    if x._dtype.kind in "iu":
        ft = D.float64 if x._dtype.size >= 4 else D.float32
        x, y = cast(x, ft), cast(y, ft)
    elif x._dtype.kind != "f":
        check_kind(x, "truediv", NUMERIC)
    return _div(x, y)


divide = truediv


def div_no_nan(x, y, name=None) -> Tensor:
    x, y = operands(x, y, "div_no_nan")
    zero = equal(y, 0.0)
    return where(zero, zero_fill(x * y), truediv(x, where(zero, 1.0, y)))


divide_no_nan = div_no_nan


def logical_xor(x, y, name=None) -> Tensor:
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)))


def squared_difference(x, y, name=None) -> Tensor:
    return square(subtract(x, y))


def add_n(inputs, name=None) -> Tensor:
    if not inputs:
        raise InvalidArgumentError("add_n: inputs must be a non-empty list of tensors")
    out = inputs[0]
    for t in inputs[1:]:
        out = add(out, t)
    return out if isinstance(out, CompositeTensor) else operand(out, "add_n")


def scalar_mul(scalar, x, name=None) -> Tensor:
    return multiply(scalar, x)


def clip_by_value(t, clip_value_min, clip_value_max, name=None) -> Tensor:
    """``maximum(minimum(t, max), min)``: gradient passes where min <= t <= max."""
    return maximum(minimum(t, clip_value_max), clip_value_min)


# -- select and cast ------------------------------------------------------------------------


def where(condition, x=None, y=None, name=None) -> Tensor:
    """``tf.where``: select with broadcasting, or the int64 coordinates of true elements."""
    if x is None and y is None:
        from .array import where_indices

        return where_indices(condition)
    if x is None or y is None:
        raise InvalidArgumentError("where: x and y must both be given, or neither")
    if composite_in(condition, x, y) is not None:  # ragged operands: their own rule
        return composite_in(condition, x, y)._dispatch(where, (condition, x, y), {})
    c = operand(condition, "where", D.bool_)
    if c._dtype is not D.bool_:
        raise InvalidArgumentError(f"where: condition must be bool, got {c._dtype.name} {tuple(c._h.shape)}")
    x, y = operands(x, y, "where")
    cs, xs, ys = c._h.shape, x._h.shape, y._h.shape
    broadcast_shape(broadcast_shape(cs, xs, "where"), ys, "where")
    be = x._be
    if c._be is not be:
        from ..tensor import to_backend

        c = to_backend(c, be)
    z = wrap(be.where(c._h, x._h, y._h), x._dtype, be)
    if tapes and x._dtype.kind == "f":

        def vjp(dy, need):
            zero = zero_fill(dy)
            return (
                None,
                unbroadcast(where(c, dy, zero), xs) if need[1] else None,
                unbroadcast(where(c, zero, dy), ys) if need[2] else None,
            )

        record((c, x, y), (z,), vjp)
    return z


def cast(x, dtype, name=None) -> Tensor:
    """``tf.cast``: float -> int truncates toward zero; gradient flows between floats."""
    dt = D.as_dtype(dtype)
    if type(x) is not Tensor and composite_in(x) is not None:
        return x._dispatch(cast, (x, dt), {})
    if dt.kind == "c":  # to complex: a (real, 0) pair (no backend stores complex)
        from ..complex import ComplexTensor

        f = D.float64 if dt is D.complex128 else D.float32
        xr = cast(x, f)
        return ComplexTensor(xr, zero_fill(xr))
    x = operand(x, "cast")
    if x._dtype is dt:
        return x
    be = x._be
    if dt not in be.dtypes:
        from .. import backends
        from ..tensor import to_backend

        x = to_backend(x, backends.cpu())
        be = x._be
    y = wrap(be.cast(x._h, dt), dt, be)
    if tapes and x._dtype.kind == "f" and dt.kind == "f":
        src = x._dtype
        record((x,), (y,), lambda dy, need: (cast(dy, src),))
    return y


def saturate_cast(value, dtype, name=None) -> Tensor:
    dt = D.as_dtype(dtype)
    x = operand(value, "saturate_cast")
    if x._dtype.kind == "f" and dt.kind in "iu":
        x = clip_by_value(x, float(dt.min), float(dt.max))
    elif x._dtype.kind in "iu" and dt.kind in "iu" and (x._dtype.min < dt.min or x._dtype.max > dt.max):
        x = clip_by_value(x, max(dt.min, x._dtype.min), min(dt.max, x._dtype.max))
    return cast(x, dt)


# -- composites with their own gradients -------------------------------------------------------


def softplus(features, name=None) -> Tensor:
    """log(1 + exp(x)), computed stably; gradient sigmoid(x)."""
    x = operand(features, "softplus")
    check_kind(x, "softplus", FLOAT)
    return composite((x,), lambda: maximum(x, 0.0) + log1p(exp(-abs(x))), lambda dy, need: (dy * sigmoid(x),))


def log_sigmoid(x, name=None) -> Tensor:
    return negative(softplus(negative(x)))


def xlogy(x, y, name=None) -> Tensor:
    x, y = operands(x, y, "xlogy")
    return where(equal(x, 0.0), zero_fill(x * y), x * log(y))

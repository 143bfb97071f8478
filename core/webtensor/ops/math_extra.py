"""``tf.math`` functions the primitive set has no kernel for, composed of those it has
(exp/log/log1p/expm1/sqrt/erf and arithmetic), so every backend and every graph runs
them and their gradients come from the composition.

Accuracy: float64-level for the inverse trigonometric and hyperbolic functions, lgamma
and digamma; erfc is float32-level (about 1e-7 relative) for x >= 0.5.
"""

from __future__ import annotations

import math as _math

from .. import dtypes as D
from . import math as M
from .dispatch import FLOAT, NUMERIC, Tensor, check_kind, operand, operands
from .reduce import reduce_all, reduce_sum
from . import array as A

_ATAN_TERMS = 13  # after two half-angle steps |x| <= tan(pi/16): x^27/27 < 1e-20


def _f(x, op: str) -> Tensor:
    t = operand(x, op)
    check_kind(t, op, FLOAT)
    return t


def _safe(cond: Tensor, x: Tensor, fill: float = 1.0) -> Tensor:
    """x where cond is False, else ``fill``: keeps the unused branch of a where finite, so
    its gradient (multiplied by zero) stays finite too."""
    return M.where(cond, A.fill((), operand(fill, "math", x._dtype)), x)


def atan(x, name=None) -> Tensor:
    """Two half-angle reductions (``atan x = 2 atan(x / (1 + sqrt(1 + x^2)))``) after folding
    |x| > 1 onto 1/|x|, then the Taylor series."""
    t = _f(x, "atan")
    a = M.abs(t)
    big = M.greater(a, 1.0)
    r = M.where(big, M.reciprocal(_safe(M.logical_not(big), a)), a)
    for _ in range(2):
        r = r / (1.0 + M.sqrt(1.0 + r * r))
    r2 = r * r
    s = A.zeros_like(r)
    for k in reversed(range(_ATAN_TERMS)):
        s = (1.0 if k % 2 == 0 else -1.0) / (2 * k + 1) + r2 * s
    base = 4.0 * r * s
    base = M.where(big, _math.pi / 2 - base, base)
    return M.where(M.less(t, 0.0), -base, base)


def atan2(y, x, name=None) -> Tensor:
    """The angle of (x, y) in (-pi, pi], with TF's signs on the axes."""
    yy, xx = operands(y, x, "atan2")
    check_kind(yy, "atan2", FLOAT)
    zero_x = M.equal(xx, 0.0)
    base = atan(yy / _safe(zero_x, xx))
    pi = _math.pi
    left = M.less(xx, 0.0)
    neg_y = M.less(yy, 0.0)
    out = M.where(left, M.where(neg_y, base - pi, base + pi), base)
    on_axis = M.where(
        M.greater(yy, 0.0),
        A.fill((), operand(pi / 2, "atan2", yy._dtype)),
        M.where(neg_y, A.fill((), operand(-pi / 2, "atan2", yy._dtype)), A.zeros_like(yy)),
    )
    return M.where(zero_x, on_axis, out)


def asin(x, name=None) -> Tensor:
    t = _f(x, "asin")
    return atan2(t, M.sqrt((1.0 - t) * (1.0 + t)))


def acos(x, name=None) -> Tensor:
    t = _f(x, "acos")
    return atan2(M.sqrt((1.0 - t) * (1.0 + t)), t)


def sinh(x, name=None) -> Tensor:
    t = _f(x, "sinh")
    return 0.5 * (M.expm1(t) - M.expm1(-t))


def cosh(x, name=None) -> Tensor:
    t = _f(x, "cosh")
    return 0.5 * (M.exp(t) + M.exp(-t))


def _big(dt: D.DType) -> float:
    return 1e150 if dt is D.float64 else 1e18 if dt is D.float32 else 200.0


def asinh(x, name=None) -> Tensor:
    t = _f(x, "asinh")
    a = M.abs(t)
    huge = M.greater(a, _big(t._dtype))
    small = _safe(huge, a, 0.0)
    r = M.log1p(small + small * small / (1.0 + M.sqrt(1.0 + small * small)))
    r = M.where(huge, M.log(_safe(M.logical_not(huge), a)) + _math.log(2.0), r)
    return M.where(M.less(t, 0.0), -r, r)


def acosh(x, name=None) -> Tensor:
    t = _f(x, "acosh")
    huge = M.greater(t, _big(t._dtype))
    s = _safe(huge, t, 1.0) - 1.0
    r = M.log1p(s + M.sqrt(s * (s + 2.0)))
    return M.where(huge, M.log(_safe(M.logical_not(huge), t)) + _math.log(2.0), r)


def atanh(x, name=None) -> Tensor:
    t = _f(x, "atanh")
    return 0.5 * M.log1p(2.0 * t / (1.0 - t))


_ERFC_NR = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)


def erfc(x, name=None) -> Tensor:
    """``1 - erf(x)`` without the cancellation: below 0.5 from erf, above from the
    Chebyshev fit ``t exp(-x^2 + P(t))``, t = 1 / (1 + x/2) (fractional error < 1.2e-7)."""
    t = _f(x, "erfc")
    a = M.abs(t)
    tt = 1.0 / (1.0 + 0.5 * a)
    poly = A.zeros_like(a)
    for c in reversed(_ERFC_NR):
        poly = c + tt * poly
    tail = tt * M.exp(-a * a + poly)
    tail = M.where(M.less(t, 0.0), 2.0 - tail, tail)
    return M.where(M.less(a, 0.5), 1.0 - M.erf(t), tail)


_LANCZOS = (
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
)


def _lgamma_pos(x: Tensor) -> Tensor:
    """log Gamma(x) for x >= 0.5 by Lanczos (g = 7, 9 terms)."""
    z = x - 1.0
    s = A.fill((), operand(_LANCZOS[0], "lgamma", x._dtype)) + A.zeros_like(x)
    for i, c in enumerate(_LANCZOS[1:], 1):
        s = s + c / (z + float(i))
    t = z + 7.5
    return 0.5 * _math.log(2 * _math.pi) + (z + 0.5) * M.log(t) - t + M.log(s)


def lgamma(x, name=None) -> Tensor:
    """log |Gamma(x)|; x < 0.5 by reflection (``log(pi / |sin(pi x)|) - lgamma(1 - x)``);
    +inf at the poles 0, -1, -2, ... as TF."""
    t = _f(x, "lgamma")
    low = M.less(t, 0.5)
    hi = _lgamma_pos(M.where(low, 1.0 - t, t))
    sin = M.abs(M.sin(_math.pi * (t - M.floor(t))))
    pole = M.equal(sin, 0.0)
    refl = _math.log(_math.pi) - M.log(_safe(pole, sin)) - hi
    inf = A.fill((), operand(float("inf"), "lgamma", t._dtype))
    return M.where(low, M.where(pole, inf, refl), hi)


def digamma(x, name=None) -> Tensor:
    """psi(x): recurrence up to x + 6, then the asymptotic series; x < 0 by reflection
    (``psi(1 - x) - pi / tan(pi x)``); NaN at the poles as TF."""
    t = _f(x, "digamma")
    neg = M.less(t, 0.0)
    y = M.where(neg, 1.0 - t, t)
    acc = A.zeros_like(y)
    for k in range(6):
        acc = acc - 1.0 / (y + float(k))
    z = y + 6.0
    iz2 = 1.0 / (z * z)
    series = iz2 * (1 / 12 - iz2 * (1 / 120 - iz2 * (1 / 252 - iz2 * (1 / 240 - iz2 * (1 / 132)))))
    pos = acc + M.log(z) - 0.5 / z - series
    frac = t - M.floor(t)
    pole = M.logical_and(neg, M.equal(frac, 0.0))
    refl = pos - _math.pi / M.tan(_math.pi * _safe(pole, frac, 0.5))
    nan = A.fill((), operand(float("nan"), "digamma", t._dtype))
    return M.where(pole, nan, M.where(neg, refl, pos))


def erfinv(x, name=None) -> Tensor:
    """Giles' single-precision approximation, then Newton steps on erf (two in float64)."""
    t = _f(x, "erfinv")
    w = -M.log(M.maximum((1.0 - t) * (1.0 + t), 1e-300 if t._dtype is D.float64 else 1e-38))
    small = M.less(w, 5.0)
    ws = w - 2.5
    p1 = 2.81022636e-08
    for c in (
        3.43273939e-07,
        -3.5233877e-06,
        -4.39150654e-06,
        0.00021858087,
        -0.00125372503,
        -0.00417768164,
        0.246640727,
        1.50140941,
    ):
        p1 = c + p1 * ws
    wl = M.sqrt(M.maximum(w, 5.0)) - 3.0
    p2 = -0.000200214257
    for c in (
        0.000100950558,
        0.00134934322,
        -0.00367342844,
        0.00573950773,
        -0.0076224613,
        0.00943887047,
        1.00167406,
        2.83297682,
    ):
        p2 = c + p2 * wl
    r = M.where(small, p1, p2) * t
    edge = M.greater_equal(M.abs(t), 1.0)
    for _ in range(2 if t._dtype is D.float64 else 1):
        rs = _safe(edge, r, 0.0)
        step = (M.erf(rs) - t) / (2.0 / _math.sqrt(_math.pi) * M.exp(-rs * rs))
        r = M.where(edge, r, rs - step)
    inf = A.fill((), operand(float("inf"), "erfinv", t._dtype))
    nan = A.fill((), operand(float("nan"), "erfinv", t._dtype))
    return M.where(M.equal(t, 1.0), inf, M.where(M.equal(t, -1.0), -inf, M.where(M.greater(M.abs(t), 1.0), nan, r)))


def ndtri(x, name=None) -> Tensor:
    """The standard normal quantile: ``sqrt(2) erfinv(2p - 1)``."""
    t = _f(x, "ndtri")
    return _math.sqrt(2.0) * erfinv(2.0 * t - 1.0)


def softsign(features, name=None) -> Tensor:
    t = _f(features, "softsign")
    return t / (1.0 + M.abs(t))


def xlog1py(x, y, name=None) -> Tensor:
    """``x * log1p(y)``, 0 where x is 0 (as TF)."""
    a, b = operands(x, y, "xlog1py")
    check_kind(a, "xlog1py", FLOAT)
    zero = M.equal(a, 0.0)
    return M.where(zero, A.zeros_like(a * b), a * M.log1p(_safe(zero, b, 0.0)))


def multiply_no_nan(x, y, name=None) -> Tensor:
    """``x * y``, 0 where y is 0 even when x is inf or NaN."""
    a, b = operands(x, y, "multiply_no_nan")
    check_kind(a, "multiply_no_nan", FLOAT)
    zero = M.equal(b, 0.0)
    prod = _safe(zero, a, 0.0) * b
    return M.where(zero, A.zeros_like(prod), prod)


def reciprocal_no_nan(x, name=None) -> Tensor:
    t = _f(x, "reciprocal_no_nan")
    zero = M.equal(t, 0.0)
    return M.where(zero, A.zeros_like(t), M.reciprocal(_safe(zero, t)))


def truncatediv(x, y, name=None) -> Tensor:
    """Division rounding toward zero (C's), for ints and floats."""
    a, b = operands(x, y, "truncatediv")
    check_kind(a, "truncatediv", NUMERIC)
    if a._dtype.kind == "f":
        q = a / b
        return M.where(M.less(q, 0.0), M.ceil(q), M.floor(q))
    q = M.floordiv(a, b)
    inexact = M.not_equal(q * b, a)
    return M.where(M.logical_and(M.less(M.multiply(M.sign(a), M.sign(b)), 0), inexact), q + 1, q)


def truncatemod(x, y, name=None) -> Tensor:
    """The remainder of truncatediv: the sign of x (C's ``%``/``fmod``)."""
    a, b = operands(x, y, "truncatemod")
    return a - truncatediv(a, b) * b


def rint(x, name=None) -> Tensor:
    """Round half to even (TF's rint and round agree)."""
    return M.round(_f(x, "rint"))


def polyval(coeffs, x, name=None) -> Tensor:
    """``coeffs[0] * x^(n-1) + ... + coeffs[n-1]`` by Horner's rule."""
    t = operand(x, "polyval")
    check_kind(t, "polyval", NUMERIC)
    if not coeffs:
        return A.zeros_like(t)
    out = A.zeros_like(t) + coeffs[0]
    for c in list(coeffs)[1:]:
        out = out * t + c
    return out


def _flat_pairs(x, op):
    t = operand(x, op)
    check_kind(t, op, NUMERIC)
    flat = A.reshape(t, (-1,))
    n = flat._h.shape[0]
    return A._axis_slice(flat, 0, 0, max(n - 1, 0)), A._axis_slice(flat, 0, min(1, n), max(n - 1, 0))


def is_non_decreasing(x, name=None) -> Tensor:
    a, b = _flat_pairs(x, "is_non_decreasing")
    return reduce_all(M.less_equal(a, b))


def is_strictly_increasing(x, name=None) -> Tensor:
    a, b = _flat_pairs(x, "is_strictly_increasing")
    return reduce_all(M.less(a, b))


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None) -> Tensor:
    """``x / sqrt(max(sum(x^2, axis), epsilon))`` (TF's formula)."""
    t = _f(x, "l2_normalize")
    ax = dim if axis is None else axis
    sq = reduce_sum(t * t, ax, keepdims=True)
    return t * M.rsqrt(M.maximum(sq, epsilon))


__all__ = [
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "cosh",
    "digamma",
    "erfc",
    "erfinv",
    "is_non_decreasing",
    "is_strictly_increasing",
    "l2_normalize",
    "lgamma",
    "multiply_no_nan",
    "ndtri",
    "polyval",
    "reciprocal_no_nan",
    "rint",
    "sinh",
    "softsign",
    "truncatediv",
    "truncatemod",
    "xlog1py",
]

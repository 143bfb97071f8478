"""tf.math functions composed of primitives (atan..., lgamma, digamma, erfc, erfinv, ...):
values against Python's math module (float64) and hand values, gradients by finite
differences."""

import math

import pytest
import webtensor as tf

from tests.util import assert_close, check_grad

XS = [-3.0, -1.2, -0.3, 0.0, 0.4, 1.0, 2.5, 7.0]


@pytest.mark.parametrize(
    "name,ref,xs",
    [
        ("atan", math.atan, XS),
        ("sinh", math.sinh, XS),
        ("cosh", math.cosh, XS),
        ("asinh", math.asinh, XS),
        ("asin", math.asin, [-1.0, -0.6, 0.0, 0.3, 0.99]),
        ("acos", math.acos, [-1.0, -0.6, 0.0, 0.3, 0.99]),
        ("acosh", math.acosh, [1.0, 1.5, 4.0, 30.0]),
        ("atanh", math.atanh, [-0.9, -0.2, 0.0, 0.5, 0.95]),
        ("erfc", math.erfc, XS),
        ("lgamma", math.lgamma, [0.1, 0.5, 1.0, 2.5, 10.0, -0.5, -2.3]),
    ],
)
def test_against_python_math(name, ref, xs):
    fn = getattr(tf.math, name)
    assert_close(fn(tf.constant(xs, tf.float32)), [ref(x) for x in xs], rtol=2e-6, atol=1e-6)
    if tf.float64 in tf.constant(1.0)._be.dtypes:
        assert_close(fn(tf.constant(xs, tf.float64)), [ref(x) for x in xs], rtol=1e-7, atol=1e-12)


def test_atan2_quadrants_and_axes():
    ys = [1.0, 1.0, -1.0, -1.0, 0.0, 0.0, 2.0, -2.0]
    xs = [1.0, -1.0, -1.0, 1.0, 1.0, -1.0, 0.0, 0.0]
    assert_close(tf.math.atan2(ys, xs), [math.atan2(y, x) for y, x in zip(ys, xs)], atol=2e-7)
    assert float(tf.math.atan2(0.0, 0.0)) == 0.0


def test_special_functions_by_hand():
    # digamma(1) = -Euler-Mascheroni, digamma(1/2) = -gamma - 2 ln 2, psi(x+1) = psi(x) + 1/x
    g = 0.5772156649015329
    assert_close(tf.math.digamma([1.0, 0.5, 3.0]), [-g, -g - 2 * math.log(2.0), -g + 1.0 + 0.5], atol=2e-6)
    assert_close(tf.math.digamma([-0.5]), [-g - 2 * math.log(2.0) + 2.0 + math.pi * 0.0], atol=3e-6)
    assert math.isinf(float(tf.math.lgamma(0.0))) and math.isinf(float(tf.math.lgamma(-2.0)))
    ps = [-0.9, -0.5, 0.0, 0.3, 0.8]
    assert_close(tf.math.erf(tf.math.erfinv(ps)), ps, atol=1e-6)
    assert_close(tf.math.ndtri([0.5, 0.975]), [0.0, 1.959963984540054], atol=1e-5)
    assert math.isinf(float(tf.math.erfinv(1.0))) and math.isnan(float(tf.math.erfinv(1.5)))
    assert_close(tf.math.erfc([5.0]), [math.erfc(5.0)], rtol=2e-6)  # no cancellation in the tail


def test_small_names():
    assert tf.math.truncatediv([7, -7, 7, -7], [2, 2, -2, -2]).numpy().tolist() == [3, -3, -3, 3]
    assert tf.math.truncatemod([7, -7, 7, -7], [2, 2, -2, -2]).numpy().tolist() == [1, -1, 1, -1]
    assert_close(tf.math.truncatediv([7.5, -7.5], [2.0, 2.0]), [3.0, -3.0])
    assert_close(tf.math.softsign([-3.0, 1.0]), [-0.75, 0.5])
    assert_close(tf.math.xlog1py([0.0, 2.0], [-1.0, 1.0]), [0.0, 2 * math.log(2.0)])
    assert_close(tf.math.multiply_no_nan([float("inf"), 2.0], [0.0, 3.0]), [0.0, 6.0])
    assert_close(tf.math.reciprocal_no_nan([0.0, 4.0]), [0.0, 0.25])
    assert_close(tf.math.rint([0.5, 1.5, -2.5]), [0.0, 2.0, -2.0])
    assert_close(tf.math.polyval([1.0, -2.0, 3.0], tf.constant([0.0, 2.0])), [3.0, 3.0])
    assert bool(tf.math.is_non_decreasing([1, 1, 2])) and not bool(tf.math.is_strictly_increasing([1, 1, 2]))
    assert_close(tf.math.l2_normalize([[3.0, 4.0]], axis=1), [[0.6, 0.8]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="atan"):
        tf.math.atan(tf.constant([1, 2]))


@pytest.mark.parametrize(
    "name,xs",
    [
        ("atan", [-2.0, -0.5, 0.3, 1.5]),
        ("asin", [-0.5, 0.2, 0.7]),
        ("acos", [-0.5, 0.2, 0.7]),
        ("sinh", [-1.0, 0.5]),
        ("cosh", [-1.0, 0.5]),
        ("asinh", [-2.0, 0.5]),
        ("acosh", [1.5, 3.0]),
        ("atanh", [-0.5, 0.3]),
        ("erfc", [-1.0, 0.2, 1.3]),
        ("lgamma", [0.7, 2.5, -0.5]),
        ("digamma", [0.7, 2.5, -0.5]),
        ("erfinv", [-0.5, 0.1, 0.6]),
    ],
)
def test_gradients(name, xs):
    check_grad(getattr(tf.math, name), xs)
    check_grad(lambda y, x: tf.math.atan2(y, x), [1.0, -0.5, 2.0], [0.5, -1.0, -2.0])

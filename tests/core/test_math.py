"""Elementwise math: values against Python's math module, gradients against finite differences."""

import math

import pytest

import webtensor as tf
from util import assert_close, assert_equal, check_grad, tolist

XS = [-2.5, -0.7, 0.3, 1.2, 3.9]
POS = [0.2, 0.9, 1.7, 4.0]


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


UNARY = [  # (op, python reference, inputs)
    (tf.math.negative, lambda x: -x, XS),
    (tf.abs, abs, XS),
    (tf.sign, lambda x: (x > 0) - (x < 0), XS + [0.0]),
    (tf.square, lambda x: x * x, XS),
    (tf.sqrt, math.sqrt, POS),
    (tf.math.rsqrt, lambda x: 1 / math.sqrt(x), POS),
    (tf.math.reciprocal, lambda x: 1 / x, XS),
    (tf.exp, math.exp, XS),
    (tf.math.log, math.log, POS),
    (tf.math.log1p, math.log1p, POS),
    (tf.math.expm1, math.expm1, XS),
    (tf.sin, math.sin, XS),
    (tf.cos, math.cos, XS),
    (tf.tan, math.tan, XS),
    (tf.tanh, math.tanh, XS),
    (tf.sigmoid, _sigmoid, XS),
    (tf.math.erf, math.erf, XS),
    (tf.floor, math.floor, XS),
    (tf.math.ceil, math.ceil, XS),
    (tf.round, lambda x: float(round(x)), [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.7]),  # half to even
    (tf.math.softplus, lambda x: math.log1p(math.exp(x)), XS),
]


@pytest.mark.parametrize("op,ref,xs", UNARY, ids=[u[0].__name__ for u in UNARY])
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_unary_values(op, ref, xs, dtype):
    rtol = 2e-6 if dtype is tf.float32 else 1e-12
    y = op(tf.constant(xs, dtype))
    assert y.dtype is dtype and y.shape == (len(xs),)
    assert_close(y, [ref(x) for x in xs], rtol=rtol, atol=rtol)


DIFFERENTIABLE = [
    "negative",
    "abs",
    "square",
    "sqrt",
    "rsqrt",
    "reciprocal",
    "exp",
    "log",
    "log1p",
    "expm1",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sigmoid",
    "erf",
    "softplus",
]


@pytest.mark.parametrize(
    "op,ref,xs",
    [u for u in UNARY if u[0].__name__ in DIFFERENTIABLE],
    ids=[u[0].__name__ for u in UNARY if u[0].__name__ in DIFFERENTIABLE],
)
def test_unary_gradients(op, ref, xs):
    check_grad(op, xs)


def test_non_differentiable_unary_gradients_are_none_or_zero():
    x = tf.constant([1.5, -2.5])
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        f, s = tf.floor(x), tf.sign(x)
    assert t.gradient(f, x) is None  # TF: floor has no gradient
    assert_equal(t.gradient(s, x), [0.0, 0.0])  # TF: sign's gradient is zero


BINARY = [
    (tf.add, lambda a, b: a + b),
    (tf.subtract, lambda a, b: a - b),
    (tf.multiply, lambda a, b: a * b),
    (tf.divide, lambda a, b: a / b),
    (tf.maximum, max),
    (tf.minimum, min),
    (tf.pow, lambda a, b: a**b),
    (tf.math.floormod, lambda a, b: a - math.floor(a / b) * b),
    (tf.math.squared_difference, lambda a, b: (a - b) ** 2),
]
A = [[0.5, 1.5, 2.5], [3.0, 0.25, 1.75]]
B = [1.25, 0.7, 2.0]


@pytest.mark.parametrize("op,ref", BINARY, ids=[b[0].__name__ for b in BINARY])
def test_binary_values_broadcast(op, ref):
    y = op(tf.constant(A), tf.constant(B))
    assert y.shape == (2, 3)
    assert_close(y, [[ref(a, b) for a, b in zip(row, B)] for row in A], rtol=1e-6)


@pytest.mark.parametrize("op,ref", BINARY, ids=[b[0].__name__ for b in BINARY])
def test_binary_gradients_broadcast(op, ref):
    check_grad(op, A, B)
    check_grad(op, [[1.1], [2.3]], [[0.7, 1.9, 2.6]])  # both sides broadcast


def test_maximum_tie_gradient_goes_to_x():
    x, y = tf.constant([1.0, 2.0]), tf.constant([1.0, 3.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch([x, y])
        z = tf.maximum(x, y)
    assert_equal(t.gradient(z, x), [1.0, 0.0])
    assert_equal(t.gradient(z, y), [0.0, 1.0])


def test_pow_gradient_wrt_exponent_at_zero_base():
    x, y = tf.constant([0.0, 2.0]), tf.constant([2.0, 3.0])
    with tf.GradientTape() as t:
        t.watch(y)
        z = tf.pow(x, y)
    assert_close(t.gradient(z, y), [0.0, 8 * math.log(2.0)])


def test_comparisons_and_logical():
    a, b = tf.constant([1, 2, 3]), tf.constant([3, 2, 1])
    assert_equal(tf.equal(a, b), [False, True, False])
    assert_equal(tf.not_equal(a, b), [True, False, True])
    assert_equal(tf.less(a, b), [True, False, False])
    assert_equal(tf.less_equal(a, b), [True, True, False])
    assert_equal(tf.greater(a, b), [False, False, True])
    assert_equal(tf.greater_equal(a, b), [False, True, True])
    p, q = tf.constant([True, True, False]), tf.constant([True, False, False])
    assert_equal(tf.logical_and(p, q), [True, False, False])
    assert_equal(tf.logical_or(p, q), [True, True, False])
    assert_equal(tf.logical_not(p), [False, False, True])
    assert_equal(tf.math.logical_xor(p, q), [False, True, False])


def test_where_select_and_gradient():
    c = tf.constant([[True, False, True]])
    x = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = tf.constant([-1.0, -2.0, -3.0])
    assert_equal(tf.where(c, x, y), [[1.0, -2.0, 3.0], [4.0, -2.0, 6.0]])
    check_grad(
        lambda a, b: tf.where(tf.constant([[True, False, True]]), a, b),
        [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
        [-1.0, -2.0, -3.0],
    )
    assert_equal(tf.where(tf.constant([[True, False], [False, True]])), [[0, 0], [1, 1]])
    assert tf.where(tf.constant([True])).dtype is tf.int64


def test_cast_semantics():
    x = tf.constant([-1.7, -0.2, 0.0, 0.6, 2.9])
    assert_equal(tf.cast(x, tf.int32), [-1, 0, 0, 0, 2])  # truncation toward zero
    assert_equal(tf.cast(x, tf.bool), [True, True, False, True, True])
    assert_equal(tf.cast(tf.constant([True, False]), tf.float32), [1.0, 0.0])
    assert_equal(tf.cast(tf.constant([300, -1]), tf.uint8), [44, 255])  # wraps
    assert tf.cast(x, tf.float16).dtype is tf.float16
    a64 = tf.constant([1.0, 2.0], tf.float64)
    with tf.GradientTape() as t:
        t.watch(a64)
        y = tf.reduce_sum(tf.cast(tf.cast(a64, tf.float32), tf.float64) * tf.constant([2.0, 3.0], tf.float64))
    assert_equal(t.gradient(y, a64), [2.0, 3.0])  # float64 -> float32 -> float64, exact here
    with tf.GradientTape() as t:
        t.watch(x)
        z = tf.cast(tf.cast(x, tf.int32), tf.float32)
    assert t.gradient(z, x) is None


def test_clip_by_value():
    x = tf.constant([-2.0, 0.5, 3.0])
    assert_equal(tf.clip_by_value(x, -1.0, 1.0), [-1.0, 0.5, 1.0])
    check_grad(lambda a: tf.clip_by_value(a, -1.0, 1.0), [-2.0, 0.5, 3.0])


def test_dtype_errors_name_the_op():
    with pytest.raises(tf.errors.InvalidArgumentError, match="exp: dtype int32"):
        tf.exp(tf.constant([1, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="logical_and"):
        tf.logical_and(tf.constant([1.0]), tf.constant([1.0]))


def test_shape_mismatch_error_names_op_and_shapes():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        tf.add(tf.zeros((2, 3)), tf.zeros((4,)))


def test_float16_arithmetic():
    h = tf.constant([1.5, 2.25], tf.float16)
    y = h * h + 1.0
    assert y.dtype is tf.float16
    assert_close(y, [3.25, 6.0625], rtol=1e-3)


def test_div_no_nan_and_add_n():
    assert_equal(tf.math.divide_no_nan(tf.constant([1.0, 2.0]), tf.constant([0.0, 4.0])), [0.0, 0.5])
    assert_equal(tf.add_n([tf.constant([1, 2]), tf.constant([3, 4]), tf.constant([5, 6])]), [9, 12])


def test_is_nan_finite_inf():
    x = tf.constant([1.0, float("nan"), float("inf"), -float("inf")])
    assert_equal(tf.math.is_nan(x), [False, True, False, False])
    assert_equal(tf.math.is_finite(x), [True, False, False, False])
    assert_equal(tf.math.is_inf(x), [False, False, True, True])


def test_empty_and_scalar_broadcast():
    e = tf.zeros((0, 3))
    assert (e + tf.constant([1.0, 2.0, 3.0])).shape == (0, 3)
    assert tolist(tf.constant(2.0) * tf.constant([[1.0], [2.0]])) == [[2.0], [4.0]]

"""Reductions, arg-reductions and cumulative ops: values by hand, gradients by finite differences."""

import math

import pytest

import webtensor as tf
from util import assert_close, assert_equal, check_grad

X = [[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]


@pytest.mark.parametrize(
    "axis,keepdims,want",
    [
        (None, False, 5.0),
        (0, False, [5.0, 3.0, -3.0]),
        (1, False, [2.0, 3.0]),
        (-1, True, [[2.0], [3.0]]),
        ([0, 1], False, 5.0),
        ((1, 0), True, [[5.0]]),
    ],
)
def test_reduce_sum_axes(axis, keepdims, want):
    assert_equal(tf.reduce_sum(tf.constant(X), axis=axis, keepdims=keepdims), want)


def test_reductions_values():
    x = tf.constant(X)
    assert_close(tf.reduce_mean(x, 0), [2.5, 1.5, -1.5])
    assert_equal(tf.reduce_max(x, 1), [3.0, 5.0])
    assert_equal(tf.reduce_min(x), -6.0)
    assert_equal(tf.reduce_prod(x, 1), [-6.0, -120.0])
    assert_close(tf.reduce_logsumexp(x, 1), [math.log(sum(math.exp(v) for v in r)) for r in X])
    assert_close(tf.math.reduce_variance(x, 1), [sum((v - sum(r) / 3) ** 2 for v in r) / 3 for r in X])
    b = tf.constant([[True, False], [True, True]])
    assert_equal(tf.reduce_any(b, 1), [True, True])
    assert_equal(tf.reduce_all(b, 1), [False, True])
    assert_equal(tf.reduce_mean(tf.constant([1, 2, 4])), 2)  # integer mean truncates
    assert_equal(tf.reduce_sum(tf.constant([[1, 2], [3, 4]]), 0), [4, 6])


def test_empty_reductions_give_identities():
    e = tf.zeros((0, 2))
    assert_equal(tf.reduce_sum(e, 0), [0.0, 0.0])
    assert_equal(tf.reduce_prod(e, 0), [1.0, 1.0])
    assert_equal(tf.reduce_max(e, 0), [-math.inf, -math.inf])


def test_logsumexp_is_stable():
    assert_close(tf.reduce_logsumexp(tf.constant([1000.0, 1000.0])), 1000.0 + math.log(2.0))


def test_argmax_argmin():
    x = tf.constant([[1.0, 7.0, 7.0], [9.0, 0.0, 9.0]])
    a = tf.argmax(x, axis=1)
    assert a.dtype is tf.int64
    assert_equal(a, [1, 0])  # first occurrence on ties
    assert_equal(tf.argmax(x), [1, 0, 1])  # default axis 0
    assert_equal(tf.argmin(x, 1, output_type=tf.int32), [0, 1])


def test_cumsum_cumprod_flags():
    x = tf.constant([1.0, 2.0, 3.0, 4.0])
    assert_equal(tf.cumsum(x), [1.0, 3.0, 6.0, 10.0])
    assert_equal(tf.cumsum(x, exclusive=True), [0.0, 1.0, 3.0, 6.0])
    assert_equal(tf.cumsum(x, reverse=True), [10.0, 9.0, 7.0, 4.0])
    assert_equal(tf.cumsum(x, exclusive=True, reverse=True), [9.0, 7.0, 4.0, 0.0])
    assert_equal(tf.math.cumprod(x), [1.0, 2.0, 6.0, 24.0])
    assert_equal(tf.cumsum(tf.constant([[1, 2], [3, 4]]), axis=1), [[1, 3], [3, 7]])


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: tf.reduce_sum(x, 1),
        lambda x: tf.reduce_sum(x, [0], keepdims=True) * x,
        lambda x: tf.reduce_mean(x, 0),
        lambda x: tf.reduce_max(x, 1),
        lambda x: tf.reduce_min(x, 0, keepdims=True),
        lambda x: tf.reduce_prod(x, 1),
        lambda x: tf.reduce_logsumexp(x, 1),
        lambda x: tf.math.reduce_std(x, 0),
        lambda x: tf.cumsum(x, 1) * x,
        lambda x: tf.cumsum(x, 0, exclusive=True, reverse=True) * x,
        lambda x: tf.math.cumprod(x, 1),
    ],
    ids=[
        "sum",
        "sum_keep_bcast",
        "mean",
        "max",
        "min",
        "prod",
        "logsumexp",
        "std",
        "cumsum",
        "cumsum_excl_rev",
        "cumprod",
    ],
)
def test_reduction_gradients(fn):
    check_grad(fn, [[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]])


def test_max_gradient_splits_ties_like_tf():
    x = tf.constant([2.0, 5.0, 5.0])
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.reduce_max(x)
    assert_equal(t.gradient(y, x), [0.0, 0.5, 0.5])


def test_prod_gradient_with_zero():
    check_grad(lambda x: tf.reduce_prod(x, 1), [[0.0, 2.0, 3.0], [0.0, 0.0, 4.0]])


def test_invalid_axis_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match="reduce_sum: axis 2 is out of range"):
        tf.reduce_sum(tf.zeros((2, 3)), axis=2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="argmax"):
        tf.argmax(tf.zeros((2, 3)), axis=-3)

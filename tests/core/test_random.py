"""tf.random: seeded reproducibility, ranges and moments, and the cross-backend bit stream."""

import math

import pytest

import webtensor as tf
from util import assert_close, tolist
from webtensor.backends.base import random_u32


def _flat(t):
    v = tolist(t)
    out = []
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, list):
            stack.extend(reversed(x))
        else:
            out.append(x)
    return out


def test_set_seed_makes_sequences_reproducible():
    tf.random.set_seed(42)
    a = [tolist(tf.random.uniform([3])), tolist(tf.random.normal([2, 2])), tolist(tf.random.shuffle(tf.range(6)))]
    tf.random.set_seed(42)
    b = [tolist(tf.random.uniform([3])), tolist(tf.random.normal([2, 2])), tolist(tf.random.shuffle(tf.range(6)))]
    assert a == b
    tf.random.set_seed(43)
    assert tolist(tf.random.uniform([3])) != a[0]


def test_op_seed_calls_differ_within_a_run():
    tf.random.set_seed(1)
    x, y = tolist(tf.random.uniform([4], seed=7)), tolist(tf.random.uniform([4], seed=7))
    assert x != y


def test_uniform_range_dtype_and_moments():
    u = tf.random.uniform([20000], minval=-2.0, maxval=3.0)
    vals = _flat(u)
    assert u.dtype is tf.float32 and min(vals) >= -2.0 and max(vals) < 3.0
    mean = sum(vals) / len(vals)
    assert abs(mean - 0.5) < 0.05
    i = tf.random.uniform([1000], minval=3, maxval=7, dtype=tf.int32)
    iv = _flat(i)
    assert i.dtype is tf.int32 and set(iv) == {3, 4, 5, 6}
    with pytest.raises(tf.errors.InvalidArgumentError, match="maxval"):
        tf.random.uniform([2], dtype=tf.int32)
    assert tf.random.uniform([2], dtype=tf.float64).dtype is tf.float64


def test_normal_and_truncated_normal_moments():
    n = _flat(tf.random.normal([20000], mean=1.0, stddev=2.0))
    mean = sum(n) / len(n)
    sd = math.sqrt(sum((v - mean) ** 2 for v in n) / len(n))
    assert abs(mean - 1.0) < 0.06 and abs(sd - 2.0) < 0.06
    t = _flat(tf.random.truncated_normal([20000], stddev=0.5))
    assert max(abs(v) for v in t) <= 1.0 + 1e-6
    tsd = math.sqrt(sum(v * v for v in t) / len(t))
    assert abs(tsd - 0.5 * 0.8796) < 0.02  # sd of a normal truncated at 2 sigma is 0.8796 sigma


def test_shuffle_is_a_permutation():
    s = tf.random.shuffle(tf.reshape(tf.range(20), (10, 2)))
    rows = [tuple(r) for r in tolist(s)]
    assert sorted(rows) == [(2 * i, 2 * i + 1) for i in range(10)]


def test_uniform_matches_the_reference_bit_stream():
    """Every backend draws bits from base.random_u32; check the value formula end to end."""
    tf.random.set_seed(9)
    from webtensor.ops import random as R

    key = R._key(None)
    tf.random.set_seed(9)
    u = _flat(tf.random.uniform([8]))
    assert_close(u, [(random_u32(i, key) >> 8) * 2.0**-24 for i in range(8)], rtol=0, atol=0)


def test_categorical_samples_valid_classes():
    s = tf.random.categorical(tf.math.log(tf.constant([[0.0001, 0.9999]])), 50)
    assert s.shape == (1, 50) and s.dtype is tf.int64
    assert sum(_flat(s)) >= 45

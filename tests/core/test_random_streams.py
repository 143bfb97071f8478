"""tf.random.Generator, stateless samplers, gamma/poisson: determinism rules as TF
documents them, and sample moments against the distributions' formulas (fixed seeds, so
the checks are deterministic; tolerances are several standard errors)."""

import math

import pytest
import webtensor as tf

from tests.util import assert_close, tolist


def _moments(x):
    v = [float(a) for a in (tolist(x) if not isinstance(x, list) else x)]
    mean = sum(v) / len(v)
    return mean, sum((a - mean) ** 2 for a in v) / len(v)


def test_stateless_is_a_function_of_the_seed():
    a = tf.random.stateless_normal([5], seed=[1, 2])
    assert tolist(a) == tolist(tf.random.stateless_normal([5], seed=tf.constant([1, 2], tf.int64)))
    assert tolist(a) != tolist(tf.random.stateless_normal([5], seed=[1, 3]))
    tf.random.normal([3])  # stateful ops in between do not change stateless results
    assert tolist(a) == tolist(tf.random.stateless_normal([5], seed=[1, 2]))
    u = tf.random.stateless_uniform([1000], seed=[7, 7], minval=2, maxval=5, dtype=tf.int32)
    vals = tolist(u)
    assert u.dtype == tf.int32 and set(vals) == {2, 3, 4}


def test_a_python_seed_is_read_while_tracing():
    """TF: a stateless op's Python seed is part of the trace, so the function gives the eager
    draw; an image augmentation with a seed pair traces too."""
    f = tf.function(lambda x: tf.random.stateless_normal([4], seed=[3, 4]) + x)
    assert_close(f(tf.constant(0.0)), tolist(tf.random.stateless_normal([4], seed=[3, 4])), atol=0)
    img = tf.reshape(tf.range(6.0), (1, 6, 1))
    g = tf.function(lambda x: tf.image.stateless_random_flip_left_right(x, seed=(5, 6)))
    assert tolist(g(img)) == tolist(tf.image.stateless_random_flip_left_right(img, seed=(5, 6)))


def test_generator_state_and_reproducibility():
    g = tf.random.Generator.from_seed(42)
    first, second = tolist(g.normal([3])), tolist(g.normal([3]))
    assert first != second and tolist(g.state)[2] == 2
    h = tf.random.Generator.from_seed(42)
    assert tolist(h.normal([3])) == first
    h.reset_from_seed(42)
    assert tolist(h.normal([3])) == first
    c = tf.random.Generator(copy_from=g)
    assert tolist(c.normal([3])) == tolist(g.normal([3]))
    kids = g.split(2)
    assert tolist(kids[0].normal([4])) != tolist(kids[1].normal([4]))
    assert tuple(g.make_seeds(3).shape) == (2, 3)
    assert tuple(tf.random.experimental.stateless_split([1, 2], num=3).shape) == (3, 2)
    f1 = tf.random.experimental.stateless_fold_in([1, 2], 7)
    assert tolist(f1) == tolist(tf.random.experimental.stateless_fold_in([1, 2], 7))
    assert tolist(f1) != tolist(tf.random.experimental.stateless_fold_in([1, 2], 8))
    tf.random.set_global_generator(tf.random.Generator.from_seed(3))
    assert tolist(tf.random.get_global_generator().uniform([2])) == tolist(
        tf.random.Generator.from_seed(3).uniform([2])
    )


def test_generator_in_a_function_draws_new_numbers_each_call():
    g = tf.random.Generator.from_seed(5)
    f = tf.function(lambda: g.normal([4]))
    assert tolist(f()) != tolist(f())


def test_distributions_moments():
    n = 20000
    mean, var = _moments(tf.random.stateless_binomial([n], seed=[1, 1], counts=10.0, probs=0.3))
    assert abs(mean - 3.0) < 0.05 and abs(var - 2.1) < 0.1
    p = tf.random.stateless_poisson([n], seed=[2, 1], lam=[3.0, 40.0])
    assert tuple(p.shape) == (n, 2) and p.dtype == tf.int32
    cols = list(zip(*tolist(p)))
    for col, lam in zip(cols, (3.0, 40.0)):
        mean, var = _moments(list(col))
        assert abs(mean - lam) < 4 * math.sqrt(lam / n) and abs(var - lam) < 0.1 * lam
    g = tf.random.stateless_gamma([n], seed=[3, 1], alpha=[0.5, 4.0], beta=2.0)
    for col, a in zip(zip(*tolist(g)), (0.5, 4.0)):
        mean, var = _moments(list(col))
        assert abs(mean - a / 2) < 0.02 * a + 0.01 and abs(var - a / 4) < 0.06 * a
    t = tf.random.stateless_truncated_normal([n], seed=[4, 1], mean=1.0, stddev=2.0)
    vals = tolist(t)
    assert max(vals) <= 5.0 and min(vals) >= -3.0
    mean, var = _moments(vals)
    assert abs(mean - 1.0) < 0.05 and abs(math.sqrt(var) - 2 * 0.87962) < 0.03
    c = tf.random.stateless_categorical(tf.math.log([[0.2, 0.8]]), 5000, seed=[5, 1])
    assert abs(_moments(tolist(c)[0])[0] - 0.8) < 0.02
    gg = tf.random.Generator.from_seed(9)
    mean, var = _moments(gg.uniform([n], minval=-1.0, maxval=3.0))
    assert abs(mean - 1.0) < 0.04 and abs(var - 16 / 12) < 0.05
    assert tuple(tf.random.gamma([7], alpha=[1.0, 2.0, 3.0]).shape) == (7, 3)
    assert tuple(tf.random.poisson([7], lam=[1.0, 2.0]).shape) == (7, 2)


def test_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="shape \\[2\\] integer"):
        tf.random.stateless_normal([2], seed=[1, 2, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="known when the function is traced"):
        tf.function(lambda s: tf.random.stateless_normal([2], seed=s))(tf.constant([1, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="minval and maxval"):
        tf.random.Generator.from_seed(1).uniform([2], maxval=None, dtype=tf.int32)
    assert_close(tf.random.stateless_uniform([2], seed=[1, 1], minval=3.0, maxval=3.0), [3.0, 3.0])

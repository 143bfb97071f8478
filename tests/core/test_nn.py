"""tf.nn activations, softmax and cross-entropies, dropout and normalisation helpers."""

import math

import pytest

import webtensor as tf
from util import assert_close, assert_equal, check_grad, tolist

XS = [-3.0, -0.5, 0.25, 2.0, 7.0]


def _sig(x):
    return 1 / (1 + math.exp(-x))


ACTS = [
    (tf.nn.relu, lambda x: max(x, 0.0)),
    (tf.nn.relu6, lambda x: min(max(x, 0.0), 6.0)),
    (tf.nn.leaky_relu, lambda x: x if x > 0 else 0.2 * x),
    (tf.nn.elu, lambda x: x if x > 0 else math.expm1(x)),
    (tf.nn.selu, lambda x: 1.0507009873554805 * (x if x > 0 else 1.6732632423543772 * math.expm1(x))),
    (tf.nn.gelu, lambda x: 0.5 * x * (1 + math.erf(x / math.sqrt(2)))),
    (
        lambda x: tf.nn.gelu(x, approximate=True),
        lambda x: 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    ),
    (tf.nn.softplus, lambda x: math.log1p(math.exp(x))),
    (tf.nn.silu, lambda x: x * _sig(x)),
    (tf.nn.swish, lambda x: x * _sig(x)),
    (tf.nn.sigmoid, _sig),
    (tf.nn.tanh, math.tanh),
]
IDS = [
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "gelu_tanh",
    "softplus",
    "silu",
    "swish",
    "sigmoid",
    "tanh",
]


@pytest.mark.parametrize("fn,ref", ACTS, ids=IDS)
def test_activation_values(fn, ref):
    assert_close(fn(tf.constant(XS)), [ref(x) for x in XS], rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("fn,ref", ACTS, ids=IDS)
def test_activation_gradients(fn, ref):
    check_grad(fn, [-3.0, -0.5, 0.25, 2.0, 5.5])


def _softmax(row):
    m = max(row)
    e = [math.exp(v - m) for v in row]
    return [v / sum(e) for v in e]


LOGITS = [[2.0, 1.0, 0.1], [-1.0, 3.0, 0.5]]


def test_softmax_and_log_softmax():
    assert_close(tf.nn.softmax(tf.constant(LOGITS)), [_softmax(r) for r in LOGITS])
    assert_close(tf.nn.log_softmax(tf.constant(LOGITS)), [[math.log(p) for p in _softmax(r)] for r in LOGITS])
    cols = tf.nn.softmax(tf.constant(LOGITS), axis=0)
    assert_close(tf.reduce_sum(cols, 0), [1.0, 1.0, 1.0])
    assert_close(tf.nn.softmax(tf.constant([1000.0, 1000.0])), [0.5, 0.5])
    w = [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]
    check_grad(lambda x: tf.nn.softmax(x) * tf.constant(w, x.dtype), LOGITS)
    check_grad(lambda x: tf.nn.log_softmax(x, axis=0) * tf.constant(w, x.dtype), LOGITS)


def test_sparse_softmax_cross_entropy():
    labels = [0, 1]
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant(labels), logits=tf.constant(LOGITS))
    assert_close(loss, [-math.log(_softmax(r)[k]) for r, k in zip(LOGITS, labels)])
    check_grad(lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant([2, 0]), x), LOGITS)
    if loss.device.endswith("GPU:0"):  # an out-of-range label gives NaN on GPUs, as TF on GPUs
        bad = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant([0, 3]), tf.constant(LOGITS))
        assert_close(bad, [-math.log(_softmax(LOGITS[0])[0]), float("nan")])
    else:
        with pytest.raises(tf.errors.InvalidArgumentError, match="label value of 3"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant([0, 3]), tf.constant(LOGITS))
    with pytest.raises(tf.errors.InvalidArgumentError, match="labels shape"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant([0]), tf.constant(LOGITS))


def test_softmax_cross_entropy_dense_labels():
    labels = [[0.2, 0.8, 0.0], [0.0, 0.5, 0.5]]
    loss = tf.nn.softmax_cross_entropy_with_logits(tf.constant(labels), tf.constant(LOGITS))
    want = [-sum(l * math.log(p) for l, p in zip(lr, _softmax(r))) for lr, r in zip(labels, LOGITS)]
    assert_close(loss, want)
    check_grad(lambda lab, x: tf.nn.softmax_cross_entropy_with_logits(lab, x), labels, LOGITS)


def test_sigmoid_cross_entropy():
    z, x = [0.0, 1.0, 0.3, 1.0], [-2.0, 0.5, 3.0, -40.0]
    loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.constant(z), logits=tf.constant(x))
    want = [max(v, 0) - v * t + math.log1p(math.exp(-abs(v))) for t, v in zip(z, x)]
    assert_close(loss, want)
    check_grad(lambda a, b: tf.nn.sigmoid_cross_entropy_with_logits(a, b), z, x)


def test_dropout_scales_and_is_seeded():
    x = tf.ones((100, 100))
    y = tf.nn.dropout(x, rate=0.25, seed=3)
    vals = set(round(v, 5) for row in tolist(y) for v in row)
    assert vals <= {0.0, round(1 / 0.75, 5)}
    kept = float(tf.reduce_mean(tf.cast(y > 0, tf.float32)))
    assert 0.72 < kept < 0.78
    assert tf.nn.dropout(x, rate=0.0) is x or tolist(tf.nn.dropout(x, rate=0.0)) == tolist(x)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.nn.dropout(x, rate=1.0)
    tf.random.set_seed(5)
    a = tolist(tf.nn.dropout(tf.ones((4, 4)), 0.5))
    tf.random.set_seed(5)
    assert tolist(tf.nn.dropout(tf.ones((4, 4)), 0.5)) == a


def test_bias_add_l2_normalize_moments_batchnorm():
    x = tf.constant([[1.0, 2.0], [3.0, 6.0]])
    assert_equal(tf.nn.bias_add(x, tf.constant([1.0, -1.0])), [[2.0, 1.0], [4.0, 5.0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="bias_add"):
        tf.nn.bias_add(x, tf.constant([1.0, 2.0, 3.0]))
    assert_close(tf.nn.l2_normalize(tf.constant([3.0, 4.0]), 0), [0.6, 0.8])
    mean, var = tf.nn.moments(x, axes=[0])
    assert_close(mean, [2.0, 4.0])
    assert_close(var, [1.0, 4.0])
    y = tf.nn.batch_normalization(
        x, mean, var, offset=tf.constant([0.0, 1.0]), scale=tf.constant([2.0, 1.0]), variance_epsilon=0.0
    )
    assert_close(y, [[-2.0, 0.0], [2.0, 2.0]])
    check_grad(lambda a: tf.nn.l2_normalize(a, 1), [[1.0, 2.0], [3.0, -1.0]])
    check_grad(lambda a: tf.nn.moments(a, [0])[1], [[1.0, 2.0], [3.0, -1.0], [0.5, 0.2]])
    check_grad(
        lambda a: (
            tf.nn.batch_normalization(a, *tf.nn.moments(a, [0]), None, None, 1e-3)
            * tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], a.dtype)
        ),
        [[1.0, 2.0], [3.0, -1.0], [0.5, 0.2]],
        rtol=1e-4,
    )


def test_top_k_and_in_top_k():
    v, i = tf.math.top_k(tf.constant([[1.0, 5.0, 3.0, 4.0]]), k=2)
    assert_equal(v, [[5.0, 4.0]])
    assert_equal(i, [[1, 3]])
    assert_equal(
        tf.math.in_top_k(tf.constant([3, 0]), tf.constant([[1.0, 5.0, 3.0, 4.0], [9.0, 1.0, 2.0, 3.0]]), 2),
        [True, True],
    )

"""Public ops and their gradients on the GPU against the same code on the CPU (numpy),
including views (strided, reversed and transposed slices), size-1 and empty dims,
fused kernels, and the random stream. float32 composites: rtol 1e-4, atol 1e-5."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")

import webtensor as tf  # noqa: E402
from webtensor.ops.nn import bias_activation  # noqa: E402

pytestmark = pytest.mark.numpy
RTOL, ATOL = 1e-4, 1e-5


def _run(device, fn, arrays, seed):
    with tf.device(device):
        xs = [tf.constant(a) for a in arrays]
        with tf.GradientTape() as tape:
            for x in xs:
                tape.watch(x)
            y = fn(*xs)
            w = tf.constant(np.random.default_rng(seed).standard_normal(tuple(y.shape)).astype(np.float32))
            loss = tf.reduce_sum(y * w)
        grads = tape.gradient(loss, xs)
    assert y.device.endswith(device[1:]), (y.device, device)
    return y.numpy(), [None if g is None else g.numpy() for g in grads]


def check(fn, *shapes, seed=0, positive=False):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    if positive:
        arrays = [np.abs(a) + 0.5 for a in arrays]
    y_cpu, g_cpu = _run("/CPU:0", fn, arrays, seed)
    y_gpu, g_gpu = _run("/GPU:0", fn, arrays, seed)
    np.testing.assert_allclose(y_gpu, y_cpu, RTOL, ATOL)
    for a, b in zip(g_gpu, g_cpu):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, RTOL, ATOL)


CASES = {
    "strided and reversed views": (lambda x: tf.matmul(tf.sin(x[1:, ::2]), tf.transpose(x)[::-2, :3]), [(4, 6)]),
    "transposed reductions": (
        lambda x: tf.reduce_max(tf.transpose(x, [2, 0, 1]), axis=[0, 1]) + tf.reduce_mean(x[:, ::-1, 1:], axis=[0, 1]),
        [(2, 3, 4)],
    ),
    "size-1 broadcasting": (lambda a, b: tf.maximum(a, b) * a / (b * b + 1.0), [(3, 1, 4), (1, 5, 1)]),
    "scalar operands": (lambda a, s: a * s - tf.exp(s) + 2.0, [(2, 3), ()]),
    "empty tensors": (lambda a, b: tf.concat([a * 2.0, b], 0) + tf.reduce_sum(a), [(0, 3), (2, 3)]),
    "unary math": (
        lambda x: tf.tanh(x) + tf.sigmoid(x) * tf.math.erf(x) - tf.math.softplus(x) + tf.abs(x) ** 1.5,
        [(5, 7)],
    ),
    "dense relu": (lambda x, w, b: tf.nn.relu(x @ w + b), [(8, 16), (16, 4), (4,)]),
    "fused bias + activation (Dense, Conv2D)": (
        lambda x, w, b: sum(bias_activation(x @ w, b, a) for a in ("linear", "relu", "sigmoid", "tanh")),
        [(8, 16), (16, 4), (4,)],
    ),
    "batched matmul transposes": (
        lambda a, b: tf.matmul(a, b, transpose_b=True) + tf.matmul(a, a, transpose_a=True)[..., :3, :],
        [(2, 3, 4), (4, 4)],
    ),
    "softmax family": (
        lambda x: tf.nn.softmax(x) + tf.nn.log_softmax(x, axis=0) + tf.reduce_logsumexp(x, 1, keepdims=True),
        [(6, 5)],
    ),
    "sparse softmax xent": (
        lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant([0, 3, 4, 1]), x),
        [(4, 5)],
    ),
    "softmax xent": (lambda lab, x: tf.nn.softmax_cross_entropy_with_logits(tf.nn.softmax(lab), x), [(3, 4), (3, 4)]),
    "conv pool": (
        lambda x, k: (
            tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(x, k, 1, "SAME")), 2, 2, "VALID")
            + tf.nn.avg_pool2d(tf.nn.conv2d(x, k, 2, "SAME"), 1, 1, "VALID")
        ),
        [(2, 6, 6, 3), (3, 3, 3, 4)],
    ),
    "grouped strided conv": (
        lambda x, k: tf.nn.conv2d(x, k, [1, 2, 1, 1], [[0, 0], [1, 1], [0, 1], [0, 0]]),
        [(1, 7, 5, 4), (2, 3, 2, 6)],
    ),
    "depthwise and transpose conv": (
        lambda x, k: (
            tf.nn.depthwise_conv2d(x, k, [1, 1, 1, 1], "SAME")
            + tf.nn.conv2d_transpose(
                tf.nn.conv2d(x, tf.ones([2, 2, 2, 3]), 2, "SAME"), tf.ones([2, 2, 2, 3]), [1, 4, 4, 2], 2, "SAME"
            )
        ),
        [(1, 4, 4, 2), (3, 3, 2, 1)],
    ),
    "gather and segment sums": (
        lambda x: tf.gather(x, [2, 0, 2, 1]) * 2.0 + tf.math.unsorted_segment_sum(x, [1, 0, 1], 4),
        [(3, 5)],
    ),
    "pad tile split": (
        lambda x: tf.concat(tf.split(tf.pad(x, [[1, 0], [0, 2]]), 2, axis=1), 0) + tf.tile(x[:1, :1], [8, 2]),
        [(3, 2)],
    ),
    "scans": (lambda x: tf.cumsum(x, 1) + tf.math.cumprod(x, 0, exclusive=True, reverse=True), [(3, 4)]),
    "where and clips": (lambda a, b: tf.where(a > b, a * b, tf.clip_by_value(b, -0.5, 0.5)), [(4, 3), (4, 3)]),
    "norms": (lambda x: tf.norm(x, axis=1) + tf.nn.l2_normalize(x, 1)[:, 0], [(5, 3)]),
    "moments": (lambda x: tf.nn.moments(x, [0])[1] + tf.nn.moments(x, [0])[0], [(16, 3)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_op_and_gradient_match_the_cpu(gpu, name):
    fn, shapes = CASES[name]
    check(fn, *shapes)


def test_positive_domain_ops(gpu):
    check(lambda x: tf.sqrt(x) + tf.math.log(x) + tf.math.rsqrt(x) + tf.math.log1p(x) + x**x, (4, 4), positive=True)


def test_random_draws_agree_across_devices(gpu):
    out = {}
    for dev in ("/CPU:0", "/GPU:0"):
        tf.random.set_seed(7)
        with tf.device(dev):
            out[dev] = [
                tf.random.uniform([1000]).numpy(),
                tf.random.normal([1000]).numpy(),
                tf.random.truncated_normal([300]).numpy(),
            ]
    for a, b in zip(out["/CPU:0"], out["/GPU:0"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)
    assert np.array_equal(out["/CPU:0"][0], out["/GPU:0"][0])  # uniform: bit for bit


def test_dropout_masks_agree_across_devices(gpu):
    out = {}
    for dev in ("/CPU:0", "/GPU:0"):
        tf.random.set_seed(3)
        with tf.device(dev):
            out[dev] = tf.nn.dropout(tf.ones([200]), 0.5).numpy()
    assert np.array_equal(out["/CPU:0"], out["/GPU:0"])

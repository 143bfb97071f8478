"""Kernels that read params the host wrote, and return extra outputs through them, keep
working after the backend's memory grows (no numpy: in the page growth detaches the views
the wasm runtime keeps of its params block, which it must then renew)."""

import math

import webtensor as tf
from webtensor import backends


def _grow() -> object:
    """A tensor larger than the wasm backend's linear memory today (so memory must grow);
    4 MiB on other backends."""
    be = backends.default()
    n = 1 << 20
    if be.name == "wasm":
        n = be.memory_stats()["memory_bytes"] // 4 + (1 << 20)
    return tf.fill([n], 1.0)


def test_compiled_and_eager_ops_after_memory_grows():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    labels = tf.constant([0, 1])

    @tf.function
    def f(a, lab):
        return tf.nn.relu(a @ a + 1.0), tf.nn.sparse_softmax_cross_entropy_with_logits(lab, a), tf.exp(a) * 0.5

    # by hand: a @ a = [[7, 10], [15, 22]]; xent of row [1, 2] at 0 is log(e + e^2) - 1, row [3, 4] at 1: log(e^3 + e^4) - 4
    want_mm = [[8.0, 11.0], [16.0, 23.0]]
    want_xent = [math.log(math.e + math.e**2) - 1.0, math.log(math.e**3 + math.e**4) - 4.0]
    want_exp = [[0.5 * math.exp(v) for v in row] for row in ([1.0, 2.0], [3.0, 4.0])]

    def check(outs):
        mm, xent, ex = (t.numpy().tolist() for t in outs)
        assert mm == want_mm
        assert all(abs(g - w) <= 1e-6 for g, w in zip(xent, want_xent))
        assert all(abs(g - w) <= 1e-5 * w for gr, wr in zip(ex, want_exp) for g, w in zip(gr, wr))

    check(f(x, labels))
    big = _grow()
    assert tf.matmul(x, x).numpy().tolist() == [[7.0, 10.0], [15.0, 22.0]]  # eager, first op after growth
    check(f(x, labels))
    big2 = _grow()
    check(f(x, labels))  # compiled, first call after growth
    assert float(tf.reduce_sum(big[:3])) == 3.0 and float(tf.reduce_sum(big2[-2:])) == 2.0

"""Fusion on the wasm backend: the compiled train step against eager (kernel calls and
values), and wt_fused / wt_matmul_fused against the unfused kernels on odd shapes."""

import pytest

import webtensor as tf
from webtensor import backends
from webtensor.function import passes

from fusion_case import flat, run


def test_compiled_train_step_uses_half_the_kernel_calls(wasm):
    r = run("wasm")
    eager, compiled = r["counts"]["eager"], r["counts"]["compiled"]
    assert compiled * 2 <= eager, r["counts"]
    # by hand: 5 matmuls (4 with an epilogue: +b1,relu / +b2 / relu grad / W1 and W2 updates),
    # softmax-xent, 3 sums (loss, two bias grads), {loss scale, dlogits}, {2 bias updates};
    # + 2 for the label-range assert (in-range compare, all) that TF makes on CPU
    assert compiled <= 13
    for a, b in zip(r["losses"]["eager"], r["losses"]["compiled"]):
        assert abs(a - b) <= 1e-6 * max(1.0, abs(a))
    for we, wc in zip(r["eager"], r["compiled"]):
        assert all(abs(a - b) <= 1e-6 * max(1.0, abs(a)) for a, b in zip(flat(we), flat(wc)))


@pytest.fixture
def on_wasm(wasm):
    backends.set_default("wasm")
    yield wasm
    backends.set_default(None)


@pytest.mark.parametrize("n", [1, 3, 255, 256, 257, 1000])
def test_fused_program_matches_unfused_kernels(on_wasm, n):
    """Blocks of 256 with a ragged tail; loads in place, broadcast along either dim, and
    gathered (a [k,1,m] operand needs a strided walk); bool registers and a cast."""

    def f(x, col, row, grid):
        s = x * col + row  # [n, 4]: broadcast column and row
        t = tf.where(s > 0.5, tf.exp(-s), s * s) + tf.reshape(grid, (n, 4))
        return tf.cast(tf.math.floordiv(t * 8.0, 1.0), tf.int32), tf.sigmoid(t) - tf.cast(t > 1.0, tf.float32)

    tf.random.set_seed(n)
    x = tf.random.normal((n, 4))
    col = tf.random.normal((n, 1))
    row = tf.random.normal((4,))
    grid = tf.random.normal((n, 2, 2))
    want = [t.numpy().tolist() for t in f(x, col, row, grid)]
    g = tf.function(f)
    got = [t.numpy().tolist() for t in g(x, col, row, grid)]
    assert got == want  # the same row functions: bit-identical
    nodes, _ = passes.optimize(g.get_concrete_function(x, col, row, grid).graph)
    assert "fused" in [nd.type for nd in nodes]


@pytest.mark.parametrize("n", [1, 5, 300])
def test_fused_gathered_load(on_wasm, n):
    """An operand broadcast along a middle dim walks three dims: the kernel gathers it."""

    def f(x, mid):
        return tf.tanh(x - mid) * 2.0

    tf.random.set_seed(n)
    x, mid = tf.random.normal((n, 3, 4)), tf.random.normal((n, 1, 4))
    assert tf.function(f)(x, mid).numpy().tolist() == f(x, mid).numpy().tolist()


def test_matmul_epilogue_matches_unfused(on_wasm):
    def f(a, b, c):
        return tf.nn.relu(tf.matmul(a, b, transpose_b=True) * 0.5 + c)

    tf.random.set_seed(1)
    a, b, c = tf.random.normal((37, 19)), tf.random.normal((23, 19)), tf.random.normal((23,))
    want = f(a, b, c).numpy().tolist()
    tf.config.experimental.reset_kernel_count("wasm")
    g = tf.function(f)
    assert g(a, b, c).numpy().tolist() == want
    tf.config.experimental.reset_kernel_count("wasm")
    g(a, b, c)
    assert tf.config.experimental.get_kernel_count("wasm") == 1

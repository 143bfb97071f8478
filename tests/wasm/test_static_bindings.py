"""The wasm backend's static graph bindings (``bind_static``: params templates packed once
per node) against its per-call methods, and a compiled train step against numpy math."""

import pytest

np = pytest.importorskip("numpy")

import webtensor as tf  # noqa: E402
from webtensor import backends  # noqa: E402
from webtensor import dtypes as D  # noqa: E402
from webtensor.function import graph as G  # noqa: E402
from webtensor.function.passes import optimize  # noqa: E402


class NoStatic:
    """The backend without ``bind_static``: graph.py's generic binding."""

    def __init__(self, be):
        self._be = be

    def __getattr__(self, name):
        if name == "bind_static":
            raise AttributeError(name)
        return getattr(self._be, name)


@pytest.fixture
def on_wasm(wasm):
    backends.set_default("wasm")
    yield wasm
    backends.set_default(None)


def _put(be, a):
    a = np.ascontiguousarray(a)
    return be.write(memoryview(a.reshape(-1)).cast("B"), a.shape, D.as_dtype(a.dtype.name))


def _get(be, h):
    return np.frombuffer(be.read(h), dtype=h.dtype.name).reshape(h.shape)


def test_static_bindings_match_the_generic_calls(on_wasm):
    """Every node kind bound statically (several fused programs in one kernel, a matmul
    with an epilogue, plain and batched matmuls with transposes) gives the per-call
    method's bytes and counts one kernel, as the per-call path does."""
    be = on_wasm
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((5, 6), (6, 3), (3,)))
    bx = rng.standard_normal((2, 4, 6)).astype(np.float32)

    @tf.function
    def f(x, w, b, bx):
        h = tf.nn.relu(x @ w + b)
        u = tf.matmul(x, h @ tf.transpose(w), transpose_a=True)
        v = tf.matmul(bx, bx, transpose_b=True)  # [2, 4, 4]: equal batch dims
        return tf.exp(b) * 2.0, tf.sigmoid(b) - 1.0, tf.reduce_sum(h, 0), u, v

    args = [tf.constant(a) for a in (x, w, b, bx)]
    nodes = optimize(f.get_concrete_function(*args).graph, True, host_checks=True)[0]
    seen = []
    for n in nodes:
        ins = [(s.shape, s.dtype) for s in n.inputs]
        fast = be.bind_static(n.type, n.attrs, ins, [(s.shape, s.dtype) for s in n.outputs])
        if fast is None:
            continue
        seen.append((n.type, "programs" in n.attrs, "anchor" in n.attrs))
        hs = [_put(be, rng.standard_normal(s).astype(D.as_dtype(dt).name)) for s, dt in ins]
        slow = G._bind(n, NoStatic(be))
        before = be.kernel_count
        got = fast(*hs)
        assert be.kernel_count == before + 1
        want = slow(*hs)
        got, want = (r if isinstance(r, tuple) else (r,) for r in (got, want))
        assert len(got) == len(want)
        for g_, w_ in zip(got, want):
            assert (g_.shape, g_.dtype) == (w_.shape, w_.dtype)
            assert _get(be, g_).tobytes() == _get(be, w_).tobytes()  # the same kernels: bit-identical
    kinds = set(seen)
    assert ("fused", True, False) in kinds  # exp/sigmoid of b: one wt_fused_many
    assert ("fused", False, True) in kinds  # x @ w + b, relu
    assert sum(k == ("matmul", False, False) for k in seen) >= 2


def test_static_matmul_leaves_broadcast_batches_to_the_generic_method(wasm):
    spec = D.float32
    ins = [((3, 2, 4), spec), ((1, 4, 5), spec)]
    assert wasm.bind_static("matmul", {"transpose_a": True, "transpose_b": False}, ins, [((3, 2, 5), spec)]) is None
    f16 = [((2, 2), D.float16)] * 2
    assert wasm.bind_static("matmul", {"transpose_a": False, "transpose_b": False}, f16, [((2, 2), D.float16)]) is None


def test_compiled_dense_train_step_matches_numpy_math(on_wasm):
    """Three SGD steps of softmax regression with a relu layer, compiled on wasm (static
    bindings throughout), against the same math written in numpy float64."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 5)).astype(np.float32)
    y = rng.integers(0, 3, 8).astype(np.int32)
    w1n, b1n = rng.standard_normal((5, 4)).astype(np.float32) * 0.5, np.zeros(4, np.float32)
    w2n, b2n = rng.standard_normal((4, 3)).astype(np.float32) * 0.5, np.full(3, 0.1, np.float32)
    vs = [tf.Variable(a) for a in (w1n, b1n, w2n, b2n)]
    lr = 0.1

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            h = tf.nn.relu(x @ vs[0] + vs[1])
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, h @ vs[2] + vs[3]))
        for v, g in zip(vs, tape.gradient(loss, vs)):
            v.assign_sub(lr * g)
        return loss

    ws = [a.astype(np.float64) for a in (w1n, b1n, w2n, b2n)]
    for _ in range(3):
        got = float(step(tf.constant(x), tf.constant(y)).numpy())
        w1, b1, w2, b2 = ws
        z = x @ w1 + b1
        h = np.maximum(z, 0)
        lg = h @ w2 + b2
        p = np.exp(lg - lg.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        want = float(np.mean(-np.log(p[np.arange(8), y])))
        d = p.copy()
        d[np.arange(8), y] -= 1
        d /= 8
        dh = (d @ w2.T) * (z > 0)
        ws = [w1 - lr * x.T @ dh, b1 - lr * dh.sum(0), w2 - lr * h.T @ d, b2 - lr * d.sum(0)]
        assert abs(got - want) <= 1e-5 * max(1.0, abs(want))
    for v, w in zip(vs, ws):
        np.testing.assert_allclose(v.numpy(), w, rtol=1e-5, atol=1e-6)

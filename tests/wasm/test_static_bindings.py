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
    with an epilogue, plain and batched matmuls with transposes, broadcasting binaries,
    reductions, softmax, argmax, sparse cross-entropy) gives the per-call method's bytes
    and counts one kernel, as the per-call path does."""
    be = on_wasm
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((5, 6), (6, 3), (3,)))
    bx = rng.standard_normal((2, 4, 6)).astype(np.float32)
    labels = np.array([0, 2, 1, 1, 0], np.int32)

    @tf.function
    def f(x, w, b, bx, labels):
        h = tf.nn.relu(x @ w + b)
        u = tf.matmul(x, h @ tf.transpose(w), transpose_a=True)
        v = tf.matmul(bx, bx, transpose_b=True)  # [2, 4, 4]: equal batch dims
        c = tf.pow(v, tf.reshape(b[:2], (2, 1, 1)))  # broadcast along two dims: an N-d walk
        xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, h)
        return (
            tf.exp(b) * 2.0,
            tf.sigmoid(b) - 1.0,
            tf.reduce_sum(h, 0),
            tf.reduce_max(v, [1, 2]),
            u,
            c,
            tf.nn.softmax(u),
            tf.argmax(v, axis=1),
            xent,
        )

    args = [tf.constant(a) for a in (x, w, b, bx, labels)]
    nodes = optimize(f.get_concrete_function(*args).graph, True, host_checks=True)[0]
    seen = []
    for n in nodes:
        ins = [(s.shape, s.dtype) for s in n.inputs]
        fast = be.bind_static(n.type, n.attrs, ins, [(s.shape, s.dtype) for s in n.outputs])
        if fast is None:
            continue
        seen.append((n.type, "programs" in n.attrs, "anchor" in n.attrs))
        hs = []
        for s, dt in ins:
            a = rng.standard_normal(s) if D.as_dtype(dt).kind == "f" else rng.integers(0, 3, s)
            hs.append(_put(be, a.astype(D.as_dtype(dt).name)))
        slow = G._bind(n, NoStatic(be))
        before = be.kernel_count
        got = fast(*hs)
        assert be.kernel_count == before + 1, n.type
        want = slow(*hs)
        got, want = (r if isinstance(r, tuple) else (r,) for r in (got, want))
        assert len(got) == len(want)
        for g_, w_ in zip(got, want):
            assert (g_.shape, g_.dtype) == (w_.shape, w_.dtype)
            assert _get(be, g_).tobytes() == _get(be, w_).tobytes(), n.type  # the same kernels: bit-identical
    kinds = {k[0] for k in seen}
    assert ("fused", True, False) in seen  # exp/sigmoid of b: one wt_fused_many
    assert ("fused", False, True) in seen  # x @ w + b, relu
    assert sum(k == ("matmul", False, False) for k in seen) >= 2
    assert {"reduce", "softmax", "argreduce", "sparse_softmax_xent"} <= kinds, kinds


@pytest.mark.parametrize(
    "sx, sy", [((3, 5), (3, 5)), ((3, 5), ()), ((), (3, 5)), ((3, 5), (5,)), ((4,), (3, 4)), ((2, 3, 4), (3, 1))]
)
@pytest.mark.parametrize("op", ["sub", "greater"])
def test_static_binary_matches_the_generic_call(wasm, sx, sy, op):
    """Each broadcast plan (same shapes, a scalar on either side, a repeated row on either
    side, an N-d walk) and a bool-valued op, bound once, against ``binary`` itself."""
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(sx).astype(np.float32), rng.standard_normal(sy).astype(np.float32)
    out = np.broadcast_shapes(sx, sy)
    odt = D.bool_ if op == "greater" else D.float32
    fn = wasm.bind_static("binary", {"op": op}, [(sx, D.float32), (sy, D.float32)], [(out, odt)])
    hx, hy = _put(wasm, x), _put(wasm, y)
    got, want = fn(hx, hy), wasm.binary(op, hx, hy)
    assert (got.shape, got.dtype) == (want.shape, want.dtype) == (out, odt)
    assert _get(wasm, got).tobytes() == _get(wasm, want).tobytes()
    ref = np.subtract(x, y) if op == "sub" else np.greater(x, y)
    np.testing.assert_array_equal(_get(wasm, got), ref)


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

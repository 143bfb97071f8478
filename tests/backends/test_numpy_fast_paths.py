"""The numpy backend's fast paths (backends/numpy.py): the in-place random stream, the
indexed sparse cross-entropy and the static bindings a tf.function replay uses. Expected
values come from the pure-Python reference stream, hand-written float64 formulas, and the
generic (per-call) binding of the same graph node."""

import pytest

np = pytest.importorskip("numpy")

import webtensor as tf
from webtensor import dtypes as D
from webtensor.backends import base
from webtensor.backends.numpy import NumpyBackend, random_u32
from webtensor.errors import ResourceExhaustedError


@pytest.fixture(scope="module")
def nb():
    return NumpyBackend()


def test_random_u32_matches_the_reference_stream():
    key = (0x9E3779B9, 12345)
    got = random_u32(np.arange(300, dtype=np.uint32), key)
    assert got.tolist() == [base.random_u32(i, key) for i in range(300)]


def test_uniform_bits_match_the_reference_stream(nb):
    key = (7, 0xFFFFFFFF)
    got = nb.random("uniform", (3, 5), D.float32, key).reshape(-1).tolist()
    assert got == [(base.random_u32(i, key) >> 8) * 2.0**-24 for i in range(15)]


def _xent64(x, lab):
    x64 = x.astype(np.float64).reshape(-1, x.shape[-1])
    lab = lab.reshape(-1)
    m = x64.max(1, keepdims=True)
    lse = np.log(np.exp(x64 - m).sum(1, keepdims=True)) + m
    ok = (lab >= 0) & (lab < x.shape[-1])
    hot = np.zeros_like(x64)
    hot[np.arange(len(lab))[ok], lab[ok]] = 1.0
    picked = np.where(ok, x64[np.arange(len(lab)), np.where(ok, lab, 0)], np.nan)
    return lse[:, 0] - picked, np.exp(x64 - lse) - hot


@pytest.mark.parametrize("bad", [False, True])
def test_sparse_xent_rank3_by_hand(nb, bad):
    """Rows of a [2, 3, 5] batch, labels in range or not (NaN loss, no one-hot there)."""
    x = np.random.default_rng(1).uniform(-8, 8, (2, 3, 5)).astype(np.float32)
    lab = np.array([[0, 4, 2], [1, -1 if bad else 3, 5 if bad else 0]], np.int64)
    loss, grad = nb.sparse_softmax_xent(x, lab)
    want_loss, want_grad = _xent64(x, lab)
    assert loss.shape == (2, 3) and grad.shape == (2, 3, 5) and loss.dtype == grad.dtype == np.float32
    np.testing.assert_allclose(loss.reshape(-1), want_loss, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad.reshape(-1, 5), want_grad, rtol=1e-5, atol=1e-6)
    assert np.isnan(loss).sum() == (2 if bad else 0)


def test_sparse_xent_infinite_row_max(nb):
    """A row whose max is -inf uses 0 as its shift (base.FusedKernels): loss and grad as TF's."""
    x = np.array([[-np.inf, -np.inf, -np.inf], [0.0, 1.0, 2.0]], np.float32)
    loss, grad = nb.sparse_softmax_xent(x, np.array([1, 2], np.int32))
    assert np.isnan(loss[0]) or np.isinf(loss[0])
    np.testing.assert_allclose(loss[1], np.log(np.exp([0.0, 1.0, 2.0]).sum()) - 2.0, rtol=1e-6)


def _nodes(f, *args):
    from webtensor.function.passes import optimize

    g = f.get_concrete_function(*args).graph
    return optimize(g, True, host_checks=True)[0]


def test_static_bindings_agree_with_the_generic_calls(nb):
    """Each node the backend binds statically gives the generic method's value and counts
    one kernel, as the per-call path does."""
    from webtensor.function import graph as G

    rng = np.random.default_rng(2)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((4, 6), (6, 3), (3,)))

    @tf.function
    def f(x, w, b):
        h = tf.nn.relu(x @ w + b)
        return tf.reduce_sum(h, 0), tf.matmul(x, h @ tf.transpose(w), transpose_a=True), tf.exp(b) * 2.0

    nodes = _nodes(f, tf.constant(x), tf.constant(w), tf.constant(b))
    seen = set()
    for n in nodes:
        specs = [(s.shape, s.dtype) for s in n.inputs], [(s.shape, s.dtype) for s in n.outputs]
        fast = nb.bind_static(n.type, n.attrs, *specs)
        if fast is None:
            continue
        seen.add((n.type, "anchor" in n.attrs))
        ins = [rng.standard_normal(s.shape).astype(np.float32) for s in n.inputs]
        slow = G._bind(n, NoStatic(nb))
        before = nb.kernel_count
        got = fast(*ins)
        assert nb.kernel_count == before + 1
        want = slow(*ins)
        assert nb.kernel_count == before + 2
        for g_, w_ in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            np.testing.assert_allclose(g_, w_, rtol=1e-6, atol=1e-6)
    assert {("matmul", False), ("fused", True), ("reduce", False)} <= seen


class NoStatic:
    """The backend without ``bind_static``: graph.py's generic binding."""

    def __init__(self, be):
        self._be = be

    def __getattr__(self, name):
        if name == "bind_static":
            raise AttributeError(name)
        return getattr(self._be, name)


def test_static_matmul_turns_memory_error_into_resource_exhausted(nb, monkeypatch):
    fn = nb.bind_static("matmul", {"transpose_a": False, "transpose_b": False}, [((2, 2), D.float32)] * 2, [])

    class Huge(np.ndarray):
        def swapaxes(self, *a):
            raise MemoryError

    a = np.ones((2, 2), np.float32)
    assert np.array_equal(fn(a, a), a @ a)
    fn_t = nb.bind_static("matmul", {"transpose_a": True, "transpose_b": False}, [((2, 2), D.float32)] * 2, [])
    with pytest.raises(ResourceExhaustedError, match="matmul"):
        fn_t(a.view(Huge), a)

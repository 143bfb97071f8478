"""The GPU's own kernel variants and limits, against numpy: the workgroup-memory kernels (tiled
GEMM, tree reductions) forced on whatever adapter is here, launches past the per-dimension
workgroup limit, buffers past the adapter's limits, int64's 32-bit storage, and float16
placement. The primitives themselves: test_backend_primitives.py."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")

import webtensor as tf  # noqa: E402
from backend_check import check_conv, gemm_scale, get, normal, put, same  # noqa: E402
from webtensor import dtypes as D  # noqa: E402

pytestmark = [pytest.mark.numpy, pytest.mark.backends("gpu")]
F32 = np.float32


def test_int64_keeps_its_host_layout_and_range_limit(be):
    a = np.array([-(2**31), -1, 0, 1, 2**31 - 1], np.int64)
    assert np.array_equal(get(be, put(be, a)), a)
    with pytest.raises(OverflowError, match="int32 range"):
        put(be, np.array([2**31], np.int64))


def test_more_workgroups_than_one_grid_dimension(be):
    """65535 workgroups of 256 is the x limit; larger tensors spread over y."""
    n = 65535 * 256 + 1000
    a = np.linspace(-3, 3, n, dtype=F32)
    got = get(be, be.unary("neg", put(be, a)))
    assert got[0] == 3 and got[-1] == -3 and np.array_equal(got, -a)
    assert get(be, be.reduce("sum", put(be, np.ones(n, F32)), (0,), False)) == n
    rows = get(be, be.reduce("max", put(be, np.arange(70000 * 2, dtype=F32).reshape(70000, 2)), (1,), False))
    assert np.array_equal(rows, np.arange(1, 140000, 2, dtype=F32))


def test_a_buffer_larger_than_the_adapter_allows_is_a_clear_error(be):
    n = be.pool.max_buffer // 4 + 1
    with pytest.raises(tf.errors.ResourceExhaustedError, match="maxBufferSize"):
        be.full((n,), 1.0, tf.float32)
    with tf.device("/CPU:0"):
        assert float(tf.reduce_sum(tf.ones([10]))) == 10.0  # and nothing else is disturbed


def test_a_binding_larger_than_the_adapter_allows_is_a_clear_error(be):
    n = be._max_binding // 4 + 16
    if n * 4 > be.dev.limits.get("maxBufferSize", 0):
        pytest.skip("the adapter's maxBufferSize is no larger than its binding limit")
    big = be._new((n,), tf.float32)
    with pytest.raises(tf.errors.ResourceExhaustedError, match="maxStorageBufferBindingSize"):
        be.unary("neg", big)


@pytest.fixture
def tiled(be, monkeypatch):
    """The kernels a hardware GPU runs, forced on whatever adapter is here (lavapipe in CI
    runs the workgroup-memory-free variants by default)."""
    monkeypatch.setattr(be, "workgroup_kernels", True)
    return be


@pytest.mark.parametrize(
    "ashape,bshape,ta,tb",
    [
        ((65, 33), (33, 70), False, False),
        ((2, 40, 3), (40, 6), True, False),
        ((8, 3000), (5, 3000), False, True),
        ((70, 130), (129, 70), True, True),
    ],
)
def test_tiled_matmul(tiled, ref, ashape, bshape, ta, tb):
    a, b = normal(D.float32, ashape, 16, 1.0), normal(D.float32, bshape, 17, 1.0)
    same(tiled, ref, lambda k, x, y: k.matmul(x, y, ta, tb), a, b, kind="gemm", scale=gemm_scale(a, b, ta, tb))


@pytest.mark.parametrize(
    "case",
    [
        ((2, 5, 5, 3), (3, 3, 3, 4), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
        ((2, 8, 8, 4), (3, 3, 2, 6), (1, 1), ((2, 2), (2, 2)), (2, 2), 2),
        ((1, 6, 6, 4), (3, 3, 1, 8), (2, 1), ((1, 1), (0, 0)), (1, 1), 4),
        ((64, 8, 8, 16), (3, 3, 16, 32), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ],
)
def test_tiled_convolutions(tiled, ref, case):
    check_conv(tiled, ref, D.float32, *case)


@pytest.mark.parametrize("shape,axes", [((3, 700), (1,)), ((2, 300, 5), (1, 2)), ((1, 100000), (1,))])
def test_tree_reductions(tiled, ref, shape, axes):
    a = normal(D.float32, shape, 11)
    for op in ("sum", "max", "min"):
        same(
            tiled,
            ref,
            lambda b, x: b.reduce(op, x, axes, False),
            a,
            kind="sum" if op == "sum" else "exact",
            scale=np.abs(a.astype(np.float64)).sum(axis=axes) if op == "sum" else None,
        )


@pytest.mark.parametrize("workgroup_kernels", [False, True])
def test_grids_past_the_workgroup_limit_split_or_loop(be, ref, monkeypatch, workgroup_kernels):
    """With the per-dimension limit made tiny, every kind of launch must spread over y,
    loop over elements, or split into several dispatches, and still agree with numpy."""
    monkeypatch.setattr(be, "_max_groups", 7)
    monkeypatch.setattr(be, "_max_items", 20)
    monkeypatch.setattr(be, "workgroup_kernels", workgroup_kernels)
    a = normal(D.float32, (300, 257), 50)
    same(be, ref, lambda b, x: b.unary("exp", x), a, kind="transcendental")
    same(be, ref, lambda b, x: b.reduce("sum", x, (1,), False), a, kind="sum", scale=np.abs(a).sum(1))
    same(be, ref, lambda b, x: b.reduce("max", x, (0,), False), a)
    s = a[:100].astype(np.float64)
    e = np.exp(s - s.max(1, keepdims=True))
    got = get(be, be.softmax(put(be, a[:100]), 1))
    assert np.allclose(got, e / e.sum(1, keepdims=True), rtol=1e-6, atol=1e-7)
    b, c = normal(D.float32, (20, 130, 9), 51, 1.0), normal(D.float32, (9, 40), 52, 1.0)  # 20 batches x 5 row tiles
    same(be, ref, lambda k, x, y: k.matmul(x, y, False, False), b, c, kind="gemm", scale=gemm_scale(b, c, False, False))


def test_float16_tensors_live_on_the_gpu_when_it_has_f16(be):
    if tf.float16 not in be.dtypes:
        pytest.skip(f"the adapter {be.adapter_name!r} has no shader-f16; float16 stays on the CPU")
    with tf.device("/GPU:0"):
        h = tf.constant([1.0, 2.5, -3.0], tf.float16)
        y = tf.nn.relu(h * 2.0) + tf.cast(tf.constant([1, 2, 3]), tf.float16)
    assert h.device.endswith("GPU:0") and y.dtype is tf.float16
    assert y.numpy().tolist() == [3.0, 7.0, 3.0]

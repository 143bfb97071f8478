"""kernels/resample.c (wt_resample, base.OPTIONAL_KERNELS ``resample_axis``): tf.image.resize on
the wasm backend, one kernel call per resized axis, against the numpy backend's composition
(per-tap gathers and multiply-adds, or a dense matmul), TF 2.21's recorded outputs, a sum
over taps written out in numpy (float64 too), and its gradient by finite differences."""

import importlib
import json
import os

import pytest

np = pytest.importorskip("numpy")

import webtensor as tf  # noqa: E402
from webtensor import backends  # noqa: E402
from webtensor import dtypes as D  # noqa: E402
from webtensor.errors import InvalidArgumentError  # noqa: E402

R = importlib.import_module("webtensor.image.resize")  # the module (the package exports the function)

pytestmark = pytest.mark.native

FIXTURE = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "fixtures", "tf_values", "tf_reference_values.json"
)
METHODS = ["bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic"]


@pytest.fixture
def on_wasm(wasm):
    backends.set_default("wasm")
    yield wasm
    backends.set_default(None)


def _resize_on(be_name, img, size, method, antialias):
    backends.set_default(be_name)
    try:
        return tf.image.resize(tf.constant(img), size, method=method, antialias=antialias).numpy()
    finally:
        backends.set_default(None)


def _kernel_calls(fn):
    tf.config.experimental.reset_kernel_count("wasm")
    out = fn()
    return out, tf.config.experimental.get_kernel_count("wasm")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("shape,size", [((2, 17, 23, 3), (9, 11)), ((1, 12, 8, 1), (31, 5)), ((13, 9, 6), (4, 20))])
def test_matches_numpy_composition(wasm, method, antialias, shape, size):
    """Same values as the numpy backend's tap composition (bit for bit) or its dense matmul
    (the sum in another order: float32 rounding)."""
    img = np.random.default_rng(len(shape) + size[0]).random(shape).astype(np.float32)
    want = _resize_on("numpy", img, size, method, antialias)
    got = _resize_on("wasm", img, size, method, antialias)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=0, atol=4e-7)


def test_matches_tf_fixtures(on_wasm):
    if not os.path.exists(FIXTURE):
        pytest.skip("shared/fixtures/tf_values is not beside the checkout")
    with open(FIXTURE) as f:
        ref = json.load(f)["image_resize"]
    x = tf.constant(ref["input"])
    seen = 0
    for key, want in ref.items():
        if key == "input" or key.startswith("resize_with_pad"):
            continue
        method, size, aa = key.split("_")
        h, w = (int(v) for v in size.split("x"))
        got = tf.image.resize(x, (h, w), method=method, antialias=aa.endswith("True"))
        np.testing.assert_allclose(got.numpy(), np.array(want, np.float32), rtol=0, atol=2e-6, err_msg=key)
        seen += 1
    assert seen == 32


@pytest.mark.parametrize("method", ["bilinear", "bicubic", "lanczos3", "area"])
def test_one_kernel_call_per_resized_axis(on_wasm, method):
    img = tf.constant(np.random.default_rng(5).random((2, 40, 30, 3)).astype(np.float32))
    tf.image.resize(img, (20, 17), method=method, antialias=True)  # plans and their tensors made once
    out, calls = _kernel_calls(lambda: tf.image.resize(img, (20, 17), method=method, antialias=True))
    assert calls == 2 and out.shape == (2, 20, 17, 3)
    if method != "lanczos3":  # its same-size weights are 1 and sin(k pi) ~ 1e-17, not an identity
        _, calls = _kernel_calls(lambda: tf.image.resize(img, (40, 17), method=method))  # height unchanged
        assert calls == 1


def _np_resample(x, idx, w, before, n_in, after):
    """y[b, o, a] = sum_t w[o, t] x[b, idx[o, t], a], the sum in t order in x's dtype."""
    x3 = x.reshape(before, n_in, after)
    y = x3[:, idx[:, 0], :] * w[None, :, 0, None]
    for t in range(1, idx.shape[1]):
        y = y + x3[:, idx[:, t], :] * w[None, :, t, None]
    return y


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize(
    "before,n_in,after,out,taps",
    [
        (1, 7, 1, 3, 1),
        (3, 10, 2, 9, 4),
        (2, 5, 13, 8, 3),
        (4, 6, 3, 5, 12),
        (5, 1, 1, 4, 2),
        (3, 2, 2, 7, 2),
        (3, 5, 3, 4, 2),
        (2, 3, 37, 4, 4),
    ],
)
def test_kernel_against_numpy_sum(pair, dt, before, n_in, after, out, taps):
    """The backend method itself: every tail length of the SIMD loops (after 1, 2, 3, 13, 37),
    rows too short for a vector (n_in 1 or 2: the loads near the end go scalar), 2 taps with
    3 channels (bilinear's own loop, then the last row checked per pixel), both dtypes;
    bit-identical to the ordered numpy sum (no fused multiply-adds)."""
    rng = np.random.default_rng(before * 100 + after)
    x = rng.standard_normal(before * n_in * after).astype(dt)
    idx = rng.integers(0, n_in, (out, taps)).astype(np.int32)
    w = rng.standard_normal((out, taps)).astype(dt)
    be = pair.wasm
    h = be.resample_axis(pair.put(be, x), pair.put(be, idx), pair.put(be, w), before, n_in, after)
    got = pair.get(be, h, D.as_dtype(np.dtype(dt).name))
    np.testing.assert_array_equal(got, _np_resample(x, idx, w, before, n_in, after))


def test_kernel_rejects_bad_taps_and_dtypes(pair):
    be = pair.wasm
    x = pair.put(be, np.zeros(12, np.float32))
    w = pair.put(be, np.ones((2, 2), np.float32))
    with pytest.raises(InvalidArgumentError, match=r"resample_axis: index 4 is not in \[0, 4\)"):
        be.resample_axis(x, pair.put(be, np.array([[0, 1], [3, 4]], np.int32)), w, 1, 4, 3)
    with pytest.raises(InvalidArgumentError, match="resample_axis: expected float32/float64"):
        be.resample_axis(x, pair.put(be, np.zeros((2, 2), np.int32)), pair.put(be, np.ones((2, 2))), 1, 4, 3)


def test_float64_input_matches_float64_loop(on_wasm):
    """float64 images are resized in float32, as TF does; the float64 kernel path is used by
    the per-axis helper on float64 tensors, and equals the ordered numpy sum of its taps."""
    img = np.random.default_rng(7).random((1, 9, 14, 2))
    out = tf.image.resize(tf.constant(img), (5, 6))
    assert out.dtype == tf.float32
    x = tf.constant(img)
    py = R._plan(9, 5, "bicubic", True)
    got, calls = _kernel_calls(lambda: R._along(x, 1, py).numpy())
    assert calls == 1 and got.dtype == np.float64
    idx = np.array([[i for i, _ in r] for r in py.rows], np.int32)
    w = np.array([[R._f32(v) for _, v in r] for r in py.rows], np.float64)
    np.testing.assert_array_equal(got.reshape(1, 5, 28), _np_resample(img.reshape(-1), idx, w, 1, 9, 28))


def _linear_map_grad(f, x, g):
    """d sum(f(x) * g) / dx for a linear f, by central differences with a unit step (exact for a
    linear map up to float32 rounding)."""
    flat = x.reshape(-1)
    out = np.zeros_like(flat)
    for i in range(flat.size):
        e = np.zeros_like(flat)
        e[i] = 1.0
        hi = np.sum(f((flat + e).reshape(x.shape)).numpy() * g)
        lo = np.sum(f((flat - e).reshape(x.shape)).numpy() * g)
        out[i] = (hi - lo) / 2
    return out.reshape(x.shape)


@pytest.mark.parametrize(
    "method,size,antialias",
    [("bilinear", (3, 4), False), ("bilinear", (9, 11), False), ("bicubic", (3, 4), True), ("lanczos5", (2, 3), True)],
)
def test_gradient_by_differences(on_wasm, method, size, antialias):
    """lanczos5 antialiased downscale takes the dense vjp (matmul with W^T), the rest the
    scatter of each tap's weighted rows."""
    x = np.random.default_rng(2).random((2, 5, 7, 2)).astype(np.float32)
    g = np.random.default_rng(3).random((2,) + size + (2,)).astype(np.float32)
    f = lambda v: tf.image.resize(tf.constant(v), size, method=method, antialias=antialias)  # noqa: E731
    t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = tf.reduce_sum(tf.image.resize(t, size, method=method, antialias=antialias) * tf.constant(g))
    got = tape.gradient(y, t)
    np.testing.assert_allclose(got.numpy(), _linear_map_grad(f, x, g), rtol=1e-4, atol=1e-5)


def test_second_order_gradient_is_zero(on_wasm):
    """The vjp is written with public ops, so an outer tape differentiates it (a linear map's
    second derivative is 0, its gradient of the gradient the transpose applied twice)."""
    x = tf.constant(np.random.default_rng(9).random((1, 6, 5, 1)).astype(np.float32))
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(tf.image.resize(x, (4, 9), method="bicubic") ** 2)
        dx = inner.gradient(y, x)
        z = tf.reduce_sum(dx)
    ddx = outer.gradient(z, x)
    # z = 2 sum(W^T W x) over x's entries, so dz/dx = 2 W^T W 1: checked by differences
    f = lambda v: tf.image.resize(tf.constant(v), (4, 9), method="bicubic")  # noqa: E731
    ones = np.ones((1, 6, 5, 1), np.float32)
    w_ones = f(ones).numpy()
    want = 2 * _linear_map_grad(f, np.zeros_like(ones), w_ones)
    np.testing.assert_allclose(ddx.numpy(), want, rtol=1e-4, atol=1e-5)

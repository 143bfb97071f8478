"""The fast paths of tf.signal.frame/stft (slices of the signal cut into rows of one step,
or one cached gather, either filling to fft_length) and tf.image.resize (per-axis tap
gathers, or a dense matmul for wide kernels): values against loops written out by hand in
numpy and TF 2.21's recorded resize outputs, on every path, and gradients by finite
differences."""

import importlib
import json
import math
import os

import pytest

np = pytest.importorskip("numpy")  # the page has no numpy: there the module skips

import webtensor as tf

R = importlib.import_module("webtensor.image.resize")  # the module (the package exports the function)
S = importlib.import_module("webtensor.signal.spectral")

from tests.util import assert_close, check_grad

FIXTURE = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "fixtures", "tf_values", "tf_reference_values.json"
)


def _np_frames(x, fl, fs, pad_end, pad_value=0.0):
    """tf.signal.frame over the last axis, by a loop (TF's docs: ceil(n / fs) frames with pad_end)."""
    n = x.shape[-1]
    count = -(-n // fs) if pad_end else (1 + (n - fl) // fs if n >= fl else 0)
    out = np.full(x.shape[:-1] + (count, fl), pad_value, x.dtype)
    for f in range(count):
        seg = x[..., f * fs : f * fs + fl]
        out[..., f, : seg.shape[-1]] = seg
    return out


def _np_hann(n):
    denom = n if n % 2 == 0 else n - 1  # TF's periodic window: n for even n, n - 1 for odd
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / denom)


@pytest.mark.parametrize(
    "fl,fs,fft_length,pad_end",
    [(255, 128, None, False), (8, 3, 6, False), (5, 2, 16, True), (16, 16, 16, False), (7, 3, 7, True)]
    + [(16, 2, None, True), (9, 1, 12, False)],  # many steps per frame: the gather path
)
def test_stft_matches_numpy_loop(fl, fs, fft_length, pad_end):
    rng = np.random.default_rng(fl)
    x = rng.normal(size=(2, 300)).astype(np.float32)
    n = fft_length or 1 << (fl - 1).bit_length()
    want = np.fft.rfft(_np_frames(x.astype(np.float64), fl, fs, pad_end) * _np_hann(fl), n)
    got = tf.signal.stft(tf.constant(x), fl, fs, fft_length=fft_length, pad_end=pad_end)
    assert tuple(got.shape) == want.shape
    assert_close(tf.math.real(got), want.real, rtol=1e-4, atol=2e-4)
    assert_close(tf.math.imag(got), want.imag, rtol=1e-4, atol=2e-4)


@pytest.mark.parametrize("fl,n", [(6, 8), (6, 4), (6, 6)])
@pytest.mark.parametrize("wrap", [False, True])  # our cached window, or a caller's function
def test_stft_hamming_window_cropped_and_filled(fl, n, wrap):
    x = np.cos(np.arange(50) * 0.3).astype(np.float32)
    win = (lambda length, dtype: tf.signal.hamming_window(length, dtype=dtype)) if wrap else tf.signal.hamming_window
    got = tf.signal.stft(tf.constant(x), fl, 4, fft_length=n, window_fn=win)
    hamming = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(fl) / fl)  # periodic, even length: denominator fl
    want = np.fft.rfft(_np_frames(x.astype(np.float64), fl, 4, False) * hamming, n)
    assert_close(tf.math.real(got), want.real, atol=1e-5)
    assert_close(tf.math.imag(got), want.imag, atol=1e-5)


def test_stft_without_window_and_float64():
    x = np.sin(np.arange(40) * 0.7)
    got = tf.signal.stft(tf.constant(x), 6, 4, fft_length=8, window_fn=None)
    assert got.dtype == tf.complex128
    want = np.fft.rfft(_np_frames(x, 6, 4, False), 8)
    assert_close(tf.math.real(got), want.real, atol=1e-12)
    assert_close(tf.math.imag(got), want.imag, atol=1e-12)


@pytest.fixture(params=["slices", "gather"])
def frame_path(request, monkeypatch):
    monkeypatch.setattr(S, "_MAX_PIECES", 4 if request.param == "slices" else 0)
    return request.param


def test_frame_pad_value_axis_and_empty(frame_path):
    x = np.arange(2 * 10 * 3, dtype=np.float32).reshape(2, 10, 3)
    got = tf.signal.frame(tf.constant(x), 4, 3, pad_end=True, pad_value=-1.0, axis=1)
    want = np.moveaxis(_np_frames(np.moveaxis(x, 1, -1), 4, 3, True, -1.0), 1, -1)  # (2, 3, 4, 4) -> (2, 4, 4, 3)
    assert tuple(got.shape) == (2, 4, 4, 3)
    assert_close(got, want)
    ints = tf.signal.frame(tf.range(7), 3, 2, pad_end=True, pad_value=9)
    assert ints.dtype == tf.int32
    assert ints.numpy().tolist() == [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6, 9, 9]]
    assert tuple(tf.signal.frame(tf.zeros([3]), 5, 2).shape) == (0, 5)  # too short: no frames


def test_stft_gradient_through_the_padding(frame_path):
    sig = [[math.sin(1.1 * i) + 0.05 * i for i in range(11)]]
    check_grad(lambda x: tf.abs(tf.signal.stft(x, 5, 3, fft_length=8, pad_end=True)), sig)
    check_grad(lambda x: tf.math.real(tf.signal.stft(x, 6, 2, fft_length=4)), sig)


@pytest.fixture(scope="module")
def tf_resize():
    if not os.path.exists(FIXTURE):
        pytest.skip("shared/fixtures/tf_values is not beside the checkout")
    with open(FIXTURE) as f:
        return json.load(f)["image_resize"]


@pytest.fixture
def resize_path(request, monkeypatch):
    """Force one of resize's mechanisms: dense matmuls, taps with broadcast weights, or
    taps with weights repeated to the full slice."""
    max_gather, full = {"dense": (0, 0), "taps-broadcast": (1 << 30, 0), "taps-repeated": (1 << 30, 1 << 30)}[
        request.param
    ]
    monkeypatch.setattr(R, "_MAX_GATHER", max_gather)
    monkeypatch.setattr(R, "_FULL_WEIGHTS", full)
    R._plan.cache_clear()
    yield request.param
    R._plan.cache_clear()


@pytest.mark.parametrize("resize_path", ["dense", "taps-broadcast", "taps-repeated"], indirect=True)
def test_every_resize_path_matches_tf(tf_resize, resize_path):
    x = tf.constant(tf_resize["input"])
    for key, want in tf_resize.items():
        if key == "input" or key.startswith("resize_with_pad"):
            continue
        method, size, aa = key.split("_")
        h, w = (int(v) for v in size.split("x"))
        got = tf.image.resize(x, (h, w), method=method, antialias=aa.endswith("True"))
        np.testing.assert_allclose(got.numpy(), np.array(want, np.float32), rtol=0, atol=2e-6, err_msg=key)


def _np_bilinear(img, oh, ow):
    """TF's half-pixel bilinear (no antialias) by a loop over output pixels; the sampling
    positions in float32, as TF's kernel computes them (resize_bilinear_op.cc)."""
    b, h, w, c = img.shape
    f32 = np.float32
    out = np.zeros((b, oh, ow, c), np.float64)
    for i in range(oh):
        y = float((f32(i) + f32(0.5)) * (f32(h) / f32(oh)) - f32(0.5))
        y0 = math.floor(y)
        ty = y - y0
        for j in range(ow):
            x = float((f32(j) + f32(0.5)) * (f32(w) / f32(ow)) - f32(0.5))
            x0 = math.floor(x)
            tx = x - x0
            px = lambda r, q: img[:, min(max(r, 0), h - 1), min(max(q, 0), w - 1)]  # noqa: E731
            top = px(y0, x0) * (1 - tx) + px(y0, x0 + 1) * tx
            bottom = px(y0 + 1, x0) * (1 - tx) + px(y0 + 1, x0 + 1) * tx
            out[:, i, j] = top * (1 - ty) + bottom * ty
    return out


@pytest.mark.parametrize("size", [(112, 112), (30, 17), (448, 5)])
def test_bilinear_large_matches_loop(size):
    img = np.random.default_rng(1).random((2, 224, 224, 3)).astype(np.float32)
    if size == (448, 5):
        img = img[:, :100, :, :1]
    want = _np_bilinear(img.astype(np.float64), *size)
    got = tf.image.resize(tf.constant(img), size)
    # 1e-5: a position like 63.5 may differ by one float32 ulp with the rounding order (fused or not)
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-5)


def test_same_size_is_the_input_as_float32():
    img = np.arange(2 * 3 * 4 * 2).reshape(2, 3, 4, 2).astype(np.uint8)
    got = tf.image.resize(tf.constant(img), (3, 4), method="bicubic")
    assert got.dtype == tf.float32
    np.testing.assert_array_equal(got.numpy(), img.astype(np.float32))


def _linear_map_grad(f, x, g):
    """d sum(f(x) * g) / dx for a linear f, by central differences with a unit step (exact
    for a linear map up to float32 rounding; resize computes in float32, as TF does)."""
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
def test_resize_gradient_by_differences(method, size, antialias):
    x = np.random.default_rng(2).random((1, 5, 7, 2)).astype(np.float32)
    g = np.random.default_rng(3).random((1,) + size + (2,)).astype(np.float32)
    f = lambda v: tf.image.resize(tf.constant(v), size, method=method, antialias=antialias)  # noqa: E731
    t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = tf.reduce_sum(tf.image.resize(t, size, method=method, antialias=antialias) * tf.constant(g))
    got = tape.gradient(y, t)
    np.testing.assert_allclose(got.numpy(), _linear_map_grad(f, x, g), rtol=1e-4, atol=1e-5)


def test_traced_resize_and_stft_match_eager_and_keep_no_graph_constants():
    """Their per-backend constant caches must not keep a traced graph's symbolic tensors."""
    img = np.random.default_rng(4).random((1, 8, 6, 2)).astype(np.float32)
    sig = np.sin(np.arange(64) * 0.2).astype(np.float32)
    traced_resize = tf.function(lambda x: tf.image.resize(x, [4, 3]))
    traced_stft = tf.function(lambda x: tf.math.real(tf.signal.stft(x, 16, 8)))
    for _ in range(2):  # traced first, then eager, then traced again: each sees its own constants
        got = traced_resize(tf.constant(img)).numpy()
        eager = tf.image.resize(tf.constant(img), [4, 3]).numpy()
        np.testing.assert_allclose(got, eager, rtol=0, atol=1e-6)
        np.testing.assert_allclose(got, _np_bilinear(img.astype(np.float64), 4, 3), rtol=0, atol=1e-5)
        want = np.fft.rfft(_np_frames(sig.astype(np.float64), 16, 8, False) * _np_hann(16)).real
        np.testing.assert_allclose(traced_stft(tf.constant(sig)).numpy(), want, atol=1e-4)
        np.testing.assert_allclose(tf.math.real(tf.signal.stft(tf.constant(sig), 16, 8)).numpy(), want, atol=1e-4)


def test_resize_of_empty_images_gives_empty_results():
    """Zero channels or zero images: TF returns the empty output shape (float32)."""
    for method in ("bilinear", "nearest", "bicubic", "area", "lanczos3"):
        assert tuple(tf.image.resize(tf.zeros([4, 4, 0]), [2, 2], method=method).shape) == (2, 2, 0)
        assert tuple(tf.image.resize(tf.zeros([0, 4, 4, 3]), [2, 3], method=method).shape) == (0, 2, 3, 3)
        got = tf.image.resize(tf.zeros([1, 4, 4, 0]), [2, 3], method=method, antialias=True)
        assert tuple(got.shape) == (1, 2, 3, 0)

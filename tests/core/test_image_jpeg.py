"""Pure-Python baseline JPEG: decoding against Pillow (libjpeg-turbo) on files Pillow wrote,
encode -> decode round trips by PSNR against the source, the options, and malformed input.

Tolerance: our IDCT is float and libjpeg's is integer ("islow"), and fancy upsampling
rounds per pixel, so decoded pixels may differ from libjpeg's by a few levels; we allow
max |diff| <= 4 and a mean under 1."""

import io
import math

import pytest
import webtensor as tf

np = pytest.importorskip("numpy")
Image = pytest.importorskip("PIL.Image")


def _image(h=37, w=53, seed=0):
    """Smooth gradients plus noise: a photo-like image (odd sizes: partial MCUs)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(xx * 4) % 256, (yy * 6) % 256, ((xx + yy) * 3) % 256], -1)
    return (img + rng.integers(-10, 10, img.shape)).clip(0, 255).astype(np.uint8)


def _pil_jpeg(arr, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **kw)
    return buf.getvalue()


def _pil_decode(data: bytes, mode=None):
    im = Image.open(io.BytesIO(data))
    return np.asarray(im.convert(mode) if mode else im).astype(int)


def _psnr(a, b) -> float:
    mse = ((np.asarray(a, float) - np.asarray(b, float)) ** 2).mean()
    return 10 * math.log10(255**2 / mse)


@pytest.mark.parametrize("subsampling", [0, 1, 2])  # 4:4:4, 4:2:2, 4:2:0
def test_decode_matches_libjpeg(subsampling):
    data = _pil_jpeg(_image(), quality=90, subsampling=subsampling)
    got = tf.image.decode_jpeg(data).numpy().astype(int)
    want = _pil_decode(data, "RGB")
    assert got.shape == want.shape == (37, 53, 3)
    assert np.abs(got - want).max() <= 4 and np.abs(got - want).mean() < 1


def test_decode_gray_restart_intervals_and_channels():
    gray = _image()[..., 0]
    data = _pil_jpeg(gray, quality=80)
    got = tf.io.decode_jpeg(data).numpy().astype(int)
    assert got.shape == (37, 53, 1)
    assert np.abs(got[..., 0] - _pil_decode(data)).max() <= 4
    assert tf.image.decode_jpeg(data, channels=3).shape == (37, 53, 3)
    rgb = _pil_jpeg(_image(40, 48), quality=85, restart_marker_blocks=2)  # DRI + RSTn markers
    assert b"\xff\xdd" in rgb
    got = tf.image.decode_jpeg(rgb).numpy().astype(int)
    assert np.abs(got - _pil_decode(rgb, "RGB")).max() <= 4
    y = tf.image.decode_jpeg(rgb, channels=1).numpy().astype(int)[..., 0]  # grey is libjpeg's Y plane
    assert np.abs(y - _pil_decode(rgb, "L")).max() <= 4


def test_ratio_and_fancy_upscaling():
    data = _pil_jpeg(_image(40, 48), quality=90)
    full = tf.image.decode_jpeg(data).numpy().astype(float)
    half = tf.image.decode_jpeg(data, ratio=2).numpy().astype(float)
    assert half.shape == (20, 24, 3)
    box = full.reshape(20, 2, 24, 2, 3).mean((1, 3))
    assert np.abs(half - box).max() <= 1
    assert tf.image.decode_jpeg(data, ratio=8).shape == (5, 6, 3)
    plain = tf.image.decode_jpeg(data, fancy_upscaling=False).numpy().astype(int)
    assert np.abs(plain - _pil_decode(data, "RGB")).max() <= 40  # replicated chroma: same picture
    assert tf.image.decode_jpeg(data, dct_method="INTEGER_FAST").shape == (40, 48, 3)


@pytest.mark.parametrize("quality,chroma,min_psnr", [(95, True, 30), (95, False, 31), (50, True, 27), (10, True, 22)])
def test_encode_round_trip(quality, chroma, min_psnr):
    img = _image()
    data = tf.image.encode_jpeg(tf.constant(img), quality=quality, chroma_downsampling=chroma).numpy()
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    ours = tf.image.decode_jpeg(data).numpy()
    theirs = _pil_decode(data, "RGB")  # libjpeg reads our file
    assert np.abs(ours.astype(int) - theirs).max() <= 4
    assert _psnr(theirs, img) > min_psnr


def test_encode_quality_orders_size_and_error():
    img = _image(48, 64)
    sizes = [len(tf.image.encode_jpeg(tf.constant(img), quality=q).numpy()) for q in (10, 50, 95)]
    assert sizes[0] < sizes[1] < sizes[2]
    smooth = np.repeat(np.linspace(0, 255, 64)[None, :, None], 48, 0).repeat(3, 2).astype(np.uint8)
    back = _pil_decode(tf.image.encode_jpeg(tf.constant(smooth), quality=95).numpy(), "RGB")
    assert _psnr(back, smooth) > 40
    gray = tf.image.encode_jpeg(tf.constant(img[..., :1]), format="grayscale").numpy()
    assert Image.open(io.BytesIO(gray)).mode == "L"
    with pytest.raises(tf.errors.InvalidArgumentError, match="format"):
        tf.image.encode_jpeg(tf.constant(img), format="grayscale")
    with pytest.raises(tf.errors.InvalidArgumentError, match="uint8"):
        tf.image.encode_jpeg(tf.constant(img.astype("float32")))


def test_decode_image_dispatches_png_and_jpeg():
    img = _image(16, 24)
    jpg = _pil_jpeg(img, quality=95)
    assert tf.io.decode_image(jpg).shape == (16, 24, 3)
    f = tf.image.decode_image(jpg, dtype=tf.float32)
    assert f.dtype == tf.float32 and float(tf.reduce_max(f)) <= 1.0
    png = tf.image.encode_png(tf.constant(img)).numpy()
    assert np.array_equal(tf.io.decode_image(png).numpy(), img)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "GIF")
    with pytest.raises(tf.errors.InvalidArgumentError, match="GIF"):
        tf.image.decode_image(buf.getvalue())


def test_unsupported_kinds_are_named():
    prog = _pil_jpeg(_image(16, 16), quality=90, progressive=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="progressive"):
        tf.image.decode_jpeg(prog)
    with pytest.raises(tf.errors.InvalidArgumentError, match="ratio"):
        tf.image.decode_jpeg(_pil_jpeg(_image(8, 8)), ratio=3)


def test_adjust_jpeg_quality():
    img = _image(24, 32)
    out = tf.image.adjust_jpeg_quality(tf.constant(img), 75)
    assert out.dtype == tf.uint8 and _psnr(out.numpy(), img) > 25
    f = tf.image.adjust_jpeg_quality(tf.constant(img.astype("float32") / 255), 75)
    assert f.dtype == tf.float32 and np.abs(f.numpy() * 255 - out.numpy()).max() <= 1

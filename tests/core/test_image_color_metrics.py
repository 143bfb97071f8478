"""tf.image colour ops, ssim/psnr against TF 2.21's recorded outputs; geometry and
gradient ops against numpy and hand values."""

import json
import os

import pytest
import webtensor as tf

from tests.util import assert_close, tolist

FIXTURES = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "fixtures", "tf_values", "tf_reference_values.json"
)


def _fixture(key):
    if not os.path.exists(FIXTURES):
        pytest.skip("TF fixtures not present (../shared/fixtures)")
    with open(FIXTURES) as f:
        return json.load(f)[key]


def test_colour_ops_match_tf():
    c = _fixture("image_color")
    x = tf.constant(c["input"])
    assert_close(tf.image.rgb_to_hsv(x), c["rgb_to_hsv"], atol=1e-6)
    assert_close(tf.image.adjust_hue(x, 0.2), c["adjust_hue_0.2"], atol=1e-6)
    assert_close(tf.image.adjust_saturation(x, 1.5), c["adjust_saturation_1.5"], atol=1e-6)
    assert_close(tf.image.rgb_to_grayscale(x), c["rgb_to_grayscale"], atol=1e-6)
    assert_close(tf.image.per_image_standardization(x), c["per_image_standardization"], atol=1e-5)
    assert_close(tf.image.hsv_to_rgb(tf.image.rgb_to_hsv(x)), c["input"], atol=1e-6)


def test_ssim_psnr_match_tf():
    s = _fixture("image_ssim_psnr")
    a, b = tf.constant(s["a"]), tf.constant(s["b"])
    assert_close(tf.image.ssim(a, b, 1.0, filter_size=7), [s["ssim_max_val_1"]], atol=1e-6)
    assert_close(tf.image.psnr(a, b, 1.0), [s["psnr_max_val_1"]], rtol=1e-6)
    assert_close(tf.image.ssim(a, a, 1.0, filter_size=7), [1.0], atol=1e-6)


def test_dtype_conversion_gamma_and_gray():
    assert_close(tf.image.convert_image_dtype(tf.constant([0, 128, 255], tf.uint8), tf.float32), [0.0, 128 / 255, 1.0])
    assert tolist(tf.image.convert_image_dtype(tf.constant([0.0, 0.5, 1.0]), tf.uint8)) == [0, 127, 255]
    assert_close(tf.image.adjust_gamma(tf.constant([[[0.25]]]), 2.0, 2.0), [[[0.125]]])
    assert tuple(tf.image.grayscale_to_rgb(tf.zeros([2, 2, 1])).shape) == (2, 2, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="3 channels"):
        tf.image.rgb_to_hsv(tf.zeros([2, 2, 4]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="delta"):
        tf.image.adjust_hue(tf.zeros([1, 1, 3]), 1.5)


def test_geometry_and_patches():
    np = pytest.importorskip("numpy")
    im = np.arange(2 * 5 * 6 * 3, dtype="float32").reshape(2, 5, 6, 3)
    for k in range(4):
        assert tolist(tf.image.rot90(im, k)) == np.rot90(im, k, (1, 2)).tolist()
    assert tolist(tf.image.transpose(im[0])) == im[0].transpose(1, 0, 2).tolist()
    p = tf.image.extract_patches(im, [1, 2, 3, 1], [1, 2, 2, 1], [1, 1, 1, 1], "VALID")
    assert tuple(p.shape) == (2, 2, 2, 18)
    assert tolist(p[1, 1, 0]) == im[1, 2:4, 0:3].reshape(-1).tolist()
    q = tf.image.extract_patches(im, [1, 3, 3, 1], [1, 2, 2, 1], [1, 1, 1, 1], "SAME")
    assert tuple(q.shape) == (2, 3, 3, 27)
    padded = np.pad(im, [(0, 0), (1, 1), (0, 1), (0, 0)])  # SAME: rows pad 2 (1 before), columns 1 (after)
    assert tolist(q[0, 0, 0]) == padded[0, 0:3, 0:3].reshape(-1).tolist()
    r = tf.image.extract_patches(im, [1, 2, 2, 1], [1, 1, 1, 1], [1, 2, 2, 1], "VALID")  # dilated
    assert tolist(r[0, 0, 0]) == im[0, 0:3:2, 0:3:2].reshape(-1).tolist()


def test_gradients_sobel_and_total_variation_by_hand():
    np = pytest.importorskip("numpy")
    im = np.arange(2 * 5 * 6 * 3, dtype="float32").reshape(2, 5, 6, 3)  # +18 per row, +3 per column
    dy, dx = tf.image.image_gradients(im)
    assert float(dy[0, 0, 0, 0]) == 18.0 and float(dy[0, 4, 0, 0]) == 0.0
    assert float(dx[0, 0, 0, 0]) == 3.0 and float(dx[0, 0, 5, 0]) == 0.0
    assert_close(tf.image.total_variation(im), [4 * 6 * 3 * 18 + 5 * 5 * 3 * 3] * 2)
    e = tf.image.sobel_edges(im)
    assert tuple(e.shape) == (2, 5, 6, 3, 2)
    assert float(e[0, 2, 2, 0, 0]) == 8 * 18.0 and float(e[0, 2, 2, 0, 1]) == 8 * 3.0  # interior: 8 x slope
    assert float(e[0, 0, 2, 0, 0]) == 0.0  # REFLECT padding: the first row mirrors the second


def test_random_colour_ops_are_seeded_and_in_range():
    x = tf.random.stateless_uniform([4, 4, 3], seed=[1, 2])
    a = tf.image.stateless_random_hue(x, 0.2, seed=[3, 4])
    assert tolist(a) == tolist(tf.image.stateless_random_hue(x, 0.2, seed=[3, 4]))
    s = tf.image.stateless_random_saturation(x, 0.5, 1.5, seed=[5, 6])
    assert float(tf.reduce_min(s)) >= 0.0 and float(tf.reduce_max(s)) <= 1.0 + 1e-6


def test_encode_png_round_trips():
    np = pytest.importorskip("numpy")
    for c in (1, 2, 3, 4):
        im = np.random.default_rng(c).integers(0, 256, (5, 7, c)).astype("uint8")
        blob = tf.image.encode_png(im)
        assert tolist(blob)[:8] == b"\x89PNG\r\n\x1a\n"
        assert tolist(tf.image.decode_png(blob)) == im.tolist()
    pil = pytest.importorskip("PIL.Image")
    import io

    im = np.random.default_rng(9).integers(0, 256, (4, 3, 3)).astype("uint8")
    assert np.asarray(pil.open(io.BytesIO(tolist(tf.image.encode_png(im))))).tolist() == im.tolist()
    with pytest.raises(tf.errors.InvalidArgumentError, match="uint8"):
        tf.image.encode_png(tf.zeros([2, 2, 3]))

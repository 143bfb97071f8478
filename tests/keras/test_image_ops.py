"""tf.image (partial): resize against TF 2.21's recorded outputs, crops/pads/flips and
brightness/contrast by hand."""

import json
import os

import pytest

np = pytest.importorskip("numpy")  # the page has no numpy: there the module skips

import webtensor as tf

FIXTURE = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "fixtures", "tf_values", "tf_reference_values.json"
)


@pytest.fixture(scope="module")
def tf_resize():
    if not os.path.exists(FIXTURE):
        pytest.skip("shared/fixtures/tf_values is not beside the checkout")
    with open(FIXTURE) as f:
        return json.load(f)["image_resize"]


def test_resize_matches_tf_every_method(tf_resize):
    x = tf.constant(tf_resize["input"])
    checked = 0
    for key, want in tf_resize.items():
        if key == "input" or key.startswith("resize_with_pad"):
            continue
        method, size, aa = key.split("_")
        h, w = (int(v) for v in size.split("x"))
        got = tf.image.resize(x, (h, w), method=method, antialias=aa.endswith("True"))
        np.testing.assert_allclose(got.numpy(), np.array(want, np.float32), rtol=0, atol=2e-6, err_msg=key)
        checked += 1
    assert checked == 32
    got = tf.image.resize_with_pad(x, 6, 6)
    np.testing.assert_allclose(
        got.numpy(), np.array(tf_resize["resize_with_pad_6x6_bilinear"], np.float32), rtol=0, atol=2e-6
    )


def test_resize_dtypes_shapes_and_errors():
    img = tf.constant(np.arange(24, dtype="uint8").reshape(4, 6, 1))
    near = tf.image.resize(img, (2, 3), method="nearest")
    # half-pixel nearest: source index floor((i + 0.5) * 2) = 1, 3, 5
    assert near.dtype is tf.uint8 and near.numpy()[:, :, 0].tolist() == [[7, 9, 11], [19, 21, 23]]
    assert tf.image.resize(img, (2, 3)).dtype is tf.float32
    assert tuple(tf.image.resize(img, (8, 8), preserve_aspect_ratio=True).shape) == (5, 8, 1)
    with pytest.raises(ValueError, match="3 or 4 dimensions"):
        tf.image.resize(tf.ones((4, 4)), (2, 2))
    with pytest.raises(ValueError, match="unknown method"):
        tf.image.resize(img, (2, 2), method="cubic")
    # bilinear with half-pixel centres, 2 -> 4 by hand: samples at -0.25, 0.25, 0.75, 1.25
    row = tf.constant([[[0.0], [4.0]]])
    np.testing.assert_allclose(tf.image.resize(row, (1, 4)).numpy().ravel(), [0.0, 1.0, 3.0, 4.0])


def test_crop_pad_flip_by_hand():
    x = np.arange(2 * 4 * 5, dtype="float32").reshape(2, 4, 5, 1)
    got = tf.image.crop_to_bounding_box(x, 1, 2, 2, 3).numpy()
    np.testing.assert_array_equal(got, x[:, 1:3, 2:5])
    got = tf.image.pad_to_bounding_box(x[0], 1, 0, 6, 6).numpy()
    want = np.zeros((6, 6, 1), "float32")
    want[1:5, 0:5] = x[0]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(tf.image.flip_left_right(x).numpy(), x[:, :, ::-1])
    np.testing.assert_array_equal(tf.image.flip_up_down(x[0]).numpy(), x[0, ::-1])
    np.testing.assert_array_equal(tf.image.resize_with_crop_or_pad(x, 2, 7).numpy()[:, :, 1:6], x[:, 1:3])
    np.testing.assert_array_equal(tf.image.central_crop(x[0], 0.5).numpy(), x[0, 1:3, 1:4])
    with pytest.raises(ValueError, match="exceeds"):
        tf.image.crop_to_bounding_box(x, 3, 0, 2, 2)
    with pytest.raises(ValueError, match="does not fit"):
        tf.image.pad_to_bounding_box(x, 0, 0, 3, 3)


def test_brightness_contrast_by_hand():
    x = np.random.default_rng(2).uniform(0, 1, (2, 3, 3, 2)).astype("float32")
    np.testing.assert_allclose(tf.image.adjust_brightness(x, 0.25).numpy(), x + 0.25, atol=1e-6)
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(tf.image.adjust_contrast(x, 1.5).numpy(), (x - mean) * 1.5 + mean, atol=1e-6)
    u8 = np.array([[[10], [250]]], "uint8")
    got = tf.image.adjust_brightness(u8, 0.1)  # through [0, 1] floats, saturated back
    assert got.dtype is tf.uint8 and got.numpy().ravel().tolist() == [36, 255]
    r = tf.image.random_brightness(x, 0.2, seed=3).numpy() - x
    assert np.ptp(r) < 1e-5 and abs(r.mean()) <= 0.2

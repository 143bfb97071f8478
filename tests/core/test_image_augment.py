"""tf.image's random augmentations: each equals its adjust_*/flip/crop with the drawn
parameter inside TF's documented range, stateless ones repeat for one seed and vary across
seeds. (The streams are ours, not TF's Philox, so TF's exact draws are not asserted.)"""

import pytest
import webtensor as tf

np = pytest.importorskip("numpy")


def _img(h=6, w=5, c=3, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (h, w, c)).astype("float32")


def test_stateless_flips_repeat_and_are_flips():
    x = np.stack([_img(seed=i) for i in range(8)])
    for fn, axis in ((tf.image.stateless_random_flip_left_right, 2), (tf.image.stateless_random_flip_up_down, 1)):
        a, b = fn(tf.constant(x), seed=(3, 4)).numpy(), fn(tf.constant(x), seed=(3, 4)).numpy()
        assert np.array_equal(a, b)
        flipped = [not np.array_equal(a[i], x[i]) for i in range(8)]
        for i in range(8):  # each image is either itself or its mirror
            assert np.array_equal(a[i], np.flip(x[i], axis - 1) if flipped[i] else x[i])
        assert 0 < sum(flipped) < 8 or fn(tf.constant(x), seed=(5, 6)).numpy().tolist() != a.tolist()
    single = tf.image.stateless_random_flip_left_right(tf.constant(x[0]), seed=[1, 2])
    assert single.shape == (6, 5, 3)


def test_stateless_brightness_contrast_ranges():
    x = _img()
    deltas = set()
    for s in range(6):
        out = tf.image.stateless_random_brightness(tf.constant(x), 0.2, seed=(s, 0)).numpy()
        d = out - x
        assert np.allclose(d, d.flat[0], atol=1e-6) and abs(d.flat[0]) <= 0.2
        deltas.add(round(float(d.flat[0]), 6))
        again = tf.image.stateless_random_brightness(tf.constant(x), 0.2, seed=(s, 0)).numpy()
        assert np.array_equal(out, again)
    assert len(deltas) > 1
    mean = x.mean((0, 1))
    for s in range(4):
        out = tf.image.stateless_random_contrast(tf.constant(x), 0.5, 1.5, seed=(s, 7)).numpy()
        factor = (out - mean) / (x - mean)
        assert np.allclose(factor, factor.flat[0], atol=1e-3) and 0.5 <= factor.flat[0] <= 1.5
    with pytest.raises(ValueError, match="upper"):
        tf.image.stateless_random_contrast(tf.constant(x), 1.0, 0.5, seed=(1, 1))
    with pytest.raises(ValueError, match="max_delta"):
        tf.image.random_brightness(tf.constant(x), -0.1)


def test_crops_are_windows():
    x = np.arange(6 * 7 * 2, dtype="float32").reshape(6, 7, 2)
    seen = set()
    for s in range(6):
        out = tf.image.stateless_random_crop(tf.constant(x), [3, 4, 2], seed=(s, 1)).numpy()
        oy, ox = int(out[0, 0, 0]) // 14, (int(out[0, 0, 0]) % 14) // 2
        assert 0 <= oy <= 3 and 0 <= ox <= 3
        assert np.array_equal(out, x[oy : oy + 3, ox : ox + 4])
        seen.add((oy, ox))
        assert np.array_equal(out, tf.image.stateless_random_crop(tf.constant(x), [3, 4, 2], seed=(s, 1)).numpy())
    assert len(seen) > 1
    assert tf.image.random_crop(tf.constant(x), [2, 2, 2], seed=3).shape == (2, 2, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="size"):
        tf.image.random_crop(tf.constant(x), [7, 2, 2])


def test_stateless_hue_saturation_and_jpeg_quality_repeat():
    x = _img(8, 8)
    for fn, args in ((tf.image.stateless_random_hue, (0.2,)), (tf.image.stateless_random_saturation, (0.5, 1.5))):
        a = fn(tf.constant(x), *args, seed=(9, 9)).numpy()
        assert np.array_equal(a, fn(tf.constant(x), *args, seed=(9, 9)).numpy())
    u8 = (x * 255).astype("uint8")
    a = tf.image.stateless_random_jpeg_quality(tf.constant(u8), 30, 90, seed=(2, 3)).numpy()
    assert np.array_equal(a, tf.image.stateless_random_jpeg_quality(tf.constant(u8), 30, 90, seed=(2, 3)).numpy())
    qualities = [tf.image.adjust_jpeg_quality(tf.constant(u8), q).numpy() for q in range(30, 90)]
    assert any(np.array_equal(a, q) for q in qualities)  # one of the qualities in [min, max)
    assert tf.image.random_jpeg_quality(tf.constant(u8), 50, 60).shape == (8, 8, 3)
    with pytest.raises(ValueError, match="jpeg_quality"):
        tf.image.stateless_random_jpeg_quality(tf.constant(u8), 60, 50, seed=(1, 1))

"""JPEG without numpy or Pillow (so it runs in the page too): encode -> decode of a flat
colour comes back within two levels (JFIF's YCbCr round trip), a gradient by PSNR."""

import math

import pytest
import webtensor as tf


def _flat(h, w, rgb):
    return tf.constant([[list(rgb) for _ in range(w)] for _ in range(h)], tf.uint8)


def test_flat_colour_round_trip():
    for rgb in ((200, 30, 90), (0, 0, 0), (255, 255, 255), (17, 128, 240)):
        data = tf.image.encode_jpeg(_flat(9, 13, rgb), quality=90)
        back = tf.image.decode_jpeg(data)
        assert tuple(back.shape) == (9, 13, 3)
        for px in (v for row in back.tolist() for v in row):
            assert all(abs(a - b) <= 2 for a, b in zip(px, rgb)), (px, rgb)


def test_gradient_psnr_and_grey():
    rows = [[[(x * 8) % 256, (y * 12) % 256, (x + y) * 4 % 256] for x in range(24)] for y in range(16)]
    data = tf.image.encode_jpeg(tf.constant(rows, tf.uint8), quality=95, chroma_downsampling=False)
    back = tf.image.decode_jpeg(data).numpy().tolist()
    se = sum((a - b) ** 2 for r0, r1 in zip(rows, back) for p0, p1 in zip(r0, r1) for a, b in zip(p0, p1))
    assert 10 * math.log10(255**2 / (se / (16 * 24 * 3))) > 30
    grey = tf.image.decode_jpeg(data, channels=1)
    assert tuple(grey.shape) == (16, 24, 1)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.image.decode_jpeg(bytes(data.numpy())[:40])

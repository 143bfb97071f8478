"""Truncated and corrupted PNG and JPEG files: the decoders give InvalidArgumentError (or an
image, when a flipped byte still leaves a valid file), never another exception or a hang.
Seeded and bounded: every truncation of a small file plus a few hundred byte mutations."""

import io
import random

import pytest
import webtensor as tf

np = pytest.importorskip("numpy")
Image = pytest.importorskip("PIL.Image")


def _files():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (12, 20, 3), dtype=np.uint8)
    img[:6] //= 4  # some smooth area, some noise
    out = {}
    for name, kw in (
        ("jpeg420", {"format": "JPEG", "quality": 80}),
        ("jpeg444_rst", {"format": "JPEG", "quality": 60, "subsampling": 0, "restart_marker_blocks": 1}),
        ("png", {"format": "PNG"}),
    ):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, **kw)
        out[name] = buf.getvalue()
    out["ours"] = tf.image.encode_jpeg(tf.constant(img), quality=70).numpy()
    return out


FILES = _files()


def _decode(data: bytes):
    try:
        tf.io.decode_image(data)
    except tf.errors.InvalidArgumentError:
        pass


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_truncation_is_an_error(name):
    data = FILES[name]
    step = max(1, len(data) // 150)
    for n in range(0, len(data) - 2, step):  # cutting the 2-byte EOI/IEND tail may still decode
        with pytest.raises(tf.errors.InvalidArgumentError):
            tf.io.decode_image(data[:n])


@pytest.mark.parametrize("name", sorted(FILES))
def test_mutations_raise_only_invalid_argument(name):
    data = FILES[name]
    rnd = random.Random(name)
    for _ in range(150):
        b = bytearray(data)
        for _ in range(rnd.randint(1, 4)):
            i = rnd.randrange(2, len(b))
            b[i] = rnd.choice([0x00, 0xFF, rnd.randrange(256), b[i] ^ (1 << rnd.randrange(8))])
        _decode(bytes(b))

"""``tf.image.decode_png`` / ``decode_jpeg`` / ``decode_image``: image file bytes to a
``(height, width, channels)`` tensor, in pure Python (png.py, jpeg.py). PNG and baseline
JPEG; GIF/BMP/WebP and progressive JPEG are a clear error naming the format."""

from __future__ import annotations

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..tensor import constant
from . import jpeg, png


def _bytes(contents, op: str = "decode_png") -> bytes:
    if hasattr(contents, "numpy") and not isinstance(contents, (bytes, bytearray)):
        contents = contents.numpy()
    if isinstance(contents, str):
        raise InvalidArgumentError(
            f"{op}: contents must be the file's bytes, not a str (read it with tf.io.read_file or open(path, 'rb'))"
        )
    return bytes(contents)


def decode_png(contents, channels: int = 0, dtype=D.uint8, name=None):
    """The PNG's pixels as uint8 ``(height, width, channels)``; ``channels=0`` keeps the file's.
    webtensor has no uint16: ``dtype="uint16"`` (or int32) gives int32 tensors of 16-bit values."""
    dt = D.int32 if dtype in ("uint16", "int32", D.int32) else D.as_dtype(dtype)
    if dt not in (D.uint8, D.int32):
        raise InvalidArgumentError(f"decode_png: dtype must be uint8 or uint16, got {dt.name}")
    from ..ops import array as A

    h, w, c, values = png.decode(_bytes(contents), channels, "uint16" if dt is D.int32 else "uint8")
    return A.reshape(constant(values, dt), (h, w, c))


def image_format(data: bytes) -> str:
    if data[:8] == png.SIGNATURE:
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:2] == b"BM":
        return "bmp"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return "unknown"


def decode_jpeg(
    contents,
    channels: int = 0,
    ratio: int = 1,
    fancy_upscaling: bool = True,
    try_recover_truncated: bool = False,
    acceptable_fraction: float = 1,
    dct_method: str = "",
    name=None,
):
    """A baseline JPEG's pixels as uint8 ``(height, width, channels)``.

    ``channels`` 0 keeps the file's (1 or 3), 1 is grey (the Y plane, as libjpeg), 3 is RGB.
    ``ratio`` 2/4/8 shrinks by box averages (close to libjpeg's scaled IDCT, not equal).
    ``dct_method`` is accepted and ignored (one float IDCT); a truncated file is an error
    whatever ``try_recover_truncated`` says."""
    from ..ops import array as A

    if dct_method not in ("", "INTEGER_FAST", "INTEGER_ACCURATE"):
        raise InvalidArgumentError(
            f"decode_jpeg: dct_method must be '', 'INTEGER_FAST' or 'INTEGER_ACCURATE', got {dct_method!r}"
        )
    h, w, c, values = jpeg.decode(_bytes(contents, "decode_jpeg"), int(channels), int(ratio), bool(fancy_upscaling))
    return A.reshape(constant(list(values), D.uint8), (h, w, c))


def decode_image(contents, channels=None, dtype=D.uint8, name=None, expand_animations=True):
    """``tf.io.decode_image`` for PNG and (baseline) JPEG files; GIF/BMP/WebP are an error saying so.
    A float ``dtype`` scales to [0, 1] as ``convert_image_dtype``."""
    data = _bytes(contents, "decode_image")
    kind = image_format(data)
    if kind not in ("png", "jpeg"):
        raise InvalidArgumentError(
            f"decode_image: only PNG and JPEG images can be decoded here (pure Python); "
            f"this is {'a ' + kind.upper() if kind != 'unknown' else 'not a known image'} "
            f"file. Convert the images to PNG."
        )
    if channels not in (None, 0, 1, 3, 4) or (kind == "jpeg" and channels == 4):
        raise InvalidArgumentError(f"decode_image: channels must be 0, 1, 3 or 4 (not 4 for JPEG), got {channels}")
    dt = D.as_dtype(dtype)
    if dt.is_floating:
        from ..ops import math as M

        return M.cast(decode_image(data, channels), dt) * (1.0 / 255.0)
    if kind == "jpeg":
        if dt is not D.uint8:
            raise InvalidArgumentError(f"decode_image: a JPEG decodes to uint8 (or a float dtype), got {dt.name}")
        return decode_jpeg(data, channels or 0)
    return decode_png(data, channels or 0, dt)

"""``tf.image.decode_png`` / ``decode_image``: image file bytes to a ``(height, width, channels)``
tensor. PNG only (pure Python); other formats are a clear error naming the format."""
from __future__ import annotations

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..tensor import constant
from . import png


def _bytes(contents) -> bytes:
    if hasattr(contents, "numpy") and not isinstance(contents, (bytes, bytearray)):
        contents = contents.numpy()
    if isinstance(contents, str):
        raise InvalidArgumentError("decode_png: contents must be the file's bytes, not a str (read it with "
                                   "tf.io.read_file or open(path, 'rb'))")
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


def decode_image(contents, channels=None, dtype=D.uint8, name=None, expand_animations=True):
    """Like ``tf.io.decode_image`` for PNG files; JPEG/GIF/BMP are not decoded here (an error says so)."""
    data = _bytes(contents)
    kind = image_format(data)
    if kind != "png":
        raise InvalidArgumentError(f"decode_image: only PNG images can be decoded here (pure Python); this is "
                                   f"{'a ' + kind.upper() if kind != 'unknown' else 'not a known image'} file. "
                                   f"Convert the images to PNG.")
    dt = D.as_dtype(dtype)
    if dt.is_floating:
        from ..ops import math as M

        return M.cast(decode_png(data, channels or 0), dt) * (1.0 / 255.0)
    return decode_png(data, channels or 0, dt)

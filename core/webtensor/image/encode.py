"""``tf.image.encode_png``: a tensor to PNG bytes in pure Python (zlib from the stdlib), so it
works in the page. Filter type 0 per row, as TF's libpng call with default settings
produces a valid (not byte-identical) file; decoders read both alike."""

from __future__ import annotations

import struct
import zlib

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..ops.dispatch import operand
from ..tensor import Tensor, constant
from .png import SIGNATURE

_COLOUR = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (gray, gray+alpha, RGB, RGBA)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def encode_png(image, compression=-1, name=None) -> Tensor:
    """PNG bytes (a scalar string) of a uint8 [h, w, c] image (c in 1..4); compression -1..9."""
    x = operand(image, "encode_png")
    if x._dtype is not D.uint8:
        raise InvalidArgumentError(
            f"encode_png: image must be uint8 [height, width, channels], got "
            f"{x._dtype.name} (16-bit images are not supported: no uint16 dtype)"
        )
    if len(x._h.shape) != 3 or x._h.shape[-1] not in _COLOUR:
        raise InvalidArgumentError(f"encode_png: image must be [height, width, 1-4 channels], got {tuple(x._h.shape)}")
    level = int(compression)
    if not -1 <= level <= 9:
        raise InvalidArgumentError(f"encode_png: compression must be in [-1, 9], got {level}")
    h, w, c = x._h.shape
    data = bytes(x._be.read(x._h))
    stride = w * c
    raw = b"".join(b"\x00" + data[y * stride : (y + 1) * stride] for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, _COLOUR[c], 0, 0, 0)
    png = SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, level)) + _chunk(b"IEND", b"")
    return constant(png, D.string)


_DENSITY_UNITS = {"in": 1, "cm": 2}


def encode_jpeg(
    image,
    format="",
    quality=95,
    progressive=False,
    optimize_size=False,
    chroma_downsampling=True,
    density_unit="in",
    x_density=300,
    y_density=300,
    xmp_metadata="",
    name=None,
) -> Tensor:
    """Baseline JPEG bytes (a scalar string) of a uint8 [h, w, 1 or 3] image (jpeg.py).

    ``format`` '' follows the channels, 'grayscale' or 'rgb' must match them; the standard
    Annex K tables at IJG ``quality`` scaling, 4:2:0 chroma when ``chroma_downsampling``.
    ``progressive``/``optimize_size``/``xmp_metadata`` are accepted; the output is always a
    baseline file with the standard Huffman tables. Not TF's bytes; any decoder reads it."""
    from . import jpeg

    x = operand(image, "encode_jpeg")
    if x._dtype is not D.uint8 or len(x._h.shape) != 3:
        raise InvalidArgumentError(
            f"encode_jpeg: image must be uint8 [height, width, channels], got {x._dtype.name} {tuple(x._h.shape)}"
        )
    h, w, c = x._h.shape
    want = {"": c, "grayscale": 1, "rgb": 3}.get(format)
    if want is None or want != c:
        raise InvalidArgumentError(
            f"encode_jpeg: format {format!r} does not fit an image of {c} channels "
            f"(use '', 'grayscale' for 1 or 'rgb' for 3)"
        )
    if not 0 <= int(quality) <= 100:
        raise InvalidArgumentError(f"encode_jpeg: quality must be in [0, 100], got {quality}")
    if density_unit not in _DENSITY_UNITS:
        raise InvalidArgumentError(f"encode_jpeg: density_unit must be 'in' or 'cm', got {density_unit!r}")
    data = jpeg.encode(
        bytes(x._be.read(x._h)),
        h,
        w,
        c,
        int(quality),
        bool(chroma_downsampling),
        (_DENSITY_UNITS[density_unit], int(x_density), int(y_density)),
    )
    return constant(data, D.string)


def adjust_jpeg_quality(image, jpeg_quality, dct_method="", name=None) -> Tensor:
    """Encode at ``jpeg_quality`` and decode again (``tf.image.adjust_jpeg_quality``): a 3-D
    uint8 or float image (floats in [0, 1] come back as float32)."""
    from ..ops import math as M
    from .decode import decode_jpeg

    x = operand(image, "adjust_jpeg_quality")
    if len(x._h.shape) != 3 or x._h.shape[-1] not in (1, 3):
        raise InvalidArgumentError(
            f"adjust_jpeg_quality: image must be [height, width, 1 or 3], got {tuple(x._h.shape)}"
        )
    q = int(jpeg_quality.numpy()) if hasattr(jpeg_quality, "numpy") else int(jpeg_quality)
    as_float = x._dtype.is_floating
    u8 = M.saturate_cast(M.round(x * 255.0), D.uint8) if as_float else M.cast(x, D.uint8)
    out = decode_jpeg(encode_jpeg(u8, quality=q))
    return M.cast(out, D.float32) * (1.0 / 255.0) if as_float else out

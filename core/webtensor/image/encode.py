"""``tf.image.encode_png``: a tensor to PNG bytes in pure Python (zlib from the stdlib), so it
works in the page. Filter type 0 per row, as TF's libpng call with default settings
produces a valid (not byte-identical) file; decoders read both alike."""
from __future__ import annotations

import struct
import zlib

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..ops.dispatch import one
from ..tensor import Tensor, constant
from .png import SIGNATURE

_COLOUR = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (gray, gray+alpha, RGB, RGBA)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def encode_png(image, compression=-1, name=None) -> Tensor:
    """PNG bytes (a scalar string) of a uint8 [h, w, c] image (c in 1..4); compression -1..9."""
    x = one(image, "encode_png")
    if x._dtype is not D.uint8:
        raise InvalidArgumentError(f"encode_png: image must be uint8 [height, width, channels], got "
                                   f"{x._dtype.name} (16-bit images are not supported: no uint16 dtype)")
    if len(x._h.shape) != 3 or x._h.shape[-1] not in _COLOUR:
        raise InvalidArgumentError(f"encode_png: image must be [height, width, 1-4 channels], got "
                                   f"{tuple(x._h.shape)}")
    level = int(compression)
    if not -1 <= level <= 9:
        raise InvalidArgumentError(f"encode_png: compression must be in [-1, 9], got {level}")
    h, w, c = x._h.shape
    data = bytes(x._be.read(x._h))
    stride = w * c
    raw = b"".join(b"\x00" + data[y * stride:(y + 1) * stride] for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, _COLOUR[c], 0, 0, 0)
    png = SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, level)) + _chunk(b"IEND", b"")
    return constant(png, D.string)

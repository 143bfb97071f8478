"""PNG decoding in pure Python (``tf.io.decode_png``): every colour type (grey, RGB, palette,
grey+alpha, RGBA), bit depths 1-16, the five row filters, Adam7 interlacing, ``tRNS``
transparency for palette images. Inflation is the standard library's ``zlib`` (part of
CPython and of Pyodide). Chunk CRCs and lengths are checked: a bad file is an
``InvalidArgumentError`` naming what is wrong, never a hang or a partial image."""

from __future__ import annotations

import struct
import zlib

from ..errors import InvalidArgumentError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
MAX_PIXELS = 1 << 28


def _fail(msg: str):
    raise InvalidArgumentError(f"decode_png: {msg}")


def _chunks(data: bytes):
    if data[:8] != SIGNATURE:
        _fail("not a PNG file (bad signature)")
    pos, n = 8, len(data)
    while pos < n:
        if pos + 12 > n:
            _fail(f"truncated chunk header at byte {pos}")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > n:
            _fail(f"chunk {kind!r} at byte {pos} runs past the end of the file")
        body = data[pos + 8 : pos + 8 + length]
        crc = struct.unpack(">I", data[end - 4 : end])[0]
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            _fail(f"CRC mismatch in chunk {kind!r} at byte {pos}")
        yield kind, body
        if kind == b"IEND":
            return
        pos = end
    _fail("missing IEND chunk (truncated file)")


def _unfilter(raw: bytes, width: int, height: int, bpp: int, bits_per_row: int, start: int) -> tuple:
    """Undo the per-row filters of one (sub)image; returns (rows as bytearrays, next offset)."""
    stride = (bits_per_row + 7) // 8
    rows, prev = [], bytearray(stride)
    pos = start
    for _ in range(height):
        if pos + 1 + stride > len(raw):
            _fail("image data is shorter than the image size")
        ftype = raw[pos]
        line = bytearray(raw[pos + 1 : pos + 1 + stride])
        pos += 1 + stride
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif ftype == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        elif ftype != 0:
            _fail(f"unknown row filter {ftype}")
        rows.append(line)
        prev = line
    return rows, pos


def _samples(row: bytes, count: int, depth: int) -> list:
    """The ``count`` samples of one unfiltered row at ``depth`` bits each."""
    if depth == 8:
        return list(row[:count])
    if depth == 16:
        return list(struct.unpack(f">{count}H", bytes(row[: 2 * count])))
    per, mask, out = 8 // depth, (1 << depth) - 1, []
    for byte in row:
        for k in range(per):
            out.append((byte >> (8 - depth * (k + 1))) & mask)
    return out[:count]


def decode(data: bytes, channels: int = 0, dtype: str = "uint8") -> tuple:
    """``(height, width, channels, values)``: the pixels as a flat row-major list of ints in the
    range of ``dtype`` (``uint8`` or ``uint16``; TF scales between the two as here)."""
    header, palette, trns, idat = None, None, None, []
    for kind, body in _chunks(bytes(data)):
        if kind == b"IHDR":
            if len(body) != 13:
                _fail("IHDR chunk has the wrong length")
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"tRNS":
            trns = body
        elif kind == b"IDAT":
            idat.append(body)
    if header is None:
        _fail("missing IHDR chunk")
    width, height, depth, ctype, _, _, interlace = header
    if (
        ctype not in _CHANNELS
        or depth not in (1, 2, 4, 8, 16)
        or (ctype in (2, 4, 6) and depth < 8)
        or (ctype == 3 and depth == 16)
    ):
        _fail(f"invalid colour type {ctype} with bit depth {depth}")
    if width == 0 or height == 0 or width * height > MAX_PIXELS:
        _fail(f"image size {width}x{height} is empty or too large")
    if ctype == 3 and palette is None:
        _fail("palette image without a PLTE chunk")
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as e:
        _fail(f"corrupt image data ({e})")
    spp = _CHANNELS[ctype]
    bpp = max(1, spp * depth // 8)
    pixels = [0] * (width * height * spp)
    if interlace == 0:
        rows, _ = _unfilter(raw, width, height, bpp, width * spp * depth, 0)
        for y, row in enumerate(rows):
            pixels[y * width * spp : (y + 1) * width * spp] = _samples(row, width * spp, depth)
    else:
        pos = 0
        for x0, y0, dx, dy in _ADAM7:
            w, h = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
            if w == 0 or h == 0:
                continue
            rows, pos = _unfilter(raw, w, h, bpp, w * spp * depth, pos)
            for j, row in enumerate(rows):
                vals = _samples(row, w * spp, depth)
                y = y0 + j * dy
                for i in range(w):
                    at = (y * width + x0 + i * dx) * spp
                    pixels[at : at + spp] = vals[i * spp : (i + 1) * spp]
    return _convert(width, height, depth, ctype, spp, pixels, palette, trns, channels, dtype)


def _convert(width, height, depth, ctype, spp, pixels, palette, trns, channels, dtype):
    out_max = 65535 if dtype == "uint16" else 255
    if ctype == 3:
        alpha = list(trns or b"")
        rgba = []
        for i in pixels:
            if 3 * i + 3 > len(palette):
                _fail(f"palette index {i} is out of range")
            rgba += [palette[3 * i], palette[3 * i + 1], palette[3 * i + 2], alpha[i] if i < len(alpha) else 255]
        pixels, spp, src_max = rgba, 4 if trns else 3, 255
        if not trns:
            pixels = [v for k, v in enumerate(rgba) if k % 4 != 3]
    else:
        src_max = (1 << depth) - 1
    if src_max != out_max:
        pixels = [(v * out_max + src_max // 2) // src_max for v in pixels]
    want = channels or spp
    if want not in (1, 2, 3, 4):
        _fail(f"channels must be 0, 1, 2, 3 or 4, got {channels}")
    if want != spp:
        pixels = _channels(pixels, spp, want, out_max)
    return height, width, want, pixels


def _channels(px: list, have: int, want: int, opaque: int) -> list:
    """Convert between grey(+alpha) and RGB(A); grey from RGB uses libpng's default weights."""
    n = len(px) // have
    out = []
    for k in range(n):
        p = px[k * have : (k + 1) * have]
        color, alpha = (p[:1] if have <= 2 else p[:3]), (p[-1] if have in (2, 4) else None)
        if want <= 2:
            g = color[0] if len(color) == 1 else (color[0] * 6968 + color[1] * 23434 + color[2] * 2366 + 16384) >> 15
            out += [g] if want == 1 else [g, alpha if alpha is not None else opaque]
        else:
            rgb = color * 3 if len(color) == 1 else color
            out += rgb if want == 3 else rgb + [alpha if alpha is not None else opaque]
    return out

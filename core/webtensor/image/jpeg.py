"""Baseline JPEG (ITU T.81, sequential Huffman, 8-bit) decoding and encoding in pure Python.

Why pure Python: the page runs under Pyodide without numpy or a C image library, and a
baseline decoder is a few hundred lines. What it reads: SOF0/SOF1 frames, interleaved or
one-component scans, restart intervals, any integer sampling factors (fancy upsampling
for 2x sub-sampling, as libjpeg), gray, YCbCr and Adobe RGB. Not read: progressive
(SOF2), arithmetic, lossless and 12-bit files, CMYK; those are an InvalidArgumentError
that names the kind. The IDCT is a float one, so pixels can differ from libjpeg's integer
IDCT by a level or two. Every malformed or truncated input is an InvalidArgumentError:
reads are bounds-checked and each loop is bounded by the data or the frame's block count.
"""

from __future__ import annotations

import math

from ..errors import InvalidArgumentError

ZIGZAG = [
    0,
    1,
    8,
    16,
    9,
    2,
    3,
    10,
    17,
    24,
    32,
    25,
    18,
    11,
    4,
    5,
    12,
    19,
    26,
    33,
    40,
    48,
    41,
    34,
    27,
    20,
    13,
    6,
    7,
    14,
    21,
    28,
    35,
    42,
    49,
    56,
    57,
    50,
    43,
    36,
    29,
    22,
    15,
    23,
    30,
    37,
    44,
    51,
    58,
    59,
    52,
    45,
    38,
    31,
    39,
    46,
    53,
    60,
    61,
    54,
    47,
    55,
    62,
    63,
]


def _c(u: int) -> float:
    return math.sqrt(0.5) if u == 0 else 1.0


# _BASIS[k]: the 8x8 image (row-major) of the k-th zigzag coefficient, so the IDCT of a
# sparse block is a sum over its non-zero coefficients only.
_COS = [[math.cos((2 * x + 1) * u * math.pi / 16) for x in range(8)] for u in range(8)]
_BASIS = []
for _k in range(64):
    _v, _u = divmod(ZIGZAG[_k], 8)
    _BASIS.append([_c(_u) * _c(_v) / 4 * _COS[_v][y] * _COS[_u][x] for y in range(8) for x in range(8)])
_FDCT = [[_c(u) / 2 * _COS[u][x] for x in range(8)] for u in range(8)]


class _Bad(Exception):
    """Internal: a malformed stream; decode() turns it into InvalidArgumentError."""


# -- decoding ----------------------------------------------------------------------------


class _Huffman:
    """Canonical Huffman code (T.81 Annex C): maxcode/valptr per code length."""

    def __init__(self, counts: list, values: bytes):
        if sum(counts) != len(values) or len(values) > 256:
            raise _Bad("DHT: the code counts do not match the values")
        self.maxcode, self.valptr, self.mincode, self.values = [-1] * 17, [0] * 17, [0] * 17, values
        code = k = 0
        for length in range(1, 17):
            n = counts[length - 1]
            self.valptr[length], self.mincode[length] = k, code
            code += n
            k += n
            self.maxcode[length] = code - 1 if n else -1
            if code > (1 << length):
                raise _Bad("DHT: over-subscribed Huffman code")
            code <<= 1


class _Bits:
    """The entropy-coded bytes of a scan: 0xFF00 is a stuffed 0xFF; any other marker ends them."""

    def __init__(self, data: bytes, pos: int):
        self.data, self.pos, self.acc, self.n = data, pos, 0, 0

    def _fill(self):
        d, p = self.data, self.pos
        if p >= len(d):
            raise _Bad("truncated scan data")
        b = d[p]
        if b == 0xFF:
            if p + 1 >= len(d) or d[p + 1] != 0:
                raise _Bad("scan data ends before the image is complete (truncated or corrupt)")
            p += 1
        self.pos = p + 1
        self.acc = (self.acc << 8) | b
        self.n += 8

    def bit(self) -> int:
        if not self.n:
            self._fill()
        self.n -= 1
        return (self.acc >> self.n) & 1

    def bits(self, k: int) -> int:
        while self.n < k:
            self._fill()
        self.n -= k
        return (self.acc >> self.n) & ((1 << k) - 1)

    def decode(self, h: _Huffman) -> int:
        code = self.bit()
        for length in range(1, 17):
            if code <= h.maxcode[length]:
                return h.values[h.valptr[length] + code - h.mincode[length]]
            code = (code << 1) | self.bit()
        raise _Bad("invalid Huffman code")

    def restart(self, marker: int):
        """Skip to the byte boundary and over the expected RSTn marker."""
        self.acc = self.n = 0
        d, p = self.data, self.pos
        if p + 1 >= len(d) or d[p] != 0xFF or d[p + 1] != 0xD0 + marker:
            raise _Bad("missing restart marker")
        self.pos = p + 2


def _extend(v: int, s: int) -> int:
    return v - (1 << s) + 1 if s and v < (1 << (s - 1)) else v


class _Frame:
    def __init__(self, seg: bytes, kind: int):
        if len(seg) < 6:
            raise _Bad("SOF segment too short")
        if seg[0] != 8:
            raise InvalidArgumentError(f"decode_jpeg: {seg[0]}-bit JPEG is not supported (8-bit only)")
        self.height, self.width, n = (seg[1] << 8) | seg[2], (seg[3] << 8) | seg[4], seg[5]
        if not self.width or not self.height:
            raise _Bad("the frame has a zero width or height (DNL is not supported)")
        if n not in (1, 3) or len(seg) < 6 + 3 * n:
            if n == 4:
                raise InvalidArgumentError("decode_jpeg: CMYK/YCCK JPEG (4 components) is not supported")
            raise _Bad(f"the frame has {n} components")
        self.comps = []
        for i in range(n):
            cid, hv, tq = seg[6 + 3 * i : 9 + 3 * i]
            h, v = hv >> 4, hv & 15
            if not (1 <= h <= 4 and 1 <= v <= 4) or tq > 3:
                raise _Bad("bad sampling factors or quantisation table id")
            self.comps.append({"id": cid, "h": h, "v": v, "tq": tq, "pred": 0})
        self.hmax = max(c["h"] for c in self.comps)
        self.vmax = max(c["v"] for c in self.comps)
        self.mcux = -(-self.width // (8 * self.hmax))
        self.mcuy = -(-self.height // (8 * self.vmax))
        for c in self.comps:
            if self.hmax % c["h"] or self.vmax % c["v"]:
                raise InvalidArgumentError("decode_jpeg: non-integer chroma sampling ratios are not supported")
            c["bw"], c["bh"] = self.mcux * c["h"], self.mcuy * c["v"]  # blocks, padded to whole MCUs
            c["w"] = -(-self.width * c["h"] // self.hmax)  # the component's real size in samples
            c["ht"] = -(-self.height * c["v"] // self.vmax)
            c["blocks"] = None
        self.blocks = sum(c["bw"] * c["bh"] for c in self.comps)


def _decode_block(bits: _Bits, comp: dict, dc: _Huffman, ac: _Huffman) -> list:
    blk = [0] * 64
    t = bits.decode(dc)
    if t > 11:
        raise _Bad("DC category out of range")
    comp["pred"] += _extend(bits.bits(t), t) if t else 0
    blk[0] = comp["pred"]
    k = 1
    while k < 64:
        rs = bits.decode(ac)
        r, s = rs >> 4, rs & 15
        if not s:
            if r != 15:
                break
            k += 16
            continue
        k += r
        if k > 63:
            raise _Bad("AC coefficients run past the block")
        blk[k] = _extend(bits.bits(s), s)
        k += 1
    return blk


def _scan(data: bytes, pos: int, seg: bytes, frame: _Frame, tables: dict, restart: int) -> int:
    n = seg[0] if seg else 0
    if not 1 <= n <= len(frame.comps) or len(seg) < 1 + 2 * n + 3:
        raise _Bad("bad SOS segment")
    comps = []
    for i in range(n):
        cid, td = seg[1 + 2 * i], seg[2 + 2 * i]
        comp = next((c for c in frame.comps if c["id"] == cid), None)
        dc, ac = tables.get((0, td >> 4)), tables.get((1, td & 15))
        if comp is None or dc is None or ac is None:
            raise _Bad("the scan names an unknown component or Huffman table")
        if comp["blocks"] is None:
            comp["blocks"] = [None] * (comp["bw"] * comp["bh"])
        comp["pred"] = 0
        comps.append((comp, dc, ac))
    bits = _Bits(data, pos)
    if n == 1:  # non-interleaved: the component's own blocks, cropped to its real size
        comp, dc, ac = comps[0]
        units = [(comp, dc, ac, bx, by) for by in range(-(-comp["ht"] // 8)) for bx in range(-(-comp["w"] // 8))]
        groups = [[u] for u in units]
    else:
        groups = [
            [
                (c, dc, ac, mx * c["h"] + x, my * c["v"] + y)
                for c, dc, ac in comps
                for y in range(c["v"])
                for x in range(c["h"])
            ]
            for my in range(frame.mcuy)
            for mx in range(frame.mcux)
        ]
    marker = 0
    for i, group in enumerate(groups):
        if restart and i and i % restart == 0:
            bits.restart(marker)
            marker = (marker + 1) & 7
            for c, _, _ in comps:
                c["pred"] = 0
        for comp, dc, ac, bx, by in group:
            comp["blocks"][by * comp["bw"] + bx] = _decode_block(bits, comp, dc, ac)
    p = bits.pos  # on to the next marker (skipping fill bytes)
    while p + 1 < len(data) and not (
        data[p] == 0xFF and data[p + 1] not in (0, 0xFF) and not 0xD0 <= data[p + 1] <= 0xD7
    ):
        p += 1
    return p


def _idct_plane(comp: dict, q: list) -> tuple:
    """The component's samples, (bw * 8) wide, as one bytearray; missing blocks are mid-grey."""
    stride = comp["bw"] * 8
    out = bytearray(b"\x80" * (stride * comp["bh"] * 8))
    blocks = comp["blocks"] or []
    for i, blk in enumerate(blocks):
        if blk is None:
            continue
        acc = [128.0] * 64
        for k in range(64):
            c = blk[k]
            if c:
                cq = c * q[k]
                b = _BASIS[k]
                acc = [a + cq * e for a, e in zip(acc, b)]
        by, bx = divmod(i, comp["bw"])
        base = by * 8 * stride + bx * 8
        for y in range(8):
            row = acc[y * 8 : y * 8 + 8]
            out[base + y * stride : base + y * stride + 8] = bytes(
                0 if v < 0 else 255 if v > 255 else int(v + 0.5) for v in row
            )
    return out, stride


def _upsample(plane: bytearray, stride: int, comp: dict, frame: _Frame, fancy: bool) -> list:
    """Full-resolution rows (lists of ints, width x height) of one component."""
    w, h = comp["w"], comp["ht"]
    rows = [list(plane[y * stride : y * stride + w]) for y in range(h)]
    sx, sy = frame.hmax // comp["h"], frame.vmax // comp["v"]
    W, H = frame.width, frame.height
    if sx == 1 and sy == 1:
        return rows
    if fancy and sy == 2 and sx in (1, 2):  # libjpeg's triangle filter: 3/4 nearer, 1/4 further
        out = []
        for y in range(h):
            for other, bias in ((rows[max(y - 1, 0)], 1), (rows[min(y + 1, h - 1)], 2)):
                cs = [3 * a + b for a, b in zip(rows[y], other)]
                out.append(_h2(cs, 16, (8, 7)) if sx == 2 else [(v + bias) >> 2 for v in cs])
        return [r[:W] for r in out[:H]]
    if fancy and sx == 2 and sy == 1:
        return [_h2([4 * v for v in r], 16, (8, 7))[:W] for r in rows[:H]]
    out = []
    for r in rows:
        wide = [v for v in r for _ in range(sx)][:W]
        out.extend([wide] * sy)
    return out[:H]


def _h2(cs: list, div: int, bias: tuple) -> list:
    """Horizontal 2x triangle upsampling of column sums scaled by div/4."""
    n = len(cs)
    out = []
    shift = div.bit_length() - 1
    for i in range(n):
        left, right = cs[max(i - 1, 0)], cs[min(i + 1, n - 1)]
        if i == 0:
            out.append((4 * cs[0] + bias[0]) >> shift)
        else:
            out.append((3 * cs[i] + left + bias[0]) >> shift)
        if i == n - 1:
            out.append((4 * cs[i] + bias[1]) >> shift)
        else:
            out.append((3 * cs[i] + right + bias[1]) >> shift)
    return out


def _clamp(v: float) -> int:
    return 0 if v < 0 else 255 if v > 255 else int(v + 0.5)


def decode(data: bytes, channels: int = 0, ratio: int = 1, fancy: bool = True) -> tuple:
    """``(height, width, channels, bytes)`` of a baseline JPEG; InvalidArgumentError if malformed."""
    if channels not in (0, 1, 3):
        raise InvalidArgumentError(f"decode_jpeg: channels must be 0, 1 or 3, got {channels}")
    if ratio not in (1, 2, 4, 8):
        raise InvalidArgumentError(f"decode_jpeg: ratio must be 1, 2, 4 or 8, got {ratio}")
    try:
        return _decode(bytes(data), channels, ratio, fancy)
    except _Bad as e:
        raise InvalidArgumentError(f"decode_jpeg: invalid JPEG data ({e}), {len(data)} bytes") from None
    except (IndexError, ValueError, KeyError, TypeError) as e:
        raise InvalidArgumentError(
            f"decode_jpeg: invalid JPEG data ({type(e).__name__}: {e}), {len(data)} bytes"
        ) from None


def _segments(data: bytes):
    """(marker, segment bytes, position after it) for each marker up to EOI."""
    if data[:2] != b"\xff\xd8":
        raise _Bad("not a JPEG file (no SOI marker)")
    pos = 2
    while True:
        if pos >= len(data):
            raise _Bad("the file ends before the image data (truncated)")
        if data[pos] != 0xFF:
            raise _Bad(f"expected a marker at byte {pos}")
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1
        if pos >= len(data):
            raise _Bad("truncated marker")
        m = data[pos]
        pos += 1
        if m == 0xD9:
            return
        if m in (0x01, 0xD8) or 0xD0 <= m <= 0xD7:
            continue
        if pos + 2 > len(data):
            raise _Bad("truncated marker segment")
        n = (data[pos] << 8) | data[pos + 1]
        if n < 2 or pos + n > len(data):
            raise _Bad(f"marker 0x{m:02X}: segment of {n} bytes runs past the end")
        yield m, data[pos + 2 : pos + n], pos + n
        pos += n


def _decode(data: bytes, channels: int, ratio: int, fancy: bool) -> tuple:
    qts, tables, frame, restart, adobe, jfif = {}, {}, None, 0, None, False
    for m, seg, after in _segments(data):
        if m == 0xDB:
            i = 0
            while i < len(seg):
                pq, tq = seg[i] >> 4, seg[i] & 15
                size = 128 if pq else 64
                if tq > 3 or pq > 1 or i + 1 + size > len(seg):
                    raise _Bad("bad DQT segment")
                body = seg[i + 1 : i + 1 + size]
                qts[tq] = [(body[2 * k] << 8) | body[2 * k + 1] for k in range(64)] if pq else list(body)
                i += 1 + size
        elif m == 0xC4:
            tables.update(_dht(seg))
        elif m in (0xC0, 0xC1):
            if frame is not None:
                raise _Bad("more than one frame")
            frame = _Frame(seg, m)
            # every block costs at least 2 bits, so a frame needing more than the file can hold is corrupt
            if frame.blocks > 4 * len(data) + 64:
                raise _Bad(f"a {frame.width}x{frame.height} frame cannot fit in {len(data)} bytes")
        elif m == 0xC2:
            raise InvalidArgumentError(
                "decode_jpeg: progressive JPEG is not supported (baseline only); "
                "re-save the file as baseline JPEG or PNG"
            )
        elif 0xC3 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC):
            raise InvalidArgumentError(
                f"decode_jpeg: JPEG process SOF{m - 0xC0} (lossless, hierarchical or "
                f"arithmetic) is not supported (baseline only)"
            )
        elif m == 0xDD:
            if len(seg) < 2:
                raise _Bad("bad DRI segment")
            restart = (seg[0] << 8) | seg[1]
        elif m == 0xE0 and seg[:5] == b"JFIF\x00":
            jfif = True
        elif m == 0xEE and seg[:5] == b"Adobe" and len(seg) >= 12:
            adobe = seg[11]
        elif m == 0xDA:
            if frame is None:
                raise _Bad("scan before the frame header")
            pos = _scan(data, after, seg, frame, tables, restart)
            return _after_scan(data, pos, frame, qts, tables, restart, adobe, jfif, channels, ratio, fancy)
    raise _Bad("no image data (no SOS marker before EOI)")


def _after_scan(data, pos, frame, qts, tables, restart, adobe, jfif, channels, ratio, fancy):
    """Further scans (one per component in non-interleaved files), then the pixels."""
    while True:
        if pos + 1 >= len(data):
            raise _Bad("the file ends without an EOI marker (truncated)")
        m = data[pos + 1]
        if m == 0xD9:
            break
        if pos + 4 > len(data):
            raise _Bad("truncated marker segment")
        n = (data[pos + 2] << 8) | data[pos + 3]
        if n < 2 or pos + 2 + n > len(data):
            raise _Bad("marker segment runs past the end")
        seg, after = data[pos + 4 : pos + 2 + n], pos + 2 + n
        if m == 0xDA:
            pos = _scan(data, after, seg, frame, tables, restart)
            continue
        if m == 0xC4:
            tables.update(_dht(seg))
        elif m == 0xDD and len(seg) >= 2:
            restart = (seg[0] << 8) | seg[1]
        pos = after
    for c in frame.comps:
        if c["blocks"] is None:
            raise _Bad(f"component {c['id']} has no scan")
        if c["tq"] not in qts:
            raise _Bad(f"quantisation table {c['tq']} is missing")
    return _pixels(frame, qts, adobe, jfif, channels, ratio, fancy)


def _dht(seg: bytes) -> dict:
    out, i = {}, 0
    while i < len(seg):
        tc, th = seg[i] >> 4, seg[i] & 15
        counts = list(seg[i + 1 : i + 17])
        if tc > 1 or th > 3 or len(counts) < 16:
            raise _Bad("bad DHT segment")
        total = sum(counts)
        out[(tc, th)] = _Huffman(counts, seg[i + 17 : i + 17 + total])
        i += 17 + total
    return out


def _pixels(frame, qts, adobe, jfif, channels, ratio, fancy) -> tuple:
    planes = []
    for c in frame.comps:
        plane, stride = _idct_plane(c, qts[c["tq"]])
        planes.append(_upsample(plane, stride, c, frame, fancy))
    W, H = frame.width, frame.height
    if len(planes) == 1:
        gray = planes[0]
        rgb = None
    else:
        ids = bytes(c["id"] for c in frame.comps)
        is_rgb = adobe == 0 or (adobe is None and not jfif and ids == b"RGB")
        if is_rgb:
            rgb, gray = planes, None
        else:
            gray = planes[0]
            rgb = None if channels == 1 else _ycc_to_rgb(planes)
        if channels == 1 and gray is None:
            gray = [[_clamp(0.299 * r + 0.587 * g + 0.114 * b) for r, g, b in zip(*rows)] for rows in zip(*rgb)]
    out_c = channels or (1 if len(planes) == 1 else 3)
    if out_c == 1:
        chans = [gray]
    else:
        chans = rgb if rgb is not None else [gray, gray, gray]
    if ratio > 1:
        chans = [_shrink(p, ratio) for p in chans]
        W, H = -(-W // ratio), -(-H // ratio)
    flat = bytearray(W * H * out_c)
    for ci, p in enumerate(chans):
        for y in range(H):
            flat[(y * W) * out_c + ci : ((y + 1) * W) * out_c : out_c] = bytes(p[y][:W])
    return H, W, out_c, bytes(flat)


def _ycc_to_rgb(planes: list) -> list:
    """JFIF's YCbCr -> RGB (T.871)."""
    out_r, out_g, out_b = [], [], []
    for ys, cbs, crs in zip(*planes):
        r, g, b = [], [], []
        for y, cb, cr in zip(ys, cbs, crs):
            cb -= 128
            cr -= 128
            r.append(_clamp(y + 1.402 * cr))
            g.append(_clamp(y - 0.344136 * cb - 0.714136 * cr))
            b.append(_clamp(y + 1.772 * cb))
        out_r.append(r)
        out_g.append(g)
        out_b.append(b)
    return [out_r, out_g, out_b]


def _shrink(rows: list, k: int) -> list:
    """Mean of each k x k box (a partial box at the edge averages what it has): libjpeg's
    scaled IDCT at 1/k is close to this, not equal."""
    H, W = len(rows), len(rows[0])
    out = []
    for y0 in range(0, H, k):
        band = rows[y0 : y0 + k]
        line = []
        for x0 in range(0, W, k):
            vals = [v for r in band for v in r[x0 : x0 + k]]
            line.append((sum(vals) + len(vals) // 2) // len(vals))
        out.append(line)
    return out


# -- encoding ----------------------------------------------------------------------------

_LUMA_Q = [
    16,
    11,
    10,
    16,
    24,
    40,
    51,
    61,
    12,
    12,
    14,
    19,
    26,
    58,
    60,
    55,
    14,
    13,
    16,
    24,
    40,
    57,
    69,
    56,
    14,
    17,
    22,
    29,
    51,
    87,
    80,
    62,
    18,
    22,
    37,
    56,
    68,
    109,
    103,
    77,
    24,
    35,
    55,
    64,
    81,
    104,
    113,
    92,
    49,
    64,
    78,
    87,
    103,
    121,
    120,
    101,
    72,
    92,
    95,
    98,
    112,
    100,
    103,
    99,
]
_CHROMA_Q = [
    17,
    18,
    24,
    47,
    99,
    99,
    99,
    99,
    18,
    21,
    26,
    66,
    99,
    99,
    99,
    99,
    24,
    26,
    56,
    99,
    99,
    99,
    99,
    99,
    47,
    66,
    99,
    99,
    99,
    99,
    99,
    99,
] + [99] * 32
# T.81 Annex K.3 typical Huffman tables: (code counts per length, values)
_DC_LUMA = ([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], list(range(12)))
_DC_CHROMA = ([0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], list(range(12)))
_AC_LUMA = (
    [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D],
    bytes.fromhex(
        "01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435"
        "363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798"
        "999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4"
        "f5f6f7f8f9fa"
    ),
)
_AC_CHROMA = (
    [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
    bytes.fromhex(
        "000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a26272829"
        "2a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a82838485868788898a92939495"
        "969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3"
        "f4f5f6f7f8f9fa"
    ),
)


def _codes(spec) -> dict:
    counts, values = spec
    out, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(counts[length - 1]):
            out[values[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return out


_CODES = {
    name: _codes(spec)
    for name, spec in (("dcl", _DC_LUMA), ("acl", _AC_LUMA), ("dcc", _DC_CHROMA), ("acc", _AC_CHROMA))
}


def quant_tables(quality: int) -> tuple:
    """The IJG scaling of the Annex K tables (natural order): quality 50 is the table itself."""
    q = min(max(int(quality), 1), 100)
    scale = 5000 // q if q < 50 else 200 - 2 * q
    return tuple([min(max((t * scale + 50) // 100, 1), 255) for t in table] for table in (_LUMA_Q, _CHROMA_Q))


class _Writer:
    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0

    def put(self, code: int, length: int):
        self.acc = (self.acc << length) | code
        self.n += length
        while self.n >= 8:
            self.n -= 8
            b = (self.acc >> self.n) & 0xFF
            self.out.append(b)
            if b == 0xFF:
                self.out.append(0)
        self.acc &= (1 << self.n) - 1

    def flush(self) -> bytes:
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)  # pad with 1-bits
        return bytes(self.out)


def _fdct_quant(block: list, q: list) -> list:
    """Quantised coefficients in zigzag order of 64 level-shifted samples (row-major)."""
    tmp = [[sum(m * block[y * 8 + x] for m, x in zip(_FDCT[u], range(8))) for u in range(8)] for y in range(8)]
    nat = [0] * 64
    for v in range(8):
        fv = _FDCT[v]
        for u in range(8):
            nat[v * 8 + u] = sum(fv[y] * tmp[y][u] for y in range(8))
    return [round(nat[z] / q[z]) for z in ZIGZAG]


def _put_block(w: _Writer, zz: list, pred: int, dc: dict, ac: dict) -> int:
    diff = zz[0] - pred
    s = abs(diff).bit_length()
    w.put(*dc[s])
    if s:
        w.put(diff if diff > 0 else diff + (1 << s) - 1, s)
    run = 0
    for k in range(1, 64):
        v = zz[k]
        if not v:
            run += 1
            continue
        while run > 15:
            w.put(*ac[0xF0])
            run -= 16
        s = abs(v).bit_length()
        w.put(*ac[(run << 4) | s])
        w.put(v if v > 0 else v + (1 << s) - 1, s)
        run = 0
    if run:
        w.put(*ac[0x00])
    return zz[0]


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body


def _dht_body(tc: int, th: int, spec) -> bytes:
    counts, values = spec
    return bytes([(tc << 4) | th]) + bytes(counts) + bytes(values)


def encode(
    pixels: bytes,
    height: int,
    width: int,
    channels: int,
    quality: int = 95,
    chroma_downsampling: bool = True,
    density: tuple = (1, 300, 300),
) -> bytes:
    """Baseline JFIF bytes of 8-bit gray (channels 1) or RGB (3) pixels; 4:2:0 chroma when
    ``chroma_downsampling``, else 4:4:4."""
    if channels not in (1, 3):
        raise InvalidArgumentError(f"encode_jpeg: image must have 1 or 3 channels, got {channels}")
    if not (1 <= height <= 65535 and 1 <= width <= 65535):
        raise InvalidArgumentError(f"encode_jpeg: image size {height}x{width} is outside JPEG's 1..65535")
    lq, cq = quant_tables(quality)
    sub = 2 if channels == 3 and chroma_downsampling else 1
    mcu = 8 * sub
    pw, ph = -(-width // mcu) * mcu, -(-height // mcu) * mcu

    def plane(ci: int, convert) -> list:
        """A padded plane (edge replicated), level-shifted."""
        rows = []
        for y in range(ph):
            base = min(y, height - 1) * width * channels
            rows.append([convert(pixels, base + min(x, width - 1) * channels) - 128.0 for x in range(pw)])
        return rows

    if channels == 1:
        planes = [plane(0, lambda p, i: p[i])]
    else:
        planes = [
            plane(0, lambda p, i: 0.299 * p[i] + 0.587 * p[i + 1] + 0.114 * p[i + 2]),
            plane(1, lambda p, i: -0.168736 * p[i] - 0.331264 * p[i + 1] + 0.5 * p[i + 2] + 128),
            plane(2, lambda p, i: 0.5 * p[i] - 0.418688 * p[i + 1] - 0.081312 * p[i + 2] + 128),
        ]
        if sub == 2:
            planes[1:] = [
                [
                    [(r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1]) / 4 for x in range(pw // 2)]
                    for r0, r1 in zip(p[0::2], p[1::2])
                ]
                for p in planes[1:]
            ]

    def block(p: list, bx: int, by: int) -> list:
        return [v for r in p[by * 8 : by * 8 + 8] for v in r[bx * 8 : bx * 8 + 8]]

    w = _Writer()
    preds = [0, 0, 0]
    for my in range(ph // mcu):
        for mx in range(pw // mcu):
            for y in range(sub):
                for x in range(sub):
                    zz = _fdct_quant(block(planes[0], mx * sub + x, my * sub + y), lq)
                    preds[0] = _put_block(w, zz, preds[0], _CODES["dcl"], _CODES["acl"])
            for ci in range(1, channels):
                zz = _fdct_quant(block(planes[ci], mx, my), cq)
                preds[ci] = _put_block(w, zz, preds[ci], _CODES["dcc"], _CODES["acc"])
    unit, xd, yd = density
    out = [
        b"\xff\xd8",
        _segment(
            0xE0, b"JFIF\x00\x01\x01" + bytes([unit]) + xd.to_bytes(2, "big") + yd.to_bytes(2, "big") + b"\x00\x00"
        ),
    ]
    out.append(_segment(0xDB, bytes([0]) + bytes(lq[z] for z in ZIGZAG)))
    if channels == 3:
        out.append(_segment(0xDB, bytes([1]) + bytes(cq[z] for z in ZIGZAG)))
    comps = [(1, (sub << 4) | sub, 0)] + ([(2, 0x11, 1), (3, 0x11, 1)] if channels == 3 else [])
    out.append(
        _segment(
            0xC0,
            bytes([8])
            + height.to_bytes(2, "big")
            + width.to_bytes(2, "big")
            + bytes([channels])
            + b"".join(bytes(c) for c in comps),
        )
    )
    out.append(
        _segment(
            0xC4,
            _dht_body(0, 0, _DC_LUMA)
            + _dht_body(1, 0, _AC_LUMA)
            + (_dht_body(0, 1, _DC_CHROMA) + _dht_body(1, 1, _AC_CHROMA) if channels == 3 else b""),
        )
    )
    sos = bytes([channels]) + b"".join(bytes([cid, 0x00 if tq == 0 else 0x11]) for cid, _, tq in comps)
    out.append(_segment(0xDA, sos + b"\x00\x3f\x00"))
    out.append(w.flush())
    out.append(b"\xff\xd9")
    return b"".join(out)

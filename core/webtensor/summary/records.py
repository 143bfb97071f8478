"""TFRecord framing, the container of TensorBoard event files: each record is
``uint64 length, uint32 masked_crc32c(length), data, uint32 masked_crc32c(data)``, little-endian."""

from __future__ import annotations

import struct


def _crc_table() -> list:
    poly = 0x82F63B78  # CRC-32C (Castagnoli), reflected
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


_WORD_TABLES: list = []


def _word_tables() -> list:
    """Four 65536-entry tables that advance the CRC over 8 bytes at once (16 bits per lookup), so
    the pure-Python loop runs once per 8 bytes instead of once per byte. They are built on first
    use from the byte table, because the CRC is linear: each entry is the xor of its set bits'."""
    if not _WORD_TABLES:

        def eight_zero_bytes(x):
            for _ in range(8):
                x = _TABLE[x & 0xFF] ^ (x >> 8)
            return x

        for j in range(4):
            tb = [0] * 65536
            for k in range(16):
                tb[1 << k] = eight_zero_bytes(1 << (k + 16 * j))
            for v in range(3, 65536):
                low = v & -v
                if v != low:
                    tb[v] = tb[v ^ low] ^ tb[low]
            _WORD_TABLES.append(tb)
    return _WORD_TABLES


def crc32c(data) -> int:
    """CRC-32C of ``data`` (bytes, bytearray or memoryview)."""
    c = 0xFFFFFFFF
    n = len(data) >> 3
    if n:
        a, b, d, e = _word_tables()
        for w in struct.unpack_from(f"<{n}Q", data):
            x = c ^ w
            c = a[x & 0xFFFF] ^ b[(x >> 16) & 0xFFFF] ^ d[(x >> 32) & 0xFFFF] ^ e[x >> 48]
    t = _TABLE
    for byte in data[n << 3 :]:
        c = t[(c ^ byte) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc32c(data) -> int:
    """TFRecord's mask: rotate right by 15 and add a constant, so CRCs of CRCs stay distinct."""
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(data: bytes) -> bytes:
    """One TFRecord holding ``data``."""
    head = struct.pack("<Q", len(data))
    return head + struct.pack("<I", masked_crc32c(head)) + data + struct.pack("<I", masked_crc32c(data))

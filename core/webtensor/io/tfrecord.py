"""TFRecord files, byte-compatible with TensorFlow, in pure Python (so they work in the page).

A record is ``uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)``,
little-endian; the CRC is CRC-32C (Castagnoli) masked as TF's ``crc32c::Mask`` does. Files may be
GZIP or ZLIB streams of those bytes (``compression_type``).
"""

from __future__ import annotations

import gzip
import struct
import zlib

from ..errors import DataLossError, InvalidArgumentError, NotFoundError

# the one TFRecord framing and CRC-32C (TensorBoard event files use it too)
from ..summary.records import _TABLE as _CRC_TABLE
from ..summary.records import crc32c, frame, masked_crc32c  # noqa: F401  (re-exported)

_COMPRESSIONS = ("", "GZIP", "ZLIB")


def _compression(compression_type, op: str) -> str:
    c = compression_type
    if isinstance(c, TFRecordOptions):
        c = c.compression_type
    c = (c or "").upper() if isinstance(c, str) or c is None else c
    if c not in _COMPRESSIONS:
        raise InvalidArgumentError(
            f"{op}: unsupported compression_type {compression_type!r}; expected one of '', 'GZIP', 'ZLIB'"
        )
    return c


class TFRecordOptions:
    """``tf.io.TFRecordOptions``: only ``compression_type`` (and zlib's ``compression_level``)."""

    def __init__(self, compression_type: str | None = None, compression_level: int | None = None, **_):
        self.compression_type = _compression(compression_type, "TFRecordOptions")
        self.compression_level = -1 if compression_level is None else int(compression_level)


class TFRecordWriter:
    """``tf.io.TFRecordWriter(path, options)``: ``write(bytes)``, ``flush``, ``close``, or ``with``."""

    def __init__(self, path: str, options=None):
        self._comp = _compression(options, "TFRecordWriter")
        level = options.compression_level if isinstance(options, TFRecordOptions) else -1
        self._file = open(str(path), "wb")
        self._z = None
        if self._comp == "GZIP":
            self._file = gzip.GzipFile(fileobj=self._file, mode="wb", compresslevel=9 if level < 0 else level)
            self._raw = self._file.fileobj
        elif self._comp == "ZLIB":
            self._z = zlib.compressobj(level)

    def write(self, record) -> None:
        if isinstance(record, str):
            record = record.encode()
        if hasattr(record, "SerializeToString"):
            record = record.SerializeToString()
        data = frame(bytes(record))
        self._file.write(self._z.compress(data) if self._z else data)

    def flush(self) -> None:
        if self._z:
            self._file.write(self._z.flush(zlib.Z_SYNC_FLUSH))
        self._file.flush()

    def close(self) -> None:
        if self._file is None:
            return
        if self._z:
            self._file.write(self._z.flush())
        self._file.close()
        if self._comp == "GZIP":
            self._raw.close()
        self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_file_bytes(path: str, compression_type, op: str) -> bytes:
    """The whole decompressed content of one file; missing file -> NotFoundError, bad stream ->
    DataLossError, as TF reports them."""
    comp = _compression(compression_type, op)
    try:
        with open(str(path), "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise NotFoundError(f"{op}: {path}; No such file or directory") from None
    except IsADirectoryError:
        raise NotFoundError(f"{op}: {path} is a directory, not a file") from None
    try:
        if comp == "GZIP":
            return gzip.decompress(raw)
        if comp == "ZLIB":
            return zlib.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise DataLossError(f"{op}: corrupted {comp} stream in {path}: {e}") from None
    return raw


def _scan(data: bytes, path: str, op: str):
    """``([(start, length), ...], error)``: every record's place, each length header checked
    against its CRC (computed once per distinct length: records often share one), and the
    DataLossError that ends the file early, if any, for the caller to raise after the good ones."""
    unpack = struct.unpack_from
    view = memoryview(data)
    header_crcs: dict = {}
    places = []
    pos, end = 0, len(data)
    while pos < end:
        if end - pos < 12:
            return places, DataLossError(f"{op}: truncated record at byte {pos} of {path}")
        length, hcrc = unpack("<QI", data, pos)
        known = header_crcs.get(length)
        if known is None:
            known = header_crcs[length] = masked_crc32c(view[pos : pos + 8])
        if hcrc != known:
            return places, DataLossError(f"{op}: corrupted record at byte {pos} of {path} (length CRC mismatch)")
        start = pos + 12
        if end - start < length + 4:
            return places, DataLossError(
                f"{op}: truncated record at byte {pos} of {path}: {length} "
                f"bytes declared, {max(end - start - 4, 0)} present"
            )
        places.append((start, length))
        pos = start + length + 4
    return places, None


_PLANES = [bytes((t >> (8 * j)) & 0xFF for t in _CRC_TABLE) for j in range(4)]


def _crcs_of_run(data: bytes, start: int, length: int, m: int) -> list:
    """CRC-32C of ``m`` back-to-back records of one ``length`` (the first at ``start``), all at
    once: the four bytes of the m CRC states are four m-byte strings (as big ints for xor), one
    table step per byte position is ``bytes.translate``, and a byte position of all m records is a
    strided slice. Pure Python, but each step runs at C speed over all m records."""
    frm = int.from_bytes
    t0, t1, t2, t3 = _PLANES
    ones = (1 << (8 * m)) - 1
    c0 = c1 = c2 = c3 = ones
    span, stride = (length + 16) * (m - 1) + 1, length + 16
    for p in range(start, start + length):
        x = (c0 ^ frm(data[p : p + span : stride], "little")).to_bytes(m, "little")
        c0 = frm(x.translate(t0), "little") ^ c1
        c1 = frm(x.translate(t1), "little") ^ c2
        c2 = frm(x.translate(t2), "little") ^ c3
        c3 = frm(x.translate(t3), "little")
    interleaved = bytearray(4 * m)
    for j, c in enumerate((c0, c1, c2, c3)):
        interleaved[j::4] = (c ^ ones).to_bytes(m, "little")
    return list(struct.unpack(f"<{m}I", interleaved))


def _mask(c: int) -> int:
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


_RUN = 1024  # records per batched CRC pass (bounds the big ints)


def iter_records(data: bytes, path: str, op: str = "TFRecordDataset"):
    """The records in ``data`` (one file's decompressed bytes), each checked against both of its
    CRCs, as TF's reader does; a run of records of one length has its data CRCs computed together
    (``_crcs_of_run``). Records before a bad one still come out, then DataLossError, as in TF."""
    places, error = _scan(data, path, op)
    unpack = struct.unpack_from
    view = memoryview(data)
    i, n = 0, len(places)
    while i < n:
        start, length = places[i]
        j = i + 1
        while j < n and j - i < _RUN and places[j][1] == length:
            j += 1
        if j - i >= 8:
            crcs = [_mask(c) for c in _crcs_of_run(data, start, length, j - i)]
        else:
            crcs = [masked_crc32c(view[s : s + ln]) for s, ln in places[i:j]]
        for (s, ln), crc in zip(places[i:j], crcs):
            if unpack("<I", data, s + ln)[0] != crc:
                raise DataLossError(f"{op}: corrupted record at byte {s - 12} of {path} (data CRC mismatch)")
            yield data[s : s + ln]
        i = j
    if error is not None:
        raise error


def tf_record_iterator(path: str, options=None):
    """``tf.compat.v1.io.tf_record_iterator``: the raw records of one file."""
    return iter_records(read_file_bytes(path, options, "tf_record_iterator"), path)

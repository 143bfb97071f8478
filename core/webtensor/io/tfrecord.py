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
from ..summary.records import crc32c, frame, masked_crc32c  # noqa: F401  (re-exported)

_COMPRESSIONS = ("", "GZIP", "ZLIB")


def _compression(compression_type, op: str) -> str:
    c = compression_type
    if isinstance(c, TFRecordOptions):
        c = c.compression_type
    c = (c or "").upper() if isinstance(c, str) or c is None else c
    if c not in _COMPRESSIONS:
        raise InvalidArgumentError(f"{op}: unsupported compression_type {compression_type!r}; "
                                   f"expected one of '', 'GZIP', 'ZLIB'")
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


def iter_records(data: bytes, path: str, op: str = "TFRecordDataset"):
    """The records in ``data`` (one file's decompressed bytes), each checked against its CRCs."""
    pos, end = 0, len(data)
    while pos < end:
        if end - pos < 12:
            raise DataLossError(f"{op}: truncated record at byte {pos} of {path}")
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (hcrc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if hcrc != masked_crc32c(header):
            raise DataLossError(f"{op}: corrupted record at byte {pos} of {path} (length CRC mismatch)")
        start = pos + 12
        if end - start < length + 4:
            raise DataLossError(f"{op}: truncated record at byte {pos} of {path}: {length} bytes "
                                f"declared, {max(end - start - 4, 0)} present")
        record = data[start:start + length]
        (dcrc,) = struct.unpack("<I", data[start + length:start + length + 4])
        if dcrc != masked_crc32c(record):
            raise DataLossError(f"{op}: corrupted record at byte {pos} of {path} (data CRC mismatch)")
        yield bytes(record)
        pos = start + length + 4


def tf_record_iterator(path: str, options=None):
    """``tf.compat.v1.io.tf_record_iterator``: the raw records of one file."""
    return iter_records(read_file_bytes(path, options, "tf_record_iterator"), path)

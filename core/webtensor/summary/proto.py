"""The few protobuf messages an event file holds, encoded by hand (no protobuf dependency).

Field numbers follow tensorflow/core/util/event.proto, framework/summary.proto,
framework/tensor.proto and tensor_shape.proto. Fields are written in field-number
order and proto3 defaults (0, "", empty) are omitted, as protobuf's own encoder does.
"""

from __future__ import annotations

import struct

from .. import dtypes as D

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

# TensorFlow's DataType enum (types.proto)
DT_STRING = 7
_DT = {D.float32: 1, D.float64: 2, D.int32: 3, D.uint8: 4, D.int64: 9, D.bool_: 10, D.float16: 19, D.uint32: 22}


def _varint(n: int) -> bytes:
    n &= 0xFFFFFFFFFFFFFFFF  # negative int64 -> two's complement, as protobuf does
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def varint_field(field: int, n: int) -> bytes:
    return _key(field, _VARINT) + _varint(n) if n else b""


def bytes_field(field: int, data: bytes) -> bytes:
    return _key(field, _LEN) + _varint(len(data)) + data if data else b""


def message_field(field: int, data: bytes) -> bytes:
    """A sub-message; written even when empty, since its presence is meaningful."""
    return _key(field, _LEN) + _varint(len(data)) + data


def double_field(field: int, v: float) -> bytes:
    return _key(field, _I64) + struct.pack("<d", v) if v else b""


def _text(s) -> bytes:
    return s.encode("utf-8") if isinstance(s, str) else bytes(s or b"")


# -- messages --------------------------------------------------------------------------------


def tensor_shape(shape) -> bytes:
    return b"".join(message_field(2, varint_field(1, d)) for d in shape)


def tensor(dtype: D.DType, shape, content: bytes) -> bytes:
    """TensorProto with raw little-endian ``tensor_content`` (what TF's writer emits)."""
    return varint_field(1, _DT[dtype]) + message_field(2, tensor_shape(shape)) + bytes_field(4, content)


def string_tensor(shape, values: list) -> bytes:
    """A DT_STRING TensorProto: one ``string_val`` per element (TF's writer does the same)."""
    vals = b"".join(_key(8, _LEN) + _varint(len(v)) + v for v in values)
    return varint_field(1, DT_STRING) + message_field(2, tensor_shape(shape)) + vals


def summary_metadata(plugin_name: str, content: bytes = b"", description: str = "") -> bytes:
    plugin = bytes_field(1, _text(plugin_name)) + bytes_field(2, content)
    return message_field(1, plugin) + bytes_field(3, _text(description))


def summary_value(tag: str, tensor_proto: bytes, metadata: bytes) -> bytes:
    """Summary.Value: tag (1), tensor (8), metadata (9)."""
    return (
        bytes_field(1, _text(tag)) + message_field(8, tensor_proto) + (message_field(9, metadata) if metadata else b"")
    )


def event(
    wall_time: float, step: int = 0, file_version: str = "", summary_values: tuple = (), source_writer: str = ""
) -> bytes:
    """Event: wall_time (1), step (2), file_version (3), summary (5), source_metadata (10)."""
    out = double_field(1, wall_time) + varint_field(2, step) + bytes_field(3, _text(file_version))
    if summary_values:
        out += message_field(5, b"".join(message_field(1, v) for v in summary_values))
    if source_writer:
        out += message_field(10, bytes_field(1, _text(source_writer)))
    return out

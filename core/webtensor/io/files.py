"""``tf.io`` files and bytes: read_file, write_file, matching_files, decode_raw,
serialize_tensor/parse_tensor (TF's TensorProto bytes) and decode_csv.

Files are read and written with Python's own I/O, so in the page they use Pyodide's
file system. TensorProto is encoded with the protobuf helpers of ``example_proto``.
"""

from __future__ import annotations

import csv
import glob as _glob
import io as _pyio
import struct

from .. import dtypes as D
from ..errors import DataLossError, InvalidArgumentError, NotFoundError
from ..tensor import Tensor, constant, convert
from .example_proto import _fields, _ld, _varint

# TF's DataType enum values for the dtypes webtensor stores
_TF_ENUM = {
    "float32": 1,
    "float64": 2,
    "int32": 3,
    "uint8": 4,
    "int16": 5,
    "int8": 6,
    "string": 7,
    "int64": 9,
    "bool": 10,
    "bfloat16": 14,
    "uint16": 17,
    "float16": 19,
    "uint32": 22,
    "uint64": 23,
}
_FROM_ENUM = {v: k for k, v in _TF_ENUM.items()}


def _scalar_string(x, op: str) -> bytes:
    t = x if isinstance(x, Tensor) else convert(x, D.string, op=op)
    if t._dtype is not D.string or t._h.shape:
        raise InvalidArgumentError(f"{op}: expects a scalar string, got {t._dtype.name} {tuple(t._h.shape)}")
    return t._h.flat[0]


def _path(x, op: str) -> str:
    return _scalar_string(x, op).decode("utf-8")


def read_file(filename, name=None) -> Tensor:
    """``tf.io.read_file``: the whole file as a scalar string."""
    path = _path(filename, "read_file")
    try:
        with open(path, "rb") as f:
            return constant(f.read(), D.string)
    except FileNotFoundError:
        raise NotFoundError(f"read_file: {path}; No such file or directory") from None
    except IsADirectoryError:
        raise InvalidArgumentError(f"read_file: {path} is a directory") from None


def write_file(filename, contents, name=None) -> None:
    """``tf.io.write_file``: writes a scalar string, creating parent folders as TF does."""
    import os

    path = _path(filename, "write_file")
    data = _scalar_string(contents, "write_file")
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def matching_files(pattern, name=None) -> Tensor:
    """``tf.io.matching_files``: sorted paths matching a glob (a string tensor)."""
    return constant(sorted(p.encode() for p in _glob.glob(_path(pattern, "matching_files"))), D.string)


def _elem_fmt(dtype: D.DType, little_endian: bool) -> str:
    return ("<" if little_endian else ">") + dtype.fmt


def decode_raw(input_bytes, out_type, little_endian=True, fixed_length=None, name=None) -> Tensor:
    """``tf.io.decode_raw``: each string's bytes as a vector of out_type (shape input + [n])."""
    dt = D.as_dtype(out_type)
    if dt is D.string or dt.fmt in ("", None):
        raise InvalidArgumentError(f"decode_raw: out_type {dt.name} is not a numeric dtype")
    t = input_bytes if isinstance(input_bytes, Tensor) else convert(input_bytes, D.string, op="decode_raw")
    if t._dtype is not D.string:
        raise InvalidArgumentError(f"decode_raw: expects a string tensor, got {t._dtype.name}")
    rows = []
    for i, b in enumerate(t._h.flat):
        if fixed_length is not None:
            b = b[: int(fixed_length)].ljust(int(fixed_length), b"\0")
        if len(b) % dt.size:
            raise InvalidArgumentError(
                f"decode_raw: input {i} has {len(b)} bytes, not a multiple of {dt.size} ({dt.name})"
            )
        rows.append(list(struct.unpack(f"{'<' if little_endian else '>'}{len(b) // dt.size}{dt.fmt}", b)))
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        raise InvalidArgumentError(
            f"decode_raw: inputs decode to different lengths {sorted(widths)}; give fixed_length"
        )
    n = widths.pop() if widths else 0
    flat = [v for r in rows for v in r]
    return _from_flat(flat, tuple(t._h.shape) + (n,), dt)


def _from_flat(flat: list, shape: tuple, dt: D.DType) -> Tensor:
    from ..ops.array import reshape

    return reshape(constant(flat, dt), shape)


def serialize_tensor(tensor, name=None) -> Tensor:
    """``tf.io.serialize_tensor``: a TensorProto, byte-identical to TF's for these dtypes."""
    t = tensor if isinstance(tensor, Tensor) else convert(tensor, op="serialize_tensor")
    enum = _TF_ENUM.get(t._dtype.name)
    if enum is None:
        raise InvalidArgumentError(f"serialize_tensor: dtype {t._dtype.name} has no TensorProto encoding here")
    shape = b"".join(_ld(2, b"\x08" + _varint(d) if d else b"") for d in t._h.shape)  # proto3 omits 0
    out = b"\x08" + _varint(enum) + _ld(2, shape)
    if t._dtype is D.string:
        out += b"".join(_ld(8, v) for v in t._h.flat)
    else:
        content = bytes(t._be.read(t._h))
        out += _ld(4, content) if content else b""
    return constant(out, D.string)


def _shape_proto(buf: bytes) -> tuple:
    dims = []
    for num, _, value in _fields(buf):
        if num == 2:
            size = 0
            for n2, _, v2 in _fields(value):
                if n2 == 1:
                    size = v2
            dims.append(size)
        elif num == 3 and value:
            raise InvalidArgumentError("parse_tensor: TensorProto has an unknown rank")
    return tuple(dims)


def parse_tensor(serialized, out_type, name=None) -> Tensor:
    """``tf.io.parse_tensor``: the inverse of serialize_tensor; out_type must match."""
    data = _scalar_string(serialized, "parse_tensor")
    want = D.as_dtype(out_type)
    enum, shape, content, strings = None, (), None, []
    try:
        for num, _, value in _fields(data):
            if num == 1:
                enum = value
            elif num == 2:
                shape = _shape_proto(value)
            elif num == 4:
                content = value
            elif num == 8:
                strings.append(value)
    except (ValueError, IndexError, DataLossError) as e:
        raise InvalidArgumentError(f"parse_tensor: could not parse a TensorProto: {e}") from None
    got = _FROM_ENUM.get(enum)
    if got is None:
        raise InvalidArgumentError(f"parse_tensor: unsupported TensorProto dtype enum {enum}")
    if got != want.name:
        raise InvalidArgumentError(f"parse_tensor: type mismatch: the tensor is {got}, out_type is {want.name}")
    n = 1
    for d in shape:
        n *= d
    if want is D.string:
        if len(strings) != n:
            raise InvalidArgumentError(f"parse_tensor: {len(strings)} strings for shape {shape}")
        return _from_flat(strings, shape, want)
    content = content or b""
    if len(content) != n * want.size:
        raise InvalidArgumentError(f"parse_tensor: {len(content)} content bytes for shape {shape} {want.name}")
    vals = list(struct.unpack(f"<{n}{want.fmt}", content))
    return _from_flat(vals, shape, want)


def decode_csv(
    records, record_defaults, field_delim=",", use_quote_delim=True, na_value="", select_cols=None, name=None
) -> list:
    """``tf.io.decode_csv``: one tensor per column, each of the records' shape."""
    from ..data.csv import _column, _parse_field

    t = records if isinstance(records, Tensor) else convert(records, D.string, op="decode_csv")
    if t._dtype is not D.string:
        raise InvalidArgumentError(f"decode_csv: records must be strings, got {t._dtype.name}")
    cols = [_column(d, i) for i, d in enumerate(record_defaults)]
    if select_cols is not None and len(select_cols) != len(cols):
        raise InvalidArgumentError(f"decode_csv: {len(select_cols)} select_cols for {len(cols)} record_defaults")
    out = [[] for _ in cols]
    for i, rec in enumerate(t._h.flat):
        row = next(
            csv.reader(
                _pyio.StringIO(rec.decode("utf-8"), newline=""),
                delimiter=field_delim,
                quoting=csv.QUOTE_MINIMAL if use_quote_delim else csv.QUOTE_NONE,
            ),
            [""],
        )
        picked = [row[c] if c < len(row) else None for c in select_cols] if select_cols else row
        if not select_cols and len(row) != len(cols):
            raise InvalidArgumentError(f"decode_csv: expect {len(cols)} fields but have {len(row)} in record {i}")
        for j, ((dt, default), text) in enumerate(zip(cols, picked)):
            out[j].append(_parse_field(text or "", dt, default, j, i, "record", na_value))
    shape = tuple(t._h.shape)
    return [
        _from_flat(vals, shape, D.string if dt == "string" or not isinstance(dt, D.DType) else dt)
        for (dt, _), vals in zip(cols, out)
    ]


__all__ = ["decode_csv", "decode_raw", "matching_files", "parse_tensor", "read_file", "serialize_tensor", "write_file"]

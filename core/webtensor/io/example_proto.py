"""``tf.train.Example`` and ``tf.io.parse_example``: a pure-Python protobuf codec for the
Example messages (no ``protobuf`` package, so it works in the page).

Wire schema (tensorflow/core/example/{example,feature}.proto)::

    Example  { Features features = 1; }
    Features { map<string, Feature> feature = 1; }     // entry: key = 1, value = 2
    Feature  { oneof { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } }
    BytesList { repeated bytes value = 1; }  FloatList { repeated float value = 1 [packed]; }
    Int64List { repeated int64 value = 1 [packed]; }

webtensor has no string dtype: bytes features come back as Python ``bytes`` (lists of them for
non-scalar shapes), and ``dtype="string"`` (or ``bytes``) names them in feature specs.
"""

from __future__ import annotations

import array
import struct

from .. import dtypes as D
from ..data.structure import _Opaque
from ..errors import DataLossError, InvalidArgumentError
from ..tensor import Tensor, convert

# -- wire format ---------------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    n &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _read_varint(buf: bytes, pos: int, end: int):
    result = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise DataLossError("parse_example: truncated or malformed varint in serialized Example")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes, pos: int = 0, end: int | None = None):
    """(field number, wire type, value) triples; value is an int (varint/fixed) or a bytes slice."""
    end = len(buf) if end is None else end
    while pos < end:
        key, pos = _read_varint(buf, pos, end)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, pos = _read_varint(buf, pos, end)
        elif wt == 2:
            n, pos = _read_varint(buf, pos, end)
            if pos + n > end:
                raise DataLossError("parse_example: length-delimited field runs past the end of the message")
            v, pos = buf[pos : pos + n], pos + n
        elif wt == 5:
            if pos + 4 > end:
                raise DataLossError("parse_example: truncated fixed32 field")
            v, pos = buf[pos : pos + 4], pos + 4
        elif wt == 1:
            if pos + 8 > end:
                raise DataLossError("parse_example: truncated fixed64 field")
            v, pos = buf[pos : pos + 8], pos + 8
        else:
            raise DataLossError(f"parse_example: unsupported protobuf wire type {wt}")
        yield num, wt, v


def _ld(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _packed(payload: bytes) -> bytes:
    """A packed repeated field 1 (FloatList/Int64List ``value``); empty lists write nothing, as
    protobuf does."""
    return _ld(1, payload) if payload else b""


def _signed64(n: int) -> int:
    return n - (1 << 64) if n >= 1 << 63 else n


# -- messages ------------------------------------------------------------------------------------


class _Message:
    def SerializeToString(self, deterministic: bool = False) -> bytes:
        return self._encode()

    @classmethod
    def FromString(cls, data: bytes):
        m = cls()
        m.ParseFromString(data)
        return m

    def ParseFromString(self, data: bytes) -> int:
        self.__init__()
        self._decode(bytes(data))
        return len(data)

    def __eq__(self, other):
        return type(self) is type(other) and self._encode() == other._encode()

    def __repr__(self):
        return f"{type(self).__name__}({self._fields_repr()})"


class BytesList(_Message):
    def __init__(self, value=()):
        self.value = [v.encode() if isinstance(v, str) else bytes(v) for v in value]

    def _encode(self):
        return b"".join(_ld(1, v) for v in self.value)

    def _decode(self, buf):
        self.value = [bytes(v) for n, wt, v in _fields(buf) if n == 1 and wt == 2]

    def _fields_repr(self):
        return f"value={self.value!r}"


class FloatList(_Message):
    def __init__(self, value=()):
        self.value = [float(v) for v in value]

    def _encode(self):
        return _packed(struct.pack(f"<{len(self.value)}f", *self.value))

    def _decode(self, buf):
        out = []
        for n, wt, v in _fields(buf):
            if n != 1:
                continue
            if wt == 2:  # packed
                if len(v) % 4:
                    raise DataLossError("parse_example: packed float list length is not a multiple of 4")
                out.extend(struct.unpack(f"<{len(v) // 4}f", v))
            elif wt == 5:
                out.append(struct.unpack("<f", v)[0])
        self.value = out

    def _fields_repr(self):
        return f"value={self.value!r}"


class Int64List(_Message):
    def __init__(self, value=()):
        self.value = [int(v) for v in value]

    def _encode(self):
        return _packed(b"".join(_varint(v) for v in self.value))

    def _decode(self, buf):
        out = []
        for n, wt, v in _fields(buf):
            if n != 1:
                continue
            if wt == 2:  # packed
                pos = 0
                while pos < len(v):
                    x, pos = _read_varint(v, pos, len(v))
                    out.append(_signed64(x))
            elif wt == 0:
                out.append(_signed64(v))
        self.value = out

    def _fields_repr(self):
        return f"value={self.value!r}"


_KINDS = ("bytes_list", "float_list", "int64_list")
_KIND_CLS = {"bytes_list": BytesList, "float_list": FloatList, "int64_list": Int64List}


class Feature(_Message):
    """One of ``bytes_list``, ``float_list``, ``int64_list`` (the oneof ``kind``)."""

    def __init__(self, bytes_list=None, float_list=None, int64_list=None):
        given = [(k, v) for k, v in zip(_KINDS, (bytes_list, float_list, int64_list)) if v is not None]
        if len(given) > 1:
            raise ValueError(f"Feature: give one of bytes_list, float_list, int64_list, got {[k for k, _ in given]}")
        self._kind, self._value = given[0] if given else (None, None)

    def WhichOneof(self, name: str = "kind"):
        return self._kind

    def HasField(self, name: str) -> bool:
        return self._kind == name

    def __getattr__(self, name):
        if name in _KINDS:  # reading an unset member gives an empty list, as protobuf does
            return self._value if self._kind == name else _KIND_CLS[name]()
        raise AttributeError(name)

    def _encode(self):
        if self._kind is None:
            return b""
        return _ld(_KINDS.index(self._kind) + 1, self._value._encode())

    def _decode(self, buf):
        for n, wt, v in _fields(buf):
            if 1 <= n <= 3 and wt == 2:
                kind = _KINDS[n - 1]
                self._kind, self._value = kind, _KIND_CLS[kind].FromString(v)

    def _fields_repr(self):
        return "" if self._kind is None else f"{self._kind}={self._value!r}"


class Features(_Message):
    def __init__(self, feature=None):
        self.feature = dict(feature or {})

    def _encode(self):
        return b"".join(_ld(1, _ld(1, k.encode()) + _ld(2, v._encode())) for k, v in sorted(self.feature.items()))

    def _decode(self, buf):
        self.feature = {}
        for n, wt, entry in _fields(buf):
            if n != 1 or wt != 2:
                continue
            key, value = "", Feature()
            for m, wt2, v in _fields(entry):
                if m == 1 and wt2 == 2:
                    key = bytes(v).decode("utf-8")
                elif m == 2 and wt2 == 2:
                    value = Feature.FromString(v)
            self.feature[key] = value

    def _fields_repr(self):
        return f"feature={self.feature!r}"


class Example(_Message):
    def __init__(self, features=None):
        self.features = features if features is not None else Features()

    def _encode(self):
        return _ld(1, self.features._encode())

    def _decode(self, buf):
        for n, wt, v in _fields(buf):
            if n == 1 and wt == 2:
                self.features = Features.FromString(v)

    def _fields_repr(self):
        return f"features={self.features!r}"


# -- parsing specs -------------------------------------------------------------------------------


def _is_string(dtype) -> bool:
    return dtype is bytes or dtype is str or getattr(dtype, "name", dtype) == "string"


def _kind_for(dtype, op: str) -> str:
    if _is_string(dtype):
        return "bytes_list"
    dt = D.as_dtype(dtype)
    if dt is D.float32:
        return "float_list"
    if dt is D.int64:
        return "int64_list"
    raise InvalidArgumentError(f"{op}: feature dtype must be int64, float32 or string, got {dt.name}")


class FixedLenFeature:
    def __init__(self, shape, dtype, default_value=None):
        self.shape, self.dtype, self.default_value = tuple(int(d) for d in shape), dtype, default_value


class VarLenFeature:
    def __init__(self, dtype):
        self.dtype = dtype


class SparseTensor(_Opaque):
    """What a ``VarLenFeature`` parses to: ``indices`` (int64 [n, rank]), ``values`` (a Tensor, or
    a list of bytes for strings) and ``dense_shape``, as ``tf.sparse.SparseTensor`` holds them."""

    def __init__(self, indices, values, dense_shape):
        self.indices, self.values, self.dense_shape = indices, values, dense_shape

    def to_list(self, default=None) -> list:
        """The densified rows as Python lists (padding with ``default``, or dropped when None)."""
        idx = self.indices.numpy().tolist() if isinstance(self.indices, Tensor) else self.indices
        vals = self.values.numpy().tolist() if isinstance(self.values, Tensor) else list(self.values)
        shape = self.dense_shape.numpy().tolist() if isinstance(self.dense_shape, Tensor) else self.dense_shape
        if len(shape) == 1:
            return vals
        rows = [[] for _ in range(shape[0])]
        for (r, _), v in zip(idx, vals):
            rows[r].append(v)
        if default is not None:
            rows = [r + [default] * (shape[1] - len(r)) for r in rows]
        return rows


def _values(example: Example, key: str, spec, op: str):
    kind = _kind_for(spec.dtype, op)
    f = example.features.feature.get(key)
    if f is None or f.WhichOneof() is None:
        return None
    if f.WhichOneof() != kind:
        raise InvalidArgumentError(
            f"{op}: feature {key!r} holds {f.WhichOneof()} but the spec asks "
            f"for {kind} (dtype {getattr(spec.dtype, 'name', spec.dtype)})"
        )
    return list(getattr(f, kind).value)


def _fixed(vals, key, spec, op):
    n = 1
    for d in spec.shape:
        n *= d
    if vals is None:
        if spec.default_value is None:
            raise InvalidArgumentError(
                f"{op}: feature {key!r} is required but could not be found (FixedLenFeature with no default_value)"
            )
        return spec.default_value if _is_string(spec.dtype) else convert(spec.default_value, spec.dtype)
    if len(vals) != n:
        raise InvalidArgumentError(
            f"{op}: key {key!r}: number of values {len(vals)} does not match "
            f"the FixedLenFeature shape {list(spec.shape)} ({n} values)"
        )
    if _is_string(spec.dtype):
        return _nest_list(vals, spec.shape)
    from ..ops import array as A

    return A.reshape(convert(vals, D.as_dtype(spec.dtype)), spec.shape)


def _nest_list(vals: list, shape: tuple):
    if not shape:
        return vals[0]
    step = len(vals) // shape[0] if shape[0] else 0
    return [_nest_list(vals[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def _sparse(rows: list, dtype, batched: bool):
    indices, values = [], []
    for r, vals in enumerate(rows):
        for j, v in enumerate(vals):
            indices.append([r, j] if batched else [j])
            values.append(v)
    width = max((len(v) for v in rows), default=0)
    shape = [len(rows), width] if batched else [width]
    rank = 2 if batched else 1
    from ..ops import array as A

    idx = A.reshape(convert(indices or [], D.int64), (len(indices), rank))
    vals = values if _is_string(dtype) else convert(values, D.as_dtype(dtype))
    return SparseTensor(idx, vals, convert(shape, D.int64))


def _to_example(serialized, op: str) -> Example:
    if isinstance(serialized, Example):
        return serialized
    if isinstance(serialized, str):
        serialized = serialized.encode("latin-1")
    if (
        hasattr(serialized, "_h")
        and getattr(serialized, "dtype", None) is not None
        and serialized.dtype.name == "string"
        and serialized.shape.rank == 0
    ):
        serialized = serialized.numpy()  # a scalar tf.string
    if not isinstance(serialized, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"{op}: `serialized` must be bytes (a serialized tf.train.Example), got {type(serialized).__name__}"
        )
    return Example.FromString(bytes(serialized))


def _check_features(features, op):
    if not isinstance(features, dict) or not features:
        raise ValueError(f"{op}: `features` must be a non-empty dict of FixedLenFeature/VarLenFeature")
    for k, s in features.items():
        if not isinstance(s, (FixedLenFeature, VarLenFeature)):
            raise TypeError(f"{op}: feature {k!r}: unsupported spec {type(s).__name__}")


def parse_single_example(serialized, features: dict, example_names=None, name=None) -> dict:
    """One serialized Example -> {key: Tensor (FixedLen) or SparseTensor (VarLen)}."""
    op = "parse_single_example"
    _check_features(features, op)
    ex = _to_example(serialized, op)
    out = {}
    for k, s in features.items():
        vals = _values(ex, k, s, op)
        if isinstance(s, FixedLenFeature):
            out[k] = _fixed(vals, k, s, op)
        else:
            out[k] = _sparse([vals or []], s.dtype, batched=False)
    return out


_KIND = {1: "bytes_list", 2: "float_list", 3: "int64_list"}


def _packed_varints(buf, pos: int, end: int) -> list:
    out = []
    while pos < end:
        v, pos = _read_varint(buf, pos, end)
        out.append(v - (1 << 64) if v >= 1 << 63 else v)
    return out


def _rv(buf, pos: int):
    """A varint at ``pos``: the one-byte case inline, else the general reader."""
    b = buf[pos]
    if b < 0x80:
        return b, pos + 1
    return _read_varint(buf, pos, len(buf))


def _layout(data: bytes) -> dict:
    """``{key: (kind, start, end)}``: where each feature's packed values (bytes lists: the whole
    list body) lie in one serialized Example of the usual layout (map entries key-then-value,
    packed numeric lists). Anything else raises ValueError (or IndexError) and the caller takes the
    general decoder, with its errors. Positions, not values, so a batch whose Examples share one
    layout is walked once (see ``_Batch``)."""
    out = {}
    pos, n = 0, len(data)
    while pos < n:
        if data[pos] != 0x0A:  # Example.features
            raise ValueError("unusual Example")
        length, pos = _rv(data, pos + 1)
        end = pos + length
        while pos < end:
            if data[pos] != 0x0A:  # Features.feature map entry
                raise ValueError("unusual Features")
            length, pos = _rv(data, pos + 1)
            entry_end = pos + length
            if data[pos] != 0x0A:  # entry key
                raise ValueError("unusual map entry")
            length, pos = _rv(data, pos + 1)
            key = data[pos : pos + length].decode("utf-8")
            pos += length
            if data[pos] != 0x12 or key in out:  # entry value: Feature; a repeated key: general path
                raise ValueError("unusual map entry")
            length, pos = _rv(data, pos + 1)
            if pos + length != entry_end or length == 0:
                raise ValueError("unusual map entry")
            tag = data[pos]
            length, pos = _rv(data, pos + 1)
            if pos + length != entry_end:
                raise ValueError("unusual Feature")
            if tag == 0x0A:
                out[key] = ("bytes_list", pos, entry_end)
            elif tag not in (0x12, 0x1A):
                raise ValueError("unusual Feature")
            elif pos == entry_end:
                out[key] = ("float_list" if tag == 0x12 else "int64_list", pos, pos)
            elif data[pos] != 0x0A:
                raise ValueError("unpacked list")
            else:
                length, pos = _rv(data, pos + 1)
                if pos + length != entry_end or (tag == 0x12 and length % 4):
                    raise ValueError("unusual Feature")
                out[key] = ("float_list" if tag == 0x12 else "int64_list", pos, entry_end)
            pos = entry_end
        if pos != end:
            raise ValueError("unusual Features")
    return out


def _fast_features(data: bytes) -> dict:
    """``{key: (kind, values)}`` of one Example of the usual layout (see ``_layout``)."""
    out = {}
    for key, (kind, s, e) in _layout(data).items():
        if kind == "bytes_list":
            out[key] = (kind, [bytes(v) for num, wt, v in _fields(data, s, e) if num == 1 and wt == 2])
        elif kind == "float_list":
            out[key] = (kind, list(struct.unpack_from(f"<{(e - s) // 4}f", data, s)))
        else:
            out[key] = (kind, _packed_varints(data, s, e))
    return out


class _Batch:
    """The Examples of one ``parse_example`` batch, walked once when they share a layout (the
    common case: one writer, same keys, same list lengths): the first Example's layout is the
    template, and a later Example of the same length whose bytes outside the numeric value runs
    match the template's reuses its positions, so decoding it is a few slices."""

    def __init__(self, first: bytes):
        self.layout = _layout(first)
        holes = sorted((s, e) for kind, s, e in self.layout.values() if kind != "bytes_list")
        self.size = len(first)
        self.skeleton, pos = [], 0
        for s, e in holes:
            self.skeleton.append((pos, s, first[pos:s]))
            pos = e
        self.skeleton.append((pos, self.size, first[pos:]))

    def layout_of(self, data: bytes) -> dict:
        if len(data) == self.size and all(data[s:e] == b for s, e, b in self.skeleton):
            return self.layout
        return _layout(data)


def _parse_fast(serialized, features: dict):
    """``parse_example`` for batches of numeric FixedLen features present in every Example with
    the right count; None when any Example needs the general path. Values go from the wire bytes
    straight into one typed buffer per feature (``array.frombytes`` for floats, no Python float
    per value), and each output tensor is built once per batch."""
    if not all(isinstance(s, FixedLenFeature) and not _is_string(s.dtype) for s in features.values()):
        return None
    from ..ops import array as A

    plan = []
    for k, s in features.items():
        n = 1
        for d in s.shape:
            n *= d
        want = _kind_for(s.dtype, "parse_example")
        plan.append((k, want, n, array.array("f" if want == "float_list" else "q")))
    try:
        batch = _Batch(bytes(serialized[0]))
        for rec in serialized:
            rec = bytes(rec)
            lay = batch.layout_of(rec)
            for k, want, n, flat in plan:
                got = lay.get(k)
                if got is None or got[0] != want:
                    return None
                _, s, e = got
                if want == "float_list":
                    if e - s != 4 * n:
                        return None
                    flat.frombytes(rec[s:e])
                elif e - s == n and max(rec[s:e], default=0) < 0x80:  # all one-byte varints
                    flat.extend(rec[s:e])
                else:
                    vals = _packed_varints(rec, s, e)
                    if len(vals) != n:
                        return None
                    flat.extend(vals)
    except (ValueError, IndexError, DataLossError, TypeError, UnicodeDecodeError, struct.error):
        return None
    if array.array("f").itemsize != 4 or struct.pack("=f", 1.0) != struct.pack("<f", 1.0):
        for _, want, _, flat in plan:  # the wire is little-endian
            if want == "float_list":
                flat.byteswap()
    return {
        k: A.reshape(convert(flat, D.as_dtype(features[k].dtype)), (len(serialized),) + tuple(features[k].shape))
        for k, _, _, flat in plan
    }


def parse_example(serialized, features: dict, example_names=None, name=None) -> dict:
    """A batch (list) of serialized Examples -> FixedLen features stacked on a new axis 0,
    VarLen features as a [batch, max_len] SparseTensor."""
    op = "parse_example"
    _check_features(features, op)
    if isinstance(serialized, (bytes, bytearray, str)):
        raise TypeError(f"{op}: `serialized` must be a list of serialized Examples; for one use parse_single_example")
    if hasattr(serialized, "_h") and serialized.dtype.name == "string":  # a 1-D tf.string batch
        serialized = serialized.numpy().tolist()
    if serialized and all(isinstance(s, (bytes, bytearray)) for s in serialized):
        fast = _parse_fast(serialized, features)
        if fast is not None:
            return fast
    exs = [_to_example(s, op) for s in serialized]
    out = {}
    for k, s in features.items():
        cols = [_values(e, k, s, op) for e in exs]
        if isinstance(s, FixedLenFeature):
            n = 1
            for d in s.shape:
                n *= d
            if cols and not _is_string(s.dtype) and all(v is not None and len(v) == n for v in cols):
                from ..ops import array as A  # the common case: one tensor from one flat list

                flat = [x for v in cols for x in v]
                out[k] = A.reshape(convert(flat, D.as_dtype(s.dtype)), (len(cols),) + tuple(s.shape))
                continue
            parts = [_fixed(v, k, s, op) for v in cols]
            if _is_string(s.dtype):
                out[k] = parts
            else:
                from ..ops import array as A

                out[k] = (
                    A.reshape(A.stack(parts), (len(parts),) + s.shape)
                    if parts
                    else A.zeros((0,) + s.shape, D.as_dtype(s.dtype))
                )
        else:
            out[k] = _sparse([v or [] for v in cols], s.dtype, batched=True)
    return out

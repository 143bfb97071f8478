"""The one place that validates model files.

A model file is untrusted input: every check here runs before a byte of tensor
data is allocated, and every failure is a ``ValueError`` naming the problem and
the byte offset where it is. Nothing in a file is executed, and nothing in it
becomes a path.
"""
from __future__ import annotations

import json
import struct

from .. import dtypes as D

PREFIX = 8                          # u64 little-endian header length
MAX_HEADER = 100 * 1024 * 1024      # header bytes; larger is refused before it is read
MAX_RANK = 64
MAX_ENTRIES = 100_000               # tensors + metadata keys in one header; more is refused
FORMAT = "webtensor"
FORMAT_VERSION = 1


def dtype_code(dt: D.DType) -> str:
    """safetensors' name for a dtype of the dtype table: F32, I64, U8, BOOL..."""
    return "BOOL" if dt.kind == "b" else f"{dt.kind.upper()}{8 * dt.size}"


_BY_CODE = {dtype_code(d): d for d in D.ALL}


class Entry:
    """One tensor of a file: name, dtype, shape and its byte range in the data section."""

    __slots__ = ("name", "dtype", "shape", "begin", "end", "data_start")

    def __init__(self, name: str, dtype: D.DType, shape: tuple, begin: int, end: int, data_start: int):
        self.name, self.dtype, self.shape = name, dtype, shape
        self.begin, self.end, self.data_start = begin, end, data_start

    nbytes = property(lambda self: self.end - self.begin)
    offset = property(lambda self: self.data_start + self.begin)  # absolute, in the file

    def __repr__(self):
        return f"Entry({self.name!r}, {self.dtype.name}, {list(self.shape)}, bytes {self.offset}..{self.offset + self.nbytes})"


class Header:
    """A validated header: tensors in file order and the ``__metadata__`` str->str map."""

    __slots__ = ("tensors", "metadata", "data_start", "data_size", "meta_at")

    def __init__(self, tensors: dict, metadata: dict, data_start: int, data_size: int, meta_at=None):
        self.tensors, self.metadata = tensors, metadata
        self.data_start, self.data_size = data_start, data_size
        self.meta_at = meta_at if meta_at is not None else b""  # the raw header, searched on demand

    def at(self, key: str) -> int:
        """Byte offset of a metadata entry (for errors about the config inside it); found
        only when asked (an error), so validating n keys never searches the header n times."""
        if key not in self.metadata:
            return PREFIX
        return PREFIX + _find(self.meta_at, key) if self.meta_at else PREFIX

    total_size = property(lambda self: self.data_start + self.data_size)

    def in_data_order(self) -> list:
        return sorted(self.tensors.values(), key=lambda e: (e.begin, e.end))


def fail(problem: str, offset: int) -> ValueError:
    return ValueError(f"invalid model file: {problem} (at byte offset {offset})")



def header_length(prefix: bytes, total: int | None) -> int:
    """Length of the JSON header from the file's first 8 bytes."""
    if len(prefix) < PREFIX:
        raise fail(f"truncated file: {len(prefix)} bytes, shorter than the 8-byte header length", 0)
    (n,) = struct.unpack("<Q", bytes(prefix[:PREFIX]))
    if n > MAX_HEADER:
        raise fail(f"header length {n} is over the {MAX_HEADER} byte (100 MB) limit", 0)
    if n < 2:
        raise fail(f"header length {n} is too small for a JSON object", 0)
    if total is not None and PREFIX + n > total:
        raise fail(f"header length {n} runs past the end of the file ({total} bytes)", 0)
    return n


def _no_duplicates(raw: bytes):
    def hook(pairs):
        if len(pairs) > MAX_ENTRIES:
            raise fail(f"a JSON object of the header has {len(pairs)} entries, over the "
                       f"{MAX_ENTRIES} limit", PREFIX)
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise fail(f"duplicate name {k!r} in the header", PREFIX + _find(raw, k, second=True))
            seen.add(k)
        return dict(pairs)
    return hook


def _find(raw: bytes, name: str, second: bool = False) -> int:
    """Best-effort position of a key in the header JSON, for error messages only (it
    searches the whole header: never call it per entry on the success path)."""
    for enc in (json.dumps(name, ensure_ascii=False).encode("utf-8", "surrogatepass"),
                json.dumps(name).encode()):
        i = raw.find(enc)
        if i >= 0 and second:
            j = raw.find(enc, i + 1)
            i = j if j >= 0 else i
        if i >= 0:
            return i
    return 0


def _load_json(text: str, raw: bytes | None, what: str, base: int):
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates(raw or b""))
    except json.JSONDecodeError as e:
        at = base + len(text[:e.pos].encode("utf-8")) if raw is not None else base
        raise fail(f"{what} is not valid JSON: {e.msg}", at) from None
    except RecursionError:
        raise fail(f"{what} nests too deeply", base) from None
    except ValueError as e:  # an integer of over 4300 digits, say
        if str(e).startswith("invalid model file"):
            raise
        raise fail(f"{what} is not valid JSON: {e}", base) from None


def parse_header(raw: bytes, total: int | None) -> Header:
    """Validate header JSON bytes (the ``n`` bytes after the length prefix).

    ``total`` is the whole file's size when known; then the tensors must cover the
    data section exactly. Unknown (a stream): the declared data size is trusted
    only as far as the bytes that later arrive (the reader checks each read)."""
    raw = bytes(raw)
    data_start = PREFIX + len(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise fail("header is not UTF-8", PREFIX + e.start) from None
    obj = _load_json(text, raw, "header", PREFIX)
    if not isinstance(obj, dict):
        raise fail(f"header is a JSON {type(obj).__name__}, not an object", PREFIX)
    metadata = _metadata(obj.pop("__metadata__", {}), raw)
    if len(obj) + len(metadata) > MAX_ENTRIES:
        raise fail(f"the header has {len(obj)} tensors and {len(metadata)} metadata keys, over the "
                   f"{MAX_ENTRIES} entry limit", PREFIX)
    data_size = None if total is None else total - data_start
    tensors = {}
    for name, info in obj.items():
        tensors[name] = _entry(name, info, raw, data_start, data_size)
    end = _check_layout(tensors, data_start, data_size)
    return Header(tensors, metadata, data_start, end if data_size is None else data_size, raw)


class _At(int):
    """A key's byte offset, searched for only when an error message formats it."""

    def __new__(cls, raw: bytes, name: str):
        self = int.__new__(cls, PREFIX)
        self.raw, self.name = raw, name
        return self

    def __format__(self, spec):
        return format(PREFIX + _find(self.raw, self.name), spec)

    __str__ = __repr__ = lambda self: str(PREFIX + _find(self.raw, self.name))


def _metadata(meta, raw: bytes) -> dict:
    at = _At(raw, "__metadata__")
    if not isinstance(meta, dict):
        raise fail("__metadata__ is not a JSON object", at)
    for k, v in meta.items():
        if not isinstance(v, str):
            raise fail(f"__metadata__[{_safe(k)!r}] is a {type(v).__name__}; safetensors metadata "
                       f"values are strings", at)
    return meta


def _safe(name: str) -> str:
    """A name fit for an error message: lone surrogates ("\\ud800") escaped."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _entry(name: str, info, raw: bytes, data_start: int, data_size: int | None) -> Entry:
    at = _At(raw, name)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise fail(f"tensor name {_safe(name)!r} is not valid Unicode (a lone surrogate)", at) from None
    if not name:
        raise fail("empty tensor name", at)
    if not isinstance(info, dict):
        raise fail(f"tensor {name!r}: entry is not a JSON object", at)
    for key in ("dtype", "shape", "data_offsets"):
        if key not in info:
            raise fail(f"tensor {name!r}: missing {key!r}", at)
    code = info["dtype"]
    dt = _BY_CODE.get(code) if isinstance(code, str) else None
    if dt is None:
        raise fail(f"tensor {name!r}: unknown dtype {code!r}; supported: {', '.join(_BY_CODE)}", at)
    shape = info["shape"]
    if (not isinstance(shape, list) or len(shape) > MAX_RANK
            or not all(type(d) is int and d >= 0 for d in shape)):
        raise fail(f"tensor {name!r}: shape {shape!r:.80} is not a list of at most {MAX_RANK} "
                   f"non-negative integers", at)
    offs = info["data_offsets"]
    if not (isinstance(offs, list) and len(offs) == 2 and all(type(o) is int for o in offs)):
        raise fail(f"tensor {name!r}: data_offsets {offs!r:.80} is not a pair of integers", at)
    begin, end = offs
    if not 0 <= begin <= end:
        raise fail(f"tensor {name!r}: data_offsets [{begin}, {end}] are out of order or negative", at)
    if data_size is not None and end > data_size:
        raise fail(f"tensor {name!r}: data_offsets [{begin}, {end}] run past the end of the file "
                   f"(the data section holds {data_size} bytes)", data_start + min(begin, data_size))
    n = dt.size
    for d in shape:
        n *= d
    if n != end - begin:
        raise fail(f"tensor {name!r}: shape {shape} {dt.name} needs {n} bytes but data_offsets "
                   f"[{begin}, {end}] hold {end - begin}", data_start + begin)
    return Entry(name, dt, tuple(shape), begin, end, data_start)


def _check_layout(tensors: dict, data_start: int, data_size: int | None) -> int:
    """Tensors tile the data section: no overlap, no hole, nothing after the last."""
    pos, prev = 0, None
    for e in sorted(tensors.values(), key=lambda e: (e.begin, e.end)):
        if e.begin < pos:
            raise fail(f"tensor {e.name!r} bytes [{e.begin}, {e.end}) overlap tensor {prev.name!r} "
                       f"[{prev.begin}, {prev.end})", data_start + e.begin)
        if e.begin > pos:
            raise fail(f"data bytes [{pos}, {e.begin}) before tensor {e.name!r} belong to no tensor",
                       data_start + pos)
        pos, prev = e.end, e
    if data_size is not None and pos != data_size:
        raise fail(f"{data_size - pos} bytes after the last tensor belong to no tensor", data_start + pos)
    return pos


# -- the model layer: metadata, config, weights ------------------------------------------

def model_metadata(header: Header) -> dict:
    """Decoded webtensor metadata: format version, model config, training config.

    A plain safetensors file (weights only) has no model config; ``model_config``
    is then None."""
    meta = header.metadata
    out = {"model_config": None, "training_config": None, "format_version": None}
    if meta.get("format") != FORMAT:
        return out
    version = meta.get("format_version")
    if version != str(FORMAT_VERSION):
        raise fail(f"format_version {version!r} is not supported (this reader knows "
                   f"{FORMAT_VERSION}); upgrade webtensor", header.at("format_version"))
    out["format_version"] = FORMAT_VERSION
    for key in ("model_config", "training_config"):
        if key in meta:
            out[key] = _load_json(meta[key], None, f"__metadata__[{key!r}]", header.at(key))
            if not isinstance(out[key], dict):
                raise fail(f"__metadata__[{key!r}] is not a JSON object", header.at(key))
    return out


def layer_configs(config: dict, path: str = "model_config", at: int = PREFIX):
    """Yield (json_path, class_name, config) for the model and every layer nested in it."""
    if not isinstance(config, dict):
        raise fail(f"{path} is a {type(config).__name__}, not a layer config object", at)
    cls = config.get("class_name")
    if not isinstance(cls, str):
        raise fail(f"{path} has no class_name string", at)
    inner = config.get("config", {})
    if not isinstance(inner, dict):
        raise fail(f"{path}.config is not an object", at)
    yield path, cls, inner
    layers = inner.get("layers")
    if layers is not None:
        if not isinstance(layers, list):
            raise fail(f"{path}.config.layers is not a list", at)
        for i, sub in enumerate(layers):
            yield from layer_configs(sub, f"{path}.config.layers[{i}]", at)
    for key in ("layer", "cell", "backward_layer", "forward_layer"):
        sub = inner.get(key)
        if isinstance(sub, dict) and "class_name" in sub:
            yield from layer_configs(sub, f"{path}.config.{key}", at)


def check_layers(config: dict, known, at: int = PREFIX) -> None:
    """Refuse a config naming a layer class ``known(class_name)`` does not accept."""
    for path, cls, _ in layer_configs(config, at=at):
        if not known(cls):
            raise fail(f"{path} names unknown layer class {cls!r}; no code is loaded from files, "
                       f"pass custom_objects={{{cls!r}: ...}} for your own layers", at)


def check_weights(header: Header, expected: dict, prefix: str = "") -> None:
    """Every weight the model has (name -> shape) is in the file with that shape."""
    for name, shape in expected.items():
        e = header.tensors.get(prefix + name)
        if e is None:
            raise fail(f"missing weight {prefix + name!r} (shape {list(shape)}) the model config needs",
                       header.at("model_config"))
        if tuple(e.shape) != tuple(shape):
            raise fail(f"weight {e.name!r} has shape {list(e.shape)} in the file but the model "
                       f"needs {list(shape)}", e.offset)

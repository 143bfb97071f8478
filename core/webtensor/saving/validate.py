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

PREFIX = 8  # u64 little-endian header length
MAX_HEADER = 100 * 1024 * 1024  # header bytes; larger is refused before it is read
MAX_RANK = 64
MAX_ENTRIES = 100_000  # tensors + metadata keys in one header; more is refused
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
            raise fail(f"a JSON object of the header has {len(pairs)} entries, over the {MAX_ENTRIES} limit", PREFIX)
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
    for enc in (json.dumps(name, ensure_ascii=False).encode("utf-8", "surrogatepass"), json.dumps(name).encode()):
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
        at = base + len(text[: e.pos].encode("utf-8")) if raw is not None else base
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
        raise fail(
            f"the header has {len(obj)} tensors and {len(metadata)} metadata keys, over the {MAX_ENTRIES} entry limit",
            PREFIX,
        )
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
            raise fail(
                f"__metadata__[{_safe(k)!r}] is a {type(v).__name__}; safetensors metadata values are strings", at
            )
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
    if not isinstance(shape, list) or len(shape) > MAX_RANK or not all(type(d) is int and d >= 0 for d in shape):
        raise fail(
            f"tensor {name!r}: shape {shape!r:.80} is not a list of at most {MAX_RANK} non-negative integers", at
        )
    offs = info["data_offsets"]
    if not (isinstance(offs, list) and len(offs) == 2 and all(type(o) is int for o in offs)):
        raise fail(f"tensor {name!r}: data_offsets {offs!r:.80} is not a pair of integers", at)
    begin, end = offs
    if not 0 <= begin <= end:
        raise fail(f"tensor {name!r}: data_offsets [{begin}, {end}] are out of order or negative", at)
    if data_size is not None and end > data_size:
        raise fail(
            f"tensor {name!r}: data_offsets [{begin}, {end}] run past the end of the file "
            f"(the data section holds {data_size} bytes)",
            data_start + min(begin, data_size),
        )
    n = dt.size
    for d in shape:
        n *= d
    if n != end - begin:
        raise fail(
            f"tensor {name!r}: shape {shape} {dt.name} needs {n} bytes but data_offsets "
            f"[{begin}, {end}] hold {end - begin}",
            data_start + begin,
        )
    return Entry(name, dt, tuple(shape), begin, end, data_start)


def _check_layout(tensors: dict, data_start: int, data_size: int | None) -> int:
    """Tensors tile the data section: no overlap, no hole, nothing after the last."""
    pos, prev = 0, None
    for e in sorted(tensors.values(), key=lambda e: (e.begin, e.end)):
        if e.begin < pos:
            raise fail(
                f"tensor {e.name!r} bytes [{e.begin}, {e.end}) overlap tensor {prev.name!r} [{prev.begin}, {prev.end})",
                data_start + e.begin,
            )
        if e.begin > pos:
            raise fail(f"data bytes [{pos}, {e.begin}) before tensor {e.name!r} belong to no tensor", data_start + pos)
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
        raise fail(
            f"format_version {version!r} is not supported (this reader knows {FORMAT_VERSION}); upgrade webtensor",
            header.at("format_version"),
        )
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
            raise fail(
                f"{path} names unknown layer class {cls!r}; no code is loaded from files, "
                f"pass custom_objects={{{cls!r}: ...}} for your own layers",
                at,
            )


def check_weights(header: Header, expected: dict, prefix: str = "") -> None:
    """Every weight the model has (name -> shape) is in the file with that shape."""
    for name, shape in expected.items():
        e = header.tensors.get(prefix + name)
        if e is None:
            raise fail(
                f"missing weight {prefix + name!r} (shape {list(shape)}) the model config needs",
                header.at("model_config"),
            )
        if tuple(e.shape) != tuple(shape):
            raise fail(
                f"weight {e.name!r} has shape {list(e.shape)} in the file but the model needs {list(shape)}", e.offset
            )


# -- SavedModel (docs/saved-model.md): the JSON schema and each graph node's inputs ------------
# Failures are ``ValueError("<where>: <problem>")``; the SavedModel loader prefixes the directory.

SM_FORMAT = "webtensor-saved-model"
SM_VARIABLES_FORMAT = "webtensor-saved-model-variables"
SM_VERSION = 1
SM_MAX_JSON = 64 * 1024 * 1024
SM_MAX_DEPTH = 64  # object children / structures nesting
SM_MAX_SUBGRAPH_DEPTH = 32
SM_MAX_OBJECTS = 100_000
SM_MAX_FUNCTIONS = 10_000
SM_MAX_NODES = 1_000_000  # graph nodes in all functions together
SM_MAX_DIM = 2**31 - 1
SM_MAX_TENSOR_BYTES = 1 << 30
_SM_KEYS = {"format", "format_version", "objects", "functions", "signatures"}


def sm_fail(where: str, problem: str) -> ValueError:
    return ValueError(f"{problem} (at {where})")


def sm_dtype(value, where: str) -> D.DType:
    dt = next((d for d in D.ALL if d.name == value), None) if isinstance(value, str) else None
    if dt is None:
        raise sm_fail(where, f"dtype {str(value)[:40]!r} is not one of {', '.join(d.name for d in D.ALL)}")
    return dt


def sm_shape(value, where: str, unknown: bool = False) -> tuple:
    """A shape: a list of at most MAX_RANK ints in [0, 2^31) (``None`` too if ``unknown``)."""
    if (
        not isinstance(value, list)
        or len(value) > MAX_RANK
        or not all((type(d) is int and 0 <= d <= SM_MAX_DIM) or (unknown and d is None) for d in value)
    ):
        raise sm_fail(
            where,
            f"shape {str(value)[:60]} is not a list of at most {MAX_RANK} ints in "
            f"[0, 2^31){' or null' if unknown else ''}",
        )
    return tuple(value)


def sm_nbytes(shape: tuple, dt: D.DType, where: str) -> int:
    n = dt.size
    for d in shape:
        n *= d
    if n > SM_MAX_TENSOR_BYTES:
        raise sm_fail(
            where, f"a tensor of shape {list(shape)} {dt.name} is {n} bytes, over the {SM_MAX_TENSOR_BYTES} byte limit"
        )
    return n


def sm_load_json(raw: bytes, where: str) -> dict:
    """``saved_model.json`` parsed and its top level checked (size, duplicate keys, format)."""
    if len(raw) > SM_MAX_JSON:
        raise sm_fail(where, f"{len(raw)} bytes, over the {SM_MAX_JSON} byte limit")
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError as e:
        raise sm_fail(f"{where} byte {e.start}", "not UTF-8") from None
    try:
        obj = _load_json(text, None, where, 0)
    except ValueError as e:
        raise sm_fail(where, str(e).removeprefix("invalid model file: ")) from None
    if not isinstance(obj, dict):
        raise sm_fail(where, f"a JSON {type(obj).__name__}, not an object")
    if obj.get("format") != SM_FORMAT:
        raise sm_fail(where, f"format is {str(obj.get('format'))[:40]!r}, not {SM_FORMAT!r}")
    if obj.get("format_version") != SM_VERSION:
        raise sm_fail(
            where,
            f"format_version {str(obj.get('format_version'))[:20]!r} is not supported "
            f"(this reader knows {SM_VERSION}); upgrade webtensor",
        )
    extra = set(obj) - _SM_KEYS
    if extra:
        raise sm_fail(where, f"unknown key {sorted(extra)[0][:40]!r}")
    for key, typ, limit in (
        ("objects", list, SM_MAX_OBJECTS),
        ("functions", list, SM_MAX_FUNCTIONS),
        ("signatures", dict, SM_MAX_FUNCTIONS),
    ):
        v = obj.get(key)
        if not isinstance(v, typ) or len(v) > limit:
            raise sm_fail(f"{where} {key}", f"not a JSON {typ.__name__} of at most {limit} entries")
    if not obj["objects"]:
        raise sm_fail(f"{where} objects", "empty (object 0 is the root)")
    return obj


def _is_index(x, n: int) -> bool:
    return type(x) is int and 0 <= x < n


def sm_check_objects(objects: list, n_functions: int) -> dict:
    """Every object well formed, references in range, no cycles; returns {key: object id}
    of the variables."""
    keys = {}
    for i, o in enumerate(objects):
        where = f"objects[{i}]"
        if not isinstance(o, dict):
            raise sm_fail(where, "not a JSON object")
        kind = o.get("kind")
        if kind == "object":
            kids = o.get("children")
            if not isinstance(kids, list):
                raise sm_fail(where, "children is not a list")
            names = set()
            for k, edge in enumerate(kids):
                if not (
                    isinstance(edge, list)
                    and len(edge) == 2
                    and isinstance(edge[0], str)
                    and edge[0]
                    and _is_index(edge[1], len(objects))
                ):
                    raise sm_fail(
                        f"{where}.children[{k}]", f"{str(edge)[:60]} is not [name, object id < {len(objects)}]"
                    )
                if edge[0] in names:
                    raise sm_fail(f"{where}.children[{k}]", f"duplicate child name {edge[0][:60]!r}")
                parts = edge[0].split("/")
                if any(not p for p in parts) or len(parts) > SM_MAX_DEPTH:
                    raise sm_fail(
                        f"{where}.children[{k}]",
                        f"child name {edge[0][:60]!r} has an empty part or more than {SM_MAX_DEPTH} parts",
                    )
                names.add(edge[0])
        elif kind == "variable":
            key = o.get("key")
            if not isinstance(key, str) or not key:
                raise sm_fail(where, "variable key is not a non-empty string")
            if key in keys:
                raise sm_fail(where, f"variable key {key[:60]!r} is also objects[{keys[key]}]'s")
            keys[key] = i
            if not isinstance(o.get("name"), str) or not isinstance(o.get("trainable"), bool):
                raise sm_fail(where, "variable needs a string name and a bool trainable")
            sm_nbytes(sm_shape(o.get("shape"), where + ".shape"), sm_dtype(o.get("dtype"), where + ".dtype"), where)
        elif kind == "function":
            cfs = o.get("concrete_functions")
            if not isinstance(cfs, list) or not all(_is_index(f, n_functions) for f in cfs):
                raise sm_fail(where, f"concrete_functions is not a list of function ids < {n_functions}")
        else:
            raise sm_fail(where, f"kind {str(kind)[:30]!r} is not 'object', 'variable' or 'function'")
    _acyclic(objects)
    return keys


def _acyclic(objects: list) -> None:
    """Depth-first from the root with colours: a back edge is a cycle; depth is bounded."""
    state = [0] * len(objects)
    stack = [(0, 0, 0)]  # (object, next child, depth)
    state[0] = 1
    while stack:
        i, k, depth = stack.pop()
        kids = objects[i].get("children", []) if objects[i].get("kind") == "object" else []
        if k < len(kids):
            stack.append((i, k + 1, depth))
            c = kids[k][1]
            if state[c] == 1:
                raise sm_fail(f"objects[{i}].children[{k}]", f"a cycle back to objects[{c}]")
            if state[c] == 0:
                if depth + 1 > SM_MAX_DEPTH:
                    raise sm_fail(f"objects[{i}]", f"objects nest more than {SM_MAX_DEPTH} deep")
                state[c] = 1
                stack.append((c, 0, depth + 1))
        else:
            state[i] = 2


def sm_structure(s, where: str, leaves: list, depth: int = 0) -> None:
    """Check a structure tree; append each leaf (a dict) to ``leaves`` in flat order."""
    if depth > SM_MAX_DEPTH:
        raise sm_fail(where, f"structure nests more than {SM_MAX_DEPTH} deep")
    if not isinstance(s, dict) or len(s) != 1 and "tensor" not in s:
        raise sm_fail(where, f"{str(s)[:60]} is not a structure ({{'tensor'|'value'|'list'|'tuple'|'dict': ...}})")
    if "tensor" in s:
        if set(s) - {"tensor", "dtype", "shape", "name"} or type(s["tensor"]) is not int or s["tensor"] < 0:
            raise sm_fail(where, f"tensor leaf {str(s)[:80]} needs an index >= 0, dtype, shape, name")
        sm_dtype(s.get("dtype"), where + ".dtype")
        sm_shape(s.get("shape"), where + ".shape", unknown=True)
        if not isinstance(s.get("name", ""), str):
            raise sm_fail(where, "tensor leaf name is not a string")
        leaves.append(s)
        return
    ((kind, v),) = s.items()
    if kind == "value":
        if v is not None and type(v) not in (bool, int, float, str):
            raise sm_fail(where, f"value {str(v)[:40]} is not null, a bool, a number or a string")
        leaves.append(s)
    elif kind in ("list", "tuple"):
        if not isinstance(v, list):
            raise sm_fail(where, f"{kind} is not a JSON list")
        for i, x in enumerate(v):
            sm_structure(x, f"{where}[{i}]", leaves, depth + 1)
    elif kind == "dict":
        if (
            not isinstance(v, list)
            or not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in v)
            or len({p[0] for p in v}) != len(v)
        ):
            raise sm_fail(where, "dict is not a list of [unique string key, structure] pairs")
        for k, x in v:
            sm_structure(x, f"{where}[{k[:30]!r}]", leaves, depth + 1)
    else:
        raise sm_fail(where, f"unknown structure kind {kind[:30]!r}")


def sm_check_signature(name, sig, functions: list, where: str) -> None:
    if (
        not isinstance(name, str)
        or not name
        or not isinstance(sig, dict)
        or set(sig) != {"function", "inputs", "outputs"}
    ):
        raise sm_fail(where, "a signature is {'function': id, 'inputs': {...}, 'outputs': {...}}")
    if not _is_index(sig["function"], len(functions)):
        raise sm_fail(where, f"function {str(sig['function'])[:20]} is not a function id < {len(functions)}")
    for part in ("inputs", "outputs"):
        infos = sig[part]
        if not isinstance(infos, dict):
            raise sm_fail(f"{where}.{part}", "not a JSON object")
        for k, info in infos.items():
            w = f"{where}.{part}[{k[:40]!r}]"
            if not isinstance(info, dict) or set(info) != {"index", "dtype", "shape"} or type(info["index"]) is not int:
                raise sm_fail(w, "needs exactly index (int), dtype and shape")
            sm_dtype(info["dtype"], w + ".dtype")
            sm_shape(info["shape"], w + ".shape", unknown=True)


# each primitive's inputs: (count or None for any, attrs with their checks)
_ARITY = {
    "unary": 1,
    "binary": 2,
    "where": 3,
    "cast": 1,
    "reduce": 1,
    "argreduce": 1,
    "scan": 1,
    "matmul": 2,
    "conv2d": 2,
    "conv2d_input_grad": 2,
    "conv2d_filter_grad": 2,
    "pool2d": 1,
    "pool2d_grad": 2,
    "gather": 2,
    "scatter_add": 2,
    "reshape": 1,
    "transpose": 1,
    "slice": 1,
    "pad": 1,
    "broadcast_to": 1,
    "constant": 0,
    "full": 0,
    "arange": 0,
    "random": 0,
    "read_variable": 0,
    "assign_variable": 1,
    "placeholder": 0,
    "softmax": 1,
    "sparse_softmax_xent": 2,
}
_ATTRS = {
    "unary": {"op"},
    "binary": {"op"},
    "where": set(),
    "cast": {"dtype"},
    "reduce": {"op", "axes", "keepdims"},
    "argreduce": {"op", "axis", "dtype"},
    "scan": {"op", "axis", "exclusive", "reverse"},
    "matmul": {"transpose_a", "transpose_b"},
    "conv2d": {"strides", "pads", "dilations", "groups"},
    "conv2d_input_grad": {"x_shape", "strides", "pads", "dilations", "groups"},
    "conv2d_filter_grad": {"w_shape", "strides", "pads", "dilations", "groups"},
    "pool2d": {"op", "ksize", "strides", "pads"},
    "pool2d_grad": {"op", "ksize", "strides", "pads"},
    "gather": {"axis"},
    "scatter_add": {"shape", "axis"},
    "reshape": {"shape"},
    "transpose": {"perm"},
    "slice": {"begin", "size", "strides"},
    "concat": {"axis"},
    "pad": {"pads", "value"},
    "broadcast_to": {"shape"},
    "constant": {"value", "shape", "dtype"},
    "full": {"shape", "value", "dtype"},
    "arange": {"start", "delta", "n", "dtype"},
    "random": {"kind", "shape", "dtype", "key"},
    "read_variable": {"variable"},
    "assign_variable": {"variable"},
    "softmax": {"axis"},
    "sparse_softmax_xent": set(),
    "print": {"template", "stream", "summarize", "sep", "end"},
    "assert": {"message", "labels", "summarize"},
}
"""The attrs each node type has, exactly (placeholder, cond and while are checked where built)."""
_ANY_DTYPE_BINARY = {"equal", "not_equal"}
_BOOL_BINARY = {"logical_and", "logical_or"}


def _ints(v, n, where, what, lo=0, hi=SM_MAX_DIM) -> tuple:
    if (
        not isinstance(v, list)
        or (n is not None and len(v) != n)
        or not all(type(x) is int and lo <= x <= hi for x in v)
    ):
        raise sm_fail(where, f"{what} {str(v)[:60]} is not a list of {n if n is not None else ''} ints in [{lo}, {hi}]")
    return tuple(v)


def _axis(v, rank, where, what="axis") -> int:
    if type(v) is not int or not 0 <= v < rank:
        raise sm_fail(where, f"{what} {str(v)[:20]} is out of range for rank {rank}")
    return v


def _flag(v, where, what) -> bool:
    if type(v) is not bool:
        raise sm_fail(where, f"{what} {str(v)[:20]} is not a bool")
    return v


def sm_number(v, dt: D.DType, where: str, what: str):
    """A Python scalar valid for ``dt`` (non-finite floats are the strings 'inf', '-inf', 'nan')."""
    if isinstance(v, str) and dt.kind == "f" and v in ("inf", "-inf", "nan"):
        return float(v)
    if dt.kind == "b":
        if type(v) is bool or (type(v) is int and v in (0, 1)):
            return bool(v)
    elif dt.kind == "f":
        if type(v) in (int, float) and abs(v) < 2**1023:
            return float(v)
    elif type(v) is int or (type(v) is float and v.is_integer() and abs(v) < 2**63):
        v = int(v)
        lo, hi = (
            (0, 2 ** (8 * dt.size) - 1) if dt.kind == "u" else (-(2 ** (8 * dt.size - 1)), 2 ** (8 * dt.size - 1) - 1)
        )
        if lo <= v <= hi:
            return v
    raise sm_fail(where, f"{what} {str(v)[:30]} is not a valid {dt.name} value")


def _conv_out(x_shape, w_shape, strides, pads, dilations, where) -> tuple:
    hw = []
    for i in (0, 1):
        span = (w_shape[i] - 1) * dilations[i] + 1
        n = x_shape[1 + i] + pads[i][0] + pads[i][1] - span
        if n < 0:
            raise sm_fail(
                where,
                f"the window ({span}) is larger than the padded input ({x_shape[1 + i]} + "
                f"{pads[i][0] + pads[i][1]}) along spatial dim {i}",
            )
        hw.append(n // strides[i] + 1)
    return tuple(hw)


def _pads2(v, where) -> tuple:
    if not (isinstance(v, list) and len(v) == 2):
        raise sm_fail(where, f"pads {str(v)[:40]} is not [[top, bottom], [left, right]]")
    return tuple(_ints(p, 2, where, "pads") for p in v)


def sm_check_attrs(t: str, a: dict, where: str) -> None:
    """A node of type ``t`` has exactly its attrs (so a newer writer's additions are never
    silently ignored)."""
    want = _ATTRS.get(t)
    if want is not None and set(a) != want:
        odd = sorted(set(a) ^ want)[0]
        raise sm_fail(
            where, f"{t} has attrs {sorted(want)}; {odd[:30]!r} is {'missing' if odd in want else 'not one of them'}"
        )


def sm_check_primitive(t: str, a: dict, ins: list, where: str) -> None:
    """Inputs ``[(shape, dtype)]`` and JSON attrs of one primitive node are valid for the backends
    (what the core checks before it calls a primitive; a file skips the core)."""
    from ..backends.base import BINARY_OPS, FLOAT_UNARY, REDUCE_OPS, SCAN_OPS, UNARY_OPS
    from ..shape import broadcast_shape

    sm_check_attrs(t, a, where)
    n = _ARITY.get(t)
    if n is not None and len(ins) != n:
        raise sm_fail(where, f"{t} takes {n} inputs, got {len(ins)}")
    if t == "concat" and not ins:
        raise sm_fail(where, "concat takes at least one input")
    dts = [d for _, d in ins]
    shapes = [s for s, _ in ins]

    def same_dtype():
        if len(set(dts)) > 1:
            raise sm_fail(where, f"{t}: inputs have different dtypes {[d.name for d in dts]}")

    def numeric(dt):
        if dt.kind == "b":
            raise sm_fail(where, f"{t}: bool input is not allowed")

    if t == "unary":
        op = a.get("op")
        if op not in UNARY_OPS:
            raise sm_fail(where, f"unknown unary op {str(op)[:30]!r}")
        if op == "logical_not" and dts[0].kind != "b":
            raise sm_fail(where, "logical_not needs a bool input")
        if op in FLOAT_UNARY and dts[0].kind != "f":
            raise sm_fail(where, f"unary {op} needs a float input, got {dts[0].name}")
        if op != "logical_not":
            numeric(dts[0])
    elif t == "binary":
        op = a.get("op")
        if op not in BINARY_OPS:
            raise sm_fail(where, f"unknown binary op {str(op)[:30]!r}")
        same_dtype()
        if op in _BOOL_BINARY and dts[0].kind != "b":
            raise sm_fail(where, f"{op} needs bool inputs")
        if op == "div" and dts[0].kind != "f":
            raise sm_fail(where, "div needs float inputs")
        if op not in _BOOL_BINARY | _ANY_DTYPE_BINARY:
            numeric(dts[0])
        broadcast_shape(shapes[0], shapes[1], "binary")
    elif t == "where":
        if dts[0].kind != "b" or dts[1] is not dts[2]:
            raise sm_fail(where, "where needs a bool condition and two inputs of one dtype")
        broadcast_shape(broadcast_shape(shapes[0], shapes[1], "where"), shapes[2], "where")
    elif t == "cast":
        sm_dtype(a.get("dtype"), where)
    elif t == "reduce":
        op = a.get("op")
        if op not in REDUCE_OPS:
            raise sm_fail(where, f"unknown reduce op {str(op)[:30]!r}")
        axes = _ints(a.get("axes"), None, where, "axes", 0, max(len(shapes[0]) - 1, 0))
        if list(axes) != sorted(set(axes)) or (axes and not shapes[0]):
            raise sm_fail(where, f"reduce axes {list(axes)} are not sorted, unique and in range")
        _flag(a.get("keepdims"), where, "keepdims")
        if (op in ("any", "all")) != (dts[0].kind == "b"):
            raise sm_fail(where, f"reduce {op} on {dts[0].name}")
    elif t == "argreduce":
        if a.get("op") not in ("argmax", "argmin"):
            raise sm_fail(where, f"unknown argreduce op {str(a.get('op'))[:30]!r}")
        ax = _axis(a.get("axis"), len(shapes[0]), where)
        if shapes[0][ax] == 0:
            raise sm_fail(where, "argreduce over an empty axis")
        numeric(dts[0])
        if sm_dtype(a.get("dtype"), where).name not in ("int32", "int64"):
            raise sm_fail(where, "argreduce dtype must be int32 or int64")
    elif t == "scan":
        if a.get("op") not in SCAN_OPS:
            raise sm_fail(where, f"unknown scan op {str(a.get('op'))[:30]!r}")
        _axis(a.get("axis"), len(shapes[0]), where)
        _flag(a.get("exclusive"), where, "exclusive")
        _flag(a.get("reverse"), where, "reverse")
        numeric(dts[0])
    elif t == "matmul":
        same_dtype()
        numeric(dts[0])
        ta, tb = _flag(a.get("transpose_a"), where, "transpose_a"), _flag(a.get("transpose_b"), where, "transpose_b")
        sa, sb = shapes
        if len(sa) < 2 or len(sb) < 2:
            raise sm_fail(where, f"matmul needs rank >= 2 inputs, got {list(sa)} and {list(sb)}")
        k1, k2 = sa[-2] if ta else sa[-1], sb[-1] if tb else sb[-2]
        if k1 != k2:
            raise sm_fail(where, f"matmul inner dims differ: {list(sa)} and {list(sb)}")
        broadcast_shape(sa[:-2], sb[:-2], "matmul")
    elif t in ("conv2d", "conv2d_input_grad", "conv2d_filter_grad"):
        same_dtype()
        if dts[0].kind != "f":
            raise sm_fail(where, f"{t} needs float inputs")
        strides = _ints(a.get("strides"), 2, where, "strides", 1)
        dil = _ints(a.get("dilations"), 2, where, "dilations", 1)
        pads = _pads2(a.get("pads"), where)
        groups = a.get("groups")
        if type(groups) is not int or groups < 1:
            raise sm_fail(where, f"groups {str(groups)[:20]} is not a positive int")
        if t == "conv2d":
            x, w, dy = shapes[0], shapes[1], None
        elif t == "conv2d_input_grad":
            dy, w = shapes
            x = _ints(a.get("x_shape"), 4, where, "x_shape")
        else:
            x, dy = shapes
            w = _ints(a.get("w_shape"), 4, where, "w_shape")
        if len(x) != 4 or len(w) != 4 or (dy is not None and len(dy) != 4):
            raise sm_fail(where, f"{t} needs rank-4 input, filter and gradient")
        if w[2] * groups != x[3] or w[3] % groups or x[3] == 0:
            raise sm_fail(where, f"{t}: filter {list(w)} with groups={groups} does not fit {x[3]} input channels")
        hw = _conv_out(x, w, strides, pads, dil, where)
        if dy is not None and tuple(dy) != (x[0],) + hw + (w[3],):
            raise sm_fail(where, f"{t}: gradient shape {list(dy)} is not the conv output {[x[0], *hw, w[3]]}")
    elif t in ("pool2d", "pool2d_grad"):
        if a.get("op") not in ("max", "avg"):
            raise sm_fail(where, f"unknown pool op {str(a.get('op'))[:30]!r}")
        if dts[0].kind != "f":
            raise sm_fail(where, f"{t} needs float inputs")
        same_dtype()
        k = _ints(a.get("ksize"), 2, where, "ksize", 1)
        s = _ints(a.get("strides"), 2, where, "strides", 1)
        pads = _pads2(a.get("pads"), where)
        x = shapes[0]
        if len(x) != 4 or any(p >= kk for pp, kk in zip(pads, k) for p in pp):
            raise sm_fail(where, f"{t} needs a rank-4 input and pads smaller than the window")
        hw = _conv_out(x, k, s, pads, (1, 1), where)
        if t == "pool2d_grad" and tuple(shapes[1]) != (x[0],) + hw + (x[3],):
            raise sm_fail(where, f"pool2d_grad: gradient shape {list(shapes[1])} is not the pool output")
    elif t == "gather":
        if dts[1].name not in ("int32", "int64"):
            raise sm_fail(where, "gather indices must be int32 or int64")
        _axis(a.get("axis"), len(shapes[0]), where)
    elif t == "scatter_add":
        if dts[0].name not in ("int32", "int64"):
            raise sm_fail(where, "scatter_add indices must be int32 or int64")
        numeric(dts[1])
        shape = sm_shape(a.get("shape"), where + " shape")
        ax = _axis(a.get("axis"), len(shape), where)
        if tuple(shapes[1]) != shape[:ax] + tuple(shapes[0]) + shape[ax + 1 :]:
            raise sm_fail(where, f"scatter_add updates shape {list(shapes[1])} does not fit shape {list(shape)}")
    elif t == "reshape":
        shape = sm_shape(a.get("shape"), where + " shape")
        if _prod(shape) != _prod(shapes[0]):
            raise sm_fail(where, f"cannot reshape {list(shapes[0])} to {list(shape)}")
    elif t == "transpose":
        perm = _ints(a.get("perm"), len(shapes[0]), where, "perm")
        if sorted(perm) != list(range(len(shapes[0]))):
            raise sm_fail(where, f"perm {list(perm)} is not a permutation of the {len(shapes[0])} axes")
    elif t == "slice":
        r = len(shapes[0])
        begin = _ints(a.get("begin"), r, where, "begin", -SM_MAX_DIM)
        size = _ints(a.get("size"), r, where, "size")
        strides = _ints(a.get("strides"), r, where, "strides", -SM_MAX_DIM)
        for d, b, n, st in zip(shapes[0], begin, size, strides):
            if st == 0 or (n and not (0 <= b < d and 0 <= b + (n - 1) * st < d)):
                raise sm_fail(
                    where,
                    f"slice begin {list(begin)} size {list(size)} strides {list(strides)} "
                    f"leaves the input {list(shapes[0])}",
                )
    elif t == "concat":
        same_dtype()
        ax = _axis(a.get("axis"), len(shapes[0]), where)
        for s in shapes[1:]:
            if len(s) != len(shapes[0]) or any(p != q for i, (p, q) in enumerate(zip(s, shapes[0])) if i != ax):
                raise sm_fail(where, f"concat inputs {[list(x) for x in shapes][:4]} differ off axis {ax}")
    elif t == "pad":
        pads = a.get("pads")
        if not isinstance(pads, list) or len(pads) != len(shapes[0]):
            raise sm_fail(where, f"pads {str(pads)[:60]} is not one [before, after] pair per axis")
        for p in pads:
            _ints(p, 2, where, "pads")
        sm_number(a.get("value"), dts[0], where, "pad value")
    elif t == "softmax":
        _axis(a.get("axis"), len(shapes[0]), where)
        if dts[0].kind != "f":
            raise sm_fail(where, "softmax needs a float input")
    elif t == "sparse_softmax_xent":
        if (
            dts[0].kind != "f"
            or dts[1].name not in ("int32", "int64")
            or not shapes[0]
            or tuple(shapes[1]) != tuple(shapes[0][:-1])
            or shapes[0][-1] == 0
        ):
            raise sm_fail(
                where,
                f"sparse_softmax_xent needs float logits [..., C>0] and int labels [...], "
                f"got {list(shapes[0])} {dts[0].name} and {list(shapes[1])} {dts[1].name}",
            )
    elif t == "broadcast_to":
        shape = sm_shape(a.get("shape"), where + " shape")
        if len(shape) < len(shapes[0]) or broadcast_shape(shapes[0], shape, "broadcast_to") != shape:
            raise sm_fail(where, f"cannot broadcast {list(shapes[0])} to {list(shape)}")


def _prod(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n

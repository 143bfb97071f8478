"""``tf.strings``: elementwise string ops over ``tf.string`` tensors, in pure Python.

String tensors live on the host strings backend (``backends/host_strings.py``); these
ops read their flat ``bytes`` values and build new host tensors, so they run the same
natively and in Pyodide. Numeric results (lengths, hash buckets, numbers) are CPU
tensors, as TF's string kernels produce them on the CPU.
"""

from __future__ import annotations

import functools
import re

from .. import dtypes as D
from .. import host
from ..backends import host_strings as _hs
from ..errors import InvalidArgumentError, UnimplementedError
from ..shape import prod
from ..tensor import Tensor, convert, wrap
from ..ragged.tensor import RaggedTensor
from .hashing import fingerprint64, siphash24

__all__ = [
    "as_string",
    "bytes_split",
    "format",
    "join",
    "length",
    "lower",
    "reduce_join",
    "regex_full_match",
    "regex_replace",
    "strip",
    "substr",
    "to_hash_bucket_fast",
    "to_hash_bucket_strong",
    "ngrams",
    "split",
    "to_number",
    "unicode_decode",
    "unicode_decode_with_offsets",
    "unicode_encode",
    "unicode_split",
    "unicode_split_with_offsets",
    "unicode_transcode",
    "unsorted_segment_join",
    "upper",
]


def _ragged_elementwise(fn):
    """String ops are elementwise: a RaggedTensor input maps over its flat values."""
    first = fn.__code__.co_varnames[0]  # the input's parameter name, for keyword calls

    @functools.wraps(fn)
    def op(*args, **kwargs):
        x = args[0] if args else kwargs.get(first)
        if isinstance(x, RaggedTensor):
            if args:
                return x.with_flat_values(fn(x.flat_values, *args[1:], **kwargs))
            return x.with_flat_values(fn(**{**kwargs, first: x.flat_values}))
        return fn(*args, **kwargs)

    return op


def _strings(x, op: str) -> Tensor:
    t = _eager(convert(x, D.string, op=op) if not isinstance(x, Tensor) else x, op)
    if t._dtype is not D.string:
        raise InvalidArgumentError(f"{op}: expects a string tensor, got {t._dtype.name} {tuple(t._h.shape)}")
    return t


def _eager(t: Tensor, op: str) -> Tensor:
    if getattr(t._h, "symbolic", False):
        raise UnimplementedError(
            f"tf.strings.{op}: string ops are eager-only for now; they cannot "
            f"be traced by tf.function (see docs/strings.md)"
        )
    return t


def _out(vals: list, shape: tuple, dtype: D.DType, like: Tensor) -> Tensor:
    """A result tensor on the input's host backend: strings stay strings, others go to its CPU."""
    be = like._be
    if dtype is D.string:
        return wrap(be.strings(vals, shape), D.string, be)
    return wrap(be.write(host.pack(vals, dtype), shape, dtype), dtype, be)


def _map(x, op: str, fn, dtype: D.DType = D.string) -> Tensor:
    t = _strings(x, op)
    return _out([fn(v) for v in t._h.flat], tuple(t._h.shape), dtype, t)


def _utf8(v: bytes, op: str) -> str:
    try:
        return v.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidArgumentError(f"{op}: invalid UTF-8 in {v!r}: {e.reason} at byte {e.start}") from None


@_ragged_elementwise
def length(input, unit: str = "BYTE", name=None) -> Tensor:
    """int32 lengths in bytes, or in Unicode code points for ``unit='UTF8_CHAR'``."""
    if unit == "BYTE":
        return _map(input, "length", len, D.int32)
    if unit == "UTF8_CHAR":
        return _map(input, "length", lambda v: len(_utf8(v, "length")), D.int32)
    raise InvalidArgumentError(f"length: unit must be 'BYTE' or 'UTF8_CHAR', got {unit!r}")


def _case(op: str, encoding: str, ascii_fn, text_fn):
    if encoding == "":
        return ascii_fn  # TF without an encoding changes ASCII letters only
    if encoding.lower().replace("-", "") != "utf8":
        raise InvalidArgumentError(f"{op}: encoding must be '' or 'utf-8', got {encoding!r}")
    return lambda v: text_fn(_utf8(v, op)).encode("utf-8")


@_ragged_elementwise
def lower(input, encoding: str = "", name=None) -> Tensor:
    return _map(input, "lower", _case("lower", encoding, bytes.lower, str.lower))


@_ragged_elementwise
def upper(input, encoding: str = "", name=None) -> Tensor:
    return _map(input, "upper", _case("upper", encoding, bytes.upper, str.upper))


@_ragged_elementwise
def strip(input, name=None) -> Tensor:
    """Leading and trailing ASCII whitespace removed."""
    return _map(input, "strip", bytes.strip)


def join(inputs, separator: str = "", name=None) -> Tensor:
    """Elementwise join of a list of string tensors (broadcast) with ``separator``."""
    if any(isinstance(t, RaggedTensor) for t in inputs):
        from ..ragged.ops import map_flat_values

        return map_flat_values(lambda *fs: join(list(fs), separator), *inputs)
    ts = [_strings(t, "join") for t in inputs]
    if not ts:
        raise InvalidArgumentError("join: inputs must be a non-empty list of string tensors")
    sep = _hs.as_bytes(separator, "join")
    shapes = [tuple(t._h.shape) for t in ts]
    from ..shape import broadcast_shape

    shape = shapes[0]
    for s in shapes[1:]:
        shape = tuple(broadcast_shape(shape, s, "join"))
    idx = [_hs._bcast_index(s, shape) for s in shapes]
    vals = [sep.join(t._h.flat[ix[k]] for t, ix in zip(ts, idx)) for k in range(prod(shape))]
    return _out(vals, shape, D.string, ts[0])


def reduce_join(inputs, axis=None, keepdims: bool = False, separator: str = "", name=None) -> Tensor:
    """Join the strings along ``axis`` (all axes when None), like a sum of strings."""
    if isinstance(inputs, RaggedTensor):
        return _ragged_reduce_join(inputs, axis, keepdims, separator)
    t = _strings(inputs, "reduce_join")
    shape = tuple(t._h.shape)
    sep = _hs.as_bytes(separator, "reduce_join")
    r = len(shape)
    axes = range(r) if axis is None else [axis] if isinstance(axis, int) else list(axis)
    axes = sorted({_axis(a, r, "reduce_join") for a in axes})
    keep = [i for i in range(r) if i not in axes]
    perm = keep + axes
    moved = t._be.transpose(t._h, tuple(perm)) if r else t._h
    n = prod(shape[a] for a in axes)
    groups = prod(shape[i] for i in keep)
    vals = [sep.join(moved.flat[g * n : (g + 1) * n]) for g in range(groups)]
    out = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keepdims else tuple(shape[i] for i in keep)
    return _out(vals, out, D.string, t)


def _axis(a: int, r: int, op: str) -> int:
    if not -r <= a < max(r, 1):
        raise InvalidArgumentError(f"{op}: axis {a} is out of range for a tensor of rank {r}")
    return a % max(r, 1)


def _per_element(v, n: int, shape: tuple, op: str, what: str) -> list:
    """A scalar or same-shaped int argument as a flat list of n ints."""
    if isinstance(v, int):
        return [v] * n
    t = _eager(convert(v, None, op=op), op)
    vals = host.unpack(t._be.read(t._h), t._dtype) if t._dtype.is_integer else None
    if vals is None:
        raise InvalidArgumentError(f"{op}: {what} must be an integer tensor, got {t._dtype.name}")
    if not t._h.shape:
        return vals * n
    if tuple(t._h.shape) != shape:
        raise InvalidArgumentError(f"{op}: {what} shape {tuple(t._h.shape)} must be () or match input shape {shape}")
    return vals


@_ragged_elementwise
def substr(input, pos, len, unit: str = "BYTE", name=None) -> Tensor:
    """Substrings from ``pos`` (negative: from the end) of up to ``len`` bytes or characters."""
    t = _strings(input, "substr")
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise InvalidArgumentError(f"substr: unit must be 'BYTE' or 'UTF8_CHAR', got {unit!r}")
    shape = tuple(t._h.shape)
    n = prod(shape)
    ps = _per_element(pos, n, shape, "substr", "pos")
    ls = _per_element(len, n, shape, "substr", "len")
    out = []
    for k, (v, p, m) in enumerate(zip(t._h.flat, ps, ls)):
        s = _utf8(v, "substr") if unit == "UTF8_CHAR" else v
        size = _len(s)
        if not -size <= p <= size:
            raise InvalidArgumentError(
                f"substr: pos {p} out of range for string {v!r} of "
                f"{size} {'characters' if unit == 'UTF8_CHAR' else 'bytes'} "
                f"at index {k}"
            )
        p = p + size if p < 0 else p
        piece = s[p : p + max(m, 0)]
        out.append(piece.encode("utf-8") if unit == "UTF8_CHAR" else piece)
    return _out(out, shape, D.string, t)


_len = len  # substr's argument shadows the builtin


def _compile(pattern, op: str):
    pat = _hs.as_bytes(pattern if not isinstance(pattern, Tensor) else pattern.numpy(), op)
    try:
        return re.compile(pat)
    except re.error as e:
        raise InvalidArgumentError(f"{op}: invalid pattern {pat!r}: {e}") from None


@_ragged_elementwise
def regex_full_match(input, pattern, name=None) -> Tensor:
    """bool: whether each whole string matches ``pattern`` (Python ``re`` syntax, RE2's common subset)."""
    rx = _compile(pattern, "regex_full_match")
    return _map(input, "regex_full_match", lambda v: rx.fullmatch(v) is not None, D.bool_)


@_ragged_elementwise
def regex_replace(input, pattern, rewrite, replace_global: bool = True, name=None) -> Tensor:
    """Replace matches of ``pattern`` with ``rewrite`` (``\\1`` groups, ``\\0`` the whole match)."""
    rx = _compile(pattern, "regex_replace")
    rw = re.sub(rb"\\0", rb"\\g<0>", _hs.as_bytes(rewrite, "regex_replace"))
    count = 0 if replace_global else 1
    return _map(input, "regex_replace", lambda v: rx.sub(rw, v, count=count))


@_ragged_elementwise
def to_number(string_tensor, out_type=D.float32, name=None) -> Tensor:
    """Parse each string as a number of ``out_type`` (float32/float64/int32/int64)."""
    dt = D.as_dtype(out_type)
    if dt not in (D.float32, D.float64, D.int32, D.int64):
        raise InvalidArgumentError(f"to_number: out_type must be float32, float64, int32 or int64, got {dt.name}")

    def parse(v: bytes):
        try:
            x = float(v) if dt.is_floating else int(v, 10)
        except ValueError:
            raise InvalidArgumentError(
                f"StringToNumberOp could not correctly convert string: {v.decode('utf-8', 'replace')}"
            ) from None
        if dt.is_integer and not dt.min <= x <= dt.max:
            raise InvalidArgumentError(
                f"StringToNumberOp could not correctly convert string: "
                f"{v.decode('utf-8', 'replace')} (out of range for {dt.name})"
            )
        return x

    return _map(string_tensor, "to_number", parse, dt)


@_ragged_elementwise
def as_string(
    input,
    precision: int = -1,
    scientific: bool = False,
    shortest: bool = False,
    width: int = -1,
    fill: str = "",
    name=None,
) -> Tensor:
    """Numbers and bools as strings, formatted as TF's printf-style ``AsString``."""
    t = _eager(convert(input, op="as_string"), "as_string")
    if t._dtype is D.string:
        raise InvalidArgumentError("as_string: input must be numeric or bool, got string")
    if fill not in ("", " ", "0"):
        raise InvalidArgumentError(f"as_string: fill must be '', ' ' or '0', got {fill!r}")
    if scientific and shortest:
        raise InvalidArgumentError("as_string: cannot select both scientific and shortest notation")
    flag = "0" if fill == "0" else ""
    w = str(width) if width > -1 else ""
    if t._dtype.is_floating:
        conv = "e" if scientific else "g" if shortest else "f"
        prec = f".{precision}" if precision > -1 else ""
        fmt = f"%{flag}{w}{prec}{conv}"
    elif t._dtype.is_bool:
        fmt = f"%{w}s"
    else:
        if precision > -1 or scientific or shortest:
            raise InvalidArgumentError(
                f"as_string: precision/scientific/shortest need a float input, got {t._dtype.name}"
            )
        fmt = f"%{flag}{w}d"
    vals = host.unpack(t._be.read(t._h), t._dtype)
    out = [(fmt % (("true" if v else "false") if t._dtype.is_bool else v)).encode() for v in vals]
    return _hs.string_tensor(out, tuple(t._h.shape), "as_string")


def _buckets(num_buckets, op: str) -> int:
    n = int(num_buckets)
    if n < 1:
        raise InvalidArgumentError(f"{op}: num_buckets must be >= 1, got {n}")
    return n


@_ragged_elementwise
def to_hash_bucket_fast(input, num_buckets: int, name=None) -> Tensor:
    """int64 ``Fingerprint64(s) % num_buckets`` (FarmHash, as TF: stable across runs)."""
    n = _buckets(num_buckets, "to_hash_bucket_fast")
    return _map(input, "to_hash_bucket_fast", lambda v: fingerprint64(v) % n, D.int64)


@_ragged_elementwise
def to_hash_bucket_strong(input, num_buckets: int, key, name=None) -> Tensor:
    """int64 ``SipHash-2-4(key, s) % num_buckets``; ``key`` is two uint64 integers."""
    n = _buckets(num_buckets, "to_hash_bucket_strong")
    k = [int(x) for x in key]
    if _len(k) != 2:
        raise InvalidArgumentError(f"to_hash_bucket_strong: key must have 2 elements, got {_len(k)}")
    k0, k1 = (x & ((1 << 64) - 1) for x in k)
    return _map(input, "to_hash_bucket_strong", lambda v: siphash24(k0, k1, v) % n, D.int64)


def unsorted_segment_join(inputs, segment_ids, num_segments, separator: str = "", name=None) -> Tensor:
    """Join the strings of each segment (in input order) along the segment_ids' dims; empty -> b''."""
    op = "unsorted_segment_join"
    t = _strings(inputs, op)
    ids = _eager(convert(segment_ids, D.int32, op=op) if not isinstance(segment_ids, Tensor) else segment_ids, op)
    if not ids._dtype.is_integer:
        raise InvalidArgumentError(f"{op}: segment_ids must be integers, got {ids._dtype.name}")
    shape, si = tuple(t._h.shape), tuple(ids._h.shape)
    if shape[: len(si)] != si:
        raise InvalidArgumentError(f"{op}: segment_ids shape {si} must be a prefix of inputs shape {shape}")
    n = int(num_segments)
    inner = prod(shape[len(si) :])
    flat_ids = host.unpack(ids._be.read(ids._h), ids._dtype)
    groups = [[[] for _ in range(inner)] for _ in range(n)]
    for k, g in enumerate(flat_ids):
        if g >= n:
            raise InvalidArgumentError(f"{op}: segment id {g} is out of range [0, {n})")
        if g >= 0:
            for j in range(inner):
                groups[g][j].append(t._h.flat[k * inner + j])
    sep = _hs.as_bytes(separator, op)
    vals = [sep.join(c) for g in groups for c in g]
    return _out(vals, (n,) + shape[len(si) :], D.string, t)


def _ragged_reduce_join(rt: RaggedTensor, axis, keepdims: bool, separator: str):
    """reduce_join over the innermost (ragged) axis of a RaggedTensor of strings."""
    rank = rt.shape.rank
    if (
        axis is None
        or (axis if isinstance(axis, int) else -99) not in (-1, rank - 1)
        or len(rt.flat_values._h.shape) != 1
    ):
        raise UnimplementedError("reduce_join: on a RaggedTensor only axis=-1 (the innermost ragged axis) is supported")
    if isinstance(rt.values, RaggedTensor):
        return rt.with_values(_ragged_reduce_join(rt.values, -1, keepdims, separator))
    t = _strings(rt.values, "reduce_join")
    sep = _hs.as_bytes(separator, "reduce_join")
    flat = t._h.flat
    vals = [sep.join(flat[a:b]) for a, b in zip(rt._s, rt._s[1:])]
    return _out(vals, (len(vals), 1) if keepdims else (len(vals),), D.string, t)


from .ragged_ops import bytes_split, format, ngrams, split  # noqa: E402
from .unicode import (  # noqa: E402
    unicode_decode,
    unicode_decode_with_offsets,
    unicode_encode,
    unicode_split,
    unicode_split_with_offsets,
    unicode_transcode,
)


def _symbolic_tensors(args, kwargs) -> list:
    """(container, key) slots of the symbolic tensors in args/kwargs (one list level deep)."""
    slots = []
    for i, a in enumerate(args):
        if isinstance(a, Tensor) and getattr(a._h, "symbolic", False):
            slots.append(("arg", i, None))
        elif isinstance(a, (list, tuple)):
            slots += [
                ("arg", i, j) for j, v in enumerate(a) if isinstance(v, Tensor) and getattr(v._h, "symbolic", False)
            ]
    for k, v in kwargs.items():
        if isinstance(v, Tensor) and getattr(v._h, "symbolic", False):
            slots.append(("kw", k, None))
    return slots


def _traceable(fn, out_dtype):
    """In a tf.function trace, a string op becomes a ``py_function`` node: the op runs in
    Python at every replay, on the host (as TF runs its string kernels on the CPU), and
    its output shape is fixed by a first run on the traced call's values."""

    @functools.wraps(fn)
    def op(*args, **kwargs):
        slots = _symbolic_tensors(args, kwargs)
        if not slots:
            return fn(*args, **kwargs)
        from ..function.py_function import py_function

        def get(slot):
            kind, k, j = slot
            v = args[k] if kind == "arg" else kwargs[k]
            return v if j is None else v[j]

        def run(*vals):
            a, kw = [list(x) if isinstance(x, (list, tuple)) else x for x in args], dict(kwargs)
            for (kind, k, j), v in zip(slots, vals):
                target = a if kind == "arg" else kw
                if j is None:
                    target[k] = v
                else:
                    target[k][j] = v
            return fn(*a, **kw)

        dt = out_dtype(*args, **kwargs) if callable(out_dtype) else out_dtype
        return py_function(run, [get(s) for s in slots], dt)

    return op


_STRING_OUT = (
    "lower",
    "upper",
    "strip",
    "join",
    "reduce_join",
    "substr",
    "regex_replace",
    "as_string",
    "unsorted_segment_join",
    "unicode_transcode",
    "format",
)
_OUT_DTYPES = {
    "length": D.int32,
    "regex_full_match": D.bool_,
    "to_hash_bucket_fast": D.int64,
    "to_hash_bucket_strong": D.int64,
    "to_number": lambda s, out_type=D.float32, name=None: D.as_dtype(out_type),
}
_OUT_DTYPES.update({n: D.string for n in _STRING_OUT})
for _name, _dt in _OUT_DTYPES.items():
    globals()[_name] = _traceable(globals()[_name], _dt)
del _name, _dt

"""String ops whose results are ragged: ``split``, ``bytes_split``, ``ngrams``; and ``format``.

A string tensor of shape S splits into a RaggedTensor of shape S + [(pieces)]: one row per
element, with the outer dims of S as uniform partitions (a scalar input gives a Tensor).
"""

from __future__ import annotations

from .. import dtypes as D
from ..backends import host_strings as _hs
from ..errors import InvalidArgumentError
from ..ragged.tensor import RaggedTensor
from ..shape import prod
from ..tensor import Tensor, Variable


def rows_to_ragged(rows: list, shape: tuple, dtype: D.DType, like: Tensor):
    """One list of values per element of a tensor of ``shape`` -> ragged ``shape + [(n)]``."""
    from . import _out

    flat, splits = [], [0]
    for r in rows:
        flat.extend(r)
        splits.append(len(flat))
    values = _out(flat, (len(flat),), dtype, like)
    if not shape:
        return values
    out = RaggedTensor._make(values, splits)
    for k in range(len(shape) - 1, 0, -1):
        n, w = prod(shape[:k]), shape[k]
        out = RaggedTensor._make(out, list(range(0, n * w + 1, w)) if w else [0] * (n + 1))
    return out


def split(input, sep=None, maxsplit: int = -1, name=None):
    """Split each string on ``sep`` (runs of whitespace when None or empty), as TF's StringSplitV2."""
    from . import _strings

    if isinstance(input, RaggedTensor):
        return input.with_flat_values(split(input.flat_values, sep, maxsplit))
    t = _strings(input, "split")
    s = None if sep is None else _hs.as_bytes(sep.numpy() if isinstance(sep, Tensor) else sep, "split")
    n = int(maxsplit)
    if s == b"":
        s = None
    rows = [v.split(s, n) if s is not None else v.split(None, n) for v in t._h.flat]
    return rows_to_ragged(rows, tuple(t._h.shape), D.string, t)


def bytes_split(input, name=None):
    """Each string as a ragged row of its single bytes."""
    from . import _strings

    if isinstance(input, RaggedTensor):
        return input.with_flat_values(bytes_split(input.flat_values))
    t = _strings(input, "bytes_split")
    rows = [[v[i : i + 1] for i in range(len(v))] for v in t._h.flat]
    return rows_to_ragged(rows, tuple(t._h.shape), D.string, t)


def _pad_pair(pad_values, op: str):
    if pad_values is None:
        return None
    if isinstance(pad_values, (list, tuple)):
        if len(pad_values) != 2:
            raise InvalidArgumentError(f"{op}: pad_values must be a string or a (left, right) pair")
        return _hs.as_bytes(pad_values[0], op), _hs.as_bytes(pad_values[1], op)
    p = _hs.as_bytes(pad_values, op)
    return p, p


def ngrams(
    data,
    ngram_width,
    separator: str = " ",
    pad_values=None,
    padding_width=None,
    preserve_short_sequences: bool = False,
    name=None,
):
    """Joined n-grams of the innermost dimension of ``data`` (ragged or dense), TF's StringNGrams."""
    op = "ngrams"
    widths = [int(w) for w in (ngram_width if isinstance(ngram_width, (list, tuple)) else [ngram_width])]
    if any(w < 1 for w in widths):
        raise InvalidArgumentError(f"{op}: ngram_width must be >= 1, got {widths}")
    sep = _hs.as_bytes(separator, op)
    pads = _pad_pair(pad_values, op)
    if padding_width is not None and pads is None:
        raise InvalidArgumentError(f"{op}: padding_width needs pad_values")

    def grams(row: list) -> list:
        out = []
        for w in widths:
            pw = 0 if pads is None else (w - 1 if padding_width is None else min(int(padding_width), w - 1))
            seq = ([pads[0]] * pw if pads else []) + row + ([pads[1]] * pw if pads else [])
            out.extend(sep.join(seq[i : i + w]) for i in range(len(seq) - w + 1))
        if not out and preserve_short_sequences and row:  # one n-gram of the whole (padded) row
            pw = int(padding_width) if pads and padding_width is not None else 0
            out.append(sep.join(([pads[0]] * pw if pads else []) + row + ([pads[1]] * pw if pads else [])))
        return out

    if isinstance(data, RaggedTensor):
        if data.dtype is not D.string:
            raise InvalidArgumentError(f"{op}: data must be strings, got {data.dtype.name}")
        inner = data
        outer = []
        while isinstance(inner._values, RaggedTensor):
            outer.append(inner._s)
            inner = inner._values
        vals = list(inner._values._h.flat)
        rows = [grams(vals[a:b]) for a, b in zip(inner._s, inner._s[1:])]
        res = rows_to_ragged(rows, (len(rows),), D.string, inner._values)
        for s in reversed(outer):
            res = RaggedTensor._make(res, s)
        return res
    from . import _out, _strings

    t = _strings(data, op)
    shape = tuple(t._h.shape)
    if not shape:
        raise InvalidArgumentError(f"{op}: data must have rank >= 1, got a scalar")
    w = shape[-1]
    flat = list(t._h.flat)
    rows = [grams(flat[i : i + w]) for i in range(0, len(flat), w)] if w else [grams([])] * prod(shape[:-1])
    k = len(rows[0]) if rows else 0
    if any(len(r) != k for r in rows):  # preserve_short_sequences on empty rows can differ: ragged
        return rows_to_ragged(rows, shape[:-1], D.string, t)
    return _out([g for r in rows for g in r], shape[:-1] + (k,), D.string, t)


def _quoted(v):
    if isinstance(v, bytes):
        return '"' + v.decode("utf-8", "backslashreplace").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return [_quoted(x) for x in v]
    return v


def format(template: str, inputs, placeholder: str = "{}", summarize: int = 3, name=None) -> Tensor:
    """A scalar string: ``template`` with each ``placeholder`` replaced by an input, printed as tf.print."""
    from ..control_flow import format_value
    from ..tensor import convert

    items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    tpl = template.decode("utf-8") if isinstance(template, bytes) else str(template)
    pieces = tpl.split(placeholder)
    if len(pieces) - 1 != len(items):
        raise InvalidArgumentError(
            f"format: {len(pieces) - 1} placeholders {placeholder!r} in the template but {len(items)} inputs"
        )
    out = [pieces[0]]
    for v, rest in zip(items, pieces[1:]):
        t = v.value() if isinstance(v, Variable) else v if isinstance(v, Tensor) else convert(v, op="format")
        val = t.numpy()
        val = val.tolist() if hasattr(val, "tolist") else val
        if t._dtype is D.string:
            val = _quoted(val)
        out.append(format_value(val, summarize))
        out.append(rest)
    return convert("".join(out).encode("utf-8"), D.string, op="format")

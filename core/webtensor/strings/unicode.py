"""``tf.strings.unicode_*``: decode strings to code points, encode them back, split, transcode.

Decoding follows TF's ``errors=`` modes: ``'strict'`` raises InvalidArgumentError on the
first invalid sequence, ``'replace'`` puts ``replacement_char`` for each maximal invalid
subsequence (the Unicode practice ICU and Python share), ``'ignore'`` drops it.
"""

from __future__ import annotations

import codecs

from .. import dtypes as D
from ..backends import host_strings as _hs
from ..shape import prod
from ..errors import InvalidArgumentError
from ..ragged.tensor import RaggedTensor
from ..tensor import Tensor, Variable, convert
from .ragged_ops import rows_to_ragged

_OUT_ENCODINGS = {"UTF-8": "utf-8", "UTF-16-BE": "utf-16-be", "UTF-32-BE": "utf-32-be"}


def _codec(name: str, op: str, output: bool = False) -> str:
    key = str(name).upper().replace("_", "-")
    if output:
        if key not in _OUT_ENCODINGS:
            raise InvalidArgumentError(f"{op}: output_encoding must be one of {sorted(_OUT_ENCODINGS)}, got {name!r}")
        return _OUT_ENCODINGS[key]
    try:
        return codecs.lookup(_OUT_ENCODINGS.get(key, key)).name
    except LookupError:
        raise InvalidArgumentError(f"{op}: unknown input_encoding {name!r}") from None


def _errors(errors: str, op: str) -> str:
    if errors not in ("strict", "replace", "ignore"):
        raise InvalidArgumentError(f"{op}: errors must be 'strict', 'replace' or 'ignore', got {errors!r}")
    return errors


def _is_control(cp: int) -> bool:
    return cp < 0x20 or 0x7F <= cp < 0xA0


def decode_one(v: bytes, enc: str, errors: str, repl: int, ctrl: bool, op: str) -> tuple[list, list]:
    """(code points, byte offsets) of one string."""
    cps, offs, pos = [], [], 0
    while pos <= len(v):
        try:
            text = v[pos:].decode(enc)
        except UnicodeDecodeError as e:
            text = v[pos : pos + e.start].decode(enc)
            bad = (pos + e.start, pos + e.end)
        else:
            bad = None
        at = pos
        for ch in text:
            cp = ord(ch)
            cps.append(repl if ctrl and _is_control(cp) else cp)
            offs.append(at)
            at += len(ch.encode(enc))
        if bad is None:
            break
        if errors == "strict":
            raise InvalidArgumentError(
                f"{op}: invalid {enc} encoding in {v!r}: bytes {v[bad[0] : bad[1]]!r} "
                f"at offset {bad[0]} (errors='strict')"
            )
        if errors == "replace":
            cps.append(repl)
            offs.append(bad[0])
        pos = bad[1]
    return cps, offs


def _strings_of(input, op: str):
    from . import _strings

    return _strings(input, op)


def _decoded(input, input_encoding, errors, replacement_char, replace_control_characters, op):
    t = _strings_of(input, op)
    enc = _codec(input_encoding, op)
    mode = _errors(errors, op)
    return t, [decode_one(v, enc, mode, int(replacement_char), bool(replace_control_characters), op) for v in t._h.flat]


def unicode_decode(
    input,
    input_encoding: str,
    errors: str = "replace",
    replacement_char: int = 65533,
    replace_control_characters: bool = False,
    name=None,
):
    """int32 code points of each string: shape S + [(chars)] (a 1-D Tensor for a scalar)."""
    if isinstance(input, RaggedTensor):
        return input.with_flat_values(
            unicode_decode(input.flat_values, input_encoding, errors, replacement_char, replace_control_characters)
        )
    t, res = _decoded(input, input_encoding, errors, replacement_char, replace_control_characters, "unicode_decode")
    return rows_to_ragged([c for c, _ in res], tuple(t._h.shape), D.int32, t)


def unicode_decode_with_offsets(
    input,
    input_encoding: str,
    errors: str = "replace",
    replacement_char: int = 65533,
    replace_control_characters: bool = False,
    name=None,
):
    """(code points, int64 byte offsets of each character's start)."""
    t, res = _decoded(
        input, input_encoding, errors, replacement_char, replace_control_characters, "unicode_decode_with_offsets"
    )
    shape = tuple(t._h.shape)
    return (
        rows_to_ragged([c for c, _ in res], shape, D.int32, t),
        rows_to_ragged([o for _, o in res], shape, D.int64, t),
    )


def _encode_one(cps: list, enc: str, errors: str, repl: int, op: str) -> bytes:
    out = []
    for cp in cps:
        if not 0 <= cp <= 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
            if errors == "strict":
                raise InvalidArgumentError(
                    f"{op}: code point {cp} is not a valid Unicode scalar value (errors='strict')"
                )
            if errors == "ignore":
                continue
            cp = repl
        out.append(chr(cp))
    return "".join(out).encode(enc, "surrogatepass")


def _split_chars(v: bytes, enc: str, errors: str, repl: int, op: str) -> tuple[list, list]:
    cps, offs = decode_one(v, enc, errors, repl, False, op)
    return [_encode_one([c], enc, "replace", repl, op) for c in cps], offs


def unicode_split(input, input_encoding: str, errors: str = "replace", replacement_char: int = 65533, name=None):
    """Each string as a row of its characters (each encoded in ``input_encoding``)."""
    if isinstance(input, RaggedTensor):
        return input.with_flat_values(unicode_split(input.flat_values, input_encoding, errors, replacement_char))
    op = "unicode_split"
    t = _strings_of(input, op)
    enc, mode = _codec(input_encoding, op), _errors(errors, op)
    rows = [_split_chars(v, enc, mode, int(replacement_char), op)[0] for v in t._h.flat]
    return rows_to_ragged(rows, tuple(t._h.shape), D.string, t)


def unicode_split_with_offsets(
    input, input_encoding: str, errors: str = "replace", replacement_char: int = 65533, name=None
):
    op = "unicode_split_with_offsets"
    t = _strings_of(input, op)
    enc, mode = _codec(input_encoding, op), _errors(errors, op)
    res = [_split_chars(v, enc, mode, int(replacement_char), op) for v in t._h.flat]
    shape = tuple(t._h.shape)
    return (
        rows_to_ragged([c for c, _ in res], shape, D.string, t),
        rows_to_ragged([o for _, o in res], shape, D.int64, t),
    )


def unicode_encode(
    input, output_encoding: str, errors: str = "replace", replacement_char: int = 65533, name=None
) -> Tensor:
    """Strings from the code points of the innermost dimension (a Tensor or a RaggedTensor)."""
    op = "unicode_encode"
    enc, mode, repl = _codec(output_encoding, op, output=True), _errors(errors, op), int(replacement_char)
    if isinstance(input, RaggedTensor):
        if not input.dtype.is_integer:
            raise InvalidArgumentError(f"{op}: input must be integer code points, got {input.dtype.name}")
        if isinstance(input._values, RaggedTensor):
            return input.with_values(unicode_encode(input._values, output_encoding, errors, replacement_char))
        vals = input._values.tolist()
        s = input._s
        strs = [_encode_one(vals[a:b], enc, mode, repl, op) for a, b in zip(s, s[1:])]
        return _hs.string_tensor(strs, (len(strs),), op)
    t = (
        input.value()
        if isinstance(input, Variable)
        else input
        if isinstance(input, Tensor)
        else convert(input, D.int32, op=op)
    )
    if not t._dtype.is_integer:
        raise InvalidArgumentError(f"{op}: input must be integer code points, got {t._dtype.name}")
    shape = tuple(t._h.shape)
    if not shape:
        raise InvalidArgumentError(f"{op}: input must have rank >= 1 (code points along the last axis)")
    flat = t.numpy().reshape(-1).tolist() if hasattr(t.numpy(), "reshape") else t.tolist()
    w = shape[-1]
    strs = (
        [_encode_one(flat[i : i + w], enc, mode, repl, op) for i in range(0, len(flat), w)]
        if w
        else [b""] * prod(shape[:-1])
    )
    return _hs.string_tensor(strs, shape[:-1], op)


def unicode_transcode(
    input,
    input_encoding: str,
    output_encoding: str,
    errors: str = "replace",
    replacement_char: int = 65533,
    replace_control_characters: bool = False,
    name=None,
) -> Tensor:
    """Re-encode each string from ``input_encoding`` to ``output_encoding``."""
    from . import _out

    if isinstance(input, RaggedTensor):
        return input.with_flat_values(
            unicode_transcode(
                input.flat_values, input_encoding, output_encoding, errors, replacement_char, replace_control_characters
            )
        )
    op = "unicode_transcode"
    out_enc = _codec(output_encoding, op, output=True)
    t, res = _decoded(input, input_encoding, errors, replacement_char, replace_control_characters, op)
    strs = [_encode_one(c, out_enc, "replace", int(replacement_char), op) for c, _ in res]
    return _out(strs, tuple(t._h.shape), D.string, t)

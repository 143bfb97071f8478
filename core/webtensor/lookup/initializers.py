"""Table initializers: ``KeyValueTensorInitializer`` (two tensors) and ``TextFileInitializer``
(one key/value pair per line of a text file), as ``tf.lookup``'s."""

from __future__ import annotations

import os

from .. import dtypes as D
from ..errors import InvalidArgumentError
from . import _host


class TextFileIndex:
    """Special column indices of ``TextFileInitializer``: the whole line, or its 0-based number."""

    WHOLE_LINE = -2
    LINE_NUMBER = -1


class TableInitializerBase:
    """Key and value dtypes, and ``pairs()``: the (key, value) host pairs in order."""

    def __init__(self, key_dtype, value_dtype):
        self._key_dtype, self._value_dtype = D.as_dtype(key_dtype), D.as_dtype(value_dtype)

    key_dtype = property(lambda self: self._key_dtype)
    value_dtype = property(lambda self: self._value_dtype)


class KeyValueTensorInitializer(TableInitializerBase):
    """Keys and values from two vectors of the same length."""

    def __init__(self, keys, values, key_dtype=None, value_dtype=None, name=None):
        k = _host.tensor_of(keys, D.as_dtype(key_dtype) if key_dtype is not None else None, "KeyValueTensorInitializer")
        v = _host.tensor_of(
            values, D.as_dtype(value_dtype) if value_dtype is not None else None, "KeyValueTensorInitializer"
        )
        if len(_host.shape(k)) != 1:
            raise InvalidArgumentError(f"KeyValueTensorInitializer: keys must be a vector, got shape {_host.shape(k)}")
        if _host.shape(k) != _host.shape(v):
            raise InvalidArgumentError(
                f"KeyValueTensorInitializer: keys and values must have the same size "
                f"{_host.shape(k)} vs {_host.shape(v)}"
            )
        super().__init__(k._dtype, v._dtype)
        self._keys, self._values = _host.flat(k), _host.flat(v)
        self._name = name

    def pairs(self) -> list:
        return list(zip(self._keys, self._values))


def read_lines(filename) -> list:
    """The lines of a text file as bytes, without their ``\\n`` / ``\\r\\n`` endings."""
    path = os.fspath(filename.numpy() if hasattr(filename, "numpy") else filename)
    if isinstance(path, bytes):
        path = path.decode("utf-8")
    if not os.path.isfile(path):
        from ..errors import NotFoundError

        raise NotFoundError(f"TextFileInitializer: {path}: no such file")
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]


class TextFileInitializer(TableInitializerBase):
    """Pairs from a text file: the key and value are columns split on ``delimiter`` (``>= 0``),
    the whole line (``WHOLE_LINE``) or the line number plus ``value_index_offset`` (``LINE_NUMBER``)."""

    def __init__(
        self,
        filename,
        key_dtype,
        key_index,
        value_dtype,
        value_index,
        vocab_size=None,
        delimiter="\t",
        name=None,
        value_index_offset=0,
    ):
        if not filename:
            raise ValueError("`filename` argument required for tf.lookup.TextFileInitializer")
        kd, vd = D.as_dtype(key_dtype), D.as_dtype(value_dtype)
        for what, index, dt in (("key", key_index, kd), ("value", value_index, vd)):
            if index < -2:
                raise ValueError(f"`{what}_index` should be >= -2, received: {index}.")
            if index == TextFileIndex.LINE_NUMBER and dt is not D.int64:
                raise ValueError(
                    f"`{what}_dtype` must be int64 for `{what}_index` {TextFileIndex.LINE_NUMBER}, received: {dt.name}"
                )
            if index == TextFileIndex.WHOLE_LINE and not dt.is_integer and dt is not D.string:
                raise ValueError(
                    f"`{what}_dtype` should be either integer or string for `{what}_index` "
                    f"{TextFileIndex.WHOLE_LINE}, received: {dt.name}"
                )
        if vocab_size is not None and vocab_size <= 0:
            raise ValueError(f"`vocab_size` should be > 0, received: {vocab_size}")
        super().__init__(kd, vd)
        self._filename, self._key_index, self._value_index = filename, key_index, value_index
        self._vocab_size, self._delimiter, self._offset = vocab_size, delimiter, int(value_index_offset)
        self._name = name

    def pairs(self) -> list:
        lines = read_lines(self._filename)
        if self._vocab_size is not None:
            if len(lines) < self._vocab_size:
                raise InvalidArgumentError(
                    f"TextFileInitializer: invalid vocab_size in {self._filename}: "
                    f"expected {self._vocab_size} but got {len(lines)}"
                )
            lines = lines[: self._vocab_size]
        delim = self._delimiter.encode("utf-8") if isinstance(self._delimiter, str) else self._delimiter
        return [
            (
                self._field(ln, i, self._key_index, self._key_dtype, delim),
                self._field(ln, i, self._value_index, self._value_dtype, delim),
            )
            for i, ln in enumerate(lines)
        ]

    def _field(self, line: bytes, number: int, index: int, dtype: D.DType, delim: bytes):
        if index == TextFileIndex.LINE_NUMBER:
            return number + self._offset
        if index == TextFileIndex.WHOLE_LINE:
            text = line
        else:
            cols = line.split(delim)
            if index >= len(cols):
                raise InvalidArgumentError(
                    f"TextFileInitializer: invalid number of columns in "
                    f"{self._filename} line {number} ({line!r}): expected at least "
                    f"{index + 1} got {len(cols)}"
                )
            text = cols[index]
        if dtype is D.string:
            return text
        try:
            return int(text) if dtype.is_integer else float(text)
        except ValueError:
            raise InvalidArgumentError(
                f"TextFileInitializer: field {text!r} in line {number} of {self._filename} is not a valid {dtype.name}"
            ) from None

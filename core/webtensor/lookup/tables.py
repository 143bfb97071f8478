"""``tf.lookup`` tables: ``StaticHashTable``, ``StaticVocabularyTable`` and ``MutableHashTable``.

A table is a Python dict on the host (TF keeps tables on the CPU). Lookups read the keys'
host values, map them, and write a new tensor of the table's value dtype with the keys'
shape (plus the value shape for vector-valued mutable tables).
"""

from __future__ import annotations

from .. import dtypes as D
from ..errors import FailedPreconditionError, InvalidArgumentError
from ..shape import prod
from ..strings.hashing import fingerprint64
from . import _host


def _as_string(v, dtype: D.DType) -> bytes:
    """The bytes TF hashes for a key: strings as they are, integers in decimal (``as_string``)."""
    return v if dtype is D.string else str(int(v)).encode("ascii")


class _Table:
    """Key/value dtypes, ``size``, ``export`` and ``table[keys]`` over a dict ``self._data``."""

    def __init__(self, key_dtype, value_dtype, default_value, name):
        self._key_dtype, self._value_dtype = D.as_dtype(key_dtype), D.as_dtype(value_dtype)
        dv = _host.tensor_of(default_value, self._value_dtype, f"{type(self).__name__}: default_value")
        self._value_shape = _host.shape(dv)
        self._default = _host.flat(dv)
        self._default_value = dv
        self._name = name
        self._data: dict = {}

    key_dtype = property(lambda self: self._key_dtype)
    value_dtype = property(lambda self: self._value_dtype)
    default_value = property(lambda self: self._default_value)
    name = property(lambda self: self._name)

    def size(self, name=None):
        """A scalar int64 tensor: the number of keys in the table."""
        return _host.make([len(self._data)], (), D.int64)

    def export(self, name=None):
        """All keys (a vector) and their values, in insertion order (TF's order is unspecified)."""
        keys = list(self._data)
        vals = [x for k in keys for x in self._data[k]]
        return (
            _host.make(keys, (len(keys),), self._key_dtype),
            _host.make(vals, (len(keys),) + self._value_shape, self._value_dtype),
        )

    def __getitem__(self, keys):
        return self.lookup(keys)

    def _keys(self, keys, op: str):
        t = _host.tensor_of(keys, self._key_dtype, f"{type(self).__name__}.{op}")
        return t, _host.flat(t), _host.shape(t)

    def _find(self, keys, defaults=None):
        """Looked-up values of a tensor of keys, ``defaults`` (per key) or the default otherwise."""
        t, flat, shp = self._keys(keys, "lookup")
        vals = []
        for i, k in enumerate(flat):
            got = self._data.get(k)
            if got is None:
                got = self._default if defaults is None else defaults[i]
            vals.extend(got)
        return _host.make(vals, shp + self._value_shape, self._value_dtype)

    def _insert(self, pairs, static: bool) -> None:
        for k, v in pairs:
            k = _host.key_of(k, self._key_dtype)
            v = v if isinstance(v, tuple) else (v,)
            old = self._data.get(k)
            if static and old is not None and old != v:
                raise FailedPreconditionError(
                    f"{type(self).__name__}: HashTable has different value for same key. Key {k!r} has "
                    f"{old[0] if len(old) == 1 else list(old)} and trying to add value "
                    f"{v[0] if len(v) == 1 else list(v)}"
                )
            self._data[k] = v

    def __repr__(self):
        return (
            f"<{type(self).__name__} key_dtype={self._key_dtype.name} value_dtype="
            f"{self._value_dtype.name} size={len(self._data)}>"
        )


class StaticHashTable(_Table):
    """An immutable table filled once by an initializer; missing keys give ``default_value``."""

    def __init__(self, initializer, default_value, name=None, experimental_is_anonymous=False):
        super().__init__(initializer.key_dtype, initializer.value_dtype, default_value, name or "hash_table")
        if self._value_shape != ():
            raise ValueError(f"StaticHashTable: default_value must be a scalar, got shape {self._value_shape}")
        self._initializer = initializer
        self._insert(initializer.pairs(), static=True)

    def lookup(self, keys, name=None):
        """Values for ``keys`` (any shape, or ragged), the default for missing ones; same shape as ``keys``."""
        if _host.is_ragged(keys):
            return keys.with_flat_values(self.lookup(keys.flat_values))
        return self._find(keys)


class StaticVocabularyTable(_Table):
    """String or integer keys to int64 ids; a key not in the vocabulary goes to bucket
    ``size + Fingerprint64(as_string(key)) % num_oov_buckets`` (TF's formula, so ids match TF's)."""

    def __init__(self, initializer, num_oov_buckets, lookup_key_dtype=None, name=None, experimental_is_anonymous=False):
        if num_oov_buckets <= 0:
            raise ValueError("`num_oov_buckets` must be > 0; use StaticHashTable.")
        if initializer is not None:
            if initializer.key_dtype not in (D.int64, D.string):
                raise TypeError(
                    f"StaticVocabularyTable: invalid `key_dtype`, expected one of (int64, string), "
                    f"but got {initializer.key_dtype.name}."
                )
            lk = D.as_dtype(lookup_key_dtype) if lookup_key_dtype is not None else initializer.key_dtype
            if initializer.key_dtype.is_integer != lk.is_integer:
                raise TypeError(
                    f"StaticVocabularyTable: invalid `key_dtype`, expected "
                    f"{'integer' if lk.is_integer else 'non-integer'} but got "
                    f"{initializer.key_dtype.name}."
                )
            if initializer.value_dtype is not D.int64:
                raise TypeError(
                    f"StaticVocabularyTable: invalid `value_dtype`, expected int64 but got "
                    f"{initializer.value_dtype.name}."
                )
        else:
            lk = D.string
        if not lk.is_integer and lk is not D.string:
            raise TypeError(f"StaticVocabularyTable: invalid `key_dtype`, expected integer or string, got {lk.name}")
        super().__init__(lk, D.int64, -1, name or "hash_bucket")
        self._num_oov_buckets = int(num_oov_buckets)
        if initializer is not None:
            self._insert(initializer.pairs(), static=True)

    def size(self, name=None):
        """Vocabulary size plus the number of OOV buckets, as TF's."""
        return _host.make([len(self._data) + self._num_oov_buckets], (), D.int64)

    def lookup(self, keys, name=None):
        if _host.is_ragged(keys):
            return keys.with_flat_values(self.lookup(keys.flat_values))
        t, flat, shp = self._keys(keys, "lookup")
        n, nb = len(self._data), self._num_oov_buckets
        out = []
        for k in flat:
            got = self._data.get(k, (-1,))[0]
            out.append(got if got != -1 else n + fingerprint64(_as_string(k, self._key_dtype)) % nb)
        return _host.make(out, shp, D.int64)


class MutableHashTable(_Table):
    """A table to ``insert`` into and ``remove`` from; values may be vectors (the default value's
    shape). Missing keys give ``default_value`` or the per-key ``dynamic_default_values``."""

    def __init__(
        self,
        key_dtype,
        value_dtype,
        default_value,
        name="MutableHashTable",
        checkpoint=True,
        experimental_is_anonymous=False,
    ):
        super().__init__(key_dtype, value_dtype, default_value, name)

    def _values(self, values, keys_shape: tuple, op: str) -> list:
        v = _host.tensor_of(values, self._value_dtype, f"MutableHashTable.{op}")
        want = keys_shape + self._value_shape
        if _host.shape(v) != want:
            raise InvalidArgumentError(
                f"MutableHashTable.{op}: expected shape {list(want)} for value, got "
                f"{list(_host.shape(v))} (keys {list(keys_shape)})"
            )
        flat, w = _host.flat(v), max(1, prod(self._value_shape))
        return [tuple(flat[i * w : (i + 1) * w]) for i in range(prod(keys_shape))]

    def insert(self, keys, values, name=None) -> None:
        """Associate each key with its value (a later value for the same key wins)."""
        _, flat, shp = self._keys(keys, "insert")
        self._insert(zip(flat, self._values(values, shp, "insert")), static=False)

    def remove(self, keys, name=None) -> None:
        """Remove the keys; keys not in the table are ignored."""
        _, flat, _ = self._keys(keys, "remove")
        for k in flat:
            self._data.pop(k, None)

    def lookup(self, keys, dynamic_default_values=None, name=None):
        """Values with shape ``keys.shape + value_shape`` (ragged keys: ragged values)."""
        if _host.is_ragged(keys) and dynamic_default_values is None:
            return keys.with_flat_values(self.lookup(keys.flat_values))
        defaults = None
        if dynamic_default_values is not None:
            t = _host.tensor_of(keys, self._key_dtype, "MutableHashTable.lookup")
            defaults = self._values(dynamic_default_values, _host.shape(t), "lookup")
        return self._find(keys, defaults)

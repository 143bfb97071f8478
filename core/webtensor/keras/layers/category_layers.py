"""Categorical preprocessing layers: ``StringLookup``, ``IntegerLookup``, ``Hashing`` and
``CategoryEncoding``, with Keras 3's semantics.

They run on the host, as Keras runs them through TensorFlow's CPU string and table kernels:
inputs are read as flat Python values, mapped through a ``tf.lookup.StaticHashTable`` (the
lookups) or TF's FarmHash/SipHash (``Hashing``, OOV buckets), and written back as tensors.
They are eager-only (not traceable by ``tf.function``). A vocabulary, adapted or given, is
saved in the layer's config, so a model file carries it (Keras 3 writes an assets file instead).
"""

from __future__ import annotations

import collections

from ... import dtypes as D
from ...errors import InvalidArgumentError
from ...lookup import _host
from ...lookup.initializers import KeyValueTensorInitializer, read_lines
from ...lookup.tables import StaticHashTable
from ...strings.hashing import fingerprint64, siphash24
from ...tensor import Tensor, Variable, convert
from ..saving import register
from .layer import Layer

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_DROP = None  # the index the encoders skip (mask tokens outside "int" mode)


# -- inputs and outputs -------------------------------------------------------------------------


def as_tensor(x, dtype: D.DType, op: str) -> Tensor:
    """Layer input as an eager tensor: strings for string layers; any integer dtype for int ones."""
    if isinstance(x, Variable):
        x = x.value()
    if not isinstance(x, Tensor):
        x = convert(x, D.string if dtype is D.string else None, op=op)
    if dtype is D.string and x.dtype is not D.string:
        raise TypeError(f"{op}: expects string inputs, got {x.dtype.name} {tuple(x.shape)}")
    if dtype is not D.string and x.dtype is D.string:
        raise TypeError(f"{op}: expects {dtype.name} inputs, got string {tuple(x.shape)}")
    return _host.tensor_of(x, None, op)


def encode_rows(rows: list, mode: str, depth: int, op: str, weights: list | None = None) -> list:
    """Flat ``len(rows) x depth`` multi-hot (or one-hot) / count values, as TF's ``bincount``;
    ``_DROP`` entries are skipped, any other index outside ``[0, depth)`` is an error."""
    out = [0.0] * (len(rows) * depth)
    for r, row in enumerate(rows):
        base = r * depth
        for j, v in enumerate(row):
            if v is _DROP:
                continue
            if not 0 <= v < depth:
                raise InvalidArgumentError(
                    f"{op}: input value {v} is out of range for {depth} tokens (values must be in [0, {depth}))"
                )
            if mode == "count":
                out[base + v] += 1.0 if weights is None else weights[r][j]
            else:
                out[base + v] = 1.0
    return out


def encode(
    flat: list, shape: tuple, mode: str, depth: int, op: str, weights: list | None = None, dtype: D.DType = D.float32
) -> Tensor:
    """Keras's ``encode_categorical_inputs`` for dense indices: the last axis is the sample
    (one-hot encodes each element); scalars are one sample; at most rank-2 outputs."""
    if mode == "int":
        return _host.make(flat, shape, dtype)
    shape = tuple(shape) or (1,)
    if mode == "one_hot" and shape[-1] != 1:
        shape = shape + (1,)
    if len(shape) > 2:
        raise ValueError(
            f"{op}: when output_mode is not 'int', the maximum supported output rank is 2; got "
            f"output_mode={mode!r} and an input of shape {shape}"
        )
    n = shape[-1]
    rows = [flat[i * n : (i + 1) * n] for i in range(len(flat) // n if n else shape[0])]
    wrows = None if weights is None else [weights[i * n : (i + 1) * n] for i in range(len(rows))]
    vals = encode_rows(rows, mode, depth, op, wrows)
    return _host.make(vals, (depth,) if len(shape) == 1 else (shape[0], depth), dtype)


def _salt(salt, op: str):
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2:
        return [int(s) for s in salt]
    if isinstance(salt, int):
        return [salt, salt]
    raise ValueError(
        f"{op}: the `salt` argument can only be a tuple of 2 integers, or a single integer. Received: salt={salt}."
    )


def hash_bucket(v: bytes, n: int, salt) -> int:
    """TF's ``to_hash_bucket_fast`` (FarmHash Fingerprint64), or ``_strong`` (SipHash) with a salt."""
    if salt is None:
        return fingerprint64(v) % n
    m = (1 << 64) - 1
    return siphash24(salt[0] & m, salt[1] & m, v) % n


def as_string(v) -> bytes:
    """The bytes TF's ``as_string`` gives an integer/bool (what Keras hashes for non-strings)."""
    if isinstance(v, bytes):
        return v
    if isinstance(v, bool):
        return b"true" if v else b"false"
    return str(int(v)).encode("ascii")


# -- IndexLookup ----------------------------------------------------------------------------------


class IndexLookup(Layer):
    """The base of StringLookup/IntegerLookup: a vocabulary -> index table with mask and OOV
    handling, then Keras's output encodings. Index layout: ``[mask] [oov x num_oov] tokens``
    (the mask slot only in ``"int"`` mode)."""

    _vocab_dtype = D.string
    _eager_only = True  # host tables: fit/predict run the steps eagerly (trainer._step_function)

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=None,
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        salt=None,
        name=None,
        vocabulary_size=None,
        has_input_vocabulary=None,
        vocabulary_dtype=None,
        **kwargs,
    ):
        op = type(self).__name__
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"{op}: if set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{op}: if pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens=None")
        if num_oov_indices < 0:
            raise ValueError(
                f"{op}: `num_oov_indices` must be greater than or equal to 0. "
                f"Received: num_oov_indices={num_oov_indices}"
            )
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in _MODES:
            raise ValueError(
                f"{op}: invalid value for argument `output_mode`. Expected one of {list(_MODES)}. "
                f"Received: output_mode={output_mode!r}"
            )
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"{op}: `oov_method` must be 'floormod' or 'farmhash', got {oov_method!r}")
        if invert and output_mode != "int":
            raise ValueError(
                f"{op}: `output_mode` must be `'int'` when `invert` is true. Received: output_mode={output_mode}"
            )
        if sparse:
            raise ValueError(f"{op}: sparse=True is not supported here (no tf.SparseTensor output yet)")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(
                f"{op}: `idf_weights` should only be set if `output_mode` is `'tf_idf'`. "
                f"Received: output_mode={output_mode}"
            )
        kwargs.pop("dtype", None)
        super().__init__(name=name, autocast=False, **kwargs)
        self.max_tokens, self.num_oov_indices = max_tokens, int(num_oov_indices)
        self.mask_token, self.oov_token = mask_token, oov_token
        self.invert, self.output_mode, self.sparse = bool(invert), output_mode, False
        self.pad_to_max_tokens, self.oov_method = bool(pad_to_max_tokens), oov_method
        self.salt = _salt(salt, op)
        self._has_input_vocabulary = (
            vocabulary is not None if has_input_vocabulary is None else bool(has_input_vocabulary)
        )
        self._tokens: list = []  # host keys of the learned/given tokens, in index order
        self._idf: list | None = None  # tf_idf weights over the whole output depth
        self.lookup_table = None
        self._adapting = None
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(
                f"{op}: when specifying the `vocabulary` argument, in TF-IDF output mode, "
                f"the `idf_weights` argument must also be provided."
            )
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # -- host keys -------------------------------------------------------------------------------
    def _key(self, v):
        """A user-facing token (str/bytes/int) as the host key the table holds."""
        return None if v is None else _host.key_of(v, self._vocab_dtype)

    def _token_out(self, k):
        return k.decode("utf-8") if isinstance(k, bytes) else k

    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    # -- vocabulary ------------------------------------------------------------------------------
    def vocabulary_size(self) -> int:
        """Vocabulary size including the mask and OOV indices."""
        return self._token_start_index() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """Tokens in index order; with the special tokens, a token's position is its index."""
        toks = [self._token_out(k) for k in self._tokens]
        if not include_special_tokens:
            return toks
        return [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices + toks

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Replace the vocabulary (a list/array/tensor of tokens, or a text file of one token per
        line); it may start with the special tokens in index order. ``idf_weights`` for tf_idf."""
        op = f"{type(self).__name__}.set_vocabulary"
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{op}: `idf_weights` must be set if output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(
                f"{op}: `idf_weights` should only be set if output_mode is `'tf_idf'`. "
                f"Received: output_mode={self.output_mode}"
            )
        if isinstance(vocabulary, str):
            if self.output_mode == "tf_idf":
                raise ValueError(f"{op}: output_mode 'tf_idf' does not support loading a vocabulary from file.")
            vocab = [self._key(ln) for ln in read_lines(vocabulary)]
            while vocab and vocab[-1] in (b"", ""):
                vocab.pop()
        else:
            vocab = [self._key(v) for v in _values(vocabulary)]
        if not vocab:
            raise ValueError(f"{op}: cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        start = self._token_start_index()
        special = [self._key(self.mask_token)] * self._oov_start_index() + [
            self._key(self.oov_token)
        ] * self.num_oov_indices
        found = vocab[:start] == special
        tokens = vocab[start:] if found else vocab
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(
                f"{op}: the passed vocabulary has at least one repeated term. Please uniquify your "
                f"dataset. The repeated terms are: {[self._token_out(t) for t in repeated]}"
            )
        for what, tok in (("mask", self.mask_token), ("OOV", self.oov_token if self.invert else None)):
            if tok is not None and self._key(tok) in tokens:
                raise ValueError(
                    f"{op}: found reserved {what} token {tok!r} at unexpected location in "
                    f"`vocabulary`. Either remove all mask and OOV tokens, or include them only at the "
                    f"start of the vocabulary in precisely this order: "
                    f"{[self._token_out(s) for s in special]}."
                )
        if self.max_tokens is not None and start + len(tokens) > self.max_tokens:
            raise ValueError(
                f"{op}: attempted to set a vocabulary larger than the maximum vocab size. Received "
                f"vocabulary size is {start + len(tokens)}; `max_tokens` is {self.max_tokens}."
            )
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            w = [float(x) for x in _values(idf_weights)]
            if len(w) != len(vocab):
                raise ValueError(
                    f"{op}: `idf_weights` must be the same length as vocabulary. len(idf_weights) is "
                    f"{len(w)}; len(vocabulary) is {len(vocab)}"
                )
            if not found:
                w = [sum(w) / len(w)] * start + w  # OOV weight: the average, as Keras
            self._set_idf(w)

    def _set_idf(self, w: list) -> None:
        if self.pad_to_max_tokens:
            w = w + [0.0] * (self.max_tokens - len(w))
        self._idf = w

    def _set_tokens(self, tokens: list) -> None:
        self._tokens = list(tokens)
        start = self._token_start_index()
        ids = list(range(start, start + len(tokens)))
        kd = self._vocab_dtype
        keys, vals = (ids, tokens) if self.invert else (tokens, ids)
        init = KeyValueTensorInitializer(
            _host.make(keys, (len(keys),), D.int64 if self.invert else kd),
            _host.make(vals, (len(vals),), kd if self.invert else D.int64),
        )
        default = self._key(self.oov_token) if self.invert else -1
        if self.invert and default is None:
            default = b"" if kd is D.string else -1
        self.lookup_table = StaticHashTable(init, default)

    # -- adapt -----------------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary: tokens by descending count, ties by descending token (Keras's
        order), truncated to ``max_tokens``; document frequencies for tf_idf."""
        self.reset_state()
        for batch in _batches(data, steps):
            self.update_state(batch)
        self.finalize_state()

    def reset_state(self) -> None:
        self._adapting = (collections.Counter(), collections.Counter(), [0])

    def update_state(self, data) -> None:
        if self._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                f"`vocabulary` argument or `set_vocabulary()` method."
            )
        if _host.is_ragged(data):
            return self.update_rows(_host.ragged_rows(data, self._vocab_dtype, f"{type(self).__name__}.adapt"))
        t = as_tensor(data, self._vocab_dtype, f"{type(self).__name__}.adapt")
        flat, shp = _host.flat(t), _host.shape(t)
        n = shp[-1] if len(shp) >= 2 else len(flat)  # rank 0/1: one document
        rows = [flat[i : i + n] for i in range(0, len(flat), n)] if n else []
        self.update_rows(rows)

    def update_rows(self, rows: list) -> None:
        """Count the tokens of documents (lists of host keys)."""
        if self._adapting is None:
            self.reset_state()
        counts, docs, ndocs = self._adapting
        for row in rows:
            counts.update(row)
            if self.output_mode == "tf_idf":
                docs.update(set(row))
        ndocs[0] += len(rows)

    def finalize_state(self) -> None:
        if self._adapting is None or self._has_input_vocabulary:
            return
        counts, docs, ndocs = self._adapting
        for tok in (self.mask_token, self.oov_token):
            if tok is not None:
                counts.pop(self._key(tok), None)
        if not counts:
            self._adapting = None
            return
        order = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        if self.max_tokens:
            order = order[: max(self.max_tokens - self._token_start_index(), 0)]
        tokens = [k for k, _ in order]
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            import math

            w = [math.log(1 + ndocs[0] / (1 + docs[k])) for k in tokens]
            self._set_idf([sum(w) / len(w)] * self._token_start_index() + w)
        self._adapting = None

    # -- call ------------------------------------------------------------------------------------
    def _convert_input(self, x):
        return x  # strings/ints are read on the host in call

    def lookup_keys(self, keys: list) -> list:
        """Indices for host keys, with the mask, OOV buckets and the ``num_oov_indices=0`` check."""
        op = type(self).__name__
        if self.lookup_table is None:
            raise RuntimeError(f"{op}: the layer has no vocabulary; pass `vocabulary` or call `adapt` first")
        table = self.lookup_table._data
        mask = self._key(self.mask_token) if self.mask_token is not None else None
        mask_value = 0 if self.output_mode == "int" else _DROP
        oov_start, n_oov = self._oov_start_index(), self.num_oov_indices
        out, missing = [], []
        for k in keys:
            if mask is not None and k == mask:
                out.append(mask_value)
                continue
            got = table.get(k)
            if got is not None:
                out.append(got[0])
            elif n_oov == 1:
                out.append(oov_start)
            elif n_oov == 0:
                missing.append(self._token_out(k))
                out.append(-1)
            elif self._vocab_dtype.is_integer and self.oov_method == "floormod":
                out.append(oov_start + k % n_oov)
            else:
                out.append(oov_start + hash_bucket(as_string(k), n_oov, self.salt))
        if missing:
            raise InvalidArgumentError(
                f"{op}: when `num_oov_indices=0` all inputs should be in vocabulary, found OOV "
                f"values {missing[:10]}, consider setting `num_oov_indices=1`."
            )
        return out

    def _depth(self) -> int:
        if self.pad_to_max_tokens:
            return self.max_tokens
        if self.lookup_table is None:
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, you must "
                f"set the layer's vocabulary before calling it. Either pass a `vocabulary` argument "
                f"to the layer, or call `adapt` with some sample data."
            )
        return self.vocabulary_size()

    def encode_rows(self, rows: list) -> list:
        """Flat encoded values of index rows in a non-int mode (tf_idf: counts times idf)."""
        depth = self._depth()
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        vals = encode_rows(rows, mode, depth, type(self).__name__)
        if self.output_mode == "tf_idf":
            idf = self._idf
            vals = [v * idf[i % depth] for i, v in enumerate(vals)]
        return vals

    def call(self, inputs):
        op = type(self).__name__
        if _host.is_ragged(inputs):
            return self._call_ragged(inputs, op)
        if self.invert:
            t = as_tensor(inputs, D.int64, op)
            return self._invert(_host.flat(t), _host.shape(t))
        t = as_tensor(inputs, self._vocab_dtype, op)
        flat, shp = _host.flat(t), _host.shape(t)
        idx = self.lookup_keys(flat if self._vocab_dtype is D.string else [int(v) for v in flat])
        if self.output_mode == "int":
            return _host.make(idx, shp, D.int64)
        if self.output_mode == "tf_idf":
            shape = shp or (1,)
            n = shape[-1]
            if len(shape) > 2:
                raise ValueError(f"{op}: tf_idf supports inputs of rank <= 2, got shape {shp}")
            rows = [idx[i : i + n] for i in range(0, len(idx), n)] if n else [[]] * shape[0]
            out_shape = (self._depth(),) if len(shape) == 1 else (len(rows), self._depth())
            return _host.make(self.encode_rows(rows), out_shape, D.float32)
        return encode(idx, shp, self.output_mode, self._depth(), op)

    def _call_ragged(self, inputs, op: str):
        """Ragged input: "int" mode keeps the rows (a RaggedTensor); the vector modes encode each row."""
        if self.output_mode == "int":
            return inputs.with_flat_values(self.call(inputs.flat_values))
        if self.output_mode == "one_hot":
            raise ValueError(f"{op}: output_mode='one_hot' does not take a RaggedTensor; use 'multi_hot' or 'count'")
        rows = [self.lookup_keys(r) for r in _host.ragged_rows(inputs, self._vocab_dtype, op)]
        return _host.make(self.encode_rows(rows), (len(rows), self._depth()), D.float32)

    def _invert(self, flat: list, shp: tuple):
        if self.lookup_table is None:
            raise RuntimeError(
                f"{type(self).__name__}: the layer has no vocabulary; pass `vocabulary` or call `adapt` first"
            )
        table, default = self.lookup_table._data, self.lookup_table._default[0]
        mask = self._key(self.mask_token) if self.mask_token is not None else None
        out = [mask if mask is not None and i == 0 else table.get(i, (default,))[0] for i in flat]
        return _host.make(out, shp, self._vocab_dtype)

    # -- shapes and configs ----------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = (
            self.max_tokens
            if self.pad_to_max_tokens
            else (self.vocabulary_size() if self.lookup_table is not None else None)
        )
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    def compute_output_spec(self, inputs, *args, **kwargs):
        from .input_layer import KerasTensor

        dt = (self._vocab_dtype if self.invert else D.int64) if self.output_mode == "int" else D.float32
        return KerasTensor(self.compute_output_shape(inputs.shape), dt)

    def get_config(self) -> dict:
        tokens = [self._token_out(k) for k in self._tokens] if self.lookup_table is not None else None
        idf = None
        if self.output_mode == "tf_idf" and self._idf is not None:
            start = self._token_start_index()
            idf = self._idf[: start + len(self._tokens)]
            tokens = self.get_vocabulary(include_special_tokens=True)
        config = {
            **super().get_config(),
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary": tokens,
            "idf_weights": idf,
            "vocabulary_size": self.vocabulary_size() if self.lookup_table is not None else None,
            "has_input_vocabulary": self._has_input_vocabulary,
            "oov_method": self.oov_method,
            "salt": self.salt,
        }
        config.pop("dtype", None)
        return config


def _values(v) -> list:
    """A list/tuple/array/tensor of tokens or weights as a flat Python list."""
    if isinstance(v, Variable):
        v = v.value()
    if isinstance(v, Tensor):
        return _host.flat(_host.tensor_of(v, None, "vocabulary"))
    if hasattr(v, "tolist"):
        v = v.tolist()
    return list(v)


def _batches(data, steps=None):
    """``adapt`` data: one array/list/tensor, or the batches of a dataset / iterable
    (a dataset of ``(x, y)`` pairs contributes its ``x``)."""
    from ...data import Dataset

    if isinstance(data, Dataset) or (
        hasattr(data, "__iter__")
        and not isinstance(data, (list, tuple, str, bytes, Tensor))
        and not hasattr(data, "dtype")
    ):
        for i, b in enumerate(data):
            if steps is not None and i >= steps:
                break
            yield b[0] if isinstance(b, tuple) else b
        return
    if isinstance(data, (list, tuple)) and data and not isinstance(data[0], (list, tuple)):
        data = [[x] for x in data]  # a list of samples: one token each (Keras expands rank 1 to (n, 1))
    elif hasattr(data, "shape") and len(data.shape) == 1:
        from ...ops import array as A

        data = A.expand_dims(data if isinstance(data, Tensor) else convert(data), -1)
    yield data


@register("layers")
class StringLookup(IndexLookup):
    """Strings to indices (or back with ``invert=True``); OOV strings share ``[UNK]`` or are
    hashed into ``num_oov_indices`` buckets with TF's FarmHash (SipHash with ``salt``)."""

    _vocab_dtype = D.string

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token="[UNK]",
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        encoding="utf-8",
        name=None,
        salt=None,
        **kwargs,
    ):
        if str(encoding).lower().replace("-", "") != "utf8":
            raise ValueError(f"StringLookup: only encoding='utf-8' is supported, got {encoding!r}")
        self.encoding = encoding
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens,
            sparse=sparse,
            name=name,
            salt=salt,
            **kwargs,
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "encoding": self.encoding}


@register("layers")
class IntegerLookup(IndexLookup):
    """Integers to indices (or back); OOV values go to ``value % num_oov_indices`` buckets
    (``oov_method="floormod"``) or to FarmHash buckets of their decimal strings (``"farmhash"``)."""

    _vocab_dtype = D.int64

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=-1,
        vocabulary=None,
        vocabulary_dtype="int64",
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        salt=None,
        name=None,
        **kwargs,
    ):
        if vocabulary_dtype != "int64":
            raise ValueError(
                f"IntegerLookup: only `vocabulary_dtype='int64'` is supported at this time. "
                f"Received: vocabulary_dtype={vocabulary_dtype}"
            )
        if salt is not None and oov_method != "farmhash":
            raise ValueError(
                f"IntegerLookup: `salt` can only be used when `oov_method='farmhash'`. "
                f"Received: oov_method={oov_method}"
            )
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            sparse=sparse,
            pad_to_max_tokens=pad_to_max_tokens,
            oov_method=oov_method,
            salt=salt,
            name=name,
            **kwargs,
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "vocabulary_dtype": "int64"}


# -- Hashing ------------------------------------------------------------------------------------


@register("layers")
class Hashing(Layer):
    """Values to ``num_bins`` bins by TF's FarmHash Fingerprint64 of their string form
    (SipHash with ``salt``); ``mask_value`` takes bin 0 and the rest hash into the others."""

    _eager_only = True

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(autocast=False, **kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(
                f"Hashing: the `num_bins` cannot be `None` or non-positive values. Received: num_bins={num_bins}."
            )
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(
                f"Hashing: invalid value for argument `output_mode`. Expected one of ('int', "
                f"'one_hot', 'multi_hot', 'count'). Received: output_mode={output_mode}"
            )
        if output_mode == "int" and self.dtype not in (D.int32, D.int64):
            raise ValueError(
                f"Hashing: when `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' or "
                f"'int64'. Received: dtype={self.dtype.name}"
            )
        if sparse:
            raise ValueError("Hashing: sparse=True is not supported here (no tf.SparseTensor output yet)")
        self.num_bins, self.mask_value, self.output_mode, self.sparse = int(num_bins), mask_value, output_mode, False
        self.salt = _salt(salt, "Hashing")
        self.strong_hash = self.salt is not None

    def _convert_input(self, x):
        return x

    def _bins(self, flat: list, dtype: D.DType) -> list:
        if dtype.is_floating:
            flat = [int(v) for v in flat]  # Keras casts floats to int64 before hashing
        bins, mask = self.num_bins, None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = _host.key_of(self.mask_value, D.string if dtype is D.string else D.int64)
        return [
            0 if mask is not None and v == mask else hash_bucket(as_string(v), bins, self.salt) + (mask is not None)
            for v in flat
        ]

    def call(self, inputs):
        if _host.is_ragged(inputs):
            if self.output_mode == "int":
                return inputs.with_flat_values(self.call(inputs.flat_values))
            if self.output_mode == "one_hot":
                raise ValueError("Hashing: output_mode='one_hot' does not take a RaggedTensor")
            rows = [self._bins(r, inputs.dtype) for r in _host.ragged_rows(inputs, None, "Hashing")]
            return _host.make(
                encode_rows(rows, self.output_mode, self.num_bins, "Hashing"), (len(rows), self.num_bins), self.dtype
            )
        t = inputs if isinstance(inputs, Tensor) else convert(inputs, op="Hashing")
        t = _host.tensor_of(t, None, "Hashing")
        shp = _host.shape(t)
        out = self._bins(_host.flat(t), t.dtype)
        if self.output_mode == "int":
            return _host.make(out, shp, self.dtype)
        if self.output_mode == "one_hot" and shp and shp[-1] == 1:
            shp = shp[:-1]
        return encode(out, shp, self.output_mode, self.num_bins, "Hashing", dtype=self.dtype)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        if not input_shape:
            return (self.num_bins,)
        return input_shape[:-1] + (self.num_bins,)

    def compute_output_spec(self, inputs, *args, **kwargs):
        from .input_layer import KerasTensor

        return KerasTensor(self.compute_output_shape(inputs.shape), self.dtype)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_bins": self.num_bins,
            "salt": self.salt,
            "mask_value": self.mask_value,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }


# -- CategoryEncoding -----------------------------------------------------------------------------


@register("layers")
class CategoryEncoding(Layer):
    """Integer features in ``[0, num_tokens)`` as one-hot / multi-hot / count vectors; ``count``
    mode takes per-value ``count_weights``. An out-of-range value is an error."""

    _eager_only = True

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"CategoryEncoding: unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError(
                "CategoryEncoding: num_tokens must be set to use this layer. If the number of tokens "
                "is not known beforehand, use the IntegerLookup layer instead."
            )
        if num_tokens < 1:
            raise ValueError(f"CategoryEncoding: `num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError("CategoryEncoding: sparse=True is not supported here (no tf.SparseTensor output yet)")
        self.num_tokens, self.output_mode, self.sparse = int(num_tokens), output_mode, False

    def _convert_input(self, x):
        return x

    def call(self, inputs, count_weights=None):
        if _host.is_ragged(inputs):
            if self.output_mode == "one_hot":
                raise ValueError("CategoryEncoding: output_mode='one_hot' does not take a RaggedTensor")
            rows = [[int(v) for v in r] for r in _host.ragged_rows(inputs, None, "CategoryEncoding")]
            w = None if count_weights is None else _host.ragged_rows(count_weights, None, "CategoryEncoding")
            return _host.make(
                encode_rows(rows, self.output_mode, self.num_tokens, "CategoryEncoding", w),
                (len(rows), self.num_tokens),
                self.dtype,
            )
        t = inputs if isinstance(inputs, Tensor) else convert(inputs, op="CategoryEncoding")
        t = _host.tensor_of(t, None, "CategoryEncoding")
        if not (t.dtype.is_integer or t.dtype.is_floating):
            raise TypeError(f"CategoryEncoding: expects integer inputs, got {t.dtype.name} {_host.shape(t)}")
        flat = [int(v) for v in _host.flat(t)]
        weights, dtype = None, self.dtype
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    f"CategoryEncoding: `count_weights` is not used when `output_mode` is not "
                    f"`'count'`. Received `count_weights={count_weights}`."
                )
            w = _host.tensor_of(
                count_weights if isinstance(count_weights, Tensor) else convert(count_weights, self.dtype),
                None,
                "CategoryEncoding",
            )
            if _host.shape(w) != _host.shape(t):
                raise InvalidArgumentError(
                    f"CategoryEncoding: count_weights shape {_host.shape(w)} must match the "
                    f"inputs' shape {_host.shape(t)}"
                )
            weights, dtype = [float(v) for v in _host.flat(w)], w.dtype
        return encode(flat, _host.shape(t), self.output_mode, self.num_tokens, "CategoryEncoding", weights, dtype)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if not input_shape:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return input_shape + (self.num_tokens,)
        return input_shape[:-1] + (self.num_tokens,)

    def compute_output_spec(self, inputs, *args, **kwargs):
        from .input_layer import KerasTensor

        return KerasTensor(self.compute_output_shape(inputs.shape), self.dtype)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_tokens": self.num_tokens,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }

"""``TextVectorization``: strings -> standardized -> split into tokens -> n-grams -> indices
(a ``StringLookup`` with mask ``""``) -> ``int`` sequences or multi-hot/count/tf-idf vectors.

Keras 3 semantics. Standardizing uses ``tf.strings`` (ASCII ``lower``, Keras's punctuation
regex); splitting and n-grams run on the host strings, so no ragged tensor is needed; the
``int`` output is padded with 0 to the longest row (or cut/padded to ``output_sequence_length``).
"""

from __future__ import annotations

from ... import dtypes as D
from ... import strings as S
from ...lookup import _host
from ...tensor import is_tensor
from ..saving import register
from .category_layers import StringLookup, _batches, as_tensor
from .layer import Layer

PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'  # Keras's DEFAULT_STRIP_REGEX
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")


def _check_option(value, allowed, what: str) -> None:
    if value is None or callable(value) or value in allowed:
        return
    raise ValueError(
        f"TextVectorization: {what} must be one of {list(allowed)}, None or a callable. Received: {what}={value!r}"
    )


def _rows_from(out, op: str) -> list:
    """A custom split's result (a RaggedTensor, a rank-2 string tensor or lists) as token rows."""
    if hasattr(out, "to_list") and not is_tensor(out):
        return [[_host.key_of(v, D.string) for v in row] for row in out.to_list()]
    if is_tensor(out):
        t = as_tensor(out, D.string, op)
        shp, flat = _host.shape(t), _host.flat(t)
        if len(shp) != 2:
            raise ValueError(f"{op}: a custom `split` must return one row of tokens per input, got shape {shp}")
        return [flat[i * shp[1] : (i + 1) * shp[1]] for i in range(shp[0])]
    return [[_host.key_of(v, D.string) for v in row] for row in out]


def ngram_rows(rows: list, widths: tuple) -> list:
    """Each row's n-grams for every width in turn, joined by a space (``tf.strings.ngrams``)."""
    return [[b" ".join(row[i : i + n]) for n in widths for i in range(len(row) - n + 1)] for row in rows]


@register("layers")
class TextVectorization(Layer):
    """Maps raw strings to token indices (``output_mode="int"``) or to per-document vectors over
    the vocabulary (``"multi_hot"``, ``"count"``, ``"tf_idf"``). Learn the vocabulary with
    ``adapt`` or pass ``vocabulary=``; index 0 is the padding/mask token ``""``, 1 is ``[UNK]``."""

    _eager_only = True

    def __init__(
        self,
        max_tokens=None,
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        ngrams=None,
        output_mode="int",
        output_sequence_length=None,
        pad_to_max_tokens=False,
        vocabulary=None,
        idf_weights=None,
        sparse=False,
        ragged=False,
        encoding="utf-8",
        name=None,
        **kwargs,
    ):
        _check_option(standardize, _STANDARDIZE, "standardize")
        _check_option(split, _SPLIT, "split")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in ("int", "one_hot", "multi_hot", "count", "tf_idf"):
            raise ValueError(
                f"TextVectorization: invalid value for argument `output_mode`. Expected one of "
                f"['int', 'one_hot', 'multi_hot', 'count', 'tf_idf']. Received: {output_mode!r}"
            )
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (
            ngrams is None
            or (isinstance(ngrams, int) and not isinstance(ngrams, bool) and ngrams > 0)
            or (isinstance(ngrams, tuple) and all(isinstance(n, int) and n > 0 for n in ngrams))
        ):
            raise ValueError(
                f"TextVectorization: `ngrams` must be None, an integer, or a tuple of integers. "
                f"Received: ngrams={ngrams}"
            )
        if output_mode == "int" and not (output_sequence_length is None or isinstance(output_sequence_length, int)):
            raise ValueError(
                f"TextVectorization: `output_sequence_length` must be either None or an integer when "
                f"`output_mode` is 'int'. Received: output_sequence_length={output_sequence_length}"
            )
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(
                f"TextVectorization: `output_sequence_length` must not be set if `output_mode` is not "
                f"'int'. Received output_sequence_length={output_sequence_length}."
            )
        if output_mode == "one_hot" and split is not None:
            raise ValueError(
                "TextVectorization: output_mode='one_hot' needs split=None here (one token per "
                "input); use 'multi_hot' or 'count' for split text"
            )
        if sparse:
            raise ValueError("TextVectorization: sparse=True is not supported here")
        if ragged and output_mode != "int":
            raise ValueError(
                f"TextVectorization: `ragged` must not be true if `output_mode` is not 'int'. "
                f"Received: ragged={ragged} and output_mode={output_mode}"
            )
        has_vocab = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("vocabulary_size", None)
        kwargs.pop("dtype", None)
        super().__init__(name=name, autocast=False, **kwargs)
        self._standardize, self._split, self._ngrams_arg = standardize, split, ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._output_mode, self._output_sequence_length = output_mode, output_sequence_length
        self._encoding, self._ragged = encoding, bool(ragged)
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens,
            mask_token="",
            output_mode=output_mode,
            encoding=encoding,
            has_input_vocabulary=has_vocab,
        )

    # -- vocabulary ------------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary (and document frequencies) from strings: an array, a list, a
        tensor, or a dataset of batches."""
        self._lookup_layer.reset_state()
        for batch in _batches(data, steps):
            self.update_state(batch)
        self._lookup_layer.finalize_state()

    def update_state(self, data) -> None:
        self._lookup_layer.update_rows(self._rows(data)[0])

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # -- preprocessing ---------------------------------------------------------------------------
    def _standardized(self, inputs):
        t = as_tensor(inputs, D.string, "TextVectorization")
        if self._standardize in ("lower", "lower_and_strip_punctuation"):
            t = S.lower(t)
        if self._standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            t = S.regex_replace(t, PUNCTUATION, "")
        if callable(self._standardize):
            t = as_tensor(self._standardize(t), D.string, "TextVectorization standardize")
        return t

    def _rows(self, inputs):
        """(token rows, whether the input was a scalar) after standardize, split and n-grams."""
        t = self._standardized(inputs)
        shp = _host.shape(t)
        scalar = not shp
        if self._split is None:
            flat = _host.flat(t)
            n = 1 if len(shp) <= 1 else shp[-1]
            if len(shp) > 2:
                raise ValueError(f"TextVectorization: inputs of rank <= 2 are supported, got shape {shp}")
            rows = [flat[i : i + n] for i in range(0, len(flat), n)]
        else:
            if len(shp) > 1:
                if shp[-1] != 1 or len(shp) > 2:
                    raise ValueError(
                        f"When using `TextVectorization` to tokenize strings, the input rank must be "
                        f"1 or the last shape dimension must be 1. Received: inputs.shape={shp} with "
                        f"rank={len(shp)}"
                    )
            flat = _host.flat(t)
            if self._split == "whitespace":
                rows = [s.split() for s in flat]
            elif self._split == "character":
                rows = [[c.encode("utf-8") for c in s.decode("utf-8", "replace")] for s in flat]
            else:
                from ...ops import array as A

                vec = A.reshape(t, (len(flat),))
                rows = _rows_from(self._split(vec), "TextVectorization split")
        if self._ngrams is not None:
            rows = ngram_rows(rows, self._ngrams)
        return rows, scalar

    def _convert_input(self, x):
        return x

    def call(self, inputs):
        rows, scalar = self._rows(inputs)
        lk = self._lookup_layer
        idx = [lk.lookup_keys(r) for r in rows]
        if self._output_mode == "int" and self._ragged:
            from ...ragged.tensor import RaggedTensor

            cut = [r[: self._output_sequence_length] if self._output_sequence_length is not None else r for r in idx]
            values = _host.make([v for r in cut for v in r], (sum(len(r) for r in cut),), D.int64)
            return RaggedTensor.from_row_lengths(values, [len(r) for r in cut])
        if self._output_mode == "int":
            width = self._output_sequence_length
            if width is None:
                width = max((len(r) for r in idx), default=0)
            flat = [v for r in idx for v in (r[:width] + [0] * max(0, width - len(r)))]
            return _host.make(flat, (width,) if scalar else (len(idx), width), D.int64)
        if self._output_mode == "one_hot":
            from .category_layers import encode

            return encode([r[0] for r in idx], (len(idx),), "one_hot", lk._depth(), "TextVectorization")
        vals = lk.encode_rows(idx)
        depth = lk._depth()
        return _host.make(vals, (depth,) if scalar else (len(idx), depth), D.float32)

    # -- shapes and configs ----------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        batch = input_shape[0] if input_shape else None
        if self._output_mode == "int":
            return (batch, self._output_sequence_length)
        return (batch, self._lookup_layer.compute_output_shape((batch, None))[-1])

    def compute_output_spec(self, inputs, *args, **kwargs):
        from .input_layer import KerasTensor

        return KerasTensor(
            self.compute_output_shape(inputs.shape), D.int64 if self._output_mode == "int" else D.float32
        )

    def get_config(self) -> dict:
        from ..saving import serialize_keras_object

        lk = self._lookup_layer
        inner = lk.get_config()
        config = {
            **super().get_config(),
            "max_tokens": lk.max_tokens,
            "standardize": self._standardize
            if not callable(self._standardize)
            else serialize_keras_object(self._standardize),
            "split": self._split if not callable(self._split) else serialize_keras_object(self._split),
            "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lk.pad_to_max_tokens,
            "sparse": False,
            "ragged": self._ragged,
            "vocabulary": inner["vocabulary"],
            "idf_weights": inner["idf_weights"],
            "encoding": self._encoding,
            "vocabulary_size": inner["vocabulary_size"],
            "has_input_vocabulary": inner["has_input_vocabulary"],
        }
        config.pop("dtype", None)
        return config

    @classmethod
    def from_config(cls, config: dict):
        from ..saving import deserialize_keras_object

        config = dict(config)
        for key in ("standardize", "split"):
            if config.get(key) is not None and not isinstance(config[key], str):
                config[key] = deserialize_keras_object(config[key])
        return cls(**config)

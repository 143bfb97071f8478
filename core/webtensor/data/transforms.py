"""Dataset transformations. Each is a node over its input(s), evaluated lazily per pass.

Order-only nodes (shuffle, repeat, take, skip, shard, prefetch, cache) and filter
keep an input's index plan, so ``batch`` after them still gathers from the source.
"""

from __future__ import annotations

import itertools
import os
import random

from .. import nest
from .. import dtypes as D
from .. import errors as tf_errors
from ..errors import InvalidArgumentError
from ..ops import array as A
from ..ops.random import _key
from ..shape import TensorShape
from ..spec import TensorSpec
from ..tensor import Tensor, convert
from . import structure as S
from .dataset import AUTOTUNE, INFINITE, UNKNOWN, Dataset


def _count(v, op: str, what: str) -> int:
    if isinstance(v, Tensor):
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{op}: `{what}` must be an integer, got {v!r}")
    return v


def _check_callable(fn, op: str, what: str = "map_func"):
    if not callable(fn):
        raise TypeError(f"{op}: `{what}` must be callable, got {type(fn).__name__}")


def _trace(fn, ds: Dataset, op: str):
    """The structure of ``fn``'s output. TF traces the function on the input spec; we run it on
    stand-ins of that spec twice (zeros with unknown dims 1, then ones with unknown dims 2) and
    mark output dims that differ as unknown, so sizes that follow the input's unknown dims or
    its values come out None. A function that fails on zeros is run on the first real element."""
    spec = ds.element_spec
    try:
        first = S.spec_of(S.normalize_output(S.call(fn, S.dummy(spec, 1, 0)), op))
    except Exception:
        for e in ds._iterate():
            return S.spec_of(S.normalize_output(S.call(fn, e), op))
        raise
    try:
        second = S.spec_of(S.normalize_output(S.call(fn, S.dummy(spec, 2, 1)), op))
    except Exception:
        return first
    return S.relax_structure(first, second, op)


# -- nodes that only select or reorder their input ---------------------------------------------


class _Reorder(Dataset):
    """Applies ``_reorder`` to a fresh stream of the input: indices on a plan, else elements."""

    def __init__(self, input: Dataset):
        self._input = input

    def _source(self):
        return self._input._source()

    def _indices(self):
        return self._reorder(self._input._indices)

    def _elements(self):
        return self._reorder(self._input._iterate)

    def _spec(self):
        return self._input.element_spec

    def _card(self) -> int:
        return self._input._card()

    def _reorder(self, make):
        return make()


def _shuffled(items, buffer_size: int, rng: random.Random):
    """TF's shuffle buffer: fill ``buffer_size`` items, then emit a random one and refill its slot."""
    buf = list(itertools.islice(items, buffer_size))
    if len(buf) == buffer_size:
        for x in items:
            j = rng.randrange(buffer_size)
            yield buf[j]
            buf[j] = x
    rng.shuffle(buf)
    yield from buf


class ShuffleDataset(_Reorder):
    """Seeded like tf.random (global seed + op seed); each pass uses the next epoch's order unless
    ``reshuffle_each_iteration`` is False."""

    def __init__(self, input, buffer_size, seed, reshuffle_each_iteration):
        super().__init__(input)
        self._buffer = _count(buffer_size, "shuffle", "buffer_size")
        if self._buffer <= 0:
            raise InvalidArgumentError(f"shuffle: buffer_size must be greater than zero, got {self._buffer}")
        k0, k1 = _key(seed)
        self._seed = (k0 << 96) | (k1 << 64)
        self._reshuffle = True if reshuffle_each_iteration is None else bool(reshuffle_each_iteration)
        self._epoch = 0

    def _reorder(self, make):
        rng = random.Random(self._seed | self._epoch)
        if self._reshuffle:
            self._epoch += 1
        return _shuffled(make(), self._buffer, rng)


class RepeatDataset(_Reorder):
    def __init__(self, input, count):
        super().__init__(input)
        c = -1 if count is None else _count(count, "repeat", "count")
        self._times = None if c < 0 else c

    def _reorder(self, make):
        def passes():
            k = 0
            while self._times is None or k < self._times:
                empty = True
                for x in make():
                    empty = False
                    yield x
                if empty:  # repeating an empty dataset ends, as in TF
                    return
                k += 1

        return passes()

    def _card(self) -> int:
        n = self._input._card()
        if self._times is None:
            return 0 if n == 0 else INFINITE
        if self._times == 0:
            return 0
        return n if n < 0 else n * self._times


class TakeDataset(_Reorder):
    def __init__(self, input, count):
        super().__init__(input)
        self._n = _count(count, "take", "count")

    def _reorder(self, make):
        return make() if self._n < 0 else itertools.islice(make(), self._n)

    def _card(self) -> int:  # TF's rule, including take(-2) -> -2
        n = self._input._card()
        if n == UNKNOWN:
            return UNKNOWN
        if n == INFINITE:
            return self._n
        return n if self._n == -1 else min(n, self._n)


class SkipDataset(_Reorder):
    def __init__(self, input, count):
        super().__init__(input)
        self._n = _count(count, "skip", "count")

    def _reorder(self, make):
        if self._n < 0:  # skip everything: the input is still run to its end, as in TF
            return _drained(make())
        return itertools.islice(make(), self._n, None)

    def _card(self) -> int:
        n = self._input._card()
        if n < 0:
            return n
        return 0 if self._n < 0 else max(0, n - self._n)


def _drained(items):
    for _ in items:
        pass
    return
    yield


class ShardDataset(_Reorder):
    def __init__(self, input, num_shards, index):
        super().__init__(input)
        self._k = _count(num_shards, "shard", "num_shards")
        self._i = _count(index, "shard", "index")
        if self._k <= 0 or not 0 <= self._i < self._k:
            raise InvalidArgumentError(
                f"shard: need num_shards > 0 and 0 <= index < num_shards; got num_shards={self._k}, index={self._i}"
            )

    def _reorder(self, make):
        return itertools.islice(make(), self._i, None, self._k)

    def _card(self) -> int:
        n = self._input._card()
        return n if n < 0 else n // self._k + (1 if n % self._k > self._i else 0)


class PrefetchDataset(_Reorder):
    """Natively, a background thread produces up to ``buffer_size`` elements (AUTOTUNE: 4) ahead
    of the consumer, so input work overlaps training. In the page (no threads) elements are
    produced on demand in the caller's thread. Over an index plan it passes the plan through."""

    def __init__(self, input, buffer_size):
        super().__init__(input)
        n = _count(buffer_size, "prefetch", "buffer_size")
        if n < 0 and n != AUTOTUNE:
            raise InvalidArgumentError(f"prefetch: buffer_size must be >= 0 or tf.data.AUTOTUNE, got {n}")
        self._n = 4 if n == AUTOTUNE else n

    def _elements(self):
        from .threads import background, threads_available

        if self._n == 0 or not threads_available():
            return self._input._iterate()
        return background(self._input._iterate, self._n)


class AssertCardinalityDataset(_Reorder):
    """``tf.data.experimental.assert_cardinality``: states the length (for ``len`` and Keras's
    progress bar) and checks it as the elements go by."""

    def __init__(self, input, expected):
        super().__init__(input)
        self._n = _count(expected, "assert_cardinality", "expected_cardinality")

    def _reorder(self, make):
        n = self._n

        def checked():
            k = 0
            for x in make():
                k += 1
                if n >= 0 and k > n:
                    raise tf_errors.FailedPreconditionError(
                        f"Input dataset was expected to contain {n} elements but contained at least {k} elements."
                    )
                yield x
            if n == INFINITE or k < n:
                raise tf_errors.FailedPreconditionError(
                    f"Input dataset was expected to contain {_card_name(n)} but contained only {k} elements."
                )

        return checked()

    def _card(self) -> int:
        return self._n


def _card_name(n: int) -> str:
    return "an infinite number of elements" if n == INFINITE else f"{n} elements"


class CacheDataset(_Reorder):
    """Keeps the first complete pass and replays it (a partial pass is discarded, as in TF).
    In memory, an index plan keeps only the index order (the source holds the data); with a
    ``filename`` the elements go to ``<filename>.safetensors``, which later passes and later
    processes read instead of running the input again."""

    def __init__(self, input, filename):
        super().__init__(input)
        self._file = os.fspath(filename) + ".safetensors" if filename else None
        self._store = None

    def _source(self):
        return None if self._file else self._input._source()

    def _reorder(self, make):
        if self._store is None and self._file and os.path.exists(self._file):
            self._store = self._load()
        if self._store is not None:
            return iter(self._store)

        def record():
            buf = []
            for x in make():
                buf.append(x)
                yield x
            if self._file:
                self._save(buf)
            self._store = buf

        return record()

    def _save(self, elements: list) -> None:
        from ..saving import save_file

        tensors = {f"{i}/{c}": t for i, e in enumerate(elements) for c, t in enumerate(nest.flatten(e))}
        save_file(self._file, tensors, {"format": _CACHE_FORMAT, "elements": str(len(elements))})

    def _load(self) -> list:
        from ..saving import load_file

        meta, tensors = load_file(self._file)
        if meta.get("format") != _CACHE_FORMAT:
            raise InvalidArgumentError(
                f"cache: {self._file} is not a dataset cache file (format "
                f"{meta.get('format')!r}); delete it or choose another filename"
            )
        spec = self.element_spec
        k = len(nest.flatten(spec))
        try:
            return [
                nest.pack_sequence_as(spec, [tensors[f"{i}/{c}"] for c in range(k)])
                for i in range(int(meta["elements"]))
            ]
        except KeyError as e:
            raise InvalidArgumentError(
                f"cache: {self._file} does not match this dataset's element structure {spec} (missing {e})"
            ) from None


_CACHE_FORMAT = "webtensor.data.cache/1"


# -- nodes that compute new elements ------------------------------------------------------------


class MapDataset(Dataset):
    """``num_parallel_calls`` (a count or AUTOTUNE) runs ``map_func`` on a thread pool natively;
    results keep the input order unless ``deterministic=False``."""

    def __init__(self, input, fn, num_parallel_calls=None, deterministic=None):
        _check_callable(fn, "map")
        self._input, self._fn = input, fn
        n = None if num_parallel_calls is None else _count(num_parallel_calls, "map", "num_parallel_calls")
        if n is not None and n <= 0 and n != AUTOTUNE:
            raise InvalidArgumentError(f"map: num_parallel_calls must be positive or tf.data.AUTOTUNE, got {n}")
        self._parallel, self._deterministic = n, deterministic
        self._pool_size = None  # tf.data.Options().threading.private_threadpool_size, set by with_options

    def _elements(self):
        from .threads import WORKERS, parallel_map, threads_available

        fn = self._fn
        if self._parallel not in (None, 1) and threads_available():
            workers = self._pool_size or (WORKERS if self._parallel == AUTOTUNE else self._parallel)
            yield from parallel_map(
                self._input._iterate,
                lambda e: S.normalize_output(S.call(fn, e), "map"),
                workers,
                self._deterministic is not False,
            )
            return
        for e in self._input._iterate():
            yield S.normalize_output(S.call(fn, e), "map")

    def _spec(self):
        return _trace(self._fn, self._input, "map")

    def _card(self) -> int:
        return self._input._card()


class FilterDataset(Dataset):
    """Keeps the input's index plan: the predicate sees element(i) and the index passes through."""

    def __init__(self, input, predicate):
        _check_callable(predicate, "filter", "predicate")
        self._input, self._pred = input, predicate

    def _keep(self, e) -> bool:
        v = S.call(self._pred, e)
        if isinstance(v, bool):
            return v
        t = v if isinstance(v, Tensor) else convert(v, op="filter")
        if t.dtype is not D.bool_ or t.shape.rank != 0:
            raise InvalidArgumentError(
                f"filter: `predicate` must return a scalar boolean tensor, got shape {t.shape} dtype {t.dtype.name}"
            )
        return bool(t)

    def _source(self):
        return self._input._source()

    def _indices(self):
        src = self._source()
        return (i for i in self._input._indices() if self._keep(src.element(i)))

    def _elements(self):
        return (e for e in self._input._iterate() if self._keep(e))

    def _spec(self):
        return self._input.element_spec


class FlatMapDataset(Dataset):
    def __init__(self, input, fn):
        _check_callable(fn, "flat_map")
        self._input, self._fn = input, fn

    def _inner(self, e) -> Dataset:
        ds = S.call(self._fn, e)
        if not isinstance(ds, Dataset):
            raise TypeError(f"flat_map: `map_func` must return a Dataset, got {type(ds).__name__}")
        return ds

    def _elements(self):
        for e in self._input._iterate():
            yield from self._inner(e)._iterate()

    def _spec(self):
        try:
            return self._inner(S.dummy(self._input.element_spec, 1, 0)).element_spec
        except Exception:
            for e in self._input._iterate():
                return self._inner(e).element_spec
            raise


class BatchDataset(Dataset):
    def __init__(self, input, batch_size, drop_remainder):
        self._input = input
        self._size = _count(batch_size, "batch", "batch_size")
        if self._size <= 0:
            raise InvalidArgumentError(f"batch: batch_size must be greater than zero, got {self._size}")
        self._drop = bool(drop_remainder)

    def _elements(self):
        src = self._input._source()
        stream = self._input._indices() if src is not None else self._input._iterate()
        combine = src.gather if src is not None else S.stack
        n = self._size
        while True:
            chunk = list(itertools.islice(stream, n))
            if not chunk or (self._drop and len(chunk) < n):
                return
            yield combine(chunk)

    def _spec(self):
        lead = self._size if self._drop else None
        return nest.map_structure(
            lambda s: (
                TensorSpec(None if s.shape.rank is None else [lead] + list(s.shape), s.dtype)
                if isinstance(s, TensorSpec)
                else _rd().batched(s, lead)
            ),
            self._input.element_spec,
        )

    def _card(self) -> int:
        n = self._input._card()
        if n < 0:
            return n
        return n // self._size if self._drop else -(-n // self._size)


class PaddedBatchDataset(BatchDataset):
    """Batches elements whose shapes differ by padding each component up to ``padded_shapes``
    (a ``None`` dim, or no ``padded_shapes`` at all, pads to the longest in the batch)."""

    def __init__(self, input, batch_size, padded_shapes, padding_values, drop_remainder):
        super().__init__(input, batch_size, drop_remainder)
        spec = nest.map_structure(_rd().dense_view, input.element_spec)  # rows of ragged: dense
        flat = nest.flatten(spec)
        if not all(isinstance(s, TensorSpec) for s in flat):
            raise TypeError(
                f"padded_batch: only supported for datasets of tensor elements, but the element "
                f"spec is {spec}; use ragged_batch for RaggedTensor components"
            )
        shapes = [None] * len(flat) if padded_shapes is None else _leaves_like(spec, padded_shapes)
        self._shapes = [
            TensorShape([None] * s.shape.rank) if p is None else TensorShape(p) for s, p in zip(flat, shapes)
        ]
        for s, p in zip(flat, self._shapes):
            if not p.is_compatible_with([None] * (s.shape.rank or 0)) or not all(
                a is None or b is None or b <= a for a, b in zip(p, s.shape)
            ):
                raise InvalidArgumentError(f"padded_batch: padded shape {p} does not fit elements of shape {s.shape}")
        values = padding_values
        if values is None or not nest.is_nested(values):
            values = [values] * len(flat)
        else:
            values = _leaves_like(spec, values)
        self._pads = [convert(0 if v is None else v, s.dtype, op="padded_batch") for s, v in zip(flat, values)]

    def _elements(self):
        stream = self._input._iterate()
        n = self._size
        while True:
            chunk = list(itertools.islice(stream, n))
            if not chunk or (self._drop and len(chunk) < n):
                return
            yield self._pad_stack(chunk)

    def _pad_stack(self, chunk: list):
        flats = [nest.flatten(e) for e in chunk]
        out = []
        for c, (target, pad) in enumerate(zip(self._shapes, self._pads)):
            parts = [f[c] for f in flats]
            want = [d if d is not None else max(p.shape[i] for p in parts) for i, d in enumerate(target)]
            padded = []
            for p in parts:
                if p.shape.rank != len(want) or any(h > w for h, w in zip(p.shape, want)):
                    raise InvalidArgumentError(
                        f"padded_batch: attempted to pad component {c} of shape "
                        f"{p.shape} to the smaller shape {tuple(want)}"
                    )
                extra = [(0, w - h) for h, w in zip(p.shape, want)]
                padded.append(A.pad(p, extra, constant_values=pad) if any(e for _, e in extra) else p)
            out.append(A.stack(padded))
        return nest.pack_sequence_as(chunk[0], out)

    def _spec(self):
        lead = self._size if self._drop else None
        flat = nest.flatten(self._input.element_spec)
        return nest.pack_sequence_as(
            self._input.element_spec, [TensorSpec([lead] + list(p), s.dtype) for s, p in zip(flat, self._shapes)]
        )


def _leaves_like(spec, value) -> list:
    """``value``'s parts at the positions of ``spec``'s TensorSpec leaves (shapes are lists, so
    ``nest.flatten`` cannot be used on them)."""
    if isinstance(spec, TensorSpec):
        return [value]
    if isinstance(spec, dict):
        return [x for k in sorted(spec) for x in _leaves_like(spec[k], value[k])]
    if not isinstance(value, (tuple, list)) or len(value) != len(spec):
        raise ValueError(f"padded_batch: {value!r} does not match the element structure {spec}")
    return [x for s, v in zip(spec, value) for x in _leaves_like(s, v)]


class UnbatchDataset(Dataset):
    def __init__(self, input):
        self._input = input
        self._spec_cache = self._spec()  # scalar components are an error here, as in TF

    def _elements(self):
        for e in self._input._iterate():
            flat = nest.flatten(e)
            n = _leading(flat)
            cols = [_rd().unstack(t) if not isinstance(t, Tensor) else A.unstack(t) for t in flat]
            for j in range(n):
                yield nest.pack_sequence_as(e, [c[j] for c in cols])

    def _spec(self):
        spec = self._input.element_spec
        for s in nest.flatten(spec):
            if s.shape.rank == 0:
                raise InvalidArgumentError(f"unbatch: every component needs rank >= 1; element spec is {spec}")
        return nest.map_structure(lambda s: TensorSpec(s.shape[1:] if s.shape.rank else None, s.dtype), spec)


def _leading(flat: list) -> int:
    if any(t.shape.rank == 0 for t in flat):
        raise InvalidArgumentError(
            "unbatch: input element must have a non-scalar value in each component; "
            f"got shapes {[tuple(t.shape) for t in flat]}"
        )
    n = flat[0].shape[0]
    if any(t.shape[0] != n for t in flat):
        raise InvalidArgumentError(
            "unbatch: all components must have the same size in dimension 0; got "
            f"shapes {[tuple(t.shape) for t in flat]}"
        )
    return n


class ZipDataset(Dataset):
    """Zipping datasets that each read their own source in order is itself a source."""

    def __init__(self, datasets):
        _check_datasets(datasets)
        self._struct = datasets
        self._inputs = nest.flatten(datasets)
        if not self._inputs:
            raise ValueError("zip: give at least one dataset")

    def _source(self):
        return self if all(d._source() is d for d in self._inputs) else None

    def _indices(self):
        return iter(range(self._card()))

    def element(self, i: int):
        return nest.pack_sequence_as(self._struct, [d.element(i) for d in self._inputs])

    def gather(self, idx: list):
        return nest.pack_sequence_as(self._struct, [d.gather(idx) for d in self._inputs])

    def _elements(self):
        for es in zip(*[d._iterate() for d in self._inputs]):
            yield nest.pack_sequence_as(self._struct, list(es))

    def _spec(self):
        return nest.pack_sequence_as(self._struct, [d.element_spec for d in self._inputs])

    def _card(self) -> int:
        ns = [d._card() for d in self._inputs]
        if UNKNOWN in ns:
            return UNKNOWN
        finite = [n for n in ns if n >= 0]
        return min(finite) if finite else INFINITE


def _check_datasets(s):
    if isinstance(s, list):
        raise TypeError(
            "zip: `datasets` must be a (nested) tuple or dict of Datasets; a Python list is "
            "not supported, use a tuple instead"
        )
    if isinstance(s, dict):
        for v in s.values():
            _check_datasets(v)
    elif isinstance(s, tuple):
        for v in s:
            _check_datasets(v)
    elif not isinstance(s, Dataset):
        raise TypeError(f"zip: expected Datasets, got {type(s).__name__}")


class ConcatenateDataset(Dataset):
    def __init__(self, first, second):
        if not isinstance(second, Dataset):
            raise TypeError(f"concatenate: expected a Dataset, got {type(second).__name__}")
        self._a, self._b = first, second
        self._spec_cache = S.relax_structure(first.element_spec, second.element_spec, "concatenate")

    def _elements(self):
        return itertools.chain(self._a._iterate(), self._b._iterate())

    def _spec(self):
        return self._spec_cache

    def _card(self) -> int:
        a, b = self._a._card(), self._b._card()
        if INFINITE in (a, b):
            return INFINITE
        return UNKNOWN if UNKNOWN in (a, b) else a + b


class EnumerateDataset(Dataset):
    def __init__(self, input, start):
        self._input = input
        self._start = _count(start, "enumerate", "start")

    def _elements(self):
        for i, e in enumerate(self._input._iterate(), self._start):
            yield S.int64_scalar(i), e

    def _spec(self):
        return TensorSpec((), D.int64), self._input.element_spec

    def _card(self) -> int:
        return self._input._card()


def _rd():
    from ..ragged import data

    return data

"""More ``tf.data`` nodes: ``window``, ``interleave``, ``scan``, ``unique``, ``list_files``,
``Counter``, ``sample_from_datasets`` and ``choose_from_datasets``.

Window elements are datasets (one per component, as TF nests them); their spec is a
``DatasetSpec`` marker, so functions over them are traced on a real first element.
"""

from __future__ import annotations

import glob
import itertools
import os
import random

from .. import dtypes as D
from .. import nest
from ..errors import InvalidArgumentError
from ..ops.random import _key
from ..spec import TensorSpec
from ..tensor import Tensor, convert
from . import structure as S
from .dataset import INFINITE, Dataset
from .transforms import _check_callable, _count


class DatasetSpec(S._Opaque):
    """The spec of a component that is itself a dataset (what ``window`` yields)."""

    def __init__(self, element_spec):
        self.element_spec = element_spec

    def __repr__(self):
        return f"DatasetSpec({self.element_spec})"


class _ListDataset(Dataset):
    """A finite in-memory sequence of elements with a known spec (one window component)."""

    def __init__(self, items: list, spec):
        self._items, self._spec_value = items, spec

    def _elements(self):
        return iter(self._items)

    def _spec(self):
        return self._spec_value

    def _card(self) -> int:
        return len(self._items)


class WindowDataset(Dataset):
    def __init__(self, input, size, shift, stride, drop_remainder):
        self._input = input
        self._size = _count(size, "window", "size")
        self._shift = self._size if shift is None else _count(shift, "window", "shift")
        self._stride = _count(stride, "window", "stride")
        for what, v in (("size", self._size), ("shift", self._shift), ("stride", self._stride)):
            if v <= 0:
                raise InvalidArgumentError(f"window: `{what}` must be greater than zero, got {v}")
        self._drop = bool(drop_remainder)

    def _elements(self):
        span = (self._size - 1) * self._stride + 1
        buf = []
        it = self._input._iterate()
        done = False
        while True:
            while not done and len(buf) < span:
                try:
                    buf.append(next(it))
                except StopIteration:
                    done = True
            if not buf:
                return
            win = buf[:: self._stride][: self._size]
            if len(win) < self._size and (self._drop or done is False):
                return
            yield self._pack(win)
            buf = buf[self._shift :]
            if done and not buf:
                return
            if self._shift > span:  # skip the gap between windows
                for _ in range(self._shift - span):
                    if next(it, None) is None:
                        return

    def _pack(self, win):
        spec = self._input.element_spec
        comps = list(zip(*[nest.flatten(e) for e in win]))
        specs = nest.flatten(spec)
        return nest.pack_sequence_as(spec, [_ListDataset(list(c), s) for c, s in zip(comps, specs)])

    def _spec(self):
        return nest.map_structure(DatasetSpec, self._input.element_spec)


class InterleaveDataset(Dataset):
    """TF's deterministic interleave: ``cycle_length`` open inner datasets, ``block_length``
    elements from each in turn; an exhausted slot is refilled from the input on its next turn."""

    def __init__(self, input, fn, cycle_length, block_length):
        _check_callable(fn, "interleave")
        self._input, self._fn = input, fn
        cl = None if cycle_length is None else _count(cycle_length, "interleave", "cycle_length")
        self._cycle = os.cpu_count() or 1 if cl is None or cl == -1 else cl
        self._block = _count(block_length, "interleave", "block_length")
        if self._cycle <= 0 or self._block <= 0:
            raise InvalidArgumentError(
                f"interleave: cycle_length and block_length must be > 0, got {self._cycle} and {self._block}"
            )

    def _open(self, e):
        ds = S.call(self._fn, e)
        if not isinstance(ds, Dataset):
            raise TypeError(f"interleave: `map_func` must return a Dataset, got {type(ds).__name__}")
        return ds._iterate()

    def _elements(self):
        src = self._input._iterate()
        slots = [None] * self._cycle
        n_open, end, i, k = 0, False, 0, 0
        while not end or n_open:
            if slots[i] is not None:
                v = next(slots[i], _END)
                if v is not _END:
                    yield v
                    k += 1
                    if k == self._block:
                        i, k = (i + 1) % self._cycle, 0
                    continue
                slots[i], n_open = None, n_open - 1
                i, k = (i + 1) % self._cycle, 0
            elif not end:
                e = next(src, _END)
                if e is _END:
                    end = True
                else:
                    slots[i], n_open = self._open(e), n_open + 1
            else:
                i, k = (i + 1) % self._cycle, 0

    def _spec(self):
        for e in self._input._iterate():
            ds = S.call(self._fn, e)
            return ds.element_spec
        raise InvalidArgumentError("interleave: cannot learn the element spec of an empty input")


_END = object()


class ScanDataset(Dataset):
    """``scan(initial_state, fn)``: ``fn(state, element) -> (new_state, output)``."""

    def __init__(self, input, initial_state, fn):
        _check_callable(fn, "scan", "scan_func")
        self._input, self._init, self._fn = input, S.normalize_output(initial_state, "scan"), fn

    def _step(self, state, e):
        out = self._fn(state, e)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError("scan: `scan_func` must return a pair (new_state, output_element)")
        return S.normalize_output(out[0], "scan"), S.normalize_output(out[1], "scan")

    def _elements(self):
        state = self._init
        for e in self._input._iterate():
            state, out = self._step(state, e)
            yield out

    def _spec(self):
        for e in self._input._iterate():
            return S.spec_of(self._step(self._init, e)[1])
        raise InvalidArgumentError("scan: cannot learn the element spec of an empty input")

    def _card(self) -> int:
        return self._input._card()


def _key_of(e):
    if isinstance(e, bytes):
        return e
    if isinstance(e, Tensor) and e.shape.rank == 0 and e.dtype.is_integer:
        return e.numpy().item()
    raise TypeError(f"unique: elements must be scalar integers or strings, got {S.spec_of(e)}")


class UniqueDataset(Dataset):
    def __init__(self, input):
        self._input = input
        spec = input.element_spec
        ok = isinstance(spec, S.StringSpec) or (
            isinstance(spec, TensorSpec) and spec.shape.rank == 0 and spec.dtype.is_integer
        )
        if not ok:
            raise TypeError(f"unique: elements must be scalar integers or strings, got {spec}")

    def _elements(self):
        seen = set()
        for e in self._input._iterate():
            k = _key_of(e)
            if k not in seen:
                seen.add(k)
                yield e

    def _spec(self):
        return self._input.element_spec


class CounterDataset(Dataset):
    def __init__(self, start, step, dtype):
        self._start, self._step, self._dtype = int(start), int(step), D.as_dtype(dtype)

    def _elements(self):
        return (convert(v, self._dtype) for v in itertools.count(self._start, self._step))

    def _spec(self):
        return TensorSpec([], self._dtype)

    def _card(self) -> int:
        return INFINITE


def Counter(start=0, step=1, dtype=D.int64, name=None) -> Dataset:
    """``tf.data.experimental.Counter``: start, start+step, ... forever."""
    return CounterDataset(start, step, dtype)


def list_files(file_pattern, shuffle=None, seed=None, name=None) -> Dataset:
    """File names matching the glob pattern(s) as bytes elements, sorted, shuffled unless
    ``shuffle=False``; no match is ``InvalidArgumentError`` as in TF."""
    pats = [file_pattern] if isinstance(file_pattern, (str, bytes)) else list(file_pattern)
    names = sorted({n for p in pats for n in glob.glob(p.decode() if isinstance(p, bytes) else str(p))})
    if not names:
        raise InvalidArgumentError(
            f"list_files: expected the file pattern {file_pattern!r} to match at least one file, but no files matched"
        )
    ds = _ListDataset([n.encode() for n in names], S.StringSpec())
    return ds.shuffle(len(names), seed=seed) if shuffle is None or shuffle else ds


class _ChooseDataset(Dataset):
    def __init__(self, datasets, chooser, stop_on_empty, op):
        self._ds, self._chooser, self._stop, self._op = list(datasets), chooser, stop_on_empty, op
        if not self._ds:
            raise ValueError(f"{op}: `datasets` must be a non-empty list of datasets")
        specs = [d.element_spec for d in self._ds]
        for s in specs[1:]:
            S.relax_structure(specs[0], s, op)

    def _elements(self):
        its = [d._iterate() for d in self._ds]
        live = [True] * len(its)
        for i in self._chooser(live):
            if i < 0 or i >= len(its):
                raise InvalidArgumentError(f"{self._op}: choice {i} is out of range for {len(its)} datasets")
            if not live[i]:
                continue
            v = next(its[i], _END)
            if v is _END:
                if self._stop:
                    return
                live[i] = False
                if not any(live):
                    return
                continue
            yield v

    def _spec(self):
        return self._ds[0].element_spec


def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True) -> Dataset:
    """Element ``k`` comes from ``datasets[choice_dataset[k]]``."""

    def chooser(live):
        for c in choice_dataset._iterate():
            yield int(c)

    return _ChooseDataset(datasets, chooser, stop_on_empty_dataset, "choose_from_datasets")


def sample_from_datasets(
    datasets, weights=None, seed=None, stop_on_empty_dataset=False, rerandomize_each_iteration=None
) -> Dataset:
    """Each element from a dataset drawn at random by ``weights`` (seeded like tf.random;
    the draw sequence is not TF's), empty datasets dropped from the draw."""
    n = len(datasets)
    w = (
        [1.0 / n] * n
        if weights is None
        else [float(x) for x in (weights.numpy().tolist() if isinstance(weights, Tensor) else weights)]
    )
    if len(w) != n or any(x < 0 for x in w) or sum(w) <= 0:
        raise InvalidArgumentError(f"sample_from_datasets: weights {w} must be {n} non-negative numbers, not all zero")
    k0, k1 = _key(seed)

    def chooser(live):
        rng = random.Random((k0 << 64) | k1)
        while any(live):
            ww = [x if a else 0.0 for x, a in zip(w, live)]
            if sum(ww) <= 0:
                return
            yield rng.choices(range(n), ww)[0]

    return _ChooseDataset(datasets, chooser, stop_on_empty_dataset, "sample_from_datasets")


def get_single_element(dataset: Dataset):
    """The only element of ``dataset``; zero or several elements is ``InvalidArgumentError``."""
    it = dataset._iterate()
    first = next(it, _END)
    if first is _END:
        raise InvalidArgumentError("get_single_element: Dataset was empty.")
    if next(it, _END) is not _END:
        raise InvalidArgumentError("get_single_element: Dataset had more than one element.")
    return first

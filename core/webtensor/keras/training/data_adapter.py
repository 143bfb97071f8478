"""Turning ``fit``/``evaluate``/``predict`` inputs into batches.

Arrays (numpy, lists, tensors; nested in lists/tuples/dicts) are converted to
tensors once; each epoch is at most one gather (the shuffle) per array and one
slice per array per batch. ``tf.data.Dataset``s and Python iterables of batches
are iterated as they are, one pass per epoch.
"""

from __future__ import annotations

import array
import math
import random as _pyrandom
import sys

from ... import nest
from ... import dtypes as D
from ...ops import array as A
from ...ops import math as M
from ...ops.reduce import argmax
from ...composite import CompositeTensor
from ...tensor import Tensor, Variable, convert
from .. import backend
from ..layers.ragged_support import gather_rows, slice_rows


def is_dataset(x) -> bool:
    """Without importing tf.data: a Dataset exists only once its module is imported (in the
    page that import compiles ~20 modules from source, ~0.6 s of a first ``fit``)."""
    mod = sys.modules.get(__name__.rsplit(".keras.", 1)[0] + ".data.dataset")
    return mod is not None and isinstance(x, mod.Dataset)


def to_tensor(v):
    """One leaf -> Tensor; float data becomes floatx (as Keras's layers autocast it anyway)."""
    if v is None:
        return None
    if isinstance(v, CompositeTensor):
        return v  # RaggedTensor / SparseTensor: batched by rows (layers/ragged_support.py)
    t = v.value() if isinstance(v, Variable) else v if type(v) is Tensor else convert(v)
    if t.dtype.kind == "f" and t.dtype is not backend.float_dtype():
        t = M.cast(t, backend.float_dtype())
    return t


def to_tensors(structure):
    """Nested arrays -> the same structure of tensors (lists of numbers are one array)."""
    if structure is None:
        return None
    if isinstance(structure, dict):
        return {k: to_tensors(v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)) and structure and not _flat_numbers(structure):
        return (
            type(structure)(to_tensors(v) for v in structure)
            if not hasattr(structure, "_fields")
            else type(structure)(*[to_tensors(v) for v in structure])
        )
    return to_tensor(structure)


def _flat_numbers(v) -> bool:
    first = v[0]
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    return isinstance(first, (int, float, bool))


def _leaves(*structures) -> list:
    return [t for s in structures if s is not None for t in nest.flatten(s) if t is not None]


def num_samples(x, y=None, sample_weight=None) -> int:
    """The shared first dimension; differing sizes are Keras's "cardinality is ambiguous" error."""
    sizes = {
        label: [t.shape[0] if t.shape.rank else 1 for t in _leaves(s)]
        for label, s in (("x", x), ("y", y), ("sample_weight", sample_weight))
        if s is not None
    }
    flat = {n for v in sizes.values() for n in v}
    if len(flat) > 1:
        msg = "Data cardinality is ambiguous. Make sure all arrays contain the same number of samples."
        for label, v in sizes.items():
            msg += f"\n'{label}' sizes: {', '.join(map(str, v))}"
        raise ValueError(msg)
    if not flat:
        raise ValueError("Expected input data `x` (arrays, tensors or a tf.data.Dataset); received none")
    return flat.pop()


def unpack_x_y_sample_weight(data):
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(
        f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, found: "
        f"a tuple of {len(data)} elements"
    )


def _slice(structure, start, stop):
    if type(structure) is Tensor:  # the usual leaf: one row slice, without getitem's key parsing
        return A._axis_slice(structure, 0, start, stop - start)
    if structure is None:
        return None
    return nest.map_structure(
        lambda t: (
            None if t is None else slice_rows(t, start, stop) if isinstance(t, CompositeTensor) else t[start:stop]
        ),
        structure,
    )


def _gather(structure, perm):
    return nest.map_structure(
        lambda t: None if t is None else gather_rows(t, perm) if isinstance(t, CompositeTensor) else A.gather(t, perm),
        structure,
    )


def check_batch_size(batch_size, arg: str = "batch_size"):
    """None or a positive int: batch_size 0 divided by zero, -1 dropped the last sample,
    steps_per_epoch -2 trained nothing and logged a loss of 0."""
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not hasattr(batch_size, "__index__") or int(batch_size) < 1:
        raise ValueError(f"`{arg}` must be a positive integer or None, got {batch_size!r}")
    return int(batch_size)


def check_validation_split(validation_split) -> float:
    """A fraction in [0, 1), as Keras requires."""
    try:
        v = float(validation_split)
    except (TypeError, ValueError):
        v = float("nan")
    if not 0.0 <= v < 1.0:
        raise ValueError(f"`validation_split` must be a float in [0, 1), got {validation_split!r}")
    return v


def train_validation_split(arrays, validation_split: float):
    """The last ``validation_split`` of the samples become validation data (before shuffling)."""
    validation_split = check_validation_split(validation_split)
    x, y, sw = arrays
    n = num_samples(x, y, sw)
    split = int(math.floor(n * (1.0 - validation_split)))
    if split == 0 or split == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a "
            f"validation and training set as specified by `validation_split={validation_split}`. "
            f"Either provide more data, or a different value for the `validation_split` argument."
        )
    return (_slice(x, 0, split), _slice(y, 0, split), _slice(sw, 0, split)), (
        _slice(x, split, n),
        _slice(y, split, n),
        _slice(sw, split, n),
    )


def class_weights_for(y, class_weight):
    """Per-sample weights from class labels (sparse or one-hot) and a {class: weight} dict."""
    labels = nest.flatten(y)[0]
    if labels.shape.rank and labels.shape.rank > 1:
        labels = argmax(labels, -1, output_type=D.int32) if labels.shape[-1] != 1 else A.squeeze(labels, -1)
    if labels.dtype.kind == "f":
        labels = M.cast(M.round(labels), D.int32)
    top = max(int(k) for k in class_weight) + 1
    table = convert([float(class_weight.get(i, 1.0)) for i in range(top)], backend.float_dtype())
    labels = M.cast(labels, D.int32)
    inside = M.logical_and(M.greater_equal(labels, 0), M.less(labels, top))
    w = A.gather(table, M.where(inside, labels, M.zero_fill(labels)))
    return M.where(inside, w, M.zero_fill(w) + 1.0)


class DataHandler:
    """Yields batches as Keras does: ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""

    def __init__(
        self, x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None, shuffle=False, class_weight=None
    ):
        self.class_weight = class_weight
        self.steps_per_epoch = steps_per_epoch = check_batch_size(steps_per_epoch, "steps")
        self._iterator = None
        if is_dataset(x) or hasattr(x, "__next__"):
            if y is not None:
                raise ValueError(
                    "`y` argument is not supported when using a dataset or generator as input; "
                    "the dataset should yield (x, y) tuples."
                )
            self.source, self.arrays = x, None
            n = len(x) if hasattr(x, "__len__") and is_dataset(x) and x.cardinality() >= 0 else None
            self.steps = steps_per_epoch or n
            return
        self.arrays = (to_tensors(x), to_tensors(y), to_tensors(sample_weight))
        self.n = num_samples(*self.arrays)
        self.batch_size = check_batch_size(batch_size) or 32
        self.shuffle = bool(shuffle)
        self.steps = steps_per_epoch or max(1, math.ceil(self.n / self.batch_size))

    def epoch(self):
        """An iterator over this epoch's batches."""
        if self.arrays is None:
            yield from self._source_epoch()
            return
        x, y, sw = self.arrays
        n, bs = self.n, self.batch_size
        if self.shuffle:
            perm = list(range(n))
            _pyrandom.Random(_seed()).shuffle(perm)
            p = convert(memoryview(array.array("i", perm)))
            x, y, sw = _gather(x, p), _gather(y, p), _gather(sw, p)
        for i in range(self.steps):
            start = (i * bs) % n if n else 0  # 0 samples: one empty batch (predict returns 0 rows)
            stop = min(start + bs, n)
            yield self._finish(_slice(x, start, stop), _slice(y, start, stop), _slice(sw, start, stop))

    def _source_epoch(self):
        if self.steps_per_epoch is None:
            for data in self.source:
                yield self._finish(*unpack_x_y_sample_weight(data))
            return
        for _ in range(self.steps_per_epoch):
            if self._iterator is None:
                self._iterator = iter(self.source)
            try:
                data = next(self._iterator)
            except StopIteration:
                self._iterator = None
                return
            yield self._finish(*unpack_x_y_sample_weight(data))

    def _finish(self, x, y, sw):
        if self.arrays is None:
            x, y, sw = to_tensors(x), to_tensors(y), to_tensors(sw)
        if self.class_weight is not None and y is not None:
            cw = class_weights_for(y, self.class_weight)
            sw = cw if sw is None else sw * cw
        if sw is not None:
            return x, y, sw
        return (x, y) if y is not None else (x,)


def _seed() -> int:
    """A shuffle seed from tf.random's stream, so tf.random.set_seed makes epochs reproducible."""
    from ... import random as R

    return int(R.uniform((), 0, 2**31 - 1, D.int32))

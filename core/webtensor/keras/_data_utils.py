"""``keras.utils.pad_sequences``, ``timeseries_dataset_from_array`` and ``split_dataset`` (Keras 3's rules)."""

from __future__ import annotations

import random

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..ops import array as A
from ..tensor import Tensor, convert


def _rows(sequences) -> list:
    if isinstance(sequences, Tensor):
        return sequences.numpy().tolist()
    return [s.tolist() if hasattr(s, "tolist") else list(s) for s in sequences]


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Lists of sequences -> a [n, maxlen] array, padded/truncated at the front ("pre") or back."""
    for what, v in (("padding", padding), ("truncating", truncating)):
        if v not in ("pre", "post"):
            raise ValueError(f'pad_sequences: `{what}` must be "pre" or "post", got {v!r}')
    rows = _rows(sequences)
    if maxlen is None:
        maxlen = max((len(r) for r in rows), default=0)
    maxlen = int(maxlen)
    out = []
    for r in rows:
        r = (r[-maxlen:] if maxlen else []) if truncating == "pre" else r[:maxlen]
        pad = [value] * (maxlen - len(r))
        out.append(pad + r if padding == "pre" else r + pad)
    dt = D.as_dtype(dtype)
    return A.reshape(convert(out, dt), (len(out), maxlen)).numpy()


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size=128,
    shuffle: bool = False,
    seed=None,
    start_index=None,
    end_index=None,
):
    """Sliding windows over ``data`` (rows ``start_index`` to ``end_index``): window ``i`` starts
    at ``i * sequence_stride`` and takes every ``sampling_rate``-th row; its target is
    ``targets[start]``. Shuffled order is seeded here, not Keras's numpy draw."""
    from ..data import Dataset

    x = data if isinstance(data, Tensor) else convert(data)
    n = x.shape[0]
    start = 0 if start_index is None else int(start_index)
    end = n if end_index is None else int(end_index)
    for what, v in (
        ("sequence_length", sequence_length),
        ("sequence_stride", sequence_stride),
        ("sampling_rate", sampling_rate),
    ):
        if int(v) <= 0:
            raise ValueError(f"timeseries_dataset_from_array: `{what}` must be > 0, got {v}")
    if not 0 <= start < n or not start < end <= n:
        raise ValueError(
            f"timeseries_dataset_from_array: need 0 <= start_index ({start}) < end_index ({end}) <= len(data) ({n})"
        )
    num = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        y = targets if isinstance(targets, Tensor) else convert(targets)
        num = min(num, y.shape[0])
    starts = list(range(0, max(num, 0), sequence_stride))
    if not starts:
        raise InvalidArgumentError(
            f"timeseries_dataset_from_array: no window of sequence_length "
            f"{sequence_length} x sampling_rate {sampling_rate} fits in "
            f"{end - start} rows"
        )
    if shuffle:
        random.Random(0 if seed is None else int(seed)).shuffle(starts)
    idx = [[s + j * sampling_rate for j in range(sequence_length)] for s in starts]
    body = x[start:end]
    windows = A.gather(body, convert(idx, D.int32))
    if targets is None:
        ds = Dataset.from_tensor_slices(windows)
    else:
        ds = Dataset.from_tensor_slices((windows, A.gather(y[start:end], convert(starts, D.int32))))
    return ds if batch_size is None else ds.batch(int(batch_size))


def _split_sizes(left, right, n: int) -> tuple:
    """Keras 3's ``_rescale_dataset_split_sizes``: fractions round, ints count, None is the rest."""
    for name, v in (("left_size", left), ("right_size", right)):
        if v is not None and type(v) not in (int, float):
            raise TypeError(f"Invalid `{name}` Type. Expected: int or float or None, Received: type({name})={type(v)}.")
        if (type(v) is int and not 0 < v < n) or (type(v) is float and not 0 < v < 1):
            raise ValueError(
                f"`{name}` should be either a positive integer smaller than {n}, or a float within the "
                f"range `[0, 1]`. Received: {name}={v}"
            )
    if type(left) is float and type(right) is float and left + right > 1:
        raise ValueError(
            "The sum of `left_size` and `right_size` is greater than 1. It must be less than or equal to 1."
        )
    left = round(left * n) if type(left) is float else left
    right = round(right * n) if type(right) is float else right
    left = n - right if left is None else left
    right = n - left if right is None else right
    if left + right > n:
        raise ValueError(
            f"The sum of `left_size` and `right_size` should be smaller than the {n}. Received: "
            f"left_size + right_size = {left + right} and total_length = {n}"
        )
    for split, side in ((left, "left"), (right, "right")):
        if split == 0:
            raise ValueError(
                f"With `dataset` of length={n}, `left_size`={left} and `right_size`={right}. "
                f"Resulting {side} side dataset split will be empty. Adjust any of the aforementioned "
                f"parameters"
            )
    return int(left), int(right)


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None, preferred_backend=None):
    """``(left, right)`` datasets of samples of ``dataset`` (a ``tf.data.Dataset``, an array, or a
    tuple/list/dict of arrays). With ``shuffle``, Keras 3's order: ``random.seed(seed)`` then
    ``random.shuffle`` of the samples. A batched dataset is split per sample and re-batched."""
    from .. import nest
    from ..data import Dataset
    from ..data.transforms import BatchDataset

    if left_size is None and right_size is None:
        raise ValueError(
            "At least one of the `left_size` or `right_size` must be specified. Received: "
            "left_size=None and right_size=None"
        )
    batch = None
    if isinstance(dataset, Dataset):
        if isinstance(dataset, BatchDataset):
            batch = dataset._size
            dataset = dataset.unbatch()
        samples = list(dataset)
        if not samples:
            raise ValueError("split_dataset: the dataset is empty")
        structure = samples[0]
        flat = [A.stack([nest.flatten(s)[k] for s in samples]) for k in range(len(nest.flatten(structure)))]
        data = nest.pack_sequence_as(structure, flat)
    elif isinstance(dataset, (list, tuple, dict)) or hasattr(dataset, "shape"):
        data = tuple(dataset) if isinstance(dataset, list) else dataset
    else:
        raise TypeError(
            f"The `dataset` argument must be either a `tf.data.Dataset` object, or a list/tuple of "
            f"arrays. Received: dataset={dataset} of type {type(dataset)}"
        )
    leaves = [x if isinstance(x, Tensor) else convert(x) for x in nest.flatten(data)]
    n = leaves[0].shape[0]
    if any(t.shape[0] != n for t in leaves):
        raise ValueError(
            f"split_dataset: every array needs the same first dimension, got {[t.shape[0] for t in leaves]}"
        )
    left, right = _split_sizes(left_size, right_size, n)
    order = list(range(n))
    if shuffle:
        random.Random(random.randint(0, 10**6) if seed is None else seed).shuffle(order)
    parts = []
    for idx in (order[:left], order[n - right :]):
        picked = [A.gather(t, convert(idx, D.int32)) for t in leaves]
        ds = Dataset.from_tensor_slices(nest.pack_sequence_as(data, picked) if nest.is_nested(data) else picked[0])
        parts.append(ds.batch(batch) if batch else ds)
    return parts[0], parts[1]

"""``keras.utils.pad_sequences`` and ``timeseries_dataset_from_array`` (Keras 3's rules)."""
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


def timeseries_dataset_from_array(data, targets, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size=128, shuffle: bool = False,
                                  seed=None, start_index=None, end_index=None):
    """Sliding windows over ``data`` (rows ``start_index`` to ``end_index``): window ``i`` starts
    at ``i * sequence_stride`` and takes every ``sampling_rate``-th row; its target is
    ``targets[start]``. Shuffled order is seeded here, not Keras's numpy draw."""
    from ..data import Dataset

    x = data if isinstance(data, Tensor) else convert(data)
    n = x.shape[0]
    start = 0 if start_index is None else int(start_index)
    end = n if end_index is None else int(end_index)
    for what, v in (("sequence_length", sequence_length), ("sequence_stride", sequence_stride),
                    ("sampling_rate", sampling_rate)):
        if int(v) <= 0:
            raise ValueError(f"timeseries_dataset_from_array: `{what}` must be > 0, got {v}")
    if not 0 <= start < n or not start < end <= n:
        raise ValueError(f"timeseries_dataset_from_array: need 0 <= start_index ({start}) < end_index "
                         f"({end}) <= len(data) ({n})")
    num = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        y = targets if isinstance(targets, Tensor) else convert(targets)
        num = min(num, y.shape[0])
    starts = list(range(0, max(num, 0), sequence_stride))
    if not starts:
        raise InvalidArgumentError(f"timeseries_dataset_from_array: no window of sequence_length "
                                   f"{sequence_length} x sampling_rate {sampling_rate} fits in "
                                   f"{end - start} rows")
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

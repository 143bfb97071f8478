"""Shared by the dataset loaders: numpy, and ``.npz``/pickle files read without running code."""

from __future__ import annotations

import io
import pickle
import zipfile

BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_ALLOWED = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


def numpy():
    try:
        import numpy as np
    except ImportError:
        raise ImportError("keras.datasets returns numpy arrays, as Keras does: it needs numpy") from None
    return np


class RestrictedUnpickler(pickle.Unpickler):
    """Only numpy array reconstruction: a tampered file cannot run code through ``__reduce__``."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to deserialize `{module}.{name}` while loading a Keras dataset. "
            f"The file may be corrupted or malicious."
        )


def load_npz(path) -> dict:
    """Every array of an ``.npz``; object arrays through the restricted unpickler."""
    np = numpy()
    out = {}
    with zipfile.ZipFile(path) as z:
        for member in z.namelist():
            data = io.BytesIO(z.read(member))
            try:
                arr = np.lib.format.read_array(data, allow_pickle=False)
            except ValueError:
                data.seek(0)
                major, _ = np.lib.format.read_magic(data)
                if major == 1:
                    np.lib.format.read_array_header_1_0(data)
                else:
                    np.lib.format.read_array_header_2_0(data)
                arr = RestrictedUnpickler(data).load()
            out[member[:-4] if member.endswith(".npy") else member] = arr
    return out


def remove_long_seq(maxlen, seq, label):
    kept = [(x, y) for x, y in zip(seq, label) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def sequences(xs, start_char, index_from):
    """Keras's word-index shifting and vocabulary cut for imdb/reuters."""
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    else:
        xs = [list(x) for x in xs]
    return xs


def cut(xs, num_words, skip_top, oov_char):
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]

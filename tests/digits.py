"""The digits split every Keras accuracy test, page test and benchmark uses.

``load_digits_split() -> (x_train, y_train, x_test, y_test)``: scikit-learn's
``load_digits``, pixels / 16 as float32 rows of 64, labels int32,
``train_test_split(test_size=0.25, random_state=0)`` (1347 train, 450 test).

With scikit-learn (natively) it is computed; without it (in the page) it is read
from the binary file ``build/make_digits.py`` writes, little-endian:
int32 n_train, int32 n_test, float32 x_train[n_train*64], int32 y_train[n_train],
float32 x_test[n_test*64], int32 y_test[n_test]. Default path
``tests/data/digits_split.bin``; ``WEBTENSOR_DIGITS`` overrides it.
With numpy the arrays are numpy arrays; without it, webtensor Tensors.
"""

from __future__ import annotations

import array
import os
import struct
import sys

DEFAULT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "digits_split.bin")


def path() -> str:
    return os.environ.get("WEBTENSOR_DIGITS") or DEFAULT_PATH


def _from_sklearn():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    import numpy as np

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int32)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
    return (
        np.ascontiguousarray(x_train),
        np.ascontiguousarray(y_train),
        np.ascontiguousarray(x_test),
        np.ascontiguousarray(y_test),
    )


def to_bytes(x_train, y_train, x_test, y_test) -> bytes:
    """The file format above, from four arrays (numpy or anything with tobytes/tolist)."""

    def raw(a, code):
        if hasattr(a, "astype"):
            return a.astype("<" + {"f": "f4", "i": "i4"}[code]).tobytes()
        out = array.array(code, a)
        if sys.byteorder != "little":
            out.byteswap()
        return out.tobytes()

    return (
        struct.pack("<ii", len(y_train), len(y_test))
        + raw(x_train, "f")
        + raw(y_train, "i")
        + raw(x_test, "f")
        + raw(y_test, "i")
    )


def from_bytes(data: bytes):
    """Parse the file format; numpy arrays where numpy exists, else webtensor Tensors."""
    n_train, n_test = struct.unpack_from("<ii", data, 0)
    want = 8 + 4 * (n_train * 65 + n_test * 65)
    if n_train < 0 or n_test < 0 or len(data) != want:
        raise ValueError(f"digits file: expected {want} bytes for {n_train} + {n_test} samples, got {len(data)}")
    parts, off = [], 8
    for n, code in ((n_train * 64, "f"), (n_train, "i"), (n_test * 64, "f"), (n_test, "i")):
        a = array.array(code)
        a.frombytes(data[off : off + 4 * n])
        if sys.byteorder != "little":
            a.byteswap()
        parts.append(a)
        off += 4 * n
    shapes = [(n_train, 64), (n_train,), (n_test, 64), (n_test,)]
    try:
        import numpy as np

        return tuple(
            np.frombuffer(a, dtype=np.float32 if a.typecode == "f" else np.int32).reshape(s).copy()
            for a, s in zip(parts, shapes)
        )
    except ImportError:
        import webtensor as tf

        return tuple(tf.reshape(tf.constant(memoryview(a)), s) for a, s in zip(parts, shapes))


def load_digits_split():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        p = path()
        if not os.path.exists(p):
            raise FileNotFoundError(
                f"digits data: scikit-learn is not installed and {p} does not exist; run "
                f"`python build/make_digits.py` (or set WEBTENSOR_DIGITS)"
            ) from None
        with open(p, "rb") as f:
            return from_bytes(f.read())
    return _from_sklearn()


def available() -> bool:
    try:
        import sklearn  # noqa: F401

        return True
    except ImportError:
        return os.path.exists(path())

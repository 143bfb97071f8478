"""``keras.datasets.cifar10``: ``cifar-10-python.tar.gz`` extracted in the cache."""

import os

from .._file_utils import get_file
from ._cifar import load_batch
from ._common import numpy


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 ``(n, 32, 32, 3)`` images, ``(n, 1)`` labels."""
    np = numpy()
    origin = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    path = get_file(fname="cifar-10-batches-py-target", origin=origin, extract=True)
    path = os.path.join(path, "cifar-10-batches-py")
    xs, ys = zip(*(load_batch(os.path.join(path, f"data_batch_{i}")) for i in range(1, 6)))
    x_train, y_train = np.concatenate(xs).astype("uint8"), np.concatenate([np.asarray(y) for y in ys]).astype("uint8")
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))
    return (
        (x_train.transpose(0, 2, 3, 1), y_train.reshape(-1, 1)),
        (np.asarray(x_test).astype("uint8").transpose(0, 2, 3, 1), np.asarray(y_test, "uint8").reshape(-1, 1)),
    )

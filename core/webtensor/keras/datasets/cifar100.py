"""``keras.datasets.cifar100``: ``cifar-100-python.tar.gz`` extracted in the cache."""

import os

from .._file_utils import get_file
from ._cifar import load_batch
from ._common import numpy


def load_data(label_mode="fine"):
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.')
    np = numpy()
    origin = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    path = get_file(fname="cifar-100-python-target", origin=origin, extract=True)
    path = os.path.join(path, "cifar-100-python")
    x_train, y_train = load_batch(os.path.join(path, "train"), label_key=label_mode + "_labels")
    x_test, y_test = load_batch(os.path.join(path, "test"), label_key=label_mode + "_labels")
    return (
        (x_train.transpose(0, 2, 3, 1), np.reshape(y_train, (-1, 1))),
        (x_test.transpose(0, 2, 3, 1), np.reshape(y_test, (-1, 1))),
    )

"""``keras.datasets.mnist``: ``mnist.npz`` from the cache."""

from .._file_utils import get_file
from ._common import BASE, load_npz


def load_data(path="mnist.npz"):
    """``(x_train, y_train), (x_test, y_test)``: uint8 ``(n, 28, 28)`` images and uint8 labels."""
    f = load_npz(get_file(fname=path, origin=BASE + "mnist.npz"))
    return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])

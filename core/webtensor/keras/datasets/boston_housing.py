"""``keras.datasets.boston_housing``: ``boston_housing.npz`` shuffled and split as Keras does."""

from .._file_utils import get_file
from ._common import BASE, load_npz, numpy


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be between 0 and 1. Received: {test_split}")
    np = numpy()
    f = load_npz(get_file(path, origin=BASE + "boston_housing.npz"))
    x, y = f["x"], f["y"]
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    n = int(len(x) * (1 - test_split))
    return (np.array(x[:n]), np.array(y[:n])), (np.array(x[n:]), np.array(y[n:]))

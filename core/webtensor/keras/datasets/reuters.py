"""``keras.datasets.reuters``: ``reuters.npz`` (ragged object arrays, restricted unpickling)."""

import json

from .._file_utils import get_file
from ._common import BASE, cut, load_npz, numpy, remove_long_seq, sequences


def load_data(
    path="reuters.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    test_split=0.2,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
):
    np = numpy()
    f = load_npz(get_file(fname=path, origin=BASE + "reuters.npz"))
    xs, labels = f["x"], f["y"]
    rng = np.random.RandomState(seed)
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    xs, labels = xs[indices], labels[indices]
    xs = sequences(xs, start_char, index_from)
    if maxlen:
        xs, labels = remove_long_seq(maxlen, xs, labels)
    xs = cut(xs, num_words, skip_top, oov_char)
    idx = int(len(xs) * (1 - test_split))
    return (
        (np.array(xs[:idx], dtype="object"), np.array(labels[:idx])),
        (np.array(xs[idx:], dtype="object"), np.array(labels[idx:])),
    )


def get_word_index(path="reuters_word_index.json"):
    with open(get_file(path, origin=BASE + "reuters_word_index.json")) as f:
        return json.load(f)

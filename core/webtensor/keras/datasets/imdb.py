"""``keras.datasets.imdb``: ``imdb.npz`` (ragged object arrays, restricted unpickling)."""

import json

from .._file_utils import get_file
from ._common import BASE, cut, load_npz, numpy, remove_long_seq, sequences


def load_data(
    path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2, index_from=3, **kwargs
):
    np = numpy()
    f = load_npz(get_file(fname=path, origin=BASE + "imdb.npz"))
    x_train, labels_train, x_test, labels_test = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    rng = np.random.RandomState(seed)
    for_train = np.arange(len(x_train))
    rng.shuffle(for_train)
    for_test = np.arange(len(x_test))
    rng.shuffle(for_test)
    x_train, labels_train = x_train[for_train], labels_train[for_train]
    x_test, labels_test = x_test[for_test], labels_test[for_test]
    x_train = sequences(x_train, start_char, index_from)
    x_test = sequences(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. Increase maxlen."
            )
    xs = cut(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    idx = len(x_train)
    return ((np.array(xs[:idx], dtype="object"), labels[:idx]), (np.array(xs[idx:], dtype="object"), labels[idx:]))


def get_word_index(path="imdb_word_index.json"):
    with open(get_file(fname=path, origin=BASE + "imdb_word_index.json")) as f:
        return json.load(f)

"""Keras preprocessing utilities and boolean-mask indexing, against hand values."""
import pytest

import webtensor as tf


def test_bool_list_and_tensor_index_act_as_boolean_mask():
    t = tf.constant([[1, 2], [3, 4], [5, 6]])
    assert t[[True, False, True]].numpy().tolist() == [[1, 2], [5, 6]]
    assert t[tf.constant([False, True, False])].numpy().tolist() == [[3, 4]]
    assert t[[0, 2] if False else 1].numpy().tolist() == [3, 4]  # ints still index


def test_numpy_bool_array_index():
    np = pytest.importorskip("numpy")
    t = tf.constant([[1, 2], [3, 4], [5, 6]])
    assert t[np.array([True, False, True])].numpy().tolist() == [[1, 2], [5, 6]]
    assert t[np.array([[True, False], [False, True], [True, True]])].numpy().tolist() == [1, 4, 5, 6]
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):
        t[np.array([True, False])]


def _list(a):
    return a.tolist()


def test_pad_sequences_pre_post_truncate():
    pad = tf.keras.utils.pad_sequences
    seqs = [[1, 2, 3], [4], [5, 6]]
    assert _list(pad(seqs)) == [[1, 2, 3], [0, 0, 4], [0, 5, 6]]
    assert _list(pad(seqs, padding="post")) == [[1, 2, 3], [4, 0, 0], [5, 6, 0]]
    assert _list(pad(seqs, maxlen=2)) == [[2, 3], [0, 4], [5, 6]]
    assert _list(pad(seqs, maxlen=2, truncating="post", value=-1)) == [[1, 2], [-1, 4], [5, 6]]
    assert _list(pad([[0.5], [1.5, 2.5]], dtype="float32", padding="post")) == [[0.5, 0.0], [1.5, 2.5]]
    with pytest.raises(ValueError, match="padding"):
        pad(seqs, padding="middle")


def test_timeseries_dataset_from_array_windows_by_hand():
    ts = tf.keras.utils.timeseries_dataset_from_array
    ds = ts(list(range(10)), list(range(100, 110)), 3, sequence_stride=2, sampling_rate=2, batch_size=2)
    got = [(x.numpy().tolist(), y.numpy().tolist()) for x, y in ds]
    # windows start at 0, 2, 4 (10 - 2 * 2 = 6 starts fit), every 2nd row; target = targets[start]
    assert got == [([[0, 2, 4], [2, 4, 6]], [100, 102]), ([[4, 6, 8]], [104])]
    # Keras's docstring: data[i:i+10] with targets = data shifted by 10
    data = list(range(100))
    first = next(iter(ts(data[:-10], data[10:], sequence_length=10, batch_size=5)))
    assert first[0].numpy().tolist()[0] == list(range(10)) and first[1].numpy().tolist()[0] == 10
    rows = [x.numpy().tolist() for x in ts([[i, -i] for i in range(6)], None, 4, start_index=1, batch_size=None)]
    assert rows == [[[1, -1], [2, -2], [3, -3], [4, -4]], [[2, -2], [3, -3], [4, -4], [5, -5]]]
    shuffled = [y for _, y in ts(list(range(8)), list(range(8)), 2, shuffle=True, seed=3, batch_size=None)]
    assert sorted(int(y) for y in shuffled) == list(range(7))
    with pytest.raises(ValueError, match="sequence_length"):
        ts(data, None, 0)

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

import sys

import webtensor as tf


def test_matmul_by_hand():
    y = tf.matmul([[1.0, 2.0]], [[3.0], [4.0]])
    assert y.numpy().tolist() == [[11.0]]  # 1*3 + 2*4


def test_a_shipped_data_file(words):
    assert words == ["alpha", "beta", "gamma"]


def test_runs_in_the_page():
    assert sys.platform == "emscripten"

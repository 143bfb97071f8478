import webtensor as tf


def test_wrong_sum():
    assert int(tf.reduce_sum([1, 2]).numpy()) == 4  # 3: fails on purpose

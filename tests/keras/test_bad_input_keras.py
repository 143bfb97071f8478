"""Keras arguments that were accepted silently (or crashed obscurely) are clear errors,
and edge cases behave as Keras does (issue 12, items 13-16). No numpy: runs in the page."""

import math

import pytest

import webtensor as tf


def _model():
    m = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    m.compile("sgd", "mse")
    return m


X = [[1.0, 2.0, 3.0], [0.0, 1.0, 0.0], [2.0, 0.0, 1.0], [1.0, 1.0, 1.0]]
Y = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]


@pytest.mark.parametrize("bs", [0, -1, 2.5, "4"])
def test_fit_batch_size_must_be_positive(bs):
    with pytest.raises(ValueError, match=f"batch_size.*{bs!r}"):
        _model().fit(X, Y, batch_size=bs, verbose=0)


@pytest.mark.parametrize("vs", [1.5, 1.0, -0.25])
def test_fit_validation_split_must_be_a_fraction(vs):
    with pytest.raises(ValueError, match=f"validation_split.*{vs!r}"):
        _model().fit(X, Y, validation_split=vs, verbose=0)


def test_predict_and_evaluate_batch_size_checked_too():
    with pytest.raises(ValueError, match="batch_size"):
        _model().predict(X, batch_size=0, verbose=0)


def test_predict_on_zero_rows_is_empty():
    out = _model().predict(tf.zeros([0, 3]), verbose=0)
    assert tuple(out.shape) == (0, 2)


def test_fit_on_zero_rows_says_so():
    with pytest.raises(ValueError, match="0 samples"):
        _model().fit(tf.zeros([0, 3]), tf.zeros([0, 2]), verbose=0)


def test_to_categorical_out_of_range():
    with pytest.raises(ValueError, match="label 5 .*num_classes=3"):
        tf.keras.utils.to_categorical([1, 5], 3)
    with pytest.raises(ValueError, match="label -1"):
        tf.keras.utils.to_categorical([-1, 0], 3)
    assert tf.keras.utils.to_categorical([2, 0], 3).tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


def test_input_negative_dimension():
    with pytest.raises(ValueError, match=r"\(None, -3\)"):
        tf.keras.Input(shape=(-3,))
    with pytest.raises(ValueError, match="shape"):
        tf.keras.Input(shape=(2.5,))
    assert tf.keras.Input(shape=(0, 4)).shape == (None, 0, 4)


@pytest.mark.parametrize(
    "make,arg",
    [
        (lambda: tf.keras.layers.Conv2D(4, 0), "kernel_size"),
        (lambda: tf.keras.layers.Conv2D(4, (3, -1)), "kernel_size"),
        (lambda: tf.keras.layers.Conv2D(4, 3, strides=0), "strides"),
        (lambda: tf.keras.layers.Conv1D(4, 3, dilation_rate=0), "dilation_rate"),
        (lambda: tf.keras.layers.MaxPooling2D(0), "pool_size"),
        (lambda: tf.keras.layers.AveragePooling2D(2, strides=0), "strides"),
    ],
)
def test_conv_and_pool_layer_arguments(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


def test_sparse_categorical_crossentropy_fit_with_uint8_labels_matches_int32():
    """keras.datasets gives uint8 labels: a training step must equal the int32 one."""
    x = tf.constant([[0.5, -1.0], [1.0, 2.0], [-0.5, 0.25], [2.0, 0.0]])
    losses = []
    for dt in ("uint8", "int32"):
        tf.keras.utils.set_random_seed(3)
        m = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(3)])
        m.compile(tf.keras.optimizers.SGD(0.1), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        h = m.fit(x, tf.constant([0, 2, 1, 2], dt), batch_size=4, epochs=2, verbose=0, shuffle=False)
        losses.append(h.history["loss"])
    assert all(math.isfinite(v) for v in losses[0])
    assert all(abs(a - b) < 1e-6 for a, b in zip(*losses)), losses


def test_embedding_sizes_must_be_positive():
    with pytest.raises(ValueError, match="input_dim = -1"):
        tf.keras.layers.Embedding(-1, 2)


@pytest.mark.parametrize("steps", [0, -2, 1.5])
def test_steps_must_be_positive(steps):
    with pytest.raises(ValueError, match=f"steps.*{steps!r}"):
        _model().fit(X, Y, steps_per_epoch=steps, verbose=0)
    with pytest.raises(ValueError, match=f"steps.*{steps!r}"):
        _model().evaluate(X, Y, steps=steps, verbose=0)


def test_evaluate_on_zero_rows_says_so():
    with pytest.raises(ValueError, match="0 samples"):
        _model().evaluate(tf.zeros([0, 3]), tf.zeros([0, 2]), verbose=0)

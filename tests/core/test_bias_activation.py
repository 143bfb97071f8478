"""ops.nn.bias_activation takes an activation *name* (fused where the backend can) or a callable."""

import math

import pytest

import webtensor as tf
from webtensor.ops.nn import bias_activation
from util import assert_close, check_grad

X = [[0.5, -1.0, 2.0], [-0.25, 0.0, 1.5]]
B = [0.1, 0.2, -0.3]
BY_HAND = {
    "linear": lambda v: v,
    "relu": lambda v: max(v, 0.0),
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "tanh": math.tanh,
}


@pytest.mark.parametrize("name", sorted(BY_HAND))
def test_a_name_gives_the_activation_of_value_plus_bias(name):
    want = [[BY_HAND[name](x + b) for x, b in zip(row, B)] for row in X]
    assert_close(bias_activation(tf.constant(X), tf.constant(B), name), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(BY_HAND))
def test_a_name_differentiates_through_value_and_bias(name):
    check_grad(lambda x, b: bias_activation(x, b, name), X, B)


def test_a_callable_is_composed():
    got = bias_activation(tf.constant(X), tf.constant(B), lambda t: t * 2.0)
    assert_close(got, [[2 * (x + b) for x, b in zip(row, B)] for row in X], rtol=1e-6)


def test_an_unknown_name_is_an_error_naming_the_op_and_the_choices():
    with pytest.raises(tf.errors.InvalidArgumentError, match="bias_activation.*'gelu'.*relu"):
        bias_activation(tf.constant(X), tf.constant(B), "gelu")


def test_keras_dense_fuses_only_its_own_activations():
    """Dense passes the name for Keras's relu, and the user's function (even one named relu) as is."""

    def relu(t):  # a user's function that only shares the name
        return t * 0.0 - 1.0

    x = tf.constant(X)
    own = tf.keras.layers.Dense(3, activation="relu", kernel_initializer="identity", bias_initializer="zeros")
    mine = tf.keras.layers.Dense(3, activation=relu, kernel_initializer="identity", bias_initializer="zeros")
    assert_close(own(x), [[max(v, 0.0) for v in row] for row in X], rtol=1e-6)
    assert_close(mine(x), [[-1.0] * 3] * 2, rtol=1e-6)

"""Complex tf.Variables (as in TF's "Introduction to variables" guide): creation, assign,
assign_add/sub, reads, TF's gradient convention dL/dRe + i dL/dIm, and tf.function.
Expected values are worked by hand."""

import pytest
import webtensor as tf

from tests.util import assert_close


def _parts(z):
    return tf.math.real(z), tf.math.imag(z)


def test_create_from_complex_tensor_list_and_dtype():
    v = tf.Variable(tf.complex(tf.constant([1.0, 2.0]), tf.constant([0.5, -1.0])))
    assert v.dtype == tf.complex64 and tuple(v.shape) == (2,) and "complex64" in repr(v)
    assert_close(tf.math.imag(v), [0.5, -1.0])
    w = tf.Variable([1 + 2j, 3 - 1j], name="w")
    assert w.dtype == tf.complex64 and w.name == "w:0"
    d = tf.Variable([[1.0, 2.0]], dtype=tf.complex128)
    assert d.dtype == tf.complex128
    assert_close(tf.math.real(d), [[1.0, 2.0]])
    assert_close(tf.math.imag(d), [[0.0, 0.0]])
    assert isinstance(tf.Variable(1.0), tf.Variable)  # real variables are untouched


def test_assign_and_arithmetic():
    v = tf.Variable([1 + 1j, 2 - 1j])
    v.assign([2 + 1j, 1j])
    assert_close(tf.math.real(v), [2.0, 0.0])
    v.assign_add(tf.constant([1 + 1j, 1 + 0j]))
    re, im = _parts(v)
    assert_close(re, [3.0, 1.0])
    assert_close(im, [2.0, 1.0])
    v.assign_sub([1j, 1j])
    assert_close(tf.math.imag(v.read_value()), [1.0, 0.0])
    re, im = _parts(v * (1 + 1j))  # (3+1j)(1+1j) = 2+4j, (1+0j)(1+1j) = 1+1j
    assert_close(re, [2.0, 1.0])
    assert_close(im, [4.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        v.assign([1j, 1j, 1j])
    with pytest.raises(tf.errors.InvalidArgumentError):
        v.assign(tf.constant([1.0, 2.0]))  # TF does not promote a real tensor to complex


def test_gradient_convention():
    """d|z|^2 by TF's rule dL/dRe + i dL/dIm is 2 Re z + 2i Im z = 2z; for L = Re(a z) it
    is Re(a) - i Im(a) = conj(a)."""
    v = tf.Variable([3 + 2j, 1 + 1j])
    with tf.GradientTape() as t:
        y = tf.reduce_sum(tf.abs(v) ** 2)
    re, im = _parts(t.gradient(y, v))
    assert_close(re, [6.0, 2.0], atol=1e-5)
    assert_close(im, [4.0, 2.0], atol=1e-5)
    a = tf.constant([2 + 3j, -1 + 0.5j])
    with tf.GradientTape() as t:
        y = tf.reduce_sum(tf.math.real(a * v))
    re, im = _parts(t.gradient(y, v))
    assert_close(re, [2.0, -1.0])
    assert_close(im, [-3.0, -0.5])


def test_in_tf_function():
    v = tf.Variable([3 + 4j, 1 + 3j])

    @tf.function
    def step():
        with tf.GradientTape() as t:
            y = tf.reduce_sum(tf.math.real(v * tf.math.conj(v)))
        v.assign_sub(t.gradient(y, v) * 0.25)  # z - 0.25 * 2z = z / 2
        return y

    assert_close(step(), 35.0)
    assert_close(step(), 35.0 / 4)
    re, im = _parts(v)
    assert_close(re, [0.75, 0.25])
    assert_close(im, [1.0, 0.75])

    @tf.function
    def bump():
        v.assign_add(tf.constant([1j, 1j]))
        return v.read_value() * 2

    re, im = _parts(bump())
    assert_close(re, [1.5, 0.5])
    assert_close(im, [4.0, 3.5])

"""tf.function, tf.nest, TensorSpec, devices and config."""

import pytest

import webtensor as tf
from util import assert_equal, tolist


def test_function_decorator_forms_run_eagerly():
    @tf.function
    def f(x):
        return x * 2.0

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)], jit_compile=True, reduce_retracing=True)
    def g(x):
        return x + 1.0

    assert_equal(f(tf.constant([1.0])), [2.0])
    assert_equal(g(tf.constant([1.0])), [2.0])
    assert g.input_signature[0].shape.as_list() == [None]

    class M:
        k = 3.0

        @tf.function
        def call(self, x):
            return x * self.k

    assert_equal(M().call(tf.constant(2.0)), 6.0)


def test_gradient_through_tf_function():
    @tf.function
    def loss(w, x):
        return tf.reduce_sum(tf.matmul(x, w) ** 2)

    w = tf.Variable([[1.0], [2.0]])
    x = tf.constant([[1.0, 1.0]])
    with tf.GradientTape() as t:
        y = loss(w, x)
    assert_equal(t.gradient(y, w), [[6.0], [6.0]])


def test_nest():
    s = {"b": [1, (2, 3)], "a": 4}
    flat = tf.nest.flatten(s)
    assert flat == [4, 1, 2, 3]  # dict keys sorted, as TF
    assert tf.nest.pack_sequence_as(s, [40, 10, 20, 30]) == {"b": [10, (20, 30)], "a": 40}
    assert tf.nest.map_structure(lambda x, y: x + y, s, s) == {"b": [2, (4, 6)], "a": 8}
    with pytest.raises(ValueError):
        tf.nest.assert_same_structure([1, 2], [1])
    assert tf.nest.flatten(None) == [None]
    assert tf.nest.is_nested((1,)) and not tf.nest.is_nested(1)


def test_tensorspec():
    spec = tf.TensorSpec([None, 3], tf.float32, name="x")
    assert spec.is_compatible_with(tf.zeros((5, 3)))
    assert not spec.is_compatible_with(tf.zeros((5, 4)))
    assert not spec.is_compatible_with(tf.zeros((5, 3), tf.int32))
    assert tf.TensorSpec.from_tensor(tf.zeros((2,))).shape == (2,)


def test_cpu_device_scope_and_tensor_device():
    with tf.device("/CPU:0"):
        x = tf.constant([1.0]) + 1.0
    assert x.device.endswith("CPU:0")
    assert tf.config.list_physical_devices("CPU")[0].device_type == "CPU"


def test_gpu_device_without_gpu_backend_is_a_clear_error():
    from webtensor import backends

    if backends.available("gpu"):
        pytest.skip("a GPU backend is available here")
    with pytest.raises(RuntimeError, match="no GPU backend available"):
        with tf.device("/GPU:0"):
            pass
    assert tf.config.list_physical_devices("GPU") == []


def test_bad_device_name():
    with pytest.raises(ValueError):
        tf.device("/TPU:0").__enter__()


def test_errors_module():
    e = tf.errors.InvalidArgumentError(None, None, "bad")
    assert e.message == "bad" and isinstance(e, ValueError) and isinstance(e, tf.errors.OpError)


def test_dtypes_table():
    assert tf.as_dtype("float32") is tf.float32 and tf.as_dtype(float) is tf.float32
    assert tf.float16.size == 2 and tf.int64.is_integer and tf.bool.is_bool and tf.float64.is_floating
    assert repr(tf.float32) == "tf.float32"
    with pytest.raises(TypeError):
        tf.as_dtype("qint8")
    assert tf.as_dtype("complex64") is tf.complex64 and tf.complex128.is_complex
    assert tolist(tf.cast(tf.constant([1.5]), "float64")) == [1.5]

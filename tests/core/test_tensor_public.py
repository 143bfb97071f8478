"""The public accessors Keras uses instead of a tensor's internals: ``.shape`` (static, cheap),
``.value_token`` (changes when a variable's value is replaced), ``.backend``/``.device``, and
``tf.is_symbolic_tensor``."""

import pytest

np = pytest.importorskip("numpy")

import webtensor as tf  # noqa: E402
from webtensor.tensor import is_symbolic_tensor  # noqa: E402


@pytest.mark.parametrize(
    "make, want",
    [
        (lambda: tf.constant(3.0), ()),
        (lambda: tf.zeros((2, 3, 4)), (2, 3, 4)),
        (lambda: tf.reshape(tf.range(12), (3, 1, 4)), (3, 1, 4)),
        (lambda: tf.transpose(tf.zeros((2, 5))), (5, 2)),
        (lambda: tf.zeros((0, 7)), (0, 7)),
    ],
)
def test_shape_is_the_static_shape_as_python_ints(make, want):
    t = make()
    s = t.shape
    assert isinstance(s, tf.TensorShape)
    assert tuple(s) == want == np.asarray(t.numpy()).shape
    assert s.as_list() == list(want) and s.rank == len(want)
    assert all(type(d) is int for d in s)
    assert s.is_fully_defined() and s.num_elements() == int(np.prod(want))


def test_shape_of_a_variable_and_after_assign():
    v = tf.Variable(tf.zeros((2, 2)))
    assert v.shape == tf.TensorShape([2, 2]) and v.get_shape().as_list() == [2, 2]
    v.assign(tf.ones((2, 2)))
    assert tuple(v.shape) == (2, 2)


def test_shape_in_a_trace_is_the_traced_static_shape():
    seen = []

    @tf.function
    def f(x):
        seen.append(tuple(x.shape))
        return x * 2.0

    f(tf.zeros((3, 2)))
    assert seen == [(3, 2)]


def test_value_token_is_stable_between_reads():
    v = tf.Variable([1.0, 2.0])
    tok = v.value_token
    v.value()
    _ = v + 1.0
    v.numpy()
    assert v.value_token is tok
    t = tf.constant([1, 2])
    assert t.value_token is t.value_token


@pytest.mark.parametrize(
    "change",
    [
        lambda v: v.assign([5.0, 6.0]),
        lambda v: v.assign_add([1.0, 1.0]),
        lambda v: v.assign_sub([1.0, 1.0]),
        lambda v: v.assign([1.0, 2.0]),  # the same numbers: still a new value
    ],
)
def test_value_token_changes_when_the_value_is_replaced(change):
    v = tf.Variable([1.0, 2.0])
    tok = v.value_token
    change(v)
    assert v.value_token is not tok


def test_value_token_changes_when_a_traced_function_assigns():
    v = tf.Variable(0, dtype=tf.int64)

    @tf.function
    def step():
        v.assign_add(1)

    step()
    tok = v.value_token
    step()
    assert v.value_token is not tok and int(v.numpy()) == 2


def test_backend_and_device_name_the_tensors_backend():
    t = tf.constant([1.0])
    v = tf.Variable([1.0])
    assert t.backend == v.backend and isinstance(t.backend, str) and t.backend
    assert t.device == v.device and t.device.startswith("/job:localhost/replica:0/task:0/device:")


def test_is_symbolic_tensor():
    seen = []

    @tf.function
    def f(x):
        seen.append((is_symbolic_tensor(x), is_symbolic_tensor(x + 1.0)))
        return x

    x = tf.constant([1.0])
    f(x)
    assert seen == [(True, True)]
    assert not is_symbolic_tensor(x)
    assert not is_symbolic_tensor(tf.Variable([1.0]))  # TF: a variable is not a SymbolicTensor
    assert not is_symbolic_tensor(1.0) and not is_symbolic_tensor(np.zeros(2))

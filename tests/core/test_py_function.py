"""tf.py_function / tf.numpy_function: eagerly a call; in a graph a node that calls Python at
every replay, with static output shapes from Tout's TensorSpecs or from a first run."""

import json

import pytest

np = pytest.importorskip("numpy")  # the page has no numpy: there the module skips

import webtensor as tf


def test_eager_call_converts_to_tout():
    assert tf.py_function(lambda a, b: a * b, [2.0, 3.0], tf.float32).numpy() == 6.0
    out = tf.py_function(lambda a: (a + 1, [1, 2]), [tf.constant(1)], [tf.int32, tf.float32])
    assert isinstance(out, list) and out[0].numpy() == 2 and out[1].dtype == tf.float32
    np.testing.assert_array_equal(out[1].numpy(), [1.0, 2.0])
    seen = []
    assert tf.py_function(lambda: seen.append(1), [], []) == [] and seen == [1]


def test_graph_calls_python_on_every_call_not_per_trace():
    calls = []

    def host(x):
        calls.append(x.numpy().tolist())
        return x * 10.0

    @tf.function
    def f(x):
        return tf.py_function(host, [x + 1.0], tf.TensorSpec([2], tf.float32)) - 1.0

    for v in ([1.0, 2.0], [3.0, 4.0], [5.0, 6.0]):
        np.testing.assert_allclose(f(tf.constant(v)).numpy(), (np.array(v) + 1) * 10 - 1)
    assert f.experimental_get_tracing_count() == 1
    assert calls == [[2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]  # a TensorSpec: no first run while tracing


def test_output_shape_from_a_first_run_while_tracing():
    calls = []

    def host(x):
        calls.append(1)
        return tf.concat([x, x], 0)

    @tf.function
    def f(x):
        y = tf.py_function(host, [x * 2.0], tf.float32)
        assert y.shape == (4,)  # static: known from the first run
        return y + 1.0

    np.testing.assert_allclose(f(tf.constant([1.0, 2.0])).numpy(), [3.0, 5.0, 3.0, 5.0])
    np.testing.assert_allclose(f(tf.constant([0.0, 1.0])).numpy(), [1.0, 3.0, 1.0, 3.0])
    assert len(calls) == 3  # the first run while tracing, then one per call


def test_numpy_function_gets_numpy_arrays():
    got = []

    def host(a):
        got.append(type(a))
        return np.sort(a)

    @tf.function
    def f(x):
        return tf.numpy_function(host, [x], tf.float32)

    np.testing.assert_array_equal(f(tf.constant([3.0, 1.0, 2.0])).numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(tf.numpy_function(host, [[2, 1]], tf.int64).numpy(), [1, 2])
    assert set(got) == {np.ndarray}


def test_replay_checks_the_traced_shape_and_dtype():
    n = [2]

    @tf.function
    def f(x):
        return tf.py_function(lambda a: tf.zeros([n[0]]), [x], tf.float32)

    f(tf.constant(1.0))
    n[0] = 3
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"<lambda>\): output 0 has shape \(3,\).*\(2,\)"):
        f(tf.constant(1.0))
    with pytest.raises(tf.errors.InvalidArgumentError, match="output 0 has dtype int32 but Tout says float32"):
        tf.py_function(lambda: tf.constant(1), [], tf.float32)


def test_identical_calls_are_not_merged():
    calls = []

    def host(x):
        calls.append(1)
        return x

    @tf.function
    def f(x):
        a = tf.py_function(host, [x], tf.TensorSpec([], tf.float32))
        b = tf.py_function(host, [x], tf.TensorSpec([], tf.float32))
        return a + b

    assert f(tf.constant(2.0)).numpy() == 4.0
    assert len(calls) == 2


def test_inside_a_loop_body_needs_tensorspec():
    @tf.function
    def loop(x, spec):
        return tf.while_loop(
            lambda i, v: i < 3, lambda i, v: (i + 1, tf.py_function(lambda a: a * 2.0, [v], spec)), [0, x]
        )[1]

    with pytest.raises(TypeError, match=r"tf.TensorSpec\(shape, dtype\)"):
        loop(tf.constant([1.0]), tf.float32)
    np.testing.assert_allclose(loop(tf.constant([1.0]), tf.TensorSpec([1], tf.float32)).numpy(), [8.0])


def test_eager_gradient_flows_through_the_python():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.py_function(lambda a: a * a, [x], tf.float32)
    assert tape.gradient(y, x).numpy() == 6.0


def test_graph_description_names_the_function_and_is_json():
    def host_fn(a):
        return a

    cf = tf.function(lambda x: tf.py_function(host_fn, [x], tf.float32)).get_concrete_function(tf.constant([1.0]))
    d = cf.graph.as_dict()
    node = next(n for n in d["nodes"] if n["type"] == "py_function")
    assert node["attrs"]["func"] == "host_fn" and node["outputs"] == [{"shape": [1], "dtype": "float32"}]
    json.dumps(d)


def test_bad_tout_and_func():
    with pytest.raises(TypeError, match="Tout must be a dtype"):
        tf.py_function(lambda: 1, [], "not a dtype")
    with pytest.raises(TypeError, match="func must be callable"):
        tf.py_function(3, [], tf.float32)

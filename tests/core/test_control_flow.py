"""Control flow eagerly and inside tf.function (cond/while graph nodes), tf.print,
TensorArray. Expected values from TF's API docs or by hand."""

import io

import pytest
import webtensor as tf


def both(fn):
    """Run ``fn`` eagerly and as a tf.function; the results must agree."""

    def run(*args):
        e = fn(*args)
        g = tf.function(fn)(*args)
        return e, g

    return run


def _ops(fn, *args):
    return [o.type for o in tf.function(fn).get_concrete_function(*args).graph.get_operations()]


def test_cond_eager_and_graph():
    def f(x):
        return tf.cond(x > 0, lambda: x * 2.0, lambda: -x)

    for v, want in ((3.0, 6.0), (-2.0, 2.0)):
        e, g = both(f)(tf.constant(v))
        assert e.tolist() == want and g.tolist() == want
    assert "cond" in _ops(f, tf.constant(1.0))


def test_cond_runs_only_taken_branch_per_call():
    buf = io.StringIO()

    @tf.function
    def f(x):
        return tf.cond(
            x > 0,
            lambda: (tf.print("pos", output_stream=buf), x)[1],
            lambda: (tf.print("neg", output_stream=buf), -x)[1],
        )

    f(tf.constant(1.0))
    f(tf.constant(-1.0))
    f(tf.constant(2.0))
    assert buf.getvalue() == "pos\nneg\npos\n"
    assert f.experimental_get_tracing_count() == 1


def test_cond_branch_mismatch_errors():
    @tf.function
    def structure(x):
        return tf.cond(x > 0, lambda: (x, x), lambda: x)

    with pytest.raises(TypeError, match="same number, type, and overall structure"):
        structure(tf.constant(1.0))

    @tf.function
    def dtypes(x):
        return tf.cond(x > 0, lambda: x, lambda: tf.cast(x, tf.int32))

    with pytest.raises(TypeError, match="float32 in true_fn and int32"):
        dtypes(tf.constant(1.0))


def test_cond_gradient_eager_and_in_function():
    def grad(x):
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.cond(x > 0, lambda: x * x, lambda: -x)
        return t.gradient(y, x)

    for v, want in ((3.0, 6.0), (-2.0, -1.0)):
        e, g = both(grad)(tf.constant(v))
        assert e.tolist() == want and g.tolist() == want


def test_while_loop_eager_and_graph():
    def f(n):
        return tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + i), (0, 0))

    e, g = both(f)(tf.constant(5))
    assert [t.tolist() for t in e] == [5, 10] and [t.tolist() for t in g] == [5, 10]
    assert "while" in _ops(f, tf.constant(5))
    # the same graph serves another n (the loop count is data, not traced)
    fn = tf.function(f)
    assert fn(tf.constant(5))[1].tolist() == 10 and fn(tf.constant(7))[1].tolist() == 21
    assert fn.experimental_get_tracing_count() == 1


def test_while_loop_maximum_iterations_and_shape_invariants():
    def f(x):
        return tf.while_loop(
            lambda v: v < 1000.0,
            lambda v: v * 2.0,
            [x],
            maximum_iterations=3,
            shape_invariants=[tf.TensorShape([])],
            parallel_iterations=4,
        )

    e, g = both(f)(tf.constant(1.0))
    assert e[0].tolist() == 8.0 and g[0].tolist() == 8.0


def test_while_loop_variable_changing_dtype_or_shape_errors():
    @tf.function
    def dt(x):
        return tf.while_loop(lambda v: v < 3, lambda v: tf.cast(v, tf.float32), [x])

    with pytest.raises(TypeError, match="loop variable 0 enters the loop with dtype int32"):
        dt(tf.constant(0))

    @tf.function
    def sh(x):
        return tf.while_loop(lambda v: tf.reduce_sum(v) < 3.0, lambda v: tf.concat([v, v], 0), [x])

    with pytest.raises(ValueError, match=r"shape \(1,\)"):
        sh(tf.constant([1.0]))


def test_while_loop_gradient_eager():
    x = tf.constant(1.5)
    with tf.GradientTape() as t:
        t.watch(x)
        (y,) = tf.while_loop(lambda v: tf.constant(True), lambda v: v * v, [x], maximum_iterations=2)
    assert y.tolist() == pytest.approx(1.5**4)
    assert t.gradient(y, x).tolist() == pytest.approx(4 * 1.5**3)


def test_case_and_switch_case():
    def f(x):
        return tf.case(
            [(x < 0, lambda: tf.constant(-1)), (x < 10, lambda: tf.constant(1))], default=lambda: tf.constant(2)
        )

    for v, want in ((-5, -1), (3, 1), (20, 2)):
        e, g = both(f)(tf.constant(v))
        assert e.tolist() == want and g.tolist() == want

    def s(i):
        return tf.switch_case(
            i, branch_fns={0: lambda: tf.constant(17), 1: lambda: tf.constant(31)}, default=lambda: tf.constant(-1)
        )

    for v, want in ((0, 17), (1, 31), (5, -1)):
        e, g = both(s)(tf.constant(v))
        assert e.tolist() == want and g.tolist() == want


def test_map_scan_folds():
    elems = tf.constant([1, 2, 3, 4, 5, 6])

    def f(x):
        return (
            tf.map_fn(lambda v: v * v, x),
            tf.scan(lambda a, v: a + v, x),
            tf.foldl(lambda a, v: a + v, x),
            tf.foldr(lambda a, v: a - v, x, initializer=100),
            tf.scan(lambda a, v: a + v, x, initializer=10, reverse=True),
        )

    for out in both(f)(elems):
        assert out[0].tolist() == [1, 4, 9, 16, 25, 36]
        assert out[1].tolist() == [1, 3, 6, 10, 15, 21]
        assert out[2].tolist() == 21
        assert out[3].tolist() == 100 - 21
        assert out[4].tolist() == [31, 30, 28, 25, 21, 16]


def test_map_fn_gradient_in_function():
    @tf.function
    def g(x):
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_sum(tf.map_fn(lambda v: v * v * v, x))
        return t.gradient(y, x)

    assert g(tf.constant([1.0, 2.0])).tolist() == [3.0, 12.0]


def test_tensor_array():
    def f(x):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        for i in range(3):
            ta = ta.write(i, x * float(i))
        return ta.stack(), ta.read(2), ta.size()

    for st, r2, n in both(f)(tf.constant([1.0, 2.0])):
        assert st.tolist() == [[0.0, 0.0], [1.0, 2.0], [2.0, 4.0]]
        assert r2.tolist() == [2.0, 4.0] and n.tolist() == 3
    ta = tf.TensorArray(tf.int32, size=2).unstack(tf.constant([[1, 2], [3, 4]]))
    assert ta.read(1).tolist() == [3, 4] and ta.gather([1, 0]).tolist() == [[3, 4], [1, 2]]
    assert ta.concat().tolist() == [1, 2, 3, 4]
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
        tf.TensorArray(tf.float32, size=1).write(1, 1.0)
    with pytest.raises(ValueError, match="element_shape"):
        tf.TensorArray(tf.float32, size=2, element_shape=[2]).write(0, [1.0, 2.0, 3.0])


def test_print_format_and_once_per_call(capsys):
    tf.print(tf.constant([1, 2, 3]))
    tf.print("x:", tf.constant([[1.5, 2.0], [3.0, 4.0]]), tf.constant(True))
    tf.print(tf.range(10))
    tf.print(tf.range(10), summarize=-1)
    err = capsys.readouterr().err
    assert err.splitlines() == ["[1 2 3]", "x: [[1.5 2]", " [3 4]] 1", "[0 1 2 ... 7 8 9]", "[0 1 2 3 4 5 6 7 8 9]"]

    @tf.function
    def f(x):
        tf.print("value", x)
        return x

    for v in (1, 2, 3):
        f(tf.constant(v))
    assert capsys.readouterr().err.splitlines() == ["value 1", "value 2", "value 3"]


def test_tensor_array_in_function_static_loop():
    @tf.function
    def f(x):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        for i in tf.range(len(x)):  # a static length: the loop unrolls, indices fold
            ta = ta.write(i, x[i] * 2.0)
        return ta.stack()

    assert f(tf.constant([1.0, 2.0, 3.0])).tolist() == [2.0, 4.0, 6.0]


def test_while_loop_gradient_inside_function():
    @tf.function
    def g(x):
        with tf.GradientTape() as t:
            t.watch(x)
            (y,) = tf.while_loop(lambda v: v < 10.0, lambda v: v * v, [x], maximum_iterations=5)
        return y, t.gradient(y, x)

    y, dy = g(tf.constant(1.5))  # 1.5 -> 2.25 -> 5.0625 -> 25.63: y = x^8, dy = 8 x^7
    assert y.tolist() == pytest.approx(1.5**8) and dy.tolist() == pytest.approx(8 * 1.5**7, rel=1e-5)
    y, dy = g(tf.constant(20.0))  # no iteration: y = x, dy = 1
    assert y.tolist() == 20.0 and dy.tolist() == 1.0


def test_debugging_asserts_eager_and_in_graph():
    tf.debugging.assert_equal(tf.constant([1, 2]), tf.constant([1, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"x == y did not hold[\s\S]*x \(shape=\(2,\)"):
        tf.debugging.assert_equal(tf.constant([1, 2]), tf.constant([1, 3]))

    @tf.function
    def f(x):
        tf.debugging.assert_positive(x, message="need positive")
        return tf.debugging.check_numerics(tf.math.log(x), "log")

    assert f(tf.constant([1.0])).tolist() == [0.0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="need positive"):
        f(tf.constant([-1.0]))
    assert "assert" in [o.type for o in f.get_concrete_function(tf.constant([1.0])).graph.get_operations()]
    with pytest.raises(tf.errors.InvalidArgumentError, match="log : Tensor had Inf values"):
        tf.debugging.check_numerics(tf.constant([1.0]) / 0.0, "log")
    with pytest.raises(ValueError, match="rank 2"):
        tf.debugging.assert_rank(tf.constant([1.0]), 2)


def test_cond_branches_for_side_effects_only(capsys):
    v = tf.Variable(0)

    @tf.function
    def f(x):
        tf.cond(x > 0, lambda: tf.print("pos"), lambda: tf.print("neg"))
        tf.cond(x > 0, lambda: v.assign_add(1), lambda: v.assign_sub(1))
        return v.read_value()

    assert f(tf.constant(1)).tolist() == 1 and f(tf.constant(2)).tolist() == 2
    assert f(tf.constant(-1)).tolist() == 1
    assert capsys.readouterr().err.splitlines() == ["pos", "pos", "neg"]


def test_tensor_array_as_graph_loop_variable():
    @tf.function
    def squares(n):
        ta = tf.TensorArray(tf.int32, size=5, element_shape=[])
        i = tf.constant(0)
        while i < n:
            ta = ta.write(i, i * i)
            i = i + 1
        return ta.stack()

    assert squares(tf.constant(3)).tolist() == [0, 1, 4, 0, 0]
    assert squares(tf.constant(5)).tolist() == [0, 1, 4, 9, 16]

    @tf.function
    def loop_python_start(n):
        return tf.while_loop(lambda i: i < n, lambda i: i + 2, [0])  # Python start, tensor bound

    assert loop_python_start(tf.constant(7))[0].tolist() == 8

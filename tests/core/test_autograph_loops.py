"""Autograph loops with jumps, and the tf.function items of issue 13 not covered elsewhere:
higher-order gradients through a function, ``for`` over a dataset, ``vectorized_map``.
Expected values are worked by hand."""

import webtensor as tf


def _sum_until(n):
    s = tf.constant(0)
    for i in tf.range(n):
        if i > 3:
            break
        s += i
    return s


def test_break_in_for_over_tensor_range_traces_once():
    f = tf.function(_sum_until)
    assert int(f(tf.constant(10))) == 0 + 1 + 2 + 3
    assert int(f(tf.constant(2))) == 0 + 1  # the loop ends before the break fires
    assert int(f(tf.constant(0))) == 0
    assert f.experimental_get_tracing_count() == 1
    assert "range_more" in tf.autograph.to_code(_sum_until)


def test_continue_in_for_over_tensor_range():
    @tf.function
    def odd_sum(n):
        s = tf.constant(0)
        for i in tf.range(n):
            if i % 2 == 0:
                continue
            s += i
        return s

    assert int(odd_sum(tf.constant(7))) == 1 + 3 + 5
    assert int(odd_sum(tf.constant(8))) == 1 + 3 + 5 + 7


def test_break_and_continue_with_negative_step():
    @tf.function
    def down(n):
        s = tf.constant(0)
        for i in tf.range(n, 0, -1):
            if i == 7:
                continue
            if i < 4:
                break
            s += i
        return s

    assert int(down(tf.constant(9))) == 9 + 8 + 6 + 5 + 4


def test_break_with_python_bounds_stays_python():
    calls = []

    @tf.function
    def f(x):
        for i in range(10):
            calls.append(i)  # a Python side effect: runs while tracing only
            if i >= 2:
                break
            x = x * 2.0
        return x

    assert float(f(tf.constant(1.5))) == 6.0
    assert calls == [0, 1, 2]
    float(f(tf.constant(2.5)))
    assert calls == [0, 1, 2]


def test_second_order_gradient_through_a_function():
    cube = tf.function(lambda x: x * x * x)
    x = tf.Variable(2.0)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = cube(x)
        dy = inner.gradient(y, x)
    assert float(dy) == 12.0  # 3 x^2
    assert float(outer.gradient(dy, x)) == 12.0  # 6 x


def test_second_order_gradient_inside_a_function():
    @tf.function
    def d2(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = x * x * x
            dy = inner.gradient(y, x)
        return outer.gradient(dy, x)

    assert float(d2(tf.constant(3.0))) == 18.0


def test_for_over_a_dataset_inside_a_function():
    @tf.function
    def total(ds):
        s = tf.constant(0, tf.int64)
        for x in ds:
            s += x
        return s

    assert int(total(tf.data.Dataset.range(5))) == 10


def test_vectorized_map_rows():
    got = tf.vectorized_map(lambda r: tf.reduce_sum(r * r), tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    assert got.numpy().tolist() == [5.0, 25.0]

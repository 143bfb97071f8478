"""GradientTape semantics: watching, persistence, structures, higher order, jacobians."""

import math

import pytest

import webtensor as tf
from util import assert_close, assert_equal, tolist


def test_readme_example():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x**2 + 2.0 * x + tf.sin(x)
    assert_close(tape.gradient(y, x), 2 * 3.0 + 2.0 + math.cos(3.0))


def test_trainable_variables_are_watched_automatically():
    w = tf.Variable([1.0, 2.0])
    frozen = tf.Variable([1.0, 1.0], trainable=False)
    c = tf.constant([5.0, 5.0])
    with tf.GradientTape() as t:
        y = tf.reduce_sum(w * frozen * c)
    gw, gf, gc = t.gradient(y, [w, frozen, c])
    assert_equal(gw, [5.0, 5.0])
    assert gf is None and gc is None
    assert [v.name for v in t.watched_variables()] == [w.name]


def test_watch_accessed_variables_false():
    w = tf.Variable(2.0)
    with tf.GradientTape(watch_accessed_variables=False) as t:
        y = w * w
    assert t.gradient(y, w) is None
    with tf.GradientTape(watch_accessed_variables=False) as t:
        t.watch(w)
        y = w * w
    assert_equal(t.gradient(y, w), 4.0)


def test_non_persistent_tape_second_call_raises():
    x = tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used to compute one set"):
        t.gradient(y, x)


def test_persistent_tape_and_structures():
    x = tf.constant([1.0, 2.0])
    v = tf.Variable(3.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x * v
        z = tf.reduce_sum(y)
    g = t.gradient(z, {"x": x, "pair": (v, [x])})
    assert_equal(g["x"], [6.0, 12.0])
    assert_equal(g["pair"][0], 5.0)
    assert_equal(g["pair"][1][0], [6.0, 12.0])
    # non-scalar target: gradient of its sum
    assert_equal(t.gradient(y, x), [6.0, 12.0])
    # several targets add up
    assert_equal(t.gradient([z, y], v), 10.0)
    # output_gradients weight the targets
    assert_equal(t.gradient(y, x, output_gradients=tf.constant([1.0, 0.5])), [6.0, 6.0])
    del t


def test_unconnected_gradients():
    x, u = tf.constant(1.0), tf.constant([1.0, 2.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch([x, u])
        y = x * 2.0
    assert t.gradient(y, u) is None
    assert_equal(t.gradient(y, u, unconnected_gradients=tf.UnconnectedGradients.ZERO), [0.0, 0.0])
    assert_equal(t.gradient(y, u, unconnected_gradients="zero"), [0.0, 0.0])


def test_stop_gradient_and_stop_recording():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * tf.stop_gradient(x)
        with t.stop_recording():
            z = x * 100.0
        y = y + z
    assert_equal(t.gradient(y, x), 3.0)


def test_intermediate_tensor_as_source():
    x = tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch(x)
        h = x * x
        y = h * 3.0 + h
    dh, dx = t.gradient(y, [h, x])
    assert_equal(dh, 4.0)
    assert_equal(dx, 16.0)


def test_integer_results_stop_gradients():
    x = tf.constant([1.5, 2.5])
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.cast(tf.argmax(x), tf.float32) * x
    assert_equal(t.gradient(y, x), [1.0, 1.0])


SECOND = [  # f, x, analytic f''(x)
    (lambda x: x**3, 1.5, lambda x: 6 * x),
    (tf.exp, 0.7, math.exp),
    (tf.sin, 0.4, lambda x: -math.sin(x)),
    (tf.cos, 0.4, lambda x: -math.cos(x)),
    (tf.tanh, 0.3, lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2)),
    (tf.sigmoid, 0.5, lambda x: (s := 1 / (1 + math.exp(-x))) * (1 - s) * (1 - 2 * s)),
    (tf.math.log, 2.0, lambda x: -1 / x**2),
    (tf.sqrt, 2.0, lambda x: -0.25 * x**-1.5),
    (tf.math.reciprocal, 2.0, lambda x: 2 / x**3),
    (tf.square, 1.3, lambda x: 2.0),
    (tf.math.softplus, 0.2, lambda x: (s := 1 / (1 + math.exp(-x))) * (1 - s)),
    (tf.math.erf, 0.6, lambda x: -4 * x / math.sqrt(math.pi) * math.exp(-x * x)),
    (tf.math.log1p, 0.5, lambda x: -1 / (1 + x) ** 2),
    (tf.math.expm1, 0.5, math.exp),
    (tf.nn.elu, -0.5, math.exp),
    (lambda x: x * tf.sigmoid(x), 0.8, lambda x: (s := 1 / (1 + math.exp(-x))) * (1 - s) * (2 + x * (1 - 2 * s))),
    (tf.tan, 0.3, lambda x: 2 * math.tan(x) / math.cos(x) ** 2),
]


@pytest.mark.parametrize("f,x0,d2", SECOND, ids=[f"second_{i}" for i in range(len(SECOND))])
def test_second_derivatives_nested_tapes(f, x0, d2):
    x = tf.constant(x0, tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        dy = inner.gradient(y, x)
    assert_close(outer.gradient(dy, x), d2(x0), rtol=1e-9, atol=1e-12)


def test_second_derivative_of_matmul_softmax_loss():
    """Hessian-vector product through matmul + sparse softmax cross-entropy, vs finite differences."""
    x = tf.constant([[0.3, -0.2], [0.1, 0.4]], tf.float64)
    labels = tf.constant([1, 0])
    v = tf.constant([[0.5, -1.0, 0.2], [0.1, 0.3, -0.4]], tf.float64)

    def grad_dot_v(w):
        with tf.GradientTape() as t:
            t.watch(w)
            loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, x @ w))
        return tf.reduce_sum(t.gradient(loss, w) * v)

    w0 = tf.constant([[0.1, 0.2, -0.3], [0.0, -0.5, 0.4]], tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(w0)
        gv = grad_dot_v(w0)
    hv = outer.gradient(gv, w0)
    eps = 1e-6
    fd = [
        [
            (float(grad_dot_v(w0 + eps * _unit(i, j))) - float(grad_dot_v(w0 - eps * _unit(i, j)))) / (2 * eps)
            for j in range(3)
        ]
        for i in range(2)
    ]
    assert_close(hv, fd, rtol=1e-6, atol=1e-9)


def _unit(i, j):
    return tf.constant([[1.0 if (a, b) == (i, j) else 0.0 for b in range(3)] for a in range(2)], tf.float64)


def test_third_derivative():
    x = tf.constant(0.5, tf.float64)
    with tf.GradientTape() as t3:
        t3.watch(x)
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = x**4
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    assert_close(t3.gradient(d2, x), 24 * 0.5)


def test_jacobian_and_batch_jacobian():
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    j = t.jacobian(y, x)
    assert_equal(j, [[2.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 6.0]])
    w = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    xb = tf.constant([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]])
    with tf.GradientTape() as t:
        t.watch(xb)
        yb = tf.tanh(xb @ w)
    bj = t.batch_jacobian(yb, xb)
    assert bj.shape == (2, 2, 3)
    for b in range(2):
        pre = [sum(tolist(xb)[b][k] * tolist(w)[k][i] for k in range(3)) for i in range(2)]
        want = [[(1 - math.tanh(pre[i]) ** 2) * tolist(w)[k][i] for k in range(3)] for i in range(2)]
        assert_close(bj[b], want, rtol=1e-5)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = tf.reduce_sum(x) * 2.0
    assert_equal(t.jacobian(y, x), [2.0, 2.0, 2.0])
    assert t.jacobian(y, tf.constant(1.0)) is None


def test_custom_gradient():
    @tf.custom_gradient
    def clip_grad_identity(x):
        def grad(dy):
            return tf.clip_by_value(dy, -0.5, 0.5)

        return tf.identity(x), grad

    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as t:
        t.watch(x)
        y = clip_grad_identity(x) * tf.constant([3.0, 0.1])
    assert_close(t.gradient(y, x), [0.5, 0.1])


def test_custom_gradient_with_variables():
    v = tf.Variable(2.0)

    @tf.custom_gradient
    def scale(x):
        def grad(dy, variables=None):
            return dy * v, [dy * x * 10.0]

        return x * v, grad

    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = scale(x)
    gx, gv = t.gradient(y, [x, v])
    assert_equal(gx, 2.0)
    assert_equal(gv, 30.0)


def test_gradient_of_gradient_sum_for_persistent_inside():
    x = tf.Variable(1.5)
    with tf.GradientTape(persistent=True) as t:
        y = x * x * x
        g = t.gradient(y, x)  # computed inside the tape's own block, as TF allows for persistent tapes
    assert_close(g, 3 * 1.5**2)


def test_gradient_flows_through_an_implicit_backend_copy():
    """float64 lives on the CPU when the backend has none (the GPU): the copy there and
    back is part of the tape, and the gradient comes home to the input's backend."""
    a = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(a)
        y = tf.reduce_sum(tf.cast(a, tf.float64) * tf.constant([3.0, 4.0], tf.float64))
    g = tape.gradient(y, a)
    assert g._be is a._be and g.dtype is tf.float32
    assert_close(g, [3.0, 4.0])

"""The compiled train step: optimizer state as variables (traced == eager == numpy), and
``compile(run_eagerly=False)`` fit/evaluate/predict through tf.function (== the eager path)."""
import numpy as np
import pytest

import webtensor as tf

K = tf.keras

X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, 0.3]], np.float32)
W0 = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)
B0 = np.array([0.1, -0.2], np.float32)


def _grads(w, b):
    """d/d(w, b) of sum((x w + b)^2), by hand."""
    r = 2.0 * (X.astype(np.float64) @ w + b)
    return X.T.astype(np.float64) @ r, r.sum(0)


def _numpy_reference(name, steps):
    w, b = W0.astype(np.float64), B0.astype(np.float64)
    state = [{}, {}]
    for t in range(1, steps + 1):
        new = []
        for p, g, st in zip((w, b), _grads(w, b), state):
            if name == "sgd":  # Keras: m = 0.9 m - lr g; w += m
                st["m"] = 0.9 * st.get("m", 0.0) - 0.01 * g
                p = p + st["m"]
            elif name == "adam":
                st["m"] = st.get("m", 0.0) + (g - st.get("m", 0.0)) * 0.1
                st["v"] = st.get("v", 0.0) + (g * g - st.get("v", 0.0)) * 0.001
                alpha = 0.01 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
                p = p - st["m"] * alpha / (np.sqrt(st["v"]) + 1e-7)
            elif name == "rmsprop":
                st["v"] = 0.9 * st.get("v", 0.0) + 0.1 * g * g
                p = p - 0.01 * g / np.sqrt(st["v"] + 1e-7)
            elif name == "adagrad":
                st["a"] = st.get("a", 0.1) + g * g
                p = p - 0.1 * g / np.sqrt(st["a"] + 1e-7)
            new.append(p)
        w, b = new
    return w, b


OPTIMIZERS = {
    "sgd": lambda: K.optimizers.SGD(0.01, momentum=0.9),
    "adam": lambda: K.optimizers.Adam(0.01),
    "rmsprop": lambda: K.optimizers.RMSprop(0.01),
    "adagrad": lambda: K.optimizers.Adagrad(0.1),
}


def _train(opt, traced, steps, w=None, b=None):
    w = tf.Variable(W0) if w is None else w
    b = tf.Variable(B0) if b is None else b
    x = tf.constant(X)

    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(tf.matmul(x, w) + b))
        opt.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))
        return loss

    f = tf.function(step) if traced else step
    for _ in range(steps):
        f()
    return w, b, f


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_traced_optimizer_step_matches_eager_and_numpy(name):
    ref = _numpy_reference(name, 5)
    ew, eb, _ = _train(OPTIMIZERS[name](), False, 5)
    opt = OPTIMIZERS[name]()
    tw, tb, f = _train(opt, True, 5)
    assert f.experimental_get_tracing_count() == 1  # one graph, replayed: the state is in variables
    for got in ((ew, eb), (tw, tb)):
        np.testing.assert_allclose(got[0].numpy(), ref[0], rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(got[1].numpy(), ref[1], rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(tw.numpy(), ew.numpy(), rtol=1e-6, atol=1e-6)
    assert int(opt.iterations.numpy()) == 5


def test_iterations_is_an_int64_non_trainable_variable():
    opt = K.optimizers.Adam()
    assert isinstance(opt.iterations, tf.Variable)
    assert opt.iterations.dtype == tf.int64 and not opt.iterations.trainable


def test_eager_and_traced_steps_interleave():
    """3 traced + 2 eager steps equal 5 numpy steps (the eager path re-reads the state)."""
    opt = K.optimizers.Adam(0.01)
    w, b, _ = _train(opt, True, 3)
    _train(opt, False, 2, w, b)
    ref = _numpy_reference("adam", 5)
    np.testing.assert_allclose(w.numpy(), ref[0], rtol=2e-5, atol=1e-6)
    assert int(opt.iterations.numpy()) == 5


def test_schedule_is_evaluated_from_iterations_in_a_trace():
    """ExponentialDecay(0.1, 1, 0.5): lr 0.1, 0.05, 0.025 for steps 0, 1, 2 (plain SGD)."""
    sched = K.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = K.optimizers.SGD(sched)
    v = tf.Variable([1.0])

    @tf.function
    def step():
        opt.apply_gradients([(tf.constant([1.0]), v)])

    for _ in range(3):
        step()
    np.testing.assert_allclose(v.numpy(), [1.0 - 0.1 - 0.05 - 0.025], rtol=1e-6)


@pytest.mark.parametrize("kind", ["piecewise", "cosine", "inverse"])
def test_schedule_tensor_value_matches_host_value(kind):
    S = K.optimizers.schedules
    sched = {"piecewise": S.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]),
             "cosine": S.CosineDecay(0.1, 10, alpha=0.1, warmup_target=0.2, warmup_steps=3),
             "inverse": S.InverseTimeDecay(0.1, 2, 0.5, staircase=True)}[kind]
    f = tf.function(lambda s: sched(s))
    for step in [0.0, 1.0, 2.0, 2.5, 4.0, 6.0, 13.0, 20.0]:
        np.testing.assert_allclose(f(tf.constant(step)).numpy(), sched.value(step), rtol=1e-6, atol=1e-7)


def test_learning_rate_variable_change_reaches_the_graph():
    opt = K.optimizers.SGD(0.1)
    v = tf.Variable([1.0])

    @tf.function
    def step():
        opt.apply_gradients([(tf.constant([1.0]), v)])

    step()
    opt.learning_rate = 0.01  # e.g. ReduceLROnPlateau
    step()
    np.testing.assert_allclose(v.numpy(), [1.0 - 0.1 - 0.01], rtol=1e-6)


@pytest.mark.parametrize("kwargs", [{"use_ema": True, "ema_overwrite_frequency": 2},
                                    {"gradient_accumulation_steps": 2}, {"weight_decay": 0.1},
                                    {"global_clipnorm": 1.0}])
def test_optimizer_options_traced_match_eager(kwargs):
    ew, eb, _ = _train(K.optimizers.Adam(0.01, **kwargs), False, 5)
    tw, tb, _ = _train(K.optimizers.Adam(0.01, **kwargs), True, 5)
    np.testing.assert_allclose(tw.numpy(), ew.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tb.numpy(), eb.numpy(), rtol=1e-5, atol=1e-6)


def test_nadam_traced_matches_eager():
    ew, _, _ = _train(K.optimizers.Nadam(0.01), False, 4)
    tw, _, _ = _train(K.optimizers.Nadam(0.01), True, 4)
    np.testing.assert_allclose(tw.numpy(), ew.numpy(), rtol=1e-5, atol=1e-6)

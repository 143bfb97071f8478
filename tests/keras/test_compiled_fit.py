"""The compiled train step: optimizer state as variables (traced == eager == numpy), and
``compile(run_eagerly=False)`` fit/evaluate/predict through tf.function (== the eager path)."""

import pytest

np = pytest.importorskip("numpy")  # the page has no numpy: there the module skips

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
                alpha = 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
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
    sched = {
        "piecewise": S.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]),
        "cosine": S.CosineDecay(0.1, 10, alpha=0.1, warmup_target=0.2, warmup_steps=3),
        "inverse": S.InverseTimeDecay(0.1, 2, 0.5, staircase=True),
    }[kind]
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


@pytest.mark.parametrize(
    "kwargs",
    [
        {"use_ema": True, "ema_overwrite_frequency": 2},
        {"gradient_accumulation_steps": 2},
        {"weight_decay": 0.1},
        {"global_clipnorm": 1.0},
    ],
)
def test_optimizer_options_traced_match_eager(kwargs):
    ew, eb, _ = _train(K.optimizers.Adam(0.01, **kwargs), False, 5)
    tw, tb, _ = _train(K.optimizers.Adam(0.01, **kwargs), True, 5)
    np.testing.assert_allclose(tw.numpy(), ew.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tb.numpy(), eb.numpy(), rtol=1e-5, atol=1e-6)


def test_nadam_traced_matches_eager():
    ew, _, _ = _train(K.optimizers.Nadam(0.01), False, 4)
    tw, _, _ = _train(K.optimizers.Nadam(0.01), True, 4)
    np.testing.assert_allclose(tw.numpy(), ew.numpy(), rtol=1e-5, atol=1e-6)


# -- compile(run_eagerly=False): fit / evaluate / predict through tf.function ---------------------

L = K.layers
RNG = np.random.default_rng(0)
XS = RNG.normal(size=(70, 6)).astype(np.float32)
YS = RNG.integers(0, 3, 70).astype(np.int32)
SW = RNG.uniform(0.5, 1.5, 70).astype(np.float32)


def _mlp(run_eagerly, weights=None, **compile_kw):
    m = K.Sequential([K.Input((6,)), L.Dense(8, activation="relu"), L.Dense(3)])
    m.compile(
        K.optimizers.Adam(0.01),
        K.losses.SparseCategoricalCrossentropy(from_logits=True),
        ["accuracy", K.metrics.SparseCategoricalCrossentropy(from_logits=True, name="ce")],
        run_eagerly=run_eagerly,
        **compile_kw,
    )
    if weights is not None:
        m.set_weights(weights)
    return m


def _pair(**compile_kw):
    eager = _mlp(True)
    return eager, _mlp(False, eager.get_weights(), **compile_kw)


def _close_history(a, b):
    assert sorted(a) == sorted(b)
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_compiled_is_the_default_and_run_eagerly_keeps_the_eager_path():
    m = K.Sequential([K.Input((6,)), L.Dense(3)])
    m.compile("sgd", "mse")
    assert m.run_eagerly is False
    assert isinstance(m.make_train_function(), tf.function(lambda: 0).__class__)
    m.compile("sgd", "mse", run_eagerly=True)
    assert m.run_eagerly is True and not hasattr(m.make_train_function(), "experimental_get_tracing_count")
    m.run_eagerly = False
    assert hasattr(m.make_train_function(), "experimental_get_tracing_count")


def test_compiled_fit_evaluate_predict_equal_eager():
    eager, comp = _pair()
    kw = dict(batch_size=16, epochs=3, verbose=0, shuffle=False, sample_weight=SW, validation_data=(XS[:20], YS[:20]))
    _close_history(eager.fit(XS, YS, **kw).history, comp.fit(XS, YS, **kw).history)
    for a, b in zip(eager.get_weights(), comp.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(comp.evaluate(XS, YS, verbose=0), eager.evaluate(XS, YS, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(comp.predict(XS, verbose=0), eager.predict(XS, verbose=0), rtol=1e-5, atol=1e-6)
    # optimizer state is the same too (iterations, slots): 3 epochs of ceil(70/16) = 5 steps
    assert int(comp.optimizer.iterations.numpy()) == 15
    for a, b in zip(eager.optimizer.variables, comp.optimizer.variables):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)


def test_traced_once_per_input_shape_and_once_more_for_the_last_partial_batch():
    _, comp = _pair()
    comp.fit(XS, YS, batch_size=16, epochs=3, verbose=0)  # 4 batches of 16, one of 6
    assert comp.train_function.experimental_get_tracing_count() == 2
    comp.fit(XS, YS, batch_size=16, epochs=1, verbose=0)  # the cached traces serve a new fit
    assert comp.train_function.experimental_get_tracing_count() == 2
    comp.evaluate(XS, YS, batch_size=35, verbose=0)
    assert comp.test_function.experimental_get_tracing_count() == 1
    comp.predict(XS, batch_size=32, verbose=0)
    assert comp.predict_function.experimental_get_tracing_count() == 2


def test_per_batch_logs_and_callbacks_equal_eager():
    seen = {}

    def record(name):
        cb = K.callbacks.LambdaCallback(
            on_train_batch_end=lambda b, logs: seen.setdefault(name, []).append((b, float(logs["loss"])))
        )
        return cb

    eager, comp = _pair()
    eager.fit(XS, YS, batch_size=16, epochs=2, verbose=0, shuffle=False, callbacks=[record("e")])
    comp.fit(XS, YS, batch_size=16, epochs=2, verbose=0, shuffle=False, callbacks=[record("c")])
    assert [b for b, _ in seen["c"]] == [b for b, _ in seen["e"]] == [0, 1, 2, 3, 4] * 2
    np.testing.assert_allclose([v for _, v in seen["c"]], [v for _, v in seen["e"]], rtol=1e-5)


def test_steps_per_execution_runs_n_steps_per_call():
    eager, comp = _pair(steps_per_execution=2)
    ends = []
    cb = K.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: ends.append(b))
    he = eager.fit(XS, YS, batch_size=16, epochs=2, verbose=0, shuffle=False).history
    hc = comp.fit(XS, YS, batch_size=16, epochs=2, verbose=0, shuffle=False, callbacks=[cb]).history
    _close_history(he, hc)
    assert ends == [1, 3, 4] * 2  # Keras: the last step of each group of 2 (5 batches per epoch)
    assert comp.train_function.experimental_get_tracing_count() == 2  # groups of 2, the last of 1
    assert int(comp.optimizer.iterations.numpy()) == 10
    np.testing.assert_allclose(
        comp.predict(XS, batch_size=16, verbose=0), eager.predict(XS, batch_size=16, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_overridden_train_step_compiles():
    class Custom(K.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(1, kernel_initializer="ones")
            self.traces = 0
            self.tracker = K.metrics.Mean(name="loss")

        def call(self, x):
            return self.d(x)

        def train_step(self, data):
            self.traces += 1  # a Python side effect: runs only while tracing when compiled
            x, y = data
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(self(x, training=True) - y))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.tracker.update_state(loss)
            if tf.reduce_sum(loss) > 100.0:  # autograph: a tensor condition becomes a cond
                loss = loss * 0.0
            return {"loss": self.tracker.result()}

    x = np.array([[1.0], [2.0], [3.0], [4.0]], np.float32)
    y = 2.0 * x
    out = {}
    for eager in (True, False):
        m = Custom()
        m.compile(K.optimizers.SGD(0.05), run_eagerly=eager)
        h = m.fit(x, y, batch_size=2, epochs=3, verbose=0, shuffle=False).history
        out[eager] = (h["loss"], m.d.kernel.numpy(), m.traces)
    np.testing.assert_allclose(out[False][0], out[True][0], rtol=1e-6)
    np.testing.assert_allclose(out[False][1], out[True][1], rtol=1e-6)
    assert out[True][2] == 6 and out[False][2] <= 2  # eager: every step; compiled: the trace(s)


def test_model_without_input_builds_in_the_first_trace():
    m = K.Sequential([L.Dense(4, activation="relu"), L.Dense(1)])
    m.compile(K.optimizers.Adam(0.05), "mse", metrics=["mae"])
    x = RNG.normal(size=(32, 3)).astype(np.float32)
    y = x.sum(1, keepdims=True)
    h = m.fit(x, y, batch_size=8, epochs=20, verbose=0).history
    assert m.built and h["loss"][-1] < 0.5 * h["loss"][0]
    assert m.train_function.experimental_get_tracing_count() == 1
    # the metric means count samples in the graph (a host-side count would freeze at trace time)
    np.testing.assert_allclose(m.evaluate(x, y, verbose=0)[1], np.abs(m.predict(x, verbose=0) - y).mean(), rtol=1e-5)


def test_on_batch_variants_equal_eager():
    eager, comp = _pair()
    for m in (eager, comp):
        m.train_on_batch(XS[:16], YS[:16])
    np.testing.assert_allclose(comp.test_on_batch(XS, YS), eager.test_on_batch(XS, YS), rtol=1e-5)
    np.testing.assert_allclose(comp.predict_on_batch(XS[:5]), eager.predict_on_batch(XS[:5]), rtol=1e-5, atol=1e-6)


def test_learning_rate_callback_reaches_the_compiled_step():
    sched = K.callbacks.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))
    eager, comp = _pair()
    kw = dict(batch_size=35, epochs=3, verbose=0, shuffle=False, callbacks=[sched])
    _close_history(eager.fit(XS, YS, **kw).history, comp.fit(XS, YS, **kw).history)


def test_compile_checks_steps_per_execution():
    m = K.Sequential([K.Input((6,)), L.Dense(3)])
    with pytest.raises(ValueError, match="steps_per_execution"):
        m.compile("sgd", "mse", steps_per_execution=0)


def test_varying_batch_sizes_do_not_retrace_visibly():
    """Keras 3 traces its steps with reduce_retracing: the second batch size generalises the
    batch dim, later sizes are quiet re-traces (no retracing warning)."""
    import warnings

    _, comp = _pair()
    batches = [(XS[:n], YS[:n]) for n in (5, 6, 7, 8, 9, 10)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        comp.fit(iter(batches), epochs=1, verbose=0)
    assert comp.train_function.experimental_get_tracing_count() == 2
    assert int(comp.optimizer.iterations.numpy()) == 6


def test_progress_bar_prints_the_same_as_eager():
    import contextlib
    import io
    import re

    def shown(run_eagerly):
        m = K.Sequential([K.Input((3,)), L.Dense(1, kernel_initializer="ones")])
        m.compile("sgd", "mse", run_eagerly=run_eagerly)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            m.fit(np.ones((10, 3), np.float32), np.zeros((10, 1), np.float32), batch_size=4, epochs=2, verbose=1)
        text = re.sub(r"[\d.]+(ms|us|s)\b", "T", buf.getvalue().replace("\b", ""))
        # what stays on screen: the last redraw of each line (how often it redraws depends on time)
        return [line.split("\r")[-1].rstrip() for line in text.split("\n")]

    eager, compiled = shown(True), shown(False)
    assert compiled == eager and sum("loss:" in line for line in compiled) >= 2


def test_keras_style_schedule_subclass_eager_and_traced():
    class Halving(K.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):  # Keras style: tensor ops on the step
            return 0.1 * tf.pow(0.5, step)

    for traced in (False, True):
        opt = K.optimizers.SGD(Halving())
        v = tf.Variable([1.0])

        def step():
            opt.apply_gradients([(tf.constant([1.0]), v)])

        f = tf.function(step) if traced else step
        for _ in range(3):
            f()
        np.testing.assert_allclose(v.numpy(), [1.0 - 0.1 - 0.05 - 0.025], rtol=1e-6)


def test_eager_steps_between_replays_keep_the_slots():
    """traced, eager, then the same trace replayed: 6 steps as numpy's (the replay reads slot
    variables the eager steps kept current; RMSprop's eager path would use flat slots)."""
    opt = OPTIMIZERS["rmsprop"]()
    w, b, f = _train(opt, True, 2)
    _train(opt, False, 2, w, b)
    for _ in range(2):
        f()
    assert f.experimental_get_tracing_count() == 1
    ref = _numpy_reference("rmsprop", 6)
    np.testing.assert_allclose(w.numpy(), ref[0], rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(b.numpy(), ref[1], rtol=2e-5, atol=1e-6)


def test_validation_does_not_retrace_the_train_step():
    """Validation between epochs leaves the train step's signature alone (one trace per batch
    shape of each function over 3 epochs)."""
    _, comp = _pair()
    comp.fit(XS, YS, batch_size=16, epochs=3, verbose=0, validation_data=(XS[:32], YS[:32]))
    assert comp.train_function.experimental_get_tracing_count() == 2
    assert comp.test_function.experimental_get_tracing_count() == 1


def test_compiled_step_rejects_out_of_range_sparse_label_as_tf_on_cpu():
    """TF on CPU fails the step with "Received a label value of 10 which is outside the valid
    range of [0, 10)"; the compiled step checks it with an assert node at replay, before the
    update (the weights stay as they were), and eager says the same."""
    if "GPU" in tf.constant([0.0]).device:
        pytest.skip("TF checks sparse labels on CPU only; GPU programs prune the check (docs/tf-function.md)")
    for eager in (False, True):
        m = K.Sequential([K.Input((4,)), K.layers.Dense(10)])
        m.compile("sgd", K.losses.SparseCategoricalCrossentropy(from_logits=True), run_eagerly=eager)
        x = np.ones((4, 4), np.float32)
        m.fit(x, np.array([0, 1, 2, 9]), verbose=0)  # in range: trains
        before = [w.copy() for w in m.get_weights()]
        with pytest.raises(
            tf.errors.InvalidArgumentError, match=r"label value of 10 which is outside the valid range of \[0, 10\)"
        ):
            m.fit(x, np.array([0, 1, 2, 10]), verbose=0)  # same shapes: the traced step replays
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"label value of -1 which"):
            m.fit(x, np.array([0, -1, 2, 3]), verbose=0)
        for a, b in zip(before, m.get_weights()):
            assert np.array_equal(a, b)


def test_label_range_assert_node_in_the_graph():
    if "GPU" in tf.constant([0.0]).device:
        pytest.skip("TF checks sparse labels on CPU only; GPU programs prune the check (docs/tf-function.md)")

    @tf.function
    def loss(lab, x):
        return tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=x))

    x = tf.zeros((2, 3))
    assert abs(loss(tf.constant([0, 2]), x).numpy() - 2 * np.log(3)) < 1e-5  # uniform: -log(1/3) each
    ops = loss.get_concrete_function(tf.constant([0, 2]), x).graph.get_operations()
    asserts = [o for o in ops if o.type == "assert"]
    assert len(asserts) == 1 and asserts[0].get_attr("label_range") == 3
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"label value of 3 which .* \[0, 3\)"):
        loss(tf.constant([0, 3]), x)


def test_label_range_assert_saves_as_a_plain_assert(tmp_path):
    """The format carries a plain ``assert`` (message, labels, summarize): a loaded function
    still rejects the label, with the range in its message and the labels as data."""

    class M(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([None, 3], tf.float32)])
        def loss(self, lab, x):
            return tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=x))

    tf.saved_model.save(M(), str(tmp_path))
    m = tf.saved_model.load(str(tmp_path))
    assert abs(m.loss(tf.constant([0, 2]), tf.zeros((2, 3))).numpy() - 2 * np.log(3)) < 1e-5
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"outside the valid range of \[0, 3\)\nlabels .*\[0 3\]"):
        m.loss(tf.constant([0, 3]), tf.zeros((2, 3)))

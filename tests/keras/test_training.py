"""compile / fit / evaluate / predict and friends, checked against hand-computed steps."""

import contextlib
import io
import math

import pytest

import webtensor as tf
from util import assert_close, tolist

K = tf.keras
L = K.layers


def linear(**kw):
    m = K.Sequential([K.Input((1,)), L.Dense(1, kernel_initializer="zeros", **kw)])
    m.compile(optimizer=K.optimizers.SGD(0.1), loss="mse")
    return m


X = [[1.0], [2.0]]
Y = [[2.0], [4.0]]


def test_one_sgd_step_by_hand():
    m = linear()
    h = m.fit(X, Y, batch_size=2, epochs=1, shuffle=False, verbose=0)
    # w = b = 0: loss = (4 + 16) / 2 = 10; dL/dw = mean(2 (0 - y) x) = -10, dL/db = -6
    assert h.history == {"loss": [10.0]}
    assert_close(m.weights[0], [[1.0]])
    assert_close(m.weights[1], [0.6])
    assert h.epoch == [0] and h.params["epochs"] == 1 and h.params["steps"] == 1


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    m = linear()
    m.optimizer.learning_rate = 0.0
    h = m.fit([[1.0], [2.0], [3.0]], [[1.0], [1.0], [1.0]], batch_size=2, shuffle=False, verbose=0)
    # batches [1, 2] -> mean(1, 1) = 1 (2 samples), [3] -> 1 (1 sample): epoch loss 1
    assert_close(h.history["loss"], [1.0])
    m2 = linear()
    m2.optimizer.learning_rate = 0.0
    h = m2.fit([[0.0], [0.0], [0.0]], [[1.0], [3.0], [2.0]], batch_size=2, shuffle=False, verbose=0)
    # batch losses (1 + 9) / 2 = 5 over 2 samples and 4 over 1: (5 * 2 + 4) / 3
    assert_close(h.history["loss"], [14 / 3], rtol=1e-6)


def test_sample_weight_and_class_weight():
    m = linear()
    m.optimizer.learning_rate = 0.0
    # per-sample losses 4 and 16; weights 1 and 3: sum(w l) / N = (4 + 48) / 2
    assert_close(m.evaluate(X, Y, sample_weight=[1.0, 3.0], verbose=0), 26.0)
    c = K.Sequential([K.Input((2,)), L.Dense(2, kernel_initializer="zeros", use_bias=False)])
    c.compile(K.optimizers.SGD(0.0), K.losses.SparseCategoricalCrossentropy(from_logits=True))
    h = c.fit([[1.0, 0.0], [0.0, 1.0]], [0, 1], class_weight={0: 1.0, 1: 3.0}, batch_size=2, verbose=0)
    # zero logits: each loss is log 2; weighted sum (1 + 3) log 2 over 2 samples
    assert_close(h.history["loss"], [2 * math.log(2)], rtol=1e-6)


def test_history_metrics_validation_and_evaluate_forms():
    tf.random.set_seed(0)
    x = tf.random.normal((40, 3))
    y = tf.cast(tf.reduce_sum(x, 1) > 0, "int32")
    m = K.Sequential([K.Input((3,)), L.Dense(2, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0)
    assert list(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 3 for v in h.history.values())
    assert type(m.metrics[1]).__name__ == "SparseCategoricalAccuracy" and m.metrics_names == ["loss", "accuracy"]
    # validation is the last 25% of the samples, evaluated with the epoch's final weights
    val = m.evaluate(x[30:], y[30:], verbose=0)
    assert_close(val, [h.history["val_loss"][-1], h.history["val_accuracy"][-1]], rtol=1e-5)
    d = m.evaluate(x, y, verbose=0, return_dict=True)
    assert set(d) == {"loss", "accuracy"}
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert isinstance(m.evaluate(x, y, verbose=0), float)
    h = m.fit(x, y, epochs=4, initial_epoch=2, validation_data=(x[:5], y[:5]), verbose=0)
    assert h.epoch == [2, 3] and len(h.history["val_loss"]) == 2


def test_accuracy_resolution_binary_categorical_sparse():
    for pred_units, y, want in (
        (1, [[1.0], [0.0]], "BinaryAccuracy"),
        (2, [[1.0, 0.0], [0.0, 1.0]], "CategoricalAccuracy"),
        (2, [1, 0], "SparseCategoricalAccuracy"),
    ):
        m = K.Sequential([K.Input((2,)), L.Dense(pred_units, activation="sigmoid")])
        loss = (
            "binary_crossentropy"
            if pred_units == 1
            else ("categorical_crossentropy" if isinstance(y[0], list) else "sparse_categorical_crossentropy")
        )
        m.compile("sgd", loss, metrics=["acc"])
        m.evaluate([[1.0, 2.0], [3.0, 4.0]], y, verbose=0)
        assert type(m.metrics[1]).__name__ == want and m.metrics[1].name == "acc"


def test_predict_batches_and_predict_on_batch():
    tf.random.set_seed(1)
    m = K.Sequential([K.Input((4,)), L.Dense(3)])
    x = tf.random.normal((10, 4))
    p = m.predict(x, batch_size=3, verbose=0)
    assert tuple(p.shape) == (10, 3)
    assert_close(p, m(x), rtol=1e-6)
    assert_close(m.predict_on_batch(x), m(x), rtol=1e-6)


def test_train_on_batch_and_test_on_batch():
    m = linear()
    m.compile(optimizer=K.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    loss, mae = m.train_on_batch(X, Y)
    assert_close([loss, mae], [10.0, 3.0])
    assert_close(m.weights[0], [[1.0]])
    # after the step: predictions 1.6, 2.6: mse (0.16 + 1.96) / 2, mae (0.4 + 1.4) / 2
    d = m.test_on_batch(X, Y, return_dict=True)
    assert_close([d["loss"], d["mae"]], [1.06, 0.9], rtol=1e-5)


def test_fit_evaluate_predict_on_a_dataset():
    x = tf.constant([[1.0], [2.0], [3.0], [4.0]])
    y = x * 2.0
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(2)
    m = linear()
    h = m.fit(ds, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2 and h.params["steps"] == 2
    assert_close(m.evaluate(ds, verbose=0), m.evaluate(x, y, verbose=0), rtol=1e-6)
    assert tuple(m.predict(tf.data.Dataset.from_tensor_slices(x).batch(3), verbose=0).shape) == (4, 1)
    with pytest.raises(ValueError, match="`y` argument is not supported"):
        m.fit(ds, y, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        m.fit(ds, validation_split=0.5, verbose=0)


def test_multi_output_losses_weights_and_logs():
    a = K.Input((2,), name="inp")
    o1 = L.Dense(1, name="reg", kernel_initializer="zeros")(a)
    o2 = L.Dense(3, name="cls", kernel_initializer="zeros", activation="softmax")(a)
    m = K.Model(a, [o1, o2])
    m.compile(
        optimizer=K.optimizers.SGD(0.0),
        loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
        loss_weights={"reg": 2.0, "cls": 1.0},
        metrics={"cls": ["accuracy"]},
    )
    x = [[1.0, 1.0], [0.0, 2.0]]
    h = m.fit(x, {"reg": [[1.0], [3.0]], "cls": [0, 2]}, verbose=0)
    mse, ce = 5.0, math.log(3.0)
    assert_close(
        [h.history["reg_loss"][0], h.history["cls_loss"][0], h.history["loss"][0]], [mse, ce, 2 * mse + ce], rtol=1e-5
    )
    assert "cls_accuracy" in h.history
    r = m.evaluate(x, [tf.constant([[1.0], [3.0]]), tf.constant([0, 2])], verbose=0, return_dict=True)
    assert_close(r["loss"], 2 * mse + ce, rtol=1e-5)
    p = m.predict(x, verbose=0)
    assert isinstance(p, list) and tuple(p[1].shape) == (2, 3)


def test_subclassed_model_and_custom_train_step():
    class Model(K.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(1, kernel_initializer="zeros")
            self.steps = 0

        def call(self, x):
            return self.d(x)

        def train_step(self, data):
            self.steps += 1
            x, y = data
            with tf.GradientTape() as tape:
                loss = self.compute_loss(x, y, self(x, training=True))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self._loss_tracker.update_state(loss)
            return {"loss": self._loss_tracker.result()}

    m = Model()
    m.compile(K.optimizers.SGD(0.1), "mse", run_eagerly=True)  # Python side effects run every step
    m.fit(X, Y, batch_size=2, epochs=3, verbose=0)
    assert m.steps == 3 and m.built


def test_bad_inputs_give_clear_errors():
    m = linear()
    with pytest.raises(ValueError, match=r"Data cardinality is ambiguous.*\n'x' sizes: 2\n'y' sizes: 3"):
        m.fit(X, [[1.0], [2.0], [3.0]], verbose=0)
    with pytest.raises(ValueError, match=r"expected shape=\(None, 1\), found shape=\(2, 3\)"):
        m.fit([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], Y, verbose=0)
    with pytest.raises(ValueError, match="Unknown loss function: 'mse2'. Valid names:.*mean_squared_error"):
        m.compile("sgd", loss="mse2")
    with pytest.raises(ValueError, match="Unknown metric: 'acuracy'. Valid names:.*AUC"):
        m.compile("sgd", loss="mse", metrics=["acuracy"])
    with pytest.raises(RuntimeError, match="compile"):
        K.Sequential([K.Input((1,)), L.Dense(1)]).fit(X, Y, verbose=0)


def test_labels_out_of_range_for_sparse_losses():
    from webtensor import backends

    if backends.default().device_type != "CPU":
        pytest.skip("as TensorFlow on a GPU, out-of-range labels are not checked there (NaN loss)")
    m = K.Sequential([K.Input((2,)), L.Dense(3)])
    # eager steps: a compiled step skips data-dependent checks (docs/tf-function.md)
    m.compile("sgd", K.losses.SparseCategoricalCrossentropy(from_logits=True), run_eagerly=True)
    with pytest.raises(ValueError, match=r"label value of 5 which is outside the valid range of \[0, 3\)"):
        m.fit([[1.0, 2.0]], [5], verbose=0)


def nan_model():
    m = K.Sequential([K.Input((1,)), L.Dense(1, kernel_initializer="ones")])
    m.compile(K.optimizers.SGD(0.1), "mse")
    return m


def test_nan_loss_keeps_going_without_terminate_on_nan():
    x = [[1.0], [float("nan")], [1.0], [1.0]]
    h = nan_model().fit(x, [[0.0]] * 4, batch_size=1, epochs=2, shuffle=False, verbose=0)
    assert len(h.history["loss"]) == 2 and all(math.isnan(v) for v in h.history["loss"])


def test_terminate_on_nan_stops_at_the_first_nan_batch():
    seen = []
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        h = nan_model().fit(
            [[1.0], [float("nan")], [1.0], [1.0]],
            [[0.0]] * 4,
            batch_size=1,
            epochs=3,
            shuffle=False,
            verbose=0,
            callbacks=[
                K.callbacks.TerminateOnNaN(),
                K.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch)),
            ],
        )
    assert seen == [0, 1] and h.epoch == [0]
    assert "Batch 1: Invalid loss, terminating training" in out.getvalue()


def test_progress_output_verbose_1_and_2():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        linear().fit(X, Y, batch_size=1, epochs=2, shuffle=False, verbose=2)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("2/2 - ") and "/step - loss: " in lines[1]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        linear().fit(X, Y, batch_size=1, epochs=1, verbose=1)
    text = out.getvalue()
    assert "\x1b[1m2/2\x1b[0m" in text and "━" * 20 in text.replace("\x1b[0m\x1b[37m", "") and "loss:" in text
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        linear().evaluate(X, Y, verbose=1)
    assert "2/2" not in out.getvalue() and "1/1" in out.getvalue()


def test_generator_input_steps_per_epoch_and_to_categorical():
    def batches():
        while True:
            yield tf.constant(X), tf.constant(Y)

    m = linear()
    h = m.fit(batches(), steps_per_epoch=3, epochs=2, verbose=0)
    assert h.params["steps"] == 3 and len(h.history["loss"]) == 2
    assert int(m.optimizer.iterations.numpy()) == 6
    assert_close(
        m.evaluate(tf.data.Dataset.from_tensor_slices((X, Y)).batch(1).repeat(), steps=2, verbose=0),
        m.evaluate(X, Y, verbose=0),
        rtol=1e-6,
    )
    assert_close(K.utils.to_categorical([0, 2, 1]), [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert_close(K.utils.to_categorical([[1], [0]], num_classes=3), [[0, 1, 0], [1, 0, 0]])


def test_fit_builds_a_sequential_without_input_on_its_first_batch():
    """Keras builds such a model from the first batch: its variables (and the regularizer
    loss of its layers) exist only then, and the first step already trains them."""
    m = K.Sequential([L.Dense(2, kernel_regularizer=K.regularizers.L2(0.5), kernel_initializer="ones"), L.Dense(1)])
    m.compile(K.optimizers.SGD(0.0), "mse")  # lr 0: the loss is the initial weights'
    x = tf.constant([[1.0, 2.0]])
    hist = m.fit(x, tf.constant([[0.0]]), epochs=1, verbose=0)
    y = float(m(x)[0, 0])
    assert_close(hist.history["loss"], [y * y + 0.5 * 4.0], rtol=1e-5)  # mse + 0.5 * sum(ones(2, 2) ** 2)
    m.compile(K.optimizers.SGD(0.1), "mse")
    before = [tolist(w) for w in m.trainable_variables]
    m.fit(x, tf.constant([[0.0]]), epochs=1, verbose=0)
    assert len(before) == 4 and [tolist(w) for w in m.trainable_variables] != before

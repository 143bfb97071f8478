"""Callbacks: the values they monitor are injected by a LambdaCallback placed before them, so
every stop, learning-rate change and save happens at an epoch worked out by hand."""

import contextlib
import io
import os

import pytest

import webtensor as tf
from util import assert_close, tolist

K = tf.keras
L = K.layers
X = [[1.0], [2.0], [3.0], [4.0]]
Y = [[2.0], [4.0], [6.0], [8.0]]


def model(lr=0.01):
    m = K.Sequential([K.Input((1,)), L.Dense(1, kernel_initializer="zeros")])
    m.compile(optimizer=K.optimizers.SGD(lr), loss="mse")
    return m


def inject(values, key="score"):
    return K.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update({key: values[epoch]}))


def test_callback_hook_order():
    calls = []

    class Recorder(K.callbacks.Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"epoch_begin {epoch}")

        def on_train_batch_end(self, batch, logs=None):
            calls.append(f"batch {batch} {sorted(logs)}")

        def on_test_begin(self, logs=None):
            calls.append("test_begin")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            calls.append("train_end")

    model().fit(X, Y, batch_size=2, epochs=2, validation_data=(X, Y), callbacks=[Recorder()], verbose=0)
    assert calls == [
        "train_begin",
        "epoch_begin 0",
        "batch 0 ['loss']",
        "batch 1 ['loss']",
        "test_begin",
        "epoch_end 0 ['loss', 'val_loss']",
        "epoch_begin 1",
        "batch 0 ['loss']",
        "batch 1 ['loss']",
        "test_begin",
        "epoch_end 1 ['loss', 'val_loss']",
        "train_end",
    ]


def test_batch_logs_are_floats_for_user_callbacks():
    seen = []
    cb = K.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs["loss"]))
    model().fit(X, Y, batch_size=4, epochs=1, callbacks=[cb], verbose=0)
    assert isinstance(seen[0], float) and seen[0] == pytest.approx(30.0)  # mean(4, 16, 36, 64)


def test_early_stopping_patience_and_restore_best_weights():
    weights = []
    record = K.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: weights.append(tolist(m.weights[0])))
    m = model()
    es = K.callbacks.EarlyStopping(monitor="score", mode="min", patience=2, restore_best_weights=True)
    scores = [5.0, 3.0, 4.0, 3.5, 1.0, 0.5]
    h = m.fit(X, Y, epochs=6, callbacks=[inject(scores), record, es], verbose=0)
    # best at epoch 1; epochs 2 and 3 don't improve -> stop after epoch 3
    assert h.epoch == [0, 1, 2, 3] and es.stopped_epoch == 3 and es.best_epoch == 1
    assert_close(m.weights[0], weights[1])
    es2 = K.callbacks.EarlyStopping(monitor="loss", min_delta=100.0, patience=0)
    assert model().fit(X, Y, epochs=5, callbacks=[es2], verbose=0).epoch == [0, 1]


def test_early_stopping_mode_auto_for_accuracy_and_missing_monitor():
    m = K.Sequential([K.Input((1,)), L.Dense(2, activation="softmax")])
    m.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    es = K.callbacks.EarlyStopping(monitor="accuracy", patience=0)
    m.fit(X, [0, 1, 0, 1], epochs=1, callbacks=[es], verbose=0)
    assert es.monitor_op(2.0, 1.0)  # accuracy: higher is better
    with pytest.raises(ValueError, match="monitor=val_nothing.*mode='max'"):
        model().fit(X, Y, epochs=1, callbacks=[K.callbacks.EarlyStopping(monitor="val_nothing")], verbose=0)
    with pytest.warns(UserWarning, match="not available"):
        model().fit(X, Y, epochs=1, callbacks=[K.callbacks.EarlyStopping(monitor="val_nothing", mode="min")], verbose=0)


def test_reduce_lr_on_plateau_with_cooldown_and_min_lr():
    m = model(lr=1.0)
    lrs = []
    cb = K.callbacks.ReduceLROnPlateau(monitor="score", factor=0.5, patience=1, cooldown=1, min_lr=0.3, mode="min")
    after = K.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: lrs.append(logs["learning_rate"]))
    h = m.fit(X, Y, epochs=7, callbacks=[inject([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]), cb, after], verbose=0)
    # (logged before the epoch's decision) epoch 1: wait 1 -> lr 0.5, cooldown 1; epoch 2: the cooldown
    # ends first, then wait 1 -> 0.25 clamped to min_lr 0.3; afterwards lr == min_lr: no more changes
    assert_close(lrs, [1.0, 1.0, 0.5, 0.3, 0.3, 0.3, 0.3])
    assert_close(m.optimizer.learning_rate, 0.3)
    assert h.history["learning_rate"] == lrs
    cb = K.callbacks.ReduceLROnPlateau(monitor="score", factor=0.5, patience=2, mode="min")
    m = model(lr=1.0)
    m.fit(X, Y, epochs=5, callbacks=[inject([3.0, 2.0, 2.5, 2.5, 1.0]), cb], verbose=0)
    assert_close(m.optimizer.learning_rate, 0.5)  # epochs 2-3 without improvement


def test_learning_rate_scheduler_per_epoch():
    m = model(lr=0.1)
    seen = []
    sched = K.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch > 0 else lr)
    spy = K.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(float(m.optimizer.learning_rate)))
    h = m.fit(X, Y, epochs=3, callbacks=[sched, spy], verbose=0)
    assert_close(seen, [0.1, 0.05, 0.025])
    assert_close(h.history["learning_rate"], [0.1, 0.05, 0.025])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model().fit(X, Y, epochs=1, callbacks=[K.callbacks.LearningRateScheduler(lambda e: 0.2, verbose=1)], verbose=0)
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.2." in out.getvalue()


def test_lambda_callback_rejects_unknown_hooks():
    with pytest.raises(TypeError, match="unknown hooks"):
        K.callbacks.LambdaCallback(on_epoch_finish=print)


@pytest.mark.native
def test_csv_logger(tmp_path):
    path = tmp_path / "log.csv"
    model().fit(X, Y, epochs=2, validation_data=(X, Y), callbacks=[K.callbacks.CSVLogger(str(path))], verbose=0)
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,loss,val_loss" and len(lines) == 3 and lines[1].startswith("0,")
    model().fit(X, Y, epochs=1, callbacks=[K.callbacks.CSVLogger(str(path), separator=";", append=True)], verbose=0)
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[3].startswith("0;")


@pytest.mark.native
def test_model_checkpoint_best_only_and_weights(tmp_path):
    m = model()
    pattern = str(tmp_path / "ckpt-{epoch:02d}.safetensors")
    saved = []
    ckpt = K.callbacks.ModelCheckpoint(
        pattern, monitor="score", mode="min", save_best_only=True, save_weights_only=True
    )
    snap = K.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: saved.append(tolist(m.weights[0])))
    m.fit(X, Y, epochs=4, callbacks=[inject([3.0, 1.0, 2.0, 0.5]), ckpt, snap], verbose=0)
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01.safetensors", "ckpt-02.safetensors", "ckpt-04.safetensors"]
    fresh = model()
    fresh.load_weights(str(tmp_path / "ckpt-02.safetensors"))
    assert_close(fresh.weights[0], saved[1])
    full = str(tmp_path / "model.safetensors")
    m.fit(X, Y, epochs=1, callbacks=[K.callbacks.ModelCheckpoint(full, monitor="loss")], verbose=0)
    again = K.models.load_model(full)
    assert_close(again(tf.constant(X)), m(tf.constant(X)), rtol=1e-6)
    assert again.optimizer is not None

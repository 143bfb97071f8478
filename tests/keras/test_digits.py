"""The issue's accuracy targets on scikit-learn's digits (the split in tests/digits.py).

About 1.5 s (MLP) and 4 s (CNN) on the numpy backend; marked ``slow``."""

import pytest

import digits
import webtensor as tf

K = tf.keras
L = K.layers

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not digits.available(),
        reason="digits data: needs scikit-learn or tests/data/digits_split.bin (python build/make_digits.py)",
    ),
]


def test_mlp_reaches_95_percent():
    x_train, y_train, x_test, y_test = digits.load_digits_split()
    model = K.Sequential(
        [K.Input(shape=(64,)), L.Dense(64, activation="relu"), L.Dropout(0.1), L.Dense(10, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x_train, y_train, epochs=30, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    assert acc >= 0.95, f"test accuracy {acc:.4f} < 0.95 (loss {loss:.4f})"


def test_cnn_reaches_95_percent():
    x_train, y_train, x_test, y_test = digits.load_digits_split()
    x_train, x_test = tf.reshape(x_train, (-1, 8, 8, 1)), tf.reshape(x_test, (-1, 8, 8, 1))
    model = K.Sequential(
        [
            K.Input(shape=(8, 8, 1)),
            L.Conv2D(16, 3, activation="relu", padding="same"),
            L.MaxPooling2D(2),
            L.Conv2D(32, 3, activation="relu", padding="same"),
            L.Flatten(),
            L.Dense(64, activation="relu"),
            L.Dense(10),
        ]
    )
    model.compile(optimizer="adam", loss=K.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(
        x_train,
        y_train,
        epochs=20,
        batch_size=32,
        validation_split=0.1,
        callbacks=[K.callbacks.EarlyStopping(patience=3)],
        verbose=0,
    )
    assert len(history.history["val_loss"]) >= 5
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    assert acc >= 0.95, f"test accuracy {acc:.4f} < 0.95 (loss {loss:.4f})"

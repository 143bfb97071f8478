"""The digits CNN trains in the page on the WebAssembly kernels (conv2d forward and both
gradients, max pooling and its gradient) to >= 0.95 test accuracy: the row TF.js's wasm
backend cannot fill (it has no Conv2DBackpropFilter)."""

from __future__ import annotations

import pytest

from conftest import boot, run_python

TRAIN = """
import array
import webtensor as tf
from pyodide.http import pyfetch

raw = await (await pyfetch("/data/digits_split.bin")).bytes()
n_train, n_test = array.array("i", raw[:8])
def part(code, start, n):
    return array.array(code, raw[start:start + 4 * n])
o = 8
x_train = tf.reshape(tf.constant(part("f", o, n_train * 64)), [n_train, 8, 8, 1]); o += 4 * n_train * 64
y_train = tf.constant(part("i", o, n_train)); o += 4 * n_train
x_test = tf.reshape(tf.constant(part("f", o, n_test * 64)), [n_test, 8, 8, 1]); o += 4 * n_test * 64
y_test = part("i", o, n_test).tolist()

tf.random.set_seed(0)
L = tf.keras.layers
model = tf.keras.Sequential([tf.keras.Input((8, 8, 1)), L.Conv2D(16, 3, padding="same", activation="relu"),
                             L.MaxPooling2D(2), L.Conv2D(32, 3, padding="same", activation="relu"),
                             L.Flatten(), L.Dense(10, activation="softmax")])
model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=0)
pred = tf.argmax(model.predict(x_test, verbose=0), axis=-1).numpy().tolist()
[sum(int(p == t) for p, t in zip(pred, y_test)) / n_test, model.trainable_variables[0].backend]
"""


@pytest.mark.timeout(1800)
def test_digits_cnn_trains_in_page_on_wasm(page, site_dir):
    if not (site_dir / "data" / "digits_split.bin").exists():
        pytest.fail("the site has no data/digits_split.bin: run build/make_digits.py, then make web")
    r = boot(page, backend="wasm")
    assert "error" not in r, r
    acc, backend = run_python(page, TRAIN.replace("EPOCHS", "10"))
    assert backend == "wasm"
    assert acc >= 0.95, f"test accuracy {acc:.3f} after 10 epochs on the wasm kernels"

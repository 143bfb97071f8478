"""The digits MLP trains in the page, through the loader as a user would run it, to
>= 0.95 test accuracy on each backend (data: the site's data/digits_split.bin)."""

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
x_train = tf.reshape(tf.constant(part("f", o, n_train * 64)), [n_train, 64]); o += 4 * n_train * 64
y_train = tf.constant(part("i", o, n_train)); o += 4 * n_train
x_test = tf.reshape(tf.constant(part("f", o, n_test * 64)), [n_test, 64]); o += 4 * n_test * 64
y_test = part("i", o, n_test).tolist()

tf.random.set_seed(0)
model = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(64, activation="relu"),
                             tf.keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=0)
pred = tf.argmax(model.predict(x_test, verbose=0), axis=-1).numpy().tolist()
[n_train, n_test, sum(int(p == t) for p, t in zip(pred, y_test)) / n_test,
 tf.reduce_sum(model.trainable_variables[0]).device]
"""


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("backend, epochs", [("wasm", 30), ("webgpu", 15)])
def test_digits_mlp_trains_in_page(page, site_dir, backend, epochs):
    if not (site_dir / "data" / "digits_split.bin").exists():
        pytest.fail("the site has no data/digits_split.bin: run build/make_digits.py, then make web")
    r = boot(page, backend=backend)
    assert "error" not in r, r
    n_train, n_test, acc, device = run_python(page, TRAIN.replace("EPOCHS", str(epochs)))
    assert (n_train, n_test) == (1347, 450)
    assert device.endswith("GPU:0" if backend == "webgpu" else "CPU:0")
    assert acc >= 0.95, f"test accuracy {acc:.3f} on {backend} after {epochs} epochs"

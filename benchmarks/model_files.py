"""Model files on the digits models: size, save/load time, and the float16 accuracy delta.

    env -u OPENBLAS_CORETYPE python benchmarks/model_files.py

Trains the README's digits MLP (30 epochs) and CNN (20 epochs), saves each as float32
and as float16 safetensors (no optimizer state: the file a page downloads), reloads
both and reports file size, test accuracy, how many of the 450 test predictions
change, and save/load times (median of 5). Where Keras 3 is installed, the same
architectures' ``.keras`` archive size and ``keras.saving.load_model`` time are measured
in the same run (KERAS_BACKEND=torch) and given as ratios.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "core"), str(ROOT / "tests")]

import webtensor as tf  # noqa: E402
from digits import load_digits_split  # noqa: E402

L = tf.keras.layers


def mlp():
    return tf.keras.Sequential(
        [tf.keras.Input((64,)), L.Dense(64, activation="relu"), L.Dropout(0.1), L.Dense(10, activation="softmax")]
    )


def cnn():
    return tf.keras.Sequential(
        [
            tf.keras.Input((8, 8, 1)),
            L.Conv2D(16, 3, activation="relu", padding="same"),
            L.MaxPooling2D(2),
            L.Conv2D(32, 3, activation="relu", padding="same"),
            L.Flatten(),
            L.Dense(64, activation="relu"),
            L.Dense(10),
        ]
    )


def timed(fn, n=5) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def accuracy(model, x, y) -> tuple:
    pred = tf.argmax(model.predict(x, verbose=0), axis=1)
    return float(tf.reduce_mean(tf.cast(tf.equal(tf.cast(pred, tf.int32), y), tf.float32))), pred


KERAS_SIZE = r"""
import os, sys, tempfile
os.environ["KERAS_BACKEND"] = "torch"
import keras
L = keras.layers
mlp = keras.Sequential([keras.Input((64,)), L.Dense(64, activation="relu"), L.Dropout(0.1), L.Dense(10, activation="softmax")])
cnn = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(16, 3, activation="relu", padding="same"), L.MaxPooling2D(2),
                        L.Conv2D(32, 3, activation="relu", padding="same"), L.Flatten(), L.Dense(64, activation="relu"), L.Dense(10)])
import statistics, time
d = tempfile.mkdtemp()
for name, m in (("mlp", mlp), ("cnn", cnn)):
    p = os.path.join(d, name + ".keras")
    m.save(p)
    keras.saving.load_model(p)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        keras.saving.load_model(p)
        times.append(time.perf_counter() - t0)
    print(name, os.path.getsize(p), statistics.median(times))
"""


def keras_sizes() -> dict:
    try:
        r = subprocess.run([sys.executable, "-c", KERAS_SIZE], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return {w[0]: (int(w[1]), float(w[2])) for w in map(str.split, r.stdout.splitlines()) if len(w) == 3}


def main() -> int:
    x_train, y_train, x_test, y_test = load_digits_split()
    y_test_t = tf.constant(y_test)
    ksize = keras_sizes()
    tmp = Path(tempfile.mkdtemp())
    print(
        "| model | file | bytes | size vs Keras .keras | test acc | predictions changed | save (ms) "
        "| load (ms) | load vs Keras |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, build, epochs, reshape in (("mlp", mlp, 30, False), ("cnn", cnn, 20, True)):
        xtr = x_train.reshape(-1, 8, 8, 1) if reshape else x_train
        xte = x_test.reshape(-1, 8, 8, 1) if reshape else x_test
        tf.random.set_seed(0)
        m = build()
        loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=(name == "cnn"))
        m.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
        m.fit(xtr, y_train, epochs=epochs, batch_size=32, verbose=0)
        _, base_pred = accuracy(m, xte, y_test_t)
        for kind, dtype in (("float32", None), ("float16", "float16")):
            path = tmp / f"{name}_{kind}.safetensors"
            save = timed(lambda: tf.saving.save_model(m, str(path), include_optimizer=False, weights_dtype=dtype))
            load = timed(lambda: tf.keras.models.load_model(str(path)))
            back = tf.keras.models.load_model(str(path))
            acc, pred = accuracy(back, xte, y_test_t)
            changed = int(tf.reduce_sum(tf.cast(tf.not_equal(pred, base_pred), tf.int32)))
            size = os.path.getsize(path)
            vs = f"{size / ksize[name][0]:.2f}x" if name in ksize else "-"
            lvs = f"{load / ksize[name][1]:.2f}x" if name in ksize else "-"
            print(
                f"| {name} | {kind} | {size:,} | {vs} | {acc:.4f} | {changed}/{len(y_test)} | "
                f"{save * 1e3:.1f} | {load * 1e3:.1f} | {lvs} |"
            )
    if ksize:
        print(
            "\nKeras 3.15 (torch backend) .keras archives of the same architectures: "
            + ", ".join(f"{k} {v[0]:,} bytes, load_model {v[1] * 1e3:.1f} ms" for k, v in ksize.items())
        )
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())

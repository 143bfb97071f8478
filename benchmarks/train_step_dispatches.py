"""Kernel dispatches per train step and fit time of the digits MLP, compiled against eager.

    env -u OPENBLAS_CORETYPE python benchmarks/train_step_dispatches.py [--backend gpu] [--rounds 3] [--epochs 3]

Issue 13's GPU record (natively the GPU backend is wgpu-py, on lavapipe where there is no
GPU): the digits MLP of benchmarks/digits_fit.py, batch 32, Adam, trained with
``run_eagerly=False`` (the compiled train step) and ``run_eagerly=True`` (eager) in one
process. Dispatches per step come from ``tf.config.experimental.get_kernel_count()`` over
one epoch divided by its steps (the GPU backend counts compute dispatches; wasm, kernel
calls; numpy, primitive calls). Fit time: ``--epochs`` epochs after one warm-up epoch (which
traces and compiles), the two modes alternating for ``--rounds`` rounds; prints each round,
the medians and their ratio, and the test accuracy after the last round.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import webtensor as tf  # noqa: E402
from webtensor import backends  # noqa: E402


def mlp():
    """digits_fit.py's MLP."""
    return tf.keras.Sequential(
        [
            tf.keras.Input((64,)),
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dropout(0.1),
            tf.keras.layers.Dense(10, activation="softmax"),
        ]
    )


def build(eager: bool, data):
    """A compiled model warmed by one epoch, and its dispatches per step over that epoch's
    successor (the warm-up epoch traces, so it is not counted)."""
    x, y = data[0], data[1]
    tf.random.set_seed(0)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], run_eagerly=eager)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    tf.config.experimental.reset_kernel_count()
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
    steps = -(-int(x.shape[0]) // 32)
    return model, tf.config.experimental.get_kernel_count() / steps


def fit_seconds(model, data, epochs: int) -> float:
    t = time.perf_counter()
    model.fit(data[0], data[1], epochs=epochs, batch_size=32, verbose=0)
    out = model.predict_on_batch(data[2][:1])  # read back: waits for the device's queued work
    getattr(out, "numpy", lambda: out)()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", default="gpu")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    a = ap.parse_args()
    from digits import load_digits_split  # tests/digits.py: the split the page ships

    backends.set_default(a.backend)
    xtr, ytr, xte, yte = load_digits_split()
    data = (tf.constant(xtr), tf.constant(ytr), tf.constant(xte), tf.constant(yte))
    be = backends.default()
    dev = getattr(getattr(be, "dev", None), "adapter_name", be.device_type)
    print(f"backend {be.name} ({dev}); load {os.getloadavg()}")
    models = {}
    for name, eager in (("compiled", False), ("eager", True)):
        models[name], per_step = build(eager, data)
        print(f"{name}: {per_step:.1f} dispatches per train step")
    times: dict = {"compiled": [], "eager": []}
    for r in range(a.rounds):
        order = ("compiled", "eager") if r % 2 == 0 else ("eager", "compiled")
        for name in order:
            times[name].append(fit_seconds(models[name], data, a.epochs))
        print(f"round {r}: " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in times))
    med = {n: statistics.median(v) for n, v in times.items()}
    ratios = [c / e for c, e in zip(times["compiled"], times["eager"])]
    print(
        f"{a.epochs}-epoch fit, median of {a.rounds}: compiled {med['compiled']:.2f} s, eager {med['eager']:.2f} s; "
        f"compiled / eager per round {min(ratios):.2f}-{max(ratios):.2f}, median {statistics.median(ratios):.2f}"
    )
    for name, m in models.items():
        p = tf.argmax(tf.constant(m.predict_on_batch(data[2])), axis=-1, output_type=tf.int32).numpy().tolist()
        acc = sum(int(u == v) for u, v in zip(p, yte.tolist())) / len(p)
        print(f"{name}: test accuracy {acc:.3f}")
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()

"""The web app's Python: training with live progress, and the linear-regression lesson.
The page writes this file and demo_data.py into Pyodide's file system and imports them;
natively they import as they are (the tests run them on the numpy backend).

Training runs on the page's main thread, so it yields to the browser between steps
(``await asyncio.sleep(0)``) about every ``YIELD_S``: the chart redraws and Stop works
while a model trains.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import textwrap
import time

import webtensor as tf
from webtensor.serving import browser

from demo_data import digits, toy  # demos/demo_data.py, copied beside this file

YIELD_S = 0.05
GRID = 40  # decision-boundary resolution (GRID x GRID points over [-1.5, 1.5]^2)


# -- training -------------------------------------------------------------------------


class Trainer:
    """A small classifier trained step by step with progress callbacks.

    ``spec``: dataset ("digits" or a toy set), hidden (list of layer widths), activation,
    epochs, learning_rate, batch_size, seed."""

    def __init__(self, spec: dict, digits_raw=None):
        spec = dict(browser.from_js(spec))
        self.dataset = spec.get("dataset", "moons")
        self.hidden = [int(h) for h in spec.get("hidden", [16, 16])]
        self.activation = spec.get("activation", "relu")
        self.epochs = int(spec.get("epochs", 20))
        self.lr = float(spec.get("learning_rate", 0.01))
        self.batch_size = int(spec.get("batch_size", 32))
        tf.random.set_seed(int(spec.get("seed", 0)))
        if self.dataset == "digits":
            if digits_raw is None:
                raise ValueError("the digits dataset needs data/digits_split.bin")
            self.x, self.y, self.x_val, self.y_val = digits(browser.from_js(digits_raw))
            self.classes = 10
            self.points = None
        else:
            pts, labels = toy(self.dataset, seed=int(spec.get("seed", 0)))
            cut = len(pts) * 4 // 5
            self.points = (pts, labels)
            self.x, self.y = tf.constant(pts[:cut]), tf.constant(labels[:cut])
            self.x_val, self.y_val = tf.constant(pts[cut:]), tf.constant(labels[cut:])
            self.classes = 2
        self.model = self._build(int(self.x.shape[1]))
        self.history: list = []
        self.stopped = False

    def _build(self, features: int):
        k = tf.keras
        layers = [k.Input((features,), name="pixels" if self.dataset == "digits" else "point")]
        layers += [k.layers.Dense(h, activation=self.activation) for h in self.hidden]
        layers.append(k.layers.Dense(self.classes, activation="softmax", name="probabilities"))
        model = k.Sequential(layers, name=f"{self.dataset}_mlp")
        model.compile(
            optimizer=k.optimizers.Adam(self.lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        return model

    def stop(self) -> None:
        self.stopped = True

    def accuracy(self, x, y) -> float:
        pred = tf.argmax(self.model(x, training=False), axis=-1, output_type=tf.int32)
        return float(tf.reduce_mean(tf.cast(tf.equal(pred, y), tf.float32)))

    async def run(self, on_progress=None) -> dict:
        """Train; ``on_progress(info)`` gets step updates and one update per epoch."""
        n = int(self.x.shape[0])
        steps = -(-n // self.batch_size)
        total, done = self.epochs * steps, 0
        last_yield = time.monotonic()
        report = (lambda info: on_progress(browser.to_js(info))) if on_progress else (lambda info: None)
        report(
            {
                "kind": "epoch",
                "epoch": 0,
                "progress": 0.0,
                "val_accuracy": self.accuracy(self.x_val, self.y_val),
                "accuracy": self.accuracy(self.x, self.y),
                "loss": None,
            }
        )
        for epoch in range(1, self.epochs + 1):
            order = tf.random.shuffle(tf.range(n))
            xs, ys = tf.gather(self.x, order), tf.gather(self.y, order)
            loss_sum = 0.0
            for s in range(steps):
                lo, hi = s * self.batch_size, min(n, (s + 1) * self.batch_size)
                logs = self.model.train_on_batch(xs[lo:hi], ys[lo:hi], return_dict=True)
                loss_sum += float(logs["loss"])
                done += 1
                if time.monotonic() - last_yield > YIELD_S:
                    report({"kind": "step", "progress": done / total, "epoch": epoch, "loss": loss_sum / (s + 1)})
                    await asyncio.sleep(0)
                    last_yield = time.monotonic()
                if self.stopped:
                    break
            row = {
                "kind": "epoch",
                "epoch": epoch,
                "progress": done / total,
                "loss": loss_sum / (s + 1),
                "accuracy": self.accuracy(self.x, self.y),
                "val_accuracy": self.accuracy(self.x_val, self.y_val),
            }
            self.history.append(row)
            report(row)
            await asyncio.sleep(0)
            last_yield = time.monotonic()
            if self.stopped:
                break
        return browser.to_js(
            {
                "epochs": len(self.history),
                "stopped": self.stopped,
                "val_accuracy": self.history[-1]["val_accuracy"] if self.history else None,
            }
        )

    def boundary(self) -> list:
        """P(class 1) on a GRID x GRID grid over [-1.5, 1.5]^2, rows from the top."""
        axis = [-1.5 + 3.0 * (i + 0.5) / GRID for i in range(GRID)]
        grid = [[x, y] for y in reversed(axis) for x in axis]
        probs = self.model(tf.constant(grid), training=False)[:, 1]
        return browser.to_js(probs.numpy().tolist())

    def data(self) -> dict:
        return browser.to_js({"points": self.points[0], "labels": self.points[1]} if self.points else {})

    def save_bytes(self) -> bytes:
        """The trained model as a .safetensors file (architecture, weights, optimizer)."""
        import os
        import tempfile

        fd, path = tempfile.mkstemp(suffix=".safetensors")
        os.close(fd)
        try:
            self.model.save(path)
            with open(path, "rb") as f:
                data = f.read()
        finally:
            os.unlink(path)
        return browser.to_js(data) if browser.IN_PAGE else data

    def adopt(self) -> dict:
        """Make the trained model usable by ``browser.predict`` (the Draw tab)."""
        return browser.adopt(self.model, self.model.name)


# -- the linear-regression lesson -----------------------------------------------------


class Regression:
    """Fit y = W x + b to points with GradientTape, one visible step at a time."""

    def __init__(self, xs, ys, learning_rate: float = 0.1):
        xs, ys = browser.from_js(xs), browser.from_js(ys)
        if len(xs) != len(ys) or not xs:
            raise ValueError(f"need the same number (>= 1) of x and y values, got {len(xs)} and {len(ys)}")
        self.x = tf.constant([[float(v)] for v in xs])
        self.y = tf.constant([[float(v)] for v in ys])
        self.W = tf.Variable(0.0, name="W")
        self.b = tf.Variable(0.0, name="b")
        self.lr = float(learning_rate)
        self.steps = 0

    def set_points(self, xs, ys) -> dict:
        """New points, same line: W, b and the step count carry on, so a visitor who adds a
        point sees the fit adjust from where it was instead of starting again at 0."""
        xs, ys = browser.from_js(xs), browser.from_js(ys)
        if len(xs) != len(ys) or not xs:
            raise ValueError(f"need the same number (>= 1) of x and y values, got {len(xs)} and {len(ys)}")
        self.x = tf.constant([[float(v)] for v in xs])
        self.y = tf.constant([[float(v)] for v in ys])
        loss = tf.reduce_mean(tf.square(self.W * self.x + self.b - self.y))
        return browser.to_js({"W": float(self.W), "b": float(self.b), "loss": float(loss), "step": self.steps})

    def step(self):
        x, y, W, b = self.x, self.y, self.W, self.b
        with tf.GradientTape() as tape:
            y_hat = W * x + b
            loss = tf.reduce_mean(tf.square(y_hat - y))
        dW, db = tape.gradient(loss, [W, b])
        W.assign_sub(self.lr * dW)
        b.assign_sub(self.lr * db)
        return loss

    def run(self, n: int = 1) -> dict:
        for _ in range(int(n)):
            loss = self.step()
            self.steps += 1
        return browser.to_js({"W": float(self.W), "b": float(self.b), "loss": float(loss), "step": self.steps})

    @staticmethod
    def source() -> str:
        return textwrap.dedent(inspect.getsource(Regression.step))


def sample_line(n: int = 24, w: float = 3.0, b: float = 2.0, noise: float = 0.3, seed: int = 0) -> dict:
    """Points near y = w x + b for x in [-1, 1]: the lesson's starting data."""
    rnd = random.Random(seed)
    xs = [rnd.uniform(-1, 1) for _ in range(n)]
    return browser.to_js({"x": xs, "y": [w * x + b + rnd.gauss(0, noise) for x in xs]})

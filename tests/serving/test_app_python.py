"""The web app's Python run natively: demo datasets, the in-page Trainer, the regression
lesson, and the ``<webtensor-model>`` glue (webtensor.serving.browser)."""

from __future__ import annotations

import asyncio
import math
import struct
import sys
from pathlib import Path

import pytest

import webtensor as tf
from util import assert_close, tolist

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "demos"), str(ROOT / "web" / "app" / "py")]

import demo_data  # noqa: E402
import webapp  # noqa: E402
from webtensor.serving import browser  # noqa: E402
from webtensor.serving.servable import RequestError  # noqa: E402

pytestmark = pytest.mark.native


@pytest.mark.parametrize("kind", demo_data.TOY_SETS)
def test_toy_sets_are_balanced_seeded_and_in_range(kind):
    pts, labels = demo_data.toy(kind, n=200, seed=3)
    assert len(pts) == len(labels) == 200 and all(len(p) == 2 for p in pts)
    assert set(labels) == {0, 1} and 60 <= sum(labels) <= 140
    assert all(abs(v) < 1.2 + 5 * 0.12 for p in pts for v in p)  # 1.2 plus 5 sigma of noise
    assert demo_data.toy(kind, n=200, seed=3) == (pts, labels)
    assert demo_data.toy(kind, n=200, seed=4) != (pts, labels)


def test_toy_circles_labels_follow_the_radius():
    pts, labels = demo_data.toy("circles", n=300, noise=0.0)
    for (x, y), c in zip(pts, labels):
        assert math.isclose(math.hypot(x, y), 1.0 if c else 0.4, rel_tol=1e-9)


def _digits_file(x_train, y_train, x_test, y_test) -> bytes:
    n, m = len(y_train), len(y_test)
    return (
        struct.pack("<ii", n, m)
        + struct.pack(f"<{n * 64}f", *x_train)
        + struct.pack(f"<{n}i", *y_train)
        + struct.pack(f"<{m * 64}f", *x_test)
        + struct.pack(f"<{m}i", *y_test)
    )


def test_digits_file_is_parsed_by_its_layout():
    xa = [i / 128 for i in range(128)]
    xb = [1 - i / 64 for i in range(64)]
    raw = _digits_file(xa, [3, 7], xb, [9])
    x, y, xt, yt = demo_data.digits(raw)
    assert tuple(x.shape) == (2, 64) and tuple(xt.shape) == (1, 64)
    assert tolist(y) == [3, 7] and tolist(yt) == [9] and y.dtype == tf.int32
    assert_close(x, [xa[:64], xa[64:]])
    assert_close(xt, [xb])
    with pytest.raises(ValueError, match="expected"):
        demo_data.digits(raw[:-4])


def test_trainer_learns_moons_and_reports_progress():
    t = webapp.Trainer(
        {"dataset": "moons", "hidden": [16, 16], "epochs": 25, "learning_rate": 0.03, "batch_size": 32, "seed": 1}
    )
    events = []
    result = asyncio.run(t.run(events.append))
    epochs = [e for e in events if e["kind"] == "epoch"]
    assert [e["epoch"] for e in epochs] == list(range(26))
    assert result == {"epochs": 25, "stopped": False, "val_accuracy": epochs[-1]["val_accuracy"]}
    assert epochs[-1]["progress"] == 1.0
    assert epochs[-1]["val_accuracy"] >= 0.9 > epochs[0]["val_accuracy"]
    assert epochs[-1]["loss"] < epochs[1]["loss"]
    grid = t.boundary()
    assert len(grid) == webapp.GRID**2 and all(0.0 <= p <= 1.0 for p in grid)
    # the map agrees with the model's own held-out predictions: >= 0.9 of points fall on
    # their class's side when looked up in the grid cell that holds them
    pts, labels = t.points
    step = 3.0 / webapp.GRID
    hits = 0
    for (x, y), c in zip(pts, labels):
        col = min(webapp.GRID - 1, max(0, int((x + 1.5) / step)))
        row = min(webapp.GRID - 1, max(0, int((1.5 - y) / step)))
        hits += (grid[row * webapp.GRID + col] > 0.5) == bool(c)
    assert hits / len(pts) >= 0.85


def test_trainer_stop_ends_after_the_current_step():
    t = webapp.Trainer({"dataset": "xor", "hidden": [8], "epochs": 50, "batch_size": 8})

    def progress(e):
        if e["kind"] == "epoch" and e["epoch"] == 2:
            t.stop()

    result = asyncio.run(t.run(progress))
    assert result["stopped"] is True and result["epochs"] == 2


def test_trained_model_file_round_trips(tmp_path):
    from webtensor.saving import load_model

    t = webapp.Trainer({"dataset": "circles", "hidden": [8], "epochs": 2})
    asyncio.run(t.run())
    data = t.save_bytes()
    assert isinstance(data, bytes) and data[8:9] == b"{"
    m = load_model(data)
    x = tf.constant([[0.1, 0.2], [-1.0, 0.5]])
    assert_close(m(x), t.model(x), rtol=0, atol=0)


def test_trainer_refuses_unknown_datasets():
    with pytest.raises(ValueError, match="moons"):
        webapp.Trainer({"dataset": "mnist"})


def test_regression_converges_to_least_squares():
    xs = [-1.0, -0.5, 0.0, 0.5, 1.0, 0.25]
    ys = [3 * x + 2 + (0.1 if i % 2 else -0.1) for i, x in enumerate(xs)]
    r = webapp.Regression(xs, ys, learning_rate=0.2)
    first = r.run(1)
    # by hand: from W = b = 0, dL/dW = -2 mean(x y), dL/db = -2 mean(y)
    n = len(xs)
    assert_close(
        [first["W"], first["b"]], [0.2 * 2 * sum(x * y for x, y in zip(xs, ys)) / n, 0.2 * 2 * sum(ys) / n], rtol=1e-5
    )
    assert first["loss"] == pytest.approx(sum(y * y for y in ys) / n, rel=1e-5)
    out = r.run(500)
    # closed form (normal equations)
    mx, my = sum(xs) / n, sum(ys) / n
    w = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    assert out["step"] == 501
    assert_close([out["W"], out["b"]], [w, my - w * mx], rtol=1e-4, atol=1e-5)
    assert "tf.GradientTape()" in webapp.Regression.source()
    assert webapp.Regression.source().startswith("def step(self):")


def test_regression_needs_matching_points():
    with pytest.raises(ValueError, match="same number"):
        webapp.Regression([1.0, 2.0], [1.0])


def test_browser_glue_predicts_single_batch_and_flat(tmp_path):
    from serving_util import make_model, reference

    model = make_model(5)
    path = tmp_path / "m.safetensors"
    model.save(str(path))
    info = browser.adopt(model, "digits")
    assert info["inputs"] == [{"name": "pixels", "dtype": "float32", "shape": [None, 64]}]
    x = [[(i * j % 13) / 12 for j in range(64)] for i in range(3)]
    want = reference(path, x)
    assert_close(browser.predict(info["handle"], x[0], single=True), want[0], rtol=1e-4, atol=1e-6)
    assert_close(browser.predict(info["handle"], x), want, rtol=1e-4, atol=1e-6)
    import array

    flat = memoryview(array.array("f", [v for row in x for v in row]))
    assert_close(browser.predict(info["handle"], flat), want, rtol=1e-4, atol=1e-6)
    with pytest.raises(RequestError, match="not whole instances"):
        browser.predict(info["handle"], flat[:100])
    with pytest.raises(RequestError, match="expected shape"):
        browser.predict(info["handle"], [1.0, 2.0], single=True)
    browser.release(info["handle"])
    with pytest.raises(RequestError, match="no model with handle"):
        browser.predict(info["handle"], x)


def test_browser_glue_reshapes_flat_pixels_for_an_image_model():
    k = tf.keras
    tf.random.set_seed(3)
    cnn = k.Sequential(
        [
            k.Input((8, 8, 1), name="image"),
            k.layers.Conv2D(4, 3, activation="relu"),
            k.layers.Flatten(),
            k.layers.Dense(10, activation="softmax"),
        ]
    )
    info = browser.adopt(cnn, "cnn")
    assert info["inputs"][0]["shape"] == [None, 8, 8, 1]
    import array

    pixels = [(i % 9) / 8 for i in range(64)]
    got = browser.predict(info["handle"], memoryview(array.array("f", pixels)), single=True)
    # the same pixels as nested lists, row-major, through the model directly
    want = cnn(tf.constant([[[[pixels[r * 8 + c]] for c in range(8)] for r in range(8)]]))
    assert_close(got, tolist(want)[0], rtol=1e-6, atol=1e-7)

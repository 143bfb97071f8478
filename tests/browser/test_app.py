"""The web app in Chromium: static (no server) and behind the server.

Drawing a digit with the mouse (and a touch stroke) classifies it in the page, and the
in-page probabilities equal the same model's natively on the same 64 features;
training in the page updates the chart and raises held-out accuracy, and the trained
model downloads as a valid file and goes to the server as a new version; the
regression lesson converges to the least-squares line; the one-model embed site from
``python -m webtensor site`` predicts like the native model. Screenshots go to
artifacts/screenshots/; no test may leave a console error.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import pytest

import serve  # build/serve.py (conftest puts build/ on sys.path)

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
sys.path[:0] = [str(ROOT / "demos"), str(ROOT / "tests" / "serving")]

pytestmark = pytest.mark.native
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """The demo digits MLP and moons models, trained natively (as make demo does)."""
    import train_demo_models

    root = tmp_path_factory.mktemp("app") / "models"
    assert train_demo_models.main(["--models", str(root), "--only", "digits_mlp,moons"]) == 0
    return root


@pytest.fixture(scope="module")
def app_dir(models, site_dir, tmp_path_factory) -> Path:
    from webtensor.serving.site import build_app

    return build_app(models, tmp_path_factory.mktemp("app") / "site", runtime=site_dir)


@pytest.fixture(scope="module")
def static_url(app_dir):
    srv = serve.serve(app_dir)
    yield srv.url
    srv.stop()


@pytest.fixture
def live(models, app_dir, tmp_path):
    """The app behind the real server (a copy of the models, since uploads write there)."""
    from webtensor.serving.app import BackgroundServer, create_app

    copy = tmp_path / "models"
    shutil.copytree(models, copy)
    srv = BackgroundServer(create_app(str(copy), str(app_dir), poll_interval=0.1, allow_upload=True))
    srv.models = copy
    yield srv
    srv.stop()


class Tab:
    """A page of the app with its console watched: ``errors`` must stay empty."""

    def __init__(self, browser, url: str, viewport: dict = DESKTOP, app: bool = True):
        self.ctx = browser.new_context(viewport=viewport, accept_downloads=True)
        self.page = self.ctx.new_page()
        self.errors: list = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.goto(url)
        if app:
            self.page.wait_for_selector("#runtime.ready, #runtime.failed", timeout=120_000)
            assert "ready" in self.page.get_attribute("#runtime", "class"), self.page.inner_text("#runtime")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.evaluate("() => window.scrollTo(0, 0)")  # the sticky header at the top
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.ctx.close()
        assert not self.errors, self.errors


@pytest.fixture
def tab(browser):
    opened = []

    def open_(url, viewport=DESKTOP, app=True):
        t = Tab(browser, url, viewport, app)
        opened.append(t)
        return t

    yield open_
    for t in opened:
        t.close()


# -- gallery, layout, accessibility ---------------------------------------------------

UNLABELLED_JS = """() => [...document.querySelectorAll("input, select, button, canvas, progress, textarea")]
  .filter((e) => !(e.labels?.length || e.getAttribute("aria-label") || e.getAttribute("aria-labelledby")
                   || (e.tagName === "BUTTON" && e.textContent.trim())))
  .map((e) => e.outerHTML.slice(0, 80))"""


def test_gallery_static_site_on_desktop_and_phone(tab, static_url, models):
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        t = tab(static_url + "/", viewport)
        t.page.wait_for_selector(".model-card")
        cards = t.page.eval_on_selector_all(".model-card", "els => els.map(e => e.dataset.name)")
        assert cards == ["digits_mlp", "moons"]
        assert t.page.inner_text("#source-pill") == "static site"
        digits = t.page.inner_text('.model-card[data-name="digits_mlp"]')
        assert "pixels: float32 (None, 64)" in digits and "probabilities: float32 (None, 10)" in digits
        size = (models / "digits_mlp/1/model.safetensors").stat().st_size
        assert f"{size / 1024:.1f} KiB" in digits and "4,810 params" in digits
        assert t.page.evaluate(UNLABELLED_JS) == []
        t.shot(f"app-gallery-{name}")
        for tab_ in ("gallery", "draw", "train", "regression", "embed"):
            t.page.click(f"#tab-{tab_}")
            t.page.wait_for_selector(f"#{tab_}", state="visible", timeout=5000)  # the switch is a hash change
            overflow = t.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} {tab_}: {overflow}px wider than the {viewport['width']}px viewport"


# -- draw a digit -----------------------------------------------------------------------


def _stroke(page, points) -> None:
    box = page.locator("#pad").bounding_box()
    xy = [(box["x"] + u * box["width"], box["y"] + v * box["height"]) for u, v in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for p in xy[1:]:
        page.mouse.move(*p, steps=2)
    page.mouse.up()


DIGITS = {
    0: [
        [(0.5 + 0.24 * math.sin(2 * math.pi * i / 40), 0.5 - 0.36 * math.cos(2 * math.pi * i / 40)) for i in range(41)]
    ],
    7: [[(0.25, 0.18), (0.75, 0.18), (0.42, 0.85)]],
    1: [[(0.52, 0.15), (0.5, 0.85)]],  # a clear "1" once read as "3" (thin pen, no width normalising)
}


def _prediction(page, expect_count: int) -> int:
    page.wait_for_function(
        f"() => Number(document.getElementById('pad').dataset.predictions ?? 0) >= {expect_count}"
        " && document.getElementById('digit').textContent !== '–'",
        timeout=60_000,
    )
    page.wait_for_timeout(300)  # the last stroke's prediction settles
    return int(page.get_attribute("#pad", "data-prediction"))


def _native_probs(models, features) -> list:
    from webtensor.saving import load_model

    m = load_model(str(models / "digits_mlp/1/model.safetensors"))
    import webtensor as tf

    return m(tf.constant([features]), training=False).numpy().tolist()[0]


@pytest.mark.parametrize("digit, backend", [(0, "auto"), (1, "auto"), (7, "auto"), (7, "webgpu")])
def test_draw_a_digit_with_the_mouse(tab, static_url, models, digit, backend):
    """auto is the wasm kernels here (SwiftShader is a fallback adapter); webgpu forces
    WebGPU, where reading the probabilities back blocks on the GPU through JSPI."""
    t = tab(static_url + f"/?backend={backend}#draw")
    page = t.page
    assert page.evaluate("() => window.webtensorApp.wt.backend") == ("gpu" if backend == "webgpu" else "wasm")
    page.wait_for_function("() => document.getElementById('draw-model').options.length > 0")
    for stroke in DIGITS[digit]:
        _stroke(page, stroke)
    got = _prediction(page, 1)
    features = page.evaluate(
        "async () => Array.from((await import('./draw.mjs')).digitFeatures(document.getElementById('pad')))"
    )
    assert len(features) == 64 and max(features) >= 0.5
    assert all(0 <= v <= 1 and float(v * 16).is_integer() for v in features)  # counts of 4x4 blocks / 16
    ink = 16 * sum(features)  # optdigits' bitmaps ink ~310 of 1024 pixels whatever the digit
    assert 250 <= ink <= 370, ink
    cx = 16 * sum(v * (i % 8) for i, v in enumerate(features)) / ink  # centre of mass, in blocks
    cy = 16 * sum(v * (i // 8) for i, v in enumerate(features)) / ink
    assert abs(cx - 3.5) < 0.6 and abs(cy - 3.5) < 0.6, (cx, cy)
    want = _native_probs(models, features)
    best = page.eval_on_selector_all("#bars li", "els => els.map(e => e.classList.contains('best'))")
    assert best.index(True) == got
    assert got == want.index(max(want)) == digit, (got, want)
    t.shot(f"app-draw-{digit}-{backend}")
    page.click("#clear")
    assert (
        page.evaluate("async () => (await import('./draw.mjs')).digitFeatures(document.getElementById('pad'))") is None
    )


def test_draw_with_a_touch_stroke(tab, static_url):
    t = tab(static_url + "/#draw", PHONE)
    page = t.page
    page.wait_for_function("() => document.getElementById('draw-model').options.length > 0")
    page.evaluate("""() => {
      const pad = document.getElementById("pad"), r = pad.getBoundingClientRect();
      const ev = (type, u, v) => pad.dispatchEvent(new PointerEvent(type, { pointerId: 7, pointerType: "touch",
        isPrimary: true, bubbles: true, clientX: r.left + u * r.width, clientY: r.top + v * r.height }));
      ev("pointerdown", 0.5, 0.15);
      for (let i = 1; i <= 10; i++) ev("pointermove", 0.5, 0.15 + 0.07 * i);
      ev("pointerup", 0.5, 0.85);
    }""")
    _prediction(page, 1)
    features = page.evaluate(
        "async () => Array.from((await import('./draw.mjs')).digitFeatures(document.getElementById('pad')))"
    )
    assert sum(features) > 2
    t.shot("app-draw-phone")


# -- train in the page ------------------------------------------------------------------


def _train(page, dataset: str, epochs: int, timeout_ms: int = 300_000) -> dict:
    page.select_option("#dataset", dataset)
    page.fill("#epochs", str(epochs))
    done = int(page.get_attribute("#train-form", "data-done") or 0)
    page.click("#train-start")
    page.wait_for_function(
        f"() => Number(document.getElementById('train-form').dataset.done ?? 0) > {done}", timeout=timeout_ms
    )
    return page.evaluate("() => window.webtensorApp.trainHistory")


def test_train_in_the_page_chart_accuracy_and_download(tab, static_url, tmp_path):
    t = tab(static_url + "/#train")
    page = t.page
    page.fill("#hidden", "16, 16")
    page.fill("#lr", "0.03")
    history = _train(page, "moons", 15)
    assert [r["epoch"] for r in history] == list(range(16))
    assert page.get_attribute("#chart", "data-points") == "16"
    assert history[-1]["val_accuracy"] >= 0.85 > history[0]["val_accuracy"]
    assert history[-1]["loss"] < history[1]["loss"]
    assert page.evaluate("() => document.getElementById('train-bar').value") == 1
    assert "done after 15 epochs" in page.inner_text("#train-status")
    t.shot("app-train")
    assert page.is_disabled("#send")  # no server behind a static site

    with page.expect_download() as dl:
        page.click("#download")
    path = tmp_path / "moons.safetensors"
    dl.value.save_as(str(path))
    from demo_data import toy
    from webtensor.saving import load_model

    import webtensor as tf

    m = load_model(str(path))
    pts, labels = toy("moons")
    cut = len(pts) * 4 // 5
    pred = tf.argmax(m(tf.constant(pts[cut:])), axis=-1).numpy().tolist()
    acc = sum(int(p == y) for p, y in zip(pred, labels[cut:])) / len(pred)
    assert abs(acc - history[-1]["val_accuracy"]) < 1e-6


def test_stop_ends_training_early(tab, static_url):
    t = tab(static_url + "/#train")
    page = t.page
    page.select_option("#dataset", "spiral")
    page.fill("#epochs", "400")
    page.click("#train-start")
    page.wait_for_function("() => (window.webtensorApp.trainHistory ?? []).length >= 3", timeout=120_000)
    page.click("#train-stop")
    page.wait_for_function(
        "() => Number(document.getElementById('train-form').dataset.done ?? 0) >= 1", timeout=120_000
    )
    history = page.evaluate("() => window.webtensorApp.trainHistory")
    epochs = len(history) - 1  # row 0 is before training
    assert 2 <= epochs < 400
    assert page.inner_text("#train-status").startswith(f"stopped after {epochs} epochs")


def test_app_with_the_server_sends_a_new_version(tab, live):
    t = tab(live.url + "/#train")
    page = t.page
    assert page.inner_text("#source-pill") == "live from the server"
    _train(page, "moons", 3)
    page.fill("#export-name", "moons")
    page.click("#send")
    page.wait_for_function("() => document.getElementById('export-status').dataset.version")
    version = page.get_attribute("#export-status", "data-version")
    assert version == "2"
    assert (live.models / "moons/2/model.safetensors").is_file()
    from serving_util import Client

    c = Client(live.url)
    status, body = c.get("/v1/models/moons")
    assert status == 200 and body["model_version_status"][0] == {
        "version": "2",
        "state": "AVAILABLE",
        "status": {"error_code": "OK", "error_message": ""},
    }
    status, body = c.post("/v1/models/moons:predict", {"instances": [[0.0, 0.5], [1.0, -0.5]]})
    assert status == 200 and len(body["predictions"]) == 2
    page.click("#tab-gallery")
    assert "2, 1" in page.inner_text('.model-card[data-name="moons"] .versions')
    t.shot("app-server-gallery")


# -- the regression lesson ------------------------------------------------------------


def test_regression_lesson_fits_the_least_squares_line(tab, static_url):
    t = tab(static_url + "/#regression")
    page = t.page
    page.wait_for_function("() => document.getElementById('reg-code').textContent.includes('GradientTape')")
    page.wait_for_function("() => (window.webtensorApp.regression?.xs ?? []).length > 0")
    page.click("#reg-plot", position={"x": 30, "y": 30})  # one more point, anywhere
    page.wait_for_function("() => window.webtensorApp.regression.xs.length === 25")
    page.click("#reg-fit")
    page.wait_for_function(
        "() => !document.getElementById('reg-fit').disabled && "
        "Number(document.getElementById('reg-plot').dataset.steps) > 50",
        timeout=120_000,
    )
    _assert_least_squares(page)
    t.shot("app-regression")
    # a point added after the fit keeps the line: the steps count on and the fit re-settles
    steps = int(page.get_attribute("#reg-plot", "data-steps"))
    page.click("#reg-plot", position={"x": 200, "y": 40})
    page.wait_for_function("() => window.webtensorApp.regression.xs.length === 26")
    page.wait_for_function(
        f"() => !document.getElementById('reg-fit').disabled && "
        f"Number(document.getElementById('reg-plot').dataset.steps) > {steps}",
        timeout=120_000,
    )
    _assert_least_squares(page)


def _assert_least_squares(page):
    data = page.evaluate("() => window.webtensorApp.regression")
    xs, ys = data["xs"], data["ys"]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    w = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    b = my - w * mx
    shown = float(page.inner_text("#reg-w")), float(page.inner_text("#reg-b"))
    assert abs(shown[0] - w) < 2e-3 and abs(shown[1] - b) < 2e-3, (shown, (w, b))


# -- the one-model site and the web component ----------------------------------------


def test_embed_site_and_component_predict_like_native(tab, models, site_dir, tmp_path):
    import subprocess

    model = tmp_path / "digits.safetensors"
    shutil.copy(models / "digits_mlp/1/model.safetensors", model)
    out = tmp_path / "embed"
    r = subprocess.run(
        [sys.executable, "-m", "webtensor", "site", str(model), str(out), "--runtime", str(site_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    srv = serve.serve(out)
    try:
        page = tab(srv.url + "/", app=False).page
        page.wait_for_selector("#run:not([disabled]), #status.error", timeout=120_000)
        assert page.inner_text("#status").startswith("ready: running on")
        x = [((i * 5) % 17) / 16 for i in range(64)]
        page.fill("#input", json.dumps(x))
        page.click("#run")
        page.wait_for_function("() => document.getElementById('output').textContent.startsWith('[')")
        shown = json.loads(page.inner_text("#output"))
        want = _native_probs(models, x)
        assert shown == pytest.approx(want, abs=2e-4)
        batch = page.evaluate("(x) => document.getElementById('model').predict([x, x], {batch: true})", x)
        assert len(batch) == 2 and batch[0] == pytest.approx(want, abs=1e-5)
        info = page.evaluate("() => document.getElementById('model').info")
        assert info["inputs"][0]["shape"] == [None, 64] and info["backend"] in ("wasm", "gpu")
        err = page.evaluate(
            "() => document.getElementById('model').predict([1, 2, 3]).then(() => null, (e) => e.message)"
        )
        assert "expected shape (None, 64)" in err
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "embed-digits.png"), full_page=True)
    finally:
        srv.stop()

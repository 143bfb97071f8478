"""The page as a visitor's browser gets it: compressed bytes, HTTP caching, a warm visit
that re-downloads nothing. Chromium fetches the built site from build/serve.py, which
answers as the webtensor server does (serving/static.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import serve  # build/serve.py (conftest puts build/ on sys.path)
from conftest import CHROMIUM, CHROMIUM_ARGS, boot

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "serving"))

RESOURCES_JS = """() => performance.getEntriesByType("resource").concat(performance.getEntriesByType("navigation"))
  .map((e) => ({ name: e.name, transfer: e.transferSize, body: e.encodedBodySize, size: e.decodedBodySize }))"""


def _visit(ctx, server) -> tuple:
    """Open a page, boot webtensor on wasm; (boot result, resource entries, response headers by path)."""
    pg = ctx.new_page()
    headers = {}
    pg.on("response", lambda r: headers.setdefault(r.url.split(server.url, 1)[-1], r.headers))
    pg.goto(f"{server.url}/_test/blank.html")
    r = boot(pg, backend="wasm")
    assert r.get("backend") == "wasm", r
    entries = pg.evaluate(RESOURCES_JS)
    pg.close()
    return r, entries, headers


def test_compressed_responses_and_cache_headers(browser, server, site_dir):
    manifest = json.loads((site_dir / "webtensor.json").read_text())
    ctx = browser.new_context()
    try:
        _, entries, headers = _visit(ctx, server)
    finally:
        ctx.close()
    wasm = headers["/pyodide/pyodide.asm.wasm"]
    assert wasm.get("content-encoding") in ("br", "gzip"), wasm
    assert wasm["cache-control"] == "no-cache" and wasm["etag"].startswith('"') and wasm["vary"] == "Accept-Encoding"
    wheel = headers["/" + manifest["wheel"]]
    assert wheel["cache-control"] == "public, max-age=31536000, immutable"
    if "snapshot" in manifest:
        snap = headers["/" + manifest["snapshot"]]
        assert snap.get("content-encoding") in ("br", "gzip") and "immutable" in snap["cache-control"]
    loader = headers["/webtensor.mjs"]
    assert loader["cache-control"] == "no-cache" and loader.get("content-encoding") in ("br", "gzip")
    by_name = {e["name"].split(server.url, 1)[-1]: e for e in entries}
    w = by_name["/pyodide/pyodide.asm.wasm"]
    assert w["size"] == (site_dir / "pyodide" / "pyodide.asm.wasm").stat().st_size
    assert w["body"] < 0.5 * w["size"], w  # compressed on the wire (9.6 MB -> ~3 MB)


def test_warm_reload_transfers_under_200_kb(playwright_, server, tmp_path):
    """A profile with a disk cache, as a visitor's browser has (an incognito-style context
    keeps only a small in-memory cache, which drops the 7 MB compressed snapshot)."""
    ctx = playwright_.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS
    )
    try:
        _, cold, _ = _visit(ctx, server)
        _, warm, _ = _visit(ctx, server)
    finally:
        ctx.close()
    cold_bytes = sum(e["transfer"] for e in cold)
    warm_bytes = sum(e["transfer"] for e in warm)
    print(
        f"\ncold visit: {cold_bytes / 1e6:.2f} MB in {len(cold)} requests; "
        f"warm: {warm_bytes / 1e3:.1f} KB in {len(warm)}"
    )
    assert cold_bytes > 1_000_000  # the cold visit really fetched the runtime
    assert warm_bytes < 200_000, sorted(((e["transfer"], e["name"]) for e in warm), reverse=True)[:8]


# -- <webtensor-model>: errors a visitor can read --------------------------------------

ELEMENT_JS = """async () => {
  const { WebtensorModel } = await import("./webtensor-model.mjs");
  const out = {};
  const bare = document.createElement("webtensor-model");
  out.noSrc = await bare.predict([1]).then(() => "resolved", (e) => e.message);
  const m = document.createElement("webtensor-model");
  document.body.append(m);
  const ready = m.ready;  // taken before src is set: must settle when the model loads
  m.setAttribute("src", "digits.safetensors");
  out.info = await ready;
  out.inputs = m.inputs;
  try { await m.predict([1, 2, 3]); out.bad = "resolved"; }
  catch (e) { out.bad = e.message; out.traceback = e.traceback ?? ""; }
  const broken = document.createElement("webtensor-model");
  const failed = new Promise((r) => broken.addEventListener("error", (ev) => r(ev.detail.message)));
  broken.setAttribute("src", "missing.safetensors");
  document.body.append(broken);
  out.missing = await failed;
  out.missingReady = await broken.ready.then(() => "resolved", (e) => e.message);
  return out;
}"""


def test_element_errors_are_one_line_and_ready_size_is_real(browser, site_dir, tmp_path):
    from serving_util import write_version

    from webtensor.serving.site import build_embed

    model = write_version(tmp_path / "models", "digits", 1)
    out = build_embed(model, tmp_path / "embed", runtime=site_dir)
    srv = serve.serve(out)
    ctx = browser.new_context()
    try:
        pg = ctx.new_page()
        warnings = []
        pg.on("console", lambda m: m.type == "warning" and warnings.append(m.text))
        pg.goto(f"{srv.url}/webtensor.json")  # a document of the embed site's origin
        r = pg.evaluate(ELEMENT_JS)
    finally:
        ctx.close()
        srv.stop()
    assert "set the src attribute" in r["noSrc"]
    assert r["info"]["size"] == model.stat().st_size
    assert r["inputs"][0]["shape"][0] is None
    assert "\n" not in r["bad"] and "Traceback" not in r["bad"] and "expected shape" in r["bad"], r["bad"]
    assert r["bad"].startswith('<webtensor-model src="digits.safetensors"> predict: input ')
    assert "Traceback" in r["traceback"] and any("Traceback" in w for w in warnings)
    assert "\n" not in r["missing"] and "missing.safetensors" in r["missing"] and "404" in r["missing"], r["missing"]
    assert r["missingReady"] == r["missing"]


# -- the app trains in a Worker: the page keeps drawing ---------------------------------

FRAMES_JS = """() => { window.frameTimes = []; const tick = (t) => { window.frameTimes.push(t); if (!window.stopFrames) requestAnimationFrame(tick); }; requestAnimationFrame(tick); }"""


def test_page_draws_frames_every_50_ms_while_training(browser, site_dir, tmp_path):
    from serving_util import write_version

    from webtensor.serving.site import build_app

    models = tmp_path / "models"
    write_version(models, "digits", 1)
    app = build_app(models, tmp_path / "app", runtime=site_dir)
    srv = serve.serve(app)
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        pg = ctx.new_page()
        errors = []
        pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
        pg.goto(f"{srv.url}/#train")
        pg.wait_for_selector("#runtime.ready, #runtime.failed", timeout=120_000)
        pg.select_option("#dataset", "digits")
        pg.fill("#epochs", "10")
        pg.evaluate(FRAMES_JS)
        pg.click("#train-start")
        pg.wait_for_function("() => (window.webtensorApp.trainHistory ?? []).length >= 2", timeout=120_000)
        t0 = pg.evaluate("() => performance.now()")  # training is under way
        pg.wait_for_function(
            "() => Number(document.getElementById('train-form').dataset.done ?? 0) >= 1", timeout=180_000
        )
        times = pg.evaluate("() => { window.stopFrames = true; return window.frameTimes; }")
        status = pg.inner_text("#train-status")
    finally:
        ctx.close()
        srv.stop()
    during = [b - a for a, b in zip(times, times[1:]) if a >= t0]
    assert len(during) > 10, (status, len(times))
    during.sort()
    p95 = during[int(0.95 * (len(during) - 1))]
    print(
        f"\nframes while training: {len(during)}, median {during[len(during) // 2]:.1f} ms, "
        f"95th percentile {p95:.1f} ms, max {during[-1]:.1f} ms"
    )
    assert status.startswith("done after 10 epochs"), status
    assert p95 <= 50, during[-10:]
    assert not errors, errors


# -- python -m webtensor test --browser ------------------------------------------------

PROJECT = ROOT / "tests" / "data" / "page_project"


def _cli(site_dir, *args):
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "webtensor", "test", "--browser", "--runtime", str(site_dir), *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_runs_a_user_project_in_the_page(site_dir):
    r = _cli(site_dir, "sample_ok.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "platform emscripten" in r.stdout  # pytest's own report, from inside Pyodide
    assert "sample_ok.py ..." in r.stdout and "3 passed" in r.stdout


def test_cli_reports_failures_and_exits_with_pytests_code(site_dir):
    r = _cli(site_dir, "-k", "wrong or matmul", "sample_ok.py", "sample_fails.py")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAILED sample_fails.py::test_wrong_sum - assert 3 == 4" in r.stdout
    assert "1 failed, 1 passed, 2 deselected" in r.stdout
    r = _cli(site_dir, "../nowhere.py")
    assert r.returncode == 1 and "does not exist" in r.stderr


# -- the app's rough edges: deep links, failure states, keys, 404, screenshots -----------

SHOTS = ROOT / "artifacts" / "screenshots"
APP_MODEL: list = []  # the app's one model file, for native comparisons
APP_DIR: list = []  # the app's built folder (its runtime files are a copy of the site's at that time)
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def app_url(site_dir, tmp_path_factory):
    from serving_util import write_version

    from webtensor.serving.site import build_app

    d = tmp_path_factory.mktemp("product-app")
    APP_MODEL[:] = [write_version(d / "models", "digits", 1)]
    APP_DIR[:] = [build_app(d / "models", d / "app", runtime=site_dir)]
    srv = serve.serve(APP_DIR[0])
    yield srv.url
    srv.stop()


def _open(browser, url: str, size: str = "desktop", route=None, wait: bool = True):
    ctx = browser.new_context(viewport=SIZES[size])
    if route:
        ctx.route(*route)
    pg = ctx.new_page()
    errors = []
    pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(url)
    if wait:
        pg.wait_for_selector("#runtime.ready, #runtime.failed", timeout=120_000)
    return ctx, pg, errors


def _shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_deep_links_show_the_heading_and_the_title(browser, app_url, size):
    ctx, pg, errors = _open(browser, f"{app_url}/#regression", size)
    try:
        assert "ready" in pg.get_attribute("#runtime", "class")
        header = pg.evaluate("() => document.querySelector('.topbar').getBoundingClientRect().bottom")
        top = pg.evaluate("() => document.querySelector('#regression h2').getBoundingClientRect().top")
        assert top >= header, (top, header)
        assert pg.title() == "Linear regression · webtensor"
        assert pg.inner_text("#boot-text").startswith("Running on your CPU (WebAssembly)")
        for view in ("gallery", "draw", "train", "regression", "embed"):
            pg.evaluate(f"() => {{ location.hash = '#{view}'; }}")
            pg.wait_for_function(f"() => !document.getElementById('{view}').hidden")
            _shot(pg, f"page-{view}-{size}")
        assert not errors, errors
    finally:
        ctx.close()


def test_tabs_move_with_arrow_keys(browser, app_url):
    ctx, pg, errors = _open(browser, f"{app_url}/#gallery", wait=False)
    try:
        pg.focus("#tab-gallery")
        pg.keyboard.press("ArrowRight")
        pg.wait_for_function("() => location.hash === '#draw'")
        assert pg.evaluate("() => document.activeElement.id") == "tab-draw"
        pg.keyboard.press("End")
        pg.wait_for_function("() => location.hash === '#embed'")
        pg.keyboard.press("ArrowRight")  # wraps to the first
        pg.wait_for_function("() => location.hash === '#gallery'")
        assert pg.get_attribute("#tab-gallery", "aria-selected") == "true"
        assert pg.get_attribute("#tab-draw", "tabindex") == "-1"
    finally:
        ctx.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_failed_boot_shows_in_every_panel(browser, app_url, size):
    route = ("**/webtensor.json", lambda r: r.fulfill(status=404, body="gone"))
    ctx, pg, errors = _open(browser, f"{app_url}/#train", size, route=route)
    try:
        assert "failed" in pg.get_attribute("#runtime", "class")
        assert pg.inner_text("#boot-text") == "Python could not start in this page"
        for panel in ("train-status", "draw-status", "reg-status"):
            text = pg.inner_text(f"#{panel}")
            assert "could not start" in text and "webtensor.json" in text and "\n" not in text, (panel, text)
        _shot(pg, f"page-boot-failed-{size}")
    finally:
        ctx.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_failed_model_list_says_so(browser, app_url, size):
    route = ("**/models.json", lambda r: r.fulfill(status=500, body="{}"))
    ctx, pg, errors = _open(browser, f"{app_url}/#gallery", size, route=route)
    try:
        assert "Could not read the model list: models.json: HTTP 500" in pg.inner_text("#model-list")
        _shot(pg, f"page-models-failed-{size}")
    finally:
        ctx.close()


def test_regression_refuses_an_out_of_range_learning_rate(browser, app_url):
    ctx, pg, errors = _open(browser, f"{app_url}/#regression")
    try:
        pg.wait_for_function("() => (window.webtensorApp.regression?.xs ?? []).length > 0")
        pg.fill("#reg-lr", "5")
        pg.dispatch_event("#reg-lr", "change")
        pg.wait_for_function("() => document.getElementById('reg-status').textContent.length > 0")
        assert "between 0.001 and 2" in pg.inner_text("#reg-status")
        assert pg.get_attribute("#reg-lr", "aria-invalid") == "true"
        pg.click("#reg-step")
        assert pg.inner_text("#reg-steps") == "0"  # not used
        pg.fill("#reg-lr", "1.9")  # allowed, and it diverges on these points
        pg.dispatch_event("#reg-lr", "change")
        pg.wait_for_function("() => document.getElementById('reg-status').textContent === ''")
        pg.click("#reg-fit")
        pg.wait_for_function("() => !document.getElementById('reg-fit').disabled", timeout=60_000)
        status = pg.inner_text("#reg-status")
        if status:  # diverged: the hint names the learning rate
            assert "too large" in status and "1.9" in status
        assert not errors, errors
    finally:
        ctx.close()


def test_unknown_address_gets_the_html_404_page(app_url):
    import urllib.error
    import urllib.request

    req = urllib.request.Request(f"{app_url}/no/such/page", headers={"Accept": "text/html"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 404 and "This page is not here" in e.value.read().decode()


def test_sample_digits_classify_from_the_keyboard(browser, app_url, site_dir):
    import struct

    ctx, pg, errors = _open(browser, f"{app_url}/#draw")
    try:
        pg.wait_for_function("() => document.getElementById('draw-model').options.length > 0")
        pg.focus("#sample-digit")
        pg.keyboard.press("ArrowDown")  # "0" in a closed select, from the keyboard alone
        pg.wait_for_function("() => Number(document.getElementById('pad').dataset.predictions ?? 0) >= 1")
        assert pg.input_value("#sample-digit") == "0"
        shown = int(pg.get_attribute("#pad", "data-prediction"))
        assert pg.inner_text("#confidence").startswith(f"looks like a {shown} (")
        probs = pg.evaluate("() => [...document.querySelectorAll('#bars .pct')].map((e) => e.textContent)")
        assert not errors, errors
    finally:
        ctx.close()
    # the same first test-set "0" through the same model natively
    raw = (site_dir / "data" / "digits_split.bin").read_bytes()
    n_train, n_test = struct.unpack_from("<ii", raw, 0)
    x_off = 8 + n_train * 65 * 4
    labels = struct.unpack_from(f"<{n_test}i", raw, x_off + n_test * 64 * 4)
    i = labels.index(0)
    x = list(struct.unpack_from("<64f", raw, x_off + i * 256))
    import webtensor as tf
    from webtensor.saving import load_model

    m = load_model(str(APP_MODEL[0]), compile=False)
    want = m(tf.constant([x])).numpy().tolist()[0]
    assert shown == want.index(max(want))
    assert probs[shown] == f"{round(max(want) * 100)}%"


# -- boot: progress by bytes, the model downloading beside Python --------------------------

BOOT_TEXTS_JS = """() => {
  window.__bootTexts = [];
  document.addEventListener("DOMContentLoaded", () => {
    const el = document.getElementById("boot-text");
    new MutationObserver(() => window.__bootTexts.push(el.textContent))
      .observe(el, { childList: true, characterData: true, subtree: true });
  });
}"""


def _boot_files(site: Path) -> list:
    """The files a cold boot downloads in full (what the byte count covers), from the disk."""
    m = json.loads((site / "webtensor.json").read_text())
    files = [
        site / "pyodide" / "pyodide.asm.wasm",
        site / m.get("snapshotStdlib" if "snapshot" in m else "stdlib", m.get("stdlib", "pyodide/python_stdlib.zip")),
        site / m["wheel"],
    ]
    return files + ([site / m["snapshot"]] if "snapshot" in m else [])


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_boot_counts_bytes_and_fetches_the_model_while_python_boots(browser, app_url, size):
    want = sum(f.stat().st_size for f in _boot_files(APP_DIR[0]))
    ctx = browser.new_context(viewport=SIZES[size])
    ctx.add_init_script(script=f"({BOOT_TEXTS_JS})()")
    model_starts = []  # epoch ms, Playwright's request timing
    ctx.on("requestfinished", lambda r: "/models/digits/" in r.url and model_starts.append(r.timing["startTime"]))
    pg = ctx.new_page()
    errors = []
    pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
    try:
        pg.goto(f"{app_url}/#draw")
        _shot(pg, f"page-loading-{size}")
        pg.wait_for_selector("#runtime.ready", timeout=120_000)
        events = pg.evaluate("() => window.webtensorApp.bootProgress")
        boot_end = pg.evaluate("() => performance.timeOrigin + window.webtensorApp.bootEndMs")
        texts = pg.evaluate("() => window.__bootTexts")
    finally:
        ctx.close()
    downloads = [e for e in events if e["stage"] == "download"]
    loaded = [e["loaded"] for e in downloads]
    assert len(downloads) > 3 and loaded == sorted(loaded), loaded[:20]
    assert loaded[-1] == want and {e["total"] for e in downloads} == {want}, (loaded[-1], want)
    fractions = [e["fraction"] for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1
    shown = [t for t in texts if " MB" in t]
    assert shown and shown[-1].endswith(f"{want / 1e6:.1f} / {want / 1e6:.1f} MB"), texts[:5]
    assert model_starts and min(model_starts) < boot_end, (model_starts, boot_end)
    assert not errors, errors

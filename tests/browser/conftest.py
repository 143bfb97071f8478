"""Fixtures for driving Debian's Chromium (Playwright) against the built site.

The site (``make web`` -> build/dist/site) is served on 127.0.0.1 with test-only files
mounted beside it under /_test/ (pytest wheels, the test tree as a zip, a blank page).
Chromium is /usr/bin/chromium; Playwright never downloads a browser.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "build"))

import make_site  # noqa: E402  (build/make_site.py)
import serve  # noqa: E402  (build/serve.py)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WEBGPU_ARGS = ["--enable-unsafe-webgpu"]
SITE = ROOT / "build" / "dist" / "site"
BLANK = "<!doctype html><meta charset=utf-8><title>webtensor test</title><body></body>"
# What the in-page run gets: the core and Keras tests with their helpers and data
SUMMARY: dict = {}
"""backend -> the in-page run's results, for the terminal summary."""
TEST_TREE = (
    "tests/conftest.py",
    "tests/util.py",
    "tests/digits.py",
    "tests/core",
    "tests/keras",
    "tests/data/digits_split.bin",
    "tests/data/sentiment.tsv",
    "pyproject.toml",
)


def _test_zip() -> bytes:
    """The test files as one zip, made fresh from the working tree for every session."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in TEST_TREE:
            p = ROOT / rel
            files = [p] if p.is_file() else sorted(p.rglob("*.py")) if p.is_dir() else []
            for f in files:
                if "__pycache__" not in f.parts:
                    z.write(f, f.relative_to(ROOT).as_posix())
    return buf.getvalue()


def _stale(site: Path) -> bool:
    """The site's wheel is older than a source file that goes into it."""
    wheels = list((site / "wheels").glob("webtensor-*.whl"))
    if not wheels:
        return True
    built = wheels[0].stat().st_mtime
    return any(
        f.stat().st_mtime > built
        for d in ("core/webtensor", "shaders", "web")
        for f in (ROOT / d).rglob("*")
        if f.is_file() and "__pycache__" not in f.parts
    )


@pytest.fixture(scope="session")
def site_dir() -> Path:
    """The built site, rebuilt first when sources changed since ``make web``."""
    if not (SITE / "webtensor.json").exists():
        pytest.fail(f"{SITE} is not built: run `make web` (the test-browser target does)")
    if _stale(SITE):
        subprocess.run([sys.executable, str(ROOT / "build" / "make_site.py")], check=True)
    return SITE


@pytest.fixture(scope="session")
def test_files(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("page-test")
    (d / "blank.html").write_text(BLANK)
    (d / "tests.zip").write_bytes(_test_zip())
    wheels = sorted(make_site.fetch_test_wheels().glob("*.whl"))
    (d / "wheels").mkdir()
    for w in wheels:
        (d / "wheels" / w.name).write_bytes(w.read_bytes())
    (d / "wheels.txt").write_text("\n".join(w.name for w in wheels))
    return d


@pytest.fixture(scope="session")
def server(site_dir, test_files):
    srv = serve.serve({"/": site_dir, "/_test/": test_files})
    yield srv
    srv.stop()


def launch(playwright, webgpu: bool = True):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + (WEBGPU_ARGS if webgpu else []))


@pytest.fixture(scope="session")
def playwright_():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make sysdeps` (build/system_deps.sh)")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_):
    b = launch(playwright_, webgpu=True)
    yield b
    b.close()


@pytest.fixture(scope="session")
def browser_no_webgpu(playwright_):
    b = launch(playwright_, webgpu=False)
    yield b
    b.close()


@pytest.fixture
def page(browser, server):
    """A fresh tab on a blank page of the site's origin (so the loader can be imported)."""
    ctx = browser.new_context()
    pg = ctx.new_page()
    pg.goto(f"{server.url}/_test/blank.html")
    yield pg
    ctx.close()


BOOT_JS = """async (opts) => {
  const { loadWebtensor } = await import("/webtensor.mjs");
  window.progress = [];
  const t0 = performance.now();
  try {
    window.wt = await loadWebtensor({ ...opts, onProgress: (p) => window.progress.push({ ...p, ms: performance.now() - t0 }) });
  } catch (e) {
    return { error: String(e.message), name: e.name, url: e.url ?? null, ms: performance.now() - t0 };
  }
  return { backend: wt.backend, reason: wt.reason, adapterInfo: wt.adapterInfo, jspi: wt.jspi,
           ms: performance.now() - t0 };
}"""


def boot(page, **opts) -> dict:
    """Run loadWebtensor(opts) in the page; its result (or error) as a dict, ``window.wt`` set."""
    return page.evaluate(BOOT_JS, opts)


def run_python(page, code: str):
    """``wt.runPython(code)`` in a booted page (entered through runPythonAsync: JSPI works)."""
    return page.evaluate("(code) => window.wt.runPython(code)", code)


def pytest_terminal_summary(terminalreporter):
    """Counts of the in-page runs: passed, failed, and skipped by reason."""
    for backend, res in SUMMARY.items():
        if "boot_error" in res:
            terminalreporter.write_line(f"in page [{backend}]: did not run: {res['boot_error'][:300]}")
            continue
        counts: dict = {}
        for rec in res["tests"].values():
            key = rec["outcome"]
            if key == "skipped":
                key = (
                    "skipped (needs numpy)"
                    if "numpy" in rec.get("markers", [])
                    else "skipped (native-only)"
                    if "native" in rec.get("markers", [])
                    else "skipped (other)"
                )
            counts[key] = counts.get(key, 0) + 1
        total = sum(r.get("duration", 0.0) for r in res["tests"].values())
        terminalreporter.write_line(
            f"in page [{backend}]: {len(res['tests'])} tests, "
            + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
            + f"; {total:.0f} s of test time"
        )

"""A Pyodide memory snapshot with webtensor imported, made in Chromium: ``SITE/pyodide/webtensor.snapshot``.

    python build/make_snapshot.py [SITE]      (default build/dist/site; make web runs it)

Restoring it skips Python's start-up and webtensor's imports (~3.5 s -> ~1 s to a
ready interpreter here). A snapshot records the engine it was made in (JSPI support is
fixed at start-up), so it is made in the browser the tests use, and the loader restores
it only where JSPI exists; elsewhere it boots from scratch. The file system is not part
of it: the loader unpacks the wheel again, for lazy imports, shaders and kernels.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import serve  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Modules every page imports; ones that touch ``js`` at import time must not be listed
# (a snapshot cannot hold references to JS objects).
MODULES = ("zipfile", "shutil", "pyodide._package_loader", "pyodide.http", "webtensor", "webtensor.page",
           "webtensor.backends.gpu", "webtensor.backends.webgpu_device", "webtensor.backends.wasm",
           "webtensor.keras")
MAKE_JS = """async ([manifest, modules]) => {
  const { loadPyodide } = await import("/" + manifest.pyodide + "pyodide.mjs");
  const py = await loadPyodide({ indexURL: "/" + manifest.pyodide, _makeSnapshot: true,
                                 env: { WEBTENSOR_IN_PAGE: "1" } });
  const wheel = new Uint8Array(await (await fetch("/" + manifest.wheel)).arrayBuffer());
  py.unpackArchive(wheel, "wheel", { extractDir: py.runPython("import site; site.getsitepackages()[0]") });
  py.globals.set("_mods", py.toPy(modules));
  const report = py.runPython(`
import importlib
out = []
for m in _mods:
    try:
        importlib.import_module(m)
    except Exception as e:  # not in this build, or broken: the page imports it lazily instead
        out.append(f"without {m} ({type(e).__name__}: {e})")
del _mods
"; ".join(out)`);
  const snap = py.makeMemorySnapshot();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([snap]));
  a.download = "webtensor.snapshot";
  document.body.appendChild(a);
  a.click();
  return report;
}"""


def make_snapshot(site: Path) -> Path | None:
    """Write the snapshot; None (and the site boots from scratch) where Chromium is missing."""
    if not Path(CHROMIUM).exists():
        print(f"snapshot: {CHROMIUM} is missing; the site will boot Python from scratch")
        return None
    from playwright.sync_api import sync_playwright

    manifest = json.loads((site / "webtensor.json").read_text())
    out = site / manifest["pyodide"] / "webtensor.snapshot"
    srv = serve.serve(site)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(accept_downloads=True)
            page.goto(f"{srv.url}/webtensor.json")  # any same-origin document
            with page.expect_download(timeout=120_000) as dl:
                report = page.evaluate(MAKE_JS, [manifest, list(MODULES)])
            dl.value.save_as(out)
            browser.close()
    finally:
        srv.stop()
    print(f"snapshot: {out.stat().st_size >> 20} MiB{'; ' + report if report else ''}")
    return out


if __name__ == "__main__":
    make_snapshot(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "dist" / "site")

"""A Pyodide memory snapshot with webtensor imported, made in Chromium: ``SITE/pyodide/webtensor.snapshot``.

    python build/make_snapshot.py [SITE]      (default build/dist/site; make web runs it)

Restoring it skips Python's start-up and webtensor's imports (~3.5 s -> ~1 s to a
ready interpreter here). A snapshot records the engine it was made in (JSPI support is
fixed at start-up), so it is made in the browser the tests use, and the loader restores
it only where JSPI exists; elsewhere it boots from scratch. The file system is not part
of it: the loader unpacks the wheel again, for lazy imports, shaders and kernels.

With a ``cache`` folder (make_site.py passes build/dist/cache/) a snapshot is kept under
the hash of what it is made from (the wheel, the Pyodide runtime, the module list, this
script's page code, the Chromium binary), so an unchanged rebuild copies it instead of
booting Chromium.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import serve  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Modules every page imports; ones that touch ``js`` at import time must not be listed
# (a snapshot cannot hold references to JS objects).
MODULES = (
    "zipfile",
    "shutil",
    "pyodide._package_loader",
    "pyodide.http",
    "webtensor",
    "webtensor.page",
    "webtensor.backends.gpu",
    "webtensor.backends.gpu.webgpu_device",
    "webtensor.backends.wasm",
    "webtensor.keras",
)
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
  const { snapshotMemory } = await import("/webtensor.mjs");
  const memory = snapshotMemory(snap);
  try {  // restored as the loader restores it, or not shipped
    await loadPyodide({ indexURL: "/" + manifest.pyodide, _loadSnapshot: snap, fsInit: memory.fsInit });
  } catch (e) {
    memory.restore();
    return `UNRESTORABLE (${snap.length >> 20} MiB: ${e.message})`;
  }
  window._snap = snap;
  return report;
}"""
DOWNLOAD_JS = """() => {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([window._snap]));
  a.download = "webtensor.snapshot";
  document.body.appendChild(a);
  a.click();
}"""


def snapshot_key(site: Path, manifest: dict) -> str:
    """The hash of every input of the snapshot."""
    h = hashlib.sha256(MAKE_JS.encode() + repr(MODULES).encode())
    h.update((site / manifest["wheel"]).read_bytes())
    runtime = site / manifest["pyodide"]
    for name in ("package.json", "pyodide.asm.mjs", "pyodide.mjs", "python_stdlib.zip"):
        h.update((runtime / name).read_bytes())
    for exe in (CHROMIUM, "/usr/lib/chromium/chromium"):
        if os.path.exists(exe):
            st = os.stat(exe)
            h.update(f"{exe}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:24]


def make_snapshot(site: Path, cache: Path | None = None) -> Path | None:
    """Write the snapshot; None (and the site boots from scratch) where Chromium is missing."""
    if not Path(CHROMIUM).exists():
        print(f"snapshot: {CHROMIUM} is missing; the site will boot Python from scratch")
        return None
    manifest = json.loads((site / "webtensor.json").read_text())
    out = site / manifest["pyodide"] / "webtensor.snapshot"
    kept = cache / f"snapshot-{snapshot_key(site, manifest)}" if cache is not None else None
    if kept is not None and kept.is_file():
        shutil.copyfile(kept, out)
        print(f"snapshot: unchanged inputs, reused {kept.relative_to(kept.parents[2])}")
        return out
    from playwright.sync_api import sync_playwright

    srv = serve.serve(site)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(accept_downloads=True)
            page.goto(f"{srv.url}/webtensor.json")  # any same-origin document
            report = page.evaluate(MAKE_JS, [manifest, list(MODULES)])
            if not report.startswith("UNRESTORABLE"):
                with page.expect_download(timeout=120_000) as dl:
                    page.evaluate(DOWNLOAD_JS)
                dl.value.save_as(out)
            browser.close()
    finally:
        srv.stop()
    if report.startswith("UNRESTORABLE"):
        print(f"snapshot: not shipped, the site boots Python from scratch: {report}")
        return None
    print(f"snapshot: {out.stat().st_size >> 20} MiB{'; ' + report if report else ''}")
    if kept is not None and not report:  # a snapshot missing a module is not kept
        kept.parent.mkdir(parents=True, exist_ok=True)
        for old in kept.parent.glob("snapshot-*"):
            old.unlink()
        shutil.copyfile(out, kept)
    return out


if __name__ == "__main__":
    make_snapshot(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "dist" / "site")

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
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import serve  # noqa: E402
import trim_stdlib  # noqa: E402

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
    "webtensor.keras.model_file",
    "webtensor.serving.browser",
)
# Imported by the web app's Python (web/app/py/webapp.py, demos/demo_data.py) and Pyodide's
# own API: the trimmed stdlib keeps them though webtensor never names them.
APP_IMPORTS = ("asyncio", "inspect", "textwrap", "struct", "math", "random", "time", "json", "pyodide.ffi")
TRACE_JS = """async ([manifest, extra, trace]) => {
  const { loadPyodide } = await import("/" + manifest.pyodide + "pyodide.mjs");
  const py = await loadPyodide({ indexURL: "/" + manifest.pyodide, env: { WEBTENSOR_IN_PAGE: "1" } });
  const wheel = new Uint8Array(await (await fetch("/" + manifest.wheel)).arrayBuffer());
  py.unpackArchive(wheel, "wheel", { extractDir: py.runPython("import site; site.getsitepackages()[0]") });
  py.globals.set("_extra", py.toPy(extra));
  return py.runPython(trace).toJs();
}"""
MAKE_JS = """async ([manifest, modules, imported]) => {
  const { loadPyodide } = await import("/" + manifest.pyodide + "pyodide.mjs");
  const stdLibURL = "/" + (manifest.stdlib ?? manifest.pyodide + "python_stdlib.zip");
  const py = await loadPyodide({ indexURL: "/" + manifest.pyodide, _makeSnapshot: true, stdLibURL,
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
  py.runPython(imported);
  const used = py.globals.get("_used");
  window._imported = used.toJs();
  used.destroy();
  py.runPython("del _z, _used");
  const snap = py.makeMemorySnapshot();
  const { snapshotMemory } = await import("/webtensor.mjs");
  const memory = snapshotMemory(snap);
  try {  // restored as the loader restores it, or not shipped
    await loadPyodide({ indexURL: "/" + manifest.pyodide, _loadSnapshot: snap, fsInit: memory.fsInit, stdLibURL });
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


def _leb(b: bytes, i: int, signed: bool = False) -> tuple:
    r = shift = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return (r - (1 << shift) if signed and x & 0x40 else r), i


def wasm_data_image(wasm: bytes) -> bytearray:
    """The linear memory a module's active data segments give before any code runs. The
    loader builds the same image from the same .wasm (webtensor.mjs dataImage)."""
    i, segments = 8, []
    while i < len(wasm):
        section, size, i = wasm[i], *_leb(wasm, i + 1)
        if section == 11:  # data
            count, j = _leb(wasm, i)
            for _ in range(count):
                flag, j = _leb(wasm, j)
                if flag == 1:  # passive: not placed at start-up
                    length, j = _leb(wasm, j)
                    j += length
                    continue
                if flag != 0 or wasm[j] != 0x41:
                    raise ValueError(f"snapshot: unexpected data segment (flag {flag}) in pyodide.asm.wasm")
                offset, j = _leb(wasm, j + 1, signed=True)
                length, j = _leb(wasm, j + 1)  # after the `end` opcode
                segments.append((offset, wasm[j : j + length]))
                j += length
        i += size
    image = bytearray(max(o + len(d) for o, d in segments))
    for o, d in segments:
        image[o : o + len(d)] = d
    return image


def delta_encode(snapshot: Path, wasm: Path) -> int:
    """XOR the snapshot's static memory with the .wasm's data image, in place; returns the
    length done. About 98% of those 3.8 MB are unchanged since start-up, so they become
    zeros: ~1.3 MB less brotli. The loader XORs them back before the restore."""
    data = bytearray(snapshot.read_bytes())
    header = int.from_bytes(data[4:8], "little")
    image = wasm_data_image(wasm.read_bytes())
    n = min(len(image), len(data) - header)
    mem = int.from_bytes(data[header : header + n], "little") ^ int.from_bytes(image[:n], "little")
    data[header : header + n] = mem.to_bytes(n, "little")
    snapshot.write_bytes(data)
    return n


def snapshot_key(site: Path, manifest: dict) -> str:
    """The hash of every input of the snapshot."""
    h = hashlib.sha256(MAKE_JS.encode() + repr(MODULES).encode() + TRACE_JS.encode() + repr(APP_IMPORTS).encode())
    h.update(trim_stdlib.IMPORTED_PY.encode())
    h.update((HERE / "trim_stdlib.py").read_bytes())
    h.update((site / manifest["wheel"]).read_bytes())
    runtime = site / manifest["pyodide"]
    for name in ("package.json", "pyodide.asm.mjs", "pyodide.mjs", "pyodide.asm.wasm", "python_stdlib.zip"):
        h.update((runtime / name).read_bytes())
    for exe in (CHROMIUM, "/usr/lib/chromium/chromium"):
        if os.path.exists(exe):
            st = os.stat(exe)
            h.update(f"{exe}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:24]


def _write_manifest(site: Path, manifest: dict, snapshot: Path | None) -> None:
    """webtensor.json gains the trimmed stdlib's name and each boot file's size (the loader's
    byte progress: the decoded bytes it expects)."""
    runtime = site / manifest["pyodide"]
    files = {
        "wasm": runtime / "pyodide.asm.wasm",
        "asm": runtime / "pyodide.asm.mjs",
        "wheel": site / manifest["wheel"],
    }
    files["stdlib"] = site / manifest["stdlib"] if "stdlib" in manifest else runtime / "python_stdlib.zip"
    if "snapshotStdlib" in manifest:
        files["snapshotStdlib"] = site / manifest["snapshotStdlib"]
    if snapshot is not None:
        files["snapshot"] = snapshot
    manifest["sizes"] = {k: p.stat().st_size for k, p in files.items()}
    (site / "webtensor.json").write_text(json.dumps(manifest, indent=1) + "\n")


def _store_wheel(site: Path, manifest: dict) -> None:
    """The page's copy of the wheel, stored rather than deflated: brotli over the whole file
    then compresses across files (0.65 MB on the wire instead of 0.89 MB)."""
    old = site / manifest["wheel"]
    with zipfile.ZipFile(old) as src:
        if all(i.compress_type == zipfile.ZIP_STORED for i in src.infolist()):
            return
        tmp = old.with_name("webtensor.whl")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as dst:
            for i in src.infolist():
                dst.writestr(zipfile.ZipInfo(i.filename, i.date_time), src.read(i))
    old.unlink()
    manifest["wheel"] = f"{Path(manifest['wheel']).parent.as_posix()}/{serve.static.hashed_name(tmp).name}"
    (site / "webtensor.json").write_text(json.dumps(manifest, indent=1) + "\n")


def _trim(site: Path, manifest: dict, page, kept_zip: Path | None) -> None:
    """The trimmed stdlib beside the full one (from the cache when its inputs are unchanged)."""
    runtime = site / manifest["pyodide"]
    out = runtime / "python_stdlib-trimmed.zip"
    if kept_zip is not None and kept_zip.is_file():
        shutil.copyfile(kept_zip, out)
    else:
        used = page.evaluate(TRACE_JS, [manifest, list(MODULES + APP_IMPORTS), trim_stdlib.TRACE_PY])
        trim_stdlib.trim(runtime / "python_stdlib.zip", used, out)
        if kept_zip is not None:
            kept_zip.parent.mkdir(parents=True, exist_ok=True)
            for old in kept_zip.parent.glob("stdlib-*.zip"):
                old.unlink()
            shutil.copyfile(out, kept_zip)
    manifest["stdlib"] = f"{manifest['pyodide']}{serve.static.hashed_name(out).name}"
    print(
        f"stdlib: {(site / manifest['stdlib']).stat().st_size >> 10} KiB stored (full zip {(runtime / 'python_stdlib.zip').stat().st_size >> 10} KiB deflated)"
    )


def _hollow(site: Path, manifest: dict, imported: list) -> None:
    """The stdlib a snapshot boot fetches: the trimmed zip less what the snapshot imported."""
    if not imported:
        return
    runtime = site / manifest["pyodide"]
    out = runtime / "python_stdlib-snapshot.zip"
    manifest["snapshotStdlibHollow"] = trim_stdlib.hollow(site / manifest["stdlib"], imported, out)
    manifest["snapshotStdlib"] = f"{manifest['pyodide']}{serve.static.hashed_name(out).name}"


def make_snapshot(site: Path, cache: Path | None = None) -> Path | None:
    """Write the trimmed stdlib and the snapshot; None (and the site boots from scratch on the
    full stdlib) where Chromium is missing."""
    if not Path(CHROMIUM).exists():
        print(f"snapshot: {CHROMIUM} is missing; the site will boot Python from scratch")
        return None
    manifest = json.loads((site / "webtensor.json").read_text())
    _store_wheel(site, manifest)
    out = site / manifest["pyodide"] / "webtensor.snapshot"
    wasm = site / manifest["pyodide"] / "pyodide.asm.wasm"
    key = snapshot_key(site, manifest)
    kept = cache / f"snapshot-{key}" if cache is not None else None
    kept_zip = cache / f"stdlib-{key}.zip" if cache is not None else None
    kept_list = cache / f"stdlib-{key}.json" if cache is not None else None
    if kept is not None and kept.is_file() and kept_zip.is_file():
        _trim(site, manifest, None, kept_zip)
        shutil.copyfile(kept, out)
        _hollow(site, manifest, json.loads(kept_list.read_text()) if kept_list.is_file() else [])
        manifest["snapshotDelta"] = delta_encode(out, wasm)
        _write_manifest(site, manifest, out)
        print(f"snapshot: unchanged inputs, reused {kept.relative_to(kept.parents[2])}")
        return out
    from playwright.sync_api import sync_playwright

    srv = serve.serve(site)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(accept_downloads=True)
            page.goto(f"{srv.url}/webtensor.json")  # any same-origin document
            _trim(site, manifest, page, kept_zip)
            page = browser.new_page(accept_downloads=True)  # a fresh Pyodide for the snapshot
            page.goto(f"{srv.url}/webtensor.json")
            report = page.evaluate(MAKE_JS, [manifest, list(MODULES), trim_stdlib.IMPORTED_PY])
            imported = page.evaluate("window._imported ?? []")
            if not report.startswith("UNRESTORABLE"):
                with page.expect_download(timeout=120_000) as dl:
                    page.evaluate(DOWNLOAD_JS)
                dl.value.save_as(out)
            browser.close()
    finally:
        srv.stop()
    if report.startswith("UNRESTORABLE"):
        print(f"snapshot: not shipped, the site boots Python from scratch: {report}")
        _write_manifest(site, manifest, None)
        return None
    print(f"snapshot: {out.stat().st_size >> 20} MiB{'; ' + report if report else ''}")
    if kept is not None and not report:  # a snapshot missing a module is not kept
        kept.parent.mkdir(parents=True, exist_ok=True)
        for old in kept.parent.glob("snapshot-*"):
            old.unlink()
        shutil.copyfile(out, kept)
        for old in kept.parent.glob("stdlib-*.json"):
            old.unlink()
        kept_list.write_text(json.dumps(imported))
    _hollow(site, manifest, imported)
    manifest["snapshotDelta"] = delta_encode(out, wasm)
    _write_manifest(site, manifest, out)
    return out


if __name__ == "__main__":
    make_snapshot(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "dist" / "site")

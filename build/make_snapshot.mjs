// A Pyodide memory snapshot with webtensor already imported, so a page skips Python's
// start-up and webtensor's imports: `node build/make_snapshot.mjs SITE_DIR`.
// Made with Node from the same pyodide.asm.wasm the site serves (a snapshot only fits
// the exact runtime build that made it). The loader restores it, then unpacks the wheel
// again (the file system is not part of the snapshot) for lazy imports and shaders.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const site = process.argv[2];
const manifest = JSON.parse(readFileSync(join(site, "webtensor.json"), "utf8"));
const { loadPyodide } = await import(pathToFileURL(join(site, manifest.pyodide, "pyodide.mjs")).href);
const py = await loadPyodide({ indexURL: join(site, manifest.pyodide), _makeSnapshot: true,
                               env: { WEBTENSOR_IN_PAGE: "1" } });
const wheel = new Uint8Array(readFileSync(join(site, manifest.wheel)));
py.unpackArchive(wheel, "wheel", { extractDir: py.runPython("import site; site.getsitepackages()[0]") });
// Import what every page uses; modules that touch `js` at import time must not be listed
// (a snapshot cannot hold references to JS objects).
const imported = py.runPython(`
import importlib
mods = ["zipfile", "shutil", "pyodide._package_loader", "webtensor", "webtensor.page", "webtensor.backends.base", "webtensor.backends.gpu_device",
        "webtensor.backends.gpu", "webtensor.backends.webgpu_device", "webtensor.backends.wasm",
        "webtensor.keras"]
ok = []
for m in mods:
    try:
        importlib.import_module(m)
        ok.append(m)
    except Exception as e:  # not in this build, or broken: the page imports it lazily instead
        print(f"snapshot: without {m} ({type(e).__name__}: {e})")
",".join(ok)
`);
const snap = py.makeMemorySnapshot();
writeFileSync(join(site, manifest.pyodide, "webtensor.snapshot"), snap);
console.log(`snapshot: ${snap.length >> 20} MiB with ${imported}`);

// webtensor in the page: boot Pyodide, install the webtensor wheel from the same
// origin, pick a backend, and run Python.
//
//   import { loadWebtensor } from "./webtensor.mjs";
//   const wt = await loadWebtensor({ onProgress: (p) => bar.value = p.fraction });  // p.loaded / p.total bytes
//   wt.backend                       // "gpu" | "wasm" | "numpy"
//   await wt.runPython("import webtensor as tf; tf.reduce_sum([1, 2]).numpy().item()");
//
// Runs on the thread that imports it: the main thread (Python values and the DOM
// side by side) or a module Worker (nothing here touches `document`). Python is always
// entered through runPythonAsync, so `t.numpy()` can block on GPU readback with JSPI.

export class WebtensorError extends Error {
  constructor(message, url) {
    super(url ? `${message} (${url})` : message);
    this.name = "WebtensorError";
    this.url = url;
  }
}

async function fetchOk(url, what) {
  let resp;
  try {
    resp = await fetch(url);
  } catch (e) {
    throw new WebtensorError(`webtensor: could not fetch the ${what}: ${e.message}`, url);
  }
  if (!resp.ok) throw new WebtensorError(`webtensor: could not fetch the ${what}: HTTP ${resp.status}`, url);
  return resp;
}

function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new WebtensorError(message)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Bytes of the boot files as they arrive. Each response's body is read through a counting
// stream; `total` is the sum of the sizes the site manifest lists (decoded bytes, what the
// reader sees), or Content-Length where the manifest has none.
function byteProgress(expected, report) {
  let loaded = 0, total = Object.values(expected).reduce((a, b) => a + b, 0);
  const count = (resp, key, keep = null) => {  // keep: called with the whole body once read
    if (!resp.ok || !resp.body) return resp;
    if (!(key in expected)) total += Number(resp.headers.get("Content-Length") ?? 0);
    const reader = resp.body.getReader(), chunks = [];
    const body = new ReadableStream({
      async pull(ctl) {
        const { done, value } = await reader.read();
        if (done) {
          if (keep) keep(concat(chunks));
          return ctl.close();
        }
        if (keep) chunks.push(value);
        loaded += value.byteLength;
        report(loaded, Math.max(total, loaded));
        ctl.enqueue(value);
      },
      cancel: (why) => reader.cancel(why),
    });
    return new Response(body, { status: resp.status, statusText: resp.statusText, headers: resp.headers });
  };
  return { count, get loaded() { return loaded; }, get total() { return total; } };
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.byteLength; }
  return out;
}

// Pyodide fetches its .wasm and stdlib itself: while it boots, fetches of those URLs go
// through `counter` (others pass as they are). `wasm` resolves to the .wasm's bytes (the
// snapshot's delta is against its data segments). `undo` puts fetch back.
function countPyodideFetches(counter, urls) {
  const plain = globalThis.fetch;
  let gotWasm;
  const wasm = new Promise((resolve) => { gotWasm = resolve; });
  globalThis.fetch = async (input, init) => {
    const url = new URL(typeof input === "string" ? input : input.url ?? String(input), globalThis.location?.href).href;
    const resp = await plain(input, init);
    if (!(url in urls) || (init?.method ?? input.method ?? "GET") !== "GET") return resp;  // not runtimeFilesMissing's HEADs
    // a clone is counted and the response itself goes to Pyodide untouched: a real
    // network response, so Chromium can reuse the .wasm's compiled code on a warm visit
    counter.count(resp.clone(), urls[url], urls[url] === "wasm" ? gotWasm : null).arrayBuffer().catch(() => {});
    return resp;
  };
  return { wasm, undo: () => { globalThis.fetch = plain; } };
}

// make_snapshot.py stores the snapshot's first `length` bytes of memory XORed with the
// .wasm's active data segments (most of that static memory is unchanged since start-up,
// so it travels as zeros). XORing the same segments again gives the memory back.
export function undoSnapshotDelta(snap, wasm, length) {
  const header = new Uint32Array(snap.buffer, snap.byteOffset, 2)[1];
  let i = 8;
  const leb = (signed = false) => {
    let r = 0, scale = 1, x;
    do { x = wasm[i++]; r += (x & 0x7f) * scale; scale *= 128; } while (x & 0x80);
    return signed && (x & 0x40) ? r - scale : r;
  };
  while (i < wasm.length) {
    const id = wasm[i++], size = leb(), end = i + size;
    if (id === 11) {  // the data section
      for (let count = leb(); count > 0; count--) {
        const flag = leb();
        if (flag === 1) { i += leb(); continue; }  // passive: not in memory at start-up
        if (flag !== 0 || wasm[i] !== 0x41) throw new WebtensorError(`webtensor: unexpected data segment (flag ${flag}) in pyodide.asm.wasm`);
        i++;
        const offset = leb(true);
        i++;  // the offset expression's end
        const n = leb(), stop = Math.min(n, length - offset);
        for (let k = 0; k < stop; k++) snap[header + offset + k] ^= wasm[i + k];
        i += n;
      }
    }
    i = end;
  }
}

// WebGPU: a device on a hardware adapter, or why not. A fallback adapter (SwiftShader,
// WebGPU on the CPU) runs WGSL far slower than the wasm kernels, so "auto" skips it.
export async function probeWebGPU({ allowFallback = false, timeoutMs = 15000 } = {}) {
  const gpu = globalThis.navigator?.gpu;
  if (!gpu) return { device: null, reason: "WebGPU is not available in this browser (navigator.gpu is missing)" };
  const adapter = await withTimeout(gpu.requestAdapter(), timeoutMs, "webtensor: navigator.gpu.requestAdapter() did not answer");
  if (!adapter) return { device: null, reason: "navigator.gpu.requestAdapter() returned no adapter" };
  const info = adapter.info ?? {};
  const fallback = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter) ||
    /swiftshader/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
  const adapterInfo = { vendor: info.vendor, architecture: info.architecture, description: info.description, fallback };
  if (fallback && !allowFallback) {
    return { device: null, adapterInfo, reason: `the WebGPU adapter is a fallback (software) one (${info.vendor} ${info.architecture})` };
  }
  // the adapter's best values for the limits the GPU dispatcher reads (backends/gpu/device.py LIMITS)
  const requiredLimits = {};
  for (const k of ["maxBufferSize", "maxStorageBufferBindingSize", "maxComputeWorkgroupsPerDimension",
    "maxComputeInvocationsPerWorkgroup", "maxComputeWorkgroupSizeX", "maxComputeWorkgroupSizeY",
    "maxComputeWorkgroupStorageSize", "maxStorageBuffersPerShaderStage", "minUniformBufferOffsetAlignment",
    "minStorageBufferOffsetAlignment", "maxUniformBufferBindingSize"]) {
    if (adapter.limits[k] !== undefined) requiredLimits[k] = adapter.limits[k];
  }
  const device = await withTimeout(adapter.requestDevice({ requiredLimits }), timeoutMs, "webtensor: requestDevice() did not answer");
  return { device, adapterInfo, reason: fallback ? "WebGPU on a fallback adapter, as requested" : "WebGPU on a hardware adapter" };
}

async function chooseBackend(want, numpyLoaded) {
  if (want === "numpy") {
    if (!numpyLoaded) throw new WebtensorError('webtensor: backend "numpy" needs numpy: pass packages: ["numpy"] with a site that serves it');
    return { backend: "numpy", device: null, reason: "numpy, as requested" };
  }
  if (want === "wasm") return { backend: "wasm", device: null, reason: "the WebAssembly kernels, as requested" };
  if (want === "webgpu" || want === "gpu") {
    const probe = await probeWebGPU({ allowFallback: true });
    if (!probe.device) throw new WebtensorError(`webtensor: backend "webgpu" was requested but ${probe.reason}`);
    return { backend: "gpu", ...probe };
  }
  if (want !== "auto") throw new WebtensorError(`webtensor: unknown backend option ${JSON.stringify(want)}; use "auto", "webgpu", "wasm" or "numpy"`);
  const probe = await probeWebGPU().catch((e) => ({ device: null, reason: e.message }));
  if (probe.device) return { backend: "gpu", ...probe };
  return { backend: "wasm", device: null, adapterInfo: probe.adapterInfo, reason: `the WebAssembly kernels: ${probe.reason}` };
}

// Pyodide waits forever when its .wasm fails to load; HEAD requests turn that into an
// error naming the file. Never resolves: it only rejects, racing loadPyodide.
function runtimeFilesMissing(indexURL, stdLibURL) {
  const check = async (url) => {
    const resp = await fetch(url, { method: "HEAD" }).catch((e) => {
      throw new WebtensorError(`webtensor: could not fetch the Pyodide runtime: ${e.message}`, url);
    });
    if (!resp.ok && resp.status !== 405 && resp.status !== 501) {
      throw new WebtensorError(`webtensor: could not fetch the Pyodide runtime: HTTP ${resp.status}`, url);
    }
  };
  return Promise.all([new URL("pyodide.asm.wasm", indexURL).href, stdLibURL].map(check)).then(() => new Promise(() => {}));
}

// Pyodide 314 restores a snapshot into the wasm's initial memory (30 MiB) and fails with
// "offset is out of bounds" when the heap had grown before the snapshot was made. Its
// fsInit hook runs between instantiation and the restore: a malloc of the heap's size
// there makes Emscripten grow the memory (and its views); the restore overwrites the rest.
export function snapshotMemory(snapshot, delta = null) {  // delta: {length, wasm: a promise of its bytes}
  const heapOf = (b) => b.length - new Uint32Array(b.buffer, b.byteOffset, 2)[1];
  const wa = WebAssembly, streaming = wa.instantiateStreaming, plain = wa.instantiate;
  let exports = null;
  const keep = (r) => {
    const e = r?.instance?.exports;
    if (!exports && e?.memory && e?.malloc) exports = e;
    return r;
  };
  wa.instantiateStreaming = async (...a) => keep(await streaming.apply(wa, a));
  wa.instantiate = async (...a) => keep(await plain.apply(wa, a));
  const restore = () => { wa.instantiateStreaming = streaming; wa.instantiate = plain; };
  const fsInit = async () => {  // snapshot: its bytes, or a promise of them (resolved by now: Pyodide awaited it)
    restore();
    const bytes = await snapshot;
    if (delta) undoSnapshotDelta(bytes, await delta.wasm, delta.length);
    const heap = heapOf(bytes);
    if (exports && exports.memory.buffer.byteLength < heap) exports.malloc(heap);
  };
  return { fsInit, restore };
}

// The site's stdlib is trimmed to what webtensor imports (build/trim_stdlib.py); its
// _webtensor_dropped.txt names the rest. A snapshot boot fetches a copy whose members the
// snapshot already imported are zeroed (manifest.snapshotStdlibHollow names them). A module
// from either list is imported from the full zip, fetched once (synchronously: an import
// cannot wait) the first time one is needed.
function fetchSync(url) {
  const req = new XMLHttpRequest();
  req.open("GET", url, false);
  if (globalThis.document) req.overrideMimeType("text/plain; charset=x-user-defined");  // no binary sync XHR on a window
  else req.responseType = "arraybuffer";
  req.send();
  if (req.status !== 200) throw new Error(`HTTP ${req.status} for ${url}`);
  if (!globalThis.document) return new Uint8Array(req.response);
  const text = req.responseText, out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

const FULL_STDLIB_PY = `
import sys, zipimport
class _FullStdlib:
    """Imports what the trimmed stdlib dropped from the full zip, fetched on first need."""
    path = "/lib/python_stdlib_full.zip"
    def __init__(self, url, dropped):
        self.url, self.dropped, self.zip = url, dropped, None
    def find_spec(self, name, path=None, target=None):
        if name not in self.dropped:
            return None
        if self.zip is None:
            import _webtensor_loader
            with open(self.path, "wb") as f:
                f.write(_webtensor_loader.fetchSync(self.url).to_py())
            self.zip = True
        parent = name.rpartition(".")[0]
        where = self.path + ("/" + parent.replace(".", "/") if parent else "")
        return zipimport.zipimporter(where).find_spec(name)
_z = next(p for p in sys.path if p.endswith(".zip"))
_i = sys.path_importer_cache.get(_z) or zipimport.zipimporter(_z)  # the cached one: no second read of its TOC
_dropped = set(_i.get_data("_webtensor_dropped.txt").decode().split()) | set(_wt_hollow)
sys.meta_path.insert(0, _FullStdlib(_wt_full_stdlib, _dropped))  # first: a zeroed member must not be read
del _z, _i, _dropped, _wt_full_stdlib, _wt_hollow
`;

// The page's wheel is a stored zip (make_snapshot.py): its files are written straight into
// Pyodide's file system, ~4x faster than Python's zipfile. null when an entry is compressed
// (a wheel from elsewhere): the caller unpacks it with Pyodide instead.
function unpackStored(FS, bytes, dir) {
  const b = new Uint8Array(bytes), v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let eocd = b.length - 22;
  while (eocd >= 0 && v.getUint32(eocd, true) !== 0x06054b50) eocd--;
  if (eocd < 0) return null;
  const files = [];
  for (let n = v.getUint16(eocd + 10, true), at = v.getUint32(eocd + 16, true); n > 0; n--) {
    if (v.getUint32(at, true) !== 0x02014b50) return null;
    const method = v.getUint16(at + 10, true), size = v.getUint32(at + 24, true);
    const nameLen = v.getUint16(at + 28, true), extra = v.getUint16(at + 30, true), comment = v.getUint16(at + 32, true);
    const local = v.getUint32(at + 42, true);
    const name = new TextDecoder().decode(b.subarray(at + 46, at + 46 + nameLen));
    if (method !== 0 || name.includes("..")) return null;
    const data = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    files.push([name, b.subarray(data, data + size)]);
    at += 46 + nameLen + extra + comment;
  }
  for (const [name, data] of files) {
    if (name.endsWith("/")) continue;
    FS.mkdirTree(`${dir}/${name.slice(0, name.lastIndexOf("/"))}`);
    FS.writeFile(`${dir}/${name}`, data);
  }
  return files.length;
}

// A HostArray (what .numpy() gives without numpy, rank 0 included) arrives as its tolist().
function fromHostArray(value, convert) {
  if (typeof value.tolist !== "function") {
    throw new WebtensorError(`webtensor: no JavaScript value for a Python ${value.type}`);
  }
  const list = value.tolist();
  return list && typeof list.toJs === "function" ? convert(list) : list;
}

function toJs(value) {
  if (value && typeof value.toJs === "function") {
    try {
      return value.toJs({ dict_converter: Object.fromEntries, create_pyproxies: false,
                          default_converter: fromHostArray });
    } finally {
      value.destroy();
    }
  }
  return value;
}

/**
 * Boot webtensor. Options:
 *   baseURL     where the site lives (default: the folder of this module)
 *   backend     "auto" (default) | "webgpu" | "wasm" | "numpy"
 *   packages    extra Pyodide packages to load from the site's pyodide/ folder
 *   env         environment variables for Python
 *   snapshot    false: boot Python from scratch instead of the site's memory snapshot
 *   onProgress  called with {stage, fraction, message, loaded, total} as boot advances:
 *               stages manifest, runtime, download (repeated: `loaded` of `total` bytes of
 *               the .wasm, stdlib, wheel and snapshot arrived), wheel, backend, ready
 * Resolves to {pyodide, backend, reason, adapterInfo, jspi, runPython, runPythonAsync};
 * rejects with a WebtensorError naming the URL when a file of the site is missing.
 */
export async function loadWebtensor(options = {}) {
  const base = new URL(options.baseURL ?? ".", import.meta.url);
  const want = options.backend ?? "auto";
  // fraction: the downloads are most of a cold boot, so bytes drive it (0.02 to 0.92)
  let bytes = { loaded: 0, total: 0 };
  const AFTER = { manifest: 0.02, runtime: 0.02, wheel: 0.93, backend: 0.96, ready: 1 };
  let last = 0;
  const progress = (stage, message) => {
    const f = stage === "download" ? 0.02 + 0.9 * bytes.loaded / Math.max(bytes.total, 1) : AFTER[stage];
    last = Math.max(last, f);
    options.onProgress?.({ stage, message, fraction: last, loaded: bytes.loaded, total: bytes.total });
  };

  const manifestURL = new URL("webtensor.json", base).href;
  progress("manifest", "reading webtensor.json");
  let manifest;
  try {
    manifest = await (await fetchOk(manifestURL, "site manifest")).json();
  } catch (e) {
    throw e instanceof WebtensorError ? e : new WebtensorError(`webtensor: bad site manifest: ${e.message}`, manifestURL);
  }

  const indexURL = new URL(manifest.pyodide, base).href;
  const wheelURL = new URL(manifest.wheel, base).href;
  // The snapshot holds Python with webtensor imported: restoring it skips start-up. It
  // was made in a JSPI engine, and JSPI support is fixed at start-up: JSPI engines only.
  const jspi = typeof WebAssembly.Suspending === "function";
  const snapshotURL = manifest.snapshot && jspi && options.snapshot !== false ? new URL(manifest.snapshot, base).href : null;
  // A snapshot boot needs only the stdlib files the snapshot has not imported yet.
  const hollow = snapshotURL && manifest.snapshotStdlib ? manifest.snapshotStdlibHollow ?? [] : null;
  const stdlib = hollow ? manifest.snapshotStdlib : manifest.stdlib;
  const stdLibURL = new URL(stdlib ?? "python_stdlib.zip", stdlib ? base : indexURL).href;
  const sizes = { ...manifest.sizes, ...(hollow && manifest.sizes?.snapshotStdlib ? { stdlib: manifest.sizes.snapshotStdlib } : {}) };
  const expected = Object.fromEntries(["wasm", "stdlib", "wheel", ...(snapshotURL ? ["snapshot"] : [])]
    .filter((k) => sizes[k]).map((k) => [k, sizes[k]]));
  const mb = (n) => (n / 1e6).toFixed(1);
  const counter = byteProgress(expected, (loaded, total) => {
    bytes = { loaded, total };
    progress("download", `downloading ${mb(loaded)} / ${mb(total)} MB`);
  });
  bytes.total = counter.total;
  progress("runtime", "starting Pyodide");
  const download = (url, what, key) => fetchOk(url, what).then((r) => counter.count(r, key).arrayBuffer());
  // Everything is requested at once: the wheel and snapshot here, the .wasm and stdlib by
  // loadPyodide below (it takes the snapshot as a promise and waits for it only to restore).
  const wheelPromise = download(wheelURL, "webtensor wheel", "wheel");
  wheelPromise.catch(() => {});
  const snapshot = snapshotURL && download(snapshotURL, "Pyodide snapshot", "snapshot").then((b) => new Uint8Array(b));
  snapshot?.catch(() => {});
  let loadPyodide;
  try {
    ({ loadPyodide } = await import(new URL("pyodide.mjs", indexURL).href));
  } catch (e) {
    throw new WebtensorError(`webtensor: could not load the Pyodide runtime: ${e.message}`, new URL("pyodide.mjs", indexURL).href);
  }
  const env = { WEBTENSOR_IN_PAGE: "1", ...(options.env ?? {}) };
  const fetches = countPyodideFetches(counter, { [new URL("pyodide.asm.wasm", indexURL).href]: "wasm", [stdLibURL]: "stdlib" });
  const delta = manifest.snapshotDelta ? { length: manifest.snapshotDelta, wasm: fetches.wasm } : null;
  const memory = snapshot ? snapshotMemory(snapshot, delta) : null;
  let pyodide;
  try {
    pyodide = await Promise.race([
      loadPyodide({ indexURL, env, stdLibURL, packages: options.packages ?? [],
                    ...(memory ? { _loadSnapshot: snapshot, fsInit: memory.fsInit } : {}) }),
      runtimeFilesMissing(indexURL, stdLibURL),
    ]);
  } catch (e) {
    if (e instanceof WebtensorError) throw e;  // a missing snapshot rejects here, naming its URL
    throw new WebtensorError(`webtensor: Pyodide failed to start: ${e.message}`, snapshotURL ?? indexURL);
  } finally {
    fetches.undo();
    memory?.restore();
  }
  if (manifest.stdlib) {  // the modules the trim dropped come from the full zip when imported
    pyodide.registerJsModule("_webtensor_loader", { fetchSync });
    pyodide.globals.set("_wt_full_stdlib", new URL("python_stdlib.zip", indexURL).href);
    pyodide.globals.set("_wt_hollow", pyodide.toPy(hollow ?? []));
    pyodide.runPython(FULL_STDLIB_PY);
  }

  progress("wheel", "installing webtensor");
  const wheel = await wheelPromise;
  const site = pyodide.runPython("import site; site.getsitepackages()[0]");
  try {
    if (unpackStored(pyodide.FS, wheel, site) === null) pyodide.unpackArchive(wheel, "wheel", { extractDir: site });
  } catch (e) {
    throw new WebtensorError(`webtensor: the wheel could not be unpacked: ${e.message}`, wheelURL);
  }
  // A restored snapshot keeps the environment and import caches it was made with. Only
  // site-packages' finders are refreshed (invalidating all of them rereads the stdlib zip).
  pyodide.globals.set("_wt_env", pyodide.toPy(env));
  pyodide.globals.set("_wt_site", site);
  pyodide.runPython(`import os, sys
for _p, _f in list(sys.path_importer_cache.items()):
    if _p.startswith(_wt_site) and _f is not None:
        _f.invalidate_caches()
os.environ.update(_wt_env)
del _wt_env, _wt_site`);

  progress("backend", "choosing a backend");
  const numpyLoaded = (options.packages ?? []).includes("numpy");
  const choice = await chooseBackend(want, numpyLoaded);
  const page = pyodide.pyimport("webtensor.page");
  try {
    page.setup(choice.backend, choice.device ?? null);
  } finally {
    page.destroy();
  }

  const wt = {
    pyodide,
    backend: choice.backend,
    reason: choice.reason,
    adapterInfo: choice.adapterInfo ?? null,
    jspi,
    manifest,
    baseURL: base.href,
    /** Run Python; the last expression's value comes back converted to JS. */
    async runPython(code, opts) { return toJs(await pyodide.runPythonAsync(code, opts)); },
    /** Run Python (top-level await allowed); Python objects come back as PyProxies. */
    runPythonAsync(code, opts) { return pyodide.runPythonAsync(code, opts); },
  };
  progress("ready", `webtensor ready on ${choice.backend}: ${choice.reason}`);
  return wt;
}

// webtensor in the page: boot Pyodide, install the webtensor wheel from the same
// origin, pick a backend, and run Python.
//
//   import { loadWebtensor } from "./webtensor.mjs";
//   const wt = await loadWebtensor({ onProgress: (p) => bar.value = p.fraction });
//   wt.backend                       // "gpu" | "wasm" | "numpy"
//   await wt.runPython("import webtensor as tf; tf.reduce_sum([1, 2]).numpy().item()");
//
// Runs on the thread that imports it: the main thread (Python values and the DOM
// side by side) or a module Worker (nothing here touches `document`). Python is always
// entered through runPythonAsync, so `t.numpy()` can block on GPU readback with JSPI.

const STAGES = ["manifest", "runtime", "wheel", "backend", "ready"];

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
function runtimeFilesMissing(indexURL) {
  const check = async (name) => {
    const url = new URL(name, indexURL).href;
    const resp = await fetch(url, { method: "HEAD" }).catch((e) => {
      throw new WebtensorError(`webtensor: could not fetch the Pyodide runtime: ${e.message}`, url);
    });
    if (!resp.ok && resp.status !== 405 && resp.status !== 501) {
      throw new WebtensorError(`webtensor: could not fetch the Pyodide runtime: HTTP ${resp.status}`, url);
    }
  };
  return Promise.all(["pyodide.asm.wasm", "python_stdlib.zip"].map(check)).then(() => new Promise(() => {}));
}

// Pyodide 314 restores a snapshot into the wasm's initial memory (30 MiB) and fails with
// "offset is out of bounds" when the heap had grown before the snapshot was made. Its
// fsInit hook runs between instantiation and the restore: a malloc of the heap's size
// there makes Emscripten grow the memory (and its views); the restore overwrites the rest.
export function snapshotMemory(snapshot) {
  const heap = snapshot.length - new Uint32Array(snapshot.buffer, snapshot.byteOffset, 2)[1];
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
  const fsInit = () => {
    restore();
    if (exports && exports.memory.buffer.byteLength < heap) exports.malloc(heap);
  };
  return { fsInit, restore };
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
 *   onProgress  called with {stage, fraction, message} as boot advances
 * Resolves to {pyodide, backend, reason, adapterInfo, jspi, runPython, runPythonAsync};
 * rejects with a WebtensorError naming the URL when a file of the site is missing.
 */
export async function loadWebtensor(options = {}) {
  const base = new URL(options.baseURL ?? ".", import.meta.url);
  const want = options.backend ?? "auto";
  const progress = (stage, message) => options.onProgress?.({
    stage, message, fraction: (STAGES.indexOf(stage) + 1) / STAGES.length,
  });

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
  progress("runtime", "starting Pyodide");
  const wheelPromise = fetchOk(wheelURL, "webtensor wheel").then((r) => r.arrayBuffer());
  wheelPromise.catch(() => {});
  // The snapshot holds Python with webtensor imported: restoring it skips start-up. It
  // was made in a JSPI engine, and JSPI support is fixed at start-up: JSPI engines only.
  const jspi = typeof WebAssembly.Suspending === "function";
  const snapshotURL = manifest.snapshot && jspi && options.snapshot !== false ? new URL(manifest.snapshot, base).href : null;
  const snapshot = snapshotURL && fetchOk(snapshotURL, "Pyodide snapshot").then((r) => r.arrayBuffer()).then((b) => new Uint8Array(b));
  snapshot?.catch(() => {});
  let loadPyodide;
  try {
    ({ loadPyodide } = await import(new URL("pyodide.mjs", indexURL).href));
  } catch (e) {
    throw new WebtensorError(`webtensor: could not load the Pyodide runtime: ${e.message}`, new URL("pyodide.mjs", indexURL).href);
  }
  const env = { WEBTENSOR_IN_PAGE: "1", ...(options.env ?? {}) };
  const snapshotBytes = snapshot ? await snapshot : null;  // a missing snapshot rejects here, naming its URL
  const memory = snapshotBytes ? snapshotMemory(snapshotBytes) : null;
  let pyodide;
  try {
    pyodide = await Promise.race([
      loadPyodide({ indexURL, env, packages: options.packages ?? [],
                    ...(memory ? { _loadSnapshot: snapshotBytes, fsInit: memory.fsInit } : {}) }),
      runtimeFilesMissing(indexURL),
    ]);
  } catch (e) {
    if (e instanceof WebtensorError) throw e;
    throw new WebtensorError(`webtensor: Pyodide failed to start: ${e.message}`, snapshotURL ?? indexURL);
  } finally {
    memory?.restore();
  }

  progress("wheel", "installing webtensor");
  const wheel = await wheelPromise;
  const site = pyodide.runPython("import site; site.getsitepackages()[0]");
  try {
    pyodide.unpackArchive(wheel, "wheel", { extractDir: site });
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

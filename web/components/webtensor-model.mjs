// <webtensor-model>: a model file running in the page, as an HTML element.
//
//   <script type="module" src="./webtensor-model.mjs"></script>
//   <webtensor-model id="m" src="digits.safetensors"></webtensor-model>
//   <script type="module">
//     const m = document.getElementById("m");
//     await m.ready;                         // {name, inputs, outputs, size, params, backend}
//     const probs = await m.predict(pixels); // one instance in, one output out
//     const batch = await m.predict([a, b], {batch: true});
//   </script>
//
// Attributes: src (the .safetensors URL, relative to the page), backend ("auto",
// "webgpu", "wasm"; the first element to boot decides for the page). Events: "load"
// (detail: the model's signature) and "error" (detail: the Error, its message one line
// a visitor can read; the Python traceback goes to the console and err.traceback).
// Every element on a page shares one webtensor runtime, booted on first use.
// A SavedModel src runs on the page runtime (runtime/, no Python); the Pyodide loader
// (webtensor.mjs) is imported only for a model file, so a graph page never fetches it.

let runtime = null;

/** The page's webtensor runtime (booted once); `options` go to loadWebtensor. */
export function webtensor(options = {}) {
  runtime ??= import("./webtensor.mjs").then(async ({ loadWebtensor }) => {
    const wt = await loadWebtensor(options);
    const browser = wt.pyodide.pyimport("webtensor.serving.browser");
    return { wt, browser };
  });
  return runtime;
}

/** The line of an error a visitor reads: a Python traceback's last line without the
 *  exception's type ("input 'pixels' must have 64 values, got 3"), else the first line. */
export function oneLine(e) {
  const lines = String(e?.message ?? e).split("\n").map((l) => l.trim()).filter(Boolean);
  if (!lines.length) return String(e);
  if (!/^Traceback/.test(lines[0])) return lines[0];
  return lines[lines.length - 1].replace(/^[\w.]*(Error|Exception): /, "");
}

/** An Error with ``oneLine``'s message, a ``prefix``, and the full text in .traceback (and the console). */
export function readableError(e, prefix = "") {
  const full = String(e?.message ?? e);
  const err = new Error(prefix + oneLine(e));
  err.name = e?.name ?? "Error";
  err.traceback = full;
  if (full.includes("\n")) console.warn(full);  // the traceback, for whoever opens the console
  return err;
}

/** Call a Python function with JSPI when the browser has it, so GPU readback can block. */
export async function callPython(wt, fn, ...args) {
  let out = wt.jspi && fn.callPromising ? await fn.callPromising(...args) : fn(...args);
  if (out && typeof out.then === "function") out = await out;  // an async def's coroutine
  if (out && typeof out.toJs === "function") {
    try { return out.toJs({ dict_converter: Object.fromEntries, create_pyproxies: false }); } finally { out.destroy(); }
  }
  return out;
}

/** A SavedModel (a folder ending in "/", or its saved_model.json) holds graphs: the page runtime
 *  (runtime/, no Python) runs it. A model file (.safetensors) runs in Pyodide. */
export function hasGraph(src) {
  return /(\/|saved_model\.json)$/.test(String(src).split(/[?#]/)[0]);
}

export class WebtensorModel extends HTMLElement {
  static observedAttributes = ["src"];

  #handle = null;
  #graph = null;
  #loading = null;
  #settle = null;
  info = null;

  constructor() {
    super();
    this.#renew();
  }

  #renew() {
    this.ready = new Promise((resolve, reject) => { this.#settle = { resolve, reject }; });
    this.ready.catch(() => {});  // a failed load is reported by the "error" event too
  }

  connectedCallback() {
    if (this.getAttribute("src") && !this.#loading) this.#loading = this.#load();
  }

  attributeChangedCallback(name, before, after) {
    if (!this.isConnected || !after || before === after) return;
    if (before !== null) this.#renew();  // a new model: a new ready promise
    else if (this.#loading) return;
    this.#loading = this.#load();
  }

  async #load() {
    const src = this.getAttribute("src");
    try {
      if (hasGraph(src)) return await this.#loadGraph(src);
      const { wt, browser } = await webtensor({ backend: this.getAttribute("backend") ?? "auto" });
      const url = new URL(src, document.baseURI).href;
      const info = await callPython(wt, browser.load, url);
      if (this.#handle !== null) browser.release(this.#handle);
      this.#handle = info.handle;
      const timing = performance.getEntriesByName(url).at(-1);  // the file's bytes, as fetched
      this.info = { ...info, size: timing?.decodedBodySize || null, backend: wt.backend };
      this.#settle.resolve(this.info);
      this.dispatchEvent(new CustomEvent("load", { detail: this.info }));
    } catch (e) {
      const err = readableError(e, `<webtensor-model src="${src}">: `);
      this.#settle.reject(err);
      this.dispatchEvent(new CustomEvent("error", { detail: err }));
    }
  }

  async #loadGraph(src) {
    const { loadGraphModel } = await import("./runtime/webtensor-runtime.mjs");
    const backend = this.getAttribute("backend") ?? "auto";
    const m = await loadGraphModel(new URL(src, document.baseURI).href, { backend: backend === "gpu" ? "webgpu" : backend });
    this.#graph?.dispose();
    this.#graph = m;
    const sig = m.signatures.serving_default ?? Object.values(m.signatures)[0];
    const name = String(src).split(/[?#]/)[0].replace(/\/?(saved_model\.json)?$/, "").split("/").pop();
    this.info = { name, inputs: sig.inputs, outputs: sig.outputs, backend: m.backend, runtime: "graph" };
    this.#settle.resolve(this.info);
    this.dispatchEvent(new CustomEvent("load", { detail: this.info }));
  }

  /** The graph runtime's predict: one instance gets a batch dim of 1 and loses it again. */
  async #predictGraph(input, batch) {
    const spec = this.info.inputs[0], rest = spec.shape.slice(1), per = rest.reduce((a, b) => a * b, 1);
    if (this.info.inputs.length !== 1) throw new Error(`predict(input) takes one input; this model has ${this.info.inputs.length}`);
    const x = ArrayBuffer.isView(input) ? { data: input, shape: [per ? input.length / per : 0, ...rest], dtype: spec.dtype }
      : batch ? input : [input];
    const out = await this.#graph.predict(x);
    const arrays = (t) => (batch ? t.toArray() : t.toArray()[0]);
    return out.toArray ? arrays(out) : Object.fromEntries(Object.entries(out).map(([k, t]) => [k, arrays(t)]));
  }

  /** Outputs for one instance (nested arrays or a typed array), or for a batch with
   *  {batch: true}. Resolves to nested arrays (an object by output name if several). */
  async predict(input, { batch = false } = {}) {
    if (!this.getAttribute("src")) throw new Error("<webtensor-model>: predict() needs a model: set the src attribute");
    if (!this.isConnected && !this.#loading) throw new Error("<webtensor-model>: predict() needs the element in the document");
    await this.ready;
    try {
      if (this.#graph) return await this.#predictGraph(input, batch);
      const { wt, browser } = await webtensor();
      return await callPython(wt, browser.predict, this.#handle, input, !batch);
    } catch (e) {
      throw readableError(e, `<webtensor-model src="${this.getAttribute("src")}"> predict: `);
    }
  }

  get inputs() { return this.info?.inputs ?? null; }
  get outputs() { return this.info?.outputs ?? null; }
}

if (!customElements.get("webtensor-model")) customElements.define("webtensor-model", WebtensorModel);

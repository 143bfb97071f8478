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
// (detail: the model's signature) and "error" (detail: the Error). Every element on a
// page shares one webtensor runtime, booted on first use.

import { loadWebtensor } from "./webtensor.mjs";

let runtime = null;

/** The page's webtensor runtime (booted once); `options` go to loadWebtensor. */
export function webtensor(options = {}) {
  runtime ??= loadWebtensor(options).then((wt) => {
    const browser = wt.pyodide.pyimport("webtensor.serving.browser");
    return { wt, browser };
  });
  return runtime;
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

export class WebtensorModel extends HTMLElement {
  static observedAttributes = ["src"];

  #handle = null;
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
    if (this.isConnected && before !== null && before !== after) {
      this.#renew();
      this.#loading = this.#load();
    }
  }

  async #load() {
    const src = this.getAttribute("src");
    try {
      const { wt, browser } = await webtensor({ backend: this.getAttribute("backend") ?? "auto" });
      const url = new URL(src, document.baseURI).href;
      const info = await callPython(wt, browser.load, url);
      if (this.#handle !== null) browser.release(this.#handle);
      this.#handle = info.handle;
      this.info = { ...info, backend: wt.backend };
      this.#settle.resolve(this.info);
      this.dispatchEvent(new CustomEvent("load", { detail: this.info }));
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      err.message = `<webtensor-model src="${src}">: ${err.message}`;
      this.#settle.reject(err);
      this.dispatchEvent(new CustomEvent("error", { detail: err }));
    }
  }

  /** Outputs for one instance (nested arrays or a typed array), or for a batch with
   *  {batch: true}. Resolves to nested arrays (an object by output name if several). */
  async predict(input, { batch = false } = {}) {
    await this.ready;
    const { wt, browser } = await webtensor();
    return callPython(wt, browser.predict, this.#handle, input, !batch);
  }

  get inputs() { return this.info?.inputs ?? null; }
  get outputs() { return this.info?.outputs ?? null; }
}

if (!customElements.get("webtensor-model")) customElements.define("webtensor-model", WebtensorModel);

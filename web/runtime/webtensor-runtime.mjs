// webtensor's page runtime: run an exported graph (graph format v1) with no Python.
//
//   import { loadGraphModel } from "./runtime/webtensor-runtime.mjs";
//   const m = await loadGraphModel("model/");          // a SavedModel folder, or a graph .json
//   const y = await m.predict(x);                      // x: typed array, nested arrays, or {name: x}
//   const loss = await m.run("train", { x, y });       // a training signature updates the variables
//
// The same WebAssembly kernels as the Python wasm backend, or WebGPU with the same WGSL.
// Errors are one line (GraphError): which file, graph and node, and why.

import { gpuAdapter } from "./adapter.mjs";
import { DTYPES, GraphError, dtype } from "./dtypes.mjs";
import { LIMITS, parseJSON, validateGraph } from "./graph.mjs";
import { Executable } from "./interpreter.mjs";
import { readSafetensors } from "./safetensors.mjs";
import { Tensor, toBytes } from "./tensor.mjs";
import { WasmBackend, compileKernels } from "./wasm-backend.mjs";

export { GraphError, Tensor, validateGraph, readSafetensors };

const MAX_JSON = 256 << 20;

/** A performance measure "webtensor:<name>" from `start` to now, so a page (or DevTools) sees where
 *  the cold start goes: kernels, fetch, parse, weights, load, prepare (per signature and batch),
 *  first-run. Only once-per-model phases are measured; predict calls leave no entries behind. */
function span(name, start) {
  globalThis.performance?.measure?.(`webtensor:${name}`, { start, end: performance.now() });
}

async function fetchBytes(url, what) {
  if (url.protocol === "file:") {
    const { readFile } = await import("node:fs/promises");
    try {
      return new Uint8Array(await readFile(url));
    } catch (e) {
      throw new GraphError(`${what}: cannot read ${url.pathname} (${e.code ?? e.message})`);
    }
  }
  let r;
  try {
    r = await fetch(url);
  } catch (e) {
    throw new GraphError(`${what}: fetching ${url} failed (${e.message})`);
  }
  if (!r.ok) throw new GraphError(`${what}: ${url} answered HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function fetchJSON(url, what) {
  const b = await fetchBytes(url, what);
  if (b.byteLength > MAX_JSON) throw new GraphError(`${what}: ${b.byteLength} bytes is larger than ${MAX_JSON}`);
  return parseJSON(new TextDecoder().decode(b), what);
}

function baseURL() {
  return globalThis.location?.href ?? `file://${globalThis.process?.cwd?.() ?? ""}/`;
}

/** The backend to run on: "wasm", "webgpu", or "auto" (WebGPU on a hardware adapter, else wasm).
 *  `auto` compiles the kernels while it asks for an adapter (the answer takes a few ms, the
 *  compile longer); on WebGPU the compiled module is dropped unused. */
async function makeBackend(options) {
  const want = options.backend ?? "auto";
  if (want !== "wasm" && want !== "auto" && want !== "webgpu")
    throw new GraphError(`backend ${JSON.stringify(want)} is not "auto", "wasm" or "webgpu"`);
  const kernels = options.kernels ?? new URL("./webtensor_kernels.wasm", import.meta.url);
  const compiled = want === "webgpu" ? null : compileKernels(kernels);
  compiled?.catch(() => {});
  if (want === "webgpu" || (want === "auto" && globalThis.navigator?.gpu)) {
    const found = await gpuAdapter(want === "webgpu");  // asked first: a page on wasm never loads the WebGPU backend
    if (found) {
      const { WebGPUBackend } = await import("./webgpu-backend.mjs");
      const be = await WebGPUBackend.create({ found, workgroupKernels: options.workgroupKernels ?? null });
      if (be) return be;
    }
    if (want === "webgpu") throw new GraphError("webgpu: no WebGPU adapter in this browser");
  }
  try {
    return await WasmBackend.create(await compiled);
  } catch (e) {
    throw new GraphError(`kernels: cannot load the WebAssembly kernels from ${kernels} (${e.message})`);
  }
}

/**
 * Load a model: `source` is a URL (a SavedModel folder ending in "/" or its saved_model.json,
 * docs/saved-model.md; or a bare graph .json from `graph.as_dict()` with `options.weights` naming
 * a .safetensors of its variables by name), or the parsed JSON document itself (with `options.weights`
 * as bytes). Options: backend ("auto" | "wasm" | "webgpu"), kernels (the .wasm URL),
 * maxLoopIterations, onPrint(text, stream).
 */
export async function loadGraphModel(source, options = {}) {
  let doc, weights = options.weights ?? null, where = "model";
  const t0 = performance.now();
  const be = makeBackend(options).then((b) => (span("kernels", t0), b));
  be.catch(() => {});
  if (typeof source === "string" || source instanceof URL) {
    let url = new URL(source, baseURL());
    if (url.pathname.endsWith("/")) url = new URL("saved_model.json", url);
    where = url.pathname.split("/").filter(Boolean).slice(-2).join("/");
    if (weights === null) weights = new URL("variables.safetensors", url);
    else if (typeof weights === "string") weights = new URL(weights, url);
    const [d, w] = await Promise.all([fetchJSON(url, where),  // fetched side by side
      weights instanceof URL ? fetchBytes(weights, weights.pathname.split("/").pop()).catch((e) => e) : weights]);
    doc = d;
    weights = w;
    span("fetch", t0);
  } else if (source && typeof source === "object") {
    doc = source;
  } else {
    throw new GraphError("loadGraphModel: expected a URL or a model document");
  }
  let t = performance.now();
  const functions = readFunctions(doc, where, options.limits);
  span("parse", t);
  if (weights instanceof Error) {
    if (functions.variables.size) throw weights;
    weights = null;
  }
  const backend = await be;
  t = performance.now();
  const tensors = weights ? readSafetensors(weights, "variables.safetensors").tensors : new Map();
  const model = new GraphModel(functions, tensors, backend, options);
  span("weights", t);
  span("load", t0);
  return model;
}

const TOP_KEYS = new Set(["format", "format_version", "objects", "functions", "signatures"]);

/** Signatures (name -> graph, input/output names, batch sites) and variables of a document. */
export function readFunctions(doc, where = "model", limits = {}) {
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new GraphError(`${where}: not a JSON object`);
  const variables = new Map(), budget = { nodes: 0 }, signatures = new Map();
  limits = { ...LIMITS, ...limits };
  if (doc.version === 1 && Array.isArray(doc.nodes)) {  // a bare graph: variables by name
    const raw = structuredClone(doc);
    const graph = validateGraph(doc, { variables, budget, limits });
    const names = graph.inputs.map((s) => s.split(":")[0]);
    signatures.set("serving_default", { graph, raw, batch: null, inputNames: names,
      outputNames: graph.outputs.map((_, i) => `output_${i}`), outputIndex: graph.outputs.map((_, i) => i) });
    return { signatures, variables, declared: null };
  }
  if (doc.format !== "webtensor-saved-model") throw new GraphError(`${where}: neither a SavedModel document (format "webtensor-saved-model") nor a graph (version 1)`);
  if (doc.format_version !== 1) throw new GraphError(`${where}: SavedModel format_version ${JSON.stringify(doc.format_version)} is not 1 (a newer writer?)`);
  for (const k of Object.keys(doc)) if (!TOP_KEYS.has(k)) throw new GraphError(`${where}: unknown top-level key ${JSON.stringify(k)}`);
  if (!Array.isArray(doc.objects) || !Array.isArray(doc.functions) || !doc.signatures || typeof doc.signatures !== "object")
    throw new GraphError(`${where}: objects and functions must be lists, signatures an object`);
  const declared = new Map();
  doc.objects.forEach((o, i) => {
    if (o?.kind !== "variable") return;
    const w = `${where}: objects[${i}] (variable)`;
    if (typeof o.key !== "string" || declared.has(o.key)) throw new GraphError(`${w}: a missing or duplicate key ${JSON.stringify(o.key)}`);
    declared.set(o.key, { shape: o.shape, dtype: dtype(o.dtype, w) });
  });
  for (const [name, sig] of Object.entries(doc.signatures)) {
    const w = `${where}: signature ${JSON.stringify(name)}`;
    const fn = Number.isInteger(sig?.function) ? doc.functions[sig.function] : undefined;
    if (!fn || !fn.graph) throw new GraphError(`${w}: function ${JSON.stringify(sig?.function)} does not exist`);
    const raw = fn.batch ? structuredClone(fn.graph) : null;
    const graph = validateGraph(fn.graph, { where: w, variables, budget, limits });
    const inputNames = new Array(graph.inputs.length), outputNames = [], outputIndex = [];
    for (const [k, v] of Object.entries(sig.inputs ?? {})) {
      if (!Number.isInteger(v?.index) || v.index < 0 || v.index >= graph.inputs.length || inputNames[v.index] !== undefined)
        throw new GraphError(`${w}: input ${JSON.stringify(k)} has a bad index ${JSON.stringify(v?.index)}`);
      inputNames[v.index] = k;
    }
    if (inputNames.some((k) => k === undefined) || inputNames.length !== Object.keys(sig.inputs ?? {}).length)
      throw new GraphError(`${w}: its inputs do not name each of the graph's ${graph.inputs.length} inputs once`);
    for (const [k, v] of Object.entries(sig.outputs ?? {})) {
      if (!Number.isInteger(v?.index) || v.index < 0 || v.index >= graph.outputs.length)
        throw new GraphError(`${w}: output ${JSON.stringify(k)} has a bad index ${JSON.stringify(v?.index)}`);
      outputNames.push(k);
      outputIndex.push(v.index);
    }
    const batch = fn.batch ?? null;
    if (batch !== null && (!Number.isInteger(batch.traced) || batch.traced < 1 || !Array.isArray(batch.sites)))
      throw new GraphError(`${w}: a bad batch entry`);
    signatures.set(name, { graph, raw, batch, inputNames, outputNames, outputIndex });
  }
  if (!signatures.size) throw new GraphError(`${where}: the SavedModel has no signatures`);
  for (const [k, v] of variables) {
    const d = declared.get(k);
    if (!d) throw new GraphError(`${where}: the graphs use variable ${JSON.stringify(k)}, which no object declares`);
    if (d.dtype !== v.dtype || d.shape.length !== v.shape.length || d.shape.some((x, i) => x !== v.shape[i]))
      throw new GraphError(`${where}: variable ${JSON.stringify(k)} is declared [${d.shape}] ${d.dtype.name}, the graphs use [${v.shape}] ${v.dtype.name}`);
  }
  return { signatures, variables, declared };
}

/** A copy of a graph dict with each batch site set to multiplier * n (docs/saved-model.md). */
function substitute(raw, sites, n, where) {
  const g = structuredClone(raw);
  for (const site of sites) {
    const [path, k] = Array.isArray(site) ? site : [];
    if (!Array.isArray(path) || !path.length || !Number.isInteger(k) || k < 1) throw new GraphError(`${where}: a bad batch site`);
    let node = g;
    for (const p of path.slice(0, -1)) {
      node = node?.[p];
      if (node === undefined || node === null || typeof node !== "object") throw new GraphError(`${where}: batch site ${JSON.stringify(path)} is not in the graph`);
    }
    if (!Number.isInteger(node[path[path.length - 1]])) throw new GraphError(`${where}: batch site ${JSON.stringify(path)} is not an int`);
    node[path[path.length - 1]] = k * n;
  }
  return g;
}

export class GraphModel {
  constructor(functions, tensors, be, options) {
    this.backend = be.name;
    this._be = be;
    this._state = { variables: new Map(), maxLoopIterations: options.maxLoopIterations, onPrint: options.onPrint };
    for (const [name, spec] of functions.declared ?? functions.variables) {
      const t = tensors.get(name);
      if (!t) throw new GraphError(`variables.safetensors: variable ${JSON.stringify(name)} is missing`);
      if (t.dtype !== spec.dtype || t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i]))
        throw new GraphError(`variables.safetensors: variable ${JSON.stringify(name)} is [${t.shape}] ${t.dtype.name}, the model says [${spec.shape}] ${spec.dtype.name}`);
      this._state.variables.set(name, { handle: be.write(t.bytes, t.shape, t.dtype), shape: spec.shape, dtype: spec.dtype });
    }
    this._sigs = functions.signatures;
    this._exe = new Map();
    this._queue = Promise.resolve();
  }

  /** Each signature's inputs and outputs: name -> {inputs: [{name, shape, dtype}], outputs: [...]}; null: any batch size. */
  get signatures() {
    const out = {};
    for (const [name, s] of this._sigs) {
      const dims = (shape) => (s.batch && shape.length ? [null, ...shape.slice(1)] : shape);
      out[name] = {
        inputs: s.graph.inputSpecs.map((t, i) => ({ name: s.inputNames[i], shape: dims(t.shape), dtype: t.dtype.name })),
        outputs: s.outputNames.map((k, i) => {
          const t = s.graph.outputSpecs[s.outputIndex[i]];
          return { name: k, shape: dims(t.shape), dtype: t.dtype.name };
        }),
      };
    }
    return out;
  }

  /** The serving signature (`serving_default`): one output as a Tensor, several as {name: Tensor}. */
  async predict(x) {
    const name = this._sigs.has("serving_default") ? "serving_default" : this._sigs.keys().next().value;
    const out = await this.run(name, x);
    const keys = Object.keys(out);
    return keys.length === 1 ? out[keys[0]] : out;
  }

  /** Run signature `name` on x (one input as is; several as {name: x} or an array); gives {output name: Tensor}.
   * Calls run one at a time (variables are shared state). */
  run(name, x) {
    const job = this._queue.then(() => this._run(name, x));
    this._queue = job.catch(() => {});
    return job;
  }

  _args(name, sig, x) {
    const names = sig.inputNames, count = names.length;
    const plain = x && typeof x === "object" && !Array.isArray(x) && !ArrayBuffer.isView(x) && !(x instanceof Tensor) && !("data" in x && "shape" in x);
    if (plain && (count !== 1 || names[0] in x)) {
      const extra = Object.keys(x).filter((k) => !names.includes(k));
      if (extra.length) throw new GraphError(`${name}: unknown input ${JSON.stringify(extra[0])} (inputs: ${names.join(", ")})`);
      return names.map((k) => {
        if (!(k in x)) throw new GraphError(`${name}: missing input ${JSON.stringify(k)}`);
        return x[k];
      });
    }
    if (count === 1) return [x];
    if (count === 0 && x == null) return [];
    if (Array.isArray(x) && x.length === count) return x;
    throw new GraphError(`${name}: takes ${count} inputs (${names.join(", ")}); pass them as {name: value} or an array`);
  }

  /** The batch size of the call (signatures with batch sites run at any), else the traced one. */
  _batchOf(name, sig, args) {
    if (!sig.batch) return null;
    let n = null;
    args.forEach((a, i) => {
      const spec = sig.graph.inputSpecs[i];
      if (!spec.shape.length) return;
      const rest = spec.shape.slice(1).reduce((p, d) => p * d, 1);
      const got = Array.isArray(a) ? a.length : ArrayBuffer.isView(a) ? (rest ? a.length / rest : 0) : a?.shape ? a.shape[0] : null;
      if (!Number.isInteger(got)) throw new GraphError(`${name}: input ${JSON.stringify(sig.inputNames[i])}: ${a?.length} values are not a batch of [${spec.shape.slice(1)}]`);
      if (n !== null && got !== n) throw new GraphError(`${name}: inputs have batch sizes ${n} and ${got}`);
      n = got;
    });
    if (n === null || n === sig.batch.traced) return null;
    if (n < 1 || n > 1 << 24) throw new GraphError(`${name}: batch size ${n} is out of range`);
    return n;
  }

  _executable(name, sig, n) {
    const key = n === null ? name : `${name}#${n}`;
    let exe = this._exe.get(key);
    if (exe) return exe;
    const t0 = performance.now();
    let graph = sig.graph;
    if (n !== null) {
      const where = `signature ${JSON.stringify(name)} at batch ${n}`;
      graph = validateGraph(substitute(sig.raw, sig.batch.sites, n, where), { where, variables: new Map(this._state.variables) });
      for (const k of [...this._exe.keys()].filter((k) => k.startsWith(`${name}#`)).slice(0, -7)) {
        this._exe.get(k).dispose();
        this._exe.delete(k);
      }
    }
    exe = new Executable(graph, this._be, this._state);
    this._exe.set(key, exe);
    span(`prepare ${key}`, t0);
    return exe;
  }

  async _run(name, x) {
    const sig = this._sigs.get(name);
    if (!sig) throw new GraphError(`no signature ${JSON.stringify(name)} (the model has ${[...this._sigs.keys()].join(", ")})`);
    const args = this._args(name, sig, x);
    const exe = this._executable(name, sig, this._batchOf(name, sig, args));
    this._state.iterations = 0;
    const specs = exe.g.inputSpecs;
    const bytes = args.map((a, i) => toBytes(a, specs[i], `${name}: input ${JSON.stringify(sig.inputNames[i])}`));
    const handles = [];
    try {
      bytes.forEach((b, i) => handles.push(this._be.write(b, specs[i].shape, specs[i].dtype)));
    } catch (e) {
      handles.forEach((h) => this._be.free(h));
      throw e;
    }
    const t0 = performance.now(), first = !exe.ran;
    exe.ran = true;
    const outs = await exe.run(handles);
    if (first) span(`first-run ${name}`, t0);
    const result = {};
    try {
      for (const [i, k] of sig.outputNames.entries()) {
        const h = outs[sig.outputIndex[i]];
        result[k] = Tensor.fromBytes(await this._be.read(h), h.shape, h.dtype);
      }
    } finally {
      outs.forEach((h) => this._be.free(h));
    }
    return result;
  }

  /** Current variable values: name -> Tensor. */
  async getVariables() {
    await this._queue;
    const out = {};
    for (const [name, v] of this._state.variables) out[name] = Tensor.fromBytes(await this._be.read(v.handle), v.shape, v.dtype);
    return out;
  }

  /** Set variables from {name: typed array | nested arrays | Tensor}. */
  async setVariables(values) {
    await this._queue;
    for (const [name, x] of Object.entries(values)) {
      const v = this._state.variables.get(name);
      if (!v) throw new GraphError(`setVariables: the model has no variable ${JSON.stringify(name)}`);
      const h = this._be.write(toBytes(x, v, `setVariables: ${name}`), v.shape, v.dtype);
      this._be.free(v.handle);
      v.handle = h;
    }
  }

  /** Free the model's memory (variables, constants). */
  dispose() {
    for (const exe of this._exe.values()) exe.dispose();
    for (const v of this._state.variables.values()) this._be.free(v.handle);
    this._exe.clear();
    this._state.variables.clear();
  }
}

export { DTYPES, dtype };

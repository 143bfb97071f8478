// The app's Python, in a module Worker: training never blocks the page's drawing.
//
// The main thread (remote.mjs) sends {id, op, ...}; Python objects stay here, named by a
// handle. Messages in: {op: "boot", backend, files}, {op: "call", target, name, args}
// (target "webapp", "browser" or a {__handle__}), {op: "release", handle}. Out: {id,
// result} or {id, error}, {progress} during boot, {callback, value} for a function argument.

import { loadWebtensor } from "./webtensor.mjs";

const objects = new Map();  // handle -> PyProxy
let nextHandle = 1, wt = null;
const modules = {};

function decode(arg) {
  if (arg && typeof arg === "object" && "__callback__" in arg) {
    return (value) => self.postMessage({ callback: arg.__callback__, value: plain(value) });
  }
  if (arg && typeof arg === "object" && "__handle__" in arg) {
    const obj = objects.get(arg.__handle__);
    if (!obj) throw new Error(`no Python object ${arg.__handle__} (released)`);
    return obj;
  }
  return arg;
}

function plain(value) {  // a PyProxy stays here (a handle); JS values travel as they are
  if (value && typeof value.toJs === "function") {
    const handle = nextHandle++;
    objects.set(handle, value);
    return { __handle__: handle, type: value.type };
  }
  return value;
}

async function call(target, name, args) {
  let obj = typeof target === "string" ? modules[target] : decode(target);
  const path = name.split(".");
  for (const part of path.slice(0, -1)) obj = obj[part];
  const fn = obj[path[path.length - 1]];
  if (typeof fn !== "function") throw new Error(`${name} is not a Python function`);
  const values = args.map(decode);
  let out = wt.jspi && fn.callPromising ? await fn.callPromising(...values) : fn(...values);
  if (out && typeof out.then === "function") out = await out;  // an async def's coroutine
  return plain(out);
}

async function boot({ backend, files }) {
  wt = await loadWebtensor({ backend, onProgress: (p) => self.postMessage({ progress: p }) });
  wt.pyodide.FS.mkdirTree("/home/pyodide/app");
  for (const name of files) {
    const url = new URL(`py/${name}`, import.meta.url);
    const resp = await fetch(url);
    if (!resp.ok) throw new Error(`could not fetch the app's Python (${url.pathname}): HTTP ${resp.status}`);
    wt.pyodide.FS.writeFile(`/home/pyodide/app/${name}`, await resp.text());
  }
  await wt.runPythonAsync("import sys, importlib\nsys.path.insert(0, '/home/pyodide/app')\nimportlib.invalidate_caches()\nimport webapp");
  modules.webapp = wt.pyodide.pyimport("webapp");
  modules.browser = wt.pyodide.pyimport("webtensor.serving.browser");
  return { backend: wt.backend, reason: wt.reason, jspi: wt.jspi, adapterInfo: wt.adapterInfo };
}

self.onmessage = async ({ data }) => {
  const { id, op } = data;
  try {
    let result = null;
    if (op === "boot") result = await boot(data);
    else if (op === "call") result = await call(data.target, data.name, data.args ?? []);
    else if (op === "release") { objects.get(data.handle)?.destroy(); objects.delete(data.handle); }
    else throw new Error(`unknown message ${JSON.stringify(op)}`);
    self.postMessage({ id, result });
  } catch (e) {
    self.postMessage({ id, error: String(e?.message ?? e), name: e?.name ?? "Error", url: e?.url ?? null });
  }
};

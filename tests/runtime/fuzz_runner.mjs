// Seeded mutations of a SavedModel's graphs, each loaded and run by web/runtime: every outcome
// must be a result or a one-line GraphError (no TypeError/RangeError from inside, no hang).
//   node fuzz_runner.mjs <saved model dir> <kernels.wasm> <count> <seed>   -> JSON summary
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { loadGraphModel, readSafetensors } from "../../web/runtime/webtensor-runtime.mjs";
import { WasmBackend } from "../../web/runtime/wasm-backend.mjs";

const [dir, kernels, count, seed] = process.argv.slice(2);
const text = readFileSync(`${dir}/saved_model.json`, "utf8");
const weights = readFileSync(`${dir}/variables.safetensors`);
let s = Number(seed) >>> 0;
const rand = () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32; };
const pick = (a) => a[Math.floor(rand() * a.length)];
const VALUES = [-1, 0, 1, 2, 3, 7, 2 ** 31, 1e300, -0.5, NaN, "x", "", "float32", "int64", "matmul", "nope:0", null, true, [], [1], [2, 3], [[0, 0]], {}];

function paths(v, path, out) {  // every place in the graphs a mutation can hit
  out.push(path);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...path, i], out));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) paths(x, [...path, k], out);
  return out;
}

const kernelsModule = new WebAssembly.Module(readFileSync(kernels));
const tally = { ok: 0, graphError: 0, other: [] };
const doc0 = JSON.parse(text);
const all = paths(doc0.functions, ["functions"], []).filter((p) => p.length > 1);
for (let i = 0; i < Number(count); i++) {
  const doc = JSON.parse(text);
  for (let k = 0, n = 1 + Math.floor(rand() * 3); k < n; k++) {
    const p = pick(all);
    let parent = doc;
    for (const q of p.slice(0, -1)) parent = parent?.[q];
    if (parent === null || typeof parent !== "object") continue;
    const key = p[p.length - 1], r = rand();
    if (r < 0.15) Array.isArray(parent) ? parent.splice(key, 1) : delete parent[key];
    else if (r < 0.3 && typeof parent[key] === "number") parent[key] = parent[key] + pick([-1, 1, 2, -2]);
    else parent[key] = structuredClone(pick(VALUES));
  }
  const sig = Object.keys(doc.signatures ?? {})[0];
  try {
    const m = await loadGraphModel(doc, { backend: "wasm", kernels: kernelsModule, weights, maxLoopIterations: 1000, onPrint: () => {} });
    const specs = m.signatures[sig].inputs;
    const x = Object.fromEntries(specs.map((t) => [t.name, { data: new (t.dtype === "int32" ? Int32Array : t.dtype === "int64" ? BigInt64Array : t.dtype === "bool" ? Uint8Array : Float32Array)(t.shape.map((d) => d ?? 2).reduce((a, b) => a * b, 1)), shape: t.shape.map((d) => d ?? 2), dtype: t.dtype }]));
    await m.run(sig, x);
    m.dispose();
    tally.ok++;
  } catch (e) {
    if (e?.name === "GraphError" && !String(e.message).includes("\n")) tally.graphError++;
    else if (tally.other.length < 20) tally.other.push(`${e?.name}: ${String(e?.message).slice(0, 200)} @ ${String(e?.stack).split("\n").slice(1, 4).join(" <- ")}`);
    else tally.other.push("...");
  }
}
process.stdout.write(JSON.stringify(tally));

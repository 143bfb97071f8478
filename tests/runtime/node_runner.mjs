// Drives web/runtime in Node for tests/runtime: reads a job (JSON file named by argv[2]),
// loads the model on the wasm kernels, runs the calls in order, prints one JSON result.
//   job: {model, kernels, options, calls: [{signature, inputs: {name: {shape, dtype, b64}}}], variables: bool}
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { loadGraphModel } from "../../web/runtime/webtensor-runtime.mjs";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const enc = (t) => ({ shape: t.shape, dtype: t.dtype, b64: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString("base64") });
const dec = (x) => {
  const b = Buffer.from(x.b64, "base64");
  return { data: new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), shape: x.shape, dtype: x.dtype };
};
const out = { results: [], prints: [] };
try {
  const source = typeof job.model === "string" ? pathToFileURL(job.model).href + (job.model.endsWith(".json") ? "" : "/") : job.model;
  const m = await loadGraphModel(source, {
    backend: "wasm", kernels: pathToFileURL(job.kernels), ...(job.options ?? {}),
    ...(job.weights ? { weights: pathToFileURL(job.weights).href } : {}),
    onPrint: (text) => out.prints.push(text),
  });
  out.signatures = m.signatures;
  for (const c of job.calls ?? []) {
    const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, typed(dec(v))]));
    const r = await m.run(c.signature ?? "serving_default", inputs);
    out.results.push(Object.fromEntries(Object.entries(r).map(([k, t]) => [k, enc(t)])));
  }
  if (job.variables) out.variables = Object.fromEntries(Object.entries(await m.getVariables()).map(([k, t]) => [k, enc(t)]));
  out.memory = m._be.memoryStats?.();
} catch (e) {
  out.error = e.message;
  out.errorName = e.name;
}
process.stdout.write(JSON.stringify(out));

function typed({ data, shape, dtype }) {
  const A = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array,
    uint32: Uint32Array, bool: Uint8Array, float16: Uint16Array }[dtype];
  return { data: new A(data.buffer, 0, data.byteLength / A.BYTES_PER_ELEMENT), shape, dtype };
}

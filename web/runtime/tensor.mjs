// Host tensors: what predict takes (typed arrays, nested arrays, numbers, {data, shape})
// and gives back (a Tensor: dtype, shape, a typed array), and tf.print's text format.

import { DTYPES, GraphError, f16ToF32, f32ToF16, prod } from "./dtypes.mjs";

export class Tensor {
  constructor(data, shape, dtype) {
    this.data = data;    // a typed array (float16 as Uint16Array bits; bool as Uint8Array)
    this.shape = shape;
    this.dtype = dtype;  // a dtype name
  }

  /** Values as numbers (bool: true/false, int64: BigInt), float16 decoded. */
  values() {
    const d = this.data;
    if (this.dtype === "float16") return Array.from(d, f16ToF32);
    if (this.dtype === "bool") return Array.from(d, (v) => v !== 0);
    return Array.from(d);
  }

  /** Nested arrays in the tensor's shape (a number for a scalar). */
  toArray() {
    return nest(this.values(), this.shape);
  }

  static fromBytes(bytes, shape, dt) {
    const copy = bytes.byteOffset % dt.size ? bytes.slice() : bytes;
    return new Tensor(new dt.Array(copy.buffer, copy.byteOffset, prod(shape)), shape, dt.name);
  }
}

function nest(flat, shape) {
  if (!shape.length) return flat[0];
  let level = flat;
  for (let d = shape.length - 1; d > 0; d--) {
    const n = shape[d], next = [];
    for (let i = 0; i < level.length; i += n) next.push(level.slice(i, i + n));
    level = next;
  }
  return level;
}

function flatten(x, shape, where) {
  const out = [];
  const walk = (v, d) => {
    if (d === shape.length) {
      if (Array.isArray(v)) throw new GraphError(`${where}: nested deeper than shape [${shape}]`);
      out.push(v);
      return;
    }
    if (!Array.isArray(v) && !ArrayBuffer.isView(v)) throw new GraphError(`${where}: expected shape [${shape}], found a scalar at depth ${d}`);
    if (v.length !== shape[d]) throw new GraphError(`${where}: expected shape [${shape}], found length ${v.length} at depth ${d}`);
    for (const e of v) walk(e, d + 1);
  };
  walk(x, 0);
  return out;
}

function inferShape(x) {
  const shape = [];
  for (let v = x; Array.isArray(v) || ArrayBuffer.isView(v); v = v[0]) shape.push(v.length);
  return shape;
}

/** Bytes of `x` as a tensor of `spec` ({shape, dtype}): checks the element count and converts. */
export function toBytes(x, spec, where) {
  const dt = spec.dtype, n = prod(spec.shape);
  let flat;
  if (x instanceof Tensor || (x && typeof x === "object" && "data" in x && "shape" in x && !ArrayBuffer.isView(x))) {
    if (prod(x.shape) !== n || x.shape.length !== spec.shape.length || x.shape.some((d, i) => d !== spec.shape[i]))
      throw new GraphError(`${where}: shape [${x.shape}] does not match [${spec.shape}]`);
    if (x.dtype && x.dtype !== dt.name) throw new GraphError(`${where}: dtype ${x.dtype} does not match ${dt.name}`);
    x = x.data;
  }
  if (ArrayBuffer.isView(x)) {
    if (x.length !== n) throw new GraphError(`${where}: ${x.length} values do not fill shape [${spec.shape}] (${n} values)`);
    if (x instanceof dt.Array && !(dt.name === "float16" && !(x instanceof Uint16Array)))
      return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    flat = Array.from(x);
  } else if (typeof x === "number" || typeof x === "boolean" || typeof x === "bigint") {
    if (n !== 1) throw new GraphError(`${where}: a scalar does not fill shape [${spec.shape}]`);
    flat = [x];
  } else if (Array.isArray(x)) {
    const shape = inferShape(x);
    flat = flatten(x, spec.shape.length ? spec.shape : shape, where);
    if (flat.length !== n) throw new GraphError(`${where}: shape [${shape}] does not match [${spec.shape}]`);
  } else {
    throw new GraphError(`${where}: expected a typed array, nested arrays, a number or {data, shape}, got ${x === null ? "null" : typeof x}`);
  }
  const arr = new dt.Array(n);
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    if (typeof v !== "number" && typeof v !== "boolean" && typeof v !== "bigint")
      throw new GraphError(`${where}: element ${i} is ${typeof v}, not a number`);
    if (dt.name === "int64") arr[i] = BigInt(typeof v === "bigint" ? v : Math.trunc(Number(v)));
    else if (dt.name === "float16") arr[i] = f32ToF16(Number(v));
    else if (dt.name === "bool") arr[i] = v ? 1 : 0;
    else arr[i] = Number(v);
  }
  return new Uint8Array(arr.buffer);
}

// -- tf.print's format ([1 2 3], "..." past summarize, floats as %.6g, bools as 1/0) ---------------

function fmtG(v) {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  let [m, e] = v.toExponential(5).split("e");
  const exp = Number(e);
  if (exp < -4 || exp >= 6) {
    m = m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m;
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const s = v.toFixed(Math.max(0, 5 - exp));
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

function fmtScalar(v, kind) {
  if (typeof v === "boolean") return v ? "1" : "0";
  if (kind === "f") return fmtG(v);
  return String(v);
}

export function formatValue(v, kind, summarize = 3, indent = 1) {
  if (!Array.isArray(v)) return fmtScalar(v, kind);
  const cut = summarize !== null && summarize >= 0 && v.length > 2 * summarize;
  const shown = cut ? [...v.slice(0, summarize), undefined, ...v.slice(-summarize)] : v;
  if (v.length && Array.isArray(v[0]))
    return `[${shown.map((r) => (r === undefined ? "..." : formatValue(r, kind, summarize, indent + 1))).join("\n" + " ".repeat(indent))}]`;
  return `[${shown.map((x) => (x === undefined ? "..." : fmtScalar(x, kind))).join(" ")}]`;
}

export function formatTensor(t, summarize) {
  return formatValue(t.toArray(), DTYPES[t.dtype].kind, summarize);
}

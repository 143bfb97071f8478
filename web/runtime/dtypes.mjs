// The dtype table of graph format v1: the code is the index in webtensor.dtypes.ALL
// (the kernels' DT_* numbering), so one table serves the graph, safetensors and wasm.

export const DTYPES = {
  float16: { code: 0, size: 2, kind: "f", st: "F16", Array: Uint16Array },
  float32: { code: 1, size: 4, kind: "f", st: "F32", Array: Float32Array },
  float64: { code: 2, size: 8, kind: "f", st: "F64", Array: Float64Array },
  int32: { code: 3, size: 4, kind: "i", st: "I32", Array: Int32Array },
  int64: { code: 4, size: 8, kind: "i", st: "I64", Array: BigInt64Array },
  uint8: { code: 5, size: 1, kind: "u", st: "U8", Array: Uint8Array },
  uint32: { code: 6, size: 4, kind: "u", st: "U32", Array: Uint32Array },
  bool: { code: 7, size: 1, kind: "b", st: "BOOL", Array: Uint8Array },
};
for (const [name, d] of Object.entries(DTYPES)) d.name = name;

export const BY_SAFETENSORS = Object.fromEntries(Object.values(DTYPES).map((d) => [d.st, d]));

/** The dtype entry for a name, or an error naming where it was met. */
export function dtype(name, where) {
  const d = typeof name === "string" && Object.hasOwn(DTYPES, name) ? DTYPES[name] : null;
  if (!d) throw new GraphError(`${where}: unknown dtype ${JSON.stringify(name)}`);
  return d;
}

export function prod(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A one-line error about a bad graph, file or input (never a traceback for the user). */
export class GraphError extends Error {
  constructor(message) {
    super(String(message).replace(/\s*\n\s*/g, " "));
    this.name = "GraphError";
  }
}

/** Host-side float16 <-> float32 (storage is 16 bits; math is float32). */
export function f16ToF32(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
export function f32ToF16(v) {
  f32[0] = v;
  const x = u32[0], sign = (x >>> 16) & 0x8000, e = (x >>> 23) & 0xff, m = x & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  const ex = e - 127 + 15;
  if (ex >= 0x1f) return sign | 0x7c00;
  if (ex <= 0) {
    if (ex < -10) return sign;
    const mm = m | 0x800000, shift = 14 - ex, half = 1 << (shift - 1);
    let r = mm >> shift;
    const rem = mm & ((1 << shift) - 1);
    if (rem > half || (rem === half && (r & 1))) r += 1;
    return sign | r;
  }
  let r = (ex << 10) | (m >> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1))) r += 1;
  return sign | r;
}

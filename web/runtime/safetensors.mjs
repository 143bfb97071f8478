// safetensors reading for the runtime: an 8-byte little-endian header length, a JSON
// header (name -> dtype, shape, data_offsets), then the data. Every offset, shape and
// dtype is checked; the data CRC-32 in __metadata__.data_crc32 (webtensor's writer) is
// verified when present.

import { BY_SAFETENSORS, GraphError, prod } from "./dtypes.mjs";

const MAX_HEADER = 100 << 20;

/** Parse a safetensors file: Map name -> {dtype, shape, bytes (a Uint8Array view)}, metadata. */
export function readSafetensors(buf, what = "weights") {
  const u8 = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  if (u8.byteLength < 8) throw new GraphError(`${what}: ${u8.byteLength} bytes is too short for a safetensors file`);
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const len = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
  if (len > MAX_HEADER || 8 + len > u8.byteLength) throw new GraphError(`${what}: header length ${len} does not fit the file (${u8.byteLength} bytes)`);
  let header;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(u8.subarray(8, 8 + len)));
  } catch (e) {
    throw new GraphError(`${what}: the header is not valid JSON (${e.message})`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) throw new GraphError(`${what}: the header is not a JSON object`);
  const data = u8.subarray(8 + len), tensors = new Map();
  const metadata = header.__metadata__ ?? {};
  const spans = [];
  for (const [name, e] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const w = `${what}: tensor ${JSON.stringify(name)}`;
    const dt = e && BY_SAFETENSORS[e.dtype];
    if (!dt) throw new GraphError(`${w}: unknown dtype ${JSON.stringify(e?.dtype)}`);
    const shape = e.shape, off = e.data_offsets;
    if (!Array.isArray(shape) || shape.length > 16 || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new GraphError(`${w}: bad shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(off) || off.length !== 2 || !off.every(Number.isInteger) || off[0] < 0 || off[1] < off[0] || off[1] > data.byteLength)
      throw new GraphError(`${w}: data_offsets ${JSON.stringify(off)} lie outside the data (${data.byteLength} bytes)`);
    if (off[1] - off[0] !== prod(shape) * dt.size)
      throw new GraphError(`${w}: ${off[1] - off[0]} bytes do not match shape ${JSON.stringify(shape)} ${dt.st}`);
    spans.push(off);
    tensors.set(name, { dtype: dt, shape, bytes: data.subarray(off[0], off[1]) });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++)
    if (spans[i][0] < spans[i - 1][1]) throw new GraphError(`${what}: tensors overlap in the data section`);
  const crc = metadata.data_crc32;
  if (typeof crc === "string" && /^[0-9a-f]{8}$/.test(crc) && crc32(data) !== parseInt(crc, 16))
    throw new GraphError(`${what}: the data checksum does not match (a damaged or truncated file)`);
  return { tensors, metadata };
}

let table = null;
function crc32(u8) {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < u8.length; i++) c = table[(c ^ u8[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

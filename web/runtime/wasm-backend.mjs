// The wasm backend of the runtime: the primitives of backends/base.py on the same
// WebAssembly kernels the Python wasm backend calls (kernels/*.c), through the same ABI
// (kernels/webtensor.h): dtype and op codes are table indices, shapes go in the params
// block, a kernel allocates its output and returns its address (0: out of memory,
// negative: an error code). This file mirrors core/webtensor/backends/wasm/__init__.py.
//
// Memory is freed explicitly: the interpreter frees each value after its last use. A
// reshape or contiguous slice is a view; views and their base share one reference count.

import { DTYPES, GraphError, f32ToF16, prod } from "./dtypes.mjs";
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS } from "./graph.mjs";

const MEMORY_LIMIT = 2 ** 31;
const MAX_DIMS = 16;
const E_NOMEM = 1, E_INDEX = 2, E_ARG = 3;
const UNARY = Object.fromEntries(UNARY_OPS.map((op, i) => [op, i]));
const BINARY = Object.fromEntries(BINARY_OPS.map((op, i) => [op, i]));
const REDUCE = Object.fromEntries(REDUCE_OPS.map((op, i) => [op, i]));
const BOOL_UNARY = new Set(["logical_not", "isnan", "isfinite"]);
const COMPARISONS = new Set(BINARY_OPS.slice(9));

class Handle {
  constructor(owner, ptr, shape, dtype) {
    this.owner = owner;
    this.ptr = ptr;
    this.shape = shape;
    this.dtype = dtype;
    this.size = prod(shape);
  }
}

function strides(shape) {
  const st = new Array(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { st[d] = acc; acc *= shape[d]; }
  return st;
}

/** Drop size-1 dims, merge dims contiguous for every operand: [dims, rows per operand]. */
function collapse(shape, stridesList) {
  const dims = [], rows = stridesList.map(() => []);
  shape.forEach((n, d) => {
    if (n === 1) return;
    if (dims.length && rows.every((r, k) => r[r.length - 1] === stridesList[k][d] * n)) {
      dims[dims.length - 1] *= n;
      rows.forEach((r, k) => { r[r.length - 1] = stridesList[k][d]; });
      return;
    }
    dims.push(n);
    rows.forEach((r, k) => r.push(stridesList[k][d]));
  });
  if (!dims.length) return [[1], stridesList.map(() => [1])];
  return [dims, rows];
}

function walk(op, shape, st) {
  const [dims, rows] = collapse(shape, st);
  if (dims.length > MAX_DIMS) throw new GraphError(`${op}: the wasm kernels walk at most ${MAX_DIMS} dims; shape [${shape}] needs ${dims.length}`);
  return [dims.length, ...dims, ...rows.flat()];
}

function bcastStrides(shape, out) {
  const full = [...new Array(out.length - shape.length).fill(1), ...shape];
  const st = strides(full);
  return full.map((d, i) => (d === 1 ? 0 : st[i]));
}

function broadcastShape(a, b) {
  const n = Math.max(a.length, b.length), out = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

const convOut = (size, k, stride, pad, dil) => Math.floor((size + pad[0] + pad[1] - (k - 1) * dil - 1) / stride) + 1;
const ACTIVE = new Set();

/** Compile the kernel module from a URL/path string, bytes, a Response, or a WebAssembly.Module
 *  (as is); streamed when served as application/wasm. Compiling is separate from instantiating
 *  so `auto` can compile while it asks for a WebGPU adapter, and drop the module if it gets one. */
export async function compileKernels(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source === "string" || source instanceof URL) {
    const url = new URL(source, globalThis.location?.href ?? `file://${process.cwd()}/`);
    if (url.protocol === "file:") {
      const { readFile } = await import("node:fs/promises");
      return WebAssembly.compile(await readFile(url));
    }
    const r = await fetch(url);
    if (!r.ok) throw new GraphError(`kernels: ${url} answered HTTP ${r.status}`);
    if (WebAssembly.compileStreaming && r.headers.get("content-type")?.startsWith("application/wasm"))
      return WebAssembly.compileStreaming(r);
    source = await r.arrayBuffer();
  } else if (typeof Response !== "undefined" && source instanceof Response) {
    source = await source.arrayBuffer();
  }
  return WebAssembly.compile(source);
}

/** Load the kernel module (compileKernels' sources): its instance. */
export async function loadKernels(source) {
  return WebAssembly.instantiate(await compileKernels(source), {});
}

export class WasmBackend {
  name = "wasm";

  constructor(instance) {
    this.ex = instance.exports;
    this.memory = this.ex.memory;
    this.paramsPtr = this.ex.wt_params_ptr();
    this._renew();
    ACTIVE.add(this);
  }

  static async create(source) {
    return new WasmBackend(await loadKernels(source));
  }

  _renew() {
    this.buffer = this.memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.dv = new DataView(this.buffer);
  }

  _view() {
    if (this.buffer !== this.memory.buffer || this.buffer.byteLength === 0) this._renew();
  }

  _params(values) {
    this._view();
    const p = this.paramsPtr;
    if (values.length > 128) throw new GraphError(`internal: ${values.length} params do not fit the params block`);
    values.forEach((v, i) => this.dv.setInt32(p + 4 * i, v, true));
  }

  _run(op, name, ...args) {
    let r;
    try {
      r = this.ex[name](...args);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) throw new GraphError(`${op}: WebAssembly kernel trapped (${e.message})`);
      throw e;
    }
    return r;
  }

  _new(ptr, shape, dtype, op, nbytes = prod(shape) * dtype.size) {
    if (ptr <= 0) this._fail(ptr, op, nbytes, dtype);
    return new Handle({ ptr, refs: 1 }, ptr, shape, dtype);
  }

  _fail(code, op, nbytes, dtype) {
    if (code === 0 || code === -E_NOMEM)
      throw new GraphError(`${op}: out of WebAssembly memory allocating ${nbytes} bytes (the limit is 2 GiB of linear memory)`);
    if (code === -E_ARG) throw new GraphError(`${op}: dtype ${dtype.name} is not supported by the wasm kernels`);
    if (code === -E_INDEX) {
      const bad = (BigInt(this.ex.wt_err_hi()) << 32n) | BigInt(this.ex.wt_err_lo() >>> 0);
      throw new GraphError(`${op}: index ${bad} is out of range`);
    }
    throw new GraphError(`${op}: wasm kernel failed with code ${code}`);
  }

  _room(shape, dtype, op) {
    const n = prod(shape);
    if (n * dtype.size >= MEMORY_LIMIT) this._fail(0, op, n * dtype.size, dtype);
    return n;
  }

  _alloc(nbytes, op) {
    const ptr = nbytes < 2 ** 31 - 64 ? this.ex.wt_alloc(nbytes) : 0;
    if (ptr === 0) this._fail(0, op, nbytes, DTYPES.uint8);
    return ptr;
  }

  view(h, shape = h.shape, ptr = h.ptr) {
    h.owner.refs += 1;
    return new Handle(h.owner, ptr, shape, h.dtype);
  }

  free(h) {
    if (--h.owner.refs === 0) this.ex.wt_release(h.owner.ptr);
  }

  memoryStats() {
    const st = [0, 1, 2, 3].map((i) => this.ex.wt_heap_stat(i) >>> 0);
    return { bytesInUse: st[0], blocksInUse: st[1], heapBytes: st[2], memoryBytes: st[3] };
  }

  _f32(x, temps) {
    if (x.dtype !== DTYPES.float16) return x;
    const y = this.cast(x, DTYPES.float32);
    temps.push(y);
    return y;
  }

  _back(y, dtype, temps) {
    temps.forEach((t) => this.free(t));
    if (dtype !== DTYPES.float16 || y.dtype === dtype) return y;
    const z = this.cast(y, dtype);
    this.free(y);
    return z;
  }

  // -- data movement ----------------------------------------------------------------------
  write(bytes, shape, dtype) {
    const n = prod(shape) * dtype.size;
    if (bytes.byteLength !== n) throw new GraphError(`write: ${bytes.byteLength} bytes do not match shape [${shape}] ${dtype.name} (${n} bytes)`);
    const ptr = this._alloc(n, "write");
    this._view();
    this.u8.set(bytes, ptr);
    return new Handle({ ptr, refs: 1 }, ptr, shape, dtype);
  }

  async read(h) {
    return this.readSync(h);
  }

  readSync(h) {
    this._view();
    return this.u8.slice(h.ptr, h.ptr + h.size * h.dtype.size);
  }

  full(shape, value, dtype) {
    const n = this._room(shape, dtype, "fill");
    this._view();
    const p = this.paramsPtr, dv = this.dv;
    switch (dtype.name) {
      case "float16": dv.setUint16(p, f32ToF16(Number(value)), true); break;
      case "float32": dv.setFloat32(p, Number(value), true); break;
      case "float64": dv.setFloat64(p, Number(value), true); break;
      case "int64": dv.setBigInt64(p, BigInt(Math.trunc(Number(value))), true); break;
      case "uint8": case "bool": dv.setUint8(p, Number(value) & 0xff); break;
      default: dv.setInt32(p, Number(value) | 0, true);
    }
    return this._new(this._run("fill", "wt_full", dtype.size, n), shape, dtype, "fill");
  }

  arange(start, delta, n, dtype) {
    this._room([n], dtype, "range");
    this._view();
    const p = this.paramsPtr;
    if (dtype.kind === "f") { this.dv.setFloat64(p, start, true); this.dv.setFloat64(p + 8, delta, true); }
    else { this.dv.setBigInt64(p, BigInt(start), true); this.dv.setBigInt64(p + 8, BigInt(delta), true); }
    return this._new(this._run("range", "wt_arange", dtype.code, n), [n], dtype, "range");
  }

  random(kind, shape, dtype, key) {
    const n = this._room(shape, dtype, `random_${kind}`);
    const ptr = this._run(`random_${kind}`, "wt_random", kind === "normal" ? 1 : 0, dtype.code, n, key[0] | 0, key[1] | 0);
    return this._new(ptr, shape, dtype, `random_${kind}`);
  }

  // -- elementwise ----------------------------------------------------------------------------
  unary(op, x) {
    const out = BOOL_UNARY.has(op) ? DTYPES.bool : x.dtype;
    const ptr = this._run(op, "wt_unary", UNARY[op], x.dtype.code, x.ptr, x.size);
    return this._new(ptr, x.shape, out, op, x.size * out.size);
  }

  _plan(shapes, op) {
    let shape = shapes[0];
    for (const s of shapes.slice(1)) shape = broadcastShape(shape, s);
    const n = prod(shape), sizes = shapes.map(prod);
    let mode = 3, inner = 0, params = null;
    const same = (a, b) => a.length === b.length && a.every((d, i) => d === b[i]);
    if (shapes.length === 2 && same(shapes[0], shapes[1])) mode = 0;
    else if (shapes.length === 2 && sizes[1] === 1 && sizes[0] === n) mode = 1;
    else if (shapes.length === 2 && sizes[0] === 1 && sizes[1] === n) mode = 2;
    else {
      const st = shapes.map((s) => bcastStrides(s, shape));
      const [dims, rows] = collapse(shape, st);
      if (shapes.length === 2 && dims.length === 2 && rows[0][1] === 1 && rows[1][1] === 1 && (rows[0][0] === 0 || rows[1][0] === 0)) {
        mode = rows[1][0] === 0 ? 4 : 5;
        inner = dims[1];
      } else params = walk(op, shape, st);
    }
    return { shape, n, mode, inner, params };
  }

  binary(op, x, y) {
    const out = COMPARISONS.has(op) ? DTYPES.bool : x.dtype;
    const { shape, n, mode, inner, params } = this._plan([x.shape, y.shape], op);
    this._room(shape, out, op);
    if (params) this._params(params);
    const ptr = this._run(op, "wt_binary", BINARY[op], x.dtype.code, x.ptr, y.ptr, n, mode, inner);
    return this._new(ptr, shape, out, op, n * out.size);
  }

  where(c, x, y) {
    const shape = broadcastShape(broadcastShape(c.shape, x.shape), y.shape);
    const n = this._room(shape, x.dtype, "where");
    this._params(walk("where", shape, [c, x, y].map((t) => bcastStrides(t.shape, shape))));
    return this._new(this._run("where", "wt_where", x.dtype.size, c.ptr, x.ptr, y.ptr, n), shape, x.dtype, "where");
  }

  cast(x, dtype) {
    if (x.dtype === dtype) return this.view(x);
    return this._new(this._run("cast", "wt_cast", x.dtype.code, dtype.code, x.ptr, x.size), x.shape, dtype, "cast");
  }

  // -- reductions ----------------------------------------------------------------------------
  reduce(op, x, axes, keepdims) {
    if (!axes.length) return this.view(x);
    const temps = [], dt = x.dtype, s = x.shape;
    let xs = this._f32(x, temps), outer, r, inner;
    const contiguous = axes.every((a, i) => a === axes[0] + i);
    if (contiguous) {
      outer = prod(s.slice(0, axes[0])); r = prod(s.slice(axes[0], axes[axes.length - 1] + 1)); inner = prod(s.slice(axes[axes.length - 1] + 1));
    } else {
      const rest = s.map((_, i) => i).filter((i) => !axes.includes(i));
      xs = this.transpose(xs, [...rest, ...axes]);
      temps.push(xs);
      outer = prod(rest.map((i) => s[i])); r = prod(axes.map((i) => s[i])); inner = 1;
    }
    const shape = keepdims ? s.map((d, i) => (axes.includes(i) ? 1 : d)) : s.filter((d, i) => !axes.includes(i));
    const ptr = this._run(`reduce_${op}`, "wt_reduce", REDUCE[op], xs.dtype.code, xs.ptr, outer, r, inner);
    return this._back(this._new(ptr, shape, xs.dtype, `reduce_${op}`), dt, temps);
  }

  argreduce(op, x, axis, dtype) {
    const temps = [], xs = this._f32(x, temps), s = x.shape;
    const ptr = this._run(op, "wt_argreduce", op === "argmax" ? 1 : 0, xs.dtype.code, xs.ptr, prod(s.slice(0, axis)), s[axis],
      prod(s.slice(axis + 1)), dtype.code);
    temps.forEach((t) => this.free(t));
    return this._new(ptr, s.filter((_, i) => i !== axis), dtype, op);
  }

  scan(op, x, axis, exclusive, reverse) {
    const temps = [], xs = this._f32(x, temps), s = x.shape;
    const ptr = this._run(`cum${op}`, "wt_scan", op === "prod" ? 1 : 0, xs.dtype.code, xs.ptr, prod(s.slice(0, axis)), s[axis],
      prod(s.slice(axis + 1)), exclusive ? 1 : 0, reverse ? 1 : 0);
    return this._back(this._new(ptr, s, xs.dtype, `cum${op}`), x.dtype, temps);
  }

  // -- fused kernels (softmax and sparse_softmax_xent are graph nodes; they equal their composition)
  softmax(x, axis) {
    const temps = [], xs = this._f32(x, temps), s = x.shape;
    const ptr = this._run("softmax", "wt_softmax", xs.dtype.code, xs.ptr, prod(s.slice(0, axis)), s[axis], prod(s.slice(axis + 1)));
    return this._back(this._new(ptr, s, xs.dtype, "softmax"), x.dtype, temps);
  }

  sparse_softmax_xent(logits, labels) {
    const temps = [], xs = this._f32(logits, temps), lab = this._idx(labels, temps), n = logits.shape[logits.shape.length - 1];
    const rows = n ? logits.size / n : 0;
    const ptr = this._run("sparse_softmax_xent", "wt_sparse_softmax_xent", xs.dtype.code, xs.ptr, lab.ptr, lab.dtype === DTYPES.int64 ? 1 : 0, rows, n);
    const loss = this._new(ptr, logits.shape.slice(0, -1), xs.dtype, "sparse_softmax_xent");
    this._view();
    const gp = this.dv.getInt32(this.paramsPtr, true);
    const grad = new Handle({ ptr: gp, refs: 1 }, gp, logits.shape, xs.dtype);
    temps.forEach((t) => this.free(t));
    return [this._back(loss, logits.dtype, []), this._back(grad, logits.dtype, [])];
  }

  // -- linear algebra ----------------------------------------------------------------------------
  matmul(a, b, ta, tb) {
    const temps = [], dt = a.dtype;
    a = this._f32(a, temps); b = this._f32(b, temps);
    const [ar, ac] = a.shape.slice(-2), [br, bc] = b.shape.slice(-2);
    const m = ta ? ac : ar, k = ta ? ar : ac, n = tb ? br : bc;
    let ab = a.shape.slice(0, -2), bb = b.shape.slice(0, -2);
    const batchShape = broadcastShape(ab, bb), batch = prod(batchShape);
    let rows, batchN, sa, sb;
    if (prod(bb) === 1 && !ta) {
      rows = m * prod(ab); batchN = 1; sa = 0; sb = 0;
    } else {
      const same = (p, q) => p.length === q.length && p.every((d, i) => d === q[i]);
      if ((prod(ab) !== 1 && !same(ab, batchShape)) || (prod(bb) !== 1 && !same(bb, batchShape))) {
        a = this.broadcast_to(a, [...batchShape, ...a.shape.slice(-2)]); temps.push(a);
        b = this.broadcast_to(b, [...batchShape, ...b.shape.slice(-2)]); temps.push(b);
        ab = bb = batchShape;
      }
      rows = m; batchN = batch;
      sa = prod(ab) === 1 ? 0 : m * k;
      sb = prod(bb) === 1 ? 0 : k * n;
    }
    const shape = [...batchShape, m, n];
    this._room(shape, a.dtype, "matmul");
    this._params([batchN, sa, sb, rows, n, k, ta ? 1 : 0, tb ? 1 : 0]);
    const ptr = this._run("matmul", "wt_matmul", a.dtype.code, a.ptr, b.ptr);
    return this._back(this._new(ptr, shape, a.dtype, "matmul"), dt, temps);
  }

  // -- convolution and pooling ---------------------------------------------------------------------
  _conv(op, result, xs, ws, ys, st, pads, dil, groups, h0, h1, dt, temps) {
    this._room(result, h0.dtype, op);
    this._params([xs[0], xs[1], xs[2], xs[3], ws[0], ws[1], ws[3], st[0], st[1], pads[0][0], pads[1][0], dil[0], dil[1], ys[1], ys[2], groups]);
    const ptr = this._run(op, `wt_${op}`, h0.dtype.code, h0.ptr, h1.ptr);
    return this._back(this._new(ptr, result, h0.dtype, op), dt, temps);
  }

  conv2d(x, w, st, pads, dil, groups) {
    const temps = [];
    const out = [x.shape[0], convOut(x.shape[1], w.shape[0], st[0], pads[0], dil[0]), convOut(x.shape[2], w.shape[1], st[1], pads[1], dil[1]), w.shape[3]];
    return this._conv("conv2d", out, x.shape, w.shape, out, st, pads, dil, groups, this._f32(x, temps), this._f32(w, temps), x.dtype, temps);
  }

  conv2d_input_grad(dy, w, xShape, st, pads, dil, groups) {
    const temps = [];
    return this._conv("conv2d_input_grad", xShape, xShape, w.shape, dy.shape, st, pads, dil, groups, this._f32(dy, temps), this._f32(w, temps), dy.dtype, temps);
  }

  conv2d_filter_grad(x, dy, wShape, st, pads, dil, groups) {
    const temps = [];
    return this._conv("conv2d_filter_grad", wShape, x.shape, wShape, dy.shape, st, pads, dil, groups, this._f32(x, temps), this._f32(dy, temps), x.dtype, temps);
  }

  _poolParams(s, k, st, pads) {
    const oh = convOut(s[1], k[0], st[0], pads[0], 1), ow = convOut(s[2], k[1], st[1], pads[1], 1);
    this._params([s[0], s[1], s[2], s[3], k[0], k[1], st[0], st[1], pads[0][0], pads[1][0], oh, ow]);
    return [s[0], oh, ow, s[3]];
  }

  pool2d(op, x, k, st, pads) {
    const temps = [], xs = this._f32(x, temps);
    const shape = this._poolParams(x.shape, k, st, pads);
    const ptr = this._run(`${op}_pool`, "wt_pool2d", op === "max" ? 1 : 0, xs.dtype.code, xs.ptr);
    return this._back(this._new(ptr, shape, xs.dtype, `${op}_pool`), x.dtype, temps);
  }

  pool2d_grad(op, x, dy, k, st, pads) {
    const temps = [], xs = this._f32(x, temps), dys = this._f32(dy, temps);
    this._poolParams(x.shape, k, st, pads);
    const ptr = this._run(`${op}_pool_grad`, "wt_pool2d_grad", op === "max" ? 1 : 0, xs.dtype.code, xs.ptr, dys.ptr);
    return this._back(this._new(ptr, x.shape, xs.dtype, `${op}_pool_grad`), dy.dtype, temps);
  }

  // -- indexing ---------------------------------------------------------------------------------
  _idx(t, temps) {
    if (t.dtype === DTYPES.int32 || t.dtype === DTYPES.int64) return t;
    const y = this.cast(t, DTYPES.int32);
    temps.push(y);
    return y;
  }

  gather(x, indices, axis) {
    const temps = [], idx = this._idx(indices, temps), s = x.shape;
    this._params([prod(s.slice(0, axis)), s[axis], prod(s.slice(axis + 1)), idx.size]);
    const ptr = this._run("gather", "wt_gather", x.dtype.size, x.ptr, idx.ptr, idx.dtype === DTYPES.int64 ? 1 : 0);
    temps.forEach((t) => this.free(t));
    if (ptr === -E_INDEX) this._indexError("gather", s[axis], ` (params shape [${s}], axis ${axis})`);
    return this._new(ptr, [...s.slice(0, axis), ...idx.shape, ...s.slice(axis + 1)], x.dtype, "gather");
  }

  scatter_add(indices, u, shape, axis) {
    const temps = [], idx = this._idx(indices, temps);
    this._params([prod(shape.slice(0, axis)), shape[axis], prod(shape.slice(axis + 1)), idx.size]);
    const ptr = this._run("scatter_add", "wt_scatter_add", u.dtype.code, idx.ptr, idx.dtype === DTYPES.int64 ? 1 : 0, u.ptr);
    temps.forEach((t) => this.free(t));
    if (ptr === -E_INDEX) this._indexError("scatter_add", shape[axis], "");
    return this._new(ptr, shape, u.dtype, "scatter_add");
  }

  _indexError(op, n, detail) {
    const bad = (BigInt(this.ex.wt_err_hi()) << 32n) | BigInt(this.ex.wt_err_lo() >>> 0);
    throw new GraphError(`${op}: index ${bad} is not in [0, ${n})${detail}`);
  }

  // -- movement ---------------------------------------------------------------------------------
  reshape(x, shape) {
    return this.view(x, shape);
  }

  _copy(op, es, dst, src, shape, dstStrides, srcStrides) {
    this._params(walk(op, shape, [dstStrides, srcStrides]));
    return this._run(op, "wt_copy", es, dst, src, prod(shape));
  }

  _strided(op, x, shape, offset, srcStrides) {
    this._room(shape, x.dtype, op);
    const ptr = this._copy(op, x.dtype.size, 0, x.ptr + offset * x.dtype.size, shape, strides(shape), srcStrides);
    return this._new(ptr, shape, x.dtype, op);
  }

  transpose(x, perm) {
    if (perm.every((p, i) => p === i)) return this.view(x);
    const st = strides(x.shape);
    return this._strided("transpose", x, perm.map((p) => x.shape[p]), 0, perm.map((p) => st[p]));
  }

  slice(x, begin, size, steps) {
    const st = strides(x.shape);
    const offset = begin.reduce((acc, b, i) => acc + b * st[i], 0);
    const src = st.map((s, i) => s * steps[i]);
    const [dims, [cs]] = collapse(size, [src]);
    if ((dims.length === 1 && (cs[0] === 1 || dims[0] === 1)) || prod(size) === 0)
      return this.view(x, size, prod(size) ? x.ptr + offset * x.dtype.size : x.ptr);
    return this._strided("strided_slice", x, size, offset, src);
  }

  concat(xs, axis) {
    const first = xs[0], shape = [...first.shape];
    shape[axis] = xs.reduce((acc, t) => acc + t.shape[axis], 0);
    const es = first.dtype.size;
    this._room(shape, first.dtype, "concat");
    const ptr = this._alloc(prod(shape) * es, "concat");
    const out = new Handle({ ptr, refs: 1 }, ptr, shape, first.dtype);
    const ost = strides(shape);
    let at = 0;
    for (const t of xs) {
      if (t.size) this._copy("concat", es, ptr + at * ost[axis] * es, t.ptr, t.shape, ost, strides(t.shape));
      at += t.shape[axis];
    }
    return out;
  }

  pad(x, pads, value) {
    const shape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
    const out = this.full(shape, value, x.dtype);
    if (x.size) {
      const ost = strides(shape);
      const offset = pads.reduce((acc, [lo], i) => acc + lo * ost[i], 0);
      this._copy("pad", x.dtype.size, out.ptr + offset * x.dtype.size, x.ptr, x.shape, ost, strides(x.shape));
    }
    return out;
  }

  broadcast_to(x, shape) {
    if (x.size === prod(shape)) return this.view(x, shape);
    return this._strided("broadcast_to", x, shape, 0, bcastStrides(x.shape, shape));
  }
}

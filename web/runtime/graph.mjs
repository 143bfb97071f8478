// Graph format v1 (docs/tf-function.md): parse and validate before anything runs.
//
// Every node's declared output shapes and dtypes are checked against the primitive's
// shape rule applied to its inputs, so a backend only ever sees consistent operands;
// sizes, ranks, node counts and nesting are bounded, so a hostile file is an error
// naming the node, never a hang or an out-of-bounds kernel.

import { DTYPES, GraphError, dtype, prod } from "./dtypes.mjs";

export const LIMITS = {
  nodes: 1000000,     // all graphs of a file together (docs/saved-model.md's limits)
  depth: 32,          // cond/while nesting
  rank: 64,           // (the wasm kernels walk at most 16 dims once contiguous dims merge)
  bytes: 2 ** 31 - 1, // one tensor (wasm32 linear memory)
  inputs: 4096,       // inputs of one node
};

export const UNARY_OPS = ["neg", "abs", "sign", "square", "sqrt", "rsqrt", "reciprocal", "exp", "log",
  "log1p", "expm1", "sin", "cos", "tan", "tanh", "sigmoid", "erf", "floor", "ceil", "round",
  "logical_not", "isnan", "isfinite"];
export const BINARY_OPS = ["add", "sub", "mul", "div", "floordiv", "mod", "pow", "maximum", "minimum",
  "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or"];
export const REDUCE_OPS = ["sum", "prod", "max", "min", "any", "all"];
const BOOL_UNARY = new Set(["logical_not", "isnan", "isfinite"]);
const COMPARISONS = new Set(BINARY_OPS.slice(9));
const FLOAT_ONLY = new Set(["sqrt", "rsqrt", "exp", "log", "log1p", "expm1", "sin", "cos", "tan", "tanh",
  "sigmoid", "erf", "floor", "ceil", "isnan", "isfinite", "div"]);

/** JSON as Python's json.dumps writes it: NaN, Infinity and -Infinity are allowed. A text
 *  without those words anywhere is plain JSON and goes straight to JSON.parse (the scan below
 *  runs once per character, cold, on the page's critical path). */
export function parseJSON(text, what) {
  if (!/NaN|Infinity/.test(text)) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new GraphError(`${what}: not valid JSON (${e.message})`);
    }
  }
  let out = "", i = 0, inStr = false;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (inStr) {
      if (c === "\\") { out += text.slice(i, i + 2); i += 2; continue; }
      if (c === '"') inStr = false;
      out += c; i++;
      continue;
    }
    if (c === '"') { inStr = true; out += c; i++; continue; }
    if (text.startsWith("NaN", i)) { out += '"\u0000NaN"'; i += 3; continue; }
    if (text.startsWith("-Infinity", i)) { out += '"\u0000-Inf"'; i += 9; continue; }
    if (text.startsWith("Infinity", i)) { out += '"\u0000Inf"'; i += 8; continue; }
    let j = i;
    while (j < n && !'"NI-'.includes(text[j])) j++;
    if (j === i) j++;
    out += text.slice(i, j);
    i = j;
  }
  const special = { "\u0000NaN": NaN, "\u0000-Inf": -Infinity, "\u0000Inf": Infinity };
  try {
    return JSON.parse(out, (k, v) => (typeof v === "string" && Object.hasOwn(special, v) ? special[v] : v));
  } catch (e) {
    throw new GraphError(`${what}: not valid JSON (${e.message})`);
  }
}

/** A Python literal as repr() writes it: str, int, float, None, bool, tuples and lists. */
export function parsePyLiteral(text, where) {
  let i = 0;
  const fail = (why) => { throw new GraphError(`${where}: ${why} at character ${i} of ${JSON.stringify(String(text).slice(0, 60))}`); };
  if (typeof text !== "string" || text.length > 1 << 20) fail("expected a Python literal string");
  const ws = () => { while (i < text.length && " \t\n".includes(text[i])) i++; };
  const value = (depth) => {
    if (depth > 8) fail("nested too deeply");
    ws();
    const c = text[i];
    if (c === "[" || c === "(") {
      const close = c === "[" ? "]" : ")", items = [];
      i++;
      for (;;) {
        ws();
        if (text[i] === close) { i++; return items; }
        items.push(value(depth + 1));
        ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === close) { i++; return items; }
        fail("expected ',' or a closing bracket");
      }
    }
    if (c === "'" || c === '"') return str(c);
    const m = /^(None|True|False|[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf|nan))/i.exec(text.slice(i, i + 40));
    if (!m) fail("unexpected text");
    i += m[0].length;
    const t = m[0];
    return t === "None" ? null : t === "True" ? true : t === "False" ? false : Number(t.replace(/inf/i, "Infinity"));
  };
  const str = (q) => {
    let s = "";
    i++;
    while (i < text.length && text[i] !== q) {
      if (text[i] !== "\\") { s += text[i++]; continue; }
      const e = text[i + 1];
      const simple = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"', a: "\x07", b: "\b", f: "\f", v: "\v", 0: "\0" };
      if (Object.hasOwn(simple, e)) { s += simple[e]; i += 2; continue; }
      const len = { x: 2, u: 4, U: 8 }[e];
      if (!len) fail("unknown string escape");
      const hex = text.slice(i + 2, i + 2 + len);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail("bad string escape");
      s += String.fromCodePoint(parseInt(hex, 16));
      i += 2 + len;
    }
    if (text[i] !== q) fail("unterminated string");
    i++;
    return s;
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail("trailing text");
  return v;
}

// -- small checkers -----------------------------------------------------------------------------

const isInt = (v) => Number.isInteger(v);

function shapeOf(v, where, what = "shape") {
  if (!Array.isArray(v) || v.length > LIMITS.rank || !v.every((d) => isInt(d) && d >= 0 && d < 2 ** 31))
    throw new GraphError(`${where}: ${what} must be a list of at most ${LIMITS.rank} non-negative ints, got ${JSON.stringify(v)}`);
  return v;
}

function sameShape(a, b) {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const fmt = (s) => `[${s.join(",")}]`;

export function broadcast(a, b, where) {
  const n = Math.max(a.length, b.length), out = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new GraphError(`${where}: shapes ${fmt(a)} and ${fmt(b)} do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

function ints(v, n, where, name, { min = -Infinity } = {}) {
  if (!Array.isArray(v) || (n !== null && v.length !== n) || !v.every((d) => isInt(d) && d >= min))
    throw new GraphError(`${where}: attr ${name} must be ${n ?? "a list of"} ints${min > -Infinity ? ` >= ${min}` : ""}, got ${JSON.stringify(v)}`);
  return v;
}

function pairs(v, n, where, name) {
  if (!Array.isArray(v) || v.length !== n) throw new GraphError(`${where}: attr ${name} must be ${n} (before, after) pairs, got ${JSON.stringify(v)}`);
  v.forEach((p) => ints(p, 2, where, name, { min: 0 }));
  return v;
}

function oneOf(v, options, where, name) {
  if (!options.includes(v)) throw new GraphError(`${where}: attr ${name} ${JSON.stringify(v)} is not one of ${options.join(", ")}`);
  return v;
}

function bool(v, where, name) {
  if (typeof v !== "boolean") throw new GraphError(`${where}: attr ${name} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function axis(v, rank, where, name = "axis") {
  if (!isInt(v) || v < 0 || v >= Math.max(rank, 1)) throw new GraphError(`${where}: attr ${name} ${JSON.stringify(v)} is out of range for rank ${rank}`);
  return v;
}

function want(cond, where, why) {
  if (!cond) throw new GraphError(`${where}: ${why}`);
}

function convOut(size, k, stride, pad, dil) {
  return Math.floor((size + pad[0] + pad[1] - (k - 1) * dil - 1) / stride) + 1;
}

function convAttrs(a, where) {
  ints(a.strides, 2, where, "strides", { min: 1 });
  ints(a.dilations, 2, where, "dilations", { min: 1 });
  pairs(a.pads, 2, where, "pads");
  want(isInt(a.groups) && a.groups >= 1, where, `attr groups must be a positive int, got ${JSON.stringify(a.groups)}`);
}

function convShape(x, w, a, where) {
  want(x.length === 4 && w.length === 4, where, `conv2d needs x [N,H,W,C] and w [KH,KW,C/groups,O], got ${fmt(x)} and ${fmt(w)}`);
  want(x[3] === w[2] * a.groups && w[3] % a.groups === 0, where,
    `conv2d channels do not match: x ${fmt(x)}, w ${fmt(w)}, groups ${a.groups}`);
  const oh = convOut(x[1], w[0], a.strides[0], a.pads[0], a.dilations[0]);
  const ow = convOut(x[2], w[1], a.strides[1], a.pads[1], a.dilations[1]);
  want(oh >= 0 && ow >= 0, where, `the filter ${fmt(w)} is larger than the padded input ${fmt(x)}`);
  return [x[0], oh, ow, w[3]];
}

function poolShape(x, a, where) {
  oneOf(a.op, ["max", "avg"], where, "op");
  ints(a.ksize, 2, where, "ksize", { min: 1 });
  ints(a.strides, 2, where, "strides", { min: 1 });
  pairs(a.pads, 2, where, "pads");
  want(x.length === 4, where, `pooling needs x [N,H,W,C], got ${fmt(x)}`);
  const oh = convOut(x[1], a.ksize[0], a.strides[0], a.pads[0], 1);
  const ow = convOut(x[2], a.ksize[1], a.strides[1], a.pads[1], 1);
  want(oh >= 0 && ow >= 0, where, `the window ${fmt(a.ksize)} is larger than the padded input ${fmt(x)}`);
  return [x[0], oh, ow, x[3]];
}

const NON_FINITE = { inf: Infinity, "-inf": -Infinity, nan: NaN };

/** A numeric attr (files write non-finite values as "inf", "-inf", "nan"), normalised in place. */
function scalarValue(a, name, where) {
  if (typeof a[name] === "string" && Object.hasOwn(NON_FINITE, a[name])) a[name] = NON_FINITE[a[name]];
  const v = a[name];
  want(typeof v === "number" || typeof v === "boolean", where, `attr ${name} must be a number, got ${JSON.stringify(v)}`);
}

/** An int dtype's scalar attr must be a finite integer (NaN or 1.5 would have no int value). */
function fitsDtype(v, dt, where, name) {
  if (dt.kind === "f" || typeof v === "boolean") return;
  want(Number.isInteger(v) && Math.abs(v) < 2 ** 63, where, `attr ${name} ${v} is not a ${dt.name} value`);
}

// The shape rule of each node type: (inputs [{shape, dtype}], attrs, where) -> [{shape, dtype}] or null (declared
// outputs taken as they are, checked elsewhere).
const RULES = {
  constant(ins, a, w) {
    const dt = dtype(a.dtype, w), shape = shapeOf(a.shape, w);
    want(typeof a.value === "string" && /^[0-9a-f]*$/i.test(a.value) && a.value.length === 2 * prod(shape) * dt.size, w,
      `constant value must be ${prod(shape) * dt.size} bytes of hex for shape ${fmt(shape)} ${dt.name}`);
    return [{ shape, dtype: dt }];
  },
  full(ins, a, w) {
    scalarValue(a, "value", w);
    const dt = dtype(a.dtype, w);
    fitsDtype(a.value, dt, w, "value");
    return [{ shape: shapeOf(a.shape, w), dtype: dt }];
  },
  arange(ins, a, w) {
    scalarValue(a, "start", w);
    scalarValue(a, "delta", w);
    want(isInt(a.n) && a.n >= 0, w, `attr n must be a non-negative int, got ${JSON.stringify(a.n)}`);
    const dt = dtype(a.dtype, w);
    want(dt.kind !== "b", w, "arange of bool");
    fitsDtype(a.start, dt, w, "start");
    fitsDtype(a.delta, dt, w, "delta");
    return [{ shape: [a.n], dtype: dt }];
  },
  random(ins, a, w) {
    oneOf(a.kind, ["uniform", "normal"], w, "kind");
    ints(a.key, 2, w, "key", { min: 0 });
    want(a.key.every((k) => k < 2 ** 32), w, "attr key must be two 32-bit unsigned ints");
    const dt = dtype(a.dtype, w);
    return [{ shape: shapeOf(a.shape, w), dtype: dt }];
  },
  unary([x], a, w) {
    oneOf(a.op, UNARY_OPS, w, "op");
    if (a.op === "logical_not") want(x.dtype.kind === "b", w, `logical_not of ${x.dtype.name}`);
    else if (FLOAT_ONLY.has(a.op)) want(x.dtype.kind === "f", w, `${a.op} needs a float input, got ${x.dtype.name}`);
    else want(x.dtype.kind !== "b", w, `${a.op} of bool`);
    return [{ shape: x.shape, dtype: BOOL_UNARY.has(a.op) ? DTYPES.bool : x.dtype }];
  },
  binary([x, y], a, w) {
    oneOf(a.op, BINARY_OPS, w, "op");
    want(x.dtype === y.dtype, w, `operands differ in dtype: ${x.dtype.name} and ${y.dtype.name}`);
    if (a.op === "logical_and" || a.op === "logical_or") want(x.dtype.kind === "b", w, `${a.op} of ${x.dtype.name}`);
    else if (FLOAT_ONLY.has(a.op)) want(x.dtype.kind === "f", w, `${a.op} needs float operands, got ${x.dtype.name}`);
    else if (!COMPARISONS.has(a.op)) want(x.dtype.kind !== "b", w, `${a.op} of bool`);
    return [{ shape: broadcast(x.shape, y.shape, w), dtype: COMPARISONS.has(a.op) ? DTYPES.bool : x.dtype }];
  },
  where([c, x, y], a, w) {
    want(c.dtype === DTYPES.bool && x.dtype === y.dtype, w,
      `where needs a bool condition and equal dtypes, got ${c.dtype.name}, ${x.dtype.name}, ${y.dtype.name}`);
    return [{ shape: broadcast(broadcast(c.shape, x.shape, w), y.shape, w), dtype: x.dtype }];
  },
  cast([x], a, w) {
    return [{ shape: x.shape, dtype: dtype(a.dtype, w) }];
  },
  reduce([x], a, w) {
    oneOf(a.op, REDUCE_OPS, w, "op");
    ints(a.axes, null, w, "axes", { min: 0 });
    a.axes.forEach((ax, i) => { axis(ax, x.shape.length, w, "axes"); want(i === 0 || ax > a.axes[i - 1], w, "attr axes must be sorted and unique"); });
    bool(a.keepdims, w, "keepdims");
    if (a.op === "any" || a.op === "all") want(x.dtype.kind === "b", w, `reduce_${a.op} of ${x.dtype.name}`);
    else want(x.dtype.kind !== "b", w, `reduce_${a.op} of bool`);
    want(a.axes.length === 0 || x.shape.length > 0, w, "reduce of a scalar over an axis");
    const ax = new Set(a.axes);
    const shape = a.keepdims ? x.shape.map((d, i) => (ax.has(i) ? 1 : d)) : x.shape.filter((d, i) => !ax.has(i));
    return [{ shape, dtype: x.dtype }];
  },
  argreduce([x], a, w) {
    oneOf(a.op, ["argmax", "argmin"], w, "op");
    axis(a.axis, x.shape.length, w);
    want(x.shape.length > 0 && x.shape[a.axis] > 0, w, `${a.op} over an empty or missing axis of ${fmt(x.shape)}`);
    want(x.dtype.kind !== "b", w, `${a.op} of bool`);
    const dt = dtype(a.dtype, w);
    want(dt === DTYPES.int32 || dt === DTYPES.int64, w, `${a.op} gives int32 or int64, not ${dt.name}`);
    return [{ shape: x.shape.filter((d, i) => i !== a.axis), dtype: dt }];
  },
  scan([x], a, w) {
    oneOf(a.op, ["sum", "prod"], w, "op");
    axis(a.axis, x.shape.length, w);
    bool(a.exclusive, w, "exclusive");
    bool(a.reverse, w, "reverse");
    want(x.shape.length > 0 && x.dtype.kind !== "b", w, `cum${a.op} of ${x.dtype.name} ${fmt(x.shape)}`);
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  matmul([x, y], a, w) {
    bool(a.transpose_a, w, "transpose_a");
    bool(a.transpose_b, w, "transpose_b");
    want(x.shape.length >= 2 && y.shape.length >= 2 && x.dtype === y.dtype && x.dtype.kind !== "b", w,
      `matmul needs two matrices of one numeric dtype, got ${fmt(x.shape)} ${x.dtype.name} and ${fmt(y.shape)} ${y.dtype.name}`);
    const [xr, xc] = x.shape.slice(-2), [yr, yc] = y.shape.slice(-2);
    const m = a.transpose_a ? xc : xr, k = a.transpose_a ? xr : xc, kb = a.transpose_b ? yc : yr, n = a.transpose_b ? yr : yc;
    want(k === kb, w, `matmul inner dimensions differ: ${fmt(x.shape)} and ${fmt(y.shape)}`);
    return [{ shape: [...broadcast(x.shape.slice(0, -2), y.shape.slice(0, -2), w), m, n], dtype: x.dtype }];
  },
  conv2d([x, f], a, w) {
    convAttrs(a, w);
    want(x.dtype === f.dtype && x.dtype.kind === "f", w, `conv2d needs float operands of one dtype`);
    return [{ shape: convShape(x.shape, f.shape, a, w), dtype: x.dtype }];
  },
  conv2d_input_grad([dy, f], a, w) {
    convAttrs(a, w);
    const xs = shapeOf(a.x_shape, w, "attr x_shape");
    want(sameShape(convShape(xs, f.shape, a, w), dy.shape) && dy.dtype === f.dtype && dy.dtype.kind === "f", w,
      `dy ${fmt(dy.shape)} is not the conv2d output of x ${fmt(xs)} and w ${fmt(f.shape)}`);
    return [{ shape: xs, dtype: dy.dtype }];
  },
  conv2d_filter_grad([x, dy], a, w) {
    convAttrs(a, w);
    const ws = shapeOf(a.w_shape, w, "attr w_shape");
    want(sameShape(convShape(x.shape, ws, a, w), dy.shape) && dy.dtype === x.dtype && x.dtype.kind === "f", w,
      `dy ${fmt(dy.shape)} is not the conv2d output of x ${fmt(x.shape)} and w ${fmt(ws)}`);
    return [{ shape: ws, dtype: x.dtype }];
  },
  pool2d([x], a, w) {
    want(x.dtype.kind === "f", w, `pooling of ${x.dtype.name}`);
    return [{ shape: poolShape(x.shape, a, w), dtype: x.dtype }];
  },
  pool2d_grad([x, dy], a, w) {
    want(sameShape(poolShape(x.shape, a, w), dy.shape) && x.dtype === dy.dtype && x.dtype.kind === "f", w,
      `dy ${fmt(dy.shape)} is not the pooling output of x ${fmt(x.shape)}`);
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  gather([x, idx], a, w) {
    axis(a.axis, x.shape.length, w);
    want(x.shape.length > 0 && ["i", "u"].includes(idx.dtype.kind), w, `gather needs int indices into a tensor of rank >= 1`);
    return [{ shape: [...x.shape.slice(0, a.axis), ...idx.shape, ...x.shape.slice(a.axis + 1)], dtype: x.dtype }];
  },
  scatter_add([idx, u], a, w) {
    const shape = shapeOf(a.shape, w, "attr shape");
    axis(a.axis, shape.length, w);
    want(shape.length > 0 && ["i", "u"].includes(idx.dtype.kind) && u.dtype.kind !== "b", w, "scatter_add needs int indices and numeric updates");
    const us = [...shape.slice(0, a.axis), ...idx.shape, ...shape.slice(a.axis + 1)];
    want(sameShape(us, u.shape), w, `updates ${fmt(u.shape)} should be ${fmt(us)}`);
    return [{ shape, dtype: u.dtype }];
  },
  reshape([x], a, w) {
    const shape = shapeOf(a.shape, w);
    want(prod(shape) === prod(x.shape), w, `cannot reshape ${fmt(x.shape)} to ${fmt(shape)}`);
    return [{ shape, dtype: x.dtype }];
  },
  transpose([x], a, w) {
    ints(a.perm, x.shape.length, w, "perm", { min: 0 });
    want([...a.perm].sort((p, q) => p - q).every((p, i) => p === i), w, `attr perm ${fmt(a.perm)} is not a permutation`);
    return [{ shape: a.perm.map((p) => x.shape[p]), dtype: x.dtype }];
  },
  slice([x], a, w) {
    const r = x.shape.length;
    ints(a.begin, r, w, "begin");
    ints(a.size, r, w, "size", { min: 0 });
    ints(a.strides, r, w, "strides");
    for (let i = 0; i < r; i++) {
      const b = a.begin[i], s = a.strides[i], n = a.size[i], last = b + (n - 1) * s;
      want(s !== 0, w, "a slice stride of 0");
      want(n === 0 || (b >= 0 && b < x.shape[i] && last >= 0 && last < x.shape[i]), w,
        `slice begin ${fmt(a.begin)} size ${fmt(a.size)} strides ${fmt(a.strides)} leaves ${fmt(x.shape)}`);
    }
    return [{ shape: a.size, dtype: x.dtype }];
  },
  concat(ins, a, w) {
    want(ins.length >= 1, w, "concat of no tensors");
    const [x] = ins;
    axis(a.axis, x.shape.length, w);
    let n = 0;
    for (const t of ins) {
      want(t.dtype === x.dtype && t.shape.length === x.shape.length && t.shape.every((d, i) => i === a.axis || d === x.shape[i]), w,
        `concat operands differ: ${ins.map((t) => `${fmt(t.shape)} ${t.dtype.name}`).join(", ")}`);
      n += t.shape[a.axis];
    }
    return [{ shape: x.shape.map((d, i) => (i === a.axis ? n : d)), dtype: x.dtype }];
  },
  pad([x], a, w) {
    pairs(a.pads, x.shape.length, w, "pads");
    scalarValue(a, "value", w);
    fitsDtype(a.value, x.dtype, w, "value");
    return [{ shape: x.shape.map((d, i) => d + a.pads[i][0] + a.pads[i][1]), dtype: x.dtype }];
  },
  softmax([x], a, w) {
    want(x.dtype.kind === "f" && x.shape.length > 0, w, `softmax of ${x.dtype.name} [${x.shape}]`);
    axis(a.axis, x.shape.length, w);
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  sparse_softmax_xent([x, lab], a, w) {
    want(x.dtype.kind === "f" && x.shape.length > 0 && (lab.dtype === DTYPES.int32 || lab.dtype === DTYPES.int64), w,
      `sparse_softmax_xent needs float logits and int32/int64 labels, got ${x.dtype.name} and ${lab.dtype.name}`);
    want(sameShape(lab.shape, x.shape.slice(0, -1)), w, `labels [${lab.shape}] do not match logits [${x.shape}]`);
    return [{ shape: lab.shape, dtype: x.dtype }, { shape: x.shape, dtype: x.dtype }];
  },
  broadcast_to([x], a, w) {
    const shape = shapeOf(a.shape, w);
    want(shape.length >= x.shape.length && sameShape(broadcast(x.shape, shape, w), shape), w, `cannot broadcast ${fmt(x.shape)} to ${fmt(shape)}`);
    return [{ shape, dtype: x.dtype }];
  },
};

const ARITY = {
  constant: 0, full: 0, arange: 0, random: 0, unary: 1, binary: 2, where: 3, cast: 1, reduce: 1, argreduce: 1,
  scan: 1, matmul: 2, conv2d: 2, conv2d_input_grad: 2, conv2d_filter_grad: 2, pool2d: 1, pool2d_grad: 2,
  gather: 2, scatter_add: 2, reshape: 1, softmax: 1, sparse_softmax_xent: 2, transpose: 1, slice: 1, pad: 1, broadcast_to: 1,
  read_variable: 0, assign_variable: 1, placeholder: 0,
};
export const NODE_TYPES = new Set([...Object.keys(ARITY), "concat", "print", "assert", "cond", "while"]);

/**
 * Validate a graph dict; returns it with dtypes resolved ({shape, dtype: entry} outputs) and
 * `variables`: name -> {shape, dtype} of every variable the graph or its subgraphs touch.
 */
export function validateGraph(g, { where = "graph", variables = new Map(), budget = { nodes: 0 }, limits = LIMITS } = {}) {
  budget.limits = { ...LIMITS, ...limits };
  return checkGraph(g, where, 0, null, variables, budget);
}

function checkGraph(g, where, depth, outer, variables, budget) {
  want(g && typeof g === "object" && !Array.isArray(g), where, "a graph must be a JSON object");
  want(g.version === 1, where, `unsupported graph format version ${JSON.stringify(g.version)} (this runtime reads version 1)`);
  const lim = budget.limits ?? LIMITS;
  want(depth <= lim.depth, where, `cond/while nesting deeper than ${lim.depth}`);
  const gname = typeof g.name === "string" ? g.name : "?";
  where = depth ? `${where}/${gname}` : `graph ${JSON.stringify(gname)}`;
  for (const k of ["nodes", "inputs", "outputs"]) want(Array.isArray(g[k]), where, `${k} must be a list`);
  budget.nodes += g.nodes.length;
  want(budget.nodes <= lim.nodes, where, `more than ${lim.nodes} nodes`);
  const specs = new Map(), names = new Set(), nodes = [];
  const placeholders = [];
  for (const [k, n] of g.nodes.entries()) {
    want(n && typeof n === "object" && typeof n.name === "string" && n.name.length < 256, where, `node ${k} has no valid name`);
    const w = `${where}: node ${JSON.stringify(n.name)} (${typeof n.type === "string" ? n.type.slice(0, 40) : "?"})`;
    want(!names.has(n.name), w, "duplicate node name");
    names.add(n.name);
    want(NODE_TYPES.has(n.type), w, "unknown node type");
    const a = n.attrs ?? {};
    want(typeof a === "object" && !Array.isArray(a), w, "attrs must be an object");
    for (const key of ["inputs", "outputs", "subgraphs"]) want(Array.isArray(n[key] ?? []), w, `${key} must be a list`);
    const inputs = Array.from(n.inputs ?? []), subs = Array.from(n.subgraphs ?? []);  // (Array.from: no holes)
    want(inputs.length <= LIMITS.inputs, w, `more than ${LIMITS.inputs} inputs`);
    const ins = inputs.map((t) => {
      want(typeof t === "string" && specs.has(t), w, `input ${JSON.stringify(t)} is not an output of an earlier node`);
      return specs.get(t);
    });
    const declared = Array.from(n.outputs ?? []).map((o, i) => {
      want(o && typeof o === "object", w, `output ${i} must be an object`);
      const shape = shapeOf(o.shape, w, `output ${i} shape`), dt = dtype(o.dtype, `${w}: output ${i}`);
      want(prod(shape) * dt.size <= LIMITS.bytes, w, `output ${i} ${fmt(shape)} ${dt.name} is larger than ${LIMITS.bytes} bytes`);
      return { shape, dtype: dt };
    });
    if (n.type in ARITY) want(ins.length === ARITY[n.type], w, `expects ${ARITY[n.type]} inputs, got ${ins.length}`);
    if (!["cond", "while"].includes(n.type)) want(subs.length === 0, w, "only cond and while nodes hold subgraphs");
    let expect = null;
    const t = n.type;
    if (t === "placeholder") {
      want(declared.length === 1, w, "a placeholder has one output");
      if (a.capture) {
        want(outer, w, "a capture placeholder outside a cond/while subgraph");
        if (a.input !== undefined) {  // files: the index among the enclosing node's inputs
          want(isInt(a.input) && a.input >= outer.first && a.input < outer.inputs.length, w,
            `attrs.input ${JSON.stringify(a.input)} is not a captured input of the enclosing node`);
          a.outer = outer.inputs[a.input];
        }
        want(typeof a.outer === "string" && outer.inputs.indexOf(a.outer, outer.first) >= 0, w,
          `capture placeholder names no captured input of the enclosing node (attrs.outer ${JSON.stringify(a.outer)})`);
        const o = outer.specs.get(a.outer);
        want(sameShape(o.shape, declared[0].shape) && o.dtype === declared[0].dtype, w, "capture differs from the tensor it captures");
      }
      placeholders.push(`${n.name}:0`);
    } else if (t === "read_variable" || t === "assign_variable") {
      want(typeof a.variable === "string" && a.variable.length < 512, w, "attr variable must be a name");
      const spec = t === "read_variable" ? (want(declared.length === 1, w, "read_variable has one output"), declared[0])
        : (want(declared.length === 0, w, "assign_variable has no outputs"), ins[0]);
      const known = variables.get(a.variable);
      if (known) want(sameShape(known.shape, spec.shape) && known.dtype === spec.dtype, w,
        `variable ${JSON.stringify(a.variable)} is ${fmt(known.shape)} ${known.dtype.name} elsewhere, ${fmt(spec.shape)} ${spec.dtype.name} here`);
      else variables.set(a.variable, { shape: spec.shape, dtype: spec.dtype });
      expect = t === "read_variable" ? [spec] : [];
    } else if (t === "print") {
      const tpl = typeof a.template === "string" ? parsePyLiteral(a.template, `${w}: attr template`) : a.template;
      want(Array.isArray(tpl) && tpl.every((p) => Array.isArray(p) && p.length === 2 &&
        (p[0] === "s" ? typeof p[1] === "string" : isInt(p[1]) && p[1] >= 0 && p[1] < ins.length)), w,
        "attr template is not a list of [\"s\", text] / [\"t\", input index]");
      a.parsedTemplate = tpl;
      for (const k of ["sep", "end"]) want(typeof a[k] === "string", w, `attr ${k} must be a string`);
      want(isInt(a.summarize), w, "attr summarize must be an int");
      expect = [];
    } else if (t === "assert") {
      want(ins.length >= 1 && ins[0].dtype === DTYPES.bool && prod(ins[0].shape) === 1, w, "the first input of assert is a bool scalar");
      want(typeof a.message === "string", w, "attr message must be a string");
      a.parsedLabels = typeof a.labels === "string" ? parsePyLiteral(a.labels, `${w}: attr labels`) : a.labels;
      want(Array.isArray(a.parsedLabels) && a.parsedLabels.length === ins.length - 1 && a.parsedLabels.every((l) => typeof l === "string"), w,
        "attr labels: one string per data input");
      want(isInt(a.summarize), w, "attr summarize must be an int");
      expect = [];
    } else if (t === "cond" || t === "while") {
      expect = checkControl(n, a, ins, inputs, subs, declared, w, depth, specs, variables, budget);
    } else {
      expect = RULES[t](ins, a, w);
    }
    if (expect) {
      want(expect.length === declared.length, w, `declares ${declared.length} outputs, the rule gives ${expect.length}`);
      expect.forEach((e, i) => want(sameShape(e.shape, declared[i].shape) && e.dtype === declared[i].dtype, w,
        `output ${i} is declared ${fmt(declared[i].shape)} ${declared[i].dtype.name}, the inputs give ${fmt(e.shape)} ${e.dtype.name}`));
    }
    declared.forEach((o, i) => specs.set(`${n.name}:${i}`, o));
    nodes.push({ name: n.name, type: t, attrs: a, inputs, outputs: declared, subgraphs: n._subs ?? [] });
    delete n._subs;
  }
  want(g.inputs.length === placeholders.length && g.inputs.every((s, i) => s === placeholders[i]), where,
    "inputs must list the graph's placeholders in order");
  g.outputs.forEach((s) => want(typeof s === "string" && specs.has(s), where, `output ${JSON.stringify(s)} is not a tensor of the graph`));
  return { name: gname, where, inputs: g.inputs, outputs: g.outputs, nodes, specs, variables,
    inputSpecs: g.inputs.map((s) => specs.get(s)), outputSpecs: g.outputs.map((s) => specs.get(s)) };
}

function checkControl(n, a, ins, inputs, subs, declared, w, depth, specs, variables, budget) {
  want(subs.length === 2, w, `${n.type} holds 2 subgraphs, got ${subs.length}`);
  const outer = { inputs, specs, first: n.type === "cond" ? 1 : a.n_vars };
  want(isInt(outer.first) && outer.first >= 0 && outer.first <= inputs.length, w, `attr n_vars ${JSON.stringify(a.n_vars)} is not a count of the inputs`);
  const compiled = subs.map((sg) => checkGraph(sg, w, depth + 1, outer, variables, budget));
  const args = (sg) => sg.nodes.filter((x) => x.type === "placeholder" && !x.attrs.capture).map((x) => x.outputs[0]);
  const same = (p, q) => p.length === q.length && p.every((s, i) => sameShape(s.shape, q[i].shape) && s.dtype === q[i].dtype);
  if (n.type === "cond") {
    want(ins.length >= 1 && ins[0].dtype === DTYPES.bool && prod(ins[0].shape) === 1 && ins[0].shape.length <= 1, w, "the predicate of cond is a bool scalar");
    for (const sg of compiled) {
      want(args(sg).length === 0, sg.where, "a cond branch takes no arguments (only captures)");
      want(same(sg.outputSpecs, declared), sg.where, "a branch's outputs differ from the cond node's");
    }
  } else {
    const nv = a.n_vars;
    want(isInt(nv) && nv >= 0 && nv <= ins.length, w, `attr n_vars ${JSON.stringify(nv)} is not a count of the inputs`);
    want(a.maximum_iterations === null || a.maximum_iterations === undefined || (isInt(a.maximum_iterations) && a.maximum_iterations >= 0), w,
      "attr maximum_iterations must be null or a non-negative int");
    const vars = ins.slice(0, nv);
    want(same(declared, vars), w, "the while node's outputs differ from its loop variables");
    const [cg, bg] = compiled;
    want(same(args(cg), vars) && same(args(bg), vars), w, "the loop's cond/body arguments differ from its loop variables");
    want(cg.outputSpecs.length === 1 && cg.outputSpecs[0].dtype === DTYPES.bool && prod(cg.outputSpecs[0].shape) === 1, cg.where, "a loop condition returns a bool scalar");
    want(same(bg.outputSpecs, vars), bg.where, "the loop body's results differ from its loop variables");
  }
  n._subs = compiled;
  return null;
}

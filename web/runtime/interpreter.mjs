// The interpreter: a validated graph (graph.mjs) bound to one backend. Nodes run in trace
// order after pruning (only what an output or a side effect needs); each value is freed
// after its last use. Variables live in the model's state (`state.variables`), so an
// exported training step updates them; cond/while run their subgraphs, with loops
// bounded by maximum_iterations or `state.maxLoopIterations`.

import { GraphError } from "./dtypes.mjs";
import { Tensor, formatTensor } from "./tensor.mjs";

const SIDE_EFFECTS = new Set(["assign_variable", "print", "assert", "cond", "while"]);
const CONSTANTS = new Set(["constant", "full", "arange"]);
const GOLDEN = 0x9e3779b9 | 0;

function hexBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

function liveNodes(g) {
  const need = new Set(g.outputs), keep = [];
  for (let k = g.nodes.length - 1; k >= 0; k--) {
    const n = g.nodes[k];
    if (SIDE_EFFECTS.has(n.type) || n.type === "placeholder" || n.outputs.some((_, i) => need.has(`${n.name}:${i}`))) {
      keep.push(n);
      n.inputs.forEach((s) => need.add(s));
    }
  }
  return keep.reverse();
}

export class Executable {
  /** state: {variables: Map name -> {handle, shape, dtype}, maxLoopIterations, onPrint} */
  constructor(graph, be, state) {
    this.g = graph;
    this.be = be;
    this.state = state;
    this.nodes = liveNodes(graph);
    this.consts = new Map();
    this.randomCalls = new Map();
    this.subs = new Map();
    const last = new Map();
    this.nodes.forEach((n, k) => n.inputs.forEach((s) => last.set(s, k)));
    graph.outputs.forEach((s) => last.set(s, Infinity));
    this.frees = this.nodes.map(() => []);
    for (const [s, k] of last) if (k !== Infinity) this.frees[k].push(s);
    this.used = new Set(last.keys());
    const byName = new Map(graph.nodes.map((n) => [`${n.name}:0`, n]));
    this.captures = graph.inputs.map((s) => byName.get(s)).filter((n) => n.attrs.capture).map((n) => n.attrs.outer);
    for (const n of this.nodes) {
      if (CONSTANTS.has(n.type)) this.consts.set(n.name, this._source(n));
      if (n.type === "cond" || n.type === "while") this.subs.set(n.name, n.subgraphs.map((sg) => new Executable(sg, be, state)));
    }
  }

  _source(n) {
    const a = n.attrs, dt = n.outputs[0].dtype, shape = n.outputs[0].shape;
    if (n.type === "constant") return this.be.write(hexBytes(a.value), shape, dt);
    if (n.type === "full") return this.be.full(shape, a.value, dt);
    return this.be.arange(a.start, a.delta, a.n, dt);
  }

  /** Free what the executable holds (its constants). */
  dispose() {
    for (const h of this.consts.values()) this.be.free(h);
    this.consts.clear();
    for (const subs of this.subs.values()) subs.forEach((s) => s.dispose());
  }

  /** Run on owned input handles (they are freed here); returns owned output handles. */
  async run(inputs) {
    const be = this.be, env = new Map();
    this.g.inputs.forEach((s, i) => env.set(s, inputs[i]));
    try {
      for (const [k, n] of this.nodes.entries()) {
        if (n.type !== "placeholder") {
          const outs = await this._node(n, n.inputs.map((s) => env.get(s)), env);
          outs.forEach((h, i) => {
            const s = `${n.name}:${i}`;
            if (this.used.has(s)) env.set(s, h);
            else be.free(h);
          });
        }
        for (const s of this.frees[k]) {
          const h = env.get(s);
          if (h !== undefined) { be.free(h); env.delete(s); }
        }
      }
      return this.g.outputs.map((s) => be.view(env.get(s)));
    } finally {
      for (const h of env.values()) be.free(h);
    }
  }

  async _node(n, ins, env) {
    const be = this.be, a = n.attrs, t = n.type, where = `${this.g.where}: node ${JSON.stringify(n.name)} (${t})`;
    try {
      switch (t) {
        case "constant": case "full": case "arange": return [be.view(this.consts.get(n.name))];
        case "random": {
          const c = this.randomCalls.get(n.name) ?? 0;
          this.randomCalls.set(n.name, c + 1);
          const key = [a.key[0] >>> 0, (a.key[1] + Math.imul(GOLDEN, c)) >>> 0];
          return [be.random(a.kind, n.outputs[0].shape, n.outputs[0].dtype, key)];
        }
        case "unary": return [be.unary(a.op, ins[0])];
        case "binary": return [be.binary(a.op, ins[0], ins[1])];
        case "where": return [be.where(ins[0], ins[1], ins[2])];
        case "cast": return [be.cast(ins[0], n.outputs[0].dtype)];
        case "reduce": return [be.reduce(a.op, ins[0], a.axes, a.keepdims)];
        case "argreduce": return [be.argreduce(a.op, ins[0], a.axis, n.outputs[0].dtype)];
        case "scan": return [be.scan(a.op, ins[0], a.axis, a.exclusive, a.reverse)];
        case "matmul": return [be.matmul(ins[0], ins[1], a.transpose_a, a.transpose_b)];
        case "conv2d": return [be.conv2d(ins[0], ins[1], a.strides, a.pads, a.dilations, a.groups)];
        case "conv2d_input_grad": return [be.conv2d_input_grad(ins[0], ins[1], a.x_shape, a.strides, a.pads, a.dilations, a.groups)];
        case "conv2d_filter_grad": return [be.conv2d_filter_grad(ins[0], ins[1], a.w_shape, a.strides, a.pads, a.dilations, a.groups)];
        case "pool2d": return [be.pool2d(a.op, ins[0], a.ksize, a.strides, a.pads)];
        case "pool2d_grad": return [be.pool2d_grad(a.op, ins[0], ins[1], a.ksize, a.strides, a.pads)];
        case "gather": return [be.gather(ins[0], ins[1], a.axis)];
        case "scatter_add": return [be.scatter_add(ins[0], ins[1], a.shape, a.axis)];
        case "reshape": return [be.reshape(ins[0], a.shape)];
        case "transpose": return [be.transpose(ins[0], a.perm)];
        case "slice": return [be.slice(ins[0], a.begin, a.size, a.strides)];
        case "concat": return [be.concat(ins, a.axis)];
        case "pad": return [be.pad(ins[0], a.pads, a.value)];
        case "broadcast_to": return [be.broadcast_to(ins[0], a.shape)];
        case "softmax": return [be.softmax(ins[0], a.axis)];
        case "sparse_softmax_xent": return be.sparse_softmax_xent(ins[0], ins[1]);
        case "read_variable": return [be.view(this._variable(a.variable, where).handle)];
        case "assign_variable": {
          const v = this._variable(a.variable, where), old = v.handle;
          v.handle = be.view(ins[0]);
          be.free(old);
          return [];
        }
        case "print": {
          const parts = [];
          for (const [kind, v] of a.parsedTemplate)
            parts.push(kind === "s" ? String(v) : formatTensor(await this._host(ins[v]), a.summarize));
          const text = parts.join(a.sep) + a.end, stream = a.stream === "stdout" ? "stdout" : "stderr";
          if (this.state.onPrint) this.state.onPrint(text, stream);
          else (stream === "stdout" ? console.log : console.error)(text.replace(/\n$/, ""));
          return [];
        }
        case "assert": return await this._assert(n, ins);
        case "cond": return await this._cond(n, ins, env);
        case "while": return await this._while(n, ins, env);
        default: throw new GraphError(`unknown node type`);
      }
    } catch (e) {
      if (e instanceof GraphError && !e.message.startsWith("graph ")) throw new GraphError(`${where}: ${e.message}`);
      throw e;
    }
  }

  _variable(name, where) {
    const v = this.state.variables.get(name);
    if (!v) throw new GraphError(`${where}: variable ${JSON.stringify(name)} has no value (missing from the weights)`);
    return v;
  }

  async _host(h) {
    return Tensor.fromBytes(await this.be.read(h), h.shape, h.dtype);
  }

  async _bool(h) {
    const b = await this.be.read(h);
    return b[0] !== 0;
  }

  async _assert(n, ins) {
    if (await this._bool(ins[0])) return [];
    const lines = [n.attrs.message];
    for (const [i, label] of n.attrs.parsedLabels.entries()) {
      const h = ins[i + 1];
      lines.push(`${label} (shape=(${h.shape.join(", ")}${h.shape.length === 1 ? "," : ""}) dtype=${h.dtype.name}) = ${formatTensor(await this._host(h), n.attrs.summarize).replace(/\n/g, " ")}`);
    }
    throw new GraphError(`InvalidArgumentError: ${lines.join("; ")}`);
  }

  /** Owned handles for a subgraph's inputs: `args` (owned) then its captures (views). */
  _subInputs(sub, args, env) {
    return [...args, ...sub.captures.map((s) => this.be.view(env.get(s)))];
  }

  async _cond(n, ins, env) {
    const [tg, fg] = this.subs.get(n.name);
    const sub = (await this._bool(ins[0])) ? tg : fg;
    return sub.run(this._subInputs(sub, [], env));
  }

  async _while(n, ins, env) {
    const [cg, bg] = this.subs.get(n.name), nv = n.attrs.n_vars, be = this.be;
    const limit = n.attrs.maximum_iterations ?? Infinity, cap = this.state.maxLoopIterations ?? 1e6;
    let vals = ins.slice(0, nv).map((h) => be.view(h));
    try {
      for (let it = 0; it < limit; it++) {
        const [c] = await cg.run(this._subInputs(cg, vals.map((h) => be.view(h)), env));
        const go = await this._bool(c);
        be.free(c);
        if (!go) break;
        this.state.iterations = (this.state.iterations ?? 0) + 1;  // all loops of one call together
        if (this.state.iterations > cap) throw new GraphError(`the loops of this call ran ${cap} iterations without finishing (the maxLoopIterations bound)`);
        const cur = vals;
        vals = [];  // the body owns (and frees) them now
        vals = await bg.run(this._subInputs(bg, cur, env));
      }
      const out = vals;
      vals = [];
      return out;
    } finally {
      vals.forEach((h) => be.free(h));
    }
  }
}


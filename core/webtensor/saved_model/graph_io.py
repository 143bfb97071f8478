"""Graphs to and from a SavedModel's JSON (docs/saved-model.md: graph format 1 for files).

``encode`` writes a traced ``Graph`` with variables by key; ``decode`` rebuilds a
``Graph`` from untrusted JSON by re-emitting every node through the tracer, so each
output shape and dtype comes from the one shape rule and is compared with the file's.
"""

from __future__ import annotations

import math
import sys
import threading

from .. import dtypes as D
from ..function.graph import LOCAL_ATTRS, TRACER, Graph
from ..saving import validate as V


# -- writing -----------------------------------------------------------------------------------


def encode(g: Graph, var_key) -> dict:
    """``g`` as JSON-ready dict; ``var_key(variable)`` gives a variable's key (or raises)."""
    names = {}
    nodes = []
    for n in g.nodes:
        for s in n.outputs:
            names[id(s)] = f"{n.name}:{s.index}"
        attrs = {k: _attr(n.type, k, v, var_key) for k, v in n.attrs.items() if k not in LOCAL_ATTRS}
        if n.type == "placeholder" and n.attrs.get("capture"):
            attrs["outer"] = next(o for o, p in g.captures if p is n.outputs[0]).name
        nodes.append(
            {
                "name": n.name,
                "type": n.type,
                "attrs": attrs,
                "inputs": [names[id(s)] for s in n.inputs],
                "outputs": [{"shape": list(s.shape), "dtype": s.dtype.name} for s in n.outputs],
                "subgraphs": [encode(sg, var_key) for sg in n.subgraphs],
            }
        )
    return {
        "version": 1,
        "name": g.name,
        "inputs": [names[id(s)] for s in g.inputs],
        "outputs": [names[id(s)] for s in g.outputs],
        "nodes": nodes,
    }


def _attr(t, k, v, var_key):
    if isinstance(v, D.DType):
        return v.name
    if isinstance(v, bytes):
        return v.hex()
    if k == "variable":
        return var_key(v)
    if t == "print" and k == "stream":
        if v is None or v is sys.stderr:
            return "stderr"
        if v is sys.stdout:
            return "stdout"
        raise ValueError(f"tf.saved_model.save: a tf.print to {v!r} cannot be saved (only sys.stderr and sys.stdout)")
    if t == "print" and k == "template":
        return [[kind, x if kind == "t" else str(x)] for kind, x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if v != v else ("inf" if v > 0 else "-inf")
    if isinstance(v, (tuple, list)):
        return [_attr(t, k, x, var_key) for x in v]
    return v


# -- reading -------------------------------------------------------------------------------------


def _tuples(v):
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


_SOURCES = frozenset(("constant", "full", "arange", "random"))
_LOCK = threading.RLock()  # re-entered by subgraphs; serving threads may decode at once


class Decoder:
    """Rebuilds graphs of one file, counting nodes against the file's limit."""

    def __init__(self, variables: dict):
        self.variables = variables  # key -> Variable
        self.nodes = 0
        self.source_bytes = 0

    def graph(
        self, d, where: str, parent: Graph | None = None, outer_inputs=None, n_args=None, depth: int = 0
    ) -> Graph:
        if depth > V.SM_MAX_SUBGRAPH_DEPTH:
            raise V.sm_fail(where, f"subgraphs nest more than {V.SM_MAX_SUBGRAPH_DEPTH} deep")
        if not isinstance(d, dict) or d.get("version") != 1:
            raise V.sm_fail(where, "a graph is a JSON object with version 1")
        for key in ("inputs", "outputs", "nodes"):
            if not isinstance(d.get(key), list):
                raise V.sm_fail(where, f"graph {key} is not a list")
        name = d.get("name")
        g = Graph(name if isinstance(name, str) else "function", parent)
        tensors: dict = {}
        with _LOCK:  # the tracer's graph stack is one per process: one decode at a time
            TRACER.stack.append(g)
            try:
                for i, nd in enumerate(d["nodes"]):
                    self._node(g, nd, f"{where}.nodes[{i}]", tensors, outer_inputs, depth)
            finally:
                TRACER.stack.pop()
        placeholders = [n.outputs[0] for n in g.nodes if n.type == "placeholder"]
        ins = [self._ref(tensors, r, f"{where}.inputs") for r in d["inputs"]]
        if len(ins) != len(placeholders) or {id(s) for s in ins} != {id(s) for s in placeholders}:
            raise V.sm_fail(where, "graph inputs must list each placeholder once")
        args = [s for s in ins if not s.node.attrs.get("capture")]
        if ins[: len(args)] != args:
            raise V.sm_fail(where, "graph inputs: argument placeholders must come before captures")
        if n_args is not None and len(args) != n_args:
            raise V.sm_fail(where, f"this subgraph takes {n_args} arguments, its graph has {len(args)}")
        caps = {id(ph): outer for outer, ph in g.captures}
        g.captures = [(caps[id(s)], s) for s in ins[len(args) :]]
        g.inputs = ins
        g.outputs = [self._ref(tensors, r, f"{where}.outputs") for r in d["outputs"]]
        return g

    @staticmethod
    def _ref(tensors, r, where):
        s = tensors.get(r) if isinstance(r, str) else None
        if s is None:
            raise V.sm_fail(where, f"tensor {str(r)[:60]!r} is not an output of an earlier node")
        return s

    def _node(self, g, nd, where, tensors, outer_inputs, depth):
        self.nodes += 1
        if self.nodes > V.SM_MAX_NODES:
            raise V.sm_fail(where, f"more than {V.SM_MAX_NODES} graph nodes in the file")
        if not isinstance(nd, dict) or not isinstance(nd.get("name"), str) or not isinstance(nd.get("type"), str):
            raise V.sm_fail(where, "a node is a JSON object with a string name and type")
        t, attrs = nd["type"], nd.get("attrs", {})
        where = f"{where} ({t[:30]} {nd['name'][:40]!r})"
        if (
            not isinstance(attrs, dict)
            or not isinstance(nd.get("inputs", []), list)
            or not isinstance(nd.get("outputs"), list)
            or not isinstance(nd.get("subgraphs", []), list)
        ):
            raise V.sm_fail(where, "attrs must be an object; inputs, outputs and subgraphs lists")
        ins = [self._ref(tensors, r, where) for r in nd.get("inputs", [])]
        if t == "placeholder":
            outs = self._placeholder(g, attrs, ins, nd["outputs"], where, outer_inputs)
        elif t in ("cond", "while"):
            outs = self._control(g, t, attrs, ins, nd.get("subgraphs", []), where, depth, tensors)
        else:
            if nd.get("subgraphs"):
                raise V.sm_fail(where, f"a {t} node has no subgraphs")
            outs = self._primitive(g, t, attrs, ins, where)
        declared = nd["outputs"]
        got = [(tuple(s.shape), s.dtype) for s in outs]
        want = []
        for k, o in enumerate(declared):
            if not isinstance(o, dict):
                raise V.sm_fail(where, f"outputs[{k}] is not an object")
            want.append(
                (
                    V.sm_shape(o.get("shape"), f"{where}.outputs[{k}]"),
                    V.sm_dtype(o.get("dtype"), f"{where}.outputs[{k}]"),
                )
            )
        if got != want:
            raise V.sm_fail(where, f"declared outputs {_specs(want)} but its inputs and attrs give {_specs(got)}")
        for s in outs:
            n = V.sm_nbytes(s.shape, s.dtype, where)
            if t in _SOURCES:  # materialised when the graph is bound, and held: bounded in all
                self.source_bytes += n
                if self.source_bytes > V.SM_MAX_TENSOR_BYTES:
                    raise V.sm_fail(
                        where,
                        f"the file's constant, fill, range and random tensors need more "
                        f"than {V.SM_MAX_TENSOR_BYTES} bytes in all",
                    )
            key = f"{nd['name']}:{s.index}"
            if key in tensors:
                raise V.sm_fail(where, f"node name {nd['name'][:60]!r} is used twice")
            tensors[key] = s

    def _primitive(self, g, t, a, ins, where):
        specs = [(tuple(s.shape), s.dtype) for s in ins]
        if t in ("print", "assert"):
            V.sm_check_attrs(t, a, where)
            return self._effect(g, t, a, ins, where)
        if t not in V._ARITY and t != "concat":
            raise V.sm_fail(where, f"unknown node type {t[:30]!r}")
        V.sm_check_primitive(t, a, specs, where)
        if t in ("read_variable", "assign_variable"):
            var = self.variables.get(a.get("variable")) if isinstance(a.get("variable"), str) else None
            if var is None:
                raise V.sm_fail(where, f"variable {str(a.get('variable'))[:60]!r} is not a variable of the file")
            if t == "read_variable":
                return g.add(t, {"variable": var}, [], [(tuple(var.shape), var.dtype)], name="ReadVariableOp")
            if specs[0] != (tuple(var.shape), var.dtype):
                raise V.sm_fail(
                    where, f"assigns {_specs(specs)} to variable {var.name!r} {_specs([(tuple(var.shape), var.dtype)])}"
                )
            g.add(t, {"variable": var}, ins, [], name="AssignVariableOp")
            return []
        h = ins
        if t == "constant":
            shape, dt = V.sm_shape(a.get("shape"), where), V.sm_dtype(a.get("dtype"), where)
            value = a.get("value")
            n = V.sm_nbytes(shape, dt, where)
            if not isinstance(value, str) or len(value) != 2 * n:
                raise V.sm_fail(where, f"constant value must be {2 * n} hex digits ({n} bytes)")
            try:
                raw = bytes.fromhex(value)
            except ValueError:
                raise V.sm_fail(where, "constant value is not hex") from None
            return [TRACER.write(raw, shape, dt)]
        if t == "full":
            shape, dt = V.sm_shape(a.get("shape"), where), V.sm_dtype(a.get("dtype"), where)
            V.sm_nbytes(shape, dt, where)
            return [TRACER.full(shape, V.sm_number(a.get("value"), dt, where, "value"), dt)]
        if t == "arange":
            dt = V.sm_dtype(a.get("dtype"), where)
            n = a.get("n")
            if type(n) is not int or not 0 <= n <= V.SM_MAX_DIM or dt.kind == "b":
                raise V.sm_fail(where, f"arange n {str(n)[:20]} is not an int in [0, 2^31) (or bool dtype)")
            V.sm_nbytes((n,), dt, where)
            return [
                TRACER.arange(
                    V.sm_number(a.get("start"), dt, where, "start"),
                    V.sm_number(a.get("delta"), dt, where, "delta"),
                    n,
                    dt,
                )
            ]
        if t == "random":
            shape, dt = V.sm_shape(a.get("shape"), where), V.sm_dtype(a.get("dtype"), where)
            V.sm_nbytes(shape, dt, where)
            key = V._ints(a.get("key"), 2, where, "key", 0, 2**32 - 1)
            if a.get("kind") not in ("uniform", "normal") or dt.kind != "f":
                raise V.sm_fail(where, "random kind must be 'uniform' or 'normal', with a float dtype")
            return [TRACER.random(a["kind"], shape, dt, key)]
        b = {k: _tuples(v) for k, v in a.items()}
        if t == "unary":
            return [TRACER.unary(b["op"], h[0])]
        if t == "binary":
            return [TRACER.binary(b["op"], h[0], h[1])]
        if t == "where":
            return [TRACER.where(*h)]
        if t == "cast":
            return [TRACER.cast(h[0], V.sm_dtype(a["dtype"], where))]
        if t == "reduce":
            return [TRACER.reduce(b["op"], h[0], b["axes"], b["keepdims"])]
        if t == "argreduce":
            return [TRACER.argreduce(b["op"], h[0], b["axis"], V.sm_dtype(a["dtype"], where))]
        if t == "scan":
            return [TRACER.scan(b["op"], h[0], b["axis"], b["exclusive"], b["reverse"])]
        if t == "matmul":
            return [TRACER.matmul(h[0], h[1], b["transpose_a"], b["transpose_b"])]
        if t == "conv2d":
            return [TRACER.conv2d(h[0], h[1], b["strides"], b["pads"], b["dilations"], b["groups"])]
        if t == "conv2d_input_grad":
            return [
                TRACER.conv2d_input_grad(h[0], h[1], b["x_shape"], b["strides"], b["pads"], b["dilations"], b["groups"])
            ]
        if t == "conv2d_filter_grad":
            return [
                TRACER.conv2d_filter_grad(
                    h[0], h[1], b["w_shape"], b["strides"], b["pads"], b["dilations"], b["groups"]
                )
            ]
        if t == "pool2d":
            return [TRACER.pool2d(b["op"], h[0], b["ksize"], b["strides"], b["pads"])]
        if t == "pool2d_grad":
            return [TRACER.pool2d_grad(b["op"], h[0], h[1], b["ksize"], b["strides"], b["pads"])]
        if t == "gather":
            return [TRACER.gather(h[0], h[1], b["axis"])]
        if t == "scatter_add":
            return [TRACER.scatter_add(h[0], h[1], b["shape"], b["axis"])]
        if t == "reshape":
            return [TRACER.reshape(h[0], b["shape"])]
        if t == "transpose":
            return [TRACER.transpose(h[0], b["perm"])]
        if t == "slice":
            return [TRACER.slice(h[0], b["begin"], b["size"], b["strides"])]
        if t == "concat":
            return [TRACER.concat(h, b["axis"])]
        if t == "pad":
            return [TRACER.pad(h[0], b["pads"], V.sm_number(a["value"], h[0].dtype, where, "pad value"))]
        if t == "broadcast_to":
            return [TRACER.broadcast_to(h[0], b["shape"])]
        if t == "softmax":
            return [TRACER.softmax(h[0], b["axis"])]
        if t == "sparse_softmax_xent":
            return list(TRACER.sparse_softmax_xent(h[0], h[1]))
        raise V.sm_fail(where, f"unknown node type {t[:30]!r}")  # pragma: no cover - _ARITY covers all

    def _placeholder(self, g, a, ins, declared, where, outer_inputs):
        """An argument (its spec is the file's) or, in a subgraph, a capture of input
        ``a["input"]`` of the enclosing node (its spec is that tensor's)."""
        if ins or not isinstance(declared, list) or len(declared) != 1 or not isinstance(declared[0], dict):
            raise V.sm_fail(where, "a placeholder has no inputs and one output")
        shape = V.sm_shape(declared[0].get("shape"), where + ".outputs[0]")
        dt = V.sm_dtype(declared[0].get("dtype"), where + ".outputs[0]")
        if not a:
            (s,) = g.add("placeholder", {}, (), [(shape, dt)], name="x")
            return [s]
        if set(a) != {"capture", "outer"} or a["capture"] is not True or outer_inputs is None:
            raise V.sm_fail(
                where,
                "a placeholder's attrs are {} (an argument) or, in a subgraph, "
                "{capture: true, outer: enclosing tensor name}",
            )
        node_inputs, first, outer_tensors = outer_inputs
        o = outer_tensors.get(a["outer"]) if isinstance(a["outer"], str) else None
        if o is None or not any(x is o for x in node_inputs[first:]):
            raise V.sm_fail(
                where,
                f"capture of {str(a['outer'])[:60]!r}, which is not an input (from "
                f"position {first}) of the enclosing {'cond' if first == 1 else 'while'} node",
            )
        if (tuple(o.shape), o.dtype) != (shape, dt):
            raise V.sm_fail(
                where,
                f"capture is {_specs([(shape, dt)])} but {a['outer'][:60]!r} is {_specs([(tuple(o.shape), o.dtype)])}",
            )
        (s,) = g.add("placeholder", {"capture": True}, (), [(shape, dt)], name="capture")
        g.captures.append((o, s))
        return [s]

    def _effect(self, g, t, a, ins, where):
        if t == "print":
            tpl, stream = a.get("template"), a.get("stream")
            if (
                stream not in ("stderr", "stdout")
                or not isinstance(tpl, list)
                or not all(
                    isinstance(p, list)
                    and len(p) == 2
                    and (
                        (p[0] == "s" and isinstance(p[1], str))
                        or (p[0] == "t" and type(p[1]) is int and 0 <= p[1] < len(ins))
                    )
                    for p in tpl
                )
            ):
                raise V.sm_fail(
                    where, "print needs template [['s', text] | ['t', input index]] and stream 'stderr' or 'stdout'"
                )
            for k in ("sep", "end"):
                if not isinstance(a.get(k), str):
                    raise V.sm_fail(where, f"print {k} is not a string")
            attrs = {
                "template": [tuple(p) for p in tpl],
                "stream": None if stream == "stderr" else sys.stdout,
                "summarize": _summarize(a, where),
                "sep": a["sep"],
                "end": a["end"],
            }
        else:
            labels = a.get("labels")
            if not ins or ins[0].dtype is not D.bool_ or V._prod(ins[0].shape) != 1:
                raise V.sm_fail(where, "assert needs a scalar bool condition as its first input")
            if (
                not isinstance(a.get("message"), str)
                or not isinstance(labels, list)
                or len(labels) != len(ins) - 1
                or not all(isinstance(x, str) for x in labels)
            ):
                raise V.sm_fail(where, "assert needs a string message and one string label per data input")
            attrs = {"message": a["message"], "labels": labels, "summarize": _summarize(a, where)}
        g.add(t, attrs, ins, [], name="PrintV2" if t == "print" else "Assert")
        return []

    def _control(self, g, t, a, ins, subs, where, depth, tensors):
        if len(subs) != 2:
            raise V.sm_fail(where, f"a {t} node has 2 subgraphs")
        if t == "cond":
            if set(a) or not ins or ins[0].dtype is not D.bool_ or tuple(ins[0].shape) not in ((), (1,)):
                raise V.sm_fail(where, "cond needs no attrs and a scalar bool predicate as its first input")
            first, nv = 1, 0
        else:
            nv, maxit = a.get("n_vars"), a.get("maximum_iterations")
            if (
                set(a) != {"n_vars", "maximum_iterations"}
                or type(nv) is not int
                or not 0 <= nv <= len(ins)
                or not (maxit is None or (type(maxit) is int and maxit >= 0))
            ):
                raise V.sm_fail(
                    where, "while needs n_vars (an int <= its inputs) and maximum_iterations (null or an int >= 0)"
                )
            first = nv
        gs = [
            self.graph(sd, f"{where}.subgraphs[{k}]", g, (ins, first, tensors), nv, depth + 1)
            for k, sd in enumerate(subs)
        ]
        specs = [[(tuple(s.shape), s.dtype) for s in sg.outputs] for sg in gs]
        loop = [(tuple(s.shape), s.dtype) for s in ins[:nv]]
        if t == "cond":
            if specs[0] != specs[1]:
                raise V.sm_fail(where, f"cond branches give {_specs(specs[0])} and {_specs(specs[1])}")
            out = specs[0]
        else:
            args = [[(tuple(s.shape), s.dtype) for s in sg.inputs[:nv]] for sg in gs]
            if args[0] != loop or args[1] != loop:
                raise V.sm_fail(where, "while subgraph arguments differ from the loop variables")
            if len(specs[0]) != 1 or specs[0][0][1] is not D.bool_ or specs[0][0][0] not in ((), (1,)):
                raise V.sm_fail(where, "while cond must return one scalar bool")
            if specs[1] != loop:
                raise V.sm_fail(where, f"while body gives {_specs(specs[1])} for loop variables {_specs(loop)}")
            out = loop
        attrs = {} if t == "cond" else {"n_vars": nv, "maximum_iterations": a["maximum_iterations"]}
        return g.add(t, attrs, ins, out, name=t, subgraphs=tuple(gs))


def _summarize(a, where) -> int:
    s = a.get("summarize")
    if type(s) is not int or s < -1:
        raise V.sm_fail(where, f"summarize {str(s)[:20]} is not an int >= -1")
    return s


def _specs(specs) -> str:
    return "[" + ", ".join(f"{list(s)} {d.name}" for s, d in specs) + "]"

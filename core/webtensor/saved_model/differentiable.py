"""A loaded graph run node by node through the core ops that make each primitive, so
tapes record it (gradients through loaded functions, as TF) and a tf.function calling a
loaded function traces it with variables captured by reference.

Used only while a tape records or a trace is under way; otherwise the bound ``Program``
(no per-op dispatch) runs the graph. Each core op here issues exactly the primitive of
its node (same attrs), so both paths compute the same values.
"""

from __future__ import annotations

import sys

from .. import backends, placement
from .. import tensor as T
from ..function.graph import _random_step, _source, live_nodes

UNARY = {"neg": "negative", "isnan": "is_nan", "isfinite": "is_finite"}
BINARY = {"sub": "subtract", "mul": "multiply", "div": "truediv", "mod": "floormod"}
REDUCE = {
    "sum": "reduce_sum",
    "prod": "reduce_prod",
    "max": "reduce_max",
    "min": "reduce_min",
    "any": "reduce_any",
    "all": "reduce_all",
}


def run(g, inputs: list, randoms: dict) -> list:
    """Outputs of graph ``g`` on input tensors; ``randoms`` keeps each random node's draw
    count between calls (a new key per call, as the Program does)."""
    env = {id(s): t for s, t in zip(g.inputs, inputs)}
    for n in live_nodes(g):
        if n.type == "placeholder":
            continue
        outs = _node(n, [env[id(s)] for s in n.inputs], randoms)
        for s, t in zip(n.outputs, outs):
            env[id(s)] = t
    return [env[id(s)] for s in g.outputs]


def _backend(ins):
    return placement._scope[-1] or (ins[0]._be if ins else backends.default())


def _node(n, ins, randoms) -> list:
    from ..ops import array as A
    from ..ops import conv as C
    from ..ops import linalg, math, nn
    from ..ops import reduce as R

    t, a = n.type, n.attrs
    if t in ("constant", "full", "arange"):
        be = _backend(ins)
        return [T.wrap(_source(n, be)(), n.outputs[0].dtype, be)]
    if t == "random":
        be = _backend(ins)
        draw = randoms.get(id(n))
        if draw is None or draw[0] is not be:
            draw = randoms[id(n)] = (be, _random_step(a, be))
        return [T.wrap(draw[1](), n.outputs[0].dtype, be)]
    if t == "read_variable":
        return [a["variable"].value()]
    if t == "assign_variable":
        a["variable"].assign(ins[0])
        return []
    if t == "unary":
        return [getattr(math, UNARY.get(a["op"], a["op"]))(ins[0])]
    if t == "binary":
        return [getattr(math, BINARY.get(a["op"], a["op"]))(ins[0], ins[1])]
    if t == "where":
        return [math.where(*ins)]
    if t == "cast":
        return [math.cast(ins[0], a["dtype"])]
    if t == "reduce":
        return [getattr(R, REDUCE[a["op"]])(ins[0], axis=list(a["axes"]), keepdims=a["keepdims"])]
    if t == "argreduce":
        return [getattr(R, a["op"])(ins[0], axis=a["axis"], output_type=a["dtype"])]
    if t == "scan":
        return [getattr(R, "cum" + a["op"])(ins[0], a["axis"], a["exclusive"], a["reverse"])]
    if t == "matmul":
        return [linalg.matmul(ins[0], ins[1], transpose_a=a["transpose_a"], transpose_b=a["transpose_b"])]
    if t == "conv2d":
        return [C._conv(ins[0], ins[1], a["strides"], a["pads"], a["dilations"], a["groups"])]
    if t == "conv2d_input_grad":
        return [C._conv_input_grad(ins[0], ins[1], a["x_shape"], a["strides"], a["pads"], a["dilations"], a["groups"])]
    if t == "conv2d_filter_grad":
        return [C._conv_filter_grad(ins[0], ins[1], a["w_shape"], a["strides"], a["pads"], a["dilations"], a["groups"])]
    if t == "pool2d":
        explicit = [[0, 0], list(a["pads"][0]), list(a["pads"][1]), [0, 0]]
        return [C._pool(a["op"] + "_pool2d", a["op"], ins[0], a["ksize"], a["strides"], explicit)]
    if t == "pool2d_grad":
        return [C._pool_grad(a["op"], ins[0], ins[1], a["ksize"], a["strides"], a["pads"])]
    if t == "gather":
        return [A._gather(ins[0], ins[1], a["axis"])]
    if t == "scatter_add":
        return [A._scatter_add(ins[0], ins[1], a["shape"], a["axis"])]
    if t == "reshape":
        return [A.reshape(ins[0], list(a["shape"]))]
    if t == "transpose":
        return [A.transpose(ins[0], list(a["perm"]))]
    if t == "slice":
        return [A._strided(ins[0], a["begin"], a["size"], a["strides"])]
    if t == "concat":
        return [A.concat(list(ins), a["axis"])]
    if t == "pad":
        return [A.pad(ins[0], [list(p) for p in a["pads"]], constant_values=a["value"])]
    if t == "broadcast_to":
        return [A.broadcast_to(ins[0], list(a["shape"]))]
    if t == "softmax":
        return [nn.softmax(ins[0], axis=a["axis"])]
    if t == "sparse_softmax_xent":
        x, labels = ins
        loss = nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=x)
        return [loss, nn.softmax(x, axis=-1) - A.one_hot(labels, x.shape[-1], dtype=x.dtype)]
    if t == "print":
        from ..control_flow import print_

        parts = [ins[v] if kind == "t" else v for kind, v in a["template"]]
        print_(
            *parts,
            output_stream=a["stream"] if a["stream"] is not None else sys.stderr,
            summarize=a["summarize"],
            sep=a["sep"],
            end=a["end"],
        )
        return []
    if t == "assert":
        from ..debugging import _assert

        _assert(ins[0], list(ins[1:]), a["labels"], a["message"], a["summarize"])
        return []
    if t == "cond":
        return _cond(n, ins, randoms)
    if t == "while":
        return _while(n, ins, randoms)
    raise ValueError(f"loaded function: no differentiable replay of node type {t!r}")  # pragma: no cover


def _captures(sub, node_inputs, first) -> list:
    ids = [id(s) for s in node_inputs]
    return [ids.index(id(outer), first) for outer, _ in sub.captures]


def _cond(n, ins, randoms) -> list:
    from ..control_flow import cond

    tg, fg = n.subgraphs
    tcap = [ins[i] for i in _captures(tg, n.inputs, 1)]
    fcap = [ins[i] for i in _captures(fg, n.inputs, 1)]
    if not n.outputs:
        cond(ins[0], lambda: run(tg, tcap, randoms) and None, lambda: run(fg, fcap, randoms) and None)
        return []
    out = cond(ins[0], lambda: run(tg, tcap, randoms), lambda: run(fg, fcap, randoms))
    return list(out)


def _while(n, ins, randoms) -> list:
    from ..control_flow import while_loop

    cg, bg = n.subgraphs
    nv = n.attrs["n_vars"]
    ccap = [ins[i] for i in _captures(cg, n.inputs, nv)]
    bcap = [ins[i] for i in _captures(bg, n.inputs, nv)]
    out = while_loop(
        lambda *v: run(cg, list(v) + ccap, randoms)[0],
        lambda *v: run(bg, list(v) + bcap, randoms),
        list(ins[:nv]),
        maximum_iterations=n.attrs["maximum_iterations"],
    )
    return list(out) if isinstance(out, (list, tuple)) else [out]

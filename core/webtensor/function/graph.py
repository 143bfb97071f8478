"""The graph IR: backend primitive calls with static shapes/dtypes (see docs/tf-function.md).

A trace runs the user's Python with symbolic tensors whose backend is ``TRACER``:
every primitive call of ``backends/base.py`` that the core makes on them is recorded
as a ``Node`` of the innermost ``Graph`` being traced, with its output shape and dtype
computed here. Replay (``Program``) runs a pruned, flat list of pre-bound calls on a
real backend.
"""

from __future__ import annotations

import functools

from .. import dtypes as D
from ..backends.base import BOOL_OPS
from ..errors import InvalidArgumentError
from ..shape import broadcast_shape, prod

SIDE_EFFECTS = frozenset(("assign_variable", "print", "assert", "cond", "while", "py_function"))
LOCAL_ATTRS = frozenset(("label_range",))
"""Node attrs that replay in this process reads and the graph format does not carry: an
assert's ``label_range`` (CPU-only, names the bad label) is saved as a plain assert."""
"""Node types kept by pruning even when no output uses them (cond/while may hold prints)."""
CONSTANTS = frozenset(("constant", "full", "arange"))
"""Source nodes materialised once per backend (handles are immutable)."""


class OperatorNotAllowedInGraphError(TypeError):
    """A symbolic tensor used where a Python value is needed (TF's error type)."""


class Sym:
    """A symbolic handle: one output of a node of one graph."""

    __slots__ = ("__weakref__", "dtype", "graph", "index", "node", "shape")
    symbolic = True

    def __init__(self, graph, shape, dtype, node, index=0):
        self.graph, self.shape, self.dtype, self.node, self.index = graph, tuple(shape), dtype, node, index

    @property
    def name(self) -> str:
        return f"{self.node.name}:{self.index}"

    def describe(self, dtype=None) -> str:
        return f'Tensor("{self.name}", shape={self.shape}, dtype={(dtype or self.dtype).name})'


class Node:
    """One primitive call: ``type`` (primitive or structure), static ``attrs``, inputs, outputs."""

    __slots__ = ("attrs", "inputs", "name", "outputs", "subgraphs", "type")

    def __init__(self, name, type_, attrs, inputs, subgraphs=()):
        self.name, self.type, self.attrs, self.inputs = name, type_, attrs, list(inputs)
        self.outputs: list = []
        self.subgraphs = tuple(subgraphs)

    def __repr__(self):
        return f"<Node {self.name} {self.type} {self.attrs.get('op', '')}>"


class Graph:
    """Nodes in trace order; ``inputs`` are placeholders (arguments, then captures)."""

    def __init__(self, name: str, parent: Graph | None = None):
        self.name, self.parent = name, parent
        self.nodes: list = []
        self.inputs: list = []
        self.outputs: list = []
        self.captures: list = []  # (outer Sym, placeholder Sym)
        self._capture_map: dict = {}
        self._names: dict = {}
        self.pure = False  # a backward graph: the forward's prints and assignments are dropped

    def unique(self, base: str) -> str:
        n = self._names.get(base, 0)
        self._names[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def add(self, type_, attrs, inputs, out_specs, name=None, subgraphs=()) -> list:
        node = Node(self.unique(name or attrs.get("op") or type_), type_, attrs, inputs, subgraphs)
        node.outputs = [Sym(self, s, d, node, i) for i, (s, d) in enumerate(out_specs)]
        self.nodes.append(node)
        return node.outputs

    def placeholder(self, shape, dtype, name="x") -> Sym:
        (s,) = self.add("placeholder", {}, (), [(shape, dtype)], name=name)
        self.inputs.append(s)
        return s

    def local(self, h):
        """``h`` as a handle of this graph, capturing it from an enclosing graph."""
        if type(h) is not Sym:
            raise InvalidArgumentError(
                f"tf.function {self.name!r}: a non-symbolic handle {type(h).__name__} reached the tracer"
            )
        if h.graph is self:
            return h
        ph = self._capture_map.get(id(h))
        if ph is not None:
            return ph
        if self.parent is None:
            raise InvalidArgumentError(
                f"tf.function {self.name!r}: tensor {h.name} belongs to "
                f"another graph ({h.graph.name!r}) that has finished tracing; "
                f"return it from that function instead of keeping it"
            )
        outer = self.parent.local(h)
        (ph,) = self.add("placeholder", {"capture": True}, (), [(outer.shape, outer.dtype)], name="capture")
        self.captures.append((outer, ph))
        self._capture_map[id(h)] = ph
        return ph

    def get_operations(self) -> list:
        return [Operation(n) for n in self.nodes]

    def as_dict(self, optimized: bool = False) -> dict:
        """The documented serialisable view (docs/tf-function.md); ``optimized``: after the
        passes (pruned, merged, folded, ``fused`` nodes), as replay binds it."""
        if not optimized:
            return graph_dict(self)
        from .passes import optimize

        nodes, alias = optimize(self)
        return graph_dict(self, nodes, alias)


class Operation:
    """TF's ``tf.Operation`` view of a node: name, type, inputs, outputs."""

    def __init__(self, node):
        self._node = node
        self.name, self.type = node.name, node.type
        self.inputs = [_sym_tensor(s) for s in node.inputs]
        self.outputs = [_sym_tensor(s) for s in node.outputs]

    def get_attr(self, name):
        return self._node.attrs[name]

    def __repr__(self):
        return f"<tf.Operation '{self.name}' type={self.type}>"


def _sym_tensor(s):
    from ..tensor import wrap

    return wrap(s, s.dtype, TRACER)


# -- the tracing backend ---------------------------------------------------------------------


class _Tracer:
    """A backend whose primitives record nodes into the innermost graph being traced.

    ``device_type`` is "GPU" so the core skips host-side value checks (gather index
    range, label range) that need data; as on TF's GPUs they are not made in graphs."""

    name = "trace"
    device_type = "GPU"
    dtypes = frozenset(D.ALL)
    fused = frozenset(("softmax", "sparse_softmax_xent"))
    """Recorded as nodes (reductions elementwise fusion cannot build); replay falls back to
    their composition on a backend without them (``_bind_kernel``)."""

    def __init__(self):
        self.stack: list = []

    @property
    def graph(self) -> Graph:
        if not self.stack:
            raise InvalidArgumentError(
                "a symbolic tensor was used outside the tf.function that traced it; return it from the function instead"
            )
        return self.stack[-1]

    def _emit(self, type_, attrs, inputs, shape, dtype, name=None):
        g = self.graph
        return g.add(type_, attrs, [g.local(h) for h in inputs], [(shape, dtype)], name)[0]

    # data movement
    def write(self, buf, shape, dtype):
        return self._emit(
            "constant", {"value": bytes(buf), "shape": tuple(shape), "dtype": dtype}, (), shape, dtype, name="Const"
        )

    def read(self, h):
        """Values only of constant-derived tensors (TF's constant_value): evaluated on the CPU."""
        v = _const_value(h)
        if v is not None:
            return v
        raise OperatorNotAllowedInGraphError(
            f"{user_line()}{h.describe()} is a symbolic tensor of tf.function {h.graph.name!r}: it "
            f"has no value while tracing (nor after, outside the function), so .numpy(), bool(), int(), float() and Python if/while on "
            f"it are not allowed; use tf.cond / tf.while_loop, or tf.print to see values"
        )

    def full(self, shape, value, dtype):
        return self._emit(
            "full", {"shape": tuple(shape), "value": value, "dtype": dtype}, (), shape, dtype, name="Fill"
        )

    def arange(self, start, delta, n, dtype):
        return self._emit(
            "arange", {"start": start, "delta": delta, "n": n, "dtype": dtype}, (), (n,), dtype, name="Range"
        )

    def random(self, kind, shape, dtype, key):
        return self._emit(
            "random",
            {"kind": kind, "shape": tuple(shape), "dtype": dtype, "key": tuple(key)},
            (),
            shape,
            dtype,
            name="random_" + kind,
        )

    # elementwise
    def unary(self, op, x):
        dt = D.bool_ if op in BOOL_OPS else x.dtype
        return self._emit("unary", {"op": op}, (x,), x.shape, dt)

    def binary(self, op, x, y):
        dt = D.bool_ if op in BOOL_OPS else x.dtype
        return self._emit("binary", {"op": op}, (x, y), broadcast_shape(x.shape, y.shape), dt)

    def where(self, c, x, y):
        s = broadcast_shape(broadcast_shape(c.shape, x.shape), y.shape)
        return self._emit("where", {}, (c, x, y), s, x.dtype)

    def cast(self, x, dtype):
        return self._emit("cast", {"dtype": dtype}, (x,), x.shape, dtype)

    def softmax(self, x, axis):
        return self._emit("softmax", {"axis": axis}, (x,), x.shape, x.dtype)

    def sparse_softmax_xent(self, logits, labels):
        g = self.graph
        return tuple(
            g.add(
                "sparse_softmax_xent",
                {},
                [g.local(logits), g.local(labels)],
                [(logits.shape[:-1], logits.dtype), (logits.shape, logits.dtype)],
            )
        )

    # reductions
    def reduce(self, op, x, axes, keepdims):
        s = (
            tuple(1 if i in axes else d for i, d in enumerate(x.shape))
            if keepdims
            else tuple(d for i, d in enumerate(x.shape) if i not in axes)
        )
        return self._emit(
            "reduce", {"op": op, "axes": tuple(axes), "keepdims": bool(keepdims)}, (x,), s, x.dtype, name="reduce_" + op
        )

    def argreduce(self, op, x, axis, dtype):
        s = x.shape[:axis] + x.shape[axis + 1 :]
        return self._emit("argreduce", {"op": op, "axis": axis, "dtype": dtype}, (x,), s, dtype)

    def scan(self, op, x, axis, exclusive, reverse):
        return self._emit(
            "scan",
            {"op": op, "axis": axis, "exclusive": exclusive, "reverse": reverse},
            (x,),
            x.shape,
            x.dtype,
            name="cum" + op,
        )

    def matmul(self, a, b, transpose_a, transpose_b):
        m = a.shape[-1] if transpose_a else a.shape[-2]
        n = b.shape[-2] if transpose_b else b.shape[-1]
        s = broadcast_shape(a.shape[:-2], b.shape[:-2]) + (m, n)
        return self._emit("matmul", {"transpose_a": transpose_a, "transpose_b": transpose_b}, (a, b), s, a.dtype)

    # convolution
    def conv2d(self, x, w, strides, pads, dilations, groups):
        hw = tuple(
            (x.shape[1 + i] + sum(pads[i]) - ((w.shape[i] - 1) * dilations[i] + 1)) // strides[i] + 1 for i in (0, 1)
        )
        return self._emit(
            "conv2d",
            {"strides": tuple(strides), "pads": tuple(pads), "dilations": tuple(dilations), "groups": groups},
            (x, w),
            (x.shape[0],) + hw + (w.shape[3],),
            x.dtype,
        )

    def conv2d_input_grad(self, dy, w, x_shape, strides, pads, dilations, groups):
        return self._emit(
            "conv2d_input_grad",
            {
                "x_shape": tuple(x_shape),
                "strides": tuple(strides),
                "pads": tuple(pads),
                "dilations": tuple(dilations),
                "groups": groups,
            },
            (dy, w),
            x_shape,
            dy.dtype,
        )

    def conv2d_filter_grad(self, x, dy, w_shape, strides, pads, dilations, groups):
        return self._emit(
            "conv2d_filter_grad",
            {
                "w_shape": tuple(w_shape),
                "strides": tuple(strides),
                "pads": tuple(pads),
                "dilations": tuple(dilations),
                "groups": groups,
            },
            (x, dy),
            w_shape,
            x.dtype,
        )

    def pool2d(self, op, x, ksize, strides, pads):
        hw = tuple((x.shape[1 + i] + sum(pads[i]) - ksize[i]) // strides[i] + 1 for i in (0, 1))
        return self._emit(
            "pool2d",
            {"op": op, "ksize": tuple(ksize), "strides": tuple(strides), "pads": tuple(pads)},
            (x,),
            (x.shape[0],) + hw + (x.shape[3],),
            x.dtype,
            name=op + "_pool",
        )

    def pool2d_grad(self, op, x, dy, ksize, strides, pads):
        return self._emit(
            "pool2d_grad",
            {"op": op, "ksize": tuple(ksize), "strides": tuple(strides), "pads": tuple(pads)},
            (x, dy),
            x.shape,
            dy.dtype,
        )

    # indexing and movement
    def gather(self, x, indices, axis):
        s = x.shape[:axis] + indices.shape + x.shape[axis + 1 :]
        return self._emit("gather", {"axis": axis}, (x, indices), s, x.dtype)

    def scatter_add(self, indices, updates, shape, axis):
        return self._emit(
            "scatter_add", {"shape": tuple(shape), "axis": axis}, (indices, updates), shape, updates.dtype
        )

    def reshape(self, x, shape):
        return self._emit("reshape", {"shape": tuple(shape)}, (x,), shape, x.dtype)

    def transpose(self, x, perm):
        return self._emit("transpose", {"perm": tuple(perm)}, (x,), tuple(x.shape[p] for p in perm), x.dtype)

    def slice(self, x, begin, size, strides):
        return self._emit(
            "slice", {"begin": tuple(begin), "size": tuple(size), "strides": tuple(strides)}, (x,), size, x.dtype
        )

    def concat(self, xs, axis):
        xs = list(xs)
        s = list(xs[0].shape)
        s[axis] = sum(x.shape[axis] for x in xs)
        return self._emit("concat", {"axis": axis}, xs, s, xs[0].dtype)

    def pad(self, x, pads, value):
        s = tuple(d + a + b for d, (a, b) in zip(x.shape, pads))
        return self._emit("pad", {"pads": tuple(tuple(p) for p in pads), "value": value}, (x,), s, x.dtype)

    def broadcast_to(self, x, shape):
        return self._emit("broadcast_to", {"shape": tuple(shape)}, (x,), shape, x.dtype)


TRACER = _Tracer()


def user_line() -> str:
    """'file.py:12: ' for the innermost frame outside webtensor (where the user code is)."""
    import os
    import sys

    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if not os.path.abspath(fn).startswith(pkg) and not fn.startswith("<autograph"):
            return f"{fn}:{f.f_lineno}: "
        f = f.f_back
    return ""


_FOLDABLE = CONSTANTS | frozenset(
    _c
    for _c in (
        "unary",
        "binary",
        "where",
        "cast",
        "reduce",
        "argreduce",
        "scan",
        "matmul",
        "gather",
        "reshape",
        "transpose",
        "slice",
        "concat",
        "pad",
        "broadcast_to",
    )
)


def _const_value(h):
    """Bytes of ``h`` when it depends on constants only (else None); small graphs only."""
    from .. import backends

    be = backends.cpu()
    r = evaluate(h, be, limit=4096)
    return None if r is None else be.read(r)


def evaluate(h, be, limit=None, random=False):
    """``h`` computed eagerly on ``be`` when it depends on no input or variable (else None):
    constant folding, and lifting a variable's initial value out of a trace."""
    memo: dict = {}
    kinds = _FOLDABLE | {"random"} if random else _FOLDABLE

    def ev(s, depth=0):
        got = memo.get(id(s))
        if got is not None:
            return got
        n = s.node
        if n.type not in kinds or depth > 200 or (limit is not None and n_elements(s.shape) > limit):
            return None
        if n.type in CONSTANTS or n.type == "random":
            r = (
                _source(n, be)()
                if n.type != "random"
                else be.random(n.attrs["kind"], n.attrs["shape"], n.attrs["dtype"], n.attrs["key"])
            )
        else:
            ins = [ev(i, depth + 1) for i in n.inputs]
            if any(i is None for i in ins):
                return None
            r = _bind(n, be)(*ins)
        memo[id(s)] = r
        return r

    return ev(h)


# how each primitive node is called on a backend: (statics before inputs, statics after)
_CALLS = {
    "unary": (("op",), ()),
    "binary": (("op",), ()),
    "where": ((), ()),
    "cast": ((), ("dtype",)),
    "reduce": (("op",), ("axes", "keepdims")),
    "argreduce": (("op",), ("axis", "dtype")),
    "scan": (("op",), ("axis", "exclusive", "reverse")),
    "matmul": ((), ("transpose_a", "transpose_b")),
    "conv2d": ((), ("strides", "pads", "dilations", "groups")),
    "conv2d_input_grad": ((), ("x_shape", "strides", "pads", "dilations", "groups")),
    "conv2d_filter_grad": ((), ("w_shape", "strides", "pads", "dilations", "groups")),
    "pool2d": (("op",), ("ksize", "strides", "pads")),
    "pool2d_grad": (("op",), ("ksize", "strides", "pads")),
    "gather": ((), ("axis",)),
    "scatter_add": ((), ("shape", "axis")),
    "reshape": ((), ("shape",)),
    "transpose": ((), ("perm",)),
    "slice": ((), ("begin", "size", "strides")),
    "pad": ((), ("pads", "value")),
    "broadcast_to": ((), ("shape",)),
}


def graph_dict(g: Graph, nodes=None, alias=None) -> dict:
    """JSON-ready description of a graph (constants as hex bytes, variables by name);
    ``nodes``/``alias``: the passes' result instead of the traced nodes."""
    ids = {}
    alias = alias or {}

    def ref(s):
        return ids[id(alias.get(id(s), s))]

    out = []
    outer = {id(ph): o.name for o, ph in g.captures}  # a capture names its enclosing graph's tensor
    for n in g.nodes if nodes is None else nodes:
        for s in n.outputs:
            ids[id(s)] = s.name
        attrs = {"outer": outer[id(n.outputs[0])]} if n.type == "placeholder" and id(n.outputs[0]) in outer else {}
        for k, v in n.attrs.items():
            if k in LOCAL_ATTRS:
                continue
            if isinstance(v, D.DType):
                v = v.name
            elif isinstance(v, bytes):
                v = v.hex()
            elif k == "variable":
                v = v.name
            elif k in ("template", "stream", "labels"):
                v = repr(v)
            attrs[k] = v
        out.append(
            {
                "name": n.name,
                "type": n.type,
                "attrs": attrs,
                "inputs": [ref(s) for s in n.inputs],
                "outputs": [{"shape": list(s.shape), "dtype": s.dtype.name} for s in n.outputs],
                "subgraphs": [graph_dict(sg) for sg in n.subgraphs],
            }
        )
    return {
        "version": 1,
        "name": g.name,
        "inputs": [ref(s) for s in g.inputs],
        "nodes": out,
        "outputs": [ids.get(id(alias.get(id(s), s)), s.name) for s in g.outputs],
    }


# -- replay --------------------------------------------------------------------------------------


def live_nodes(g: Graph, host_checks: bool = True) -> list:
    """Pruning: nodes that an output or a side effect depends on, in trace order. Without
    ``host_checks`` (a GPU program) the sparse-label range asserts go too, with the ops that
    only they read: TF checks those labels on CPU only."""
    need = {id(s) for s in g.outputs}
    keep = []
    effects = SIDE_EFFECTS - {"print", "assign_variable", "assert"} if g.pure else SIDE_EFFECTS
    for n in reversed(g.nodes):
        if not host_checks and n.type == "assert" and "label_range" in n.attrs:
            continue
        if n.type in effects or n.type == "placeholder" or any(id(s) in need for s in n.outputs):
            keep.append(n)
            need.update(id(s) for s in n.inputs)
    keep.reverse()
    return keep


def _xfer(h, src, dst, dtype):
    return h if src is dst else dst.write(src.read(h), tuple(h.shape), dtype)


class Program:
    """A graph bound to one backend: the passes' node list (``passes.optimize``) with
    constants materialised, a flat list of calls, and the slots each call frees
    afterwards (intermediates die as soon as possible)."""

    def __init__(self, g: Graph, be, fuse: bool = True):
        from .. import backends
        from .passes import optimize

        self.be = be
        self.nslots = 0
        slot, home = {}, {}
        self.in_slots = []
        self.consts = []
        steps, donors = [], []
        nodes, alias = optimize(g, fuse, host_checks=be.device_type == "CPU", backend=be.name)

        def sid(s):
            return id(alias.get(id(s), s))

        for s in g.inputs:
            slot[id(s)] = self._new()
            home[id(s)] = be if s.dtype in be.dtypes else backends.cpu()  # as trace._placed puts it
            self.in_slots.append(slot[id(s)])
        for n in nodes:
            if n.type == "placeholder":
                continue
            nb = be if _fits(n, be) else backends.cpu()
            ins = tuple(slot[sid(s)] for s in n.inputs)
            movers = [(i, home[sid(s)], s.dtype) for i, s in enumerate(n.inputs) if home[sid(s)] is not nb]
            outs = tuple(self._new() for _ in n.outputs)
            for s, o in zip(n.outputs, outs):
                slot[id(s)], home[id(s)] = o, nb
            if n.type in CONSTANTS:
                self.consts.append((outs[0], _source(n, nb)()))
                continue
            fn = _bind(n, nb)
            if movers:
                fn = _with_moves(fn, movers, nb)
            steps.append([fn, ins, outs, (), None])
            donors.append(_donor(n, nb) if not movers else None)
        self.nodes = nodes
        self.out_slots = [slot[sid(s)] for s in g.outputs]
        self.out_homes = [home[sid(s)] for s in g.outputs]
        last = {}
        for k, st in enumerate(steps):
            for i in st[1]:
                last[i] = k
        keep = set(self.out_slots)
        const_slots = {i for i, _ in self.consts}
        frees = {}
        for i, k in last.items():
            if i not in keep:
                frees.setdefault(k, []).append(i)
        for k, st in enumerate(steps):
            st[3] = tuple(frees.get(k, ()))
            d = donors[k]
            if d is not None:  # an input that dies here may become the output (in place)
                pos, fn = d
                if st[1][pos] in st[3] and st[1].count(st[1][pos]) == 1 and st[1][pos] not in const_slots:
                    st[0], st[4] = fn, pos
                    st[3] = tuple(i for i in st[3] if i != st[1][pos])
        self.steps = [tuple(st) for st in steps]
        self.run = self._generate()

    def _new(self):
        self.nslots += 1
        return self.nslots - 1

    def _generate(self):
        """Straight-line Python for the steps: ``s3 = f0(s1, s2)``, ``del s1`` after last use."""
        ns = {}
        lines = (
            [
                "def run(handles):",
                "    " + ", ".join(f"s{i}" for i in self.in_slots) + (", = handles" if self.in_slots else " = ()"),
            ]
            if self.in_slots
            else ["def run(handles):"]
        )
        for i, h in self.consts:
            ns[f"c{i}"] = h
            lines.append(f"    s{i} = c{i}")
        for k, (fn, ins, outs, frees, donate) in enumerate(self.steps):
            ns[f"f{k}"] = fn
            args = [f"s{i}" for i in ins]
            if donate is not None:  # handed over in a list, so the kernel holds the only reference
                lines.append(f"    d = [s{ins[donate]}]; del s{ins[donate]}")
                args[donate] = "d"
            call = f"f{k}({', '.join(args)})"
            if len(outs) == 1:
                lines.append(f"    s{outs[0]} = {call}")
            elif outs:
                lines.append(f"    {', '.join(f's{o}' for o in outs)}, = {call}")
            else:
                lines.append(f"    {call}")
            if frees:
                lines.append(f"    del {', '.join(f's{i}' for i in frees)}")
        lines.append(f"    return [{', '.join(f's{i}' for i in self.out_slots)}]")
        exec("\n".join(lines), ns)
        return ns["run"]


_NO_CSE = SIDE_EFFECTS | {"random", "read_variable", "placeholder"}


def _cse_key(n, ins):
    """Nodes with equal type, attrs and inputs compute the same value (pure primitives only)."""
    if n.type in _NO_CSE or n.subgraphs:
        return None
    try:
        key = (n.type, tuple(sorted(n.attrs.items())), ins)
        hash(key)
    except TypeError:
        return None
    return key


def _fits(n, be) -> bool:
    """Whether every dtype the node touches is stored by ``be`` (else it runs on the CPU)."""
    dts = be.dtypes
    if not all(s.dtype in dts for s in n.outputs) or not all(s.dtype in dts for s in n.inputs):
        return False
    if n.type == "fused":
        from .passes import program_dtypes

        progs = n.attrs["programs"] if "programs" in n.attrs else (n.attrs["program"],)
        return all(program_dtypes(p) <= dts for p in progs)
    return True


def _donor(n, be):
    """(input position, in-place call) when a fused node's output may overwrite an input
    (read element for element, same dtype) on a backend that takes donations, else None.
    The backend still refuses a handle anything else refers to (a view, a variable)."""
    a = n.attrs
    if n.type != "fused" or "anchor" in a or "programs" in a or "elementwise_into" not in be.fused:
        return None
    program = a["program"]
    if program[-1][0] == "where" or not be.fusable(program):
        return None
    total = prod(program[-1][3])
    for pos, s in enumerate(n.inputs):
        loads = [ins for ins in program if ins[0] == "load" and ins[4][0] == pos]
        if (
            s.dtype is n.outputs[0].dtype
            and loads
            and s.node.type not in ("read_variable", "placeholder")
            and s.node.type not in CONSTANTS
            and all(prod(ins[4][1]) == total and prod(ins[3]) == total for ins in loads)
        ):
            return pos, functools.partial(be.fused_elementwise_into, program, pos)
    return None


def _with_moves(fn, movers, nb):
    def moved(*hs):
        hs = list(hs)
        for i, src, dt in movers:
            hs[i] = _xfer(hs[i], src, nb, dt)
        return fn(*hs)

    return moved


def _source(n, be):
    a = n.attrs
    if n.type == "constant":
        return lambda: be.write(memoryview(a["value"]), a["shape"], a["dtype"])
    if n.type == "full":
        return lambda: be.full(a["shape"], a["value"], a["dtype"])
    return lambda: be.arange(a["start"], a["delta"], a["n"], a["dtype"])


def _bind(n, be):
    a, t = n.attrs, n.type
    static = getattr(be, "bind_static", None)  # a backend's own binding for static shapes/dtypes
    if static is not None and (t != "fused" or _fused_kind(a) in be.fused):
        fn = static(t, a, [(s.shape, s.dtype) for s in n.inputs], [(s.shape, s.dtype) for s in n.outputs])
        if fn is not None:
            return fn
    if t in _CALLS:
        pre, post = _CALLS[t]
        meth = getattr(be, t)
        pre = tuple(a[k] for k in pre)
        post = tuple(a[k] for k in post)
        if not post:
            return functools.partial(meth, *pre) if pre else meth
        if not pre:  # the common arities without per-call argument unpacking
            if len(n.inputs) == 1:
                return lambda x: meth(x, *post)
            if len(n.inputs) == 2 and len(post) == 2:
                p0, p1 = post
                return lambda x, y: meth(x, y, p0, p1)
        if len(pre) == 1 and len(n.inputs) == 1:  # reduce, scan, ...
            p0 = pre[0]
            return lambda x: meth(p0, x, *post)
        return lambda *hs: meth(*pre, *hs, *post)
    if t == "fused":
        if "programs" in a:
            return _bind_fused_many(a["programs"], be)
        if "anchor" in a:
            return _bind_fused_matmul(a["program"], a["anchor"], be)
        return _bind_fused(a["program"], n.outputs[0], be)
    if t in _FUSED_KERNELS:
        return _bind_kernel(n, be)
    if t == "concat":
        axis = a["axis"]
        return lambda *hs: be.concat(list(hs), axis)
    if t == "random":
        return _random_step(a, be)
    if t == "read_variable":
        var, dt = a["variable"], n.outputs[0].dtype
        return lambda: var._h if var._be is be else _xfer(var._h, var._be, be, dt)  # read at each call
    if t == "assign_variable":
        var, dt = a["variable"], n.inputs[0].dtype

        def assign(h):
            var._h = h if var._be is be else _xfer(h, be, var._be, dt)

        return assign
    from . import nodes

    return nodes.bind(n, be)


def _fused_kind(a) -> str:
    """The ``Backend.fused`` capability a fused node's kernel needs."""
    return "elementwise_many" if "programs" in a else "matmul_epilogue" if "anchor" in a else "elementwise"


def _bind_fused(program, out, be):
    """The backend's fused elementwise kernel when it takes this program, else the
    instructions one primitive at a time (graphs stay portable)."""
    from .passes import run_in_sequence

    if "elementwise" in be.fused and be.fusable(program):
        return functools.partial(be.fused_elementwise, program)
    return lambda *hs: run_in_sequence(be, program, hs)


def _bind_fused_many(programs, be):
    """Independent fused programs (one output each) in one kernel where the backend takes
    them together, else each on its own."""
    from .passes import compact

    if "elementwise_many" in be.fused and be.fusable_many(programs):
        return lambda *hs: be.fused_many(programs, *hs)
    parts = []
    for p in programs:
        prog, used = compact(p)
        parts.append((_bind_fused(prog, None, be), used))
    return lambda *hs: tuple(fn(*(hs[k] for k in used)) for fn, used in parts)


def _bind_fused_matmul(program, anchor, be):
    """A matmul with its elementwise epilogue: one kernel where the backend has
    ``fused_matmul`` and takes it, else the matmul, then the program."""
    _, ta, tb = anchor
    if "matmul_epilogue" in be.fused and be.fusable(program):
        fm = be.fused_matmul
        return lambda a, b, *hs: fm(program, ta, tb, a, b, *hs)
    rest = _bind_fused(program, None, be)
    return lambda a, b, *hs: rest(be.matmul(a, b, ta, tb), *hs)


_FUSED_KERNELS = frozenset(("softmax", "sparse_softmax_xent"))
"""Optional backend kernels (``Backend.fused``) the tracer records as nodes; a backend
without one runs the composition below."""


def _bind_kernel(n, be):
    t = n.type
    if t in be.fused:
        if t == "softmax":
            axis = n.attrs["axis"]
            return lambda x: be.softmax(x, axis)
        return be.sparse_softmax_xent
    if t == "softmax":
        axis = n.attrs["axis"]
        return lambda x: _softmax_seq(be, x, axis)
    dt, ldt = n.inputs[0].dtype, n.inputs[1].dtype
    return lambda x, lab: _xent_seq(be, x, lab, dt, ldt)


def _softmax_seq(be, x, axis):
    e = be.unary("exp", be.binary("sub", x, be.reduce("max", x, (axis,), True)))
    return be.binary("div", e, be.reduce("sum", e, (axis,), True))


def _xent_seq(be, x, lab, dt, ldt):
    """(loss, backprop) as ops/nn.py composes them without the fused kernel."""
    ax = len(x.shape) - 1
    m = be.reduce("max", x, (ax,), True)
    m = be.where(be.unary("isfinite", m), m, be.full((), 0, dt))
    lse = be.binary("add", be.unary("log", be.reduce("sum", be.unary("exp", be.binary("sub", x, m)), (ax,), True)), m)
    c = x.shape[-1]
    hot = be.cast(be.binary("equal", be.reshape(lab, tuple(lab.shape) + (1,)), be.arange(0, 1, c, ldt)), dt)
    picked = be.reduce("sum", be.binary("mul", x, hot), (ax,), True)
    loss = be.reshape(be.binary("sub", lse, picked), tuple(x.shape[:-1]))
    return loss, be.binary("sub", be.unary("exp", be.binary("sub", x, lse)), hot)


def _random_step(a, be):
    """A fresh key per call (TF's stateful random ops give new numbers on every call)."""
    k0, k1 = a["key"]
    count = [0]

    def draw():
        c = count[0]
        count[0] = c + 1
        return be.random(a["kind"], a["shape"], a["dtype"], (k0, (k1 + 0x9E3779B9 * c) & 0xFFFFFFFF))

    return draw


def read_bool(be, h, dtype) -> bool:
    if dtype is D.bool_ and prod(h.shape) == 1:  # the usual predicate: its first byte (0 or 1)
        return bool(be.read(h)[0])
    from .. import host

    v = host.to_host(be.read(h), tuple(h.shape), dtype)
    v = v.tolist() if hasattr(v, "tolist") else v
    while isinstance(v, list):
        if len(v) != 1:
            raise InvalidArgumentError(f"a loop or cond predicate must be a scalar, got shape {tuple(h.shape)}")
        v = v[0]
    return bool(v)


def n_elements(shape) -> int:
    return prod(shape)

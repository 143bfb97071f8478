"""Graph passes run before replay (docs/tf-function.md, "Passes and fusion").

``optimize(g)`` gives the node list a ``Program`` binds: pruned, common subexpressions
merged, constant-only values folded, and chains of elementwise nodes fused into one
``fused`` node holding a small op program. The traced ``Graph`` itself is not changed
(``get_operations`` shows what the user's code did); merged tensors are recorded in an
alias map instead of rewriting node inputs, because cond/while nodes find their
captures by identity.

A fused program is a tuple of instructions ``(kind, attr, dtype, shape, args)``; the
value of instruction j is register j, a flat array of the group's ``n`` elements:
- ``("load", None, dtype, view, (k, as_shape))``: input k read as ``as_shape`` (a free
  reshape) and broadcast to ``view`` (numpy's rules; ``prod(view) == n``);
- ``("unary", op, ...)``, ``("binary", op, ...)``, ``("where", None, ...)``,
  ``("cast", dtype, ...)`` with ``args`` the operand registers; ``shape`` is the node's
  output shape. The last instruction is the result.
A fused node may also carry ``anchor`` (a matmul whose product is input 0: a GEMM
epilogue) or ``programs`` (independent programs, one output each, in one kernel).
"""

from __future__ import annotations

import collections

from .. import dtypes as D
from ..shape import prod
from .graph import _FOLDABLE, CONSTANTS, SIDE_EFFECTS, Node, _bind, _cse_key, _source

ELEMENTWISE = frozenset(("unary", "binary", "where", "cast"))
FOLD_LIMIT = 4096
"""Largest folded constant (elements): folding must not grow the graph's constants much."""


BROADCAST_LOAD_MAX_ELEMENTS = {"wasm": 1024}
"""By backend name (absent: no limit): the most elements a fused program (elementwise,
epilogue or horizontal) may have when one of its loads broadcasts a non-scalar operand
(a bias row over a batch). Measured with ``benchmarks/fusion_threshold.py`` (docs/
tf-function.md, "Passes and fusion"): wasm's fused kernel indexes such a load per element,
so ``relu(x + b)`` fused costs 1.4x the two unfused kernels at 1024 elements and 5x at
16384, while a matmul epilogue still breaks even at 1024; scalar and same-shape loads pay
at every size. numpy has no limit: fusion pays at every size there."""


def optimize(g, fuse: bool = True, host_checks: bool = True, backend: str | None = None) -> tuple:
    """(nodes, alias): the nodes to bind in order, and merged tensors (id -> kept Sym);
    ``backend``: the name of the backend they are bound on (its fusion limit applies)."""
    from .graph import live_nodes

    limit = BROADCAST_LOAD_MAX_ELEMENTS.get(backend)
    alias: dict = {}
    nodes = cse(live_nodes(g, host_checks), alias)
    nodes = fold_constants(nodes, alias)
    nodes = prune(nodes, g, alias)
    if fuse:
        nodes = fuse_elementwise(nodes, g.outputs, alias, limit)
        nodes = fuse_matmul_epilogues(nodes, g.outputs, alias, limit)
        nodes = fuse_horizontal(nodes, alias, limit=limit)
    return nodes, alias


def too_big(program, limit) -> bool:
    """Whether ``program`` has more than ``limit`` elements and a load broadcasting a
    non-scalar (``BROADCAST_LOAD_MAX_ELEMENTS``)."""
    if limit is None:
        return False
    n = prod(program[-1][3])
    return n > limit and any(ins[0] == "load" and prod(ins[4][1]) not in (1, n) for ins in program)


def _res(alias, s):
    return alias.get(id(s), s)


def cse(nodes: list, alias: dict) -> list:
    """Nodes with equal type, attrs and (merged) inputs compute the same value: keep the
    first (never random, variable reads or side effects; see ``graph._cse_key``)."""
    seen, out = {}, []
    for n in nodes:
        key = _cse_key(n, tuple(id(_res(alias, s)) for s in n.inputs))
        if key is not None:
            hit = seen.get(key)
            if hit is not None:
                for s, h in zip(n.outputs, hit.outputs):
                    alias[id(s)] = h
                continue
            seen[key] = n
        out.append(n)
    return out


def fold_constants(nodes: list, alias: dict, limit: int = FOLD_LIMIT) -> list:
    """A pure node whose inputs are all constants becomes a ``constant`` node, computed
    once on the CPU backend (as TF's grappler folds on the host)."""
    from .. import backends

    be, vals, out = None, {}, []
    for n in nodes:
        ins = [_res(alias, s) for s in n.inputs]
        if n.type in CONSTANTS:
            vals[id(n.outputs[0])] = n
        elif (
            n.type in _FOLDABLE
            and not n.subgraphs
            and len(n.outputs) == 1
            and ins
            and all(id(s) in vals for s in ins)
            and prod(n.outputs[0].shape) <= limit
        ):
            be = be or backends.cpu()
            hs = [_value(vals, s, be) for s in ins]
            h = _bind(n, be)(*hs)
            o = n.outputs[0]
            folded = Node(
                n.name, "constant", {"value": bytes(be.read(h)), "shape": tuple(o.shape), "dtype": o.dtype}, ()
            )
            folded.outputs = n.outputs
            vals[id(o)] = h
            n = folded
        out.append(n)
    return out


def _value(vals, s, be):
    v = vals[id(s)]
    if isinstance(v, Node):  # a source node: made on the CPU backend on first use
        v = vals[id(s)] = _source(v, be)()
    return v


def prune(nodes: list, g, alias: dict) -> list:
    """Drop nodes nothing needs any more (folding leaves constants unused)."""
    need = {id(_res(alias, s)) for s in g.outputs}
    effects = SIDE_EFFECTS - {"print", "assign_variable", "assert"} if g.pure else SIDE_EFFECTS
    keep = []
    for n in reversed(nodes):
        if n.type in effects or n.type == "placeholder" or any(id(s) in need for s in n.outputs):
            keep.append(n)
            need.update(id(_res(alias, s)) for s in n.inputs)
    keep.reverse()
    return keep


def fuse_elementwise(nodes: list, outputs: list, alias: dict, limit: int | None = None) -> list:
    """Maximal trees of unary/binary/where/cast nodes (with the reshapes and broadcasts
    between them) whose inner values have one consumer become one ``fused`` node, unless
    ``too_big(program, limit)``."""
    producer = {id(s): n for n in nodes for s in n.outputs}
    uses = _uses(nodes, outputs, alias)
    taken: set = set()
    fused_at: dict = {}
    for n in reversed(nodes):
        if id(n) in taken or n.type not in ELEMENTWISE:
            continue
        f = _Group(n, producer, uses, alias, taken).build(limit)
        if f is not None:
            fused_at[id(n)] = f
    out = []
    for n in nodes:
        if id(n) in fused_at:
            out.append(fused_at[id(n)])
        elif id(n) not in taken:
            out.append(n)
    return out


def _uses(nodes, outputs, alias) -> collections.Counter:
    """Readers of each tensor: distinct consuming nodes, plus one for a graph output."""
    uses = collections.Counter(i for n in nodes for i in {id(_res(alias, s)) for s in n.inputs})
    uses.update(id(_res(alias, s)) for s in outputs)
    return uses


class _Group:
    """One fusion group grown from its root (the last node in trace order)."""

    def __init__(self, root, producer, uses, alias, taken):
        self.root, self.producer, self.uses, self.alias, self.taken = root, producer, uses, alias, taken
        self.n = prod(root.outputs[0].shape)
        self.members: list = []
        self.program: list = []
        self.inputs: list = []
        self.loads: dict = {}
        self.done: dict = {}  # id(inner tensor) -> its register (a node may read one twice)

    def _inner(self, s):
        """The producer of s when it can join the group (one consumer, n elements)."""
        p = self.producer.get(id(s))
        if p is None or id(p) in self.taken or self.uses[id(s)] != 1 or len(p.outputs) != 1 or prod(s.shape) != self.n:
            return None
        return p if p.type in ELEMENTWISE or p.type in ("reshape", "broadcast_to") else None

    def build(self, limit=None):
        r = self.root
        self.taken.add(id(r))
        self.members.append(r)
        self._compute(r)
        if len(self.members) < 2 or too_big(self.program, limit):
            for m in self.members:  # they stay the nodes they are
                self.taken.discard(id(m))
            return None
        o = r.outputs[0]
        node = Node(r.name, "fused", {"program": tuple(self.program)}, self.inputs)
        node.outputs = [o]
        return node

    def _compute(self, n) -> int:
        shape = tuple(n.outputs[0].shape)
        args = tuple(self._operand(s, shape) for s in n.inputs)
        attr = (
            n.attrs.get("op")
            if n.type in ("unary", "binary")
            else (n.attrs["dtype"].name if n.type == "cast" else None)
        )
        self.program.append((n.type, attr, n.outputs[0].dtype.name, shape, args))
        return len(self.program) - 1

    def _operand(self, s, view, as_shape=None) -> int:
        s = _res(self.alias, s)
        if id(s) in self.done:
            return self.done[id(s)]
        r = self.producer.get(id(s))
        if (
            r is not None
            and r.type == "reshape"
            and id(r) not in self.taken
            and self.uses[id(s)] == 1
            and prod(s.shape) != self.n
        ):  # a reshaped operand that broadcasts: a load of its input
            self.taken.add(id(r))
            self.members.append(r)
            reg = self.done[id(s)] = self._load(_res(self.alias, r.inputs[0]), as_shape or tuple(s.shape), view)
            return reg
        p = self._inner(s)
        if p is not None:
            self.taken.add(id(p))
            self.members.append(p)
            if p.type in ELEMENTWISE:
                reg = self._compute(p)
            elif p.type == "reshape":
                reg = self._operand(p.inputs[0], view, tuple(p.outputs[0].shape))
            else:
                src = _res(self.alias, p.inputs[0])  # broadcast_to: a broadcasting load of its input
                reg = self._load(src, tuple(src.shape), tuple(p.outputs[0].shape))
            self.done[id(s)] = reg
            return reg
        return self._load(s, as_shape or tuple(s.shape), view)

    def _load(self, s, as_shape, view) -> int:
        k = next((i for i, t in enumerate(self.inputs) if t is s), None)
        if k is None:
            self.inputs.append(s)
            k = len(self.inputs) - 1
        key = (k, as_shape, view)
        reg = self.loads.get(key)
        if reg is None:
            self.program.append(("load", None, s.dtype.name, view, (k, as_shape)))
            reg = self.loads[key] = len(self.program) - 1
        return reg


def fuse_matmul_epilogues(nodes: list, outputs: list, alias: dict, limit: int | None = None) -> list:
    """A matmul whose only consumer is an elementwise node (or fused program) reading it
    element for element becomes that program's first input: one ``fused`` node with
    ``attrs.anchor = ["matmul", transpose_a, transpose_b]`` whose inputs are the matmul's
    two operands and then the program's other inputs (the GEMM's epilogue), unless
    ``too_big(program, limit)``."""
    producer = {id(s): n for n in nodes for s in n.outputs}
    uses = _uses(nodes, outputs, alias)
    dropped, out = set(), []
    replaced = {}
    for n in nodes:
        if n.type in ELEMENTWISE or (n.type == "fused" and "anchor" not in n.attrs):
            got = _anchor(n, producer, uses, alias, limit)
            if got is not None:
                dropped.add(id(got[1]))
                replaced[id(n)] = got[0]
    for n in nodes:
        if id(n) in dropped:
            continue
        out.append(replaced.get(id(n), n))
    return out


def _as_program(n, alias) -> tuple:
    """A single elementwise node as a one-op program over its inputs."""
    g = _Group(n, {}, collections.Counter(), alias, set())
    g._compute(n)
    return tuple(g.program), g.inputs


def _anchor(n, producer, uses, alias, limit=None):
    if n.type == "fused":
        program, inputs = n.attrs["program"], [_res(alias, s) for s in n.inputs]
    else:
        program, inputs = _as_program(n, alias)
    if too_big(program, limit):
        return None
    total = prod(program[-1][3])
    for k, s in enumerate(inputs):
        m = producer.get(id(s))
        if (
            m is None
            or m.type != "matmul"
            or uses[id(s)] != 1
            or prod(s.shape) != total
            or m.outputs[0].dtype.name != program[-1][2]
        ):
            continue
        if any(ins[0] == "load" and ins[4][0] == k and prod(ins[4][1]) != total for ins in program):
            continue
        order = [k] + [i for i in range(len(inputs)) if i != k]  # the matmul's result is input 0
        new_k = {old: new for new, old in enumerate(order)}
        prog = tuple(
            (kind, attr, dt, shape, (new_k[args[0]], args[1]) if kind == "load" else args)
            for kind, attr, dt, shape, args in program
        )
        a = m.attrs
        f = Node(
            n.name,
            "fused",
            {"program": prog, "anchor": ("matmul", a["transpose_a"], a["transpose_b"])},
            list(m.inputs) + [inputs[i] for i in order[1:]],
        )
        f.outputs = n.outputs
        return f, m
    return None


def fuse_horizontal(nodes: list, alias: dict, max_inputs: int = 12, limit: int | None = None) -> list:
    """Independent elementwise nodes (fused programs without an anchor, or single ops)
    are deferred until something reads one of them, then emitted as one ``fused`` node
    with ``attrs.programs`` (one program per output; loads index the node's inputs): one
    kernel for e.g. a loss scale and the logits gradient, or the bias updates at the end
    of a train step. A program ``too_big(program, limit)`` runs on its own."""
    out, bucket, made, after = [], [], {}, []

    def flush():
        if len(bucket) == 1:
            out.append(bucket[0])
        elif bucket:
            out.append(_merge(bucket, alias))
        out.extend(after)
        bucket.clear()
        made.clear()
        after.clear()

    for n in nodes:
        ins = {id(_res(alias, s)) for s in n.inputs}
        if n.type == "assign_variable" and ins & made.keys() and not n.subgraphs:
            after.append(n)  # waits with its value; flushed before the variable is read again
            continue
        if after and (
            n.subgraphs
            or n.type not in _PLAIN
            or (
                n.type in ("read_variable", "assign_variable")
                and any(a.attrs["variable"] is n.attrs["variable"] for a in after)
            )
        ):
            flush()
        if ins & made.keys():
            flush()
        if _horizontal(n) and not (
            limit is not None and too_big(n.attrs["program"] if n.type == "fused" else _as_program(n, alias)[0], limit)
        ):
            ext = {id(_res(alias, s)) for b in bucket + [n] for s in b.inputs}
            if len(ext) > max_inputs:
                flush()
            bucket.append(n)
            made.update((id(s), n) for s in n.outputs)
        else:
            out.append(n)
    flush()
    return out


_PLAIN = frozenset(
    (
        "read_variable",
        "assign_variable",
        "constant",
        "full",
        "arange",
        "placeholder",
        "fused",
        "matmul",
        "reduce",
        "argreduce",
        "scan",
        "unary",
        "binary",
        "where",
        "cast",
        "reshape",
        "transpose",
        "slice",
        "concat",
        "pad",
        "broadcast_to",
        "gather",
        "scatter_add",
        "softmax",
        "sparse_softmax_xent",
        "conv2d",
        "conv2d_input_grad",
        "conv2d_filter_grad",
        "pool2d",
        "pool2d_grad",
        "random",
    )
)
"""Nodes that touch no variable but through their inputs: assignments may wait past them."""


def _horizontal(n) -> bool:
    return (
        n.type in ELEMENTWISE or (n.type == "fused" and "anchor" not in n.attrs and "programs" not in n.attrs)
    ) and len(n.outputs) == 1


def _merge(bucket, alias):
    inputs, index, programs = [], {}, []
    for n in bucket:
        if n.type == "fused":
            prog, ins = n.attrs["program"], [_res(alias, s) for s in n.inputs]
        else:
            prog, ins = _as_program(n, alias)
        remap = {}
        for k, s in enumerate(ins):
            if id(s) not in index:
                index[id(s)] = len(inputs)
                inputs.append(s)
            remap[k] = index[id(s)]
        programs.append(
            tuple(
                (kind, attr, dt, shape, (remap[args[0]], args[1]) if kind == "load" else args)
                for kind, attr, dt, shape, args in prog
            )
        )
    f = Node(bucket[-1].name, "fused", {"programs": tuple(programs)}, inputs)
    f.outputs = [n.outputs[0] for n in bucket]
    return f


def compact(program) -> tuple:
    """(program, inputs) reading only the inputs its loads use (for one program of a
    ``programs`` node run on its own)."""
    used = sorted({ins[4][0] for ins in program if ins[0] == "load"})
    new = {k: i for i, k in enumerate(used)}
    prog = tuple(
        (kind, attr, dt, shape, (new[args[0]], args[1]) if kind == "load" else args)
        for kind, attr, dt, shape, args in program
    )
    return prog, used


def program_dtypes(program) -> set:
    return {D.as_dtype(ins[2]) for ins in program}


def run_in_sequence(be, program, hs):
    """The fallback: the program's instructions as ordinary primitive calls on ``be``
    (for a backend without a fused kernel, or dtypes its kernel does not take)."""
    regs = []
    for kind, attr, _dt, shape, args in program:
        if kind == "load":
            k, as_shape = args
            h = hs[k]
            if tuple(h.shape) != as_shape:
                h = be.reshape(h, as_shape)
            if prod(as_shape) != prod(shape):
                h = be.broadcast_to(h, shape)
            regs.append(h)
            continue
        ops = [
            regs[a]
            if tuple(regs[a].shape) == shape or prod(regs[a].shape) != prod(shape)
            else be.reshape(regs[a], shape)
            for a in args
        ]
        if kind == "unary":
            regs.append(be.unary(attr, ops[0]))
        elif kind == "binary":
            regs.append(be.binary(attr, ops[0], ops[1]))
        elif kind == "where":
            regs.append(be.where(ops[0], ops[1], ops[2]))
        else:
            regs.append(be.cast(ops[0], D.as_dtype(attr)))
    return regs[-1]

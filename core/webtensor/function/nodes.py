"""Binding of the structured nodes (print, cond, while, py_function) to a backend for replay."""

from __future__ import annotations

from .graph import Program, read_bool


def bind(n, be):
    if n.type == "print":
        from ..control_flow import emit_print

        a = n.attrs
        dts = [s.dtype for s in n.inputs]

        def prt(*hs):
            emit_print(a, [(be, h, dt) for h, dt in zip(hs, dts)])

        return prt
    if n.type == "assert":
        return _bind_assert(n, be)
    if n.type == "cond":
        return _bind_cond(n, be)
    if n.type == "while":
        return _bind_while(n, be)
    if n.type == "py_function":
        from .py_function import bind as bind_py

        return bind_py(n, be)
    raise ValueError(f"graph node {n.name!r}: unknown node type {n.type!r}")


def _positions(sub, node_inputs, first):
    """For each captured placeholder of ``sub``, its position among the node's inputs."""
    ids = [id(s) for s in node_inputs]
    return [ids.index(id(outer), first) for outer, _ in sub.captures]


def _single(vals):
    return vals[0] if len(vals) == 1 else vals


def _bind_cond(n, be):
    tg, fg = n.subgraphs
    progs = (Program(tg, be), Program(fg, be))
    maps = (_positions(tg, n.inputs, 1), _positions(fg, n.inputs, 1))
    pdt = n.inputs[0].dtype

    def run(pred, *rest):
        k = 0 if read_bool(be, pred, pdt) else 1
        hs = (pred,) + rest
        return _single(progs[k].run([hs[i] for i in maps[k]]))

    return run


def _bind_while(n, be):
    cg, bg = n.subgraphs
    nv = n.attrs["n_vars"]
    maxit = n.attrs.get("maximum_iterations")
    cp, bp = Program(cg, be), Program(bg, be)
    cmap, bmap = _positions(cg, n.inputs, nv), _positions(bg, n.inputs, nv)
    cdt = cg.outputs[0].dtype

    def run(*hs):
        vals = list(hs[:nv])
        it = 0
        while maxit is None or it < maxit:
            (c,) = cp.run(vals + [hs[i] for i in cmap])
            if not read_bool(be, c, cdt):
                break
            vals = bp.run(vals + [hs[i] for i in bmap])
            it += 1
        return _single(vals)

    return run


def _bind_assert(n, be):
    from ..debugging import fail_message
    from ..errors import InvalidArgumentError

    a = n.attrs
    dts = [s.dtype for s in n.inputs]

    def check(c, *hs):
        if not read_bool(be, c, dts[0]):
            raise InvalidArgumentError(fail_message(a, [(be, h, dt) for h, dt in zip(hs, dts[1:])]))

    return check

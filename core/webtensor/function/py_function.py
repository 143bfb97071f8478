"""``tf.py_function`` and ``tf.numpy_function``: Python called from a graph.

Eagerly the function is simply called (ops inside it are recorded by an outer tape, so
it is differentiable eagerly). Inside a trace it becomes a ``py_function`` node that calls
back into Python at every replay. Graphs have static shapes, so each output's shape is
known at trace time: from ``Tout`` when it holds fully defined ``tf.TensorSpec``s, or else
from a first run of the function during the trace, on the input values of the call being
traced. A replay whose result has another shape or dtype is an error naming the function.
"""

from __future__ import annotations

from .. import dtypes as D
from .. import placement
from .. import tensor as T
from ..errors import InvalidArgumentError
from ..spec import TensorSpec
from .graph import TRACER


class PyFunc(str):
    """The node's ``func`` attribute: serialises as the function's name (a graph that holds
    Python cannot be exported), holds the callable, and is unhashable so that two calls
    are never merged as a common subexpression (the function may have side effects)."""

    __hash__ = None

    def __new__(cls, func, numpy: bool):
        s = super().__new__(cls, getattr(func, "__name__", type(func).__name__))
        s.func, s.numpy = func, numpy
        return s


def py_function(func, inp, Tout, name=None):
    """``tf.py_function(func, inp, Tout)``: ``func`` gets tensors and returns tensors (or
    values convertible to ``Tout``'s dtypes)."""
    return _call(func, inp, Tout, numpy=False, op="py_function")


def numpy_function(func, inp, Tout, stateful=True, name=None):
    """``tf.numpy_function(func, inp, Tout)``: ``func`` gets and returns numpy arrays."""
    return _call(func, inp, Tout, numpy=True, op="numpy_function")


def _specs(Tout, op):
    """(list of (dtype, shape or None), whether the result is a list)."""
    many = isinstance(Tout, (list, tuple))
    out = []
    for t in Tout if many else [Tout]:
        if isinstance(t, TensorSpec):
            dims = t.shape.as_list() if t.shape.rank is not None else None
            out.append((t.dtype, tuple(dims) if dims is not None and None not in dims else None))
        else:
            try:
                out.append((D.as_dtype(t), None))
            except (TypeError, ValueError, KeyError):
                raise TypeError(
                    f"tf.{op}: Tout must be a dtype, a tf.TensorSpec or a list of them, got {t!r}"
                ) from None
    return out, many


def _call(func, inp, Tout, numpy, op):
    if not callable(func):
        raise TypeError(f"tf.{op}: func must be callable, got {func!r}")
    specs, many = _specs(Tout, op)
    inp = list(inp) if isinstance(inp, (list, tuple)) else [inp]
    xs = [v.value() if isinstance(v, T.Variable) else T.convert(v) for v in inp]
    if TRACER.stack:
        outs = _traced(func, xs, specs, many, numpy, op)
    else:
        outs = _results(func, _invoke(func, xs, numpy), specs, many, op, None)
    return list(outs) if many else outs[0]


def _invoke(func, xs, numpy):
    return func(*[x.numpy() for x in xs]) if numpy else func(*xs)


def _unpack(value, n, many):
    """``func``'s return value as a list of outputs: one value unless ``Tout`` was a list."""
    if not many:
        return [value]
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _results(func, value, specs, many, op, shapes, be=None):
    """``func``'s return value as tensors of ``specs``' dtypes (on ``be``), checked against the
    traced ``shapes`` when given."""
    name = getattr(func, "__name__", "func")
    vals = _unpack(value, len(specs), many)
    if len(vals) != len(specs):
        raise InvalidArgumentError(
            f"tf.{op}({name}): the function returned {len(vals)} values but Tout lists {len(specs)}"
        )
    out = []
    for i, (v, (dt, _)) in enumerate(zip(vals, specs)):
        if isinstance(v, T.Variable):
            v = v.value()
        if isinstance(v, T.Tensor) and v.dtype is not dt:
            raise InvalidArgumentError(f"tf.{op}({name}): output {i} has dtype {v.dtype.name} but Tout says {dt.name}")
        home = None if be is None else placement.for_dtype(be, dt)  # strings stay on the host
        t = v if isinstance(v, T.Tensor) else T.convert(v, dt, home)
        if home is not None and t._be is not home:
            t = T.to_backend(t, home)
        if shapes is not None and tuple(t._h.shape) != tuple(shapes[i]):
            raise InvalidArgumentError(
                f"tf.{op}({name}): output {i} has shape {tuple(t._h.shape)} but the "
                f"graph was traced with shape {tuple(shapes[i])} (graphs have static "
                f"shapes: a function whose output shape varies needs one trace per "
                f"shape)"
            )
        out.append(t)
    return out


def _traced(func, xs, specs, many, numpy, op):
    g = TRACER.graph
    syms = [g.local(T.convert(x, be=TRACER)._h) for x in xs]
    shapes = [s for _, s in specs]
    if any(s is None for s in shapes):
        shapes = _first_run(func, xs, syms, specs, many, numpy, op, shapes)
    attrs = {"func": PyFunc(func, numpy), "op": op, "Tout": tuple(dt.name for dt, _ in specs), "many": many}
    outs = g.add(
        "py_function",
        attrs,
        syms,
        [(s, dt) for s, (dt, _) in zip(shapes, specs)],
        name="EagerPyFunc" if not numpy else "PyFunc",
    )
    return [T.wrap(s, dt, TRACER) for s, (dt, _) in zip(outs, specs)]


def _first_run(func, xs, syms, specs, many, numpy, op, shapes):
    """Output shapes from running ``func`` now on the traced call's input values."""
    from .. import backends
    from .trace import init_scope

    be = backends.cpu()
    try:
        hs = _evaluate(syms, be)
    except _Unknown as e:
        raise TypeError(
            f"tf.{op}({getattr(func, '__name__', 'func')}): the output shapes are needed while "
            f"tracing and the inputs cannot be computed here ({e}); pass Tout as "
            f"tf.TensorSpec(shape, dtype) for each output"
        ) from None
    with init_scope():
        vals = [T.wrap(h, x.dtype, placement.for_dtype(be, x.dtype)) for h, x in zip(hs, xs)]
        got = _results(func, _invoke(func, vals, numpy), specs, many, op, None, be)
    return [tuple(t._h.shape) if s is None else s for t, s in zip(got, shapes)]


class _Unknown(Exception):
    pass


def _evaluate(syms, be):
    """Values of traced handles from the arguments of the call being traced (``Graph.examples``)
    and the variables' current values; control-flow nodes and loop variables are not evaluated."""
    from . import graph as G

    memo: dict = {}

    def ev(s):
        got = memo.get(id(s))
        if got is not None:
            return got
        n, g = s.node, s.graph
        if n.type == "placeholder":
            ex = getattr(g, "examples", {}).get(id(s))
            if ex is not None:
                home = placement.for_dtype(be, ex.dtype)
                r = ex._h if ex._be is home else T.to_backend(ex, home)._h
            else:
                outer = next((o for o, ph in g.captures if ph is s), None)
                if outer is None:
                    raise _Unknown(f"{s.name} is a loop or branch variable")
                r = ev(outer)
        elif n.type == "read_variable":
            var = n.attrs["variable"]
            r = G._xfer(var._h, var._be, be, s.dtype)
        elif n.type in G.CONSTANTS:
            r = G._source(n, be)()
        elif n.type == "random":
            a = n.attrs
            r = be.random(a["kind"], a["shape"], a["dtype"], a["key"])
        elif n.type == "py_function":
            a = n.attrs
            vals = [T.wrap(ev(i), i.dtype, placement.for_dtype(be, i.dtype)) for i in n.inputs]
            outs = _results(
                a["func"].func,
                _invoke(a["func"].func, vals, a["func"].numpy),
                [(D.as_dtype(dt), None) for dt in a["Tout"]],
                a["many"],
                a["op"],
                None,
                be,
            )
            r = tuple(t._h for t in outs)[s.index]
        elif n.subgraphs or n.type in G.SIDE_EFFECTS:
            raise _Unknown(f"{s.name} comes from a {n.type} node")
        else:
            r = G._bind(n, be)(*[ev(i) for i in n.inputs])
            if len(n.outputs) > 1:
                r = r[s.index]
        memo[id(s)] = r
        return r

    return [ev(s) for s in syms]


def bind(n, be):
    """Replay of a ``py_function`` node on ``be`` (called from ``nodes.bind``)."""
    a = n.attrs
    pf = a["func"]
    dts = [s.dtype for s in n.inputs]
    specs = [(D.as_dtype(dt), None) for dt in a["Tout"]]
    shapes = [s.shape for s in n.outputs]

    def run(*hs):
        vals = [T.wrap(h, dt, placement.for_dtype(be, dt)) for h, dt in zip(hs, dts)]
        res = _results(pf.func, _invoke(pf.func, vals, pf.numpy), specs, a["many"], a["op"], shapes, be)
        outs = [t._h for t in res]
        if not outs:
            return None
        return outs[0] if len(outs) == 1 else tuple(outs)

    return run

"""Control flow, eager and in graphs: cond, case, switch_case, while_loop, map_fn, scan,
foldl/foldr, TensorArray and tf.print.

Eagerly these run Python on concrete values. While tracing, ``cond`` and
``while_loop`` record ``cond``/``while`` nodes holding subgraphs; ``map_fn``, ``scan``
and the folds unroll over the static leading dimension (shapes are static in graphs).
"""

from __future__ import annotations

import sys

from . import autodiff, nest
from . import dtypes as D
from . import tensor as T
from .errors import InvalidArgumentError
from .function.graph import TRACER, Graph, read_bool
from .ops import array as A
from .ops import math as M


def _tracing() -> bool:
    return bool(TRACER.stack)


def _is_symbolic(x) -> bool:
    return isinstance(x, T.Tensor) and x._be is TRACER


def _concrete_bool(pred, op) -> bool:
    if isinstance(pred, (T.Tensor, T.Variable)):
        t = pred.value() if isinstance(pred, T.Variable) else pred
        return read_bool(t._be, t._h, t._dtype)
    return bool(pred)


# -- subgraphs -------------------------------------------------------------------------------


def _trace_sub(fn, args, name):
    """Trace ``fn(*args_as_placeholders)`` into a child graph of the current one.

    Returns (graph, output structure, flat output tensors' (shape, dtype))."""
    parent = TRACER.graph
    g = Graph(f"{parent.name}/{name}", parent)
    TRACER.stack.append(g)
    try:
        with autodiff.no_record():
            phs = [
                T.wrap(g.placeholder(a._h.shape, a._dtype, name=f"arg{i}"), a._dtype, TRACER)
                for i, a in enumerate(args)
            ]
            out = fn(*phs)
            leaves = [] if out is None else nest.flatten(out)  # None: a branch run for its side effects
            flat = [T.convert(v, be=TRACER, op=name) if v is not None else None for v in leaves]
            if any(v is None for v in flat):
                raise TypeError(f"{name}: a branch or loop body returned None inside a structure; return tensors")
            g.outputs = [g.local(v._h) for v in flat]
    finally:
        TRACER.stack.pop()
    g.inputs = g.inputs + [ph for _, ph in g.captures]
    return g, out, [(tuple(v._h.shape), v._dtype) for v in flat]


def _union(*subs):
    seen, out = set(), []
    for sg in subs:
        for outer, _ in sg.captures:
            if id(outer) not in seen:
                seen.add(id(outer))
                out.append(outer)
    return out


def _structure_of(x):
    return nest.map_structure(lambda v: 0, x) if nest.is_nested(x) else 0


# -- cond ---------------------------------------------------------------------------------------


def cond(pred, true_fn=None, false_fn=None, name=None):
    """``tf.cond``: one branch runs (eagerly, or as a graph ``cond`` node)."""
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("cond: true_fn and false_fn must be callable")
    if not _tracing() or not _is_symbolic(_as_tensor(pred)):
        return true_fn() if _concrete_bool(pred, "cond") else false_fn()
    p = _as_tensor(pred)
    if p._dtype is not D.bool_ or p._h.shape not in ((), (1,)):
        raise TypeError(f"cond: pred must be a scalar bool tensor, got shape {tuple(p._h.shape)} dtype {p._dtype.name}")
    if autodiff.tapes:
        return _select_cond(p, true_fn, false_fn)
    tg, tout, tspec = _trace_sub(lambda: true_fn(), (), "true_fn")
    fg, fout, fspec = _trace_sub(lambda: false_fn(), (), "false_fn")
    _check_branches(tout, fout, tspec, fspec, "cond")
    caps = _union(tg, fg)
    g = TRACER.graph
    outs = g.add("cond", {}, [g.local(p._h)] + caps, tspec, name="cond", subgraphs=(tg, fg))
    flat = [T.wrap(s, s.dtype, TRACER) for s in outs]
    return nest.pack_sequence_as(tout, flat) if nest.is_nested(tout) else (flat[0] if flat else None)


def _as_tensor(x):
    if isinstance(x, T.Variable):
        return x.value()
    return x if isinstance(x, T.Tensor) else T.convert(x)


def _check_branches(a, b, sa, sb, op):
    try:
        nest.assert_same_structure(a, b)
        same = True
    except (TypeError, ValueError):
        same = False
    if not same or len(sa) != len(sb):
        raise TypeError(
            f"{op}: true_fn and false_fn arguments to tf.cond must have the same number, "
            f"type, and overall structure of return values; true_fn returned {a!r:.80}, "
            f"false_fn returned {b!r:.80}"
        )
    for i, ((s1, d1), (s2, d2)) in enumerate(zip(sa, sb)):
        if d1 is not d2:
            raise TypeError(f"{op}: output {i} has dtype {d1.name} in true_fn and {d2.name} in false_fn")
        if s1 != s2:
            raise ValueError(
                f"{op}: output {i} has shape {s1} in true_fn and {s2} in false_fn; graphs here "
                f"have static shapes, so both branches must agree"
            )


def _select_cond(p, true_fn, false_fn):
    """Under a tape inside a trace: both branches run and ``where`` selects (differentiable)."""
    a, b = true_fn(), false_fn()
    fa = [_as_tensor(v) for v in nest.flatten(a)]
    fb = [_as_tensor(v) for v in nest.flatten(b)]
    _check_branches(
        a, b, [(tuple(v._h.shape), v._dtype) for v in fa], [(tuple(v._h.shape), v._dtype) for v in fb], "cond"
    )
    pr = A.reshape(p, ())
    flat = [M.where(pr, x, y) for x, y in zip(fa, fb)]
    return nest.pack_sequence_as(a, flat) if nest.is_nested(a) else flat[0]


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name=None):
    """``tf.case``: the first pair whose predicate holds (``default`` otherwise)."""
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    if not pairs:
        if default is None:
            raise ValueError("case: pred_fn_pairs is empty and no default is given")
        return default()
    if default is None:
        pairs, default = pairs[:-1], pairs[-1][1]
    if exclusive and not _tracing():
        hits = [i for i, (p, _) in enumerate(pairs) if _concrete_bool(p, "case")]
        if len(hits) > 1:
            raise InvalidArgumentError(
                f"case: more than one condition evaluated as True (pairs {hits}) with exclusive=True"
            )
    fn = default
    for p, f in reversed(pairs):
        fn = (lambda p, f, rest: lambda: cond(p, f, rest))(p, f, fn)
    return fn()


def switch_case(branch_index, branch_fns, default=None, name=None):
    """``tf.switch_case``: ``branch_fns[branch_index]``; out of range runs ``default`` (the last)."""
    fns = [f for _, f in sorted(branch_fns.items())] if isinstance(branch_fns, dict) else list(branch_fns)
    if not fns:
        raise ValueError("switch_case: branch_fns must not be empty")
    default = default or fns[-1]
    idx = _as_tensor(branch_index)
    if idx._dtype.kind not in "iu":
        raise TypeError(f"switch_case: branch_index must be an integer tensor, got {idx._dtype.name}")
    pairs = [(M.equal(idx, i), f) for i, f in enumerate(fns)]
    return case(pairs, default=default)


# -- while_loop -----------------------------------------------------------------------------


def while_loop(
    cond,
    body,
    loop_vars,
    shape_invariants=None,
    parallel_iterations=10,
    back_prop=True,
    swap_memory=False,
    maximum_iterations=None,
    name=None,
):
    """``tf.while_loop``: ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``."""
    if not callable(cond) or not callable(body):
        raise TypeError("while_loop: cond and body must be callable")
    single = not isinstance(loop_vars, (list, tuple))
    lv = [loop_vars] if single else list(loop_vars)
    if maximum_iterations is not None:
        maximum_iterations = int(_concrete_value(maximum_iterations, "maximum_iterations"))
    flat0 = nest.flatten(lv)
    if not _tracing():
        return _eager_while(cond, body, lv, single, maximum_iterations)
    tas = {i: v for i, v in enumerate(flat0) if isinstance(v, TensorArray)}  # loop as dense buffers
    flat = [v._dense() if i in tas else T.convert(v, be=TRACER, op="while_loop") for i, v in enumerate(flat0)]
    pack = lambda vals: nest.pack_sequence_as(
        lv, [tas[i]._with_buffer(v) if i in tas else v for i, v in enumerate(vals)]
    )
    if autodiff.tapes:
        if maximum_iterations is None:
            raise InvalidArgumentError(
                "while_loop: under a GradientTape inside tf.function a while_loop needs "
                "maximum_iterations (it is unrolled that many times, masked, so the tape "
                "can differentiate it)"
            )
        res = _masked_while(cond, body, flat, pack, single, maximum_iterations)
        return res[0] if single else type(loop_vars)(res) if isinstance(loop_vars, tuple) else res
    cg, _, cspec = _trace_sub(lambda *a: cond(*pack(a)), flat, "while_cond")
    if len(cspec) != 1 or cspec[0][1] is not D.bool_ or cspec[0][0] not in ((), (1,)):
        raise TypeError(f"while_loop: cond must return a scalar bool tensor, got {cspec}")
    bg, _, bspec = _trace_sub(lambda *a: _flat_loop_vars(_body_out(body(*pack(a)), single)), flat, "while_body")
    _check_loop_vars(flat, bspec)
    caps = _union(cg, bg)
    g = TRACER.graph
    attrs = {"n_vars": len(flat), "maximum_iterations": maximum_iterations}
    outs = g.add(
        "while",
        attrs,
        [g.local(v._h) for v in flat] + caps,
        [(tuple(v._h.shape), v._dtype) for v in flat],
        name="while",
        subgraphs=(cg, bg),
    )
    res = pack([T.wrap(s, s.dtype, TRACER) for s in outs])
    return res[0] if single else type(loop_vars)(res) if isinstance(loop_vars, tuple) else res


def _masked_while(cond, body, flat, pack, single, maxit):
    """The differentiable form: ``maxit`` unrolled steps, each kept only while the loop runs."""
    active = A.reshape(_as_tensor(cond(*pack(flat))), ())
    for _ in range(maxit):
        new = [_as_tensor(v) for v in _flat_loop_vars(_body_out(body(*pack(flat)), single))]
        _check_loop_vars(flat, [(tuple(v._h.shape), v._dtype) for v in new])
        flat = [M.where(active, n, v) for n, v in zip(new, flat)]
        active = M.logical_and(active, A.reshape(_as_tensor(cond(*pack(flat))), ()))
    return pack(flat)


def _flat_loop_vars(vals):
    return [v._dense() if isinstance(v, TensorArray) else v for v in nest.flatten(vals)]


def _tensorish(v):
    return isinstance(v, (T.Tensor, T.Variable, int, float, bool))


def _concrete_value(x, what):
    if _is_symbolic(x):
        raise TypeError(f"while_loop: {what} must be a Python int or a concrete tensor inside tf.function")
    return x


def _body_out(out, single):
    return [out] if single or not isinstance(out, (list, tuple)) else list(out)


def _check_loop_vars(flat, bspec):
    if len(bspec) != len(flat):
        raise ValueError(f"while_loop: body returned {len(bspec)} values for {len(flat)} loop variables")
    for i, (v, (s, d)) in enumerate(zip(flat, bspec)):
        if d is not v._dtype:
            raise TypeError(
                f"while_loop: loop variable {i} enters the loop with dtype {v._dtype.name} and "
                f"has dtype {d.name} after one iteration"
            )
        if s != tuple(v._h.shape):
            raise ValueError(
                f"while_loop: loop variable {i} enters the loop with shape "
                f"{tuple(v._h.shape)} and has shape {s} after one iteration; graphs here have "
                f"static shapes, so a loop variable must keep its shape"
            )


def _eager_while(cond, body, lv, single, maxit):
    vals = nest.map_structure(lambda v: T.convert(v) if type(v) in (int, float, bool) else v, lv)
    it = 0
    while maxit is None or it < maxit:
        if not _concrete_bool(cond(*vals), "while_loop"):
            break
        out = body(*vals)
        vals = _body_out(out, single)
        nest.assert_same_structure(vals, lv)
        it += 1
    return vals[0] if single else (tuple(vals) if isinstance(lv, tuple) else vals)


# -- map / scan / fold (unrolled over the static leading dim) ------------------------------------


def _leading(elems, op):
    flat = [_as_tensor(e) for e in nest.flatten(elems)]
    if not flat or not flat[0]._h.shape:
        raise ValueError(f"{op}: elems must be tensors of rank >= 1")
    n = flat[0]._h.shape[0]
    for e in flat:
        if not e._h.shape or e._h.shape[0] != n:
            raise ValueError(
                f"{op}: all elems must have the same first dimension, got {[tuple(x._h.shape) for x in flat]}"
            )
    return flat, n


def _rows(elems, flat, i):
    return nest.pack_sequence_as(elems, [e[i] for e in flat]) if nest.is_nested(elems) else flat[0][i]


def _stack_struct(outs):
    first = outs[0]
    cols = list(zip(*[nest.flatten(o) for o in outs]))
    stacked = [A.stack([_as_tensor(v) for v in c]) for c in cols]
    return nest.pack_sequence_as(first, stacked) if nest.is_nested(first) else stacked[0]


def map_fn(
    fn,
    elems,
    dtype=None,
    parallel_iterations=None,
    back_prop=True,
    swap_memory=False,
    infer_shape=True,
    name=None,
    fn_output_signature=None,
):
    """``tf.map_fn``: ``fn`` on each row of ``elems``, results stacked."""
    if _composite_map(elems, fn_output_signature):  # ragged elems or a RaggedTensorSpec result
        from .ragged.ops import map_fn as ragged_map_fn

        return ragged_map_fn(fn, elems, fn_output_signature if fn_output_signature is not None else dtype)
    flat, n = _leading(elems, "map_fn")
    outs = [fn(_rows(elems, flat, i)) for i in range(n)]
    if not outs:
        raise ValueError("map_fn: elems has zero rows; the output shape cannot be inferred")
    res = _stack_struct(outs)
    sig = fn_output_signature if fn_output_signature is not None else dtype
    if sig is not None and not nest.is_nested(sig):
        want = getattr(sig, "dtype", None) or D.as_dtype(sig)
        if res._dtype is not want:
            raise TypeError(f"map_fn: fn returned dtype {res._dtype.name}, fn_output_signature says {want.name}")
    return res


def _composite_map(elems, sig) -> bool:
    from .composite import composite_in

    return composite_in(*nest.flatten(elems)) is not None or type(sig).__name__ == "RaggedTensorSpec"


vectorized_map = lambda fn, elems, fallback_to_while_loop=True, warn=True: map_fn(fn, elems)


def scan(
    fn,
    elems,
    initializer=None,
    parallel_iterations=10,
    back_prop=True,
    swap_memory=False,
    infer_shape=True,
    reverse=False,
    name=None,
):
    """``tf.scan``: the running accumulator of ``fn(acc, x)`` over the rows, stacked."""
    flat, n = _leading(elems, "scan")
    order = list(range(n))[::-1] if reverse else list(range(n))
    if initializer is None:
        acc, order = _rows(elems, flat, order[0]), order[1:]
        outs = [acc]
    else:
        acc, outs = initializer, []
    for i in order:
        acc = fn(acc, _rows(elems, flat, i))
        outs.append(acc)
    if reverse:
        outs.reverse()
    return _stack_struct(outs)


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """``tf.foldl``: ``fn(acc, x)`` over the rows from the first."""
    return _fold(fn, elems, initializer, False)


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """``tf.foldr``: ``fn(acc, x)`` over the rows from the last."""
    return _fold(fn, elems, initializer, True)


def _fold(fn, elems, initializer, reverse):
    flat, n = _leading(elems, "foldr" if reverse else "foldl")
    order = list(range(n))[::-1] if reverse else list(range(n))
    if initializer is None:
        acc, order = _rows(elems, flat, order[0]), order[1:]
    else:
        acc = initializer
    for i in order:
        acc = fn(acc, _rows(elems, flat, i))
    return acc


# -- TensorArray ------------------------------------------------------------------------------


class TensorArray:
    """``tf.TensorArray``: a list of same-dtype tensors; writes return the new array (TF style).

    Indices must be Python ints or concrete tensors (inside tf.function, use it in Python
    loops over static ranges; see docs/tf-function.md)."""

    def __init__(
        self,
        dtype,
        size=None,
        dynamic_size=None,
        clear_after_read=None,
        tensor_array_name=None,
        handle=None,
        flow=None,
        infer_shape=True,
        element_shape=None,
        colocate_with_first_write_call=True,
        name=None,
    ):
        self._dtype = D.as_dtype(dtype)
        n = 0 if size is None else int(_concrete_value(size, "size"))
        self._items = [None] * n
        self._dynamic = bool(dynamic_size)
        self._clear = True if clear_after_read is None else bool(clear_after_read)
        from .shape import TensorShape

        self._element_shape = TensorShape(element_shape) if element_shape is not None else TensorShape(None)

    dtype = property(lambda self: self._dtype)
    element_shape = property(lambda self: self._element_shape)
    dynamic_size = property(lambda self: self._dynamic)

    _buf = None  # dense mode (a loop variable of a graph while_loop): one [size, *element] tensor

    def _copy(self, items):
        ta = object.__new__(TensorArray)
        ta._dtype, ta._dynamic, ta._clear, ta._element_shape = (
            self._dtype,
            self._dynamic,
            self._clear,
            self._element_shape,
        )
        ta._items = items
        return ta

    def _dense(self):
        """The array as one tensor, for a graph loop (needs a static size and element shape)."""
        if self._buf is not None:
            return self._buf
        unknown = self._element_shape.rank is None or None in self._element_shape.as_list()
        if not self._items or (unknown and all(v is None for v in self._items)):
            raise ValueError(
                "TensorArray: as a tf.while_loop variable inside tf.function it needs a "
                "static size and element_shape (dynamic_size arrays cannot grow in a graph loop)"
            )
        return T.convert(self.stack(), be=TRACER)

    def _with_buffer(self, buf):
        ta = self._copy(None)
        ta._buf = buf
        from .shape import TensorShape

        ta._element_shape = TensorShape(buf._h.shape[1:])
        return ta

    def _index(self, i, op):
        from .function.graph import OperatorNotAllowedInGraphError

        try:
            return int(i)  # symbolic indices fold when they come from constants (static loops)
        except OperatorNotAllowedInGraphError:
            raise TypeError(
                f"TensorArray.{op}: index {i} depends on the function's inputs; here a "
                f"TensorArray needs static indices (a loop over a static range)"
            ) from None

    def _check(self, v, op):
        t = T.convert(v, self._dtype, op=f"TensorArray.{op}")
        from .shape import TensorShape

        if not self._element_shape.is_compatible_with(TensorShape(t._h.shape)):
            raise ValueError(
                f"TensorArray.{op}: element shape {tuple(t._h.shape)} is incompatible with "
                f"element_shape {self._element_shape}"
            )
        if self._element_shape.rank is None or None in self._element_shape.as_list():
            self._element_shape = TensorShape(t._h.shape)
        return t

    def write(self, index, value, name=None) -> TensorArray:
        if self._buf is not None:
            v = self._check(value, "write")
            n = self._buf._h.shape[0]
            mask = M.equal(A.range(n, dtype=D.int32), M.cast(_as_tensor(index), D.int32))
            mask = A.reshape(mask, (n,) + (1,) * (len(self._buf._h.shape) - 1))
            return self._with_buffer(M.where(mask, A.expand_dims(v, 0), self._buf))
        i = self._index(index, "write")
        t = self._check(value, "write")
        items = list(self._items)
        if i >= len(items):
            if not self._dynamic:
                raise InvalidArgumentError(
                    f"TensorArray.write: index {i} is out of bounds for a TensorArray "
                    f"of size {len(items)} (dynamic_size=False)"
                )
            items.extend([None] * (i + 1 - len(items)))
        if i < 0:
            raise InvalidArgumentError(f"TensorArray.write: index {i} is negative")
        items[i] = t
        out = self._copy(items)
        out._element_shape = self._element_shape
        return out

    def read(self, index, name=None):
        if self._buf is not None:
            return A.gather(self._buf, M.cast(_as_tensor(index), D.int32))
        i = self._index(index, "read")
        if not 0 <= i < len(self._items):
            raise InvalidArgumentError(f"TensorArray.read: index {i} out of range for size {len(self._items)}")
        v = self._items[i]
        if v is None:
            return self._zeros()
        return v

    def _zeros(self):
        if self._element_shape.rank is None or None in self._element_shape.as_list():
            raise InvalidArgumentError("TensorArray: reading an unwritten element of unknown shape")
        return A.zeros(self._element_shape.as_list(), self._dtype)

    def stack(self, name=None):
        if self._buf is not None:
            return self._buf
        if not self._items:
            return A.zeros([0] + (self._element_shape.as_list() if self._element_shape.rank else []), self._dtype)
        return A.stack([v if v is not None else self._zeros() for v in self._items])

    def gather(self, indices, name=None):
        idx = indices.numpy().tolist() if hasattr(indices, "numpy") else list(indices)
        return A.stack([self.read(i) for i in idx])

    def unstack(self, value, name=None) -> TensorArray:
        t = T.convert(value, self._dtype, op="TensorArray.unstack")
        rows = A.unstack(t) if t._h.shape and t._h.shape[0] else []
        if not self._dynamic and self._items and len(rows) > len(self._items):
            raise InvalidArgumentError(
                f"TensorArray.unstack: {len(rows)} rows for a TensorArray of size {len(self._items)}"
            )
        ta = self._copy(list(rows) + self._items[len(rows) :])
        if rows:
            from .shape import TensorShape

            ta._element_shape = TensorShape(rows[0]._h.shape)
        return ta

    def scatter(self, indices, value, name=None) -> TensorArray:
        idx = indices.numpy().tolist() if hasattr(indices, "numpy") else list(indices)
        t = T.convert(value, self._dtype, op="TensorArray.scatter")
        ta = self
        for k, i in enumerate(idx):
            ta = ta.write(i, t[k])
        return ta

    def concat(self, name=None):
        return A.concat([v for v in self._items if v is not None], 0)

    def size(self, name=None):
        return T.convert(len(self._items) if self._buf is None else self._buf._h.shape[0], D.int32)

    def close(self, name=None):
        return None

    def identity(self) -> TensorArray:
        return self


# -- tf.print -----------------------------------------------------------------------------------


def print_(*inputs, output_stream=None, summarize=3, sep=" ", end="\n", name=None):
    """``tf.print``: prints when the op runs (each call of a tf.function, not each trace).

    ``output_stream`` is a file object (default: sys.stderr at print time, as TF) or
    "file://path" (appended)."""
    parts, tensors = [], []
    for v in inputs:
        if isinstance(v, T.Variable):
            v = v.value()
        if isinstance(v, T.Tensor):
            parts.append(("t", len(tensors)))
            tensors.append(v)
        else:
            parts.append(("s", v))
    attrs = {"template": parts, "stream": output_stream, "summarize": summarize, "sep": sep, "end": end}
    if _tracing():
        g = TRACER.graph
        hs = [g.local(T.convert(t, be=TRACER)._h) for t in tensors]
        g.add("print", attrs, hs, [], name="PrintV2")
        return
    emit_print(attrs, [(t._be, t._h, t._dtype) for t in tensors])
    return


def emit_print(attrs, values) -> None:
    """Format and write one tf.print (called eagerly and by replayed graphs)."""
    from . import host

    texts = []
    for kind, v in attrs["template"]:
        if kind == "s":
            texts.append(v if isinstance(v, str) else str(v))
        else:
            be, h, dt = values[v]
            val = host.to_host(be.read(h), tuple(h.shape), dt)
            val = val.tolist() if hasattr(val, "tolist") else val
            texts.append(format_value(val, attrs["summarize"]))
    text = attrs["sep"].join(texts) + attrs["end"]
    stream = attrs["stream"]
    if isinstance(stream, str) and stream.startswith("file://"):
        with open(stream[len("file://") :], "a") as f:
            f.write(text)
        return
    if stream is None:
        stream = sys.stderr
    if callable(getattr(stream, "write", None)):
        stream.write(text)
    elif callable(stream):
        stream(text.rstrip("\n"))
    else:
        raise ValueError(f"tf.print: output_stream {stream!r} is not a file object or 'file://' path")


def _fmt_scalar(v) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "-inf"
        return format(v, ".6g")
    return str(v)


def format_value(v, summarize=3, indent=1) -> str:
    """TF's print format: ``[1 2 3]``, nested rows on new lines, ``...`` past ``summarize``."""
    if not isinstance(v, list):
        return _fmt_scalar(v)
    items = v
    cut = summarize is not None and summarize >= 0 and len(items) > 2 * summarize
    shown = items[:summarize] + [None] + items[-summarize:] if cut else items
    if items and isinstance(items[0], list):
        rows = ["..." if r is None else format_value(r, summarize, indent + 1) for r in shown]
        return "[" + ("\n" + " " * indent).join(rows) + "]"
    return "[" + " ".join("..." if x is None else _fmt_scalar(x) for x in shown) + "]"

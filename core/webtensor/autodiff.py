"""Reverse-mode autodiff: ``GradientTape``, op recording and ``custom_gradient``.

Every differentiable op calls ``record(inputs, outputs, vjp)`` when a tape is active.
A vjp is ``vjp(dy, need) -> tuple of input gradients`` (None where there is none;
``need[i]`` False means input i's gradient is not wanted and may be skipped). vjps
are written with public ops, so while one tape differentiates, any outer tape
records the backward pass and higher derivatives come for free.
"""

from __future__ import annotations

import contextlib
import enum
import inspect

from . import nest

tapes: list = []
"""Active tapes, innermost last. Ops test ``if tapes:`` before doing any tape work."""

_lazy: dict = {}


def _mods():
    """(ops.array, tensor) imported once on first use: they import this module."""
    if not _lazy:
        from . import tensor
        from .ops import array

        _lazy.update(array=array, tensor=tensor)
    return _lazy["array"], _lazy["tensor"]


class UnconnectedGradients(enum.Enum):
    NONE = "none"
    ZERO = "zero"


class _Node:
    __slots__ = ("inputs", "outputs", "vjp")

    def __init__(self, inputs, outputs, vjp):
        self.inputs, self.outputs, self.vjp = inputs, outputs, vjp


def record(inputs: tuple, outputs: tuple, vjp) -> None:
    """Add an op to every recording tape that watches one of its inputs."""
    node = None
    for tape in tapes:
        if tape._paused:
            continue
        w = tape._watched
        for x in inputs:
            if id(x) in w:
                break
        else:
            continue
        if node is None:
            node = _Node(inputs, outputs, vjp)
        tape._nodes.append(node)
        for o in outputs:
            if o._dtype.kind == "f":
                w[id(o)] = o


def _identity_vjp(dy, need):
    return (dy,)


def read_variable(var, t) -> None:
    """A variable read: auto-watch trainable variables, link the value to the variable."""
    for tape in tapes:
        if tape._paused:
            continue
        w = tape._watched
        if id(var) not in w:
            if not (var._trainable and tape._watch_accessed and var._dtype.kind == "f"):
                continue
            w[id(var)] = var
        tape._variables[id(var)] = var
        tape._nodes.append(_Node((var,), (t,), _identity_vjp))
        w[id(t)] = t


def recording() -> bool:
    """True when some tape would record the ops run now (e.g. during a backward pass
    under an outer tape); fused vjps may reuse saved forward values only when False."""
    return any(not t._paused for t in tapes)


@contextlib.contextmanager
def no_record():
    """Run ops without recording them on any tape (forward of custom-gradient ops)."""
    saved = tapes[:]
    tapes.clear()
    try:
        yield
    finally:
        tapes[:] = saved


class GradientTape:
    """Records ops on watched tensors and trainable variables to compute gradients."""

    _on_final = None
    """``on_final(i, grad)`` or None. When set (tf.distribute does, around one ``gradient`` call, to
    start each bucket's all-reduce while the backward pass goes on), ``gradient`` calls it once
    per flat source ``i`` as soon as that gradient is final: in the reverse walk, right after
    the source's earliest consumer is processed (unconnected sources at the end, with None).
    Not called for complex sources, nor by jacobian."""

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self._persistent = persistent
        self._watch_accessed = watch_accessed_variables
        self._watched: dict = {}
        self._variables: dict = {}
        self._nodes: list = []
        self._paused = True
        self._used = False

    def __enter__(self):
        tapes.append(self)
        self._paused = False
        return self

    def __exit__(self, *exc):
        self._paused = True
        for i in range(len(tapes) - 1, -1, -1):
            if tapes[i] is self:
                del tapes[i]
                break
        return False

    def watch(self, tensor) -> None:
        from .tensor import Tensor, Variable

        for t in nest.flatten(tensor):
            if hasattr(t, "_grad_parts"):  # a complex tensor: watch its real and imaginary parts
                self.watch(list(t._grad_parts()))
                continue
            if not isinstance(t, (Tensor, Variable)):
                raise ValueError(f"Passed in object of type {type(t).__name__}, not tf.Tensor or tf.Variable")
            if t._dtype.kind != "f":
                continue  # TF warns and ignores non-float sources
            self._watched[id(t)] = t
            if isinstance(t, Variable):
                self._variables[id(t)] = t

    def watched_variables(self) -> tuple:
        return tuple(self._variables.values())

    @contextlib.contextmanager
    def stop_recording(self):
        if self not in tapes:
            raise ValueError("Tape.stop_recording() called on a tape that is not recording")
        was, self._paused = self._paused, True
        try:
            yield
        finally:
            self._paused = was

    def reset(self) -> None:
        self._nodes.clear()
        self._watched.clear()
        self._variables.clear()

    def _consume(self):
        if self._used and not self._persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients (or jacobians)"
            )
        self._used = True

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients=UnconnectedGradients.NONE):
        """d(sum of targets)/d(sources), shaped like sources; None (or zeros) where unconnected."""
        self._consume()
        flat_t = nest.flatten(target)
        flat_og = [None] * len(flat_t) if output_gradients is None else nest.flatten(output_gradients)
        if len(flat_og) != len(flat_t):
            raise ValueError(f"gradient: {len(flat_og)} output_gradients for {len(flat_t)} targets")
        flat_s = nest.flatten(sources)
        if any(hasattr(s, "_grad_parts") for s in flat_s):
            return nest.pack_sequence_as(sources, self._complex_sources(flat_t, flat_s, flat_og, unconnected_gradients))
        grads = self._backprop(flat_t, flat_s, flat_og, self._on_final)
        grads = _fill_unconnected(grads, flat_s, unconnected_gradients)
        return nest.pack_sequence_as(sources, grads)

    def _complex_sources(self, targets, sources, out_grads, unconnected) -> list:
        """A complex source is its (real, imag) pair; the gradient is TF's
        ``dL/dRe + i dL/dIm`` built from the two real gradients."""
        parts, spans = [], []
        for s in sources:
            p = list(s._grad_parts()) if hasattr(s, "_grad_parts") else [s]
            spans.append((len(parts), len(p)))
            parts.extend(p)
        grads = _fill_unconnected(self._backprop(targets, parts, out_grads), parts, unconnected)
        return [
            type(s)._from_grads(grads[i : i + n]) if hasattr(s, "_grad_parts") else grads[i]
            for s, (i, n) in zip(sources, spans)
        ]

    def _backprop(self, targets, sources, out_grads, on_final=None) -> list:
        array, tensor = _mods()
        for s in sources:
            if not hasattr(s, "_dtype"):
                raise ValueError(f"gradient: sources must be tensors or variables, got {type(s).__name__}")
        paused, self._paused = self._paused, True
        try:
            grads: dict = {}
            for t, g in zip(targets, out_grads):
                if not hasattr(t, "_dtype") or t._dtype.kind != "f":
                    continue
                g = array.ones_like(t) if g is None else tensor.convert(g, t._dtype)
                _accumulate(grads, id(t), g)
            keep = {id(s) for s in sources}
            watched = self._watched
            walk = reversed(self._nodes) if on_final is None else _reporting(self._nodes, sources, grads, on_final)
            for node in walk:
                outs = node.outputs
                if len(outs) == 1:
                    dy = grads.get(id(outs[0]))
                    if dy is None:
                        continue
                    if id(outs[0]) not in keep:
                        del grads[id(outs[0])]
                else:
                    dys = [grads.get(id(o)) for o in outs]
                    if all(d is None for d in dys):
                        continue
                    dy = tuple(array.zeros_like(o) if d is None else d for o, d in zip(outs, dys))
                    for o in outs:
                        if id(o) not in keep:
                            grads.pop(id(o), None)
                need = tuple(id(x) in watched for x in node.inputs)
                for x, g, n in zip(node.inputs, node.vjp(dy, need), need):
                    if n and g is not None:
                        _accumulate(grads, id(x), g)
            return [grads.get(id(s)) for s in sources]
        finally:
            self._paused = paused

    def jacobian(
        self,
        target,
        sources,
        unconnected_gradients=UnconnectedGradients.NONE,
        parallel_iterations=None,
        experimental_use_pfor=True,
    ):
        """J[i..., j...] = d target[i...] / d source[j...] for each source."""
        array, _ = _mods()
        self._consume()
        flat_s = nest.flatten(sources)
        tshape = tuple(target._h.shape)
        n = _size(tshape)
        rows = [[] for _ in flat_s]
        connected = [False] * len(flat_s)
        for i in range(n):
            og = array.reshape(array.one_hot(i, n, dtype=target._dtype), tshape)
            for k, (g, s) in enumerate(zip(self._backprop([target], flat_s, [og]), flat_s)):
                connected[k] = connected[k] or g is not None
                rows[k].append(array.zeros_like(s) if g is None else g)
        out = []
        for k, s in enumerate(flat_s):
            shape = tshape + tuple(s._h.shape)
            j = array.reshape(array.stack(rows[k]), shape) if n else array.zeros(shape, s._dtype)
            none = unconnected_gradients in (UnconnectedGradients.NONE, "none")
            out.append(None if none and not connected[k] else j)
        return nest.pack_sequence_as(sources, out)

    def batch_jacobian(
        self,
        target,
        source,
        unconnected_gradients=UnconnectedGradients.NONE,
        parallel_iterations=None,
        experimental_use_pfor=True,
    ):
        """J[b, i..., j...] = d target[b, i...] / d source[b, j...] (examples independent)."""
        array, _ = _mods()
        self._consume()
        tshape, sshape = tuple(target._h.shape), tuple(source._h.shape)
        if not tshape or not sshape or tshape[0] != sshape[0]:
            raise ValueError(
                f"batch_jacobian: target {tshape} and source {sshape} need the same first (batch) dimension"
            )
        b, m = tshape[0], _size(tshape[1:])
        cols = []
        for i in range(m):
            og = array.reshape(array.tile(array.one_hot([i], m, dtype=target._dtype), [b, 1]), tshape)
            g = self._backprop([target], [source], [og])[0]
            cols.append(g if g is not None else array.zeros_like(source))
        if not cols:
            return None
        j = array.stack(cols, axis=1)
        return array.reshape(j, tshape + sshape[1:])


def _reporting(nodes: list, sources: list, grads: dict, on_final):
    """The reverse walk over ``nodes`` that calls ``on_final(i, grad)`` for source i once its
    earliest consumer has been processed (the walk resumes this generator after each node)."""
    where: dict = {}
    for i, s in enumerate(sources):
        where.setdefault(id(s), []).append(i)
    due: dict = {}  # node index -> source ids whose last gradient contribution it makes
    seen: set = set()
    for k, node in enumerate(nodes):
        for x in node.inputs:
            if id(x) in where and id(x) not in seen:
                seen.add(id(x))
                due.setdefault(k, []).append(id(x))
    reported = set()
    for k in range(len(nodes) - 1, -1, -1):
        yield nodes[k]
        for sid in due.get(k, ()):
            reported.add(sid)
            for i in where[sid]:
                on_final(i, grads.get(sid))
    for sid, positions in where.items():
        if sid not in reported:
            for i in positions:
                on_final(i, grads.get(sid))


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _accumulate(grads: dict, key: int, g) -> None:
    prev = grads.get(key)
    grads[key] = g if prev is None else prev + g


def _fill_unconnected(grads, sources, mode):
    if mode in (UnconnectedGradients.NONE, "none"):
        return grads
    if mode not in (UnconnectedGradients.ZERO, "zero"):
        raise ValueError(f"Unknown value for unconnected_gradients: {mode!r}")
    array, _ = _mods()
    return [array.zeros_like(s) if g is None else g for g, s in zip(grads, sources)]


def custom_gradient(f=None):
    """``@tf.custom_gradient``: ``f(*x) -> (y, grad_fn)``; ``grad_fn(*dy)`` returns the
    gradients for x (and ``(dx, dvars)`` when it takes ``variables=``)."""
    if f is None:
        return custom_gradient

    from .tensor import Tensor, Variable, convert

    def wrapped(*args, **kwargs):
        args = tuple(
            a.value() if isinstance(a, Variable) else convert(a) if not isinstance(a, Tensor) and _numeric(a) else a
            for a in args
        )
        probe = GradientTape(watch_accessed_variables=True)
        with no_record():
            with probe:
                result, grad_fn = f(*args, **kwargs)
        variables = probe.watched_variables()
        takes_vars = _accepts_variables(grad_fn)
        inputs = tuple(a for a in args if isinstance(a, Tensor))
        outs = tuple(o for o in nest.flatten(result) if isinstance(o, Tensor))
        if tapes and outs:
            n_in = len(inputs)

            def vjp(dy, need):
                dys = dy if isinstance(dy, tuple) else (dy,)
                if takes_vars:
                    gx, gv = grad_fn(*dys, variables=list(variables))
                else:
                    gx, gv = grad_fn(*dys), []
                gx = list(gx) if isinstance(gx, (list, tuple)) else [gx]
                gx += [None] * (n_in - len(gx))
                return tuple(gx[:n_in]) + tuple(gv or [None] * len(variables))

            reads = tuple(v.value() for v in variables) if takes_vars else ()  # tapes link reads to vars
            record(inputs + reads, outs, vjp)
        return result

    wrapped.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapped.__doc__ = f.__doc__
    return wrapped


def _numeric(a) -> bool:
    return isinstance(a, (int, float, list, tuple)) or hasattr(a, "__array__") or hasattr(a, "dtype")


def _accepts_variables(fn) -> bool:
    try:
        return "variables" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False

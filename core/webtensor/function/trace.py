"""``tf.function``: trace once per input signature, replay the graph (TF's documented rules).

Keys: tensors by shape and dtype, Python values by value (objects by identity),
variables by identity (captured by reference). A *visible* signature is what TF would
trace for; graphs are shape-specialised, so a call that fits a visible signature with
``None`` dims but has new concrete dims is traced again quietly (stdout/stderr muted,
not counted): see docs/tf-function.md.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import sys
import warnings
import weakref

from .. import autodiff, backends, nest, placement
from . import composites
from .. import tensor as T
from ..shape import TensorShape
from ..spec import TensorSpec
from .graph import TRACER, Graph, Program

_eager = [False]


def run_functions_eagerly(run_eagerly: bool) -> None:
    _eager[0] = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    return _eager[0]


def executing_eagerly() -> bool:
    """False while a tf.function is being traced (outside ``tf.init_scope``)."""
    return not TRACER.stack


class _Outer:
    """What was active before the outermost trace began (restored by ``init_scope``)."""

    scope = None


@contextlib.contextmanager
def init_scope():
    """``tf.init_scope``: run the block eagerly even while tracing (e.g. to create state)."""
    saved = (TRACER.stack[:], T.graph_hook[0])
    TRACER.stack.clear()
    T.graph_hook[0] = None
    placement._scope.append(_Outer.scope)
    try:
        yield
    finally:
        placement._scope.pop()
        TRACER.stack[:] = saved[0]
        T.graph_hook[0] = saved[1]


class _Hook:
    """The trace's handling of variables (``tensor.graph_hook``)."""

    def __init__(self, name: str, allow_variables: bool):
        self.name, self.allow, self.created = name, allow_variables, 0

    def read_variable(self, var):
        s = TRACER._emit("read_variable", {"variable": var}, (), var._h.shape, var._dtype, name="ReadVariableOp")
        return T.wrap(s, var._dtype, TRACER)

    def assign_variable(self, var, value):
        t = T.convert(value, var._dtype, TRACER, op="assign")
        if tuple(t._h.shape) != tuple(var._h.shape):
            raise ValueError(
                f"Cannot assign value to variable '{var.name}': Shape mismatch. The variable "
                f"shape {TensorShape(var._h.shape)}, and the assigned value shape "
                f"{TensorShape(t._h.shape)} are incompatible."
            )
        g = TRACER.graph
        g.add("assign_variable", {"variable": var}, [g.local(t._h)], [], name="AssignVariableOp")
        return var

    def create_variable(self, var, initial_value, trainable, name, dtype):
        if not self.allow:
            raise ValueError(
                f"tf.function {self.name!r} only supports singleton tf.Variables created on "
                f"the first call. Make sure the tf.Variable is only created once or created "
                f"outside tf.function."
            )
        self.created += 1
        if callable(initial_value):
            initial_value = initial_value()
        with init_scope():
            if isinstance(initial_value, T.Tensor) and initial_value._be is TRACER:
                initial_value = _lift(initial_value, var, name)
            T.Variable.__init__(var, initial_value, trainable=trainable, name=name, dtype=dtype)


def _lift(t, var, name):
    """A variable's symbolic initial value computed eagerly (it may use constants and random ops)."""
    from .graph import evaluate

    be = placement.creation_backend(t._dtype)
    h = evaluate(t._h, be, random=True)
    if h is None:
        raise ValueError(
            f"tf.Variable {name or 'Variable'!r} created inside a tf.function has an initial value "
            f"that depends on the function's inputs or on variables ({t}); create it from "
            f"constants, a callable, or outside the function"
        )
    return T.wrap(h, t._dtype, be)


@contextlib.contextmanager
def tracing(g: Graph, hook):
    """Make ops on the thread record into ``g``: tracer placement, variable hook, no outer tapes."""
    outermost = not TRACER.stack
    if outermost:
        _Outer.scope = placement._scope[-1]
    saved_hook, saved_tapes = T.graph_hook[0], autodiff.tapes[:]
    TRACER.stack.append(g)
    T.graph_hook[0] = hook
    autodiff.tapes.clear()
    placement._scope.append(TRACER)
    try:
        yield g
    finally:
        placement._scope.pop()
        autodiff.tapes[:] = saved_tapes
        T.graph_hook[0] = saved_hook
        TRACER.stack.pop()


# -- signatures ------------------------------------------------------------------------------

_SCALARS = (bool, int, float, str, type(None))


def _fast_key(args):
    """``(_key_of(...), tensors)`` for positional args made of plain tensors, tuples/lists of
    them and Python scalars, else None (the general path handles everything else). Top-level
    tensors, the usual case, take no recursive call."""
    leaves, tensors, top = [], [], []
    try:
        for v in args:
            if type(v) is T.Tensor:
                leaves.append(("T", tuple(v._h.shape), v._dtype))
                tensors.append(v)
                top.append("*")
            else:
                top.append(_fast_walk(v, leaves, tensors))
    except _NotFast:
        return None
    return ((list, tuple(top)), tuple(leaves)), tensors


def _fast_walk(v, leaves, tensors):
    t = type(v)
    if t is T.Tensor:
        leaves.append(("T", tuple(v._h.shape), v._dtype))
        tensors.append(v)
        return "*"
    if t is tuple or t is list:
        return (t, tuple([_fast_walk(c, leaves, tensors) for c in v]))
    if t in _SCALARS:
        leaves.append(("P", t, v))
        return "*"
    raise _NotFast


class _NotFast(Exception):
    pass


def _is_tensor_leaf(v) -> bool:
    if isinstance(v, T.Tensor):
        return True
    np = sys.modules.get("numpy")
    return np is not None and isinstance(v, np.ndarray)


def _leaf_key(v):
    if isinstance(v, T.Tensor):
        return ("T", tuple(v._h.shape), v._dtype)
    if isinstance(v, TensorSpec):
        return ("T", tuple(v.shape.as_list()) if v.shape.rank is not None else None, v.dtype)
    if isinstance(v, T.Variable):
        return ("V", id(v))
    try:
        hash(v)
        return ("P", type(v), v)
    except TypeError:
        return ("O", id(v))


def _structure(x):
    if isinstance(x, dict):
        return (type(x), tuple((k, _structure(x[k])) for k in nest._sorted_keys(x)))
    if isinstance(x, (list, tuple)):
        return (type(x), tuple(_structure(v) for v in x))
    return "*"


def _compatible(general, exact) -> bool:
    if general[0] != exact[0] or len(general[1]) != len(exact[1]):
        return False
    for g, e in zip(general[1], exact[1]):
        if g[0] != e[0] or (g[0] != "T" and g != e):
            return False
        if g[0] == "T":
            if g[2] is not e[2]:
                return False
            if g[1] is not None and (
                e[1] is None
                or len(g[1]) != len(e[1])  # e: unknown rank
                or any(a is not None and a != b for a, b in zip(g[1], e[1]))
            ):
                return False
    return True


def _generalize(a, b):
    """TF's reduce_retracing: dims that differ between two keys become None."""
    if a[0] != b[0] or len(a[1]) != len(b[1]):
        return None
    out = []
    for x, y in zip(a[1], b[1]):
        if x[0] != y[0] or (x[0] != "T" and x != y):
            return None
        if x[0] == "T":
            if x[2] is not y[2] or x[1] is None or y[1] is None or len(x[1]) != len(y[1]):
                return None
            x = ("T", tuple(p if p == q else None for p, q in zip(x[1], y[1])), x[2])
        out.append(x)
    return (a[0], tuple(out))


def _spec_of(k, name=None):
    return TensorSpec(k[1], k[2], name)


# -- functions -----------------------------------------------------------------------------


class _Trace:
    """One shape-specialised graph: its output template and bound programs per backend."""

    def __init__(self, graph, template, out_kinds):
        self.graph, self.template, self.out_kinds = graph, template, out_kinds
        self.programs: dict = {}
        self.replays: dict = {}
        self.backward = None

    def program(self, be) -> Program:
        p = self.programs.get(id(be))
        if p is None:
            p = self.programs[id(be)] = Program(self.graph, be)
        return p

    def replay(self, be, tensors):
        """``(program, input homes, finish)`` for replays on ``be``, built once: the fast path
        then does no per-call placement lookups or nest packing (``finish`` turns the
        program's output handles into the traced function's result)."""
        r = self.replays.get(id(be))
        if r is None:
            prog = self.program(be)
            homes = tuple(placement.for_dtype(be, t._dtype) for t in tensors)
            r = self.replays[id(be)] = (prog, homes, _finisher(self, prog))
        return r


class ConcreteFunction:
    """A traced signature: ``graph``, ``structured_input_signature``, ``structured_outputs``."""

    def __init__(self, owner: Function, key, names):
        self._owner, self._key, self._names = owner, key, names
        self._traces: dict = {}
        self._first = None

    @property
    def graph(self) -> Graph:
        return self._first.graph

    @property
    def structured_input_signature(self):
        leaves = iter(self._key[1])
        args = []
        for name, struct in self._names:
            args.append(composites.specs(_rebuild_specs(struct, leaves, name)))
        return tuple(args), {}

    @property
    def structured_outputs(self):
        tr = self._first
        syms = iter(tr.graph.outputs)
        flat = [T.wrap(next(syms), k[1], TRACER) if k[0] == "sym" else k[1] for k in tr.out_kinds]
        return composites.rebuild(nest.pack_sequence_as(tr.template, flat)) if tr.template is not None else flat[0]

    @property
    def inputs(self) -> list:
        return [T.wrap(s, s.dtype, TRACER) for s in self.graph.inputs]

    @property
    def outputs(self) -> list:
        return [T.wrap(s, s.dtype, TRACER) for s in self.graph.outputs]

    @property
    def name(self) -> str:
        return self.graph.name

    def __call__(self, *args, **kwargs):
        arguments = composites.expand(self._owner._bind(args, kwargs))
        flat = nest.flatten(list(arguments.values()))
        key = self._owner._key_of(arguments, flat)
        if not _compatible(self._key, key):
            raise TypeError(
                f"ConcreteFunction {self.name!r} was traced for {self._describe(self._key)}, "
                f"called with {self._describe(key)}"
            )
        return self._owner._run(self, key, arguments, flat)

    @staticmethod
    def _describe(key):
        return ", ".join(f"TensorSpec(shape={k[1]}, dtype={k[2].name})" if k[0] == "T" else repr(k[-1]) for k in key[1])

    def pretty_printed_signature(self) -> str:
        return f"{self.name}{self.structured_input_signature[0]}"


def _rebuild_specs(struct, leaves, name):
    if struct == "*":
        k = next(leaves)
        return _spec_of(k, name) if k[0] == "T" else (k[2] if k[0] == "P" else k)
    typ, items = struct
    if typ is dict or issubclass(typ, dict):
        return {k: _rebuild_specs(s, leaves, f"{name}_{k}") for k, s in items}
    vals = [_rebuild_specs(s, leaves, f"{name}_{i}") for i, s in enumerate(items)]
    return typ(*vals) if hasattr(typ, "_fields") else typ(vals)


class Function:
    """A ``tf.function``: traces the Python function into graphs and replays them."""

    def __init__(self, fn, input_signature=None, autograph=True, jit_compile=None, reduce_retracing=False, name=None):
        self.python_function = fn
        self.input_signature = tuple(input_signature) if input_signature is not None else None
        self.jit_compile = jit_compile
        self.reduce_retracing = bool(reduce_retracing)
        self._name = name or getattr(fn, "__name__", "function")
        functools.update_wrapper(self, fn)
        self._sig = inspect.signature(fn)
        params = list(self._sig.parameters.values())
        self._pnames = [q.name for q in params]
        self._simple = all(q.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for q in params)
        self._exact: dict = {}
        self._visible: list = []  # ConcreteFunctions, one per signature TF would trace for
        self._tracing_count = 0
        self._variables_made = False
        self._recent: list = []
        self._warned = False
        self._instances: dict = {}
        self._pure = False
        self._autograph, self._ag = bool(autograph), None
        if self.input_signature is not None:
            self._check_signature_spec()

    # -- binding and keys
    def _check_signature_spec(self):
        for s in nest.flatten(self.input_signature):
            if not isinstance(s, TensorSpec) and not composites.is_spec(s):
                raise TypeError(
                    f"tf.function {self._name!r}: input_signature must be a possibly nested "
                    f"sequence of TensorSpec objects, got {s!r}"
                )

    def _bind(self, args, kwargs):
        if self._simple and not kwargs and len(args) == len(self._pnames):
            return dict(zip(self._pnames, args))
        try:
            b = self._sig.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"tf.function {self._name!r}: {e}") from None
        b.apply_defaults()
        return b.arguments

    def _key_of(self, arguments, flat):
        return (_structure(list(arguments.values())), tuple(_leaf_key(v) for v in flat))

    def _names(self, arguments):
        return [(n, _structure(v)) for n, v in arguments.items()]

    def _apply_signature(self, args, kwargs):
        """Enforce input_signature (TypeError as TF) and convert Python values to tensors."""
        sig = self.input_signature
        if kwargs or len(args) != len(sig):
            raise TypeError(
                f"tf.function {self._name!r} was given {len(args)} positional and "
                f"{len(kwargs)} keyword arguments but its input_signature has {len(sig)} "
                f"entries: {sig}"
            )
        out = []
        for i, (a, spec) in enumerate(zip(args, sig)):
            try:
                flat_a = nest.flatten(a)
                flat_s = nest.flatten(spec)
                ok = len(flat_a) == len(flat_s)
            except Exception:
                ok = False
            if not ok:
                raise TypeError(
                    f"tf.function {self._name!r}: argument {i} {a!r:.60} does not match the "
                    f"structure of input_signature entry {spec}"
                )
            conv = []
            for v, s in zip(flat_a, flat_s):
                if composites.is_spec(s):  # a RaggedTensorSpec/SparseTensorSpec checks and passes the value
                    if not s.is_compatible_with(v):
                        raise TypeError(
                            f"tf.function {self._name!r}: argument {i} {v!r:.60} does not match input_signature {s}"
                        )
                    conv.append(v)
                    continue
                t = v.value() if isinstance(v, T.Variable) else v
                if not isinstance(t, T.Tensor):
                    try:
                        t = T.convert(t, s.dtype, op=self._name)
                    except (TypeError, ValueError) as e:
                        raise TypeError(
                            f"tf.function {self._name!r}: argument {i} {v!r:.60} cannot be converted to {s}: {e}"
                        ) from None
                if t._dtype is not s.dtype or not s.shape.is_compatible_with(TensorShape(t._h.shape)):
                    raise TypeError(
                        f"tf.function {self._name!r}: argument {i} is a tensor of shape "
                        f"{tuple(t._h.shape)} and dtype {t._dtype.name}, which does not match "
                        f"input_signature {s}"
                    )
                conv.append(t)
            out.append(nest.pack_sequence_as(spec, conv) if nest.is_nested(spec) else conv[0])
        return tuple(out), {}

    # -- calls
    def __call__(self, *args, **kwargs):
        if _eager[0]:
            return self.python_function(*args, **kwargs)
        if self.input_signature is not None:
            args, kwargs = self._apply_signature(args, kwargs)
        if TRACER.stack:  # nested in a trace: inline (the inner ops join the outer graph), with
            return self._converted()(*args, **kwargs)  # the inner function's own autograph setting
        if not kwargs and self._simple and len(args) == len(self._pnames) and not autodiff.tapes:
            fast = self._fast_call(args)
            if fast is not None:
                return fast[0]
        arguments = composites.expand(self._bind(args, kwargs))  # ragged/sparse: component tensors
        flat = nest.flatten(list(arguments.values()))
        flat = [T.convert(v) if _is_tensor_leaf(v) and not isinstance(v, T.Tensor) else v for v in flat]
        key = self._key_of(arguments, flat)
        cf = self._find(key, arguments)
        return self._run(cf, key, arguments, flat)

    def _fast_call(self, args):
        """Positional calls of an already traced signature whose arguments are tensors, tuples
        or lists of them and Python scalars (a Keras step's ``(batches, want_logs)``): key in
        one pass, run, wrap."""
        got = _fast_key(args)
        if got is None:
            return None
        key, tensors = got
        cf = self._exact.get(key)
        tr = cf._traces.get(key) if cf is not None else None
        if tr is None:
            return None
        if self._recent:
            self._recent = []  # an untraced call (see _note)
        be = placement._scope[-1] or (tensors[0]._be if tensors else backends.default())
        prog, homes, finish = tr.replay(be, tensors)
        return (
            finish(prog.run([t._h if t._be is home else T.to_backend(t, home)._h for t, home in zip(tensors, homes)])),
        )

    @staticmethod
    def _results(tr, prog, outs):
        res = []
        it = iter(zip(outs, prog.out_homes))
        for k in tr.out_kinds:
            if k[0] == "sym":
                h, home = next(it)
                res.append(T.wrap(h, k[1], home))
            else:
                res.append(k[1])
        return res

    def _find(self, key, arguments):
        try:
            cf = self._exact.get(key)
        except TypeError:
            cf = None
        if cf is not None:
            self._note(False)
            return cf
        for cf in self._visible:
            if _compatible(cf._key, key):
                self._note(False)
                self._remember(key, cf)
                return cf
        gkey = key
        if self.input_signature is not None and not any(map(composites.is_spec, nest.flatten(self.input_signature))):
            gkey = (
                key[0],
                tuple(
                    ("T", tuple(s.shape.as_list()) if s.shape.rank is not None else None, s.dtype)
                    for s in nest.flatten(self.input_signature)
                ),
            )
        elif self.reduce_retracing:
            for i, cf in enumerate(self._visible):
                g = _generalize(cf._key, key)
                if g is not None:
                    gkey = g
                    break
        cf = ConcreteFunction(self, gkey, self._names(arguments))
        self._visible.append(cf)
        self._note(True)
        self._remember(key, cf)
        return cf

    def _remember(self, key, cf):
        try:
            self._exact[key] = cf
        except TypeError:
            pass

    def _note(self, traced):
        """TF's retracing warning: 5 out of the last 5 calls traced."""
        if not traced:  # an untraced call breaks the run of retracing calls
            if self._recent:
                self._recent = []
            return
        self._recent = (self._recent + [traced])[-5:]
        if len(self._recent) == 5 and all(self._recent) and not self._warned:
            self._warned = True
            warnings.warn(
                f"5 out of the last 5 calls to {self.python_function!r} triggered tf.function "
                f"retracing. Tracing is expensive and the excessive number of tracings could be "
                f"due to (1) creating @tf.function repeatedly in a loop, (2) passing tensors with "
                f"different shapes, (3) passing Python objects instead of tensors.",
                RuntimeWarning,
                stacklevel=4,
            )

    def _run(self, cf, key, arguments, flat):
        tr = cf._traces.get(key)
        if tr is None:
            tr = cf._traces[key] = self._trace(cf, key, arguments, flat, loud=cf._first is None)
            if cf._first is None:
                cf._first = tr
        tensors = [v for v in flat if isinstance(v, T.Tensor)]
        be = placement._scope[-1] or (tensors[0]._be if tensors else backends.default())
        prog = tr.program(be)
        outs = prog.run([_placed(t, be)._h for t in tensors])
        res = self._results(tr, prog, outs)
        if autodiff.recording():
            self._record_gradient(tr, arguments, flat, tensors, res)
        return composites.rebuild(nest.pack_sequence_as(tr.template, res)) if tr.template is not None else res[0]

    def _trace(self, cf, key, arguments, flat, loud):
        if loud and not self._pure:
            tr = self._trace_once(key, arguments, flat, allow=not self._variables_made)
            self._tracing_count += 1
            if tr[1]:  # variables were created: trace again, which must create none (TF)
                self._variables_made = True
                with _quiet():
                    tr = self._trace_once(key, arguments, flat, allow=False)
            return tr[0]
        with _quiet():
            return self._trace_once(key, arguments, flat, allow=False)[0]

    def _trace_once(self, key, arguments, flat, allow):
        g = Graph(self._name)
        g.pure = self._pure
        hook = _Hook(self._name, allow)
        g.examples = {}  # placeholder -> this call's argument (py_function's first run reads them)
        with tracing(g, hook):
            sym_flat = []
            names = _leaf_names(arguments)
            for v, nm in zip(flat, names):
                if isinstance(v, T.Tensor):
                    s = g.placeholder(v._h.shape, v._dtype, name=nm)
                    g.examples[id(s)] = v
                    sym_flat.append(T.wrap(s, v._dtype, TRACER))
                else:
                    sym_flat.append(v)
            bound = composites.rebuild(nest.pack_sequence_as(list(arguments.values()), sym_flat))
            b = inspect.BoundArguments(self._sig, dict(zip(arguments.keys(), bound)))
            try:
                out = composites.expand(self._converted()(*b.args, **b.kwargs))
            finally:
                g.examples = {}  # the graph keeps no argument alive
            template, kinds = _outputs(g, out)
        return _Trace(g, template, kinds), hook.created

    def _record_gradient(self, tr, arguments, flat, tensors, res):
        """An outer tape sees the call as one op whose vjp is a traced backward function."""
        outs = [r for r, k in zip(res, tr.out_kinds) if k[0] == "sym" and k[1].kind == "f"]
        if not outs:
            return
        variables = _variables_read(tr.graph)
        reads = [v.value() for v in variables]  # tapes link these reads to the variables
        if tr.backward is None:
            tr.backward = _backward_function(self, arguments, flat, len(tensors), variables, tr)
        bwd = tr.backward

        def vjp(dy, need):
            dys = list(dy) if isinstance(dy, tuple) else [dy]
            return tuple(bwd(*tensors, *dys))

        autodiff.record(tuple(tensors) + tuple(reads), tuple(outs), vjp)

    def _converted(self):
        """The autograph-converted Python function (converted once; closures read at conversion)."""
        if not self._autograph:
            return self.python_function
        if self._ag is None:
            from . import autograph

            self._ag = autograph.convert(self.python_function)
        return self._ag

    # -- TF's API
    def get_concrete_function(self, *args, **kwargs) -> ConcreteFunction:
        if not args and not kwargs and self.input_signature is not None:
            args = self.input_signature
        arguments = composites.expand(self._bind(args, kwargs))
        flat = nest.flatten(list(arguments.values()))
        key = self._key_of(arguments, flat)
        cf = self._find(key, arguments)
        if cf._first is None:
            concrete = [_example(v) for v in flat]
            ckey = self._key_of(arguments, concrete)
            cf._first = cf._traces[ckey] = self._trace(cf, ckey, arguments, concrete, loud=True)
        return cf

    def experimental_get_tracing_count(self) -> int:
        return self._tracing_count

    def __get__(self, obj, objtype=None):
        """Methods: one Function (one trace cache) per instance, as TF."""
        if obj is None:
            return self
        f = self._instances.get(id(obj))
        if f is None or f[0]() is not obj:
            try:
                ref = weakref.ref(obj, functools.partial(_forget, self._instances, id(obj)))
                bound = BoundMethod(self.python_function, ref)
            except TypeError:  # not weak-referenceable: held for the Function's life
                ref = (lambda o: lambda: o)(obj)
                bound = functools.partial(self.python_function, obj)
            fn = Function(
                bound, self.input_signature, self._autograph, self.jit_compile, self.reduce_retracing, self._name
            )
            f = self._instances[id(obj)] = (ref, fn)
        fn = f[1]
        return _InstanceCall(fn, obj) if isinstance(fn.python_function, BoundMethod) else fn

    def __repr__(self):
        return f"<webtensor.function.Function {self._name}>"


def _forget(instances, key, _ref):
    instances.pop(key, None)


class BoundMethod:
    """A method bound through a weak reference, so a class-level tf.function keeps no
    instance alive (each instance's traces die with it)."""

    def __init__(self, func, ref):
        self.func, self._ref = func, ref
        self.__name__ = getattr(func, "__name__", "method")
        params = list(inspect.signature(func).parameters.values())[1:]
        self.__signature__ = inspect.Signature(params)

    _strong = None  # the instance, held only while a call through ``_InstanceCall`` runs

    def __call__(self, *args, **kwargs):
        obj = self._strong if self._strong is not None else self._ref()
        if obj is None:
            raise ReferenceError(f"tf.function method {self.__name__!r}: its instance no longer exists")
        return self.func(obj, *args, **kwargs)


class _InstanceCall:
    """What ``instance.method`` gives: the instance's cached Function, with the instance held
    for the duration of the access (so ``M().f(x)`` works while caches stay weak)."""

    __slots__ = ("_fn", "_obj")

    def __init__(self, fn, obj):
        self._fn, self._obj = fn, obj

    def _with(self, meth, *args, **kwargs):
        bm = self._fn.python_function
        saved, bm._strong = bm._strong, self._obj
        try:
            return meth(*args, **kwargs)
        finally:
            bm._strong = saved

    def __call__(self, *args, **kwargs):
        return self._with(self._fn, *args, **kwargs)

    def get_concrete_function(self, *args, **kwargs):
        return self._with(self._fn.get_concrete_function, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._fn, name)

    def __repr__(self):
        return repr(self._fn)


def _variables_read(g) -> list:
    seen, out = set(), []
    stack = [g]
    while stack:
        sg = stack.pop()
        for n in sg.nodes:
            if n.type == "read_variable" and id(n.attrs["variable"]) not in seen:
                seen.add(id(n.attrs["variable"]))
                out.append(n.attrs["variable"])
            stack.extend(n.subgraphs)
    return out


def _backward_function(fwd, arguments, flat, nx, variables, tr):
    """d(outputs)/d(tensor inputs, variables) as its own tf.function (higher order works:
    its call under a tape records through the same path). Its traces are quiet and its
    graph drops the forward's side effects (prints, assignments)."""
    from ..ops import array

    template = list(arguments.values())
    names = list(arguments.keys())
    sig = fwd._sig
    pos = [i for i, v in enumerate(flat) if isinstance(v, T.Tensor)]

    def grad_fn(*hs):
        xs, dys = hs[:nx], hs[nx:]
        full = list(flat)
        for i, x in zip(pos, xs):
            full[i] = x
        packed = composites.rebuild(nest.pack_sequence_as(template, full))
        b = inspect.BoundArguments(sig, dict(zip(names, packed)))
        with autodiff.GradientTape(persistent=False) as tape:
            for x in xs:
                if x._dtype.kind == "f":
                    tape.watch(x)
            out = composites.expand(fwd.python_function(*b.args, **b.kwargs))
        fo = [v.value() if isinstance(v, T.Variable) else v for v in nest.flatten(out)]
        fo = [v for v, k in zip(fo, tr.out_kinds) if k[0] == "sym" and k[1].kind == "f"]
        srcs = list(xs) + list(variables)
        grads = tape.gradient(fo, srcs, output_gradients=list(dys))
        return [g if g is not None else array.zeros_like(s) for g, s in zip(grads, srcs)]

    f = Function(grad_fn, name=fwd._name + "_grad")
    f._pure = True
    return f


def _example(v):
    """A concrete zero tensor for a TensorSpec (None dims traced as 1; see docs)."""
    if isinstance(v, TensorSpec):
        from ..ops import array

        dims = [1 if d is None else d for d in (v.shape.as_list() if v.shape.rank is not None else [])]
        return array.zeros(dims, v.dtype)
    return v


def _leaf_names(arguments):
    names = []
    for n, v in arguments.items():
        k = len(nest.flatten(v))
        names.extend([n] if k == 1 else [f"{n}_{i}" for i in range(k)])
    return names


def _outputs(g, out):
    """Output template and kinds: ("sym", dtype) for graph outputs, ("py", value) otherwise."""
    flat = nest.flatten(out)
    kinds = []
    for v in flat:
        if isinstance(v, T.Variable):
            v = v.value()
        if type(v) in (int, float, bool):  # TF returns Python numbers as tensors
            v = T.convert(v, be=TRACER)
        if isinstance(v, T.Tensor) and v._be is TRACER:
            g.outputs.append(g.local(v._h))
            kinds.append(("sym", v._dtype))
        else:
            kinds.append(("py", v))
    return (out if nest.is_nested(out) else None), kinds


@contextlib.contextmanager
def _quiet():
    """A re-trace TF would not make: its prints and warnings are muted."""
    so, se = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = io.StringIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        sys.stdout, sys.stderr = so, se


def function(
    func=None,
    input_signature=None,
    autograph=True,
    jit_compile=None,
    reduce_retracing=False,
    experimental_relax_shapes=None,
    name=None,
    **kwargs,
):
    """``@tf.function`` or ``@tf.function(input_signature=..., reduce_retracing=...)``."""
    rr = bool(reduce_retracing or experimental_relax_shapes)

    def wrap(fn):
        return Function(fn, input_signature, autograph, jit_compile, rr, name)

    return wrap if func is None else wrap(func)


def _finisher(tr, prog):
    """``outs -> result`` for one trace's replays: a single output or a flat list/tuple of
    plain outputs is wrapped directly; any other structure (dicts, namedtuples, nesting,
    composites) goes through nest and ``composites.rebuild`` as ``_run`` does."""
    kinds, homes, template = tr.out_kinds, prog.out_homes, tr.template
    wrap = T.wrap
    if template is None and kinds[0][0] == "sym":
        dt, home = kinds[0][1], homes[0]
        return lambda outs: wrap(outs[0], dt, home)
    ctor = type(template)
    if (
        (ctor is list or ctor is tuple)
        and all(k[0] == "sym" for k in kinds)
        and not any(nest.is_nested(v) or isinstance(v, composites.Parts) for v in template)
    ):
        spec = tuple(zip(kinds, homes))
        return lambda outs: ctor([wrap(h, k[1], home) for h, (k, home) in zip(outs, spec)])
    results = Function._results

    def general(outs):
        res = results(tr, prog, outs)
        return composites.rebuild(nest.pack_sequence_as(template, res)) if template is not None else res[0]

    return general


def _placed(t, be):
    """An argument on the replay backend, or on its CPU fallback for a dtype ``be`` does not
    store (uint8 on the GPU, strings on the host), as the program binds such placeholders."""
    home = placement.for_dtype(be, t._dtype)
    return t if t._be is home else T.to_backend(t, home)

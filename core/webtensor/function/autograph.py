"""Autograph (basic): Python ``if``/``while`` on symbolic tensors become tf.cond / tf.while_loop.

A source transform with ``ast``: each convertible ``if`` becomes a call of
``ag__.if_stmt`` with branch functions taking and returning the names the statement
assigns; each ``while`` becomes ``ag__.while_stmt`` with test/body functions over the
names the body assigns. At run time the helpers use Python control flow when the
condition is a Python value or an eager tensor, and the graph ops when it is symbolic.
An ``if`` whose branches both end in ``return`` (or ``if c: ... return`` followed by the
rest of the function) becomes one returned ``if_stmt``. A ``while`` or a ``for`` over
``range``/``tf.range`` may hold top-level ``if c: break`` / ``if c: continue``: they become
a flag and guards. Statements containing other jumps, ``yield``, ``global`` or
``nonlocal`` (or a ``return`` inside a loop) are left as Python.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
import types


class _Undefined:
    def __repr__(self):
        return "<undefined>"


UNDEF = _Undefined()


def _symbolic(x) -> bool:
    from ..tensor import Tensor
    from .graph import TRACER

    return isinstance(x, Tensor) and x._be is TRACER


def if_stmt(test, body, orelse, values, names):
    """``if test:`` over ``names`` (current ``values``); returns their new values."""
    from .. import control_flow as cf

    if not _symbolic(test):
        return body(*values) if cf._concrete_bool(test, "if") else orelse(*values)
    return cf.cond(test, lambda: _defined(body(*values), names, "if"), lambda: _defined(orelse(*values), names, "else"))


def _defined(vals, names, branch):
    for n, v in zip(names, vals):
        if v is UNDEF:
            raise ValueError(
                f"autograph: {n!r} must be defined before the `if` over a tensor or in both "
                f"branches; it is undefined after the {branch} branch"
            )
    return tuple(vals)


def if_return(test, body, orelse):
    """``if test: return a`` / ``else: return b``: the returned value (a cond in graphs)."""
    from .. import control_flow as cf

    if not _symbolic(test):
        return body() if cf._concrete_bool(test, "if") else orelse()
    return cf.cond(test, body, orelse)


def while_stmt(test, body, values, names):
    """``while test:`` over loop variables ``names``; Python loop until the test is symbolic."""
    from .. import control_flow as cf

    values = tuple(values)
    while True:
        t = test(*values)
        if _symbolic(t):
            for n, v in zip(names, values):
                if v is UNDEF:
                    raise ValueError(
                        f"autograph: loop variable {n!r} must be defined before a while loop over a tensor condition"
                    )
            out = cf.while_loop(lambda *v: test(*v), lambda *v: tuple(body(*v)), list(values))
            return tuple(out)
        if not cf._concrete_bool(t, "while"):
            return values
        values = tuple(body(*values))


def not_(x):
    from ..ops import math as M

    return M.logical_not(x) if _symbolic(x) else not x


def or_(a, b):
    from ..ops import math as M

    if _symbolic(a) or _symbolic(b):
        return M.logical_or(a, b)
    return a or b


def and_(a, b):
    from ..ops import math as M

    if _symbolic(a) or _symbolic(b):
        return M.logical_and(a, b)
    return a and b


def range_bounds(range_fn, args):
    """``(start, limit, delta)`` of ``range(*args)``: Python ints, or tensors of one dtype when a
    bound is symbolic (the loop then becomes a while loop)."""
    from .. import tensor as T

    start, limit, delta = (0, args[0], 1) if len(args) == 1 else (tuple(args) + (1,))[:3]
    if not any(_symbolic(a) for a in args):
        return start, limit, delta
    dt = next(a._dtype for a in args if _symbolic(a))
    return tuple(v if isinstance(v, T.Tensor) else T.convert(v, dt) for v in (start, limit, delta))


def range_more(i, limit, delta):
    """Whether ``range`` has an element at ``i``, for either sign of ``delta``."""
    from ..ops import math as M

    if not any(_symbolic(v) for v in (i, limit, delta)):
        return i < limit if delta > 0 else i > limit
    return M.logical_or(M.logical_and(delta > 0, i < limit), M.logical_and(delta < 0, i > limit))


def for_range(range_fn, args, body, values, names):
    """``for i in range(...)`` / ``tf.range(...)``: a while loop when a bound is symbolic."""
    from .. import control_flow as cf

    values = tuple(values)
    if not any(_symbolic(a) for a in args):
        for i in range_fn(*args):
            values = tuple(body(i, *values))
        return values
    start, limit, delta = range_bounds(range_fn, args)
    for n, v in zip(names, values):
        if v is UNDEF:
            raise ValueError(f"autograph: loop variable {n!r} must be defined before a for loop over a tensor range")
    out = cf.while_loop(
        lambda i, *v: range_more(i, limit, delta),
        lambda i, *v: (i + delta,) + tuple(body(i, *v)),
        [start] + list(values),
    )
    return tuple(out[1:])


# -- the transform --------------------------------------------------------------------------

_BLOCKERS = (
    ast.Break,
    ast.Continue,
    ast.Yield,
    ast.YieldFrom,
    ast.Global,
    ast.Nonlocal,
    ast.Return,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.Try,
)


def _blocked(stmts) -> bool:
    for s in stmts:
        for n in ast.walk(s):
            if isinstance(n, _BLOCKERS):
                return True
    return False


def _assigned(stmts) -> list:
    names = []
    for s in stmts:
        for n in ast.walk(s):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id not in names:
                names.append(n.id)
    return names


def _ends_return(stmts) -> bool:
    """Ends in ``return`` (or in an if/elif/else chain whose every branch does)."""
    if not stmts or _blocked(stmts[:-1]):
        return False
    last = stmts[-1]
    if isinstance(last, ast.If):
        return _ends_return(last.body) and _ends_return(last.orelse)
    return isinstance(last, ast.Return)


class _Converter:
    def __init__(self):
        self.n = 0

    def fresh(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def block(self, stmts) -> list:
        out = []
        for i, s in enumerate(stmts):
            if isinstance(s, ast.If):
                rest = stmts[i + 1 :]
                if _ends_return(s.body) and (_ends_return(s.orelse) or (not s.orelse and _ends_return(rest))):
                    orelse = s.orelse or rest
                    out.extend(self.if_return(s.test, self.block(s.body), self.block(orelse)))
                    return out
                if not _blocked([s]):
                    out.extend(self.if_(s))
                    continue
                s.body, s.orelse = self.block(s.body), self.block(s.orelse)
            elif isinstance(s, ast.While) and not s.orelse and _has_jumps(s.body):
                flag = self.fresh("break")
                body = _lower_jumps(s.body, flag)
                if not _blocked(body):
                    out.append(ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(False)))
                    test = ast.Call(
                        ast.Attribute(ast.Name("ag__", ast.Load()), "and_", ast.Load()),
                        [
                            ast.Call(
                                ast.Attribute(ast.Name("ag__", ast.Load()), "not_", ast.Load()),
                                [ast.Name(flag, ast.Load())],
                                [],
                            ),
                            s.test,
                        ],
                        [],
                    )
                    out.extend(self.while_(ast.While(test, body, [])))
                    continue
            elif isinstance(s, ast.While) and not s.orelse and not _blocked(s.body):
                out.extend(self.while_(s))
                continue
            elif isinstance(s, ast.For) and _range_call(s) and _has_jumps(s.body):
                out.extend(self.block(self.for_as_while(s)))
                continue
            elif isinstance(s, ast.For) and _range_call(s) and not _blocked(s.body):
                out.extend(self.for_(s))
                continue
            out.append(s)
        return out

    def _fn(self, name, params, body, ret_names):
        args = ast.arguments(
            posonlyargs=[],
            args=[ast.arg(p) for p in params],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
            vararg=None,
            kwarg=None,
        )
        body = list(body)
        if ret_names is not None:  # a name a nested statement left undefined (del) returns UNDEF
            body.append(ast.Return(ast.Tuple([self._maybe(n) for n in ret_names], ast.Load())))
        return ast.FunctionDef(
            name=name, args=args, body=body or [ast.Pass()], decorator_list=[], returns=None, type_params=[]
        )

    @staticmethod
    def _maybe(n):
        """``n if 'n' in locals() else ag__.UNDEF``."""
        has = ast.Compare(ast.Constant(n), [ast.In()], [ast.Call(ast.Name("locals", ast.Load()), [], [])])
        return ast.IfExp(has, ast.Name(n, ast.Load()), ast.Attribute(ast.Name("ag__", ast.Load()), "UNDEF", ast.Load()))

    def _defaults(self, names):
        """``try: n / except NameError: n = ag__.UNDEF`` for each name (may be undefined)."""
        code = "\n".join(f"try:\n    {n}\nexcept NameError:\n    {n} = ag__.UNDEF" for n in names)
        return ast.parse(code).body if names else []

    def _cleanup(self, names):
        code = "\n".join(f"if {n} is ag__.UNDEF:\n    del {n}" for n in names)
        return ast.parse(code).body if names else []

    def _call(self, helper, args):
        return ast.Call(ast.Attribute(ast.Name("ag__", ast.Load()), helper, ast.Load()), args, [])

    def _names_tuple(self, names, ctx):
        return ast.Tuple([ast.Name(n, ctx) for n in names], ctx)

    def if_(self, s):
        names = _assigned(s.body + s.orelse)
        tb, fb = self.fresh("if_body"), self.fresh("else_body")
        out = self._defaults(names)
        out.append(self._fn(tb, names, self.block(s.body), names))
        out.append(self._fn(fb, names, self.block(s.orelse), names))
        call = self._call(
            "if_stmt",
            [
                s.test,
                ast.Name(tb, ast.Load()),
                ast.Name(fb, ast.Load()),
                self._names_tuple(names, ast.Load()),
                ast.Tuple([ast.Constant(n) for n in names], ast.Load()),
            ],
        )
        if names:
            out.append(ast.Assign([self._names_tuple(names, ast.Store())], call))
        else:
            out.append(ast.Expr(call))
        return out + self._cleanup(names)

    def if_return(self, test, body, orelse):
        tb, fb = self.fresh("if_body"), self.fresh("else_body")
        return [
            self._fn(tb, [], body, None),
            self._fn(fb, [], orelse, None),
            ast.Return(self._call("if_return", [test, ast.Name(tb, ast.Load()), ast.Name(fb, ast.Load())])),
        ]

    def for_(self, s):
        names = [n for n in _assigned(s.body) if n != s.target.id]
        bn = self.fresh("for_body")
        out = self._defaults(names)
        out.append(self._fn(bn, [s.target.id] + names, self.block(s.body), names))
        call = self._call(
            "for_range",
            [
                s.iter.func,
                ast.Tuple(s.iter.args, ast.Load()),
                ast.Name(bn, ast.Load()),
                self._names_tuple(names, ast.Load()),
                ast.Tuple([ast.Constant(n) for n in names], ast.Load()),
            ],
        )
        out.append(ast.Assign([self._names_tuple(names, ast.Store())], call) if names else ast.Expr(call))
        return out

    def for_as_while(self, s) -> list:
        """``for i in range(..)`` with ``break``/``continue``: the same loop as a ``while`` over
        an index, so the while lowering of jumps applies. The index steps before the body runs,
        so a ``continue`` cannot skip it."""
        p = self.fresh("range")
        i, limit, delta = (f"{p}_{k}" for k in ("i", "limit", "delta"))
        head = ast.parse(
            f"{i}, {limit}, {delta} = ag__.range_bounds(None, ())\n{s.target.id} = {i}\n"
            f"while ag__.range_more({i}, {limit}, {delta}):\n    {s.target.id} = {i}\n    {i} = {i} + {delta}"
        ).body
        head[0].value.args = [s.iter.func, ast.Tuple(s.iter.args, ast.Load())]
        head[2].body.extend(s.body)
        return [ast.copy_location(n, s) for n in head]

    def while_(self, s):
        names = _assigned(s.body)
        tn, bn = self.fresh("loop_test"), self.fresh("loop_body")
        out = self._defaults(names)
        out.append(self._fn(tn, names, [ast.Return(s.test)], None))
        out.append(self._fn(bn, names, self.block(s.body), names))
        call = self._call(
            "while_stmt",
            [
                ast.Name(tn, ast.Load()),
                ast.Name(bn, ast.Load()),
                self._names_tuple(names, ast.Load()),
                ast.Tuple([ast.Constant(n) for n in names], ast.Load()),
            ],
        )
        out.append(ast.Assign([self._names_tuple(names, ast.Store())], call) if names else ast.Expr(call))
        return out


def _is_jump(s, kind) -> bool:
    """``if <test>: break`` / ``if <test>: continue`` (nothing else in the if)."""
    return isinstance(s, ast.If) and not s.orelse and len(s.body) == 1 and isinstance(s.body[0], kind)


def _lower_jumps(body, flag):
    """Loop-body statements with top-level ``if c: break|continue`` rewritten without jumps:
    ``continue`` guards the rest with ``if not c``; ``break`` also sets ``flag``."""
    out = []
    for i, s in enumerate(body):
        if _is_jump(s, ast.Continue) or _is_jump(s, ast.Break):
            rest = _lower_jumps(body[i + 1 :], flag)
            if isinstance(s.body[0], ast.Break):
                out.append(
                    ast.Assign(
                        [ast.Name(flag, ast.Store())],
                        ast.Call(
                            ast.Attribute(ast.Name("ag__", ast.Load()), "or_", ast.Load()),
                            [ast.Name(flag, ast.Load()), s.test],
                            [],
                        ),
                    )
                )
                guard = ast.Name(flag, ast.Load())
            else:
                guard = s.test
            if rest:
                out.append(
                    ast.If(
                        ast.Call(ast.Attribute(ast.Name("ag__", ast.Load()), "not_", ast.Load()), [guard], []), rest, []
                    )
                )
            return out
        out.append(s)
    return out


def _has_jumps(body) -> bool:
    return any(_is_jump(s, ast.Break) or _is_jump(s, ast.Continue) for s in body)


def _range_call(s) -> bool:
    it = s.iter
    if s.orelse or not isinstance(s.target, ast.Name) or not isinstance(it, ast.Call) or it.keywords:
        return False
    f = it.func
    return (isinstance(f, ast.Name) and f.id == "range") or (isinstance(f, ast.Attribute) and f.attr == "range")


def _parse(fn):
    src = textwrap.dedent(inspect.getsource(fn))
    mod = ast.parse(src)
    ast.increment_lineno(mod, fn.__code__.co_firstlineno - 1)  # errors point at the user's lines
    fdef = next(n for n in mod.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    fdef.decorator_list = []
    return fdef


def _transform(fn):
    fdef = _parse(fn)
    fdef.body = _Converter().block(fdef.body)
    return fdef


def to_code(fn, recursive=True, experimental_optional_features=None) -> str:
    """``tf.autograph.to_code``: the converted source of ``fn``."""
    fn = getattr(fn, "python_function", fn)
    fdef = _transform(fn)
    return ast.unparse(ast.fix_missing_locations(ast.Module([fdef], type_ignores=[]))) + "\n"


def convert(fn):
    """``fn`` with its ``if``/``while`` statements converted; ``fn`` itself when its source is
    unavailable (lambdas, builtins, interactive code) or it has no such statements."""
    if isinstance(fn, functools.partial):
        inner = convert(fn.func)
        return fn if inner is fn.func else functools.partial(inner, *fn.args, **fn.keywords)
    from .trace import BoundMethod

    if isinstance(fn, BoundMethod):
        inner = convert(fn.func)
        return fn if inner is fn.func else BoundMethod(inner, fn._ref)
    code = getattr(fn, "__code__", None)
    if code is None or fn.__name__ == "<lambda>":
        return fn
    try:
        fdef = _parse(fn)
    except (OSError, TypeError, SyntaxError, StopIteration, IndentationError):
        return fn
    if not any(isinstance(n, (ast.If, ast.While, ast.For)) for n in ast.walk(fdef)):
        return fn
    fdef.body = _Converter().block(fdef.body)
    free = list(code.co_freevars)
    factory = ast.FunctionDef(
        name="__ag_factory",
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg(n) for n in free],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
            vararg=None,
            kwarg=None,
        ),
        body=[fdef, ast.Return(ast.Name(fdef.name, ast.Load()))],
        decorator_list=[],
        returns=None,
        type_params=[],
    )
    mod = ast.fix_missing_locations(ast.Module([factory], type_ignores=[]))
    filename = inspect.getsourcefile(fn) or "<autograph>"
    ns = dict(fn.__globals__)
    import sys

    ns["ag__"] = sys.modules[__name__]
    exec(compile(mod, filename, "exec"), ns)
    inner = next(
        c for c in ns["__ag_factory"].__code__.co_consts if isinstance(c, types.CodeType) and c.co_name == fdef.name
    )
    cells = dict(zip(code.co_freevars, fn.__closure__ or ()))  # the live cells: closures stay by reference
    new = types.FunctionType(inner, ns, fn.__name__, fn.__defaults__, tuple(cells[n] for n in inner.co_freevars))
    new.__kwdefaults__ = fn.__kwdefaults__
    functools.update_wrapper(new, fn)
    return new

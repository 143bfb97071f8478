"""``tf.debugging``: assertions and check_numerics, eager and as graph ``assert`` nodes.

Eagerly a failed check raises ``InvalidArgumentError`` at once. Inside a tf.function it
is an ``assert`` node (a side effect, never pruned) that raises when the graph runs."""

from __future__ import annotations

from . import tensor as T
from .control_flow import _is_symbolic, _tracing, format_value
from .errors import InvalidArgumentError
from .function.graph import TRACER, read_bool
from .ops import array as A
from .ops import math as M
from .ops import reduce as R


def _values(be, h, dt, summarize):
    from . import host

    v = host.to_host(be.read(h), tuple(h.shape), dt)
    return format_value(v.tolist() if hasattr(v, "tolist") else v, summarize)


def label_out_of_range(be, h, dt, c):
    """The first label outside [0, c) (the largest above, else the smallest below), or None."""
    from . import host

    vals = host.unpack_array(be.read(h), dt)
    lo, hi = min(vals), max(vals)
    return hi if hi >= c else lo if lo < 0 else None


def label_range_message(bad, c) -> str:
    return (
        f"sparse_softmax_cross_entropy_with_logits: received a label value of {bad} which is "
        f"outside the valid range of [0, {c})"
    )


def assert_label_range(lab, c) -> None:
    """In a trace: an ``assert`` node with ``attrs["label_range"] = c`` over (all labels in
    range, labels). Replay checks it on CPU backends only (TF checks labels on CPU, not on
    GPUs) and names the bad value as eager does; a runtime that ignores the attribute still
    raises with ``message``."""
    ok = R.reduce_all(M.logical_and(M.greater_equal(lab, 0), M.less(lab, c)))
    g = TRACER.graph
    attrs = {
        "message": f"sparse_softmax_cross_entropy_with_logits: a label value is outside the valid range of [0, {c})",
        "labels": ["labels"],
        "summarize": 3,
        "label_range": c,
    }
    g.add("assert", attrs, [g.local(ok._h), g.local(lab._h)], [], name="Assert")


def fail_message(attrs, values) -> str:
    """The error text: the message, then each data tensor (TF's layout)."""
    if "label_range" in attrs:
        c = attrs["label_range"]
        return label_range_message(label_out_of_range(*values[0], c), c)
    parts = [attrs["message"]]
    for label, (be, h, dt) in zip(attrs["labels"], values):
        parts.append(f"{label} (shape={tuple(h.shape)} dtype={dt.name}) = {_values(be, h, dt, attrs['summarize'])}")
    return "\n".join(parts)


def Assert(condition, data, summarize=None, name=None):
    """``tf.debugging.Assert``: raise when ``condition`` (a bool scalar) is False."""
    _assert(condition, list(data), [f"data[{i}]" for i in range(len(data))], "assertion failed", summarize)


def _assert(cond, data, labels, message, summarize=None):
    c = T.convert(cond)
    data = [d.value() if isinstance(d, T.Variable) else d for d in data]
    tensors = [d if isinstance(d, T.Tensor) else T.convert(d) for d in data]
    attrs = {"message": message, "labels": labels, "summarize": 3 if summarize is None else summarize}
    if _tracing() and (_is_symbolic(c) or any(_is_symbolic(t) for t in tensors)):
        g = TRACER.graph
        hs = [g.local(T.convert(t, be=TRACER)._h) for t in [c] + tensors]
        g.add("assert", attrs, hs, [], name="Assert")
        return
    if not read_bool(c._be, c._h, c._dtype):
        raise InvalidArgumentError(fail_message(attrs, [(t._be, t._h, t._dtype) for t in tensors]))
    return


def _pair(op, sym):
    def check(x, y, data=None, summarize=None, message=None, name=None):
        x, y = T.convert(x), T.convert(y, x.dtype if not isinstance(y, T.Tensor) else None)
        cond = R.reduce_all(getattr(M, op)(x, y))
        text = (message + "\n" if message else "") + f"Condition x {sym} y did not hold element-wise:"
        return _assert(
            cond,
            [x, y] if data is None else list(data),
            ["x", "y"] if data is None else [f"data[{i}]" for i in range(len(data))],
            text,
            summarize,
        )

    check.__name__ = f"assert_{op}"
    return check


assert_equal = _pair("equal", "==")
assert_none_equal = _pair("not_equal", "!=")
assert_less = _pair("less", "<")
assert_less_equal = _pair("less_equal", "<=")
assert_greater = _pair("greater", ">")
assert_greater_equal = _pair("greater_equal", ">=")


def _sign(op, sym, what):
    def check(x, data=None, summarize=None, message=None, name=None):
        x = T.convert(x)
        cond = R.reduce_all(getattr(M, op)(x, A.zeros_like(x)))
        text = (message + "\n" if message else "") + f"Condition x {sym} 0 did not hold element-wise ({what}):"
        return _assert(
            cond,
            [x] if data is None else list(data),
            ["x"] if data is None else [f"data[{i}]" for i in range(len(data))],
            text,
            summarize,
        )

    return check


assert_positive = _sign("greater", ">", "positive")
assert_negative = _sign("less", "<", "negative")
assert_non_negative = _sign("greater_equal", ">=", "non-negative")
assert_non_positive = _sign("less_equal", "<=", "non-positive")


def assert_rank(x, rank, message=None, name=None):
    """Static check (shapes are static here): ValueError as TF for a known mismatch."""
    r = len(T.convert(x)._h.shape)
    if r != int(rank):
        raise ValueError(
            f"{message + ' ' if message else ''}Tensor must have rank {int(rank)}. Received rank "
            f"{r}, shape {tuple(T.convert(x)._h.shape)}"
        )


def assert_type(tensor, tf_type, message=None, name=None):
    from . import dtypes as D

    t = T.convert(tensor)
    if t.dtype is not D.as_dtype(tf_type):
        raise TypeError(
            f"{message + ' ' if message else ''}tensor must be of type {D.as_dtype(tf_type).name}, got {t.dtype.name}"
        )


def check_numerics(tensor, message, name=None):
    """``tf.debugging.check_numerics``: ``tensor`` itself; InvalidArgumentError on NaN or Inf."""
    t = T.convert(tensor)
    if t.dtype.kind != "f":
        raise TypeError(f"check_numerics: expects a floating-point tensor, got {t.dtype.name}")
    _assert(R.reduce_all(M.logical_not(M.is_nan(t))), [], [], f"{message} : Tensor had NaN values")
    _assert(R.reduce_all(M.logical_not(M.is_inf(t))), [], [], f"{message} : Tensor had Inf values")
    return t

"""Layout helpers every backend shares: C-order strides, broadcast strides, collapsing
an N-d walk to its fewest dims, and the identity of an empty reduction."""

from __future__ import annotations

from .. import dtypes as D


def strides(shape: tuple) -> list:
    """Element strides of a C-ordered (row-major) array of ``shape``."""
    st, acc = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        st[d] = acc
        acc *= shape[d]
    return st


def bcast_strides(shape: tuple, out: tuple, unit: int = 1) -> list:
    """Strides (times ``unit``) of a contiguous ``shape`` read as broadcast to ``out``: 0
    along the dims it repeats (numpy's rule: leading dims added, size-1 dims stretched)."""
    lead = len(out) - len(shape)
    st = strides(tuple(shape))
    return [0 if i < lead or shape[i - lead] == 1 else st[i - lead] * unit for i in range(len(out))]


def collapse(shape: tuple, strides_list: list) -> tuple:
    """(dims, [strides per operand]) of the same walk with unit dims dropped and neighbours
    that every operand steps through contiguously merged; at least one dim. A walk of one
    element is ``((1,), [(0,), ...])``: its only index is 0, and 0 is the stride of a dim
    that is never stepped (as ``bcast_strides`` gives a repeated dim)."""
    dims: list = []
    rows: list = [[] for _ in strides_list]
    for d, n in enumerate(shape):
        if n == 1:
            continue
        if dims and all(r[-1] == st[d] * n for r, st in zip(rows, strides_list)):
            dims[-1] *= n
            for r, st in zip(rows, strides_list):
                r[-1] = st[d]
            continue
        dims.append(n)
        for r, st in zip(rows, strides_list):
            r.append(st[d])
    if not dims:
        return (1,), [(0,) for _ in strides_list]
    return tuple(dims), [tuple(r) for r in rows]


def identity(op: str, dt: D.DType):
    """The value a reduction of no elements gives (base.Backend's convention): 0 for sum
    and any, 1 for prod and all, -inf/+inf for float max/min, the dtype's min/max for ints,
    False/True for bool."""
    if op in ("sum", "any"):
        return 0
    if op in ("prod", "all"):
        return 1
    if dt.kind == "f":
        return float("-inf") if op == "max" else float("inf")
    if dt is D.bool_:
        return op == "min"
    return dt.min if op == "max" else dt.max

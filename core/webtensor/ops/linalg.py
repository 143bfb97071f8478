"""matmul and what is built on it: tensordot, einsum, norms, norm clipping."""
from __future__ import annotations

import math as _pymath

from ..errors import InvalidArgumentError
from ..shape import broadcast_shape, normalize_axes, prod
from .dispatch import NUMERIC, Tensor, check_kind, one, record, tapes, two, wrap
from . import array as A
from . import math as m
from .reduce import reduce_max, reduce_sum


def _unbroadcast_batch(g: Tensor, shape: tuple) -> Tensor:
    return g if tuple(g._h.shape) == shape else m.unbroadcast(g, shape)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, grad_a=False, grad_b=False,
           name=None) -> Tensor:
    """``a @ b`` over the last two dims; batch dims broadcast (TF's BatchMatMulV2)."""
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    x, y = two(a, b, "matmul")
    check_kind(x, "matmul", NUMERIC)
    xs, ys = tuple(x._h.shape), tuple(y._h.shape)
    if len(xs) < 2 or len(ys) < 2:
        raise InvalidArgumentError(f"matmul: both inputs need rank >= 2, got shapes {xs} and {ys} "
                                   f"(use tf.tensordot or reshape for vectors)")
    ka = xs[-2] if ta else xs[-1]
    kb = ys[-1] if tb else ys[-2]
    if ka != kb:
        raise InvalidArgumentError(f"matmul: shapes {xs} and {ys} are incompatible (inner dims "
                                   f"{ka} != {kb}; transpose_a={ta}, transpose_b={tb})")
    if xs[:-2] != ys[:-2]:
        broadcast_shape(xs[:-2], ys[:-2], "matmul (batch dims)")
    be = x._be
    z = wrap(be.matmul(x._h, y._h, ta, tb), x._dtype, be)
    if tapes and x._dtype.kind == "f":
        def vjp(g, need):
            if not ta:
                gx = (matmul(g, y, transpose_b=not tb) if not tb else matmul(g, y)) if need[0] else None
                gy = (matmul(x, g, transpose_a=True) if not tb else matmul(g, x, transpose_a=True)) \
                    if need[1] else None
            else:
                gx = (matmul(y, g, transpose_b=True) if not tb else
                      matmul(y, g, transpose_a=True, transpose_b=True)) if need[0] else None
                gy = (matmul(x, g) if not tb else matmul(g, x, transpose_a=True, transpose_b=True)) \
                    if need[1] else None
            return (None if gx is None else _unbroadcast_batch(gx, xs),
                    None if gy is None else _unbroadcast_batch(gy, ys))

        record((x, y), (z,), vjp)
    return z


def matrix_transpose(a, name=None, conjugate=False) -> Tensor:
    x = one(a, "matrix_transpose")
    r = len(x._h.shape)
    return A.transpose(x, tuple(range(r - 2)) + (r - 1, r - 2))


def tensordot(a, b, axes, name=None) -> Tensor:
    """Contract ``axes`` of a with those of b: transpose, reshape, one matmul."""
    x, y = two(a, b, "tensordot")
    xs, ys = tuple(x._h.shape), tuple(y._h.shape)
    if isinstance(axes, int) or (hasattr(axes, "_h") and not axes._h.shape):
        n = int(axes)
        if n > len(xs) or n > len(ys):
            raise InvalidArgumentError(f"tensordot: axes={n} exceeds the rank of {xs} or {ys}")
        ax_a, ax_b = list(range(len(xs) - n, len(xs))), list(range(n))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, int) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, int) else list(ax_b)
        ax_a = [a % len(xs) for a in ax_a]
        ax_b = [b_ % len(ys) for b_ in ax_b]
    if len(ax_a) != len(ax_b) or any(xs[i] != ys[j] for i, j in zip(ax_a, ax_b)):
        raise InvalidArgumentError(f"tensordot: contracted dims of {xs} (axes {ax_a}) and {ys} "
                                   f"(axes {ax_b}) do not match")
    free_a = [i for i in range(len(xs)) if i not in ax_a]
    free_b = [i for i in range(len(ys)) if i not in ax_b]
    k = prod(xs[i] for i in ax_a)
    xa = A.reshape(A.transpose(x, free_a + ax_a), (prod(xs[i] for i in free_a), k))
    yb = A.reshape(A.transpose(y, ax_b + free_b), (k, prod(ys[i] for i in free_b)))
    return A.reshape(matmul(xa, yb), tuple(xs[i] for i in free_a) + tuple(ys[i] for i in free_b))


def einsum(equation: str, *inputs, name=None, **kwargs) -> Tensor:
    """One- and two-operand einsum: labels are classified as batch, contracted or free,
    then one matmul does the work (no repeated labels within one operand)."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs = eq
        letters = lhs.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    specs = lhs.split(",")
    for c in out:
        if c not in lhs or out.count(c) > 1:
            raise InvalidArgumentError(f"einsum: output label {c!r} in {equation!r} "
                                       + ("appears more than once" if c in lhs else "is not in any input"))
    if len(specs) != len(inputs):
        raise InvalidArgumentError(f"einsum: equation {equation!r} names {len(specs)} operands, "
                                   f"got {len(inputs)}")
    if "." in eq:
        raise InvalidArgumentError(f"einsum: ellipsis ('...') is not supported in {equation!r}")
    ts = [one(t, "einsum") for t in inputs]
    ts = [_einsum_prepare(t, s, out, specs[:i] + specs[i + 1:], equation)
          for i, (t, s) in enumerate(zip(ts, specs))]
    if len(ts) == 1:
        t, s = ts[0]
        return A.transpose(t, [s.index(c) for c in out])
    if len(ts) != 2:
        raise InvalidArgumentError(f"einsum: only one or two operands are supported, got {len(ts)}")
    (x, sa), (y, sb) = ts
    batch = [c for c in sa if c in sb and c in out]
    contr = [c for c in sa if c in sb and c not in out]
    fa = [c for c in sa if c not in sb]
    fb = [c for c in sb if c not in sa]
    dims = {c: d for t, s in ((x, sa), (y, sb)) for c, d in zip(s, t._h.shape)}
    for c in batch + contr:
        if x._h.shape[sa.index(c)] != y._h.shape[sb.index(c)]:
            raise InvalidArgumentError(f"einsum: label {c!r} has size {x._h.shape[sa.index(c)]} in "
                                       f"operand 0 and {y._h.shape[sb.index(c)]} in operand 1")
    nb, nk = prod(dims[c] for c in batch), prod(dims[c] for c in contr)
    na, nbf = prod(dims[c] for c in fa), prod(dims[c] for c in fb)
    xm = A.reshape(A.transpose(x, [sa.index(c) for c in batch + fa + contr]), (nb, na, nk))
    ym = A.reshape(A.transpose(y, [sb.index(c) for c in batch + contr + fb]), (nb, nk, nbf))
    z = A.reshape(matmul(xm, ym), tuple(dims[c] for c in batch + fa + fb))
    order = batch + fa + fb
    return A.transpose(z, [order.index(c) for c in out])


def _einsum_prepare(t, spec, out, other_specs, equation):
    """Sum away labels that appear in this operand only and not in the output."""
    if len(spec) != len(t._h.shape):
        raise InvalidArgumentError(f"einsum: operand spec {spec!r} has {len(spec)} labels but the "
                                   f"tensor has shape {tuple(t._h.shape)} in {equation!r}")
    if len(set(spec)) != len(spec):
        raise InvalidArgumentError(f"einsum: repeated label within one operand ({spec!r}, traces or "
                                   f"diagonals) is not supported in {equation!r}")
    others = "".join(other_specs)
    drop = [i for i, c in enumerate(spec) if c not in out and c not in others]
    if drop:
        t = reduce_sum(t, drop)
        spec = "".join(c for i, c in enumerate(spec) if i not in drop)
    return t, spec


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None) -> Tensor:
    """Vector norms (any p, inf) and matrix norms ('fro', 1, inf) as ``tf.norm``."""
    x = one(tensor, "norm")
    r = len(x._h.shape)
    keep = bool(keepdims)
    if isinstance(axis, (list, tuple)) and len(axis) == 2:
        normalize_axes(list(axis), r, "norm")  # validates both axes
        a0, a1 = axis[0] % r, axis[1] % r
        if ord in ("euclidean", "fro"):
            return m.sqrt(reduce_sum(m.square(x), [a0, a1], keep))
        if ord in (1, _pymath.inf):  # max column sum / max row sum
            rows, cols = (a0, a1) if ord == 1 else (a1, a0)
            t = reduce_max(reduce_sum(m.abs(x), rows, True), cols, True)
            return t if keep else A.squeeze(t, [a0, a1])
        raise InvalidArgumentError(f"norm: matrix ord {ord!r} is not supported (use 'fro', 1 or inf)")
    axes = normalize_axes(axis, r, "norm")
    if ord in ("euclidean", 2, 2.0):
        return m.sqrt(reduce_sum(m.square(x), axes, keep))
    if ord == _pymath.inf:
        return reduce_max(m.abs(x), axes, keep)
    if ord == 1:
        return reduce_sum(m.abs(x), axes, keep)
    if isinstance(ord, (int, float)) and ord > 0:
        return m.pow(reduce_sum(m.pow(m.abs(x), float(ord)), axes, keep), 1.0 / ord)
    raise InvalidArgumentError(f"norm: ord must be 'euclidean', 'fro', a positive number or inf; got {ord!r}")


def global_norm(t_list, name=None) -> Tensor:
    return m.sqrt(m.add_n([reduce_sum(m.square(t)) for t in t_list if t is not None]))


def clip_by_norm(t, clip_norm, axes=None, name=None) -> Tensor:
    x = one(t, "clip_by_norm")
    l2 = m.sqrt(reduce_sum(m.square(x), axes, keepdims=True))
    return x * clip_norm / m.maximum(l2, clip_norm)


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    g = global_norm(t_list) if use_norm is None else use_norm
    scale = clip_norm / m.maximum(g, clip_norm)
    return [None if t is None else t * scale for t in t_list], g

"""matmul and what is built on it: tensordot, einsum, norms, norm clipping."""

from __future__ import annotations

import math as _pymath

from ..composite import composite_in
from ..errors import InvalidArgumentError
from ..shape import broadcast_shape, normalize_axes, prod
from .dispatch import NUMERIC, Tensor, check_kind, operand, record, tapes, operands, wrap
from . import array as A
from . import math as M
from .reduce import reduce_max, reduce_sum


def _unbroadcast_batch(g: Tensor, shape: tuple) -> Tensor:
    return g if tuple(g._h.shape) == shape else M.unbroadcast(g, shape)


def matmul(
    a,
    b,
    transpose_a=False,
    transpose_b=False,
    adjoint_a=False,
    adjoint_b=False,
    a_is_sparse=False,
    b_is_sparse=False,
    output_type=None,
    grad_a=False,
    grad_b=False,
    name=None,
) -> Tensor:
    """``a @ b`` over the last two dims; batch dims broadcast (TF's BatchMatMulV2)."""
    if type(a) is not Tensor or type(b) is not Tensor:
        c = composite_in(a, b)
        if c is not None:  # complex (or sparse) operands: their own rule
            return c._dispatch(
                matmul,
                (a, b),
                {
                    "transpose_a": transpose_a,
                    "transpose_b": transpose_b,
                    "adjoint_a": adjoint_a,
                    "adjoint_b": adjoint_b,
                },
            )
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    x, y = operands(a, b, "matmul")
    check_kind(x, "matmul", NUMERIC)
    xs, ys = tuple(x._h.shape), tuple(y._h.shape)
    if len(xs) < 2 or len(ys) < 2:
        raise InvalidArgumentError(
            f"matmul: both inputs need rank >= 2, got shapes {xs} and {ys} (use tf.tensordot or reshape for vectors)"
        )
    ka = xs[-2] if ta else xs[-1]
    kb = ys[-1] if tb else ys[-2]
    if ka != kb:
        raise InvalidArgumentError(
            f"matmul: shapes {xs} and {ys} are incompatible (inner dims "
            f"{ka} != {kb}; transpose_a={ta}, transpose_b={tb})"
        )
    if xs[:-2] != ys[:-2]:
        broadcast_shape(xs[:-2], ys[:-2], "matmul (batch dims)")
    be = x._be
    z = wrap(be.matmul(x._h, y._h, ta, tb), x._dtype, be)
    if tapes and x._dtype.kind == "f":

        def vjp(g, need):
            if not ta:
                gx = (matmul(g, y, transpose_b=not tb) if not tb else matmul(g, y)) if need[0] else None
                gy = (matmul(x, g, transpose_a=True) if not tb else matmul(g, x, transpose_a=True)) if need[1] else None
            else:
                gx = (
                    (matmul(y, g, transpose_b=True) if not tb else matmul(y, g, transpose_a=True, transpose_b=True))
                    if need[0]
                    else None
                )
                gy = (matmul(x, g) if not tb else matmul(g, x, transpose_a=True, transpose_b=True)) if need[1] else None
            return (
                None if gx is None else _unbroadcast_batch(gx, xs),
                None if gy is None else _unbroadcast_batch(gy, ys),
            )

        record((x, y), (z,), vjp)
    return z


def matrix_transpose(a, name=None, conjugate=False) -> Tensor:
    x = operand(a, "matrix_transpose")
    r = len(x._h.shape)
    return A.transpose(x, tuple(range(r - 2)) + (r - 1, r - 2))


def tensordot(a, b, axes, name=None) -> Tensor:
    """Contract ``axes`` of a with those of b: transpose, reshape, one matmul."""
    x, y = operands(a, b, "tensordot")
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
        for ax, r, t in ((ax_a, len(xs), xs), (ax_b, len(ys), ys)):
            bad = [i for i in ax if not -r <= i < r]
            if bad:
                raise InvalidArgumentError(f"tensordot: axes {bad} are out of range for shape {t} (rank {r})")
        ax_a = [a % len(xs) for a in ax_a]
        ax_b = [b_ % len(ys) for b_ in ax_b]
    if len(ax_a) != len(ax_b) or any(xs[i] != ys[j] for i, j in zip(ax_a, ax_b)):
        raise InvalidArgumentError(
            f"tensordot: contracted dims of {xs} (axes {ax_a}) and {ys} (axes {ax_b}) do not match"
        )
    free_a = [i for i in range(len(xs)) if i not in ax_a]
    free_b = [i for i in range(len(ys)) if i not in ax_b]
    k = prod(xs[i] for i in ax_a)
    xa = A.reshape(A.transpose(x, free_a + ax_a), (prod(xs[i] for i in free_a), k))
    yb = A.reshape(A.transpose(y, ax_b + free_b), (k, prod(ys[i] for i in free_b)))
    return A.reshape(matmul(xa, yb), tuple(xs[i] for i in free_a) + tuple(ys[i] for i in free_b))


_ELLIPSIS_LABELS = "".join(chr(0x3B1 + i) for i in range(24))  # private labels for "..." dims


def _einsum_parse(equation: str, shapes: list):
    """(operand specs, output spec) with "..." expanded into private labels, right-aligned
    across operands as numpy broadcasting does."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    specs = lhs.split(",")
    if len(specs) != len(shapes):
        raise InvalidArgumentError(f"einsum: equation {equation!r} names {len(specs)} operands, got {len(shapes)}")
    ell = 0
    for spec, shape in zip(specs, shapes):
        if "..." in spec:
            ell = max(ell, len(shape) - (len(spec) - 3))
    labels = _ELLIPSIS_LABELS[len(_ELLIPSIS_LABELS) - ell :] if ell else ""
    expanded = []
    for spec, shape in zip(specs, shapes):
        if "..." in spec:
            k = len(shape) - (len(spec) - 3)
            if k < 0:
                raise InvalidArgumentError(
                    f"einsum: operand spec {spec!r} has more labels than the tensor "
                    f"of shape {tuple(shape)} has dims in {equation!r}"
                )
            spec = spec.replace("...", labels[ell - k :] if k else "")
        if "." in spec or not all(c.isalpha() for c in spec):
            raise InvalidArgumentError(
                f"einsum: invalid operand spec {spec!r} in {equation!r} (letters and one '...' per operand)"
            )
        if len(spec) != len(shape):
            raise InvalidArgumentError(
                f"einsum: operand spec {spec!r} has {len(spec)} labels but the "
                f"tensor has shape {tuple(shape)} in {equation!r}"
            )
        expanded.append(spec)
    if arrow:
        out = out.replace("...", labels)
    else:
        letters = "".join(expanded)
        out = labels + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in labels))
    for c in out:
        if c not in "".join(expanded) or out.count(c) > 1:
            raise InvalidArgumentError(
                f"einsum: output label {c!r} in {equation!r} "
                + ("appears more than once" if c in lhs else "is not in any input")
            )
    return expanded, out


def _einsum_diagonals(t: Tensor, spec: str):
    """Repeated labels within one operand take the diagonal (TF: traces and diagonals)."""
    from .creation import matrix_diag_part

    while len(set(spec)) != len(spec):
        c = next(ch for ch in spec if spec.count(ch) > 1)
        i, j = spec.index(c), spec.index(c, spec.index(c) + 1)
        if t._h.shape[i] != t._h.shape[j]:
            raise InvalidArgumentError(
                f"einsum: repeated label {c!r} has sizes {t._h.shape[i]} and {t._h.shape[j]} in operand {spec!r}"
            )
        rest = [k for k in range(len(spec)) if k not in (i, j)]
        t = matrix_diag_part(A.transpose(t, rest + [i, j]))
        spec = "".join(spec[k] for k in rest) + c
    return t, spec


def _einsum_pair(x, sa, y, sb, keep: str, equation: str):
    """Contract two operands over their shared labels not in ``keep``: one batched matmul."""
    sizes = {}
    for t, s in ((x, sa), (y, sb)):
        for c, d in zip(s, t._h.shape):
            if sizes.get(c, d) != d and 1 not in (sizes[c], d):
                raise InvalidArgumentError(f"einsum: label {c!r} has sizes {sizes[c]} and {d} in {equation!r}")
            sizes[c] = max(sizes.get(c, d), d)
    x = A.broadcast_to(x, tuple(sizes[c] for c in sa))
    y = A.broadcast_to(y, tuple(sizes[c] for c in sb))
    batch = [c for c in sa if c in sb and c in keep]
    contr = [c for c in sa if c in sb and c not in keep]
    fa = [c for c in sa if c not in sb]
    fb = [c for c in sb if c not in sa]
    nb, nk = prod(sizes[c] for c in batch), prod(sizes[c] for c in contr)
    na, nbf = prod(sizes[c] for c in fa), prod(sizes[c] for c in fb)
    xm = A.reshape(A.transpose(x, [sa.index(c) for c in batch + fa + contr]), (nb, na, nk))
    ym = A.reshape(A.transpose(y, [sb.index(c) for c in batch + contr + fb]), (nb, nk, nbf))
    z = A.reshape(matmul(xm, ym), tuple(sizes[c] for c in batch + fa + fb))
    return z, "".join(batch + fa + fb)


def einsum(equation: str, *inputs, name=None, **kwargs) -> Tensor:
    """``tf.einsum``: any number of operands, "..." broadcasting, repeated labels
    (diagonals, traces). Operands are contracted left to right, each pair by one matmul."""
    ts = [operand(t, "einsum") for t in inputs]
    specs, out = _einsum_parse(equation, [tuple(t._h.shape) for t in ts])
    ops = [_einsum_diagonals(t, s) for t, s in zip(ts, specs)]
    ops = [
        _einsum_sum_unique(t, s, out + "".join(o for _, o in ops[:i] + ops[i + 1 :])) for i, (t, s) in enumerate(ops)
    ]
    x, sx = ops[0]
    for i in range(1, len(ops)):
        y, sy = ops[i]
        keep = out + "".join(s for _, s in ops[i + 1 :])
        x, sx = _einsum_pair(x, sx, y, sy, keep, equation)
    x, sx = _einsum_sum_unique(x, sx, out)
    return A.transpose(x, [sx.index(c) for c in out])


def _einsum_sum_unique(t, spec, needed: str):
    """Sum away the labels of this operand that nothing later needs."""
    drop = [i for i, c in enumerate(spec) if c not in needed]
    if drop:
        t = reduce_sum(t, drop)
        spec = "".join(c for i, c in enumerate(spec) if i not in drop)
    return t, spec


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None) -> Tensor:
    """Vector norms (any p, inf) and matrix norms ('fro', 1, inf) as ``tf.norm``."""
    x = operand(tensor, "norm")
    r = len(x._h.shape)
    keep = bool(keepdims)
    if isinstance(axis, (list, tuple)) and len(axis) == 2:
        normalize_axes(list(axis), r, "norm")  # validates both axes
        a0, a1 = axis[0] % r, axis[1] % r
        if ord in ("euclidean", "fro"):
            return M.sqrt(reduce_sum(M.square(x), [a0, a1], keep))
        if ord in (1, _pymath.inf):  # max column sum / max row sum
            rows, cols = (a0, a1) if ord == 1 else (a1, a0)
            t = reduce_max(reduce_sum(M.abs(x), rows, True), cols, True)
            return t if keep else A.squeeze(t, [a0, a1])
        raise InvalidArgumentError(f"norm: matrix ord {ord!r} is not supported (use 'fro', 1 or inf)")
    axes = normalize_axes(axis, r, "norm")
    if ord in ("euclidean", 2, 2.0):
        return M.sqrt(reduce_sum(M.square(x), axes, keep))
    if ord == _pymath.inf:
        return reduce_max(M.abs(x), axes, keep)
    if ord == 1:
        return reduce_sum(M.abs(x), axes, keep)
    if isinstance(ord, (int, float)) and ord > 0:
        return M.pow(reduce_sum(M.pow(M.abs(x), float(ord)), axes, keep), 1.0 / ord)
    raise InvalidArgumentError(f"norm: ord must be 'euclidean', 'fro', a positive number or inf; got {ord!r}")


def global_norm(t_list, name=None) -> Tensor:
    return M.sqrt(M.add_n([reduce_sum(M.square(t)) for t in t_list if t is not None]))


def clip_by_norm(t, clip_norm, axes=None, name=None) -> Tensor:
    x = operand(t, "clip_by_norm")
    l2 = M.sqrt(reduce_sum(M.square(x), axes, keepdims=True))
    return x * clip_norm / M.maximum(l2, clip_norm)


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    g = global_norm(t_list) if use_norm is None else use_norm
    scale = clip_norm / M.maximum(g, clip_norm)
    return [None if t is None else t * scale for t in t_list], g

"""``tf.linalg`` qr, eigh, eigvalsh, svd, lstsq, pinv, matrix_rank, expm and lu (with
lu_solve, lu_reconstruct, lu_matrix_inverse), composed of existing primitives.

As in linalg_extra, the forward passes are batched op sequences on the tensor's own
backend, so every backend and every traced graph runs them without new kernels:
- QR: Householder reflections, one per column, with LAPACK's sign rule (R's diagonal
  is ``-sign(a_kk) * |column|``, and no reflection when the column is already reduced).
- eigh: parallel cyclic Jacobi. Each round rotates n/2 disjoint index pairs at once
  (a round-robin tournament covers every pair once per sweep); the rotations of a round
  form one orthogonal matrix J, applied as two matmuls (``A <- J^T A J``).
- svd: one-sided (Hestenes) Jacobi on the columns, with the same rounds; U's columns
  are completed to an orthonormal basis by a QR of ``[U | I]``.
Eagerly Jacobi stops once the off-diagonal mass is at rounding level (one readback per
sweep); in a graph it runs a fixed number of sweeps. Gradients are TF's formulas,
recorded as one node per decomposition."""

from __future__ import annotations

import math as _math

from .. import dtypes as D
from ..errors import InvalidArgumentError
from . import array as A
from . import math as M
from .creation import band_part, matrix_diag, matrix_diag_part, matrix_set_diag
from .dispatch import FLOAT, Tensor, check_kind, composite, operand, same_dtype
from .linalg import matmul
from .linalg_extra import _eager, _eye_like, _mt, _sym_lower, cholesky, cholesky_solve, solve, triangular_solve
from .reduce import argmax, reduce_max, reduce_sum
from .sorting import argsort

_EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}
_GRAPH_SWEEPS = {"float16": 8, "bfloat16": 8, "float32": 10, "float64": 14}
_MAX_SWEEPS = 40


def _matrix(x, op) -> Tensor:
    t = operand(x, op)
    check_kind(t, op, FLOAT)
    if len(t._h.shape) < 2:
        raise InvalidArgumentError(
            f"{op}: input must have rank >= 2 (a batch of matrices), got shape {tuple(t._h.shape)} {t._dtype.name}"
        )
    return t


def _square(x, op) -> Tensor:
    t = _matrix(x, op)
    s = tuple(t._h.shape)
    if s[-1] != s[-2]:
        raise InvalidArgumentError(f"{op}: input must be a batch of square matrices, got shape {s} {t._dtype.name}")
    return t


def _cols(x: Tensor, start: int, n: int) -> Tensor:
    return A._axis_slice(x, len(x._h.shape) - 1, start, n)


def _rows(x: Tensor, start: int, n: int) -> Tensor:
    return A._axis_slice(x, len(x._h.shape) - 2, start, n)


def _safe_reciprocal(x: Tensor, eps: float = 1e-20) -> Tensor:
    """TF's ``_SafeReciprocal``: x / (x^2 + eps), finite where eigen/singular values tie."""
    return x * M.reciprocal(x * x + eps)


def _native(t: Tensor, kernel: str):
    """The tensor's backend when it has the optional ``kernel`` (base.OPTIONAL_KERNELS) for
    this eager float32/float64 value, else None (the composition runs)."""
    be = t._be
    if kernel in be.fused and t._dtype in (D.float32, D.float64) and _eager(t):
        return be
    return None


def _wrapped(be, hs, dtype) -> tuple:
    from ..tensor import wrap

    return tuple(wrap(h, dtype, be) for h in hs)


def _host_float(t: Tensor) -> float:
    return float(A._host_flat(t)[0])


# -- QR ----------------------------------------------------------------------------------


def _householder(a: Tensor):
    """(Q [..., m, m], R [..., m, n]) of a by Householder reflections."""
    be = _native(a, "linalg_qr")
    if be is not None:
        return _wrapped(be, be.linalg_qr(a._h), a._dtype)
    s = tuple(a._h.shape)
    rows_n, cols_n = s[-2], s[-1]
    rows = A.range(rows_n)
    q = A.broadcast_to(A.eye(rows_n, dtype=a._dtype), s[:-2] + (rows_n, rows_n))
    r = a
    zero = A.zeros((), a._dtype)
    for k in range(min(rows_n - 1, cols_n)):
        x = A.gather(r, k, axis=-1)
        xb = M.where(M.greater(rows, k), x, zero)
        tail = reduce_sum(xb * xb, -1)
        alpha = A.gather(x, k, axis=-1)
        norm = M.sqrt(tail + alpha * alpha)
        beta = M.where(M.greater_equal(alpha, zero), -norm, norm)
        vk = alpha - beta
        v = M.where(M.equal(rows, k), A.expand_dims(vk, -1), xb)
        reflect = M.greater(tail, zero)
        tau = M.where(reflect, 2.0 / M.where(reflect, tail + vk * vk, A.ones((), a._dtype)), zero)
        tau = A.expand_dims(A.expand_dims(tau, -1), -1)
        r = r - (tau * A.expand_dims(v, -1)) * matmul(A.expand_dims(v, -2), r)
        q = q - matmul(q, A.expand_dims(v, -1)) * (tau * A.expand_dims(v, -2))
    return q, band_part(r, 0, -1)


def _right_trisolve_upper(r: Tensor, x: Tensor) -> Tensor:
    """x R^-T for upper-triangular R (TF's ``_TriangularSolve``)."""
    return _mt(triangular_solve(r, _mt(x), lower=False))


def _qr_grad_tall(q, r, dq, dr):
    qdq = matmul(q, dq, transpose_a=True)
    rdr = matmul(r, dr, transpose_b=True)
    low = band_part(qdq - _mt(qdq) + rdr - _mt(rdr), -1, 0)
    grad_a = matmul(q, dr + _right_trisolve_upper(r, low))
    return grad_a + _right_trisolve_upper(r, dq - matmul(q, qdq))


def qr(input, full_matrices=False, name=None):
    """``tf.linalg.qr``: (q, r) with q orthonormal columns and r upper triangular."""
    a = _matrix(input, "qr")
    rows_n, cols_n = a._h.shape[-2], a._h.shape[-1]
    p = min(rows_n, cols_n)
    full = bool(full_matrices)

    def fwd():
        q, r = _householder(a)
        return (q, r) if full else (_cols(q, 0, p), _rows(r, 0, p))

    def vjp(dys, need):
        dq, dr = dys
        if full and rows_n > cols_n:
            raise InvalidArgumentError(
                f"qr: the gradient is not defined (as in TF) for full_matrices=True "
                f"with more rows than columns; input shape {tuple(a._h.shape)}"
            )
        if rows_n >= cols_n:
            return (_qr_grad_tall(q, r, dq, dr),)
        y = _cols(a, rows_n, cols_n - rows_n)
        dv = _cols(dr, rows_n, cols_n - rows_n)
        dx = _qr_grad_tall(q, _cols(r, 0, rows_n), dq + matmul(y, dv, transpose_b=True), _cols(dr, 0, rows_n))
        return (A.concat([dx, matmul(q, dv)], -1),)

    q, r = composite((a,), fwd, vjp)
    return q, r


# -- Jacobi rounds -----------------------------------------------------------------------


def _tournament(n: int) -> list:
    """Rounds of disjoint index pairs; over all rounds every pair meets once."""
    size = n + n % 2
    players = list(range(size))
    rounds = []
    for _ in range(size - 1):
        pairs = [tuple(sorted((players[i], players[size - 1 - i]))) for i in range(size // 2)]
        rounds.append([(p, q) for p, q in pairs if q < n])
        players = [players[0], players[-1]] + players[1:-1]
    return [r for r in rounds if r]


def _round_tensors(n: int, dtype) -> list:
    """Per round: (partner matrix P with P[i, partner(i)] = 1, "i is the first of its pair")."""
    out = []
    for pairs in _tournament(n):
        partner = [[0.0] * n for _ in range(n)]
        first = [False] * n
        for p, q in pairs:
            partner[p][q] = partner[q][p] = 1.0
            first[p] = True
        out.append((operand(partner, "linalg", dtype), operand(first, "linalg", D.bool_)))
    return out


def _rotation(app, aqq, apq, first, partner, eye) -> Tensor:
    """The round's orthogonal J: per pair (p, q) Golub-Van Loan's symmetric Schur rotation
    (J_pp = J_qq = c, J_pq = s, J_qp = -s) that zeroes entry (p, q) of J^T A J."""
    zero = A.zeros((), apq._dtype)
    one_ = A.ones((), apq._dtype)
    flat = M.equal(apq, zero)
    theta = (aqq - app) / (2.0 * M.where(flat, one_, apq))
    sgn = M.where(M.greater_equal(theta, zero), one_, -one_)
    t = M.where(flat, zero, sgn / (M.abs(theta) + M.sqrt(theta * theta + 1.0)))
    c = M.rsqrt(t * t + 1.0)
    s = t * c
    return A.expand_dims(c, -1) * eye + A.expand_dims(M.where(first, s, -s), -1) * partner


def _pair_values(d, partner, first):
    """(value at p, value at q) for each index's pair, from a per-index vector d."""
    other = reduce_sum(partner * A.expand_dims(d, -2), -1)
    return M.where(first, d, other), M.where(first, other, d)


def _off_mass(x: Tensor):
    """(sum of squared off-diagonal entries, sum of squared entries), over the whole batch."""
    off = x - matrix_diag(matrix_diag_part(x))
    return reduce_sum(off * off), reduce_sum(x * x)


def _sweeps(dtype, step, measure):
    """Run ``step()`` (one sweep) until ``measure()``'s off-diagonal mass is at rounding
    level (eagerly) or a fixed number of times (in a graph)."""
    n_graph = _GRAPH_SWEEPS[dtype.name]
    tol = _EPS[dtype.name]
    last = None
    for k in range(_MAX_SWEEPS):
        state = step()
        off, total = measure(state)
        if not _eager(off):
            if k + 1 >= n_graph:
                return state
            continue
        off_v, total_v = _host_float(off), _host_float(total)
        if off_v <= tol * tol * total_v or (last is not None and k >= 4 and off_v >= last):
            return state
        last = off_v
    return state


def _jacobi_eigh(a: Tensor):
    n = a._h.shape[-1]
    eye = A.eye(n, dtype=a._dtype)
    rounds = _round_tensors(n, a._dtype)
    state = {"a": a, "v": A.broadcast_to(eye, tuple(a._h.shape))}

    def step():
        x, v = state["a"], state["v"]
        for partner, first in rounds:
            d = matrix_diag_part(x)
            app, aqq = _pair_values(d, partner, first)
            j = _rotation(app, aqq, reduce_sum(x * partner, -1), first, partner, eye)
            x = matmul(matmul(j, x, transpose_a=True), j)
            v = matmul(v, j)
        state.update(a=x, v=v)
        return state

    if rounds:
        _sweeps(a._dtype, step, lambda st: _off_mass(st["a"]))
    return matrix_diag_part(state["a"]), state["v"]


def _column_signs(x: Tensor) -> Tensor:
    """+1/-1 per column making each column's largest-magnitude entry positive: the sign
    convention for singular and eigen vectors (their sign is otherwise arbitrary), so
    every backend and every algorithm returns the same vectors."""
    b = len(x._h.shape) - 2
    if x._h.shape[-2] == 0:  # no entries: nothing to sign (argmax of an empty column is an error)
        return A.ones(tuple(x._h.shape[:-2]) + (x._h.shape[-1],), x._dtype)
    top = argmax(M.abs(x), axis=-2, output_type=D.int32)  # [..., cols]
    picked = A.gather(_mt(x), top, axis=b + 1, batch_dims=b + 1)
    return M.where(M.less(picked, 0.0), -A.ones((), x._dtype), A.ones((), x._dtype))


def _sorted(values: Tensor, vectors: Tensor, descending: bool):
    b = len(values._h.shape) - 1
    idx = argsort(values, -1, "DESCENDING" if descending else "ASCENDING")
    vecs = A.gather(vectors, idx, axis=-1, batch_dims=b)
    return A.gather(values, idx, axis=-1, batch_dims=b), vecs * A.expand_dims(_column_signs(vecs), -2)


def _eigh_sorted(a: Tensor):
    """(e ascending, v with the sign convention): LAPACK's when the backend has it (already
    sorted), else Jacobi on the symmetric matrix of a's lower triangle, then sorted."""
    be = _native(a, "linalg_eigh")
    if be is not None:
        e, v = _wrapped(be, be.linalg_eigh(a._h), a._dtype)
        return (e, v) if "linalg_signed_vectors" in be.fused else (e, v * A.expand_dims(_column_signs(v), -2))
    return _sorted(*_jacobi_eigh(_sym_lower(a)), descending=False)


# -- eigh --------------------------------------------------------------------------------


def _eigh_vjp(e, v):
    def vjp(dys, need):
        ge, gv = dys
        f = matrix_set_diag(_safe_reciprocal(A.expand_dims(e, -2) - A.expand_dims(e, -1)), A.zeros_like(e))
        inner = matrix_diag(ge) + f * matmul(v, gv, transpose_a=True)
        g = matmul(matmul(v, inner), v, transpose_b=True)
        g = band_part(g + _mt(g), -1, 0)
        return (matrix_set_diag(g, 0.5 * matrix_diag_part(g)),)

    return vjp


def eigh(tensor, name=None):
    """``tf.linalg.eigh``: (eigenvalues ascending, eigenvectors as columns) of
    self-adjoint matrices; only the lower triangle is read, as in TF."""
    a = _square(tensor, "eigh")
    out = {}

    def fwd():
        e, v = _eigh_sorted(a)
        out.update(e=e, v=v)
        return e, v

    def vjp(dys, need):
        return _eigh_vjp(out["e"], out["v"])(dys, need)

    e, v = composite((a,), fwd, vjp)
    return e, v


def eigvalsh(tensor, name=None) -> Tensor:
    """``tf.linalg.eigvalsh``: the eigenvalues of ``eigh``, ascending."""
    a = _square(tensor, "eigvalsh")
    out = {}

    def fwd():
        be = _native(a, "linalg_eigvalsh")
        if be is not None:  # values only; the gradient recomputes the vectors, as TF's does
            return _wrapped(be, (be.linalg_eigvalsh(a._h),), a._dtype)[0]
        e, v = _eigh_sorted(a)
        out.update(e=e, v=v)
        return e

    def vjp(dy, need):
        if "v" not in out:
            out["e"], out["v"] = _eigh_sorted(a)
        return _eigh_vjp(out["e"], out["v"])((dy, A.zeros_like(out["v"])), need)

    return composite((a,), fwd, vjp)


# -- SVD ---------------------------------------------------------------------------------


def _jacobi_svd_tall(a: Tensor):
    """(s descending, U [..., m, m] orthonormal, V [..., n, n]) for m >= n."""
    s_ = tuple(a._h.shape)
    rows_n, n = s_[-2], s_[-1]
    be = _native(a, "linalg_svd")
    if be is not None:
        s, u_full, v = _wrapped(be, be.linalg_svd(a._h), a._dtype)
        return (s, u_full, v) if "linalg_signed_vectors" in be.fused else _signed_svd(s, u_full, v, rows_n, n)
    eye = A.eye(n, dtype=a._dtype)
    rounds = _round_tensors(n, a._dtype)
    state = {"u": a, "v": A.broadcast_to(eye, s_[:-2] + (n, n))}

    def step():
        u, v = state["u"], state["v"]
        for partner, first in rounds:
            norms = reduce_sum(u * u, -2)
            app, aqq = _pair_values(norms, partner, first)
            gam = reduce_sum(u * matmul(u, partner, transpose_b=True), -2)
            j = _rotation(app, aqq, gam, first, partner, eye)
            u = matmul(u, j)
            v = matmul(v, j)
        state.update(u=u, v=v)
        return state

    if rounds:
        _sweeps(a._dtype, step, lambda st: _off_mass(matmul(st["u"], st["u"], transpose_a=True)))
    u, v = state["u"], state["v"]
    s = M.sqrt(reduce_sum(u * u, -2))
    b = len(s_) - 2
    idx = argsort(s, -1, "DESCENDING")
    s = A.gather(s, idx, axis=-1, batch_dims=b)
    u = A.gather(u, idx, axis=-1, batch_dims=b)
    v = A.gather(v, idx, axis=-1, batch_dims=b)
    zero = A.zeros((), a._dtype)
    pos = M.greater(s, zero)
    un = M.where(A.expand_dims(pos, -2), u / A.expand_dims(M.where(pos, s, A.ones((), a._dtype)), -2), zero)
    basis = A.broadcast_to(A.eye(rows_n, dtype=a._dtype), s_[:-2] + (rows_n, rows_n))
    q, r = _householder(A.concat([un, basis], -1))
    sign = M.where(M.less(_cols(matrix_diag_part(r), 0, n), zero), -A.ones((), a._dtype), A.ones((), a._dtype))
    u_full = A.concat([_cols(q, 0, n) * A.expand_dims(sign, -2), _cols(q, n, rows_n - n)], -1)
    return _signed_svd(s, u_full, v, rows_n, n)


def _signed_svd(s, u_full, v, rows_n: int, n: int):
    """The sign convention on each (u_i, v_i) pair, fixed by u_i's largest entry."""
    signs = A.expand_dims(_column_signs(_cols(u_full, 0, n)), -2)
    u_full = A.concat([_cols(u_full, 0, n) * signs, _cols(u_full, n, rows_n - n)], -1)
    return s, u_full, v * signs


def _svd_parts(a: Tensor, full: bool):
    rows_n, cols_n = a._h.shape[-2], a._h.shape[-1]
    p = min(rows_n, cols_n)
    if rows_n >= cols_n:
        s, u, v = _jacobi_svd_tall(a)
    else:
        s, v, u = _jacobi_svd_tall(_mt(a))
    if not full:
        u, v = _cols(u, 0, p), _cols(v, 0, p)
    return s, u, v


def _svd_vjp(a, s, u, v, full, gs, gu, gv):
    """TF's SVD gradient (``_SvdGrad``), for the thin or |m - n| <= 1 full factorisation."""
    rows_n, cols_n = a._h.shape[-2], a._h.shape[-1]
    if gu is None:
        return matmul(
            matmul(_cols(u, 0, min(rows_n, cols_n)), matrix_diag(gs)),
            _cols(v, 0, min(rows_n, cols_n)),
            transpose_b=True,
        )
    if full and abs(rows_n - cols_n) > 1:
        raise InvalidArgumentError(
            f"svd: the gradient is not defined (as in TF) for full_matrices=True "
            f"when rows and columns differ by more than 1; input shape "
            f"{tuple(a._h.shape)}"
        )
    adjoint = rows_n > cols_n
    if adjoint:
        u, v, gu, gv = v, u, gv, gu
    small, big = min(rows_n, cols_n), max(rows_n, cols_n)
    s_mat = matrix_diag(s)
    s2 = s * s
    f = matrix_set_diag(_safe_reciprocal(A.expand_dims(s2, -2) - A.expand_dims(s2, -1)), A.zeros_like(s))
    v1, gv1 = _cols(v, 0, small), _cols(gv, 0, small)
    f_u = f * matmul(u, gu, transpose_a=True)
    f_v = f * matmul(v1, gv1, transpose_a=True)
    inner = matrix_diag(gs) + matmul(f_u + _mt(f_u), s_mat) + matmul(s_mat, f_v + _mt(f_v))
    g = matmul(matmul(u, inner), v1, transpose_b=True)
    if small != big:
        gv1t = _mt(gv1)
        term = gv1t - matmul(matmul(gv1t, v1), v1, transpose_b=True)
        if full:
            v2, gv2 = _cols(v, small, big - small), _cols(gv, small, big - small)
            term = term - matmul(matmul(v1, gv2, transpose_a=True), v2, transpose_b=True)
        g = g + matmul(u * A.expand_dims(_safe_reciprocal(s), -2), term)
    return _mt(g) if adjoint else g


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """``tf.linalg.svd``: s (descending), and u, v with ``tensor = u diag(s) v^H`` when
    ``compute_uv`` (TF's order: s, u, v)."""
    a = _matrix(tensor, "svd")
    full = bool(full_matrices)
    parts = {}

    def fwd():
        be = None if compute_uv else _native(a, "linalg_svd_values")
        if be is not None:  # values only; the gradient recomputes the vectors, as TF's does
            return _wrapped(be, (be.linalg_svd_values(a._h),), a._dtype)[0]
        s, u, v = _svd_parts(a, full and compute_uv)
        parts.update(s=s, u=u, v=v)
        return (s, u, v) if compute_uv else s

    def vjp(dys, need):
        if compute_uv:
            gs, gu, gv = dys
            return (_svd_vjp(a, parts["s"], parts["u"], parts["v"], full, gs, gu, gv),)
        if "v" not in parts:
            parts["s"], parts["u"], parts["v"] = _svd_parts(a, False)
        return (_svd_vjp(a, parts["s"], parts["u"], parts["v"], False, dys, None, None),)

    return composite((a,), fwd, vjp)


# -- built on the decompositions ---------------------------------------------------------


def pinv(a, rcond=None, validate_args=False, name=None) -> Tensor:
    """``tf.linalg.pinv``: V diag(1/s) U^T over singular values above ``rcond * max(s)``
    (default ``10 * max(m, n) * eps``, TF's)."""
    x = _matrix(a, "pinv")
    rows_n, cols_n = x._h.shape[-2], x._h.shape[-1]
    if rcond is None:
        rcond = 10.0 * max(rows_n, cols_n) * _EPS[x._dtype.name]
    s, u, v = svd(x)
    cutoff = rcond * reduce_max(s, -1, keepdims=True)
    inv_s = M.where(
        M.greater(s, cutoff), M.reciprocal(M.where(M.greater(s, cutoff), s, A.ones_like(s))), A.zeros_like(s)
    )
    return matmul(v * A.expand_dims(inv_s, -2), u, transpose_b=True)


def matrix_rank(a, tol=None, validate_args=False, name=None) -> Tensor:
    """``tf.linalg.matrix_rank``: the count of singular values above ``tol`` (default
    ``eps * max(m, n) * max(s)``, TF's)."""
    x = _matrix(a, "matrix_rank")
    s = svd(x, compute_uv=False)
    if tol is None:
        tol = reduce_max(s, -1, keepdims=True) * (_EPS[x._dtype.name] * max(x._h.shape[-2:]))
    return reduce_sum(M.cast(M.greater(s, tol), D.int32), -1)


def lstsq(matrix, rhs, l2_regularizer=0.0, fast=True, name=None) -> Tensor:
    """``tf.linalg.lstsq``: the least-squares (or minimum-norm) X of A X ~ B, regularised by
    ``l2_regularizer``. fast=True solves the normal equations by Cholesky (TF's method);
    fast=False uses the SVD, which also handles rank-deficient A."""
    a = _matrix(matrix, "lstsq")
    b = operand(rhs, "lstsq", a._dtype)
    a, b = same_dtype([a, b], "lstsq")
    sa, sb = tuple(a._h.shape), tuple(b._h.shape)
    if len(sb) != len(sa) or sb[:-2] != sa[:-2] or sb[-2] != sa[-2]:
        raise InvalidArgumentError(
            f"lstsq: rhs shape {sb} must be [..., {sa[-2]}, K] with the batch dims of matrix {sa} ({a._dtype.name})"
        )
    lam = float(l2_regularizer)
    rows_n, cols_n = sa[-2], sa[-1]
    if not fast:
        s, u, v = svd(a)
        den = s * s + lam
        keep = M.greater(s, reduce_max(s, -1, keepdims=True) * (_EPS[a._dtype.name] * max(rows_n, cols_n)))
        w = M.where(keep, s / M.where(keep, den, A.ones_like(den)), A.zeros_like(s))
        return matmul(v * A.expand_dims(w, -2), matmul(u, b, transpose_a=True))
    if rows_n >= cols_n:
        gram = matmul(a, a, transpose_a=True) + lam * _eye_like(A.zeros(sa[:-2] + (cols_n, cols_n), a._dtype))
        return cholesky_solve(cholesky(gram), matmul(a, b, transpose_a=True))
    gram = matmul(a, a, transpose_b=True) + lam * _eye_like(A.zeros(sa[:-2] + (rows_n, rows_n), a._dtype))
    return matmul(a, cholesky_solve(cholesky(gram), b), transpose_a=True)


# -- expm --------------------------------------------------------------------------------

_PADE = {
    3: (120.0, 60.0, 12.0, 1.0),
    5: (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0),
    7: (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0),
    9: (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0, 110880.0, 3960.0, 90.0, 1.0),
    13: (
        64764752532480000.0,
        32382376266240000.0,
        7771770303897600.0,
        1187353796428800.0,
        129060195264000.0,
        10559470521600.0,
        670442572800.0,
        33522128640.0,
        1323241920.0,
        40840800.0,
        960960.0,
        16380.0,
        182.0,
        1.0,
    ),
}
# (degree, largest l1 norm it serves) and the squaring target, per precision (Higham 2005)
_EXPM_F32 = ((3, 4.258730016922831e-001), (5, 1.880152677804762e000), (7, 3.925724783138660))
_EXPM_F64 = (
    (3, 1.495585217958292e-002),
    (5, 2.539398330063230e-001),
    (7, 9.504178996162932e-001),
    (9, 2.097847961257068e000),
    (13, 5.371920351148152),
)
_GRAPH_SQUARINGS = 64


def _pade(x: Tensor, eye: Tensor, deg: int):
    """(U, V) of the [deg/deg] Pade approximant: exp(x) ~ (V - U)^-1 (V + U)."""
    b = _PADE[deg]
    x2 = matmul(x, x)
    if deg < 13:
        powers = [eye, x2]
        while len(powers) <= deg // 2:
            powers.append(matmul(powers[-1], x2))
        odd = sum((b[2 * i + 1] * p for i, p in enumerate(powers)), A.zeros_like(x))
        even = sum((b[2 * i] * p for i, p in enumerate(powers)), A.zeros_like(x))
        return matmul(x, odd), even
    x4 = matmul(x2, x2)
    x6 = matmul(x4, x2)
    u = matmul(x, matmul(x6, b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye)
    v = matmul(x6, b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * eye
    return u, v


def expm(input, name=None) -> Tensor:
    """``tf.linalg.expm``: scaling and squaring with Pade approximants, the degree chosen
    per matrix from its l1 norm (TF's thresholds). In a graph at most 64 squarings run."""
    a = _square(input, "expm")
    table = _EXPM_F64 if a._dtype is D.float64 else _EXPM_F32
    eye = _eye_like(a)
    norm = reduce_max(reduce_sum(M.abs(a), -2), -1)
    top_deg, top_norm = table[-1]
    tiny = 1e-300 if a._dtype is D.float64 else 1e-30
    squarings = M.maximum(M.ceil(M.log(M.maximum(norm, tiny) / top_norm) / _math.log(2.0)), 0.0)
    scale = A.expand_dims(A.expand_dims(M.exp(squarings * -_math.log(2.0)), -1), -1)
    u, v = _pade(a * scale, eye, top_deg)
    for deg, limit in reversed(table[:-1]):
        ud, vd = _pade(a, eye, deg)
        small = A.expand_dims(A.expand_dims(M.less(norm, limit), -1), -1)
        u, v = M.where(small, ud, u), M.where(small, vd, v)
    r = solve(v - u, v + u)
    if _eager(squarings):
        n_sq = int(max(A._host_flat(squarings) or [0.0]))
        for i in range(n_sq):
            r = M.where(A.expand_dims(A.expand_dims(M.greater(squarings, float(i)), -1), -1), matmul(r, r), r)
        return r
    from ..control_flow import while_loop

    def body(i, x):
        go = A.expand_dims(A.expand_dims(M.greater(squarings, M.cast(i, a._dtype)), -1), -1)
        return i + 1, M.where(go, matmul(x, x), x)

    _, r = while_loop(
        lambda i, x: M.less(M.cast(i, a._dtype), reduce_max(squarings)),
        body,
        (A.zeros((), D.int32), r),
        maximum_iterations=_GRAPH_SQUARINGS,
    )
    return r


# -- LU ----------------------------------------------------------------------------------


def _invert_permutation(p: Tensor) -> Tensor:
    return argsort(p, -1)


def _lu_factor(a: Tensor):
    """(packed LU, perm): LAPACK getrf's partial pivoting (first largest |pivot|, no swap
    and no scaling for an all-zero column), with ``a[perm] = L U``."""
    s = tuple(a._h.shape)
    n, batch = s[-1], s[:-2]
    bd = len(batch)
    rows = A.range(n)
    col_rows = A.reshape(rows, (n, 1))
    perm = A.broadcast_to(rows, batch + (n,))
    zero = A.zeros((), a._dtype)
    mat = a
    for k in range(n):
        col = A.gather(mat, k, axis=-1)
        cand = M.where(M.greater_equal(rows, k), M.abs(col), -A.ones((), a._dtype))
        p = argmax(cand, axis=-1, output_type=D.int32)
        on_k = M.equal(col_rows, k)
        on_p = M.equal(col_rows, A.reshape(p, batch + (1, 1)))
        rp = A.gather(mat, p, axis=bd, batch_dims=bd)
        rk = A.gather(mat, k, axis=-2)
        mat = M.where(on_k, A.expand_dims(rp, -2), M.where(on_p, A.expand_dims(rk, -2), mat))
        pp = A.gather(perm, p, axis=bd, batch_dims=bd)
        pk = A.gather(perm, k, axis=-1)
        perm = M.where(
            M.equal(rows, k),
            A.expand_dims(pp, -1),
            M.where(M.equal(rows, A.expand_dims(p, -1)), A.expand_dims(pk, -1), perm),
        )
        piv = A.gather(rp, k, axis=-1)
        nz = M.not_equal(piv, zero)
        col = A.gather(mat, k, axis=-1)
        mult = M.where(
            M.logical_and(M.greater(rows, k), A.expand_dims(nz, -1)),
            col / A.expand_dims(M.where(nz, piv, A.ones((), a._dtype)), -1),
            zero,
        )
        rowk = M.where(M.greater(rows, k), A.gather(mat, k, axis=-2), zero)
        below_k = M.logical_and(M.greater(col_rows, k), M.equal(rows, k))
        mat = M.where(below_k, A.expand_dims(mult, -1), mat - A.expand_dims(mult, -1) * A.expand_dims(rowk, -2))
    return mat, perm


def _unit_lower(lu_: Tensor) -> Tensor:
    return matrix_set_diag(band_part(lu_, -1, 0), A.ones(tuple(lu_._h.shape[:-1]), lu_._dtype))


def lu(input, output_idx_type=D.int32, name=None):
    """``tf.linalg.lu``: (lower_upper, perm), L's unit diagonal implied; ``input[perm] = L U``."""
    a = _square(input, "lu")
    out_t = D.as_dtype(output_idx_type)
    parts = {}

    def fwd():
        packed, perm = _lu_factor(a)
        parts["perm"] = perm
        return packed

    def vjp(dy, need):
        low, up = _unit_lower(packed), band_part(packed, 0, -1)
        grad_l = band_part(dy, -1, 0) - matrix_diag(matrix_diag_part(dy))
        lgl = matmul(low, grad_l, transpose_a=True)
        middle = (
            band_part(lgl, -1, 0)
            - matrix_diag(matrix_diag_part(lgl))
            + band_part(matmul(band_part(dy, 0, -1), up, transpose_b=True), 0, -1)
        )
        left = triangular_solve(low, middle, lower=True, adjoint=True)
        g_perm = _mt(triangular_solve(up, _mt(left), lower=False))
        b = len(dy._h.shape) - 2
        return (A.gather(g_perm, _invert_permutation(parts["perm"]), axis=-2, batch_dims=b),)

    packed = composite((a,), fwd, vjp)
    return packed, M.cast(parts["perm"], out_t)


def lu_reconstruct(lower_upper, perm, validate_args=False, name=None) -> Tensor:
    """``tf.linalg.lu_reconstruct``: the matrix whose ``lu`` is (lower_upper, perm)."""
    lu_ = _square(lower_upper, "lu_reconstruct")
    p = M.cast(operand(perm, "lu_reconstruct"), D.int32)
    x = matmul(_unit_lower(lu_), band_part(lu_, 0, -1))
    return A.gather(x, _invert_permutation(p), axis=-2, batch_dims=len(p._h.shape) - 1)


def lu_solve(lower_upper, perm, rhs, validate_args=False, name=None) -> Tensor:
    """``tf.linalg.lu_solve``: X with A X = rhs, from A's ``lu`` factors."""
    lu_ = _square(lower_upper, "lu_solve")
    b = operand(rhs, "lu_solve", lu_._dtype)
    p = M.cast(operand(perm, "lu_solve"), D.int32)
    if tuple(b._h.shape[:-1]) != tuple(lu_._h.shape[:-1]):
        raise InvalidArgumentError(
            f"lu_solve: rhs shape {tuple(b._h.shape)} must be [..., "
            f"{lu_._h.shape[-1]}, K] with the batch dims of {tuple(lu_._h.shape)}"
        )
    pb = A.gather(b, p, axis=-2, batch_dims=len(p._h.shape) - 1)
    y = triangular_solve(_unit_lower(lu_), pb, lower=True)
    return triangular_solve(lu_, y, lower=False)


def lu_matrix_inverse(lower_upper, perm, validate_args=False, name=None) -> Tensor:
    """``tf.linalg.lu_matrix_inverse``: A^-1 from A's ``lu`` factors."""
    lu_ = _square(lower_upper, "lu_matrix_inverse")
    return lu_solve(lu_, perm, _eye_like(lu_))


__all__ = [
    "eigh",
    "eigvalsh",
    "expm",
    "lstsq",
    "lu",
    "lu_matrix_inverse",
    "lu_reconstruct",
    "lu_solve",
    "matrix_rank",
    "pinv",
    "qr",
    "svd",
]

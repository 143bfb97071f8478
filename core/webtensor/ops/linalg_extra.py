"""``tf.linalg`` inv, det, slogdet, logdet, solve, triangular_solve, cholesky,
cholesky_solve, composed of existing primitives, with TF's gradient formulas.

The forward passes loop over the n columns in Python (Gauss-Jordan elimination with
partial pivoting, column-by-column Cholesky), each step a handful of batched ops on the
tensor's backend, so every backend runs them without new kernels. That suits the small
dense matrices of ML use (n up to a few hundred); cost is O(n) op launches.
Each op is one recorded node whose vjp is TF's closed form, written with public ops."""

from __future__ import annotations

import math as _math

from .. import dtypes as D
from ..errors import InvalidArgumentError
from . import array as A
from . import math as M
from .creation import band_part, matrix_diag_part, matrix_set_diag
from .dispatch import FLOAT, Tensor, check_kind, composite, operand, same_dtype
from .linalg import matmul
from .reduce import argmax, reduce_all, reduce_sum


def _square(x, op) -> Tensor:
    t = operand(x, op)
    check_kind(t, op, FLOAT)
    s = tuple(t._h.shape)
    if len(s) < 2 or s[-1] != s[-2]:
        raise InvalidArgumentError(f"{op}: input must be a batch of square matrices, got shape {s} {t._dtype.name}")
    return t


def _eager(t: Tensor) -> bool:
    """Values can be checked (one readback): TF checks its LU/Cholesky info on CPU and GPU."""
    return not getattr(t._h, "symbolic", False)


def _mt(x: Tensor) -> Tensor:
    r = len(x._h.shape)
    return A.transpose(x, tuple(range(r - 2)) + (r - 1, r - 2))


def _gauss_jordan(a: Tensor, b: Tensor):
    """(x = a^-1 b, (sign of det, det), log|det|, min |pivot|) by Gauss-Jordan with partial
    pivoting; det is the signed product of the pivots (as TF's LU), log|det| their log sum.
    A backend with the ``linalg_solve`` kernel (LAPACK) does it in one call."""
    be = a._be
    if "linalg_solve" in be.fused and a._dtype in (D.float32, D.float64) and _eager(a) and _eager(b):
        from ..tensor import wrap

        x, sign, logabs = (wrap(h, a._dtype, be) for h in be.linalg_solve(a._h, b._h))
        return x, (sign, sign * M.exp(logabs)), logabs, M.abs(sign)
    s = tuple(a._h.shape)
    n, batch = s[-1], s[:-2]
    mat = A.concat([a, b], -1)
    rows = A.range(n)
    col_rows = A.reshape(rows, (n, 1))
    sign = A.ones(batch, a._dtype)
    prod_piv = A.ones(batch, a._dtype)
    logabs = A.zeros(batch, a._dtype)
    minpiv = A.fill(batch, operand(float("inf"), "linalg", a._dtype))
    bd = len(batch)
    for k in range(n):
        col = A.gather(mat, k, axis=-1)  # [..., n]
        cand = M.where(M.greater_equal(rows, k), M.abs(col), A.fill((), operand(-1.0, "linalg", a._dtype)))
        p = argmax(cand, axis=-1, output_type=D.int32)  # [...]
        rp = A.gather(mat, p, axis=bd, batch_dims=bd)  # pivot row [..., w]
        rk = A.gather(mat, k, axis=-2)
        on_k = M.equal(col_rows, k)
        on_p = M.equal(col_rows, A.reshape(p, batch + (1, 1)))
        mat = M.where(on_k, A.expand_dims(rp, -2), M.where(on_p, A.expand_dims(rk, -2), mat))
        piv = A.gather(rp, k, axis=-1)
        swapped = M.not_equal(p, k)
        flip = M.where(swapped, A.fill((), operand(-1.0, "linalg", a._dtype)), A.ones((), a._dtype))
        sign = sign * M.sign(piv) * flip
        prod_piv = prod_piv * piv * flip
        logabs = logabs + M.log(M.abs(piv))
        minpiv = M.minimum(minpiv, M.abs(piv))
        row = rp / A.expand_dims(piv, -1)
        factor = A.expand_dims(A.gather(mat, k, axis=-1), -1)
        mat = M.where(on_k, A.expand_dims(row, -2), mat - factor * A.expand_dims(row, -2))
    x = A._axis_slice(mat, len(s) - 1, n, mat._h.shape[-1] - n)
    return x, (sign, prod_piv), logabs, minpiv


def _solved(a: Tensor, b: Tensor, op: str, orig: Tensor) -> Tensor:
    """a^-1 b, raising TF's error for a singular a. A backend with the ``linalg_solve``
    kernel skips the determinant and reports singularity itself (no extra ops, no readback)."""
    be = a._be
    if "linalg_solve" in be.fused and a._dtype in (D.float32, D.float64) and _eager(a) and _eager(b):
        from ..tensor import wrap

        x, singular = be.linalg_solve(a._h, b._h, det=False)
        if singular:
            _not_invertible(op, orig)
        return wrap(x, a._dtype, be)
    x, _, _, mp = _gauss_jordan(a, b)
    _check_invertible(mp, op, orig)
    return x


def _not_invertible(op: str, a: Tensor):
    raise InvalidArgumentError(f"{op}: Input is not invertible (shape {tuple(a._h.shape)} {a._dtype.name})")


def _check_invertible(minpiv: Tensor, op: str, a: Tensor):
    if _eager(minpiv) and _math.prod(minpiv._h.shape) and not bool(reduce_all(M.greater(minpiv, 0))):
        _not_invertible(op, a)


def _eye_like(a: Tensor) -> Tensor:
    s = tuple(a._h.shape)
    return A.broadcast_to(A.eye(s[-1], dtype=a._dtype), s)


def inv(input, adjoint=False, name=None) -> Tensor:
    """``tf.linalg.inv``; gradient ``-Y^T dY Y^T``. A singular matrix is an error on CPU."""
    a = _square(input, "inv")
    a = _mt(a) if adjoint else a

    def fwd():
        return _solved(a, _eye_like(a), "inv", a)

    y = composite((a,), fwd, lambda dy, need: (-matmul(matmul(y, dy, transpose_a=True), y, transpose_b=True),))
    return y


def slogdet(input, name=None):
    """``tf.linalg.slogdet``: (sign, log|det|); gradient of log|det| is ``A^-T``."""
    a = _square(input, "slogdet")
    out = {}

    def fwd():
        _, sgn, la, _ = _gauss_jordan(a, A.zeros(tuple(a._h.shape[:-1]) + (0,), a._dtype))
        out["sign"] = sgn[0]
        return la

    la = composite((a,), fwd, lambda dy, need: (A.expand_dims(A.expand_dims(dy, -1), -1) * _mt(inv(a)),))
    return out["sign"], la


def logdet(matrix, name=None) -> Tensor:
    """``tf.linalg.logdet`` of Hermitian positive-definite matrices: 2 sum log diag(chol)."""
    return 2.0 * reduce_sum(M.log(matrix_diag_part(cholesky(matrix))), -1)


def det(input, name=None) -> Tensor:
    """``tf.linalg.det``; gradient ``dy * det * A^-T`` (TF's formula)."""
    a = _square(input, "det")

    def fwd():
        _, (_, dv), _, _ = _gauss_jordan(a, A.zeros(tuple(a._h.shape[:-1]) + (0,), a._dtype))
        return dv

    def vjp(dy, need):
        g = A.expand_dims(A.expand_dims(dy * d, -1), -1)
        return (g * _mt(inv(a)),)

    d = composite((a,), fwd, vjp)
    return d


def _rhs(matrix, rhs, op):
    a = _square(matrix, op)
    b = operand(rhs, op, a._dtype)
    a, b = same_dtype([a, b], op)
    sa, sb = tuple(a._h.shape), tuple(b._h.shape)
    if len(sb) != len(sa) or sb[:-2] != sa[:-2] or sb[-2] != sa[-1]:
        raise InvalidArgumentError(
            f"{op}: rhs shape {sb} must be [..., {sa[-1]}, K] with the batch dims of matrix {sa} ({a._dtype.name})"
        )
    return a, b


def solve(matrix, rhs, adjoint=False, name=None) -> Tensor:
    """``tf.linalg.solve``: X with A X = B; gradients ``dB = A^-T dX``, ``dA = -dB X^T``."""
    a, b = _rhs(matrix, rhs, "solve")

    def fwd():
        return _solved(_mt(a) if adjoint else a, b, "solve", a)

    def vjp(dy, need):
        gb = solve(a, dy, adjoint=not adjoint)
        ga = -matmul(x, gb, transpose_b=True) if adjoint else -matmul(gb, x, transpose_b=True)
        return (ga if need[0] else None, gb if need[1] else None)

    x = composite((a, b), fwd, vjp)
    return x


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None) -> Tensor:
    """``tf.linalg.triangular_solve``: only the lower (or upper) triangle of matrix is read."""
    a, b = _rhs(matrix, rhs, "triangular_solve")
    tri = (lambda t: band_part(t, -1, 0)) if lower else (lambda t: band_part(t, 0, -1))

    def fwd():
        with_tri = tri(a)
        x, _, _, mp = _gauss_jordan(_mt(with_tri) if adjoint else with_tri, b)
        _check_invertible(mp, "triangular_solve", a)
        return x

    def vjp(dy, need):
        gb = triangular_solve(a, dy, lower=lower, adjoint=not adjoint)
        ga = -matmul(x, gb, transpose_b=True) if adjoint else -matmul(gb, x, transpose_b=True)
        return (tri(ga) if need[0] else None, gb if need[1] else None)

    x = composite((a, b), fwd, vjp)
    return x


def _cholesky_forward(a: Tensor) -> Tensor:
    s = tuple(a._h.shape)
    n = s[-1]
    lmat = A.zeros(s, a._dtype)
    cols = A.range(n)
    for j in range(n):
        lj = A.gather(lmat, j, axis=-2)  # row j of L so far: [..., n]
        v = A.gather(a, j, axis=-1) - reduce_sum(lmat * A.expand_dims(lj, -2), -1)  # [..., n]
        d = M.sqrt(A.gather(v, j, axis=-1))
        colj = M.where(M.greater_equal(cols, j), v / A.expand_dims(d, -1), A.zeros((), a._dtype))
        lmat = lmat + A.expand_dims(colj, -1) * M.cast(M.equal(cols, j), a._dtype)
    return lmat


def _not_positive_definite(a: Tensor):
    raise InvalidArgumentError(
        f"cholesky: Cholesky decomposition was not successful. The input might not be "
        f"valid (not positive definite); shape {tuple(a._h.shape)} {a._dtype.name}"
    )


def cholesky(input, name=None) -> Tensor:
    """``tf.linalg.cholesky`` (lower L, A = L L^T; reads the lower triangle); TF's gradient
    (Murray 2016). A matrix that is not positive definite is an error on CPU, as TF."""
    a = _square(input, "cholesky")

    def fwd():
        be = a._be
        if "linalg_cholesky" in be.fused and a._dtype in (D.float32, D.float64) and _eager(a):
            from ..tensor import wrap

            h, failed = be.linalg_cholesky(a._h)  # the kernel reads the lower triangle
            if failed:
                _not_positive_definite(a)
            return wrap(h, a._dtype, be)
        lmat = _cholesky_forward(_sym_lower(a))
        if _eager(lmat) and _math.prod(a._h.shape) and not bool(reduce_all(M.is_finite(lmat))):
            _not_positive_definite(a)
        return lmat

    def vjp(dy, need):
        l_inv = triangular_solve(lmat, _eye_like(lmat), lower=True)
        middle = matmul(lmat, dy, transpose_a=True)
        middle = matrix_set_diag(middle, 0.5 * matrix_diag_part(middle))
        middle = band_part(middle, -1, 0)
        g = matmul(matmul(l_inv, middle, transpose_a=True), l_inv)
        return ((g + _mt(g)) * 0.5,)

    lmat = composite((a,), fwd, vjp)
    return lmat


def _sym_lower(a: Tensor) -> Tensor:
    """The symmetric matrix whose lower triangle is a's (TF's cholesky reads only that)."""
    low = band_part(a, -1, 0)
    return low + _mt(low) - A.expand_dims(matrix_diag_part(a), -1) * _eye_like(a)


def cholesky_solve(chol, rhs, name=None) -> Tensor:
    """``tf.linalg.cholesky_solve``: X with (L L^T) X = B, from the factor L."""
    y = triangular_solve(chol, rhs, lower=True)
    return triangular_solve(chol, y, lower=True, adjoint=True)


__all__ = ["cholesky", "cholesky_solve", "det", "inv", "logdet", "slogdet", "solve", "triangular_solve"]

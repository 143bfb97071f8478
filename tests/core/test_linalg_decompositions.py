"""tf.linalg qr/eigh/eigvalsh/svd/pinv/matrix_rank/lstsq/expm/lu: values against numpy and
scipy (LAPACK) and by hand, TF's gradient formulas against float64 finite differences
(through functions that do not depend on the decompositions' sign freedom)."""

import math

import pytest
import webtensor as tf

from tests.util import assert_close, check_grad

G = [[1.0, 2.0, 0.5], [-1.0, 0.5, 2.0], [3.0, -2.0, 1.0], [0.5, 1.5, -1.0]]  # 4x3, full rank
S = [[4.0, 1.0, -2.0], [1.0, 2.0, 0.0], [-2.0, 0.0, 3.0]]  # symmetric, distinct eigenvalues


def _np():
    return pytest.importorskip("numpy")


def test_qr_matches_lapack_signs():
    np = _np()
    a = np.array(G, "float32")
    for x, mode in ((a, "reduced"), (a.T, "reduced"), (a, "complete")):
        q, r = tf.linalg.qr(x, full_matrices=mode == "complete")
        nq, nr = np.linalg.qr(x, mode)
        assert_close(q, nq, atol=2e-5)
        assert_close(r, nr, atol=2e-5)
    q, r = tf.linalg.qr([[2.0, 1.0], [0.0, 3.0]])  # already triangular: no reflection, as LAPACK
    assert_close(q, [[1.0, 0.0], [0.0, 1.0]])
    assert_close(r, [[2.0, 1.0], [0.0, 3.0]])


def test_eigh_by_hand_and_numpy():
    e, v = tf.linalg.eigh([[2.0, 1.0], [1.0, 2.0]])
    assert_close(e, [1.0, 3.0], atol=1e-6)
    assert_close(tf.abs(v), [[math.sqrt(0.5)] * 2] * 2, atol=1e-6)
    assert_close(tf.linalg.eigvalsh([[2.0, 99.0], [1.0, 2.0]]), [1.0, 3.0], atol=1e-6)  # lower triangle read
    np = _np()
    r = np.random.default_rng(3).normal(size=(2, 7, 7))
    s = (r + r.transpose(0, 2, 1)).astype("float32")
    e, v = tf.linalg.eigh(s)
    assert_close(e, np.linalg.eigvalsh(s), atol=1e-5)
    rec = np.einsum("bij,bj,bkj->bik", v.numpy(), e.numpy(), v.numpy())
    assert_close(rec, s, atol=2e-5)


def test_svd_against_numpy_all_shapes():
    np = _np()
    rng = np.random.default_rng(4)
    for shape in ((4, 3), (3, 4), (5, 5), (2, 6, 2), (1, 1)):
        x = rng.normal(size=shape).astype("float32")
        s, u, v = tf.linalg.svd(x)
        assert_close(s, np.linalg.svd(x, compute_uv=False), atol=2e-5)
        k = min(shape[-2:])
        assert tuple(u.shape) == shape[:-1] + (k,) and tuple(v.shape) == shape[:-2] + (shape[-1], k)
        rec = np.einsum("...ij,...j,...kj->...ik", u.numpy(), s.numpy(), v.numpy())
        assert_close(rec, x, atol=2e-5)
        s, u, v = tf.linalg.svd(x, full_matrices=True)
        for w, n in ((u, shape[-2]), (v, shape[-1])):
            assert tuple(w.shape[-2:]) == (n, n)
            assert_close(np.swapaxes(w.numpy(), -1, -2) @ w.numpy(), np.broadcast_to(np.eye(n), w.shape), atol=2e-5)
    assert_close(tf.linalg.svd([[3.0, 0.0], [0.0, -4.0]], compute_uv=False), [4.0, 3.0])


def test_rank_deficient_svd_pinv_rank_lstsq():
    np = _np()
    a = np.outer([1.0, 2.0, 3.0], [1.0, -1.0]).astype("float32")  # rank 1
    s, u, v = tf.linalg.svd(a, full_matrices=True)
    assert_close(s, [math.sqrt(14.0) * math.sqrt(2.0), 0.0], atol=1e-5)
    assert_close(u.numpy().T @ u.numpy(), np.eye(3), atol=1e-5)
    assert int(tf.linalg.matrix_rank(a)) == 1
    assert int(tf.linalg.matrix_rank(np.eye(3, dtype="float32"))) == 3
    assert_close(tf.linalg.pinv(a), np.linalg.pinv(a), atol=1e-5)
    g = np.array(G, "float32")
    b = np.random.default_rng(5).normal(size=(4, 2)).astype("float32")
    want = np.linalg.lstsq(g, b, rcond=None)[0]
    assert_close(tf.linalg.lstsq(g, b), want, atol=1e-4)
    assert_close(tf.linalg.lstsq(g, b, fast=False), want, atol=1e-4)
    wide = g.T
    assert_close(tf.linalg.lstsq(wide, b[:3]), np.linalg.lstsq(wide, b[:3], rcond=None)[0], atol=1e-4)
    lam = 0.5
    ridge = np.linalg.solve(g.T @ g + lam * np.eye(3), g.T @ b)
    assert_close(tf.linalg.lstsq(g, b, l2_regularizer=lam), ridge, atol=1e-4)
    assert_close(tf.linalg.lstsq(g, b, l2_regularizer=lam, fast=False), ridge, atol=1e-4)


def test_expm_by_hand_and_scipy():
    assert_close(tf.linalg.expm([[0.0, 1.0], [0.0, 0.0]]), [[1.0, 1.0], [0.0, 1.0]], atol=1e-6)
    t = 1.3
    assert_close(
        tf.linalg.expm([[0.0, -t], [t, 0.0]]), [[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]], atol=1e-6
    )
    assert_close(
        tf.linalg.expm([[[2.0, 0.0], [0.0, -1.0]]] * 2), [[[math.exp(2.0), 0.0], [0.0, math.exp(-1.0)]]] * 2, rtol=1e-5
    )
    sl = pytest.importorskip("scipy.linalg")
    np = _np()
    for scale in (0.01, 0.3, 1.5, 8.0):
        m = np.random.default_rng(6).normal(size=(4, 4)) * scale
        assert_close(tf.linalg.expm(m.astype("float32")), sl.expm(m), rtol=1e-4, atol=1e-5)
        assert_close(tf.linalg.expm(m), sl.expm(m), rtol=1e-10, atol=1e-12)


def test_lu_matches_lapack():
    sl = pytest.importorskip("scipy.linalg")
    np = _np()
    m = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 10.0]], "float32")
    lu, perm = tf.linalg.lu(m)
    plu, piv = sl.lu_factor(m)
    assert_close(lu, plu, atol=1e-5)
    assert perm.numpy().tolist() == [2, 0, 1] and perm.dtype == tf.int32
    assert_close(tf.linalg.lu_reconstruct(lu, perm), m, atol=1e-5)
    assert_close(tf.linalg.lu_matrix_inverse(lu, perm), np.linalg.inv(m), atol=1e-4)
    assert_close(
        tf.linalg.lu_solve(lu, perm, [[1.0], [2.0], [3.0]]), np.linalg.solve(m, [[1.0], [2.0], [3.0]]), atol=1e-4
    )
    assert tf.linalg.lu(m, output_idx_type=tf.int64)[1].dtype == tf.int64


def test_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="square"):
        tf.linalg.eigh([[1.0, 2.0, 3.0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 2"):
        tf.linalg.svd([1.0, 2.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="lstsq: rhs shape"):
        tf.linalg.lstsq(G, [[1.0], [2.0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="not supported"):
        tf.linalg.qr([[1, 2], [3, 4]])


C = [[1.0, -1.0, 2.0, 0.3], [0.5, 3.0, 1.0, -0.6], [2.0, 1.0, -1.0, 0.8], [1.0, 0.0, 0.5, 1.2]]  # weights


def test_qr_gradients():
    def both(a):
        q, r = tf.linalg.qr(a)
        wq = tf.cast(tf.constant(C), a.dtype)[: q.shape[0], : q.shape[1]]
        wr = tf.cast(tf.constant(C), a.dtype)[: r.shape[0], : r.shape[1]] * 0.5
        return tf.reduce_sum(q * wq) + tf.reduce_sum(r * wr)

    check_grad(both, G)
    check_grad(both, [list(r) for r in zip(*G)])  # 3x4: TF's split for wide matrices
    check_grad(both, S)


def test_eigh_gradients():
    check_grad(lambda a: tf.linalg.eigvalsh(a) * tf.constant([1.0, -2.0, 0.5], a.dtype), S)
    weights = tf.constant([[1.0, 0.5, -1.0], [2.0, 0.0, 1.0], [0.3, -0.7, 1.0]])
    check_grad(lambda a: tf.linalg.eigh(a)[1] ** 2 * tf.cast(weights, a.dtype), S)


def test_svd_gradients():
    check_grad(lambda a: tf.linalg.svd(a, compute_uv=False) * tf.constant([1.0, -2.0, 0.5], a.dtype), G)

    def uv(a):  # sum_i w_i u_i v_i^T does not depend on the signs of the singular vectors
        s, u, v = tf.linalg.svd(a)
        w = tf.constant([1.0, 0.5, -1.0], a.dtype)[: s.shape[-1]]
        return tf.matmul(u * w, v, transpose_b=True) * tf.cast(tf.constant(C), a.dtype)[: a.shape[0], : a.shape[1]]

    check_grad(uv, G)
    check_grad(uv, [list(r) for r in zip(*G)])
    check_grad(uv, S)
    check_grad(tf.linalg.pinv, G)


def test_lu_expm_lstsq_gradients():
    m = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 10.0]]
    check_grad(lambda a: tf.linalg.lu(a)[0] * tf.cast(tf.constant(S), a.dtype), m)
    check_grad(
        lambda a: tf.linalg.expm(a) * tf.cast(tf.constant(S), a.dtype),
        [[0.1, 0.4, -0.2], [0.3, -0.5, 0.1], [0.2, 0.1, 0.3]],
    )
    check_grad(lambda a: tf.linalg.lstsq(a, tf.cast(tf.constant([[1.0], [2.0], [0.0], [1.0]]), a.dtype)), G)


def test_traced_equals_eager():
    """In a graph Jacobi runs a fixed number of sweeps and expm squares in a while loop."""
    a = tf.constant(G)
    m = tf.constant([[0.5, 3.0, -1.0], [2.0, -4.0, 1.0], [1.0, 0.0, 2.5]])  # l1 norm 7: squarings
    traced = tf.function(
        lambda a, m: (
            tf.linalg.svd(a, compute_uv=False),
            tf.linalg.eigvalsh(m + tf.transpose(m)),
            tf.linalg.expm(m),
            tf.linalg.qr(a)[1],
            tf.linalg.lu(m)[0],
        )
    )
    eager = (
        tf.linalg.svd(a, compute_uv=False),
        tf.linalg.eigvalsh(m + tf.transpose(m)),
        tf.linalg.expm(m),
        tf.linalg.qr(a)[1],
        tf.linalg.lu(m)[0],
    )
    for got, want in zip(traced(a, m), eager):
        assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_vector_sign_convention():
    """Singular and eigen vectors have their largest-magnitude entry positive (our fixed
    convention; LAPACK's signs are arbitrary), so every backend returns the same vectors."""

    def largest_positive(w):
        rows = list(zip(*w.numpy().tolist()))  # columns
        return all(max(col, key=abs) > 0 for col in rows)

    s, u, v = tf.linalg.svd(G)
    assert largest_positive(u)
    e, w = tf.linalg.eigh(S)
    assert largest_positive(w)
    s2, u2, v2 = tf.linalg.svd(-tf.constant(G))  # -A = U S (-V)^T: u keeps its signs, v flips
    assert_close(u2, u, atol=1e-5)
    assert_close(v2, -v, atol=1e-5)


def test_empty_matrices_give_empty_results():
    """numpy.linalg's shapes for empty inputs (TF returns the same); no argmax of an empty
    column while fixing signs."""
    w, v = tf.linalg.eigh(tf.zeros([0, 0]))
    assert (tuple(w.shape), tuple(v.shape)) == ((0,), (0, 0))
    s, u, vt = tf.linalg.svd(tf.zeros([0, 3]))
    assert (tuple(s.shape), tuple(u.shape), tuple(vt.shape)) == ((0,), (0, 0), (3, 0))
    s, u, v = tf.linalg.svd(tf.zeros([2, 3, 0]), full_matrices=True)
    assert (tuple(s.shape), tuple(u.shape), tuple(v.shape)) == ((2, 0), (2, 3, 3), (2, 0, 0))
    assert tuple(tf.linalg.pinv(tf.zeros([0, 0])).shape) == (0, 0)

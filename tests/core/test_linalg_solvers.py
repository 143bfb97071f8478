"""tf.linalg inv/det/slogdet/logdet/solve/triangular_solve/cholesky/cholesky_solve: values
derived by hand (and numpy.linalg where it exists), TF's gradients by finite differences,
and TF's errors for singular / non-square / non-positive-definite input."""

import math

import pytest
import webtensor as tf

from tests.util import assert_close, check_grad

A = [[4.0, 1.0, 2.0], [1.0, 3.0, 0.5], [2.0, 0.5, 5.0]]  # symmetric positive definite, det 44
P = [[0.0, 2.0, 1.0], [1.0, 1.0, 1.0], [3.0, 0.0, -1.0]]  # needs a row swap, det 5
B = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]


def _mm(x, y):
    return [[sum(a * b for a, b in zip(r, c)) for c in zip(*y)] for r in x]


def test_inverse_and_determinants_by_hand():
    assert_close(tf.linalg.det(A), 44.0, rtol=1e-5)
    assert_close(tf.linalg.det(P), 5.0, rtol=1e-5)
    assert_close(tf.linalg.det([[[2.0, 0.0], [0.0, 3.0]], [[0.0, 1.0], [1.0, 0.0]]]), [6.0, -1.0])
    sign, la = tf.linalg.slogdet(tf.constant([[0.0, 1.0], [2.0, 0.0]]))
    assert float(sign) == -1.0 and abs(float(la) - math.log(2.0)) < 1e-6
    assert_close(tf.linalg.logdet(A), math.log(44.0), rtol=1e-5)
    inv = tf.linalg.inv(P).numpy().tolist()
    assert_close(_mm(inv, P), [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], atol=1e-5)
    assert_close(tf.linalg.inv([[2.0, 1.0], [1.0, 1.0]]), [[1.0, -1.0], [-1.0, 2.0]], atol=1e-6)


def test_solvers_by_hand():
    x = tf.linalg.solve(P, B).numpy().tolist()
    assert_close(_mm(P, x), B, atol=1e-5)
    xt = tf.linalg.solve(P, B, adjoint=True).numpy().tolist()
    assert_close(_mm([list(r) for r in zip(*P)], xt), B, atol=1e-5)
    low = [[2.0, 0.0], [3.0, 4.0]]
    assert_close(tf.linalg.triangular_solve([[2.0, 9.0], [3.0, 4.0]], [[2.0], [11.0]]), [[1.0], [2.0]])
    assert_close(tf.linalg.triangular_solve(low, [[2.0], [8.0]], adjoint=True), [[-2.0], [2.0]])
    assert_close(tf.linalg.triangular_solve([[2.0, 3.0], [9.0, 4.0]], [[8.0], [8.0]], lower=False), [[1.0], [2.0]])
    lc = tf.linalg.cholesky([[4.0, 2.0], [2.0, 10.0]])
    assert_close(lc, [[2.0, 0.0], [1.0, 3.0]])
    assert_close(tf.linalg.cholesky_solve(lc, [[6.0], [12.0]]), [[1.0], [1.0]])


def test_against_numpy():
    np = pytest.importorskip("numpy")
    r = np.random.default_rng(1).normal(size=(2, 4, 4))
    a = (r @ r.transpose(0, 2, 1) + 4 * np.eye(4)).astype("float32")
    b = np.random.default_rng(2).normal(size=(2, 4, 3)).astype("float32")
    assert_close(tf.linalg.inv(a), np.linalg.inv(a), rtol=1e-4, atol=1e-5)
    assert_close(tf.linalg.det(a), np.linalg.det(a), rtol=1e-4)
    assert_close(tf.linalg.solve(a, b), np.linalg.solve(a, b), rtol=1e-4, atol=1e-5)
    assert_close(tf.linalg.cholesky(a), np.linalg.cholesky(a), rtol=1e-4, atol=1e-5)
    assert_close(tf.linalg.slogdet(a)[1], np.linalg.slogdet(a)[1], rtol=1e-4)


def test_gradients():
    check_grad(lambda a: tf.linalg.inv(a) * tf.constant([[1.0, 2.0, -1.0]] * 3, a.dtype), P)
    check_grad(tf.linalg.det, P)
    check_grad(lambda a: tf.linalg.slogdet(a)[1], P)
    check_grad(lambda a, b: tf.linalg.solve(a, b) * tf.constant([[1.0, -2.0]] * 3, a.dtype), P, B)
    check_grad(lambda a, b: tf.linalg.solve(a, b, adjoint=True), P, B)
    check_grad(lambda a, b: tf.linalg.triangular_solve(a, b) * tf.constant([[1.0, 3.0]] * 3, a.dtype), A, B)
    check_grad(lambda a, b: tf.linalg.triangular_solve(a, b, lower=False, adjoint=True), A, B)
    # cholesky reads the lower triangle only: perturb symmetric inputs through it, as TF's tests do
    w = [[1.0, 0.0, 0.0], [2.0, -1.0, 0.0], [0.5, 3.0, 1.5]]
    check_grad(lambda a: tf.linalg.cholesky((a + tf.linalg.matrix_transpose(a)) * 0.5) * tf.constant(w, a.dtype), A)
    check_grad(lambda a: tf.linalg.logdet((a + tf.linalg.matrix_transpose(a)) * 0.5), A)


def test_errors_name_op_shape_and_dtype():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"inv.*square.*\(2, 3\) float32"):
        tf.linalg.inv(tf.zeros([2, 3]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"solve: rhs shape \(2, 1\)"):
        tf.linalg.solve(A, [[1.0], [2.0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="det.*float"):
        tf.linalg.det(tf.constant([[1, 2], [3, 4]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="inv: Input is not invertible"):
        tf.linalg.inv([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="solve: Input is not invertible"):
        tf.linalg.solve([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, 1.0]]], tf.ones([2, 2, 1]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="cholesky.*not successful"):
        tf.linalg.cholesky([[1.0, 2.0], [2.0, 1.0]])

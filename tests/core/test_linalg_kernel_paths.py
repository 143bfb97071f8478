"""The eager fast paths of cholesky / solve (a backend's OPTIONAL_KERNELS, else the
composition) give numpy.linalg's values: cholesky reads only the lower triangle, batches
with one bad matrix raise TF's error, and empty batches need no check."""

import pytest

np = pytest.importorskip("numpy")
import webtensor as tf

from tests.util import assert_close


def _spd(rng, batch, n, dtype):
    a = rng.normal(size=batch + (n, n))
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cholesky_reads_lower_triangle_only(dtype):
    rng = np.random.default_rng(1)
    spd = _spd(rng, (2,), 5, dtype)
    garbage = spd + np.triu(rng.normal(size=(5, 5)) * 10, 1).astype(dtype)  # upper triangle is noise
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert_close(tf.linalg.cholesky(garbage), np.linalg.cholesky(spd), rtol=tol, atol=tol)


def test_cholesky_batch_with_one_indefinite_matrix_raises():
    rng = np.random.default_rng(2)
    a = _spd(rng, (3,), 4, np.float32)
    a[1] = -a[1]
    with pytest.raises(tf.errors.InvalidArgumentError, match="cholesky.*not successful"):
        tf.linalg.cholesky(a)


def test_empty_batches_need_no_check():
    assert tuple(tf.linalg.cholesky(np.zeros((0, 3, 3), np.float32)).shape) == (0, 3, 3)
    x = tf.linalg.solve(np.zeros((0, 2, 2), np.float64), np.zeros((0, 2, 1), np.float64))
    assert tuple(x.shape) == (0, 2, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_solve_batched_against_numpy(dtype):
    rng = np.random.default_rng(3)
    a = rng.normal(size=(3, 6, 6)).astype(dtype) + 6 * np.eye(6, dtype=dtype)
    b = rng.normal(size=(3, 6, 2)).astype(dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert_close(tf.linalg.solve(a, b), np.linalg.solve(a, b), rtol=tol, atol=tol)
    singular = a.copy()
    singular[2, 3, :] = 0.0  # an exactly zero row: an exactly zero pivot in any LU
    with pytest.raises(tf.errors.InvalidArgumentError, match="solve.*not invertible"):
        tf.linalg.solve(singular, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_only_eigvalsh_and_svd_batched_against_numpy(dtype):
    rng = np.random.default_rng(4)
    spd = _spd(rng, (2,), 5, dtype)
    garbage = spd + np.triu(rng.normal(size=(5, 5)), 1).astype(dtype)  # eigvalsh reads the lower triangle
    g = rng.normal(size=(2, 6, 4)).astype(dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert_close(tf.linalg.eigvalsh(garbage), np.linalg.eigvalsh(spd), rtol=tol, atol=tol)
    assert_close(tf.linalg.svd(g, compute_uv=False), np.linalg.svd(g, compute_uv=False), rtol=tol, atol=tol)
    x = tf.constant(g)
    with tf.GradientTape() as tape:  # d sum(s) / dA = U_thin V_thin^T (TF's formula, recomputed vectors)
        tape.watch(x)
        total = tf.reduce_sum(tf.linalg.svd(x, compute_uv=False))
    u, _, vt = np.linalg.svd(g, full_matrices=False)
    assert_close(tape.gradient(total, x), u @ vt, rtol=tol * 10, atol=tol * 10)


def test_inv_and_adjoint_solve_against_numpy():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(2, 4, 4)) + 4 * np.eye(4)
    b = rng.normal(size=(2, 4, 3))
    assert_close(tf.linalg.inv(a), np.linalg.inv(a), rtol=1e-10, atol=1e-10)
    assert_close(
        tf.linalg.solve(a, b, adjoint=True), np.linalg.solve(np.swapaxes(a, -1, -2), b), rtol=1e-10, atol=1e-10
    )
    a[0, :, 2] = 0.0  # an exactly zero column
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"inv.*not invertible.*\(2, 4, 4\) float64"):
        tf.linalg.inv(a)

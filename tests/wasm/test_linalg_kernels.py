"""kernels/linalg.c (wt_cholesky, wt_lu_solve): the wasm backend's linalg_cholesky and
linalg_solve against numpy.linalg (LAPACK), their failure flags through tf.linalg's errors,
and the kernel path taking one call where the core's composition takes O(n)."""

import pytest

np = pytest.importorskip("numpy")

import webtensor as tf  # noqa: E402
from webtensor import backends  # noqa: E402
from webtensor.errors import InvalidArgumentError  # noqa: E402

pytestmark = pytest.mark.native

TOL = {np.float32: 2e-4, np.float64: 1e-10}


@pytest.fixture
def on_wasm(wasm):
    backends.set_default("wasm")
    yield wasm
    backends.set_default(None)


def _spd(rng, shape, n):
    x = rng.standard_normal(shape + (n, n))
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def _kernel_calls(fn):
    tf.config.experimental.reset_kernel_count("wasm")
    out = fn()
    return out, tf.config.experimental.get_kernel_count("wasm")


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape,n", [((), 1), ((), 7), ((3,), 16), ((2, 2), 33)])
def test_cholesky_matches_lapack(on_wasm, dt, shape, n):
    rng = np.random.default_rng(n)
    a = _spd(rng, shape, n)
    noisy = a + np.triu(rng.standard_normal(a.shape), 1)  # the upper triangle is never read
    got = tf.linalg.cholesky(tf.constant(noisy.astype(dt))).numpy()
    assert got.dtype == dt and got.shape == a.shape
    np.testing.assert_allclose(got, np.linalg.cholesky(a), rtol=TOL[dt], atol=TOL[dt])


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape,n,k", [((), 1, 1), ((), 5, 3), ((4,), 12, 1), ((2, 3), 20, 7), ((2,), 6, 0)])
def test_solve_matches_lapack(on_wasm, dt, shape, n, k):
    rng = np.random.default_rng(n + k)
    a = rng.standard_normal(shape + (n, n)) + 2 * np.eye(n)
    b = rng.standard_normal(shape + (n, k))
    got = tf.linalg.solve(tf.constant(a.astype(dt)), tf.constant(b.astype(dt))).numpy()
    assert got.dtype == dt and got.shape == b.shape
    want = np.linalg.solve(a, b) if k else np.zeros(b.shape)
    np.testing.assert_allclose(got, want, rtol=10 * TOL[dt], atol=10 * TOL[dt])


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_det_and_logdet_from_the_lu_kernel(on_wasm, dt):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 6, 6))
    a[0] = a[0][[1, 0, 2, 3, 4, 5]]  # a row swap flips the sign
    np.testing.assert_allclose(tf.linalg.det(tf.constant(a.astype(dt))).numpy(), np.linalg.det(a), rtol=10 * TOL[dt])
    s = _spd(rng, (3,), 6)
    np.testing.assert_allclose(
        tf.linalg.logdet(tf.constant(s.astype(dt))).numpy(), np.linalg.slogdet(s)[1], rtol=TOL[dt]
    )
    inv = tf.linalg.inv(tf.constant(a.astype(dt))).numpy()
    np.testing.assert_allclose(inv @ a, np.broadcast_to(np.eye(6), a.shape), atol=100 * TOL[dt])


def test_pivoting_takes_the_largest_row(on_wasm):
    # a zero leading entry: without row exchanges the first pivot is 0
    a = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 9.0]], np.float32)
    b = np.array([[1.0], [2.0], [3.0]], np.float32)
    got = tf.linalg.solve(tf.constant(a), tf.constant(b)).numpy()
    np.testing.assert_allclose(got, np.linalg.solve(a.astype(np.float64), b), rtol=1e-5, atol=1e-6)


def test_one_bad_matrix_in_a_batch_is_tfs_error(on_wasm):
    rng = np.random.default_rng(2)
    a = _spd(rng, (3,), 4).astype(np.float32)
    a[1, 2, 2] = -50.0  # not positive definite
    with pytest.raises(InvalidArgumentError, match="Cholesky decomposition was not successful"):
        tf.linalg.cholesky(tf.constant(a))
    nan = _spd(rng, (2,), 3)
    nan[1, 0, 0] = np.nan
    with pytest.raises(InvalidArgumentError, match="Cholesky decomposition was not successful"):
        tf.linalg.cholesky(tf.constant(nan))
    m = rng.standard_normal((3, 4, 4)).astype(np.float32)
    m[2, :, 1] = 0.0  # a zero column: exactly singular
    with pytest.raises(InvalidArgumentError, match="not invertible"):
        tf.linalg.solve(tf.constant(m), tf.constant(np.ones((3, 4, 2), np.float32)))
    assert tf.linalg.det(tf.constant(m)).numpy()[2] == 0.0


def test_backend_flags_and_singular_outputs(pair):
    """The contract at the backend: failed/singular are Python bools per whole batch; a
    singular matrix's x is NaN, its sign 0 and log|det| -inf (as numpy's slogdet)."""
    be = pair.wasm
    a = np.stack([np.eye(3), np.zeros((3, 3)), 2 * np.eye(3)])
    b = np.ones((3, 3, 1))
    x, singular = be.linalg_solve(pair.put(be, a), pair.put(be, b), det=False)
    assert singular is True
    got = pair.get(be, x, tf.float64)
    np.testing.assert_array_equal(got[0], b[0])
    assert np.isnan(got[1]).all()
    np.testing.assert_array_equal(got[2], b[2] / 2)
    x, sign, logabs = be.linalg_solve(pair.put(be, a), pair.put(be, b))
    np.testing.assert_array_equal(pair.get(be, sign, tf.float64), [1.0, 0.0, 1.0])
    np.testing.assert_allclose(pair.get(be, logabs, tf.float64), [0.0, -np.inf, 3 * np.log(2.0)])
    _, singular = be.linalg_solve(pair.put(be, a[::2]), pair.put(be, b[::2]), det=False)
    assert singular is False
    _, failed = be.linalg_cholesky(pair.put(be, a))
    assert failed is True
    low, failed = be.linalg_cholesky(pair.put(be, a[::2].astype(np.float32)))
    assert failed is False
    np.testing.assert_allclose(pair.get(be, low, tf.float32), np.linalg.cholesky(a[::2]), rtol=1e-6)


@pytest.mark.parametrize("op", ["cholesky", "solve"])
def test_kernel_path_is_one_call(on_wasm, monkeypatch, op):
    """One kernel call for a batch of 32x32 matrices; the composition takes dozens."""
    rng = np.random.default_rng(3)
    a = tf.constant(_spd(rng, (4,), 32).astype(np.float32))
    b = tf.constant(rng.standard_normal((4, 32, 2)).astype(np.float32))
    run = (lambda: tf.linalg.cholesky(a)) if op == "cholesky" else (lambda: tf.linalg.solve(a, b))
    fast, calls = _kernel_calls(run)
    assert calls == 1
    monkeypatch.setattr(on_wasm, "fused", on_wasm.fused - {"linalg_cholesky", "linalg_solve"})
    slow, composed = _kernel_calls(run)
    assert composed > 32
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 2, 8, 64, 256, 3, 12, 100, 1000, 4097])  # others: Bluestein
def test_fft_matches_numpy(on_wasm, dt, n):
    rng = np.random.default_rng(n)
    z = (rng.standard_normal((2, 3, n)) + 1j * rng.standard_normal((2, 3, n))).astype(
        np.complex64 if dt is np.float32 else np.complex128
    )
    c = tf.complex(tf.constant(z.real), tf.constant(z.imag))
    tol = 1e-5 * max(1.0, np.log2(n)) if dt is np.float32 else 1e-12
    ref = z.astype(np.complex128)
    np.testing.assert_allclose(tf.signal.fft(c).numpy(), np.fft.fft(ref), rtol=tol, atol=tol * np.sqrt(n))
    np.testing.assert_allclose(tf.signal.ifft(c).numpy(), np.fft.ifft(ref), rtol=tol, atol=tol / np.sqrt(n))
    got = tf.signal.rfft(tf.constant(z.real)).numpy()
    assert got.shape == (2, 3, n // 2 + 1)
    np.testing.assert_allclose(got, np.fft.rfft(ref.real), rtol=tol, atol=tol * np.sqrt(n))


def test_fft_gradient_through_the_kernel(on_wasm):
    """The kernel's tape node keeps the gradient: d/dx sum |rfft(x)|^2 against central
    finite differences of numpy's rfft."""
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal(16)

    def loss(v):
        return np.sum(np.abs(np.fft.rfft(v)) ** 2)

    x = tf.Variable(x0)
    with tf.GradientTape() as tape:
        z = tf.signal.rfft(x)
        y = tf.reduce_sum(tf.math.real(z) ** 2 + tf.math.imag(z) ** 2)
    g = tape.gradient(y, x).numpy()
    eps = 1e-6
    fd = np.array([(loss(x0 + eps * e) - loss(x0 - eps * e)) / (2 * eps) for e in np.eye(16)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("op", ["fft", "rfft"])
def test_fft_kernel_path_is_one_call(on_wasm, monkeypatch, op):
    rng = np.random.default_rng(6)
    re = tf.constant(rng.standard_normal((4, 64)).astype(np.float32))
    im = tf.constant(rng.standard_normal((4, 64)).astype(np.float32))
    c = tf.complex(re, im)
    run = (lambda: tf.signal.fft(c)) if op == "fft" else (lambda: tf.signal.rfft(re))
    fast, calls = _kernel_calls(run)
    assert calls == 1
    monkeypatch.setattr(on_wasm, "fused", on_wasm.fused - {"fft", "rfft"})
    slow, composed = _kernel_calls(run)
    assert composed > 6
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-4, atol=1e-4)

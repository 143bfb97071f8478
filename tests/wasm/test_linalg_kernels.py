"""kernels/linalg.c (wt_cholesky, wt_lu_solve), kernels/decomp.c (wt_qr, wt_eigh, wt_svd) and
kernels/fft.c: the wasm backend's OPTIONAL_KERNELS against numpy.linalg / numpy.fft (LAPACK,
pocketfft), their failure flags through tf.linalg's errors, gradients through the ops' tape
nodes by finite differences, and the kernel path taking one call where the core's
composition takes O(n) or more."""

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


# -- kernels/decomp.c: qr, eigh/eigvalsh, svd ----------------------------------------------

VEC_TOL = {np.float32: 2e-4, np.float64: 1e-9}


def _signed(w):
    """numpy.linalg's vectors (columns) in our documented convention: each column's
    largest-magnitude entry positive. Returns the signs too (svd's v takes u's)."""
    top = np.take_along_axis(w, np.abs(w).argmax(-2)[..., None, :], -2)
    signs = np.where(top < 0, -1.0, 1.0)
    return w * signs, signs


def _mt(x):
    return np.swapaxes(x, -1, -2)


def _eye_like(x):
    return np.broadcast_to(np.eye(x.shape[-1]), x.shape)


QR_SHAPES = [(1, 1), (5, 3), (3, 5), (4, 4), (2, 7, 4), (3, 4, 9), (2, 2, 6, 6), (0, 3), (3, 0), (0, 4, 4)]


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape", QR_SHAPES)
@pytest.mark.parametrize("full", [False, True])
def test_qr_matches_lapack(on_wasm, dt, shape, full):
    """Householder with LAPACK's signs: q and r equal numpy's (geqrf/orgqr) entry by entry."""
    rng = np.random.default_rng(sum(shape))
    a = rng.standard_normal(shape).astype(dt)
    q, r = tf.linalg.qr(tf.constant(a), full_matrices=full)
    q, r = q.numpy(), r.numpy()
    qn, rn = np.linalg.qr(a.astype(np.float64), mode="complete" if full else "reduced")
    assert q.dtype == dt and r.dtype == dt and q.shape == qn.shape and r.shape == rn.shape
    np.testing.assert_allclose(q, qn, atol=VEC_TOL[dt])
    np.testing.assert_allclose(r, rn, atol=VEC_TOL[dt])
    np.testing.assert_allclose(q @ r, a, atol=VEC_TOL[dt])
    np.testing.assert_allclose(_mt(q) @ q, _eye_like(q[..., :1, :].repeat(q.shape[-1], -2)), atol=VEC_TOL[dt])
    np.testing.assert_array_equal(np.tril(r, -1), 0)


def test_qr_leaves_a_reduced_column_alone(on_wasm):
    """larfg's rule: a column with nothing below the diagonal gets no reflection, so a
    triangular matrix with a negative diagonal is its own R (Q = I), by hand."""
    a = np.array([[-2.0, 1.0, 4.0], [0.0, 3.0, -1.0], [0.0, 0.0, -5.0]])
    q, r = tf.linalg.qr(tf.constant(a))
    np.testing.assert_array_equal(q.numpy(), np.eye(3))
    np.testing.assert_array_equal(r.numpy(), a)


EIGH_CASES = [((), 1), ((), 5), ((3,), 16), ((2, 2), 9), ((0,), 4)]


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape,n", EIGH_CASES)
def test_eigh_matches_lapack(on_wasm, dt, shape, n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(shape + (n, n))
    sym = np.tril(x) + _mt(np.tril(x, -1))
    noisy = (sym + np.triu(rng.standard_normal(x.shape), 1)).astype(dt)  # only the lower triangle is read
    sym = np.tril(noisy.astype(np.float64)) + _mt(np.tril(noisy.astype(np.float64), -1))
    e, v = tf.linalg.eigh(tf.constant(noisy))
    e, v = e.numpy(), v.numpy()
    en, vn = np.linalg.eigh(sym)
    assert e.dtype == dt and v.dtype == dt and e.shape == en.shape and v.shape == vn.shape
    np.testing.assert_allclose(e, en, rtol=TOL[dt], atol=TOL[dt] * n)
    np.testing.assert_allclose(v, _signed(vn)[0], atol=VEC_TOL[dt])
    np.testing.assert_allclose((v * e[..., None, :]) @ _mt(v), sym, atol=TOL[dt] * n)
    np.testing.assert_allclose(_mt(v) @ v, _eye_like(sym), atol=VEC_TOL[dt])
    np.testing.assert_allclose(tf.linalg.eigvalsh(tf.constant(noisy)).numpy(), en, rtol=TOL[dt], atol=TOL[dt] * n)


def test_eigh_repeated_and_zero_eigenvalues(on_wasm):
    """A rotated diag(0, 2, 2, 5): values exact to rounding, the vectors of the repeated
    value any orthonormal basis of its space (V diag V^T and V^T V are what is fixed)."""
    rng = np.random.default_rng(9)
    basis, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    a = basis @ np.diag([0.0, 2.0, 2.0, 5.0]) @ basis.T
    e, v = tf.linalg.eigh(tf.constant(a))
    e, v = e.numpy(), v.numpy()
    np.testing.assert_allclose(e, [0.0, 2.0, 2.0, 5.0], atol=1e-12)
    np.testing.assert_allclose((v * e) @ v.T, a, atol=1e-12)
    np.testing.assert_allclose(v.T @ v, np.eye(4), atol=1e-12)


SVD_SHAPES = [(1, 1), (6, 3), (3, 6), (5, 5), (2, 8, 5), (3, 4, 7), (2, 2, 6, 6), (0, 3), (3, 0), (0, 4, 2)]


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SVD_SHAPES)
@pytest.mark.parametrize("full", [False, True])
def test_svd_matches_lapack(on_wasm, dt, shape, full):
    """s equals numpy's; u and v's first min(m, n) columns equal numpy's after the sign
    convention (fixed by the largest entry of u_i, of v_i for wide a, the other vector
    taking its sign); full u / v complete them orthonormally."""
    rng = np.random.default_rng(sum(shape) + 1)
    a = rng.standard_normal(shape).astype(dt)
    s, u, v = tf.linalg.svd(tf.constant(a), full_matrices=full)
    s, u, v = s.numpy(), u.numpy(), v.numpy()
    un, sn, vtn = np.linalg.svd(a.astype(np.float64), full_matrices=full)
    vn = _mt(vtn)
    assert s.dtype == dt and u.dtype == dt and v.dtype == dt
    assert s.shape == sn.shape and u.shape == un.shape and v.shape == vn.shape
    p = sn.shape[-1]
    np.testing.assert_allclose(s, sn, rtol=TOL[dt], atol=TOL[dt])
    if shape[-2] >= shape[-1]:  # the convention is taken on the tall problem's left vectors
        u1, signs = _signed(un[..., :p])
        v1 = vn[..., :p] * signs
    else:  # a^T = v s u^T: fixed by v_i
        v1, signs = _signed(vn[..., :p])
        u1 = un[..., :p] * signs
    np.testing.assert_allclose(u[..., :p], u1, atol=VEC_TOL[dt])
    np.testing.assert_allclose(v[..., :p], v1, atol=VEC_TOL[dt])
    np.testing.assert_allclose((u[..., :p] * s[..., None, :]) @ _mt(v[..., :p]), a, atol=10 * TOL[dt])
    for w in (u, v):
        np.testing.assert_allclose(_mt(w) @ w, _eye_like(_mt(w) @ w), atol=VEC_TOL[dt])
    np.testing.assert_allclose(tf.linalg.svd(tf.constant(a), compute_uv=False).numpy(), sn, rtol=TOL[dt], atol=TOL[dt])


@pytest.mark.parametrize("shape", [(5, 3), (3, 5)])
def test_svd_rank_deficient_completes_u_and_v(on_wasm, shape):
    """Zero singular values (a rank-1 and a zero matrix) still give orthonormal u and v."""
    rng = np.random.default_rng(11)
    rank1 = np.outer(rng.standard_normal(shape[0]), rng.standard_normal(shape[1]))
    for a in (rank1, np.zeros(shape)):
        s, u, v = (t.numpy() for t in tf.linalg.svd(tf.constant(a), full_matrices=True))
        np.testing.assert_allclose(s, np.linalg.svd(a, compute_uv=False), atol=1e-12)
        np.testing.assert_allclose(u.T @ u, np.eye(shape[0]), atol=1e-12)
        np.testing.assert_allclose(v.T @ v, np.eye(shape[1]), atol=1e-12)
        p = min(shape)
        np.testing.assert_allclose((u[:, :p] * s) @ v[:, :p].T, a, atol=1e-12)


def test_decomp_kernels_at_the_backend(pair):
    """The contract of base.OPTIONAL_KERNELS on the wasm backend itself: shapes for empty and
    1x1 matrices, full u/v/q, and TF-style errors for dtypes the kernels do not take."""
    be = pair.wasm
    q, r = be.linalg_qr(pair.put(be, np.full((1, 1), -3.0)))
    assert pair.get(be, q, tf.float64).tolist() == [[1.0]] and pair.get(be, r, tf.float64).tolist() == [[-3.0]]
    e, v = be.linalg_eigh(pair.put(be, np.zeros((0, 0), np.float32)))
    assert e.shape == (0,) and v.shape == (0, 0)
    assert be.linalg_eigvalsh(pair.put(be, np.zeros((2, 0, 0)))).shape == (2, 0)
    s, u, v = be.linalg_svd(pair.put(be, np.zeros((4, 0), np.float32)))
    assert s.shape == (0,) and v.shape == (0, 0)
    np.testing.assert_array_equal(pair.get(be, u, tf.float32), np.eye(4))  # the complement of nothing
    assert be.linalg_svd_values(pair.put(be, np.zeros((3, 0, 5)))).shape == (3, 0)
    with pytest.raises(InvalidArgumentError, match="qr: expected float32/float64 matrices.*int32"):
        be.linalg_qr(pair.put(be, np.ones((2, 2), np.int32)))
    with pytest.raises(InvalidArgumentError, match="eigh: expected square.*\\(2, 3\\)"):
        be.linalg_eigh(pair.put(be, np.ones((2, 3))))


# gradients: the ops' tape nodes over the kernels, against central differences of numpy.linalg

W = np.random.default_rng(12).standard_normal((6, 6))


def _fd(loss, x0, eps=1e-6):
    flat = x0.reshape(-1)
    g = np.zeros_like(flat)
    for i in range(flat.size):
        d = np.zeros_like(flat)
        d[i] = eps
        g[i] = (loss((flat + d).reshape(x0.shape)) - loss((flat - d).reshape(x0.shape))) / (2 * eps)
    return g.reshape(x0.shape)


def _tape_grad(f, x0):
    x = tf.Variable(x0)
    with tf.GradientTape() as tape:
        y = f(x)
    return tape.gradient(y, x).numpy()


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_qr_gradient_by_finite_differences(on_wasm, shape):
    x0 = np.random.default_rng(13).standard_normal(shape)
    m, n = shape
    p = min(m, n)
    wq, wr = W[:m, :p], W[1 : p + 1, :n]

    def ours(x):
        q, r = tf.linalg.qr(x)
        return tf.reduce_sum(q * wq) + tf.reduce_sum(r * wr)

    def ref(x):
        q, r = np.linalg.qr(x)
        return np.sum(q * wq) + np.sum(r * wr)

    np.testing.assert_allclose(_tape_grad(ours, x0), _fd(ref, x0), rtol=1e-6, atol=1e-7)


def test_eigh_gradient_by_finite_differences(on_wasm):
    """Loss on e and on v**2 (sign free), on a symmetric input perturbed symmetrically: TF's
    eigh gradient is the symmetric part's, stored in the lower triangle."""
    x0 = np.random.default_rng(14).standard_normal((5, 5))
    x0 = x0 + x0.T
    we, wv = W[0, :5], W[:5, :5]

    def ours(x):
        e, v = tf.linalg.eigh(x)
        return tf.reduce_sum(e * we) + tf.reduce_sum(v * v * wv) + tf.reduce_sum(tf.linalg.eigvalsh(x) ** 2)

    def ref(x):
        e, v = np.linalg.eigh(x, UPLO="L")
        return np.sum(e * we) + np.sum(v * v * wv) + np.sum(e**2)

    got = _tape_grad(ours, x0)
    assert np.all(np.triu(got, 1) == 0)  # TF's convention: the gradient lives on the lower triangle
    np.testing.assert_allclose(got, np.tril(_fd(ref, x0)), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_svd_gradient_by_finite_differences(on_wasm, shape):
    x0 = np.random.default_rng(15).standard_normal(shape)
    m, n = shape
    p = min(m, n)
    ws, wc = W[0, :p], W[:m, :n]

    def ours(x):  # sum_i w_i u_i v_i^T does not depend on the vectors' signs
        s, u, v = tf.linalg.svd(x)
        uv = tf.matmul(u * ws, v, transpose_b=True)
        return tf.reduce_sum(uv * wc) + tf.reduce_sum(tf.linalg.svd(x, compute_uv=False) * ws)

    def ref(x):
        u, s, vt = np.linalg.svd(x, full_matrices=False)
        return np.sum(((u * ws) @ vt) * wc) + np.sum(s * ws)

    np.testing.assert_allclose(_tape_grad(ours, x0), _fd(ref, x0), rtol=1e-6, atol=1e-7)


def _exports(be, fn):
    calls = []
    run = be._run

    def record(op, export, *args):
        calls.append(export)
        return run(op, export, *args)

    be._run = record
    try:
        out = fn()
    finally:
        del be._run
    return out, calls


DECOMP_OPS = {
    "qr": (lambda a: tf.linalg.qr(a, full_matrices=True), "wt_qr", {"linalg_qr"}),
    "eigh": (tf.linalg.eigh, "wt_eigh", {"linalg_eigh"}),
    "eigvalsh": (tf.linalg.eigvalsh, "wt_eigh", {"linalg_eigvalsh", "linalg_eigh"}),
    "svd": (tf.linalg.svd, "wt_svd", {"linalg_svd"}),
    "svd_values": (lambda a: tf.linalg.svd(a, compute_uv=False), "wt_svd", {"linalg_svd_values", "linalg_svd"}),
}


@pytest.mark.parametrize("op", sorted(DECOMP_OPS))
def test_decomp_kernel_path_is_one_call(on_wasm, monkeypatch, op):
    """One kernel call for a batch of square matrices: the kernels return the vectors in
    the sign convention (linalg_signed_vectors), so nothing runs around them; the
    composition takes hundreds (per Jacobi sweep or Householder step)."""
    f, export, names = DECOMP_OPS[op]
    rng = np.random.default_rng(16)
    basis = np.linalg.qr(rng.standard_normal((4, 24, 24)))[0]  # well separated values: the
    a = tf.constant(((basis * np.arange(1.0, 25.0)) @ _mt(basis)).astype(np.float32))  # vectors agree
    fast, calls = _exports(on_wasm, lambda: f(a))
    assert calls == [export]
    monkeypatch.setattr(on_wasm, "fused", on_wasm.fused - names - {"linalg_signed_vectors"})
    slow, composed = _exports(on_wasm, lambda: f(a))
    assert export not in composed and len(composed) > 100
    for x, y in zip(tf.nest.flatten(fast), tf.nest.flatten(slow)):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("shape", [(6, 3), (3, 6)])
def test_decomp_kernel_path_non_square(on_wasm, shape):
    """Non-square: still one decomposition kernel; the thin slices of u / q and wide svd's
    transposes are the only other calls (a fixed few, not growing with the size)."""
    rng = np.random.default_rng(17)
    small = tf.constant(rng.standard_normal(shape).astype(np.float32))
    big = tf.constant(rng.standard_normal((3,) + tuple(4 * d for d in shape)).astype(np.float32))
    for f, export in ((tf.linalg.qr, "wt_qr"), (tf.linalg.svd, "wt_svd")):
        _, few = _exports(on_wasm, lambda: f(small))
        _, many = _exports(on_wasm, lambda: f(big))
        for calls in (few, many):
            assert calls.count(export) == 1 and len(calls) <= 4 and set(calls) <= {export, "wt_copy"}


def test_kernel_vectors_are_in_the_sign_convention(pair):
    """At the backend: eigh's and svd's vectors come signed (largest |entry| positive; svd's
    v columns take u's signs, for wide a the convention is taken on v), as the core would."""
    rng = np.random.default_rng(18)
    be = pair.wasm
    x = rng.standard_normal((3, 7, 7))
    _, v = be.linalg_eigh(pair.put(be, x + _mt(x)))
    v = pair.get(be, v, tf.float64)
    np.testing.assert_array_equal(v, _signed(v)[0])
    for shape in ((3, 8, 5), (3, 5, 8)):
        a = rng.standard_normal(shape)
        s, u, v = (pair.get(be, h, tf.float64) for h in be.linalg_svd(pair.put(be, a)))
        p = min(shape[1:])
        lead, other = (u, v) if shape[1] >= shape[2] else (v, u)
        np.testing.assert_array_equal(lead[..., :p], _signed(lead[..., :p])[0])
        np.testing.assert_allclose((u[..., :p] * s[..., None, :]) @ _mt(v[..., :p]), a, atol=1e-12)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_decompositions_of_tiny_and_huge_float64(on_wasm, scale):
    """Squared norms of entries near 1e+-200 under- or overflow float64: the kernels scale
    each matrix by a power of two first, so the results are numpy's scaled alike."""
    rng = np.random.default_rng(19)
    a = rng.standard_normal((5, 4))
    sym = a.T @ a
    q, r = (t.numpy() for t in tf.linalg.qr(tf.constant(a * scale)))
    qn, rn = np.linalg.qr(a)
    np.testing.assert_allclose(q, qn, atol=1e-12)
    np.testing.assert_allclose(r / scale, rn, atol=1e-12)
    e = tf.linalg.eigvalsh(tf.constant(sym * scale)).numpy()
    np.testing.assert_allclose(e / scale, np.linalg.eigvalsh(sym), rtol=1e-12)
    s, u, v = (t.numpy() for t in tf.linalg.svd(tf.constant(a * scale)))
    np.testing.assert_allclose(s / scale, np.linalg.svd(a, compute_uv=False), rtol=1e-12)
    np.testing.assert_allclose((u * (s / scale)) @ v.T, a, atol=1e-12)


def test_a_nan_or_inf_matrix_gives_nan_and_leaves_the_batch_alone(on_wasm):
    """Jacobi has no meaningful answer for a matrix holding NaN or inf: all of its values
    and vectors are NaN (not a mix of plausible and NaN entries); the others are numpy's."""
    rng = np.random.default_rng(20)
    x = rng.standard_normal((3, 4, 4))
    x = x + _mt(x)
    x[1, 2, 1] = x[1, 1, 2] = np.nan
    x[2, 0, 0] = np.inf
    e, v = (t.numpy() for t in tf.linalg.eigh(tf.constant(x)))
    s, u, w = (t.numpy() for t in tf.linalg.svd(tf.constant(x)))
    for out in (e, v, s, u, w):
        assert np.isnan(out[1:]).all()
    np.testing.assert_allclose(e[0], np.linalg.eigvalsh(x[0]), atol=1e-12)
    np.testing.assert_allclose(s[0], np.linalg.svd(x[0], compute_uv=False), atol=1e-12)
    assert np.isnan(tf.linalg.eigvalsh(tf.constant(x)).numpy()[1:]).all()
    assert np.isnan(tf.linalg.svd(tf.constant(x), compute_uv=False).numpy()[1:]).all()

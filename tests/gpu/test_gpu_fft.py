"""The GPU backend's WGSL FFT (shaders/fft.wgsl, backends/gpu/fft.py) against numpy.fft:
powers of two (radix-4 and radix-2 Stockham passes, or one workgroup pass), other lengths
(Bluestein), batched, both directions, rfft/irfft, fft2d, a gradient by its hand-derived
formula, and the dispatch count against the composition that runs without the kernel."""

import math

import pytest

import webtensor as tf

np = pytest.importorskip("numpy")

LENGTHS = [1, 2, 8, 1000, 1024, 4096]
MORE = [4, 16, 32, 2048, 7, 1001]  # every mix of radix-2 and radix-4 passes; odd Bluestein lengths


@pytest.fixture
def on_gpu(gpu, monkeypatch):
    """New tensors are made on the GPU backend."""
    from webtensor import backends

    monkeypatch.setattr(backends, "default", lambda: gpu)
    return gpu


def _complex(z):
    return tf.complex(tf.constant(z.real.astype("float32")), tf.constant(z.imag.astype("float32")))


def _np(z):
    return z.real.numpy().astype("float64") + 1j * z.imag.numpy().astype("float64")


def _rel_err(got, want) -> float:
    """Largest error relative to the largest reference magnitude (float32 FFT rounding
    grows with log n against the spectrum's scale, not each term's)."""
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))


def _on(be, z) -> bool:
    return z.real._be is be and z.imag._be is be


@pytest.mark.parametrize("n", LENGTHS + MORE)
def test_fft_and_ifft_match_numpy_batched(on_gpu, n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=(3, 2, n)) + 1j * rng.normal(size=(3, 2, n))
    z = _complex(x)
    f = tf.signal.fft(z)
    assert _on(on_gpu, f)
    assert _rel_err(_np(f), np.fft.fft(x)) < 2e-6
    assert _rel_err(_np(tf.signal.ifft(z)), np.fft.ifft(x)) < 2e-6


@pytest.mark.parametrize("n", LENGTHS)
def test_inverse_round_trip(on_gpu, n):
    rng = np.random.default_rng(100 + n)
    x = rng.normal(size=(4, n)) + 1j * rng.normal(size=(4, n))
    back = _np(tf.signal.ifft(tf.signal.fft(_complex(x))))
    assert _rel_err(back, x) < 2e-6


@pytest.mark.parametrize("n", LENGTHS + MORE)
def test_rfft_and_irfft_match_numpy(on_gpu, n):
    rng = np.random.default_rng(200 + n)
    x = rng.normal(size=(3, n))
    r = tf.signal.rfft(tf.constant(x.astype("float32")))
    assert _on(on_gpu, r) and tuple(r.real.shape) == (3, n // 2 + 1)
    assert _rel_err(_np(r), np.fft.rfft(x)) < 2e-6
    spec = np.fft.rfft(x)
    back = tf.signal.irfft(_complex(spec), fft_length=[n]).numpy()
    assert _rel_err(back, np.fft.irfft(spec, n)) < 2e-6


def test_fft2d_reuses_the_kernel(on_gpu):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 12, 16)) + 1j * rng.normal(size=(2, 12, 16))
    assert _rel_err(_np(tf.signal.fft2d(_complex(x))), np.fft.fft2(x)) < 2e-6
    r = rng.normal(size=(2, 10, 6))
    assert _rel_err(_np(tf.signal.rfft2d(tf.constant(r.astype("float32")))), np.fft.rfft2(r)) < 2e-6


@pytest.mark.parametrize("n", [8, 6, 5])
def test_rfft_gradient_by_hand(on_gpu, n):
    # loss = sum_k wr[k] Re X[k] + wi[k] Im X[k], X[k] = sum_j x[j] exp(-2 pi i jk / n):
    # dloss/dx[j] = sum_k wr[k] cos(2 pi jk / n) - wi[k] sin(2 pi jk / n)
    rng = np.random.default_rng(n)
    k = n // 2 + 1
    wr, wi = rng.normal(size=k), rng.normal(size=k)
    x = tf.constant(rng.normal(size=n).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        r = tf.signal.rfft(x)
        loss = tf.reduce_sum(r.real * wr.astype("float32") + r.imag * wi.astype("float32"))
    g = tape.gradient(loss, x)
    assert g._be is on_gpu
    ang = 2 * math.pi * np.outer(np.arange(n), np.arange(k)) / n
    want = np.cos(ang) @ wr - np.sin(ang) @ wi
    assert np.abs(g.numpy() - want).max() < 1e-5 * max(1.0, np.abs(want).max())


@pytest.mark.parametrize("n,passes", [(1024, 5), (2048, 6), (1000, 1 + 6 + 1 + 6 + 1)])
def test_fewer_dispatches_than_the_composition(on_gpu, monkeypatch, n, passes):
    rng = np.random.default_rng(0)
    z = _complex(rng.normal(size=(8, n)) + 1j * rng.normal(size=(8, n)))
    tf.signal.fft(z)  # the twiddle and chirp tables are made once per length

    def count():
        before = on_gpu.kernel_count
        f = tf.signal.fft(z)
        return on_gpu.kernel_count - before, _np(f)

    kernel, got = count()
    monkeypatch.setattr(on_gpu, "fused", on_gpu.fused - {"fft", "rfft"})
    composed, ref = count()
    # Stockham: one radix-4 pass per two stages (and one radix-2 for odd log2 n); Bluestein
    # (m = 2048): chirp in, fft, product, ifft, chirp out
    assert kernel == passes
    assert composed > 5 * kernel
    assert _rel_err(got, ref) < 2e-6


def test_kernel_refuses_mismatched_parts(gpu):
    re = gpu.write(memoryview(bytes(32)), (8,), tf.float32)
    im = gpu.write(memoryview(bytes(16)), (4,), tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"fft: .*float32 \(8,\) and float32 \(4,\)"):
        gpu.fft(re, im, False)


@pytest.mark.parametrize("n", [2, 4, 8, 32, 512, 1024, 500, 1000])
def test_in_workgroup_kernel_matches_numpy(on_gpu, monkeypatch, n):
    # GPUs run rows of n <= 1024 in one dispatch through workgroup memory (CPU adapters,
    # where barriers are thread switches, take the passes); flipped here to test it
    monkeypatch.setattr(on_gpu, "workgroup_kernels", True)
    rng = np.random.default_rng(300 + n)
    x = rng.normal(size=(3, n)) + 1j * rng.normal(size=(3, n))
    z = _complex(x)
    assert _rel_err(_np(tf.signal.fft(z)), np.fft.fft(x)) < 2e-6
    assert _rel_err(_np(tf.signal.ifft(z)), np.fft.ifft(x)) < 2e-6
    assert _rel_err(_np(tf.signal.rfft(z.real)), np.fft.rfft(x.real)) < 2e-6
    before = on_gpu.kernel_count
    tf.signal.fft(z)
    # one dispatch for a power of two; Bluestein m = 1024 (n = 500): five; m = 2048: 15
    assert on_gpu.kernel_count - before == {500: 5, 1000: 15}.get(n, 1)

"""Complex tensors (composites of real and imaginary float tensors) and tf.signal:
values against numpy/scipy and by hand, gradients by finite differences through real
inputs, TF's gradient convention for complex sources."""

import cmath
import math

import pytest
import webtensor as tf

from tests.util import assert_close, check_grad


def _c(z):
    """A complex tensor's values as (real list, imag list)."""
    return tf.math.real(z), tf.math.imag(z)


def test_construction_and_arithmetic_by_hand():
    z = tf.constant([1 + 2j, 3 - 1j])
    assert z.dtype == tf.complex64 and tuple(z.shape) == (2,)
    w = tf.complex(tf.constant([0.5, 1.0]), tf.constant([2.0, -1.0]))
    for got, want in (
        ((z * w), [(1 + 2j) * (0.5 + 2j), (3 - 1j) * (1 - 1j)]),
        ((z / w), [(1 + 2j) / (0.5 + 2j), (3 - 1j) / (1 - 1j)]),
        ((z + 1), [2 + 2j, 4 - 1j]),
        ((z - w), [0.5 + 0j, 2 + 0j]),
        (tf.exp(z), [cmath.exp(1 + 2j), cmath.exp(3 - 1j)]),
        (tf.math.log(z), [cmath.log(1 + 2j), cmath.log(3 - 1j)]),
        (tf.sqrt(tf.constant([-4 + 0j, 3 + 4j, -1 - 1e-4j])), [2j, 2 + 1j, cmath.sqrt(-1 - 1e-4j)]),
        (tf.math.conj(z), [1 - 2j, 3 + 1j]),
        (tf.reduce_sum(z), 4 + 1j),
    ):
        re, im = _c(got)
        want = want if isinstance(want, list) else [want]
        assert_close(tf.reshape(re, [-1]), [v.real for v in want], rtol=1e-5, atol=1e-6)
        assert_close(tf.reshape(im, [-1]), [v.imag for v in want], rtol=1e-5, atol=1e-6)
    assert_close(tf.abs(z), [math.sqrt(5.0), math.sqrt(10.0)])
    assert_close(tf.math.angle(z), [math.atan2(2, 1), math.atan2(-1, 3)])
    assert_close(tf.math.angle(tf.constant([-2.0, 3.0])), [math.pi, 0.0])
    assert tf.constant([1 + 1j], tf.complex128).dtype == tf.complex128
    assert_close(tf.math.real(tf.cast(tf.constant([1.0, 2.0]), tf.complex64)), [1.0, 2.0])
    assert_close(tf.cast(z, tf.float32), [1.0, 3.0])  # TF keeps the real part
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not promote"):
        z + tf.constant([1.0, 2.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="same dtype"):
        tf.complex(tf.constant([1.0]), tf.constant([1.0], tf.float64))


def test_complex_matmul_against_numpy():
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(0)
    a = (rng.normal(size=(2, 3)) + 1j * rng.normal(size=(2, 3))).astype("complex64")
    b = (rng.normal(size=(3, 2)) + 1j * rng.normal(size=(3, 2))).astype("complex64")
    ta, tb = tf.constant(a), tf.constant(b)
    assert_close(tf.math.real(tf.matmul(ta, tb)), (a @ b).real, atol=1e-5)
    assert_close(tf.math.imag(ta @ tb), (a @ b).imag, atol=1e-5)
    assert_close(tf.math.imag(tf.matmul(ta, ta, adjoint_b=True)), (a @ a.conj().T).imag, atol=1e-5)
    assert_close(tf.math.imag(tf.transpose(tf.constant(a), conjugate=True)), a.conj().T.imag)


def test_gradient_convention_for_complex_sources():
    z = tf.constant([1 + 1j, 2 - 3j])
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = tf.reduce_sum(tf.abs(z) ** 2)
    g = tape.gradient(loss, z)  # TF: dL/dRe + i dL/dIm = 2z
    assert_close(tf.math.real(g), [2.0, 4.0])
    assert_close(tf.math.imag(g), [2.0, -6.0])


@pytest.mark.parametrize("n", [1, 2, 8, 64, 5, 12, 100])
def test_fft_ifft_against_numpy(n):
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(n)
    x = (rng.normal(size=(3, n)) + 1j * rng.normal(size=(3, n))).astype("complex64")
    want = np.fft.fft(x)
    got = tf.signal.fft(tf.constant(x))
    scale = max(1.0, float(np.abs(want).max()))
    assert_close(tf.math.real(got), want.real, atol=2e-6 * scale)
    assert_close(tf.math.imag(got), want.imag, atol=2e-6 * scale)
    back = tf.signal.ifft(got)
    assert_close(tf.math.real(back), x.real, atol=2e-6 * scale)


def test_real_ffts_2d_and_dct_against_numpy_scipy():
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 10)).astype("float32")
    for length in (None, 16, 7):
        want = np.fft.rfft(x, length)
        got = tf.signal.rfft(x, None if length is None else [length])
        assert_close(tf.math.real(got), want.real, atol=1e-5)
        assert_close(tf.math.imag(got), want.imag, atol=1e-5)
    spec = np.fft.rfft(x).astype("complex64")
    assert_close(tf.signal.irfft(tf.constant(spec)), np.fft.irfft(spec), atol=1e-5)
    assert_close(tf.signal.irfft(tf.constant(spec), [9]), np.fft.irfft(spec, 9), atol=1e-5)
    m = rng.normal(size=(4, 6)).astype("float32")
    assert_close(tf.math.imag(tf.signal.rfft2d(m)), np.fft.rfft2(m).imag, atol=1e-5)
    assert_close(tf.signal.irfft2d(tf.constant(np.fft.rfft2(m).astype("complex64")), [4, 6]), m, atol=1e-5)
    assert_close(tf.math.real(tf.signal.fft2d(tf.constant(m.astype("complex64")))), np.fft.fft2(m).real, atol=1e-5)
    sf = pytest.importorskip("scipy.fft")
    for kind in (2, 3):
        for norm in (None, "ortho"):
            assert_close(tf.signal.dct(x, kind, norm=norm), sf.dct(x, kind, norm=norm), atol=1e-5)
    assert_close(tf.signal.idct(tf.signal.dct(x, norm="ortho"), norm="ortho"), x, atol=1e-5)


def test_windows_frames_stft_by_hand():
    assert_close(tf.signal.hann_window(4), [0.0, 0.5, 1.0, 0.5], atol=1e-7)
    assert_close(tf.signal.hann_window(3, periodic=False), [0.0, 1.0, 0.0], atol=1e-7)
    assert_close(tf.signal.hamming_window(3, periodic=False), [0.08, 1.0, 0.08], atol=1e-6)
    assert_close(tf.signal.hann_window(1), [1.0])
    # TF: a periodic window of odd length divides by n - 1, so it equals the symmetric one
    assert_close(tf.signal.hann_window(5), [0.0, 0.5, 1.0, 0.5, 0.0], atol=1e-7)
    assert_close(tf.signal.hamming_window(3), [0.08, 1.0, 0.08], atol=1e-6)
    assert_close(tf.signal.frame(tf.range(10.0), 4, 3), [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    assert tuple(tf.signal.frame(tf.range(10.0), 4, 3, pad_end=True).shape) == (4, 4)
    assert tuple(tf.signal.frame(tf.zeros([2, 10, 3]), 4, 2, axis=1).shape) == (2, 4, 4, 3)
    assert_close(tf.signal.overlap_and_add(tf.ones([3, 4]), 2), [1, 1, 2, 2, 2, 2, 1, 1])
    sig = tf.sin(tf.range(1000.0) * 0.3)[None]
    s = tf.signal.stft(sig, 256, 128)  # fft_length defaults to the next power of two (256)
    assert tuple(s.shape) == (1, 6, 129)
    rec = tf.signal.inverse_stft(s, 256, 128, window_fn=tf.signal.inverse_stft_window_fn(128))
    assert_close(rec[0, 256:768], sig[0, 256:768], atol=1e-4)  # perfect reconstruction inside


def test_mel_matrix_and_mfccs_follow_tf_formulas():
    w = tf.signal.linear_to_mel_weight_matrix(
        num_mel_bins=4, num_spectrogram_bins=9, sample_rate=8000, lower_edge_hertz=0.0, upper_edge_hertz=4000.0
    )
    assert tuple(w.shape) == (9, 4)
    rows = w.numpy().tolist()
    assert rows[0] == [0.0] * 4  # the DC bin
    mel = lambda f: 1127.0 * math.log1p(f / 700.0)  # noqa: E731  (TF's mel scale)
    edges = [mel(4000.0) * i / 5 for i in range(6)]
    f = 500.0 * 3  # bin 3 of 9 between 0 and 4000 Hz
    want = max(0.0, min((mel(f) - edges[1]) / (edges[2] - edges[1]), (edges[3] - mel(f)) / (edges[3] - edges[2])))
    assert abs(rows[3][1] - want) < 1e-6
    assert all(0.0 <= v <= 1.0 for r in rows for v in r)
    logmel = tf.constant([[1.0, 2.0, 3.0, 4.0]])
    want0 = 2.0 * (1 + 2 + 3 + 4) / math.sqrt(8.0)  # DCT-II term 0, scaled by 1/sqrt(2 * bins)
    assert abs(float(tf.signal.mfccs_from_log_mel_spectrograms(logmel)[0, 0]) - want0) < 1e-5
    with pytest.raises(tf.errors.InvalidArgumentError, match="upper_edge_hertz"):
        tf.signal.linear_to_mel_weight_matrix(upper_edge_hertz=9000.0, sample_rate=8000)


def test_fft_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="complex64 or complex128"):
        tf.signal.fft(tf.constant([1.0, 2.0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="float32 or float64"):
        tf.signal.rfft(tf.constant([1, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="fft_length"):
        tf.signal.rfft(tf.constant([1.0, 2.0]), [-1])


def test_gradients_through_spectra():
    check_grad(lambda x: tf.abs(tf.signal.rfft(x)), [0.5, -1.0, 2.0, 0.3, 1.1, -0.7])
    check_grad(lambda x: tf.abs(tf.signal.rfft(x)), [0.5, -1.0, 2.0, 0.3, 1.1])  # Bluestein length 5
    check_grad(lambda x: tf.signal.irfft(tf.complex(x, x * 0.5)), [1.0, 0.5, -0.25, 2.0])
    check_grad(lambda x: tf.abs(tf.signal.stft(x, 4, 2)), [[math.sin(1.3 * i) + 0.1 * i for i in range(12)]])
    check_grad(
        lambda x: tf.signal.mfccs_from_log_mel_spectrograms(x) * tf.constant([1.0, -1.0, 0.5], x.dtype),
        [[0.5, 1.0, 2.0]],
    )


def test_complex_through_tf_function():
    """A complex tensor is traced as its two parts: arguments and results work, one trace
    per shape as for any tensor."""
    f = tf.function(lambda z: z * z + 1)
    z = tf.constant([1 + 2j, 0.5 - 1j])
    out = f(z)
    want = [(1 + 2j) ** 2 + 1, (0.5 - 1j) ** 2 + 1]
    assert_close(tf.math.real(out), [w.real for w in want])
    assert_close(tf.math.imag(out), [w.imag for w in want])
    f(z * 2)
    assert f.experimental_get_tracing_count() == 1
    spec = tf.function(lambda x: tf.signal.rfft(x))(tf.constant([1.0, 0.0, -1.0, 0.0]))
    assert_close(tf.math.real(spec), [0.0, 2.0, 0.0])

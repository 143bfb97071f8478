"""tf.signal's 3-D FFTs against numpy.fft, and their gradients by finite differences."""

import pytest
import webtensor as tf

from tests.util import assert_close, check_grad

np = pytest.importorskip("numpy")


def test_fft3d_ifft3d_against_numpy():
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((2, 3, 4, 5)) + 1j * rng.standard_normal((2, 3, 4, 5))).astype("complex64")
    got = tf.signal.fft3d(tf.constant(z))
    want = np.fft.fftn(z, axes=(-3, -2, -1))
    assert_close(tf.math.real(got), want.real, atol=1e-4)
    assert_close(tf.math.imag(got), want.imag, atol=1e-4)
    back = tf.signal.ifft3d(got)
    assert_close(tf.math.real(back), z.real, atol=1e-5)
    assert_close(tf.math.imag(back), z.imag, atol=1e-5)


def test_rfft3d_irfft3d_against_numpy():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 6)).astype("float32")
    got = tf.signal.rfft3d(tf.constant(x))
    want = np.fft.rfftn(x)
    assert tuple(got.shape) == (3, 4, 4)
    assert_close(tf.math.real(got), want.real, atol=1e-4)
    assert_close(tf.math.imag(got), want.imag, atol=1e-4)
    assert_close(tf.signal.irfft3d(got), x, atol=1e-5)
    padded = tf.signal.rfft3d(tf.constant(x), [4, 3, 8])  # pads axis 0 and 2, crops axis 1
    want = np.fft.rfftn(x, s=(4, 3, 8), axes=(0, 1, 2))
    assert_close(tf.math.real(padded), want.real, atol=1e-4)
    assert_close(
        tf.signal.irfft3d(tf.constant(want.astype("complex64")), [4, 3, 8]),
        np.fft.irfftn(want, s=(4, 3, 8), axes=(0, 1, 2)),
        atol=1e-5,
    )


def test_fft3d_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 3"):
        tf.signal.fft3d(tf.constant([[1 + 0j]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="fft_length"):
        tf.signal.rfft3d(tf.zeros((2, 2, 2)), [2, 2])


def test_fft3d_gradients():
    x0 = [[[0.5, -1.0, 2.0], [0.3, 1.1, -0.7]], [[1.5, 0.2, -0.4], [0.9, -1.3, 0.6]]]
    check_grad(lambda x: tf.abs(tf.signal.fft3d(tf.complex(x, x * 0.5))), x0)
    check_grad(lambda x: tf.abs(tf.signal.rfft3d(x)), x0)
    check_grad(lambda x: tf.signal.irfft3d(tf.complex(x, x * 0.3)), x0)

"""docs/ops.md: on the GPU backend no linalg, FFT or image op is placed on the CPU; each is
composed of GPU primitives or is a WGSL kernel (the FFTs), so float32 results (and complex
parts) stay on the GPU."""

import pytest

import webtensor as tf

np = pytest.importorskip("numpy")


def _backends(r):
    parts = r if isinstance(r, (tuple, list)) else [r]
    out = []
    for p in parts:
        out += [p.real._be, p.imag._be] if hasattr(p, "imag") and not isinstance(p, tf.Tensor) else [p._be]
    return out


CASES = {
    "cholesky": lambda a: tf.linalg.cholesky(a),
    "inv": lambda a: tf.linalg.inv(a),
    "solve": lambda a: tf.linalg.solve(a, a[:, :2]),
    "qr": lambda a: tf.linalg.qr(a),
    "eigh": lambda a: tf.linalg.eigh(a),
    "svd": lambda a: tf.linalg.svd(a),
    "rfft": lambda a: tf.signal.rfft(tf.reshape(a, [-1])),
    "resize": lambda a: tf.image.resize(tf.reshape(a, [1, 6, 6, 1]), [3, 3]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_numerics_stay_on_the_gpu(gpu, monkeypatch, name):
    from webtensor import backends

    monkeypatch.setattr(backends, "default", lambda: gpu)
    m = np.random.default_rng(0).normal(size=(6, 6)).astype("float32")
    a = tf.constant(m @ m.T + 6 * np.eye(6, dtype="float32"))
    assert a._be is gpu
    assert all(be is gpu for be in _backends(CASES[name](a))), name

"""fit on float64 numpy arrays trains on the GPU (issue 12, item 14): Keras casts float
input to floatx; the GPU failed with "No gradients provided for any variable"."""

import pytest

import webtensor as tf

np = pytest.importorskip("numpy")


def test_fit_on_float64_numpy_arrays_trains_on_the_gpu(gpu, monkeypatch):
    from webtensor import backends

    monkeypatch.setattr(backends, "default", lambda: gpu)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))  # float64, as numpy makes it
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.25  # float64 targets
    tf.keras.utils.set_random_seed(1)
    m = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    m.compile(tf.keras.optimizers.SGD(0.1), "mse")
    h = m.fit(x, y, batch_size=16, epochs=15, verbose=0)
    assert m.layers[-1].kernel.device.endswith("GPU:0")
    assert h.history["loss"][-1] < 0.01 * h.history["loss"][0]
    w = m.layers[-1].kernel.numpy().ravel()
    np.testing.assert_allclose(w, [1.0, -2.0, 0.5], atol=0.05)
    p = m.predict(x[:4], verbose=0)
    assert p.dtype == np.float32 and p.shape == (4, 1)

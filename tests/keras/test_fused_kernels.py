"""The backend's fused kernels (softmax, sparse softmax cross-entropy, Adam) equal the composition
the core runs without them: the same training gives the same numbers either way."""

import pytest

import webtensor as tf
from webtensor import backends
from util import assert_close

K = tf.keras


@pytest.fixture
def unfused():
    """A context that hides the default backend's fused kernels."""
    be = backends.default()

    class Hide:
        def __enter__(self):
            self.saved = be.__dict__.get("fused")
            be.fused = frozenset()

        def __exit__(self, *exc):
            if self.saved is None:
                del be.fused
            else:
                be.fused = self.saved

    return Hide()


def _train(seed):
    tf.random.set_seed(seed)
    x = tf.random.normal((64, 5))
    y = tf.cast(tf.random.uniform((64,), maxval=4.0), "int32")
    m = K.Sequential([K.Input((5,)), K.layers.Dense(8, activation="relu"), K.layers.Dense(4, activation="softmax")])
    m.compile(optimizer=K.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    h = m.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    return h.history["loss"], m.get_weights()


def test_fused_kernels_match_the_composition(unfused):
    if not backends.default().fused:
        pytest.skip("this backend has no fused kernels")
    loss_f, w_f = _train(7)
    with unfused:
        loss_c, w_c = _train(7)
    assert_close(loss_f, loss_c, rtol=1e-5, atol=1e-6)
    for a, b in zip(w_f, w_c):
        assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_fused_sparse_xent_values_and_gradient(unfused):
    logits = tf.constant([[2.0, -1.0, 0.5], [0.0, 30.0, -30.0], [1.0, 1.0, 1.0]])
    labels = tf.constant([0, 2, 1])

    def run():
        with tf.GradientTape() as tape:
            tape.watch(logits)
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        return loss, tape.gradient(loss, logits), tf.nn.softmax(logits)

    fused = run()
    with unfused:
        plain = run()
    for a, b in zip(fused, plain):
        assert_close(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.numpy
def test_numpy_backend_runs_small_gemms_on_one_blas_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    be = backends.get("numpy")
    if be._blas.ctl is None:
        pytest.skip("no BLAS library found by threadpoolctl")
    import numpy as np

    # the BLAS libraries numpy had loaded when the backend started (a library another test
    # loads later, e.g. torch's, is not the numpy backend's to limit)
    ours = {c.filepath for c in be._blas.ctl.select(user_api="blas").lib_controllers}

    def threads():
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["filepath"] in ours]

    assert ours and threads() and all(n == 1 for n in threads())
    a = np.random.default_rng(0).standard_normal((300, 300))  # 27M multiply-adds: the wide path
    with tf.device("/CPU:0"):
        got = tf.matmul(tf.constant(a), tf.constant(a)).numpy()
    assert np.allclose(got, a @ a)
    assert all(n == 1 for n in threads())

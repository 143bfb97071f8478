"""Memory: training the digits CNN on the GPU for 5 epochs leaves the pool's live-buffer
count flat between epochs (every buffer a step makes is returned when its tensor dies)."""

from __future__ import annotations

import pytest

import webtensor as tf


def _digits():
    try:
        from digits import load_digits_split  # tests/digits.py (tests/ is on sys.path)

        x, y, _, _ = load_digits_split()
        return x[:512], y[:512]
    except Exception:  # no scikit-learn and no built file: digits-shaped data of the same size
        np = pytest.importorskip("numpy")
        rng = np.random.default_rng(0)
        return rng.random((512, 64), dtype=np.float32), rng.integers(0, 10, 512).astype(np.int32)


class _LiveBuffers(tf.keras.callbacks.Callback):
    def __init__(self, gpu):
        super().__init__()
        self.gpu, self.counts = gpu, []

    def on_epoch_end(self, epoch, logs=None):
        import gc

        gc.collect()  # a compiled step's transient cycles free at a collection: count what is truly live
        self.counts.append(self.gpu.memory_info()["live_buffers"])


def test_digits_cnn_keeps_live_buffers_flat_across_epochs(gpu):
    k = tf.keras
    x, y = _digits()
    with tf.device("/GPU:0"):
        x = tf.reshape(tf.constant(x), [-1, 8, 8, 1])
        y = tf.constant(y)
        model = k.Sequential(
            [
                k.Input((8, 8, 1)),
                k.layers.Conv2D(16, 3, padding="same", activation="relu"),
                k.layers.MaxPooling2D(2),
                k.layers.Conv2D(32, 3, padding="same", activation="relu"),
                k.layers.Flatten(),
                k.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(optimizer=k.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        probe = _LiveBuffers(gpu)
        hist = model.fit(x, y, epochs=5, batch_size=32, verbose=0, callbacks=[probe])
    assert all(w.device.endswith("GPU:0") for w in model.weights)
    assert hist.history["loss"][-1] < hist.history["loss"][0]  # it trained
    # epoch 1 creates the optimizer's slots and caches constants; after that nothing grows
    assert len(set(probe.counts[1:])) == 1, probe.counts

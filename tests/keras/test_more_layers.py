"""Layers added for issue 16 (TimeDistributed, Unit/GroupNormalization, Attention, AdditiveAttention,
Conv3D, 3-D pooling, noise/dropout, ActivityRegularization): the same weights and inputs as Keras 3
on torch give the same outputs and configs (reference/make_keras3_more_layers.py), plus training
behaviour by hand."""

import json
import os

import pytest

np = pytest.importorskip("numpy")  # the page has no numpy: there the module skips

import webtensor as tf

L = tf.keras.layers
HERE = os.path.dirname(__file__)
with open(os.path.join(HERE, "reference", "keras3_more_layers.json")) as f:
    CASES = json.load(f)


@pytest.mark.parametrize("case", CASES, ids=[c["code"] for c in CASES])
def test_matches_keras3(case):
    layer = eval(case["code"])
    inputs = [tf.constant(np.array(i, np.float32)) for i in case["inputs"]]
    x = inputs if len(inputs) > 1 else inputs[0]
    layer(x, **case["kwargs"])
    layer.set_weights([np.array(w, np.float32) for w in case["weights"]])
    y = layer(x, **case["kwargs"])
    outs = y if isinstance(y, (tuple, list)) else [y]
    wants = case["output"] if isinstance(y, (tuple, list)) else [case["output"]]
    for got, want in zip(outs, wants):
        np.testing.assert_allclose(got.numpy(), np.array(want, np.float32), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose([float(v) for v in layer.losses], case["losses"], rtol=1e-5)
    mine = json.loads(json.dumps(L.serialize(layer)["config"]))
    theirs = dict(case["config"])
    mine.pop("name"), theirs.pop("name")
    if "layer" in mine:
        mine["layer"]["config"].pop("name"), theirs["layer"]["config"].pop("name")
    assert mine == theirs


def test_noise_layers_while_training():
    x = tf.ones((400, 50))
    tf.random.set_seed(3)
    n = L.GaussianNoise(0.5)(x, training=True).numpy() - 1.0
    assert abs(n.mean()) < 0.02 and abs(n.std() - 0.5) < 0.02
    g = L.GaussianDropout(0.2)(x, training=True).numpy()
    assert abs(g.mean() - 1.0) < 0.02 and abs(g.std() - 0.5) < 0.02  # sqrt(0.2 / 0.8)
    s = L.SpatialDropout1D(0.5)(tf.ones((64, 6, 8)), training=True).numpy()
    assert set(np.unique(s)) <= {0.0, 2.0}
    assert (s == s[:, :1, :]).all()  # one decision per (sample, channel), shared over time
    s2 = L.SpatialDropout2D(0.5)(tf.ones((16, 3, 3, 5)), training=True).numpy()
    assert (s2 == s2[:, :1, :1, :]).all() and 0.3 < (s2 == 0).mean() < 0.7


def test_attention_masks_by_hand():
    q = tf.constant([[[1.0, 0.0], [0.0, 1.0]]])
    v = tf.constant([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    out, w = L.Attention()(
        [q, v], mask=[tf.constant([[True, False]]), tf.constant([[True, True, False]])], return_attention_scores=True
    )
    s = np.array([[1.0, 3.0], [2.0, 4.0]])  # q @ v^T on the two unmasked values
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(w.numpy()[0, :, :2], p, rtol=1e-5)
    assert np.abs(w.numpy()[0, :, 2]).max() < 1e-6
    np.testing.assert_allclose(out.numpy()[0, 0], p[0] @ np.array([[1.0, 2.0], [3.0, 4.0]]), rtol=1e-5)
    np.testing.assert_array_equal(out.numpy()[0, 1], [0.0, 0.0])  # masked query row
    with pytest.raises(ValueError, match="list of inputs"):
        L.Attention()(q)


def test_time_distributed_and_conv3d_in_models(tmp_path):
    m = tf.keras.Sequential(
        [
            tf.keras.Input((3, 4, 4, 4, 1)),
            L.TimeDistributed(L.Conv3D(2, 2)),
            L.TimeDistributed(L.MaxPooling3D(3)),
            L.Flatten(),
            L.GroupNormalization(2),
            L.UnitNormalization(),
            L.Dense(2),
        ]
    )
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4, 4, 1)).astype("float32")
    m.compile("sgd", "mse")
    m.fit(x, np.zeros((2, 2), "float32"), epochs=1, verbose=0)
    path = str(tmp_path / "m.safetensors")
    m.save(path)
    again = tf.keras.models.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), m.predict(x, verbose=0), rtol=1e-6)


def test_activity_regularization_loss_in_fit():
    m = tf.keras.Sequential(
        [tf.keras.Input((2,)), L.Dense(2, kernel_initializer="ones"), L.ActivityRegularization(l2=0.5)]
    )
    x = np.array([[1.0, 1.0]], "float32")
    m(x)
    np.testing.assert_allclose(float(m.losses[0]), 0.5 * (2.0**2 + 2.0**2), rtol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="groups"):
        L.GroupNormalization(groups=3)(tf.ones((2, 4)))
    with pytest.raises(ValueError, match="rate"):
        L.GaussianDropout(1.5)
    with pytest.raises(ValueError, match="Layer"):
        L.TimeDistributed("dense")
    with pytest.raises(ValueError, match="groups"):
        L.Conv3D(2, 2, groups=2)(tf.ones((1, 3, 3, 3, 2)))


def test_conv_lstm2d_trains_saves_and_masks(tmp_path):
    m = tf.keras.Sequential(
        [
            tf.keras.Input((3, 5, 5, 1)),
            L.ConvLSTM2D(2, 3, padding="same", dropout=0.2, recurrent_dropout=0.2),
            L.Flatten(),
            L.Dense(1),
        ]
    )
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5, 1)).astype("float32")
    m.compile("adam", "mse")
    m.fit(x, np.ones((4, 1), "float32"), epochs=1, verbose=0)
    assert [w.name for w in m.layers[0].weights] == ["kernel", "recurrent_kernel", "bias"]
    path = str(tmp_path / "c.safetensors")
    m.save(path)
    again = tf.keras.models.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), m.predict(x, verbose=0), rtol=1e-6)
    layer = L.ConvLSTM2D(2, 3, return_sequences=True)
    seq = tf.constant(x)
    full = layer(seq)
    masked = layer(seq, mask=tf.constant([[True, True, False]] * 4))
    np.testing.assert_allclose(masked.numpy()[:, 2], full.numpy()[:, 1], rtol=1e-6)  # a masked step keeps state

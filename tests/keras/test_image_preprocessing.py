"""Resizing and the random image layers: against Keras 3 on torch (recorded by
reference/make_keras3_image_layers.py), by hand, inactive at inference, in tf.data and in models."""

import json
import os

import pytest

np = pytest.importorskip("numpy")  # the page has no numpy: there the module skips

import webtensor as tf

L = tf.keras.layers
HERE = os.path.dirname(__file__)


@pytest.fixture(scope="module")
def ref():
    with open(os.path.join(HERE, "reference", "keras3_image_layers.json")) as f:
        return json.load(f)


def _close(got, want, atol=1e-3):
    got = np.asarray(got.numpy() if hasattr(got, "numpy") else got)
    want = np.asarray(want, dtype=got.dtype)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=atol)


def test_resizing_matches_keras3(ref):
    img = tf.constant(ref["img"])
    _close(L.Resizing(3, 4)(img), ref["resize_bilinear"])
    _close(L.Resizing(9, 11)(img), ref["resize_up"])
    _close(L.Resizing(9, 4, interpolation="nearest")(img), ref["resize_nearest"])
    _close(L.Resizing(4, 4, crop_to_aspect_ratio=True)(img), ref["resize_crop"])
    _close(L.Resizing(4, 4, pad_to_aspect_ratio=True)(img), ref["resize_pad"])
    out = L.Resizing(3, 3)(tf.constant(np.array(ref["u8"], np.uint8)))
    assert out.dtype is tf.uint8  # integer images stay integers, rounded (Keras 3)
    _close(out, ref["resize_u8"], 0)


def test_random_layers_are_the_identity_at_inference(ref):
    img = tf.constant(ref["img"])
    layers = {
        "crop": L.RandomCrop(3, 3),
        "bright": L.RandomBrightness(0.3),
        "contrast": L.RandomContrast(0.5),
        "rot": L.RandomRotation(0.2),
        "zoom": L.RandomZoom(0.3),
        "trans": L.RandomTranslation(0.2, 0.2),
    }
    for name, layer in layers.items():
        _close(layer(img, training=False), ref["inf_" + name], 0)


def test_deterministic_training_transforms_match_keras3(ref):
    img, sq = tf.constant(ref["img"]), tf.constant(ref["sq"])
    cases = {
        "rot90_constant": (L.RandomRotation((0.25, 0.25), fill_mode="constant"), sq),
        "rot90_rect_reflect": (L.RandomRotation((0.25, 0.25)), img),
        "rot45_nearest": (L.RandomRotation((0.125, 0.125), fill_mode="nearest", interpolation="nearest"), sq),
        "zoom_out_constant": (L.RandomZoom((0.5, 0.5), fill_mode="constant"), img),
        "zoom_in_reflect": (L.RandomZoom((-0.4, -0.4), (-0.2, -0.2)), img),
        "trans_constant": (
            L.RandomTranslation((0.2, 0.2), (-2 / 7, -2 / 7), fill_mode="constant", fill_value=7.0),
            img,
        ),
        "trans_reflect_frac": (L.RandomTranslation((0.3, 0.3), (0.1, 0.1)), img),
        "bright": (L.RandomBrightness((0.1, 0.1)), img),
        "crop_small": (L.RandomCrop(6, 4), img),
    }
    for name, (layer, x) in cases.items():
        _close(layer(x, training=True), ref[name])


def test_configs_match_keras3(ref):
    layers = {
        "resizing": L.Resizing(3, 4),
        "crop": L.RandomCrop(3, 3, seed=1),
        "bright": L.RandomBrightness(0.3),
        "contrast": L.RandomContrast(0.5),
        "rot": L.RandomRotation(0.2),
        "zoom": L.RandomZoom(0.3),
        "trans": L.RandomTranslation(0.2, 0.1),
    }
    for name, layer in layers.items():
        mine = json.loads(json.dumps(L.serialize(layer)["config"]))
        theirs = dict(ref["configs"][name])
        mine.pop("name"), theirs.pop("name")
        assert mine == theirs, name


def test_wrap_fill_follows_tf_by_hand():
    # TF's wrap maps x=-1 -> w-1 and clamps fractional overshoot (Keras on torch blends instead)
    row = np.arange(5, dtype="float32").reshape(1, 1, 5, 1)
    out = tf.image.affine_transform(row, [1, 0, -1, 0, 1, 0, 0, 0], fill_mode="wrap")
    assert out.numpy().ravel().tolist() == [4.0, 0.0, 1.0, 2.0, 3.0]
    out = tf.image.affine_transform(row, [1, 0, -0.5, 0, 1, 0, 0, 0], fill_mode="wrap")
    np.testing.assert_allclose(out.numpy().ravel(), [4.0, 0.5, 1.5, 2.5, 3.5])  # -0.5 -> 4.5 -> clamp 4
    out = tf.image.affine_transform(row, [1, 0, 1.5, 0, 1, 0, 0, 0], fill_mode="reflect")
    np.testing.assert_allclose(out.numpy().ravel(), [1.5, 2.5, 3.5, 4.0, 3.5])  # 5.5 -> 3.5; 4.5 -> 4.5 clamp 4


def test_contrast_training_by_hand_and_seeded_repeat():
    x = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    a = L.RandomContrast((0.2, 0.3), seed=5)
    b = L.RandomContrast((0.2, 0.3), seed=5)
    tf.random.set_seed(1)
    ya = a(x, training=True).numpy()
    tf.random.set_seed(1)
    yb = b(x, training=True).numpy()
    np.testing.assert_array_equal(ya, yb)
    mean = x.mean(axis=(1, 2), keepdims=True)
    f = (ya - mean) / (x - mean)  # the factor of each image, where nothing was clipped
    ok = (ya > 0) & (ya < 255)
    for i in range(2):
        fi = f[i][ok[i]]
        assert np.ptp(fi) < 1e-3 and 0.8 - 1e-4 <= fi.mean() <= 1.3 + 1e-4


def test_rotation_by_quarter_turn_by_hand():
    x = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
    out = L.RandomRotation((0.25, 0.25), fill_mode="constant")(x, training=True).numpy()[0, :, :, 0]
    # output (x, y) samples input (cx - (y - cy), cy + (x - cx)): a quarter turn
    np.testing.assert_allclose(out, np.rot90(x[0, :, :, 0], k=1), atol=1e-4)


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="factor"):
        L.RandomBrightness(1.5)
    with pytest.raises(ValueError, match="height_factor"):
        L.RandomZoom(-1.0)
    with pytest.raises(ValueError, match="fill_mode"):
        L.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="rank"):
        L.RandomRotation(0.1)(tf.ones((4, 4)), training=True)
    with pytest.raises(ValueError, match="unknown method"):
        L.Resizing(2, 2, interpolation="cubic")(tf.ones((1, 4, 4, 1)))


def test_in_a_model_and_in_tf_data(tmp_path):
    aug = tf.keras.Sequential(
        [
            L.RandomFlip("horizontal", seed=1),
            L.RandomRotation(0.1, seed=2),
            L.RandomZoom(0.2, seed=3),
            L.RandomTranslation(0.1, 0.1, seed=4),
            L.RandomContrast(0.2, seed=5),
            L.RandomBrightness(0.1, seed=6),
        ]
    )
    model = tf.keras.Sequential(
        [tf.keras.Input((8, 8, 1)), L.Resizing(6, 6), aug, L.Rescaling(1 / 255.0), L.Flatten(), L.Dense(2)]
    )
    x = np.random.default_rng(1).uniform(0, 255, (4, 8, 8, 1)).astype("float32")
    y = np.array([0, 1, 0, 1])
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=1, verbose=0)
    p1, p2 = model.predict(x, verbose=0), model.predict(x, verbose=0)
    np.testing.assert_array_equal(p1, p2)  # inactive at inference
    path = str(tmp_path / "aug.safetensors")
    model.save(path)
    again = tf.keras.models.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), p1, rtol=1e-6, atol=1e-6)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(2).map(lambda b: L.Resizing(4, 4)(b))
    shapes = [tuple(b.shape) for b in ds]
    assert shapes == [(2, 4, 4, 1), (2, 4, 4, 1)]

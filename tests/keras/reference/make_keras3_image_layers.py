"""Records Keras 3 (torch backend) outputs of the image preprocessing layers for
tests/keras/test_image_preprocessing.py: `KERAS_BACKEND=torch python make_keras3_image_layers.py > keras3_image_layers.json`.
Deterministic cases only: inference mode, Resizing, and random layers with a one-point factor range."""

import json
import os

os.environ["KERAS_BACKEND"] = "torch"
import numpy as np
import keras

L = keras.layers
c = keras.ops.convert_to_numpy
rng = np.random.default_rng(3)
img = rng.uniform(0, 255, (2, 5, 7, 3)).astype("float32")
sq = rng.uniform(0, 255, (2, 5, 5, 2)).astype("float32")
u8 = rng.integers(0, 256, (1, 4, 6, 1)).astype("uint8")
out = {"img": img.tolist(), "sq": sq.tolist(), "u8": u8.tolist()}
out["resize_bilinear"] = c(L.Resizing(3, 4)(img)).tolist()
out["resize_up"] = c(L.Resizing(9, 11)(img)).tolist()
out["resize_nearest"] = c(L.Resizing(9, 4, interpolation="nearest")(img)).tolist()
out["resize_crop"] = c(L.Resizing(4, 4, crop_to_aspect_ratio=True)(img)).tolist()
out["resize_pad"] = c(L.Resizing(4, 4, pad_to_aspect_ratio=True)(img)).tolist()
r = L.Resizing(3, 3)(u8)
out["resize_u8"] = c(r).tolist()
out["resize_u8_dtype"] = str(r.dtype)
for name, layer in [
    ("crop", L.RandomCrop(3, 3)),
    ("bright", L.RandomBrightness(0.3)),
    ("contrast", L.RandomContrast(0.5)),
    ("rot", L.RandomRotation(0.2)),
    ("zoom", L.RandomZoom(0.3)),
    ("trans", L.RandomTranslation(0.2, 0.2)),
]:
    out["inf_" + name] = c(layer(img, training=False)).tolist()
out["rot90_constant"] = c(L.RandomRotation((0.25, 0.25), fill_mode="constant")(sq, training=True)).tolist()
out["rot90_rect_reflect"] = c(L.RandomRotation((0.25, 0.25))(img, training=True)).tolist()
out["rot45_nearest"] = c(
    L.RandomRotation((0.125, 0.125), fill_mode="nearest", interpolation="nearest")(sq, training=True)
).tolist()
out["zoom_out_constant"] = c(L.RandomZoom((0.5, 0.5), fill_mode="constant")(img, training=True)).tolist()
out["zoom_in_reflect"] = c(L.RandomZoom((-0.4, -0.4), (-0.2, -0.2))(img, training=True)).tolist()

out["trans_constant"] = c(
    L.RandomTranslation((0.2, 0.2), (-2 / 7, -2 / 7), fill_mode="constant", fill_value=7.0)(img, training=True)
).tolist()
out["trans_reflect_frac"] = c(L.RandomTranslation((0.3, 0.3), (0.1, 0.1))(img, training=True)).tolist()
out["bright"] = c(L.RandomBrightness((0.1, 0.1))(img, training=True)).tolist()
out["crop_small"] = c(L.RandomCrop(6, 4)(img, training=True)).tolist()
out["configs"] = {
    n: L.serialize(l)["config"]
    for n, l in [
        ("resizing", L.Resizing(3, 4)),
        ("crop", L.RandomCrop(3, 3, seed=1)),
        ("bright", L.RandomBrightness(0.3)),
        ("contrast", L.RandomContrast(0.5)),
        ("rot", L.RandomRotation(0.2)),
        ("zoom", L.RandomZoom(0.3)),
        ("trans", L.RandomTranslation(0.2, 0.1)),
    ]
}
print(json.dumps(out))

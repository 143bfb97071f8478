"""Records Keras 3 (torch backend) outputs of the layers added for issue 16 for
tests/keras/test_more_layers.py: `KERAS_BACKEND=torch python make_keras3_more_layers.py > keras3_more_layers.json`.
Weights come from a seeded numpy generator and are stored with the outputs."""

import json
import os

os.environ["KERAS_BACKEND"] = "torch"
import numpy as np  # noqa: E402
import keras  # noqa: E402

L = keras.layers
c = keras.ops.convert_to_numpy
rng = np.random.default_rng(11)


def arr(*shape):
    return rng.standard_normal(shape).astype("float32")


CASES = [
    ("L.TimeDistributed(L.Dense(3))", [(2, 4, 5)], {}),
    ("L.TimeDistributed(L.Conv2D(2, 2))", [(2, 3, 4, 4, 1)], {}),
    ("L.UnitNormalization()", [(3, 4)], {}),
    ("L.UnitNormalization(axis=[1, 2])", [(2, 3, 4)], {}),
    ("L.GroupNormalization(groups=2)", [(2, 3, 4)], {}),
    ("L.GroupNormalization(groups=-1, epsilon=1e-5)", [(2, 5, 3)], {}),
    ("L.GroupNormalization(groups=2, axis=1)", [(2, 4, 3)], {}),
    ("L.Attention()", [(2, 3, 4), (2, 5, 4)], {}),
    ("L.Attention(use_scale=True)", [(2, 3, 4), (2, 5, 4), (2, 5, 4)], {"use_causal_mask": True}),
    ("L.Attention(score_mode='concat', use_scale=True)", [(2, 3, 4), (2, 5, 4)], {}),
    ("L.AdditiveAttention()", [(2, 3, 4), (2, 5, 4)], {}),
    ("L.AdditiveAttention(use_scale=False)", [(2, 3, 4), (2, 5, 4)], {"return_attention_scores": True}),
    ("L.Conv3D(3, 2)", [(2, 4, 5, 3, 2)], {}),
    ("L.Conv3D(2, (3, 2, 2), strides=(2, 1, 2), padding='same', activation='relu')", [(1, 5, 4, 5, 3)], {}),
    ("L.Conv3D(2, 2, dilation_rate=2)", [(1, 5, 5, 5, 1)], {}),
    ("L.MaxPooling3D()", [(2, 4, 5, 4, 2)], {}),
    ("L.MaxPooling3D(3, 2, padding='same')", [(1, 5, 4, 5, 2)], {}),
    ("L.AveragePooling3D((2, 3, 2))", [(1, 4, 6, 5, 2)], {}),
    ("L.GaussianNoise(0.5)", [(2, 3)], {}),
    ("L.GaussianDropout(0.4)", [(2, 3)], {}),
    ("L.SpatialDropout1D(0.5)", [(2, 3, 4)], {}),
    ("L.SpatialDropout2D(0.5)", [(2, 3, 3, 4)], {}),
    ("L.ActivityRegularization(l1=0.1, l2=0.01)", [(2, 3)], {}),
    ("L.ConvLSTM2D(2, 3)", [(2, 3, 5, 5, 2)], {}),
    ("L.ConvLSTM2D(3, 2, padding='same', return_sequences=True, go_backwards=True)", [(1, 4, 4, 3, 1)], {}),
    ("L.ConvLSTM2D(2, (2, 3), strides=2, return_state=True, activation='relu')", [(2, 2, 6, 7, 2)], {}),
]

out = []
for code, shapes, kwargs in CASES:
    layer = eval(code)
    inputs = [arr(*s) for s in shapes]
    x = inputs if len(inputs) > 1 else inputs[0]
    layer(x, **kwargs) if len(inputs) == 1 else layer(x, **kwargs)
    weights = [rng.standard_normal(tuple(w.shape)).astype("float32") for w in layer.weights]
    layer.set_weights(weights)
    y = layer(x, **kwargs)
    y = [c(t).tolist() for t in y] if isinstance(y, (tuple, list)) else c(y).tolist()
    losses = [float(c(v)) for v in layer.losses]
    out.append(
        {
            "code": code,
            "kwargs": kwargs,
            "inputs": [i.tolist() for i in inputs],
            "weights": [w.tolist() for w in weights],
            "output": y,
            "losses": losses,
            "config": L.serialize(layer)["config"],
        }
    )
print(json.dumps(out))

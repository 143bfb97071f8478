"""Layers and models against real Keras 3 (torch backend, run once in a subprocess): with the
same weights and inputs the outputs agree, and the configs are the same JSON."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

import webtensor as tf

pytestmark = [pytest.mark.native, pytest.mark.numpy]
K = tf.keras
L = K.layers

# (constructor, input shape(s), call kwargs, training): the constructor is valid in both libraries.
# "config only": Keras's torch backend counts the padding in 'same' average pooling (TF does not,
# nor do we: tests/keras/test_layers.py checks those values by hand), so only the config is compared.
CASES = [
    ("L.Dense(4, activation='tanh')", [(3, 5)], {}, False),
    ("L.Dense(2)", [(2, 3, 4)], {}, False),
    ("L.Conv1D(3, 3, padding='causal', dilation_rate=2)", [(2, 7, 2)], {}, False),
    ("L.Conv1D(4, 2, strides=2, activation='relu')", [(2, 9, 3)], {}, False),
    ("L.Conv2D(3, (2, 3), strides=2, padding='same')", [(2, 7, 6, 2)], {}, False),
    ("L.Conv2D(4, 3, groups=2, dilation_rate=(2, 1))", [(1, 8, 6, 4)], {}, False),
    ("L.Conv2DTranspose(3, 3, strides=2, padding='same')", [(2, 4, 5, 2)], {}, False),
    ("L.Conv2DTranspose(2, (3, 2), strides=(2, 3), padding='valid')", [(1, 3, 3, 2)], {}, False),
    ("L.Conv2DTranspose(2, 3, strides=2, padding='same', output_padding=1)", [(1, 3, 4, 2)], {}, False),
    ("L.DepthwiseConv2D(3, depth_multiplier=2, padding='same')", [(2, 5, 5, 3)], {}, False),
    ("L.SeparableConv2D(4, 3, strides=2, depth_multiplier=2)", [(1, 7, 7, 3)], {}, False),
    ("L.MaxPooling2D(3, strides=2, padding='same')", [(2, 7, 6, 2)], {}, False),
    ("L.AveragePooling2D(3, strides=2, padding='same')", [(2, 7, 6, 2)], {}, "config only"),
    ("L.MaxPooling1D(2)", [(2, 7, 3)], {}, False),
    ("L.AveragePooling1D(3, strides=1, padding='same')", [(2, 6, 3)], {}, False),
    ("L.GlobalAveragePooling2D()", [(2, 4, 3, 5)], {}, False),
    ("L.GlobalMaxPooling2D(keepdims=True)", [(2, 4, 3, 5)], {}, False),
    ("L.BatchNormalization()", [(4, 3)], {}, False),
    ("L.BatchNormalization(momentum=0.5)", [(4, 3, 2)], {}, True),
    ("L.LayerNormalization()", [(2, 3, 4)], {}, False),
    ("L.LayerNormalization(axis=[1, 2], center=False)", [(2, 3, 4)], {}, False),
    ("L.Embedding(7, 3)", [(2, 4, "int")], {}, False),
    ("L.SimpleRNN(3, return_sequences=True)", [(2, 5, 4)], {}, False),
    ("L.LSTM(3, return_state=True)", [(2, 5, 4)], {}, False),
    ("L.LSTM(2, go_backwards=True, return_sequences=True)", [(2, 5, 4)], {}, False),
    ("L.GRU(3, return_sequences=True)", [(2, 5, 4)], {}, False),
    ("L.GRU(3, reset_after=False)", [(2, 5, 4)], {}, False),
    ("L.Bidirectional(L.LSTM(2, return_sequences=True))", [(2, 5, 3)], {}, False),
    ("L.Bidirectional(L.GRU(2), merge_mode='ave')", [(2, 5, 3)], {}, False),
    ("L.MultiHeadAttention(num_heads=2, key_dim=3)", [(2, 4, 5), (2, 6, 3)], {}, False),
    (
        "L.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=4, output_shape=5)",
        [(2, 4, 5), (2, 4, 5)],
        {"use_causal_mask": True},
        False,
    ),
    ("L.Softmax(axis=1)", [(2, 3, 4)], {}, False),
    ("L.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2)", [(2, 6)], {}, False),
    ("L.LeakyReLU(0.1)", [(2, 6)], {}, False),
    ("L.ZeroPadding2D(((1, 2), (0, 1)))", [(1, 3, 3, 2)], {}, False),
    ("L.UpSampling2D((2, 3))", [(1, 2, 2, 2)], {}, False),
    ("L.Rescaling(0.5, offset=-1.0)", [(2, 3)], {}, False),
    ("L.Permute((2, 1))", [(2, 3, 4)], {}, False),
    ("L.Reshape((-1, 2))", [(2, 3, 4)], {}, False),
    ("L.Flatten()", [(2, 3, 4)], {}, False),
]

KERAS_SCRIPT = textwrap.dedent("""
    import json, os, sys
    os.environ["KERAS_BACKEND"] = "torch"
    import numpy as np
    import keras
    L = keras.layers
    cases = json.loads(sys.stdin.read())
    out = []
    def data(spec, i):
        rng = np.random.default_rng(100 + i)
        if len(spec) and spec[-1] == "int":
            return rng.integers(0, 7, spec[:-1]).astype("int32")
        return rng.standard_normal(spec).astype("float32")
    for k, (ctor, shapes, kwargs, training) in enumerate(cases):
        keras.utils.set_random_seed(k)
        layer = eval(ctor)
        xs = [data(s, i) for i, s in enumerate(shapes)]
        y = layer(*xs, training=True, **kwargs) if training is True else layer(*xs, **kwargs)
        ys = y if isinstance(y, (list, tuple)) else [y]
        out.append({"inputs": [x.tolist() for x in xs],
                    "weights": [w.tolist() for w in layer.get_weights()],
                    "outputs": [keras.ops.convert_to_numpy(v).tolist() for v in ys],
                    "config": keras.saving.serialize_keras_object(layer)})
    a = keras.Input((4,), name="a"); b = keras.Input((3,), name="b")
    shared = L.Dense(5, activation="relu")
    x = L.Concatenate()([shared(a), L.Dense(5)(b)])
    y = shared(L.Dense(4)(x))
    model = keras.Model([a, b], [L.Dense(1, name="o1")(y), L.Dense(2, activation="softmax")(x)])
    xa = np.random.default_rng(1).standard_normal((3, 4)).astype("float32")
    xb = np.random.default_rng(2).standard_normal((3, 3)).astype("float32")
    preds = model.predict([xa, xb], verbose=0)
    out.append({"model_config": model.get_config(), "weights": [w.tolist() for w in model.get_weights()],
                "inputs": [xa.tolist(), xb.tolist()], "outputs": [p.tolist() for p in preds]})
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def keras_results():
    import importlib.util

    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None:
        pytest.skip("needs keras and torch (the test extra) for the reference run")
    cases = [[c, [list(s) for s in shapes], kw, tr] for c, shapes, kw, tr in CASES]
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    r = subprocess.run(
        [sys.executable, "-c", KERAS_SCRIPT],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if r.returncode != 0:
        pytest.fail(f"Keras reference run failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _close(got, want, what, rtol=1e-4, atol=1e-5):
    import numpy as np

    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != Keras's {want.shape}"
    assert np.allclose(got, want, rtol=rtol, atol=atol), f"{what}: max |diff| {np.abs(got - want).max()}"


def _strip(config):
    """The comparable part of a layer config (names differ: each library counts its own layers)."""
    c = json.loads(json.dumps(config))
    c["config"].pop("name", None)
    for sub in ("layer", "backward_layer"):
        if isinstance(c["config"].get(sub), dict):
            c["config"][sub]["config"].pop("name", None)
    c.pop("build_config", None)
    return c


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_layer_matches_keras(keras_results, index):
    ctor, shapes, kwargs, training = CASES[index]
    ref = keras_results[index]
    layer = eval(ctor)
    xs = [tf.constant(x, "int32" if len(s) and s[-1] == "int" else "float32") for x, s in zip(ref["inputs"], shapes)]
    layer(*xs, **kwargs)  # build
    assert len(layer.get_weights()) == len(ref["weights"]), "weight count differs from Keras's"
    layer.set_weights([tf.constant(w) for w in ref["weights"]])
    y = layer(*xs, training=True, **kwargs) if training is True else layer(*xs, **kwargs)
    ys = y if isinstance(y, (list, tuple)) else [y]
    assert len(ys) == len(ref["outputs"])
    if training != "config only":
        for i, (a, b) in enumerate(zip(ys, ref["outputs"])):
            _close(a.numpy(), b, f"{ctor} output {i}")
    ours = _strip(L.serialize(layer))
    theirs = _strip(ref["config"])
    assert ours == theirs


def test_functional_model_from_keras_config(keras_results):
    ref = keras_results[-1]
    model = K.Model.from_config(ref["model_config"])
    assert [layer.name for layer in model.layers] == [layer["name"] for layer in ref["model_config"]["layers"]]
    model.set_weights([tf.constant(w) for w in ref["weights"]])
    preds = model.predict([tf.constant(x) for x in ref["inputs"]], verbose=0)
    for p, want in zip(preds, ref["outputs"]):
        _close(p, want, "functional prediction")
    again = json.loads(json.dumps(model.get_config()))
    assert again["input_layers"] == ref["model_config"]["input_layers"]
    assert again["output_layers"] == ref["model_config"]["output_layers"]
    want = [layer["inbound_nodes"] for layer in ref["model_config"]["layers"]]
    assert [layer["inbound_nodes"] for layer in again["layers"]] == want

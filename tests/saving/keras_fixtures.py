"""Make Keras 3 fixture files with real Keras (run as a script: KERAS_BACKEND=torch).

    python keras_fixtures.py OUTDIR

For each model: OUTDIR/<name>.keras (Keras 3 archive), <name>.h5 (legacy HDF5 model),
<name>.weights.h5 (Keras 3 weights), and <name>.npz with the inputs and Keras's own
predictions. Weights are set to seeded random values (not initial values: zeros
and ones would hide a mis-ordered weight), BatchNormalization variances positive.
The MLP is also trained for an epoch so its file carries a compile config.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

L = keras.layers
rng = np.random.default_rng(0)


def randomize(model):
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            randomize(layer)
            continue
        ws = layer.get_weights()
        if not ws:
            continue
        new = []
        for w, v in zip(ws, layer.weights):
            r = rng.normal(0, 0.3, w.shape).astype(w.dtype)
            if "variance" in v.path:
                r = np.abs(r) + 0.5
            new.append(r)
        layer.set_weights(new)


def mlp():
    m = keras.Sequential(
        [keras.Input((64,)), L.Dense(32, activation="relu"), L.Dropout(0.1), L.Dense(10, activation="softmax")],
        name="mlp",
    )
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = rng.random((64, 64), dtype=np.float32)
    m.fit(x, rng.integers(0, 10, 64), epochs=1, batch_size=16, verbose=0)
    return m, [x[:5]]


def cnn():
    m = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            L.Rescaling(1 / 16.0),
            L.Conv2D(4, 3, activation="relu", padding="same"),
            L.BatchNormalization(),
            L.MaxPooling2D(2),
            L.ZeroPadding2D(1),
            L.Conv2D(6, 3, strides=1),
            L.AveragePooling2D(2),
            L.UpSampling2D(2),
            L.Flatten(),
            L.Dense(10),
            L.Softmax(),
        ],
        name="cnn",
    )
    return m, [rng.random((3, 8, 8, 1), dtype=np.float32) * 16]


def conv_misc():
    inp = keras.Input((8, 8, 3))
    a = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="tanh")(inp)
    b = L.SeparableConv2D(6, 3, padding="same")(inp)
    c = L.Conv2DTranspose(6, 3, strides=2, padding="same")(inp)
    c = L.MaxPooling2D(2)(c)
    x = L.Add()([a, b])
    x = L.Multiply()([x, c])
    x = L.Concatenate()([x, L.ReLU()(b)])
    g1 = L.GlobalAveragePooling2D()(x)
    g2 = L.GlobalMaxPooling2D()(x)
    out = L.Activation("sigmoid")(L.Dense(4)(L.Concatenate()([g1, g2])))
    return keras.Model(inp, out, name="conv_misc"), [rng.random((2, 8, 8, 3), dtype=np.float32)]


def sequence():
    inp = keras.Input((12,), dtype="int32")
    x = L.Embedding(20, 8)(inp)
    x = L.Conv1D(8, 3, padding="same", activation="relu")(x)
    x = L.MaxPooling1D(2)(x)
    x = L.LayerNormalization()(x)
    s = L.SimpleRNN(6, return_sequences=True)(x)
    l_ = L.LSTM(5, return_sequences=True)(x)
    g = L.GRU(4)(x)
    b = L.Bidirectional(L.LSTM(3))(x)
    p = L.AveragePooling1D(2)(L.Concatenate()([s, l_]))
    p = L.GlobalAveragePooling1D()(p)
    r = L.Permute((2, 1))(L.Reshape((3, 2))(L.Dense(6)(g)))
    out = L.Concatenate()([p, b, L.Flatten()(r)])
    m = keras.Model(inp, L.Dense(3)(out), name="sequence")
    return m, [rng.integers(0, 20, (2, 12)).astype("int32")]


def attention():
    q = keras.Input((5, 8), name="query")
    v = keras.Input((7, 8), name="value")
    att = L.MultiHeadAttention(num_heads=2, key_dim=4)
    x = att(q, v)
    shared = L.Dense(8, name="shared")
    y1 = shared(x)
    y2 = shared(L.GlobalAveragePooling1D()(v))
    m = keras.Model([q, v], [y1, y2], name="attention")
    return m, [rng.random((2, 5, 8), dtype=np.float32), rng.random((2, 7, 8), dtype=np.float32)]


def nested():
    """A Sequential used as a layer inside a functional model (Keras nests its weights)."""
    inner = keras.Sequential(
        [keras.Input((6,)), L.Dense(5, activation="relu"), L.BatchNormalization(), L.Dense(4)], name="inner"
    )
    inp = keras.Input((6,))
    out = L.Dense(2)(L.Concatenate()([inner(inp), L.Dense(3)(inp)]))
    return keras.Model(inp, out, name="nested"), [rng.random((3, 6), dtype=np.float32)]


MODELS = {
    "mlp": mlp,
    "cnn": cnn,
    "conv_misc": conv_misc,
    "sequence": sequence,
    "attention": attention,
    "nested": nested,
}


def main(out: str, names: list):
    import warnings

    warnings.filterwarnings("ignore")
    os.makedirs(out, exist_ok=True)
    for name in names:
        keras.utils.set_random_seed(0)
        model, inputs = MODELS[name]()
        if name != "mlp":
            randomize(model)
        preds = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
        preds = preds if isinstance(preds, list) else [preds]
        model.save(os.path.join(out, f"{name}.keras"))
        model.save(os.path.join(out, f"{name}.h5"))
        model.save_weights(os.path.join(out, f"{name}.weights.h5"))
        arrays = {f"x{i}": x for i, x in enumerate(inputs)}
        arrays.update({f"y{i}": np.asarray(y) for i, y in enumerate(preds)})
        np.savez(os.path.join(out, f"{name}.npz"), **arrays)
    print("ok", keras.__version__, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or list(MODELS))

"""Records Keras 3 (torch backend) outputs of recurrent and pooling layers over masked input for
tests/keras/test_ragged_keras.py: `KERAS_BACKEND=torch python make_keras3_masked.py > keras3_masked.py`.
Inputs, masks and weights come from a seeded numpy generator and are stored with the outputs. The
result is a .py file holding a JSON string: the in-page test run ships only the tests' .py files."""

import json
import os

os.environ["KERAS_BACKEND"] = "torch"
import numpy as np  # noqa: E402
import keras  # noqa: E402

L = keras.layers
c = keras.ops.convert_to_numpy
rng = np.random.default_rng(14)

CASES = [
    "L.LSTM(3)",
    "L.LSTM(3, return_sequences=True)",
    "L.LSTM(2, go_backwards=True)",
    "L.GRU(3)",
    "L.GRU(3, return_sequences=True, zero_output_for_mask=True)",
    "L.GRU(2, reset_after=False)",
    "L.SimpleRNN(3, return_sequences=True)",
    "L.GlobalAveragePooling1D()",
    "L.GlobalMaxPooling1D()",
]
x = rng.standard_normal((3, 5, 4)).astype("float32")
mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)
out = []
for ctor in CASES:
    layer = eval(ctor)
    layer.build(x.shape)
    weights = [rng.standard_normal(w.shape).astype("float32") * 0.5 for w in layer.get_weights()]
    layer.set_weights(weights)
    takes_mask = "mask" in layer.call.__code__.co_varnames  # GlobalMaxPooling1D: no mask argument
    y = layer(x, mask=mask) if takes_mask else layer(x)
    out.append({"layer": ctor, "weights": [w.tolist() for w in weights], "output": c(y).tolist()})

# Embedding(mask_zero) -> LSTM, as the text guides: the padding ids are masked.
ids = np.array([[4, 2, 7, 0, 0, 0], [1, 3, 0, 0, 0, 0], [5, 6, 2, 8, 1, 9]], "int32")
model = keras.Sequential([keras.Input((None,), dtype="int32"), L.Embedding(10, 4, mask_zero=True), L.LSTM(3)])
weights = [rng.standard_normal(w.shape).astype("float32") * 0.5 for w in model.get_weights()]
model.set_weights(weights)
out.append(
    {
        "layer": "embedding_lstm",
        "ids": ids.tolist(),
        "weights": [w.tolist() for w in weights],
        "output": c(model(ids)).tolist(),
    }
)
# ... -> GlobalMaxPooling1D: Keras 3 drops the mask there (the padding's embedding takes part).
model = keras.Sequential(
    [keras.Input((None,), dtype="int32"), L.Embedding(10, 4, mask_zero=True), L.GlobalMaxPooling1D()]
)
weights = [rng.standard_normal(w.shape).astype("float32") * 0.5 for w in model.get_weights()]
model.set_weights(weights)
out.append(
    {
        "layer": "embedding_gmp",
        "ids": ids.tolist(),
        "weights": [w.tolist() for w in weights],
        "output": c(model(ids)).tolist(),
    }
)
# Masking -> LSTM(return_sequences) over steps whose features are all 0.0 (the "Masking and padding" guide).
xm = x.copy()
xm[0, 3:] = 0.0
xm[2, 1:] = 0.0
model = keras.Sequential([keras.Input((5, 4)), L.Masking(0.0), L.LSTM(3, return_sequences=True)])
weights = [rng.standard_normal(w.shape).astype("float32") * 0.5 for w in model.get_weights()]
model.set_weights(weights)
out.append(
    {
        "layer": "masking_lstm",
        "x": xm.tolist(),
        "weights": [w.tolist() for w in weights],
        "output": c(model(xm)).tolist(),
        "mask": c(model.layers[0].compute_mask(xm)).tolist(),
        "config": model.layers[0].get_config(),
    }
)
print("# Keras 3 (torch) outputs over masked input, written by make_keras3_masked.py\nimport json\n")
print("REF = json.loads(" + repr(json.dumps({"x": x.tolist(), "mask": mask.tolist(), "cases": out})) + ")")

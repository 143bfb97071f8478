"""Sequential, functional and subclassed models: building, calling, weights, summaries and
configs in Keras 3's JSON layout (compared with configs Keras 3.15 itself wrote)."""

import io
import json
import contextlib

import pytest

import webtensor as tf
from util import assert_close, tolist

K = tf.keras
L = K.layers


@pytest.fixture(autouse=True)
def fresh_names():
    K.backend.clear_session()
    yield


def mlp():
    return K.Sequential(
        [K.Input(shape=(64,)), L.Dense(64, activation="relu"), L.Dropout(0.1), L.Dense(10, activation="softmax")]
    )


POLICY = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
GLOROT = {
    "module": "keras.initializers",
    "class_name": "GlorotUniform",
    "config": {"seed": None, "input_axes": None, "output_axes": None},
    "registered_name": None,
}
ZEROS = {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": None}


def dense_cfg(name, units, act, in_dim):
    return {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {
            "name": name,
            "trainable": True,
            "dtype": POLICY,
            "units": units,
            "activation": act,
            "use_bias": True,
            "kernel_initializer": GLOROT,
            "bias_initializer": ZEROS,
            "kernel_regularizer": None,
            "bias_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
            "quantization_config": None,
        },
        "registered_name": None,
        "build_config": {"input_shape": [None, in_dim]},
    }


# What Keras 3.15 (TensorFlow backend) serializes for mlp() (compile_config aside).
KERAS_MLP = {
    "module": "keras",
    "class_name": "Sequential",
    "config": {
        "name": "sequential",
        "trainable": True,
        "dtype": POLICY,
        "layers": [
            {
                "module": "keras.layers",
                "class_name": "InputLayer",
                "config": {
                    "batch_shape": [None, 64],
                    "dtype": "float32",
                    "sparse": False,
                    "ragged": False,
                    "name": "input_layer",
                    "optional": False,
                },
                "registered_name": None,
            },
            dense_cfg("dense", 64, "relu", 64),
            {
                "module": "keras.layers",
                "class_name": "Dropout",
                "config": {
                    "name": "dropout",
                    "trainable": True,
                    "dtype": POLICY,
                    "rate": 0.1,
                    "seed": None,
                    "noise_shape": None,
                },
                "registered_name": None,
            },
            dense_cfg("dense_1", 10, "softmax", 64),
        ],
        "build_input_shape": [None, 64],
    },
    "registered_name": None,
    "build_config": {"input_shape": [None, 64]},
}


def test_sequential_config_is_keras3s():
    cfg = K.saving.serialize_keras_object(mlp())
    assert json.loads(json.dumps(cfg)) == json.loads(json.dumps(KERAS_MLP))


def test_sequential_from_keras_config_and_weights_roundtrip():
    m = K.saving.deserialize_keras_object(KERAS_MLP)
    assert type(m) is K.Sequential and m.built
    assert [layer.name for layer in m.layers] == ["dense", "dropout", "dense_1"]
    assert [tuple(w.shape) for w in m.weights] == [(64, 64), (64,), (64, 10), (10,)]
    src = mlp()
    m.set_weights(src.get_weights())
    x = tf.random.uniform((3, 64))
    assert_close(m(x), src(x), rtol=1e-6)
    again = K.models.model_from_json(m.to_json())
    assert [layer.name for layer in again.layers] == ["dense", "dropout", "dense_1"]


def test_sequential_add_pop_and_lazy_build():
    m = K.Sequential()
    m.add(L.Dense(4, input_shape=(3,)))
    m.add(L.Dense(2))
    assert m.built and m.output_shape == (None, 2)
    lazy = K.Sequential([L.Dense(5), L.Dense(1)])
    assert not lazy.built
    y = lazy(tf.ones((2, 7)))
    assert tuple(y.shape) == (2, 1) and lazy.built
    assert [tuple(w.shape) for w in lazy.weights] == [(7, 5), (5,), (5, 1), (1,)]
    popped = m.pop()
    assert popped.name == "dense_1" and m.output_shape == (None, 4)
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`"):
        m.add("dense")


def test_wrong_input_shape_for_a_built_model():
    m = mlp()
    with pytest.raises(
        ValueError,
        match=r'Input 0 of layer "sequential" is incompatible with the layer: '
        r"expected shape=\(None, 64\), found shape=\(2, 10\)",
    ):
        m(tf.ones((2, 10)))


def two_input_model():
    a = K.Input(shape=(4,), name="a")
    b = K.Input(shape=(3,), name="b")
    shared = L.Dense(5)
    x = L.Concatenate()([shared(a), L.Dense(5)(b)])
    y = shared(L.Dense(4)(x))  # the shared layer is called twice
    o1 = L.Dense(1, name="o1")(y)
    o2 = L.Dense(2)(x)
    return K.Model([a, b], [o1, o2])


def test_functional_config_matches_keras_layout():
    m = two_input_model()
    cfg = m.get_config()
    assert [layer["name"] for layer in cfg["layers"]] == [
        "a",
        "b",
        "dense",
        "dense_1",
        "concatenate",
        "dense_2",
        "o1",
        "dense_3",
    ]
    assert cfg["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert cfg["output_layers"] == [["o1", 0, 0], ["dense_3", 0, 0]]
    shared = cfg["layers"][2]
    assert shared["inbound_nodes"] == [
        {
            "args": [
                {
                    "class_name": "__keras_tensor__",
                    "config": {"shape": [None, 4], "dtype": "float32", "keras_history": ["a", 0, 0]},
                }
            ],
            "kwargs": {},
        },
        {
            "args": [
                {
                    "class_name": "__keras_tensor__",
                    "config": {"shape": [None, 4], "dtype": "float32", "keras_history": ["dense_2", 0, 0]},
                }
            ],
            "kwargs": {},
        },
    ]
    assert cfg["layers"][6]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] == ["dense", 1, 0]
    concat_args = cfg["layers"][4]["inbound_nodes"][0]["args"][0]
    assert [a["config"]["keras_history"] for a in concat_args] == [["dense", 0, 0], ["dense_1", 0, 0]]
    assert [w.path for w in m.weights][:4] == ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"]


def test_functional_roundtrip_shares_layers_and_predicts_the_same():
    m = two_input_model()
    clone = K.Model.from_config(json.loads(json.dumps(m.get_config())))
    assert len(clone.weights) == len(m.weights) == 10
    clone.set_weights(m.get_weights())
    xa, xb = tf.random.normal((3, 4)), tf.random.normal((3, 3))
    for got, want in zip(clone([xa, xb]), m([xa, xb])):
        assert_close(got, want, rtol=1e-5, atol=1e-6)
    by_name = m({"a": xa, "b": xb})
    assert_close(by_name[0], m([xa, xb])[0])
    assert m.output_names == ["o1", "dense_3"] and m.input_names == ["a", "b"]


def test_functional_graph_errors():
    a = K.Input((3,))
    b = K.Input((3,))
    y = L.Dense(2)(L.Add()([a, b]))
    with pytest.raises(ValueError, match="Graph disconnected"):
        K.Model(a, y)
    with pytest.raises(TypeError, match="symbolic"):
        tf.constant(1.0) + a


def test_operator_on_keras_tensors_makes_layers():
    a = K.Input((3,))
    m = K.Model(a, L.Dense(3)(a) + a)
    assert isinstance(m.layers[-1], L.Add)
    x = tf.ones((1, 3))
    assert tuple(m(x).shape) == (1, 3)


def test_nested_model_as_layer_and_training_flag():
    inner = K.Sequential([K.Input((4,)), L.Dropout(0.5)])
    a = K.Input((4,))
    outer = K.Model(a, L.Dense(2, use_bias=False, kernel_initializer="ones")(inner(a)))
    x = tf.ones((50, 4))
    assert_close(outer(x), [[4.0, 4.0]] * 50)  # inference: dropout off
    y = tolist(outer(x, training=True))  # training reaches the nested Dropout
    assert any(row[0] != 4.0 for row in y)


class Residual(K.Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.inner = L.Dense(units, activation="relu")
        self.out = L.Dense(1)

    def call(self, x, training=False):
        return self.out(self.inner(x) + x)


def test_subclassed_model_tracks_layers_and_builds():
    m = Residual()
    assert not m.built
    m.build((None, 3))
    assert [w.path for w in m.weights] == [
        "residual/dense/kernel",
        "residual/dense/bias",
        "residual/dense_1/kernel",
        "residual/dense_1/bias",
    ]
    assert len(m.trainable_variables) == 4
    y = m(tf.ones((2, 3)))
    assert tuple(y.shape) == (2, 1)
    m.inner.trainable = False
    assert len(m.trainable_variables) == 2 and len(m.non_trainable_weights) == 2


def test_get_set_weights_and_count_params():
    m = mlp()
    ws = m.get_weights()
    assert [tuple(w.shape) for w in ws] == [(64, 64), (64,), (64, 10), (10,)]
    assert m.count_params() == 4810
    with pytest.raises(ValueError, match="expecting 4 weights"):
        m.set_weights(ws[:2])
    with pytest.raises(ValueError, match="not compatible"):
        m.set_weights([ws[2], ws[1], ws[0], ws[3]])


def _summary(model):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.summary()
    return out.getvalue()


def test_summary_is_keras3s_table():
    text = _summary(mlp())
    assert text.splitlines()[:4] == [
        'Model: "sequential"',
        "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓",
        "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃",
        "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩",
    ]
    assert "│ dense (Dense)                   │ (None, 64)             │         4,160 │" in text
    assert "│ dropout (Dropout)               │ (None, 64)             │             0 │" in text
    assert text.rstrip().splitlines()[-3:] == [
        " Total params: 4,810 (18.79 KB)",
        " Trainable params: 4,810 (18.79 KB)",
        " Non-trainable params: 0 (0.00 B)",
    ]
    K.backend.clear_session()
    graph = _summary(two_input_model())
    assert "Connected to" in graph and "dense[1][0]" in graph and "│ a (InputLayer)" in graph


def test_custom_layer_serialization_with_registration():
    @K.saving.register_keras_serializable(package="Tests")
    class Scale(L.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    a = K.Input((2,))
    m = K.Model(a, Scale(3.0)(a))
    cfg = K.saving.serialize_keras_object(m)
    layer_cfg = cfg["config"]["layers"][1]
    assert layer_cfg["registered_name"] == "Tests>Scale"
    again = K.saving.deserialize_keras_object(json.loads(json.dumps(cfg)))
    assert_close(again(tf.constant([[1.0, 2.0]])), [[3.0, 6.0]])
    with pytest.raises(ValueError, match="Unknown class: 'NoSuchLayer'"):
        K.layers.deserialize({"class_name": "NoSuchLayer", "config": {}, "module": "keras.layers"})
    with pytest.raises(ValueError, match="lambda"):
        K.saving.deserialize_keras_object({"class_name": "__lambda__", "config": {"value": "x"}})


def test_clone_model_has_fresh_weights():
    m = mlp()
    c = K.models.clone_model(m)
    assert [layer.name for layer in c.layers] == [layer.name for layer in m.layers]
    assert tolist(c.weights[0]) != tolist(m.weights[0])

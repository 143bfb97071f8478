"""Saving custom objects (issue 16): registered classes, subclassed models with nested
custom layers (weights matched by object path), Keras 3's default get_config, numpy scalars."""

import json

import pytest

np = pytest.importorskip("numpy")  # the page has no numpy: there the module skips

import webtensor as tf

K = tf.keras
L = K.layers


class Linear(L.Layer):
    """The subclassing guide's layer."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", name="b")

    def call(self, x):
        return tf.matmul(x, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@K.saving.register_keras_serializable(package="GTests")
class RegisteredLinear(Linear):
    pass


@K.saving.register_keras_serializable(package="GTests")
class MLP(K.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.l_1 = RegisteredLinear(4)
        self.l_2 = RegisteredLinear(1)

    def call(self, x):
        return self.l_2(tf.nn.relu(self.l_1(x)))


class Block(L.Layer):
    """A custom layer holding built-in layers in a list (no get_config: Keras 3's default)."""

    def __init__(self, width=3, depth=2, **kwargs):
        super().__init__(**kwargs)
        self.dense = [L.Dense(width, activation="tanh") for _ in range(depth)]

    def call(self, x):
        for d in self.dense:
            x = d(x)
        return x


class Net(K.Model):
    def __init__(self, width=3, **kwargs):
        super().__init__(**kwargs)
        self.block = Block(width)
        self.head = L.Dense(2)

    def call(self, x):
        return self.head(self.block(x))


X = np.arange(12, dtype="float32").reshape(3, 4) / 10.0


def _weight_names(model):
    from webtensor.saving.model_file import weight_entries

    return [n for n, _ in weight_entries(model)]


def test_registered_subclassed_model_loads_without_custom_objects(tmp_path):
    m = MLP()
    want = m(X).numpy()
    assert _weight_names(m) == ["l_1/w", "l_1/b", "l_2/w", "l_2/b"]
    path = str(tmp_path / "mlp.safetensors")
    m.save(path)
    MLP()  # advance the layer-name counters: auto names now differ from the saved model's
    again = K.models.load_model(path)
    assert type(again) is MLP and type(again.l_1) is RegisteredLinear
    np.testing.assert_array_equal(again(X).numpy(), want)


def test_nested_custom_layers_in_lists_match_by_object_path(tmp_path):
    m = Net(width=5)
    want = m(X).numpy()
    assert _weight_names(m) == [
        "block/dense/0/kernel",
        "block/dense/0/bias",
        "block/dense/1/kernel",
        "block/dense/1/bias",
        "head/kernel",
        "head/bias",
    ]
    path = str(tmp_path / "net.safetensors")
    m.save(path)
    Net()
    again = K.models.load_model(path, custom_objects={"Net": Net, "Block": Block})
    assert again.block.dense[0].units == 5
    np.testing.assert_array_equal(again(X).numpy(), want)


def test_unknown_custom_class_is_a_clear_error(tmp_path):
    m = Net()
    m(X)
    path = str(tmp_path / "net.safetensors")
    m.save(path)
    with pytest.raises(ValueError, match="unknown layer class 'Net'.*custom_objects"):
        K.models.load_model(path)


def test_default_get_config_is_keras3s_auto_config():
    # Keras 3: a user class without get_config returns its plain constructor arguments
    b = Block(width=7, depth=1, name="blk")
    cfg = b.get_config()
    assert cfg["width"] == 7 and cfg["depth"] == 1 and cfg["name"] == "blk"
    again = Block.from_config(cfg)
    assert len(again.dense) == 1 and again.dense[0].units == 7 and again.name == "blk"

    class NoKwargs(L.Layer):
        def __init__(self, factor=2.0):
            super().__init__()
            self.factor = factor

        def call(self, x):
            return x * self.factor

    cfg = NoKwargs(np.float32(3.0)).get_config()
    assert cfg == {"factor": 3.0}  # name/trainable/dtype dropped: __init__ cannot take them
    assert json.loads(json.dumps(cfg)) == cfg
    np.testing.assert_allclose(NoKwargs.from_config(cfg)(tf.constant([1.0])).numpy(), [3.0])


def test_non_serializable_arguments_need_get_config():
    class Holds(L.Layer):
        def __init__(self, table, **kwargs):
            super().__init__(**kwargs)
            self.table = table

        def call(self, x):
            return x

    with pytest.raises(NotImplementedError, match="Holds.*get_config"):
        K.saving.serialize_keras_object(Holds(object()))


def test_serialized_registered_name_and_json_round_trip():
    cfg = K.saving.serialize_keras_object(RegisteredLinear(2, name="rl"))
    assert cfg["registered_name"] == "GTests>RegisteredLinear" and cfg["config"]["units"] == 2
    again = K.saving.deserialize_keras_object(json.loads(json.dumps(cfg)))
    assert type(again) is RegisteredLinear and again.units == 2


def test_functional_model_with_registered_layer(tmp_path):
    a = K.Input((4,))
    m = K.Model(a, RegisteredLinear(3)(a))
    path = str(tmp_path / "f.safetensors")
    m.save(path)
    again = K.models.load_model(path)
    np.testing.assert_array_equal(again(X).numpy(), m(X).numpy())


def test_numpy_scalars_accepted():
    d = L.Dense(np.int64(3))
    assert d.units == 3 and type(d.units) is int and d(X).shape == (3, 3)
    with pytest.raises(ValueError, match="units"):
        L.Dense(np.float32(3.0))
    sched = K.optimizers.schedules.InverseTimeDecay(np.float32(0.1), np.int64(10), np.array(0.5))
    # 0.1 / (1 + 0.5 * 20 / 10) = 0.05
    np.testing.assert_allclose(float(sched(20)), 0.05, rtol=1e-6)
    json.dumps(K.optimizers.schedules.serialize(sched))


def _old_style_names(layer) -> list:
    """The naming before attribute paths: every sublayer by its (auto-generated) layer name."""
    return [(s.name, s) for s in (getattr(layer, "layers", None) or [])]


@pytest.mark.parametrize("compile_", [False, True])
def test_file_with_pre_attribute_path_names_still_loads(tmp_path, monkeypatch, compile_):
    from webtensor.saving import safetensors as st

    m = MLP()
    m.compile("adam", "mse")
    m.fit(X, np.ones((3, 1), "float32"), epochs=1, verbose=0)
    want = m(X).numpy()
    path = str(tmp_path / "old.safetensors")
    with monkeypatch.context() as mp:  # write the file the way the old writer named weights
        mp.setattr(K.saving, "sublayer_segments", _old_style_names)
        m.save(path)
    names = [e.name for e in st.read_header(path).in_data_order() if not e.name.startswith("optimizer/")]
    assert names == [f"{m.l_1.name}/w", f"{m.l_1.name}/b", f"{m.l_2.name}/w", f"{m.l_2.name}/b"]
    MLP()  # the auto names of a new build differ from the file's
    again = K.models.load_model(path, compile=compile_)
    assert _weight_names(again) == ["l_1/w", "l_1/b", "l_2/w", "l_2/b"]
    np.testing.assert_array_equal(again(X).numpy(), want)
    np.testing.assert_array_equal(again.l_1.w.numpy(), m.l_1.w.numpy())


class WideMLP(K.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.l_1 = RegisteredLinear(5)
        self.l_2 = RegisteredLinear(1)

    def call(self, x):
        return self.l_2(tf.nn.relu(self.l_1(x)))


def test_old_names_by_position_still_check_shapes(tmp_path, monkeypatch):
    m = MLP()
    m(X)
    path = str(tmp_path / "old.safetensors")
    with monkeypatch.context() as mp:
        mp.setattr(K.saving, "sublayer_segments", _old_style_names)
        m.save(path)
    wide = WideMLP()
    wide(X)
    before = wide.l_1.w.numpy()
    with pytest.raises(ValueError, match=r"shape \[4, 4\] in the file.*'l_1/w'.*\[4, 5\]"):
        wide.load_weights(path)
    np.testing.assert_array_equal(wide.l_1.w.numpy(), before)  # all or nothing

"""keras.layers.Lambda: calls, shapes, and the safe_mode rule for code in model files."""

import pytest

np = pytest.importorskip("numpy")  # the page has no numpy: there the module skips

import webtensor as tf

K = tf.keras
L = K.layers
X = np.arange(6, dtype="float32").reshape(2, 3)


@K.saving.register_keras_serializable(package="GLambda")
def double_plus(x, offset=0.0):
    return x * 2.0 + offset


def test_call_arguments_training_and_output_shape():
    seen = []

    def fn(x, scale, training=None):
        seen.append(training)
        return x * scale

    layer = L.Lambda(fn, arguments={"scale": 3.0})
    np.testing.assert_allclose(layer(X).numpy(), X * 3.0)
    layer(X, training=True)
    assert seen == [None, True]
    a = K.Input((3,))
    out = L.Lambda(lambda t: tf.concat([t, t], axis=-1))(a)
    assert tuple(out.shape) == (None, 6)  # inferred by running the function
    out = L.Lambda(lambda t: t[:, :2], output_shape=(2,))(a)
    assert tuple(out.shape) == (None, 2)


def test_named_registered_function_saves_in_safe_mode(tmp_path):
    a = K.Input((3,))
    m = K.Model(a, L.Dense(2)(L.Lambda(double_plus, arguments={"offset": 1.0})(a)))
    path = str(tmp_path / "named.safetensors")
    m.save(path)
    again = K.models.load_model(path)
    np.testing.assert_allclose(again(X).numpy(), m(X).numpy(), rtol=0, atol=0)


def test_lambda_code_needs_safe_mode_false_to_save_and_to_load(tmp_path):
    k = 0.5
    m = K.Sequential([K.Input((3,)), L.Lambda(lambda x: x * k + 1.0), L.Dense(2)])
    want = m(X).numpy()
    path = str(tmp_path / "lambda.safetensors")
    with pytest.raises(ValueError, match="safe_mode=False"):
        m.save(path)
    m.save(path, safe_mode=False)
    with pytest.raises(ValueError, match="disallowed by default.*safe_mode=False"):
        K.models.load_model(path)
    again = K.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(again(X).numpy(), want, rtol=0, atol=0)  # the closure's k came back


def test_lambda_config_round_trip_and_refusal_in_deserialize():
    layer = L.Lambda(lambda x: x - 1.0, name="minus")
    with pytest.raises(ValueError, match="safe mode"):
        K.saving.serialize_keras_object(layer)
    with K.saving.SafeModeScope(False):
        cfg = K.saving.serialize_keras_object(layer)
    assert cfg["config"]["function"]["class_name"] == "__lambda__"
    with pytest.raises(ValueError, match="disallowed"):
        K.saving.deserialize_keras_object(cfg)
    again = K.saving.deserialize_keras_object(cfg, safe_mode=False)
    np.testing.assert_allclose(again(X).numpy(), X - 1.0)
    assert again.name == "minus"


def test_not_callable_is_an_error():
    with pytest.raises(TypeError, match="callable"):
        L.Lambda(3)

"""``tf.keras.models``: Model, Sequential, and loading/saving through ``webtensor.saving``."""
from .model import Model  # noqa: F401
from .functional import Functional  # noqa: F401
from .sequential import Sequential  # noqa: F401
from ..saving import load_model, save_model  # noqa: F401


def model_from_json(json_string, custom_objects=None):
    import json

    from ..saving import deserialize_keras_object

    return deserialize_keras_object(json.loads(json_string), custom_objects, kind="models")


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and freshly initialized weights."""
    from ..saving import deserialize_keras_object, serialize_keras_object

    if input_tensors is not None or clone_function is not None:
        raise ValueError("clone_model: input_tensors and clone_function are not supported")
    config = serialize_keras_object(model)
    config.pop("compile_config", None)
    return deserialize_keras_object(config, kind="models")

"""``tf.keras.optimizers``: SGD, Adam, AdamW, Nadam, RMSprop, Adagrad, Adadelta and schedules."""

from .base import Optimizer  # noqa: F401
from .sgd import SGD  # noqa: F401
from .adam import Adam, AdamW, Nadam  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .adagrad import Adadelta, Adagrad  # noqa: F401
from . import schedules  # noqa: F401
from ..saving import deserialize_keras_object, lookup, serialize_keras_object


def serialize(optimizer):
    return serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    return deserialize_keras_object(config, custom_objects, kind="optimizers")


def get(identifier):
    """A name ("adam"), a config dict or an Optimizer -> an Optimizer instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return lookup("optimizers", identifier, "optimizer")()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")

"""``tf.keras.regularizers``: weight penalties added to the training loss (Keras 3)."""

from __future__ import annotations

from ..ops import math as M
from ..ops.reduce import reduce_sum
from .saving import deserialize_keras_object, lookup, register, serialize_keras_object


class Regularizer:
    def __call__(self, x):
        return 0.0

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check(value, name):
    value = float(value)
    if value < 0:
        raise ValueError(f"Value for argument `{name}` must be a non-negative number, got {value}")
    return value


@register("regularizers", "l1_l2")
class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = _check(l1, "l1"), _check(l2, "l2")

    def __call__(self, x):
        out = 0.0
        if self.l1:
            out = self.l1 * reduce_sum(M.abs(x))
        if self.l2:
            out = out + self.l2 * reduce_sum(M.square(x))
        return out

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


@register("regularizers", "l1")
class L1(Regularizer):
    def __init__(self, l1=0.01):
        self.l1 = _check(l1, "l1")

    def __call__(self, x):
        return self.l1 * reduce_sum(M.abs(x))

    def get_config(self):
        return {"l1": self.l1}


@register("regularizers", "l2")
class L2(Regularizer):
    def __init__(self, l2=0.01):
        self.l2 = _check(l2, "l2")

    def __call__(self, x):
        return self.l2 * reduce_sum(M.square(x))

    def get_config(self):
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2


def serialize(regularizer):
    return serialize_keras_object(regularizer)


def deserialize(config, custom_objects=None):
    return deserialize_keras_object(config, custom_objects, kind="regularizers")


def get(identifier):
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return lookup("regularizers", identifier, "regularizer")()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")

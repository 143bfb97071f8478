"""``tf.keras.constraints``: projections applied to a weight after each optimizer step."""

from __future__ import annotations

from ..ops import math as M
from ..ops.reduce import reduce_sum
from . import backend
from .saving import deserialize_keras_object, lookup, register, serialize_keras_object


class Constraint:
    def __call__(self, w):
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _norms(w, axis):
    return M.sqrt(reduce_sum(M.square(w), axis, keepdims=True))


@register("constraints", "max_norm")
class MaxNorm(Constraint):
    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        n = _norms(w, self.axis)
        return w * (M.clip_by_value(n, 0.0, float(self.max_value)) / (n + backend.epsilon()))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


@register("constraints", "non_neg")
class NonNeg(Constraint):
    def __call__(self, w):
        return M.maximum(w, 0.0)


@register("constraints", "unit_norm")
class UnitNorm(Constraint):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (_norms(w, self.axis) + backend.epsilon())

    def get_config(self):
        return {"axis": self.axis}


@register("constraints", "min_max_norm")
class MinMaxNorm(Constraint):
    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        n = _norms(w, self.axis)
        desired = self.rate * M.clip_by_value(n, float(self.min_value), float(self.max_value)) + (1 - self.rate) * n
        return w * (desired / (backend.epsilon() + n))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


def serialize(constraint):
    return serialize_keras_object(constraint)


def deserialize(config, custom_objects=None):
    return deserialize_keras_object(config, custom_objects, kind="constraints")


def get(identifier):
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return lookup("constraints", identifier, "constraint")()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r}")

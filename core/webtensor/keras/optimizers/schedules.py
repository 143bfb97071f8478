"""``tf.keras.optimizers.schedules``: learning rate as a function of the step (Keras 3 formulas).

``value(step)`` computes on the host with Python floats, so the eager optimizer needs no
device round trip per step; calling a schedule returns a float32 tensor as Keras. In a
tf.function (the compiled train step) the step is a symbolic tensor: ``tensor_value``
computes the same formula with ops, so each replay uses the current ``iterations``.
"""

from __future__ import annotations

import math

from ... import dtypes as D
from ...ops import math as M
from ...tensor import Tensor, constant, is_symbolic_tensor
from ..saving import deserialize_keras_object, register, serialize_keras_object


def _f(step):
    return M.cast(step, D.float32) if step.dtype is not D.float32 else step


def _floor_if(p, staircase):
    return M.floor(p) if staircase else p


class LearningRateSchedule:
    def __call__(self, step):
        if is_symbolic_tensor(step):
            return self.tensor_value(_f(step))
        s = step.tolist() if hasattr(step, "numpy") else step  # a Python scalar, with or without numpy
        return constant(self.value(float(s)), D.float32)

    def value(self, step: float) -> float:
        raise TypeError(f"{type(self).__name__} must implement value(step)")

    def tensor_value(self, step: Tensor) -> Tensor:
        """``value`` for a float32 step tensor, with ops (traced train steps)."""
        raise TypeError(
            f"{type(self).__name__} must implement tensor_value(step) to be used in a compiled "
            f"train step (or override __call__(step) with tensor ops, as in Keras)"
        )

    def get_config(self) -> dict:
        raise TypeError(f"{type(self).__name__} must implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@register("schedules")
class ExponentialDecay(LearningRateSchedule):
    """``initial * decay_rate ** (step / decay_steps)`` (floored exponent with staircase)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        if decay_steps <= 0:
            raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def value(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p

    def tensor_value(self, step):
        p = _floor_if(step / float(self.decay_steps), self.staircase)
        return M.pow(float(self.decay_rate), p) * float(self.initial_learning_rate)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


@register("schedules")
class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while step <= boundaries[0], ``values[i]`` in (b[i-1], b[i]], then ``values[-1]``."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"The length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of "
                f"length {len(values)}."
            )
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def value(self, step):
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return v
        return self.values[-1]

    def tensor_value(self, step):
        out = constant(float(self.values[-1]), D.float32)
        for b, v in reversed(list(zip(self.boundaries, self.values))):
            out = M.where(M.less_equal(step, float(b)), constant(float(v), D.float32), out)
        return out

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


@register("schedules")
class CosineDecay(LearningRateSchedule):
    """Optional linear warmup to ``warmup_target``, then a cosine from it down to ``alpha`` of it."""

    def __init__(
        self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None, warmup_steps=0
    ):
        if decay_steps <= 0:
            raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")
        self.initial_learning_rate, self.decay_steps, self.alpha = initial_learning_rate, decay_steps, alpha
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def _decay(self, step, start):
        cos = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1 - self.alpha) * cos + self.alpha)

    def value(self, step):
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            frac = step / self.warmup_steps
            return (self.warmup_target - self.initial_learning_rate) * frac + self.initial_learning_rate
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def _tensor_decay(self, step, start):
        cos = (M.cos(step * (math.pi / self.decay_steps)) + 1.0) * 0.5
        return (cos * (1.0 - self.alpha) + self.alpha) * float(start)

    def tensor_value(self, step):
        if self.warmup_target is None:
            return self._tensor_decay(M.minimum(step, float(self.decay_steps)), self.initial_learning_rate)
        step = M.minimum(step, float(self.decay_steps + self.warmup_steps))
        w = max(self.warmup_steps, 1)
        warm = step / float(w) * float(self.warmup_target - self.initial_learning_rate) + float(
            self.initial_learning_rate
        )
        decayed = self._tensor_decay(step - float(self.warmup_steps), self.warmup_target)
        return M.where(M.less(step, float(self.warmup_steps)), warm, decayed)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


@register("schedules")
class InverseTimeDecay(LearningRateSchedule):
    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def value(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)

    def tensor_value(self, step):
        p = _floor_if(step / float(self.decay_steps), self.staircase)
        return float(self.initial_learning_rate) / (p * float(self.decay_rate) + 1.0)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


def serialize(schedule):
    return serialize_keras_object(schedule)


def deserialize(config, custom_objects=None):
    return deserialize_keras_object(config, custom_objects, kind="schedules")

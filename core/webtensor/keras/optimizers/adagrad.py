"""Adagrad and Adadelta (Keras 3 rules; epsilon inside the square roots)."""

from __future__ import annotations

from ...ops import math as M
from ..initializers import Constant
from ..saving import register
from .base import Optimizer


@register("optimizers", "adagrad")
class Adagrad(Optimizer):
    """``acc += g^2``; ``w -= lr g / sqrt(acc + eps)``."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon
        self.slot_names = ("accumulator",)

    def _slot_init(self, name):
        return Constant(self.initial_accumulator_value)

    def _rule(self, g, w, slots, s):
        acc = slots["accumulator"] + M.square(g)
        return w - g * s["lr"] / M.sqrt(acc + self.epsilon), {"accumulator": acc}

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


@register("optimizers", "adadelta")
class Adadelta(Optimizer):
    """``Eg = rho Eg + (1-rho) g^2``; ``d = -sqrt(Ed + eps) / sqrt(Eg + eps) * g``;
    ``Ed = rho Ed + (1-rho) d^2``; ``w += lr d``."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.rho, self.epsilon = rho, epsilon
        self.slot_names = ("accumulated_grad", "accumulated_delta_var")

    def _rule(self, g, w, slots, s):
        rho, eps = self.rho, self.epsilon
        eg = slots["accumulated_grad"] * rho + M.square(g) * (1 - rho)
        delta = -(M.sqrt(slots["accumulated_delta_var"] + eps) * g / M.sqrt(eg + eps))
        ed = slots["accumulated_delta_var"] * rho + M.square(delta) * (1 - rho)
        return w + delta * s["lr"], {"accumulated_grad": eg, "accumulated_delta_var": ed}

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}

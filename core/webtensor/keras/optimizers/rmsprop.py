"""RMSprop (Keras 3): ``v = rho v + (1 - rho) g^2``; ``w -= lr g / sqrt(v + eps)`` (epsilon inside
the root; ``centered`` subtracts the squared mean gradient; optional momentum)."""

from __future__ import annotations

from ...ops import math as M
from ..saving import register
from .base import Optimizer


@register("optimizers", "rmsprop")
class RMSprop(Optimizer):
    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, name=None, **kwargs):
        super().__init__(learning_rate, name=name, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered
        self.slot_names = (
            ("velocity",) + (("momentum",) if momentum > 0 else ()) + (("average_gradient",) if centered else ())
        )

    def build(self, var_list):
        """Keras creates all velocities, then all momentums, then all average gradients."""
        if self.built:
            return
        names, self.slot_names = self.slot_names, ()
        super().build(var_list)
        self.slot_names = names
        for name in names:
            self._slots[name] = [self.add_variable_from_reference(v, name) for v in var_list]

    def _rule(self, g, w, slots, s):
        rho = self.rho
        v = slots["velocity"] * rho + M.square(g) * (1 - rho)
        new = {"velocity": v}
        if self.centered:
            a = new["average_gradient"] = slots["average_gradient"] * rho + g * (1 - rho)
            denom = v - M.square(a) + self.epsilon
        else:
            denom = v + self.epsilon
        inc = g * s["lr"] / M.sqrt(denom)
        if self.momentum > 0:
            inc = new["momentum"] = slots["momentum"] * self.momentum + inc
        return w - inc, new

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }

"""Adam, AdamW and Nadam with Keras 3's update rules.

Adam: ``alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)``, ``m += (g - m)(1 - b1)``,
``v += (g^2 - v)(1 - b2)``, ``w -= m * alpha / (sqrt(v) + eps)`` (t = step + 1).
AdamW is Adam after ``w -= w * weight_decay * lr``.
"""

from __future__ import annotations

import math

from ... import dtypes as D
from ...ops import math as M
from ...ops import optim
from ...tensor import Tensor
from ..saving import register
from .base import Optimizer


class _AdamBase(Optimizer):
    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm,
            clipvalue,
            global_clipnorm,
            use_ema,
            ema_momentum,
            ema_overwrite_frequency,
            loss_scale_factor,
            gradient_accumulation_steps,
            name=name,
            **kwargs,
        )
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


def _one_minus_pow(b, t):
    """``1 - b**t`` in float32 without the cancellation of ``1 - pow`` (b = 0.999 lost 4 digits),
    so traced bias corrections match the eager double-precision ones to float32 rounding."""
    return -M.expm1(t * math.log(float(b)))


@register("optimizers", "adam")
class Adam(_AdamBase):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.amsgrad = amsgrad
        self.slot_names = ("momentum", "velocity")

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        if self.amsgrad:
            self._slots["velocity_hat"] = [self.add_variable_from_reference(v, "velocity_hat") for v in var_list]

    def _scalars(self, lr, t):
        if isinstance(t, Tensor):  # traced: t is the float32 step tensor
            return {"alpha": lr * M.sqrt(_one_minus_pow(self.beta_2, t)) / _one_minus_pow(self.beta_1, t)}
        return {"alpha": lr * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)}

    def _fused_on(self, variable) -> bool:
        return not self.amsgrad and optim.fuses_adam(variable)

    def _rule(self, g, w, slots, s):
        c1, c2 = 1 - self.beta_1, 1 - self.beta_2
        if not self.amsgrad:
            w, m, v = optim.adam_update(w, slots["momentum"], slots["velocity"], g, s["alpha"], c1, c2, self.epsilon)
            return w, {"momentum": m, "velocity": v}
        m = slots["momentum"] + (g - slots["momentum"]) * c1
        v = slots["velocity"] + (M.square(g) - slots["velocity"]) * c2
        new = {"momentum": m, "velocity": v, "velocity_hat": M.maximum(slots["velocity_hat"], v)}
        return w - m * s["alpha"] / (M.sqrt(new["velocity_hat"]) + self.epsilon), new

    def get_config(self):
        return {**super().get_config(), "amsgrad": self.amsgrad}


@register("optimizers", "adamw")
class AdamW(Adam):
    def __init__(
        self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs
    ):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs)


@register("optimizers", "nadam")
class Nadam(_AdamBase):
    """Adam with Nesterov momentum and the 0.96 momentum-decay schedule (Keras 3)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.slot_names = ("momentum", "velocity")

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._u_product = self.add_variable((), "ones", var_list[0].dtype if var_list else None, "u_product")
        self._u = 1.0

    def _scalars(self, lr, t):
        b1 = self.beta_1
        if isinstance(t, Tensor):
            return self._traced_scalars(lr, t)
        t = int(t)
        u_t = b1 * (1.0 - 0.5 * 0.96**t)
        u_t1 = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        if self._u_product.value_token is not getattr(self, "_u_tok", None):  # loaded from a file
            self._u = float(self._u_product.numpy())
        self._u *= u_t
        self._u_product.assign(self._u)
        self._u_tok = self._u_product.value_token
        return {
            "lr": lr,
            "c_m": u_t1 / (1 - self._u * u_t1),
            "c_g": (1 - u_t) / (1 - self._u),
            "v_scale": 1.0 / (1 - self.beta_2**t),
        }

    def _traced_scalars(self, lr, t):
        """The same coefficients as tensors; the running product lives in ``u_product``."""
        b1 = float(self.beta_1)
        u_t = b1 * (1.0 - 0.5 * M.pow(0.96, t))
        u_t1 = b1 * (1.0 - 0.5 * M.pow(0.96, t + 1.0))
        u = M.cast(self._u_product.value(), D.float32) * u_t
        self._u_product.assign(M.cast(u, self._u_product.dtype))
        return {
            "lr": lr,
            "c_m": u_t1 / (1.0 - u * u_t1),
            "c_g": (1.0 - u_t) / (1.0 - u),
            "v_scale": 1.0 / _one_minus_pow(self.beta_2, t),
        }

    def _rule(self, g, w, slots, s):
        m = slots["momentum"] + (g - slots["momentum"]) * (1 - self.beta_1)
        v = slots["velocity"] + (M.square(g) - slots["velocity"]) * (1 - self.beta_2)
        m_hat = m * s["c_m"] + g * s["c_g"]
        return w - m_hat * s["lr"] / (M.sqrt(v * s["v_scale"]) + self.epsilon), {"momentum": m, "velocity": v}

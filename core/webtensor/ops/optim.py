"""Optimizer steps as core ops: one kernel where the backend fuses them, else the same
arithmetic composed from primitives. Keras's optimizers call these instead of reading a
backend's ``fused`` set and tensor handles themselves."""

from __future__ import annotations

from ..tensor import Tensor, wrap
from . import math as M

_ADAM_DTYPES = ("float32", "float64")


def fuses_adam(variable) -> bool:
    """Whether ``adam_update`` on this variable's backend is one kernel (then per-variable steps
    beat concatenating every variable into one flat update)."""
    return "adam_update" in variable._be.fused


def _fused_adam(w, mom, vel, g):
    """The backend, when all four live on it with one float dtype and it fuses the step; else None."""
    be = w._be
    if (
        "adam_update" not in be.fused
        or type(g) is not Tensor
        or w._dtype.name not in _ADAM_DTYPES
        or any(t._be is not be or t._dtype is not w._dtype for t in (mom, vel, g))
    ):
        return None
    return be


def adam_update(weight, momentum, velocity, gradient, alpha, c1: float, c2: float, epsilon: float):
    """One Adam step: ``m += (g - m) c1``, ``v += (g^2 - v) c2``, ``w -= m alpha / (sqrt(v) + eps)``
    (c1 = 1 - beta_1, c2 = 1 - beta_2, alpha the bias-corrected rate). Returns (w, m, v).

    Fused and composed forms evaluate in the same order (backends/base.py's
    ``FusedKernels.adam_update``), so they agree to the bit on one backend."""
    be = _fused_adam(weight, momentum, velocity, gradient)
    if be is not None:
        dt = weight._dtype
        handles = be.adam_update(weight._h, momentum._h, velocity._h, gradient._h, alpha, c1, c2, epsilon)
        return tuple(wrap(h, dt, be) for h in handles)
    mom = momentum + (gradient - momentum) * c1
    vel = velocity + (M.square(gradient) - velocity) * c2
    return weight - mom * alpha / (M.sqrt(vel) + epsilon), mom, vel

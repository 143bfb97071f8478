"""``tf.random``: counter-based and seeded, so a seeded run is reproducible on every backend.

Each call draws a fresh key from (global seed, op seed, call counter);
``set_seed`` resets the counter, so the same program gives the same numbers.
"""

from __future__ import annotations

import os
import random as _pyrandom

from .. import placement
from .. import dtypes as D
from ..backends.base import _mix32
from ..errors import InvalidArgumentError
from ..shape import dims_tuple
from .dispatch import operand, wrap
from . import array as A
from . import math as M

_DEFAULT_GLOBAL_SEED = 87654321
_state = {"seed": None, "counter": 0, "entropy": int.from_bytes(os.urandom(4), "little")}


def set_seed(seed) -> None:
    """``tf.random.set_seed``: makes every later random op's sequence reproducible."""
    _state["seed"] = None if seed is None else int(seed)
    _state["counter"] = 0


def get_global_seed():
    return _state["seed"]


def _key(seed) -> tuple:
    g = _state["seed"]
    if g is None:
        g = _DEFAULT_GLOBAL_SEED if seed is not None else _state["entropy"]
    c = _state["counter"]
    _state["counter"] = c + 1
    k0 = _mix32((g & 0xFFFFFFFF) ^ 0x9E3779B9)
    k1 = _mix32((((seed or 0) & 0xFFFFFFFF) * 0x85EBCA6B + c * 0xC2B2AE35 + (g >> 32)) & 0xFFFFFFFF)
    return k0, k1


def _draw(kind: str, shape, dtype, seed) -> "A.Tensor":
    dt = D.as_dtype(dtype)
    if not dt.is_floating:
        raise InvalidArgumentError(f"random.{kind}: dtype must be floating point, got {dt.name}")
    be = placement.creation_backend(dt)
    s = dims_tuple(shape, f"random.{kind}")
    return wrap(be.random(kind, s, dt, _key(seed)), dt, be)


def uniform(shape, minval=0, maxval=None, dtype=D.float32, seed=None, name=None):
    """Floats in [minval, maxval) (maxval default 1); ints need maxval, as TF."""
    dt = D.as_dtype(dtype)
    if dt.is_integer:
        if maxval is None:
            raise InvalidArgumentError(f"random.uniform: maxval must be given for dtype {dt.name}")
        u = _draw("uniform", shape, D.float64 if dt.size > 4 else D.float32, seed)
        lo, hi = operand(minval, "uniform", dt), operand(maxval, "uniform", dt)
        span = M.cast(hi - lo, u._dtype)
        return M.cast(M.floor(u * span), dt) + lo
    u = _draw("uniform", shape, dt, seed)
    if maxval is None:
        maxval = 1
    if minval == 0 and maxval == 1:
        return u
    lo = operand(minval, "uniform", dt)
    return u * (operand(maxval, "uniform", dt) - lo) + lo


def normal(shape, mean=0.0, stddev=1.0, dtype=D.float32, seed=None, name=None):
    z = _draw("normal", shape, dtype, seed)
    if (isinstance(stddev, (int, float)) and stddev == 1) and (isinstance(mean, (int, float)) and mean == 0):
        return z
    return z * stddev + mean


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=D.float32, seed=None, name=None):
    """Normal values re-drawn while more than 2 standard deviations from 0 (as TF)."""
    z = _draw("normal", shape, dtype, seed)
    for _ in range(12):  # P(still out of range) after 12 rounds ~ 1e-16 per element
        bad = M.greater(M.abs(z), 2.0)
        z = M.where(bad, _draw("normal", shape, dtype, seed), z)
    z = M.clip_by_value(z, -2.0, 2.0)
    return z * stddev + mean


def shuffle(value, seed=None, name=None):
    """A random permutation along the first dimension."""
    x = operand(value, "shuffle")
    n = x._h.shape[0] if x._h.shape else 0
    k0, k1 = _key(seed)
    perm = list(range(n))
    _pyrandom.Random((k0 << 32) | k1).shuffle(perm)
    return A.gather(x, perm) if n else x


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """Samples class indices from unnormalised log-probabilities (Gumbel-max trick)."""
    lg = operand(logits, "categorical")
    b, c = lg._h.shape
    u = uniform((b, num_samples, c), 1e-20, 1.0, lg._dtype, seed)
    g = A.expand_dims(lg, 1) - M.log(-M.log(u))
    from .reduce import argmax

    return argmax(g, axis=-1, output_type=D.as_dtype(dtype or D.int64))

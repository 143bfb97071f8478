"""``tf.random.Generator``, the ``stateless_*`` samplers, gamma and poisson.

Every sampler here draws from the backends' counter-based stream (``random_u32``) under
an explicit key, so a seed gives the same numbers on every backend. Keys come from
either a stateless seed (a shape-[2] integer pair, hashed into a key) or a Generator's
(key, counter) state. The numbers differ from TF's Philox streams: only the
distributions and the determinism rules are TF's.
"""

from __future__ import annotations

import os

from .. import dtypes as D
from .. import placement
from ..backends.base import _mix32
from ..errors import InvalidArgumentError
from ..shape import dims_tuple
from . import array as A
from . import math as M
from .dispatch import Tensor, operand, wrap
from .reduce import argmax, cumsum, reduce_sum

_GOLDEN = 0x9E3779B9
_REJECTION_ROUNDS = 12  # P(an element still rejected) is below 1e-15 for every sampler here


def _mix_pair(a: int, b: int) -> tuple:
    return _mix32((a ^ _GOLDEN) & 0xFFFFFFFF), _mix32((b * 0x85EBCA6B + _mix32(a)) & 0xFFFFFFFF)


def _subkey(key: tuple, i: int) -> tuple:
    """The i-th independent key derived from ``key``."""
    return _mix32((key[0] + i * _GOLDEN) & 0xFFFFFFFF), _mix32((key[1] ^ _mix32(i + 0x632BE5AB)) & 0xFFFFFFFF)


def _seed_key(seed, op: str) -> tuple:
    """A stateless seed (shape [2] integers, a Python pair or an eager tensor) as a key."""
    if isinstance(seed, (list, tuple)) and len(seed) == 2 and all(type(v) is int for v in seed):
        a, b = (v & 0xFFFFFFFFFFFFFFFF for v in seed)  # read on the host: also while tracing
        return _mix_pair((a ^ (a >> 32)) & 0xFFFFFFFF, (b ^ (b >> 32)) & 0xFFFFFFFF)
    t = operand(seed, op)
    if not t._dtype.is_integer or tuple(t._h.shape) != (2,):
        raise InvalidArgumentError(
            f"{op}: seed must be a shape [2] integer tensor, got shape {tuple(t._h.shape)} {t._dtype.name}"
        )
    if getattr(t._h, "symbolic", False):
        raise InvalidArgumentError(
            f"{op}: the seed of a stateless op must be known when the function is "
            f"traced (a Python pair or a constant); got a function input. Pass "
            f"it as a Python value, or use a tf.random.Generator"
        )
    a, b = (int(v) & 0xFFFFFFFFFFFFFFFF for v in A._host_flat(t))
    return _mix_pair((a ^ (a >> 32)) & 0xFFFFFFFF, (b ^ (b >> 32)) & 0xFFFFFFFF)


def _raw(kind: str, shape, dtype, key: tuple) -> Tensor:
    be = placement.creation_backend(dtype)
    return wrap(be.random(kind, shape, dtype, key), dtype, be)


class _Keys:
    """Successive subkeys of one base key (one sampler call)."""

    def __init__(self, key: tuple):
        self.key, self.i = key, 0

    def next(self) -> tuple:
        self.i += 1
        return _subkey(self.key, self.i)


def _float(dtype, op) -> D.DType:
    dt = D.as_dtype(dtype)
    if not dt.is_floating:
        raise InvalidArgumentError(f"{op}: dtype must be floating point, got {dt.name}")
    return dt


def _uniform(keys, shape, minval, maxval, dtype, op) -> Tensor:
    dt = D.as_dtype(dtype)
    s = dims_tuple(shape, op)
    if dt.is_integer:
        if minval is None or maxval is None:
            raise InvalidArgumentError(f"{op}: integer dtype {dt.name} needs both minval and maxval")
        u = _raw("uniform", s, D.float64, keys.next())
        lo, hi = operand(minval, op, dt), operand(maxval, op, dt)
        return M.cast(M.floor(u * M.cast(hi - lo, D.float64)), dt) + lo
    dt = _float(dt, op)
    u = _raw("uniform", s, dt, keys.next())
    lo = 0.0 if minval is None else minval
    hi = 1.0 if maxval is None else maxval
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and (lo, hi) == (0, 1):
        return u
    lo_t = operand(lo, op, dt)
    return u * (operand(hi, op, dt) - lo_t) + lo_t


def _normal(keys, shape, mean, stddev, dtype, op) -> Tensor:
    z = _raw("normal", dims_tuple(shape, op), _float(dtype, op), keys.next())
    return z * stddev + mean


def _truncated(keys, shape, mean, stddev, dtype, op) -> Tensor:
    """Normal draws re-drawn while beyond 2 standard deviations (TF's truncation)."""
    s, dt = dims_tuple(shape, op), _float(dtype, op)
    z = _raw("normal", s, dt, keys.next())
    for _ in range(_REJECTION_ROUNDS):
        z = M.where(M.greater(M.abs(z), 2.0), _raw("normal", s, dt, keys.next()), z)
    return M.clip_by_value(z, -2.0, 2.0) * stddev + mean


def _categorical(keys, logits, num_samples, dtype, op) -> Tensor:
    lg = operand(logits, op)
    if len(lg._h.shape) != 2:
        raise InvalidArgumentError(f"{op}: logits must be [batch, classes], got shape {tuple(lg._h.shape)}")
    b, c = lg._h.shape
    u = _raw("uniform", (b, int(num_samples), c), lg._dtype, keys.next())
    u = M.maximum(u, 1e-20 if lg._dtype is not D.float16 else 1e-4)
    return argmax(A.expand_dims(lg, 1) - M.log(-M.log(u)), axis=-1, output_type=D.as_dtype(dtype or D.int64))


def _host_max(t: Tensor, op: str) -> float:
    if getattr(t._h, "symbolic", False):
        raise InvalidArgumentError(
            f"{op}: the counts/rates must be known when the function is traced (their maximum sets the number of draws)"
        )
    vals = A._host_flat(t)
    return max(vals) if vals else 0.0


def _binomial(keys, shape, counts, probs, dtype, op) -> Tensor:
    """Sum of ``counts`` Bernoulli(probs) draws, broadcast to ``shape`` (cost O(max count))."""
    s = dims_tuple(shape, op)
    n = A.broadcast_to(M.cast(operand(counts, op), D.float32), s)
    p = A.broadcast_to(M.cast(operand(probs, op), D.float32), s)
    top = int(_host_max(n, op))
    out = A.zeros(s, D.float32)
    chunk = 256
    for start in range(0, top, chunk):
        k = min(chunk, top - start)
        u = _raw("uniform", (k,) + s, D.float32, keys.next())
        idx = A.reshape(A.range(start, start + k, dtype=D.float32), (k,) + (1,) * len(s))
        hit = M.logical_and(M.less(u, p), M.less(idx, n))
        out = out + reduce_sum(M.cast(hit, D.float32), 0)
    return M.cast(out, D.as_dtype(dtype))


def _poisson(keys, shape, lam, dtype, op) -> Tensor:
    """Counts of unit-rate arrivals before time lam: the number of partial sums of
    exponential draws below lam. Output shape is ``shape + lam.shape`` (TF's)."""
    s = dims_tuple(shape, op)
    rate = M.cast(operand(lam, op), D.float64)
    full = s + tuple(rate._h.shape)
    top = _host_max(rate, op)
    draws = int(top + 12.0 * top**0.5 + 24)
    count = A.zeros(full, D.float64)
    total = A.zeros(full, D.float64)
    chunk = 128
    for start in range(0, draws, chunk):
        k = min(chunk, draws - start)
        u = _raw("uniform", (k,) + full, D.float64, keys.next())
        gaps = -M.log(1.0 - u)
        cum = total + cumsum(gaps, axis=0)
        count = count + reduce_sum(M.cast(M.less(cum, rate), D.float64), 0)
        total = A.gather(cum, k - 1, axis=0)
    return M.cast(count, D.as_dtype(dtype))


def _gamma(keys, shape, alpha, beta, dtype, op) -> Tensor:
    """Marsaglia-Tsang with rejection rounds; alpha < 1 boosted by U^(1/alpha).
    Output shape is ``shape + broadcast(alpha, beta).shape`` (TF's)."""
    dt = _float(dtype, op)
    a = operand(alpha, op, dt)
    b = operand(1.0 if beta is None else beta, op, dt)
    full = dims_tuple(shape, op) + tuple(M.add(a, b * 0.0)._h.shape)
    a = A.broadcast_to(a, full)
    small = M.less(a, 1.0)
    d = M.where(small, a + 1.0, a) - 1.0 / 3.0
    c = M.rsqrt(9.0 * d)
    out = A.zeros(full, dt)
    done = M.less(A.zeros(full, dt), 0.0)
    for _ in range(_REJECTION_ROUNDS):
        x = _raw("normal", full, dt, keys.next())
        u = _raw("uniform", full, dt, keys.next())
        v = (1.0 + c * x) ** 3
        ok = M.logical_and(
            M.greater(v, 0.0),
            M.less(M.log(M.maximum(u, 1e-30)), 0.5 * x * x + d - d * v + d * M.log(M.maximum(v, 1e-30))),
        )
        take = M.logical_and(ok, M.logical_not(done))
        out = M.where(take, d * v, out)
        done = M.logical_or(done, ok)
    boost = M.pow(M.maximum(_raw("uniform", full, dt, keys.next()), 1e-30), 1.0 / a)
    return M.where(small, out * boost, out) / A.broadcast_to(b, full)


# -- stateless -------------------------------------------------------------------------


def stateless_uniform(shape, seed, minval=0, maxval=None, dtype=D.float32, name=None, alg="auto_select"):
    return _uniform(_Keys(_seed_key(seed, "stateless_uniform")), shape, minval, maxval, dtype, "stateless_uniform")


def stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype=D.float32, name=None, alg="auto_select"):
    return _normal(_Keys(_seed_key(seed, "stateless_normal")), shape, mean, stddev, dtype, "stateless_normal")


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype=D.float32, name=None, alg="auto_select"):
    return _truncated(
        _Keys(_seed_key(seed, "stateless_truncated_normal")), shape, mean, stddev, dtype, "stateless_truncated_normal"
    )


def stateless_categorical(logits, num_samples, seed, dtype=D.int64, name=None):
    return _categorical(
        _Keys(_seed_key(seed, "stateless_categorical")), logits, num_samples, dtype, "stateless_categorical"
    )


def stateless_binomial(shape, seed, counts, probs, output_dtype=D.int32, name=None):
    return _binomial(
        _Keys(_seed_key(seed, "stateless_binomial")), shape, counts, probs, output_dtype, "stateless_binomial"
    )


def stateless_poisson(shape, seed, lam, dtype=D.int32, name=None):
    return _poisson(_Keys(_seed_key(seed, "stateless_poisson")), shape, lam, dtype, "stateless_poisson")


def stateless_gamma(shape, seed, alpha, beta=None, dtype=D.float32, name=None):
    return _gamma(_Keys(_seed_key(seed, "stateless_gamma")), shape, alpha, beta, dtype, "stateless_gamma")


def stateless_split(seed, num=2, alg="auto_select") -> Tensor:
    """``tf.random.experimental.stateless_split``: ``num`` new seeds, shape [num, 2] int64."""
    key = _seed_key(seed, "stateless_split")
    return operand([list(_subkey(key, 1000 + i)) for i in range(int(num))], "stateless_split", D.int64)


def stateless_fold_in(seed, data, alg="auto_select") -> Tensor:
    """``tf.random.experimental.stateless_fold_in``: a new seed from a seed and an integer."""
    k0, k1 = _seed_key(seed, "stateless_fold_in")
    d = int(data) & 0xFFFFFFFFFFFFFFFF
    return operand(list(_mix_pair(k0 ^ (d & 0xFFFFFFFF), k1 ^ (d >> 32))), "stateless_fold_in", D.int64)


# -- Generator -------------------------------------------------------------------------


class Generator:
    """``tf.random.Generator``: a key and a counter; each call advances the counter, so
    a generator's stream is reproducible from its seed and independent of other random
    ops. ``state`` is an int64 Variable ``[key0, key1, counter]``, so it checkpoints."""

    def __init__(self, copy_from=None, state=None, alg=None):
        from ..tensor import Variable

        if copy_from is not None:
            state = copy_from.state.numpy().tolist() if hasattr(copy_from.state, "numpy") else copy_from.state
        if state is None:
            raise InvalidArgumentError(
                "Generator: give a state, or use Generator.from_seed / from_non_deterministic_state"
            )
        vals = [int(v) for v in (state.numpy().tolist() if hasattr(state, "numpy") else state)]
        self._state_var = Variable(vals, dtype=D.int64, trainable=False, name="generator_state")
        self._last = vals

    @classmethod
    def from_seed(cls, seed, alg=None) -> "Generator":
        s = int(seed) & 0xFFFFFFFFFFFFFFFF
        k = _mix_pair(s & 0xFFFFFFFF, s >> 32)
        return cls(state=[k[0], k[1], 0])

    @classmethod
    def from_non_deterministic_state(cls, alg=None) -> "Generator":
        return cls.from_seed(int.from_bytes(os.urandom(8), "little"))

    @classmethod
    def from_state(cls, state, alg=None) -> "Generator":
        return cls(state=state)

    @property
    def state(self):
        return self._state_var

    @property
    def algorithm(self) -> int:
        return 1

    def reset_from_seed(self, seed) -> None:
        self._state_var.assign(Generator.from_seed(seed).state.numpy().tolist())

    def _keys(self) -> _Keys:
        """Eagerly the state Variable is read and advanced. While tracing it is symbolic, so
        the last eager state is used: the graph's random nodes then draw fresh numbers on
        every call (their documented per-call keys), but the Variable does not advance."""
        from ..function.trace import executing_eagerly

        if executing_eagerly():
            k0, k1, c = (int(v) for v in self._state_var.numpy().tolist())
            self._state_var.assign([k0, k1, c + 1])
            self._last = [k0, k1, c + 1]
        else:
            k0, k1, c = self._last
            self._last = [k0, k1, c + 1]
        return _Keys(_subkey((k0, k1), c))

    def uniform(self, shape, minval=0, maxval=None, dtype=D.float32, name=None):
        return _uniform(self._keys(), shape, minval, maxval, dtype, "Generator.uniform")

    def uniform_full_int(self, shape, dtype=D.int64, name=None):
        dt = D.as_dtype(dtype)
        return _uniform(self._keys(), shape, dt.min, dt.max, dt, "Generator.uniform_full_int")

    def normal(self, shape, mean=0.0, stddev=1.0, dtype=D.float32, name=None):
        return _normal(self._keys(), shape, mean, stddev, dtype, "Generator.normal")

    def truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype=D.float32, name=None):
        return _truncated(self._keys(), shape, mean, stddev, dtype, "Generator.truncated_normal")

    def binomial(self, shape, counts, probs, dtype=D.int32, name=None):
        return _binomial(self._keys(), shape, counts, probs, dtype, "Generator.binomial")

    def poisson(self, shape, lam, dtype=D.int32, name=None):
        return _poisson(self._keys(), shape, lam, dtype, "Generator.poisson")

    def gamma(self, shape, alpha, beta=None, dtype=D.float32, name=None):
        return _gamma(self._keys(), shape, alpha, beta, dtype, "Generator.gamma")

    def make_seeds(self, count=1) -> Tensor:
        """Seeds for stateless ops, shape [2, count] int64 (TF's layout)."""
        keys = self._keys()
        pairs = [keys.next() for _ in range(int(count))]
        return operand([[p[0] for p in pairs], [p[1] for p in pairs]], "make_seeds", D.int64)

    def split(self, count=1) -> list:
        """``count`` new generators with independent streams; advances this one."""
        keys = self._keys()
        return [Generator(state=list(keys.next()) + [0]) for _ in range(int(count))]


_global = {"gen": None}


def get_global_generator() -> Generator:
    if _global["gen"] is None:
        from .random import get_global_seed

        seed = get_global_seed()
        _global["gen"] = Generator.from_seed(seed) if seed is not None else Generator.from_non_deterministic_state()
    return _global["gen"]


def set_global_generator(generator: Generator) -> None:
    _global["gen"] = generator


def gamma(shape, alpha, beta=None, dtype=D.float32, seed=None, name=None):
    """``tf.random.gamma``: shape ``shape + broadcast(alpha, beta).shape``."""
    from .random import _key

    return _gamma(_Keys(_key(seed)), shape, alpha, beta, dtype, "random.gamma")


def poisson(shape, lam, dtype=D.float32, seed=None, name=None):
    """``tf.random.poisson``: shape ``shape + lam.shape``."""
    from .random import _key

    return _poisson(_Keys(_key(seed)), shape, lam, dtype, "random.poisson")


__all__ = [
    "Generator",
    "gamma",
    "get_global_generator",
    "poisson",
    "set_global_generator",
    "stateless_binomial",
    "stateless_categorical",
    "stateless_fold_in",
    "stateless_gamma",
    "stateless_normal",
    "stateless_poisson",
    "stateless_split",
    "stateless_truncated_normal",
    "stateless_uniform",
]

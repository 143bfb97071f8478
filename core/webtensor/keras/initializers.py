"""``tf.keras.initializers``: the weight initializers of Keras 3, with its configs.

Randomness comes from ``tf.random`` (counter-based), so ``tf.random.set_seed``
makes model construction reproducible on every backend.
"""

from __future__ import annotations

import math

from .. import dtypes as D
from .. import random as R
from ..ops import array as A
from ..ops import linalg as LA
from ..ops import math as M
from ..ops.reduce import reduce_sum
from ..shape import prod
from . import backend
from .saving import deserialize_keras_object, lookup, register, serialize_keras_object


class Initializer:
    """``init(shape, dtype) -> Tensor``; subclasses override ``__call__`` and ``get_config``."""

    def __call__(self, shape, dtype=None):
        raise TypeError(f"{type(self).__name__} must implement __call__(shape, dtype)")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return type(self).from_config(self.get_config())


def _dtype(dtype):
    return D.as_dtype(dtype) if dtype is not None else backend.float_dtype()


@register("initializers", "zeros")
class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return A.zeros(shape, _dtype(dtype))


@register("initializers", "ones")
class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return A.ones(shape, _dtype(dtype))


@register("initializers", "constant")
class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return A.fill(tuple(shape), M.cast(self.value, _dtype(dtype)))

    def get_config(self):
        return {"value": serialize_keras_object(self.value)}

    @classmethod
    def from_config(cls, config):
        return cls(deserialize_keras_object(config["value"]))


@register("initializers", "identity")
class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2D shape, got {tuple(shape)}")
        return A.eye(shape[0], shape[1], dtype=_dtype(dtype)) * self.gain

    def get_config(self):
        return {"gain": self.gain}


class RandomInitializer(Initializer):
    def __init__(self, seed=None):
        if seed is not None and not isinstance(seed, int):
            raise ValueError(f"`seed` must be an int or None, got {seed!r}")
        self.seed = seed

    def get_config(self):
        return {"seed": self.seed}


@register("initializers", "random_normal", "normal")
class RandomNormal(RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return R.normal(shape, self.mean, self.stddev, _dtype(dtype), self.seed)

    def get_config(self):
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


@register("initializers", "truncated_normal")
class TruncatedNormal(RandomNormal):
    def __call__(self, shape, dtype=None):
        return R.truncated_normal(shape, self.mean, self.stddev, _dtype(dtype), self.seed)


@register("initializers", "random_uniform", "uniform")
class RandomUniform(RandomInitializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        return R.uniform(shape, self.minval, self.maxval, _dtype(dtype), self.seed)

    def get_config(self):
        return {"seed": self.seed, "minval": self.minval, "maxval": self.maxval}


def compute_fans(shape, input_axes=None, output_axes=None) -> tuple:
    """(fan_in, fan_out) as Keras: conv kernels count the receptive field."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return prod(shape[a] for a in input_axes), prod(shape[a] for a in output_axes)
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    field = prod(shape[:-2])
    return shape[-2] * field, shape[-1] * field


@register("initializers", "variance_scaling")
class VarianceScaling(RandomInitializer):
    def __init__(
        self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None, input_axes=None, output_axes=None
    ):
        super().__init__(seed)
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode!r}; expected fan_in, fan_out or fan_avg")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        dt = _dtype(dtype)
        if self.distribution == "truncated_normal":
            return R.truncated_normal(shape, 0.0, math.sqrt(scale) / 0.87962566103423978, dt, self.seed)
        if self.distribution == "untruncated_normal":
            return R.normal(shape, 0.0, math.sqrt(scale), dt, self.seed)
        limit = math.sqrt(3.0 * scale)
        return R.uniform(shape, -limit, limit, dt, self.seed)

    def get_config(self):
        return {
            "seed": self.seed,
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


def _preset(name, scale, mode, distribution, *aliases):
    """VarianceScaling presets (GlorotUniform, HeNormal, ...) with Keras's short configs."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}

    cls = type(
        name,
        (VarianceScaling,),
        {
            "__init__": __init__,
            "get_config": get_config,
            "__doc__": f"VarianceScaling({scale}, {mode!r}, {distribution!r}).",
        },
    )
    cls.__module__ = __name__
    return register("initializers", *aliases)(cls)


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform", "glorot_uniform")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal", "glorot_normal")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform", "he_uniform")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal", "he_normal")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform", "lecun_uniform")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal", "lecun_normal")


@register("initializers", "orthogonal")
class Orthogonal(RandomInitializer):
    """A random orthogonal matrix (QR of a normal matrix with R's diagonal made positive)."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) < 2:
            raise ValueError(f"The tensor to initialize must be at least two-dimensional, got {tuple(shape)}")
        rows, cols = prod(shape[:-1]), shape[-1]
        dt = _dtype(dtype)
        a = R.normal(
            (max(rows, cols), min(rows, cols)), dtype=D.float64 if dt is D.float64 else D.float32, seed=self.seed
        )
        q = _gram_schmidt(a)
        if rows < cols:
            q = A.transpose(q)
        return M.cast(A.reshape(q * self.gain, tuple(shape)), dt)

    def get_config(self):
        return {"seed": self.seed, "gain": self.gain}


def _gram_schmidt(a):
    """Q of a tall matrix's thin QR (R with positive diagonal), by Gram-Schmidt twice per
    column for numerical orthogonality; built from matmuls so it runs on every backend."""
    n = a.shape[1]
    cols = []
    for j in range(n):
        v = a[:, j : j + 1]
        for _ in range(2):
            if cols:
                q = A.concat(cols, 1)
                v = v - LA.matmul(q, LA.matmul(q, v, transpose_a=True))
        cols.append(v * M.rsqrt(reduce_sum(M.square(v))))
    return A.concat(cols, 1)


def serialize(initializer):
    return serialize_keras_object(initializer)


def deserialize(config, custom_objects=None):
    return deserialize_keras_object(config, custom_objects, kind="initializers")


def get(identifier):
    """A name ("he_normal"), a config dict, an Initializer or a callable -> an initializer."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        obj = lookup("initializers", identifier, "initializer")
        return obj() if isinstance(obj, type) else obj
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier() if isinstance(identifier, type) else identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")

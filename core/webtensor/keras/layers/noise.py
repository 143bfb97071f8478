"""Regularization layers that act only while training: GaussianNoise, GaussianDropout,
SpatialDropout1D/2D/3D, and ActivityRegularization (a loss on the activations)."""

from __future__ import annotations

import math

from ... import nn
from ...ops import random as RNG
from .. import regularizers
from ..saving import register
from .layer import InputSpec, Layer


def _rate(rate, layer: str) -> float:
    if not 0 <= rate <= 1:
        raise ValueError(
            f"{layer}: Invalid value received for argument `rate`. Expected a float value between "
            f"0 and 1. Received: rate={rate}"
        )
    return rate


class _Noise(Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed, self.supports_masking, self.built = seed, True, True

    def compute_output_shape(self, input_shape):
        return input_shape


@register("layers")
class GaussianNoise(_Noise):
    """Adds ``N(0, stddev)`` noise while training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if not 0 <= stddev <= 1:
            raise ValueError(
                f"GaussianNoise: Invalid value received for argument `stddev`. Expected a float value "
                f"between 0 and 1. Received: stddev={stddev}"
            )
        self.stddev = stddev

    def call(self, inputs, training=False):
        if training and self.stddev > 0:
            return inputs + RNG.normal(tuple(inputs.shape), 0.0, self.stddev, inputs.dtype, seed=self.seed)
        return inputs

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


@register("layers")
class GaussianDropout(_Noise):
    """Multiplies by ``N(1, sqrt(rate / (1 - rate)))`` noise while training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _rate(rate, "GaussianDropout")

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            std = math.sqrt(self.rate / (1.0 - self.rate))
            return inputs * RNG.normal(tuple(inputs.shape), 1.0, std, inputs.dtype, seed=self.seed)
        return inputs

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class _SpatialDropout(_Noise):
    """Dropout of whole feature maps: the mask is shared over every axis but batch and channels."""

    ndim = 3

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(seed=seed, name=name, dtype=dtype)
        self.rate = _rate(rate, type(self).__name__)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(
                f"{type(self).__name__}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}"
            )
        self.data_format = data_format or "channels_last"
        self.input_spec = InputSpec(ndim=self.ndim)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        s = tuple(inputs.shape)
        if self.data_format == "channels_last":
            noise = (s[0],) + (1,) * (len(s) - 2) + (s[-1],)
        else:
            noise = s[:2] + (1,) * (len(s) - 2)
        return nn.dropout(inputs, self.rate, noise_shape=noise, seed=self.seed)

    def get_config(self):
        return {
            "rate": self.rate,
            "seed": self.seed,
            "name": self.name,
            "dtype": self.dtype.name,
            "data_format": self.data_format,
        }  # Keras 3's own keys (no trainable, a dtype name)


@register("layers")
class SpatialDropout1D(_SpatialDropout):
    ndim = 3

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, None, seed, name, dtype)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        return config


@register("layers")
class SpatialDropout2D(_SpatialDropout):
    ndim = 4


@register("layers")
class SpatialDropout3D(_SpatialDropout):
    ndim = 5


@register("layers")
class ActivityRegularization(Layer):
    """The identity, adding ``l1 * sum|x| + l2 * sum x^2`` (over the batch size) to the losses."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2, self.supports_masking, self.built = l1, l2, True, True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}

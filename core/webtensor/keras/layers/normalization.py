"""BatchNormalization (batch statistics while training, moving averages at inference) and
LayerNormalization."""

from __future__ import annotations

from ... import nn
from ...ops import array as A
from ...ops import math as M
from ...ops.reduce import reduce_sum
from .. import constraints, initializers, regularizers
from ..saving import register, serialize_keras_object as _ser
from .layer import InputSpec, Layer


def _axes(axis, rank):
    axes = [axis] if isinstance(axis, int) else list(axis)
    return sorted(a % rank for a in axes)


def _param_shape(shape, axes):
    return tuple(shape[a] for a in axes)


def _broadcastable(v, shape, axes):
    """Reshape a parameter of the normalized axes so it broadcasts against the input."""
    if axes == [len(shape) - 1]:
        return v
    return A.reshape(v, tuple(shape[i] if i in axes else 1 for i in range(len(shape))))


@register("layers")
class BatchNormalization(Layer):
    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        synchronized=False,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if renorm:
            raise ValueError("BatchNormalization(renorm=True) is not supported")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.synchronized = synchronized
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        self._axes = _axes(self.axis, rank)
        shape = _param_shape(input_shape, self._axes)
        self.gamma = (
            self.add_weight(
                name="gamma",
                shape=shape,
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
            if self.scale
            else None
        )
        self.beta = (
            self.add_weight(
                name="beta",
                shape=shape,
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )
            if self.center
            else None
        )
        self.moving_mean = self.add_weight(
            name="moving_mean", shape=shape, initializer=self.moving_mean_initializer, trainable=False
        )
        self.moving_variance = self.add_weight(
            name="moving_variance", shape=shape, initializer=self.moving_variance_initializer, trainable=False
        )
        self._reduction_axes = [i for i in range(rank) if i not in self._axes]
        self.input_spec = InputSpec(ndim=rank, axes={a: input_shape[a] for a in self._axes})
        self.built = True

    def call(self, inputs, training=None, mask=None):
        shape = tuple(inputs.shape)
        if training and self.trainable:
            mean, variance = self._moments(inputs, mask)
            m = self.momentum
            self.moving_mean.assign(A.stop_gradient(self.moving_mean * m + mean * (1.0 - m)))
            self.moving_variance.assign(A.stop_gradient(self.moving_variance * m + variance * (1.0 - m)))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        b = lambda v: None if v is None else _broadcastable(v, shape, self._axes)  # noqa: E731
        return nn.batch_normalization(inputs, b(mean), b(variance), b(self.beta), b(self.gamma), self.epsilon)

    def _moments(self, x, mask):
        axes = self._reduction_axes
        if mask is None:
            return nn.moments(x, axes)
        w = A.expand_dims(M.cast(mask, x.dtype), -1)
        count = reduce_sum(A.broadcast_to(w, tuple(x.shape)), axes, keepdims=True) + 1e-7
        mean = reduce_sum(x * w, axes, keepdims=True) / count
        var = reduce_sum(M.square((x - mean) * w), axes, keepdims=True) / count
        return A.squeeze(mean, axes), A.squeeze(var, axes)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": _ser(self.beta_initializer),
            "gamma_initializer": _ser(self.gamma_initializer),
            "moving_mean_initializer": _ser(self.moving_mean_initializer),
            "moving_variance_initializer": _ser(self.moving_variance_initializer),
            "beta_regularizer": _ser(self.beta_regularizer),
            "gamma_regularizer": _ser(self.gamma_regularizer),
            "beta_constraint": _ser(self.beta_constraint),
            "gamma_constraint": _ser(self.gamma_constraint),
            "synchronized": self.synchronized,
            "renorm": False,
            "renorm_clipping": None,
            "renorm_momentum": 0.99,
        }


@register("layers")
class LayerNormalization(Layer):
    """Normalize each example over ``axis``: ``(x - mean) / sqrt(var + epsilon) * gamma + beta``."""

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        rms_scaling=False,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.axis, self.epsilon = axis, float(epsilon)
        self.center, self.scale, self.rms_scaling = center, scale, rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        self._axes = _axes(self.axis, len(input_shape))
        if isinstance(self.axis, int):
            self.axis = [self.axis]  # Keras keeps a list once built
        shape = _param_shape(input_shape, self._axes)
        self.gamma = (
            self.add_weight(
                name="gamma",
                shape=shape,
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
            if self.scale or self.rms_scaling
            else None
        )
        self.beta = (
            self.add_weight(
                name="beta",
                shape=shape,
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )
            if self.center and not self.rms_scaling
            else None
        )
        self.built = True

    def call(self, inputs):
        shape = tuple(inputs.shape)
        gamma = None if self.gamma is None else _broadcastable(self.gamma, shape, self._axes)
        beta = None if self.beta is None else _broadcastable(self.beta, shape, self._axes)
        mean, variance = nn.moments(inputs, self._axes, keepdims=True)
        if self.rms_scaling:
            out = inputs * M.rsqrt(variance + self.epsilon)
            return out if gamma is None else out * gamma
        return nn.batch_normalization(inputs, mean, variance, beta, gamma, self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": _ser(self.beta_initializer),
            "gamma_initializer": _ser(self.gamma_initializer),
            "beta_regularizer": _ser(self.beta_regularizer),
            "gamma_regularizer": _ser(self.gamma_regularizer),
            "beta_constraint": _ser(self.beta_constraint),
            "gamma_constraint": _ser(self.gamma_constraint),
        }

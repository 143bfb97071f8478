"""``GroupNormalization`` (statistics per sample over groups of channels) and ``UnitNormalization``
(each vector scaled to unit L2 norm), Keras 3's formulas."""

from __future__ import annotations

from ... import nn
from ...ops import array as A
from ...ops import math as M
from ...ops.reduce import reduce_sum
from .. import constraints, initializers, regularizers
from ..saving import register, serialize_keras_object as _ser
from .layer import InputSpec, Layer


@register("layers")
class GroupNormalization(Layer):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` with mean/var over each group of
    ``channels / groups`` channels and all other non-batch axes; ``groups=-1`` is instance norm.
    The arithmetic is tf.nn.moments + tf.nn.batch_normalization on the grouped view, the same
    two helpers Batch/LayerNormalization use."""

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        if not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(
                "Received an invalid value for argument `groups`, expected a positive integer (or "
                f"`-1` for instance normalization). Received: groups={groups}"
            )
        super().__init__(**kwargs)
        self.groups, self.axis, self.epsilon, self.center, self.scale = groups, axis, epsilon, center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(
                f"Axis {self.axis} of input tensor should have a defined dimension but the layer "
                f"received an input with shape {input_shape}."
            )
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number of channels ({dim}).")
        if dim % self.groups:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the number of channels ({dim}).")
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        self.gamma = (
            self.add_weight(
                shape=(dim,),
                name="gamma",
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
            if self.scale
            else None
        )
        self.beta = (
            self.add_weight(
                shape=(dim,),
                name="beta",
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )
            if self.center
            else None
        )

    def call(self, inputs):
        shape = tuple(inputs.shape)
        rank = len(shape)
        axis = self.axis % rank
        c = shape[axis]
        grouped = shape[:axis] + (self.groups, c // self.groups) + shape[axis + 1 :]
        x = A.reshape(inputs, grouped)
        axes = [i for i in range(1, rank + 1) if i != axis]
        mean, var = nn.moments(x, axes, keepdims=True)
        bshape = [1] * (rank + 1)
        bshape[axis], bshape[axis + 1] = self.groups, c // self.groups
        gamma = None if self.gamma is None else A.reshape(self.gamma, bshape)
        beta = None if self.beta is None else A.reshape(self.beta, bshape)
        return A.reshape(nn.batch_normalization(x, mean, var, beta, gamma, self.epsilon), shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": _ser(self.beta_initializer),
            "gamma_initializer": _ser(self.gamma_initializer),
            "beta_regularizer": _ser(self.beta_regularizer),
            "gamma_regularizer": _ser(self.gamma_regularizer),
            "beta_constraint": _ser(self.beta_constraint),
            "gamma_constraint": _ser(self.gamma_constraint),
        }


@register("layers")
class UnitNormalization(Layer):
    """``x * min(rsqrt(sum(x^2, axis)), 1e12)``: unit L2 norm along ``axis``."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(
                f"Invalid value for `axis` argument: expected an int or a list/tuple of ints. Received: axis={axis}"
            )
        self.supports_masking, self.built = True, True

    def call(self, inputs):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        inv = 1.0 / M.sqrt(reduce_sum(M.square(inputs), axis=axes, keepdims=True))
        return inputs * M.minimum(inv, 1e12)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}

"""Core layers: Dense, Activation, Flatten, Reshape, Permute, Dropout, Embedding, Identity."""

from __future__ import annotations

from ... import nn
from ...ops import array as A
from ...ops import linalg as LA
from ...ops import math as M
from ...ops.nn import bias_activation
from ...shape import prod
from ...composite import CompositeTensor
from ...ragged import map_flat_values
from ...ragged.tensor import RaggedTensor
from .. import activations, constraints, initializers, regularizers
from ..saving import register, serialize_keras_object
from .layer import InputSpec, Layer
from .ragged_support import sparse_matmul


def _ser(obj):
    return serialize_keras_object(obj)


@register("layers")
class Dense(Layer):
    """``activation(inputs @ kernel + bias)`` over the last axis."""

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        quantization_config=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if (
            type(units).__module__ == "numpy"
            and getattr(units, "dtype", None) is not None
            and units.dtype.kind in "iu"
            and units.ndim == 0
        ):
            units = int(units)  # np.int64(3) is an integer to Keras too
        if not isinstance(units, int) or units <= 0:
            raise ValueError(
                f"Received an invalid value for `units`, expected a positive integer. Received: units={units}"
            )
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        d = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(d, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = (
            self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
            if self.use_bias
            else None
        )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: d})
        self.built = True

    def call(self, inputs, training=None):
        if isinstance(inputs, CompositeTensor):  # tf.keras: sparse @ kernel; ragged maps its flat values
            if isinstance(inputs, RaggedTensor):
                return map_flat_values(self.call, inputs)
            x = sparse_matmul(inputs, self.kernel, f"Dense '{self.name}'")
        else:
            x = LA.matmul(inputs, self.kernel)
        if self.bias is not None:
            return bias_activation(x, self.bias, activations.bias_epilogue(self.activation))
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _ser(self.kernel_initializer),
            "bias_initializer": _ser(self.bias_initializer),
            "kernel_regularizer": _ser(self.kernel_regularizer),
            "bias_regularizer": _ser(self.bias_regularizer),
            "kernel_constraint": _ser(self.kernel_constraint),
            "bias_constraint": _ser(self.bias_constraint),
            "quantization_config": None,
        }


@register("layers")
class Activation(Layer):
    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.built = True  # no weights: built at init, as Keras
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs):
        if isinstance(inputs, RaggedTensor):  # elementwise: the flat values, as TF's dispatch
            return map_flat_values(self.activation, inputs)
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


@register("layers")
class Identity(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True  # no weights: built at init, as Keras
        self.supports_masking = True

    def call(self, inputs):
        return inputs


@register("layers")
class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1*d2*...)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        s = tuple(inputs.shape)
        return A.reshape(inputs, (s[0], prod(s[1:])) if s else (1,))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else prod(rest))

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last"}


@register("layers")
class Reshape(Layer):
    """Reshape everything but the batch dimension to ``target_shape`` (one -1 allowed)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.built = True  # no weights: built at init, as Keras
        self.target_shape = tuple(target_shape)

    def call(self, inputs):
        return A.reshape(inputs, (inputs.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape):
        shape = list(self.target_shape)
        if -1 in shape:
            known = prod(d for d in shape if d != -1)
            rest = input_shape[1:]
            shape[shape.index(-1)] = None if None in rest else prod(rest) // known
        return (input_shape[0],) + tuple(shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


@register("layers")
class Permute(Layer):
    """Permute the non-batch axes; ``dims`` counts from 1."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                f"Invalid permutation argument `dims` for Permute Layer. The set of indices in "
                f"`dims` must be consecutive and start from 1. Received dims={dims}"
            )
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return A.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


@register("layers")
class Dropout(Layer):
    """Zero inputs with probability ``rate`` while training; scale the rest by 1/(1-rate)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.built = True  # no weights: built at init, as Keras
        if not 0 <= rate <= 1:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value between 0 "
                f"and 1. Received: rate={rate}"
            )
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed
        self.supports_masking = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if isinstance(inputs, RaggedTensor) and self.noise_shape is None:
            return map_flat_values(lambda v: self.call(v, training), inputs)
        if self.rate == 1:
            return M.zero_fill(inputs)
        return nn.dropout(inputs, self.rate, noise_shape=self.noise_shape, seed=self.seed)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": list(self.noise_shape) if self.noise_shape is not None else None,
        }


@register("layers")
class Embedding(Layer):
    """Integer indices -> rows of an (input_dim, output_dim) table."""

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        input_length=None,
        quantization_config=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        if self.input_dim <= 0 or self.output_dim <= 0:
            raise ValueError(
                "Both `input_dim` and `output_dim` should be positive, Received "
                f"input_dim = {input_dim} and output_dim = {output_dim}"
            )
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self._initial_weights = weights
        self.autocast = False

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
        self.built = True

    def call(self, inputs):
        idx = inputs if inputs.dtype.is_integer else M.cast(inputs, "int32")
        return A.gather(self.embeddings, idx)

    def compute_mask(self, inputs, previous_mask=None):
        if isinstance(inputs, CompositeTensor):
            return None  # a ragged batch carries its row lengths: no padding to mask
        return M.not_equal(inputs, 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": _ser(self.embeddings_initializer),
            "embeddings_regularizer": _ser(self.embeddings_regularizer),
            "activity_regularizer": _ser(self.activity_regularizer),
            "embeddings_constraint": _ser(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }


def _channels_last(data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"Only data_format='channels_last' is supported, got {data_format!r}")

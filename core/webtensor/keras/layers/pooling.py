"""Pooling: Max/AveragePooling1D/2D and the global poolings (channels_last)."""

from __future__ import annotations

from ... import nn
from ...ops.array import expand_dims
from ...ops.math import cast
from ...ops.reduce import reduce_max, reduce_mean, reduce_sum
from ..saving import register
from .conv import _tuple, conv_output_length
from .core import _channels_last
from .layer import InputSpec, Layer


class BasePooling(Layer):
    rank = 2
    kind = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.built = True  # no weights: built at init, as Keras
        _channels_last(data_format)
        r = self.rank
        self.pool_size = _tuple(pool_size, r, "pool_size")
        self.strides = _tuple(strides, r, "strides") if strides is not None else self.pool_size
        self.padding = padding.lower()
        if self.padding not in ("valid", "same"):
            raise ValueError(f"The `padding` argument must be 'valid' or 'same'. Received: padding={padding}")
        self.input_spec = InputSpec(ndim=r + 2)

    def call(self, inputs):
        fn = {
            ("max", 1): nn.max_pool1d,
            ("max", 2): nn.max_pool2d,
            ("avg", 1): nn.avg_pool1d,
            ("avg", 2): nn.avg_pool2d,
        }[(self.kind, self.rank)]
        size = self.pool_size[0] if self.rank == 1 else self.pool_size
        strides = self.strides[0] if self.rank == 1 else self.strides
        return fn(inputs, size, strides, self.padding.upper())

    def compute_output_shape(self, input_shape):
        spatial = tuple(
            conv_output_length(n, k, self.padding, s)
            for n, k, s in zip(input_shape[1:-1], self.pool_size, self.strides)
        )
        return (input_shape[0],) + spatial + (input_shape[-1],)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "padding": self.padding,
            "strides": list(self.strides),
            "data_format": "channels_last",
        }


@register("layers", "MaxPool1D")
class MaxPooling1D(BasePooling):
    rank, kind = 1, "max"


@register("layers", "MaxPool2D")
class MaxPooling2D(BasePooling):
    rank, kind = 2, "max"


@register("layers", "AvgPool1D")
class AveragePooling1D(BasePooling):
    rank, kind = 1, "avg"


@register("layers", "AvgPool2D")
class AveragePooling2D(BasePooling):
    rank, kind = 2, "avg"


class BaseGlobalPooling(Layer):
    rank = 2
    reduce = staticmethod(reduce_mean)

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.built = True  # no weights: built at init, as Keras
        _channels_last(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        return self.reduce(inputs, list(range(1, self.rank + 1)), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0],) + (1,) * self.rank + (input_shape[-1],)
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last", "keepdims": self.keepdims}


@register("layers", "GlobalAvgPool1D")
class GlobalAveragePooling1D(BaseGlobalPooling):
    rank, reduce = 1, staticmethod(reduce_mean)

    def call(self, inputs, mask=None):
        """Keras 3: with a mask (steps), the mean over the unmasked steps only."""
        if mask is None:
            return super().call(inputs)
        m = expand_dims(cast(mask, inputs.dtype), 2)
        return reduce_sum(inputs * m, 1, keepdims=self.keepdims) / reduce_sum(m, 1, keepdims=self.keepdims)


@register("layers", "GlobalAvgPool2D")
class GlobalAveragePooling2D(BaseGlobalPooling):
    rank, reduce = 2, staticmethod(reduce_mean)


@register("layers", "GlobalMaxPool1D")
class GlobalMaxPooling1D(BaseGlobalPooling):
    rank, reduce = 1, staticmethod(reduce_max)


@register("layers", "GlobalMaxPool2D")
class GlobalMaxPooling2D(BaseGlobalPooling):
    rank, reduce = 2, staticmethod(reduce_max)

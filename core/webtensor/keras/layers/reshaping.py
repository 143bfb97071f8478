"""Spatial reshaping: ZeroPadding1D/2D, UpSampling1D/2D (nearest), Cropping2D, RepeatVector."""

from __future__ import annotations

from ...ops import array as A
from ..saving import register
from .core import _channels_last
from .layer import InputSpec, Layer


def _pairs(padding, rank, name):
    if isinstance(padding, int):
        return ((padding, padding),) * rank
    padding = list(padding)
    if len(padding) != rank:
        raise ValueError(f"`{name}` should have {rank} elements. Received: {name}={padding}")
    return tuple((p, p) if isinstance(p, int) else tuple(int(v) for v in p) for p in padding)


@register("layers")
class ZeroPadding1D(Layer):
    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding if isinstance(padding, int) else [padding], 1, "padding")[0]
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        return A.pad(inputs, [(0, 0), self.padding, (0, 0)])

    def compute_output_shape(self, s):
        return (s[0], None if s[1] is None else s[1] + sum(self.padding), s[2])

    def get_config(self):
        return {**super().get_config(), "padding": list(self.padding)}


@register("layers")
class ZeroPadding2D(Layer):
    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.padding = _pairs(padding, 2, "padding")
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs):
        return A.pad(inputs, [(0, 0), self.padding[0], self.padding[1], (0, 0)])

    def compute_output_shape(self, s):
        return (s[0],) + tuple(None if d is None else d + sum(p) for d, p in zip(s[1:3], self.padding)) + (s[3],)

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding], "data_format": "channels_last"}


@register("layers")
class Cropping2D(Layer):
    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.cropping = _pairs(cropping, 2, "cropping")
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs):
        (top, bottom), (left, right) = self.cropping
        h, w = inputs.shape[1], inputs.shape[2]
        return inputs[:, top : h - bottom, left : w - right, :]

    def compute_output_shape(self, s):
        return (s[0],) + tuple(None if d is None else d - sum(p) for d, p in zip(s[1:3], self.cropping)) + (s[3],)

    def get_config(self):
        return {**super().get_config(), "cropping": [list(p) for p in self.cropping], "data_format": "channels_last"}


@register("layers")
class UpSampling1D(Layer):
    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        return A.repeat(inputs, self.size, axis=1)

    def compute_output_shape(self, s):
        return (s[0], None if s[1] is None else s[1] * self.size, s[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


@register("layers")
class UpSampling2D(Layer):
    """Repeat rows and columns (nearest-neighbour upsampling)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.size = (size, size) if isinstance(size, int) else tuple(int(v) for v in size)
        if interpolation != "nearest":
            raise ValueError(f"UpSampling2D: only interpolation='nearest' is supported, got {interpolation!r}")
        self.interpolation = interpolation
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs):
        return A.repeat(A.repeat(inputs, self.size[0], axis=1), self.size[1], axis=2)

    def compute_output_shape(self, s):
        return (s[0],) + tuple(None if d is None else d * k for d, k in zip(s[1:3], self.size)) + (s[3],)

    def get_config(self):
        return {
            **super().get_config(),
            "size": list(self.size),
            "data_format": "channels_last",
            "interpolation": self.interpolation,
        }


@register("layers")
class RepeatVector(Layer):
    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = int(n)
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        return A.repeat(A.expand_dims(inputs, 1), self.n, axis=1)

    def compute_output_shape(self, s):
        return (s[0], self.n, s[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}

"""Preprocessing layers that are plain arithmetic: Rescaling."""
from __future__ import annotations

from ...ops import math as M
from ..saving import register
from .layer import Layer


@register("layers")
class Rescaling(Layer):
    """``inputs * scale + offset`` (e.g. ``Rescaling(1/255)`` for pixel values)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset
        self.supports_masking = True

    def call(self, inputs):
        x = inputs if inputs.dtype.kind == "f" else M.cast(inputs, self.dtype)
        return x * self.scale + self.offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}

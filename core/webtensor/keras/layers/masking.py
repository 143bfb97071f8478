"""``Masking``: marks the time steps whose features all equal ``mask_value`` as padding, so the
layers after it (RNNs, GlobalAveragePooling1D, attention) skip them, as Keras 3's."""

from __future__ import annotations

from ...ops import math as M
from ...ops.reduce import reduce_any
from ..saving import register
from .layer import Layer


@register("layers")
class Masking(Layer):
    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.built = True  # no weights: built at init, as Keras
        self.supports_masking = True
        self.mask_value = mask_value

    def _keep(self, inputs, keepdims: bool):
        return reduce_any(M.not_equal(inputs, self.mask_value), -1, keepdims=keepdims)

    def call(self, inputs):
        """Masked steps are also zeroed (Keras 3 multiplies by the mask)."""
        return inputs * M.cast(self._keep(inputs, True), inputs.dtype)

    def compute_mask(self, inputs, previous_mask=None):
        return self._keep(inputs, False)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}

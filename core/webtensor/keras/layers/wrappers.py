"""``TimeDistributed``: apply one layer to every time step of ``(batch, time, ...)``."""

from __future__ import annotations

from ...ops import array as A
from ..saving import deserialize_keras_object, register, serialize_keras_object
from .layer import Layer


@register("layers")
class TimeDistributed(Layer):
    """``layer`` on ``inputs[:, t]`` for each ``t``, stacked on axis 1. Step by step as Keras 3
    does with a static time axis, so layers with batch statistics see one step at a time."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. Received: {layer}"
            )
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                f"`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                f"dimensions, received: {input_shape}"
            )
        if not self.layer.built:
            self.layer.build((input_shape[0],) + tuple(input_shape[2:]))

    def call(self, inputs, training=None, mask=None):
        steps = inputs.shape[1]
        if steps is None or steps == 0:
            raise ValueError(
                f"TimeDistributed: the time axis must be known and non-empty, got shape {list(inputs.shape)}"
            )
        outs = []
        for t in range(steps):
            kwargs = {} if training is None else {"training": training}
            if mask is not None and "mask" in _call_params(self.layer):
                kwargs["mask"] = mask[:, t]
            outs.append(self.layer(inputs[:, t], **kwargs))
        return A.stack(outs, axis=1)

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape((input_shape[0],) + tuple(input_shape[2:]))
        return (child[0], input_shape[1]) + tuple(child[1:])

    def get_config(self):
        return {**super().get_config(), "layer": serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize_keras_object(config["layer"], custom_objects)
        return cls(**config)


def _call_params(layer) -> set:
    import inspect

    return set(inspect.signature(layer.call).parameters)

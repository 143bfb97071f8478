"""``Lambda``: wrap a Python function as a layer. Its config carries the function: a named,
registered function by name; a ``lambda`` only as code, which needs ``safe_mode=False`` both
to save and to load (Keras 3's rule: loading code is running code)."""

from __future__ import annotations

import inspect

from ... import nest
from .. import saving
from ..saving import register
from .layer import Layer, _map_shapes, _shape_of


@register("layers")
class Lambda(Layer):
    """``function(inputs, **arguments)``; ``mask``/``training`` are passed if it takes them."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: `function` must be callable, got {type(function).__name__}")
        self.function, self.arguments = function, dict(arguments or {})
        self._output_shape, self.mask = output_shape, mask
        self.supports_masking = mask is not None
        params = _params(function)
        self._takes_mask, self._takes_training = "mask" in params, "training" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._takes_mask:
            kwargs["mask"] = mask
        if self._takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_spec(self, *args, **kwargs):
        """From ``output_shape`` when given (a callable, or the shape without the batch axis),
        else by running the function (the base layer's probe)."""
        if self._output_shape is None:
            return super().compute_output_spec(*args, **kwargs)
        from .input_layer import KerasTensor

        input_shape = nest.map_structure(_shape_of, args[0])
        if callable(self._output_shape):
            shape = self._output_shape(input_shape)
        else:
            first = nest.flatten(args[0])[0]
            shape = (first.shape[0],) + tuple(self._output_shape)
        return _map_shapes(lambda s: KerasTensor(s, self.dtype), shape)

    def get_config(self):
        config = {**super().get_config(), "function": _fn_config(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = (
                _fn_config(self._output_shape) if callable(self._output_shape) else list(self._output_shape)
            )
        if self.mask is not None:
            config["mask"] = _fn_config(self.mask) if callable(self.mask) else self.mask
        config["arguments"] = saving.serialize_keras_object(self.arguments)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        config = dict(config)
        for key in ("function", "output_shape", "mask"):
            value = config.get(key)
            if isinstance(value, dict) and "class_name" in value:
                with saving.SafeModeScope(safe_mode):
                    config[key] = saving.deserialize_keras_object(
                        value, custom_objects, safe_mode=saving.in_safe_mode()
                    )
        if isinstance(config.get("output_shape"), list):
            config["output_shape"] = tuple(config["output_shape"])
        config["arguments"] = saving.deserialize_keras_object(config.get("arguments") or {}, custom_objects)
        return super().from_config(config)


def _params(fn) -> set:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()


def _fn_config(fn):
    if getattr(fn, "__name__", None) == "<lambda>":
        return saving.serialize_lambda(fn)
    return saving.serialize_keras_object(fn)

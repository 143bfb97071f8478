"""``Sequential``: a stack of layers, each taking the previous one's output."""
from __future__ import annotations

from ... import autodiff
from ...tensor import Tensor, convert
from ..layers.input_layer import InputLayer, KerasTensor
from ..layers.layer import Layer
from ..layers.ragged_support import check_input, is_composite, standardize_input
from ..saving import deserialize_keras_object, register, serialize_keras_object
from .model import Model


@register("models")
class Sequential(Model):
    def __init__(self, layers=None, trainable=True, name=None):
        Model.__init__(self, trainable=trainable, name=name)
        self._layers: list = []
        self._input_layer = None
        self._output_shapes: dict = {}
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    def add(self, layer, rebuild=True) -> None:
        if isinstance(layer, KerasTensor) and layer._keras_history is not None and \
                isinstance(layer._keras_history[0], InputLayer):
            layer = layer._keras_history[0]
        if not isinstance(layer, Layer):
            raise ValueError(f"Only instances of `keras.Layer` can be added to a Sequential model. Received: "
                             f"{layer!r} (of type {type(layer).__name__})")
        if isinstance(layer, InputLayer):
            if self._input_layer is not None:
                raise ValueError(f"Sequential model '{self.name}' has already been configured to use input shape "
                                 f"{self._input_layer.batch_shape}. You cannot add a different Input layer to it.")
            if self._layers:
                raise ValueError("An InputLayer can only be the first layer of a Sequential model")
            self._input_layer = layer
        else:
            if not self._layers and self._input_layer is None and layer._batch_input_shape is not None:
                self._input_layer = InputLayer(batch_shape=layer._batch_input_shape, dtype=layer.dtype)
            if any(existing is layer for existing in self._layers):
                raise ValueError(f"Layer {layer.name} is already in the Sequential model")
            self._layers.append(layer)
            self._track_layer(layer)
        self.built = False
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self._tracked_layers = [t for t in self._tracked_layers if t is not layer]
        self.built = False
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self):
        if self._input_layer is not None and self._layers:
            self.build(self._input_layer.batch_shape)

    @property
    def layers(self) -> list:
        return list(self._layers)

    def build(self, input_shape=None):
        """Wire the layers symbolically from ``input_shape`` (batch dimension unknown)."""
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        input_shape = (None,) + tuple(input_shape)[1:]
        if self._input_layer is None or tuple(self._input_layer.batch_shape) != input_shape:
            dtype = self._input_layer.dtype if self._input_layer is not None else None
            inferred = self._input_layer is None or getattr(self._input_layer, "_inferred", False)
            self._input_layer = InputLayer(batch_shape=input_shape, dtype=dtype)
            self._input_layer._inferred = inferred  # built from a first batch: composites pass as they are
        x = self._input_layer.output
        self._output_shapes = {}
        with autodiff.no_record():
            for layer in self._layers:
                x = layer(x)
                self._output_shapes[id(layer)] = _shapes(x)
        self._build_shapes = {"input_shape": input_shape}
        self.outputs = [x] if isinstance(x, KerasTensor) else list(x)
        self.inputs = [self._input_layer.output]
        self.built = True

    @property
    def input_shape(self):
        return self._input_layer.batch_shape if self._input_layer is not None else None

    @property
    def output_shape(self):
        return self.outputs[0].shape if self.built and self._layers else None

    def call(self, inputs, training=None, mask=None):
        x = inputs
        if self._input_layer is not None and self.built and not (
                is_composite(x) and getattr(self._input_layer, "_inferred", False)):
            spec = self._input_layer.output
            c = standardize_input(spec, x) if type(x) is not Tensor or spec.ragged or spec.sparse else None
            if c is not None and type(c) is not Tensor:  # ragged / sparse: layers/ragged_support.py
                check_input(spec, c, self.name, 0)
                x = c
            else:
                x = c if c is not None else x if type(x) is Tensor else convert(x)
                self._check_inputs([spec], [x])
        for layer in self._layers:
            x = layer(x)
        return x

    def compute_output_spec(self, inputs, training=None, mask=None):
        x = inputs
        for layer in self._layers:
            x = layer.compute_output_spec(x)
        return x

    def get_config(self):
        layers = [serialize_keras_object(self._input_layer)] if self._input_layer is not None else []
        layers += [serialize_keras_object(layer) for layer in self._layers]
        config = {**Model.get_config(self), "layers": layers}
        if self.built and self._input_layer is not None:
            config["build_input_shape"] = list(self._input_layer.batch_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config.get("layers", []):
            model.add(deserialize_keras_object(layer_config, custom_objects, kind="layers"), rebuild=False)
        model._maybe_rebuild()
        shape = config.get("build_input_shape")
        if not model.built and isinstance(shape, (list, tuple)):
            model.build(shape)
        return model

    def get_build_config(self):
        if self.built and self._input_layer is not None:
            return {"input_shape": list(self._input_layer.batch_shape)}
        return None

    def build_from_config(self, config):
        if config and "input_shape" in config and not self.built:
            self.build(config["input_shape"])


def _shapes(x):
    if isinstance(x, KerasTensor):
        return x.shape
    if isinstance(x, (list, tuple)):
        return [_shapes(v) for v in x]
    return None

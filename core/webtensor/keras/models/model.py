"""``Model``: a Layer that trains. ``Model(inputs, outputs)`` builds a functional model;
subclasses define ``call``. Saving delegates to ``webtensor.saving`` (one safe file format)."""
from __future__ import annotations

import json

from ... import autodiff, nest
from ...ops import array as A
from ...saving import budget as _budget
from ..layers.layer import Layer, _shape_str
from ..saving import register
from ..training.trainer import Trainer


@register("models")
class Model(Trainer, Layer):
    _keras_module = "keras"

    def __new__(cls, *args, **kwargs):
        if cls is Model and (len(args) >= 2 or "outputs" in kwargs or ("inputs" in kwargs and args)):
            from .functional import Functional

            return object.__new__(Functional)
        return Layer.__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise TypeError("Model(inputs, outputs) builds a functional model; a subclass of Model must call "
                            "super().__init__() with keyword arguments such as name= only")
        base = {k: kwargs.pop(k) for k in ("name", "trainable", "dtype") if k in kwargs}
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        Layer.__init__(self, **base)
        self._init_trainer()

    def build(self, input_shape=None):
        """Build the sublayers by running ``call`` once on zeros of ``input_shape`` (None dims = 1)."""
        if self.built or input_shape is None:
            self.built = True
            return

        def zeros(s):
            _budget.charge_probe(tuple(1 if d is None else d for d in s), self.dtype)
            return A.zeros(tuple(1 if d is None else d for d in s), self.dtype)

        shapes = input_shape
        x = zeros(shapes) if _is_shape(shapes) else nest.map_structure(
            zeros, shapes, check_types=False) if not isinstance(shapes, list) else [zeros(s) for s in shapes]
        with autodiff.no_record():
            self.built = True
            self(x, training=False)

    @property
    def layers(self) -> list:
        return list(self._tracked_layers)

    def get_layer(self, name=None, index=None):
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}.")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):
        from .summary import print_summary

        print_summary(self, line_length, positions, print_fn, expand_nested, show_trainable)

    # -- saving --------------------------------------------------------------------------------------
    def save(self, filepath, overwrite=True, include_optimizer=True, **kwargs):
        from ..saving import save_model

        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer, **kwargs)

    def export(self, filepath, format="tf_saved_model", verbose=True, input_signature=None, **kwargs):
        """Keras 3's export: a SavedModel with a ``serve`` endpoint (docs/saved-model.md)."""
        from ...saved_model.keras_export import export

        export(self, filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        from ..saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        from ..saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def to_json(self, **kwargs) -> str:
        from ..saving import serialize_keras_object

        return json.dumps(serialize_keras_object(self), **kwargs)

    def get_config(self) -> dict:
        return Layer.get_config(self)

    get_config._keras_default = True

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "layers" in config and "input_layers" in config and "output_layers" in config:
            from .functional import functional_from_config

            return functional_from_config(cls, config, custom_objects)
        config = {k: v for k, v in config.items() if k in ("name", "trainable", "dtype")} \
            if cls.__init__ is Model.__init__ else config
        return cls(**config)

    def _check_inputs(self, specs, values):
        """Each input's rank and known dims must match the model's inputs (Keras's message)."""
        for i, (spec, x) in enumerate(zip(specs, values)):
            got = tuple(x.shape)
            want = spec.shape
            if len(got) != len(want) or any(w is not None and w != g for w, g in zip(want, got)):
                raise ValueError(f'Input {i} of layer "{self.name}" is incompatible with the layer: expected '
                                 f"shape={_shape_str(want)}, found shape={_shape_str(got)}")


def _is_shape(s) -> bool:
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)

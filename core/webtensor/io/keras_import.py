"""Keras files -> ``webtensor.keras`` models: rebuild from the config, then the weights.

The config goes through the same checks as our own model files (unknown layers are
refused by name, no code is run: Keras ``Lambda`` layers carry bytecode and are
refused), and each layer's arrays must match its variables' shapes exactly.
"""

from __future__ import annotations

import os

from ..saving import budget, validate
from . import keras_files


def _read(path, kind: str, isolate: bool):
    if not isolate:
        return keras_files.read(path) if kind == "model" else keras_files.read_weights(path)
    from . import isolated

    kf = isolated.read(path, kind)
    return kf if kind == "model" else kf.layers


def import_keras(path, custom_objects=None, compile: bool = True, isolate: bool = True):
    """A ``webtensor.keras`` model from a Keras 3 ``.keras`` archive or a legacy Keras
    ``.h5`` model file, with its weights (and its compile config when ``compile``).

    ``isolate``: the HDF5 is parsed in a child process under CPU, memory and time
    limits (``io.isolated``): a damaged file can crash or hang the HDF5 library."""
    return _named(os.fspath(path), lambda: _import_keras(path, custom_objects, compile, isolate))


def _named(name: str, run):
    """Every failure a ``ValueError`` that names the file (a config is input too)."""
    try:
        return run()
    except (ImportError, FileNotFoundError):
        raise
    except ValueError as e:
        if str(e).startswith(name):
            raise
        raise ValueError(f"{name}: {e}") from None
    except (Exception, RecursionError) as e:  # noqa: BLE001 - damaged input, whatever broke
        raise ValueError(f"{name}: the Keras file does not import: {type(e).__name__}: {e}") from None


def _import_keras(path, custom_objects, compile: bool, isolate: bool):
    kf = _read(path, "model", isolate)
    if kf.config is None:
        raise ValueError(
            f"{path}: holds weights only (no model config); build the model and call model.load_weights({str(path)!r})"
        )
    config = _with_model_modules(dict(kf.config))
    training = config.pop("compile_config", None)
    if kf.training_config is not None and training is None and "optimizer_config" not in kf.training_config:
        training = kf.training_config
    model = build(config, custom_objects, kf)
    if compile and training and hasattr(model, "compile_from_config"):
        from ..keras import saving as ks

        try:
            with ks.custom_object_scope(custom_objects):
                model.compile_from_config(training)
        except Exception as e:  # noqa: BLE001 - a config we cannot honour is a clear error
            raise ValueError(f"{path}: compile config not supported: {type(e).__name__}: {e}") from None
    assign(model, kf.layers, str(path))
    return model


MODEL_CLASSES = ("Sequential", "Functional", "Model")


def _with_model_modules(config: dict) -> dict:
    """Legacy ``.h5`` configs carry no ``module``; a nested model among layers then needs
    Keras 3's ``"module": "keras"`` to be found as a model rather than a layer."""
    inner = config.get("config")
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if isinstance(layers, list):
        inner = dict(inner, layers=[_with_model_modules(dict(l)) if isinstance(l, dict) else l for l in layers])
        config = dict(config, config=inner)
    if config.get("class_name") in MODEL_CLASSES and not config.get("module"):
        config["module"] = "keras"
    return config


def build(config: dict, custom_objects, kf) -> object:
    """The model a Keras config describes, allocating no more than its weights justify."""
    from ..keras import saving as ks

    validate.check_layers(config, ks.known_layer(custom_objects))
    nbytes = sum(8 * int(a.size) for lw in kf.layers.values() for a in lw.flat())
    try:
        with budget.limit(nbytes + (1 << 16), kf.source):
            model = ks.deserialize_keras_object(config, custom_objects=custom_objects)
        if not hasattr(model, "weights") or not hasattr(model, "layers"):
            raise ValueError(f"{kf.source}: the Keras config describes a {type(model).__name__}, not a model")
        return model
    except ValueError as e:
        if str(e).startswith(str(kf.source)):
            raise
        raise ValueError(f"{kf.source}: the Keras config does not build here: {e}") from None
    except Exception as e:  # noqa: BLE001 - the config is input: name the failure
        raise ValueError(f"{kf.source}: the Keras config does not build here: {type(e).__name__}: {e}") from None


def load_keras_weights(model, path, isolate: bool = True) -> None:
    """Keras ``.h5`` weights (legacy ``layer_names`` layout, a legacy full model, or
    Keras 3 ``.weights.h5``) into a model of the same architecture, by layer name
    (read in a child process unless ``isolate=False``)."""
    _named(os.fspath(path), lambda: assign(model, _read(path, "weights", isolate), str(path)))


# Keras 3 archives key sublayers by attribute name (h5 groups sort alphabetically);
# ``layer.weights`` lists them in creation order, as legacy files record it.
SUBLAYER_ORDER = {
    "cell": 0,
    "forward_layer": 0,
    "backward_layer": 1,
    "query_dense": 0,
    "key_dense": 1,
    "value_dense": 2,
    "output_dense": 3,
}


def _ordered_arrays(lw, layer=None) -> list:
    """A layer's arrays in ``layer.weights`` order: its own, then its sublayers'. A nested
    model's layers (the ``layers`` group, keyed by class) are matched by layer name."""
    out = list(lw.own)
    for attr in sorted(lw.children, key=lambda a: (SUBLAYER_ORDER.get(a, 99), a)):
        child = lw.children[attr]
        if attr == "layers" and getattr(layer, "layers", None):
            by_name = {c.name: c for c in child.children.values()}
            for sub in layer.layers:
                if sub.weights and sub.name in by_name:
                    out.extend(_ordered_arrays(by_name[sub.name], sub))
        else:
            out.extend(_ordered_arrays(child))
    return out


def _layers_with_weights(model):
    for layer in model.layers:
        if layer.weights:
            yield layer


def assign(model, saved: dict, source: str) -> None:
    """Copy saved arrays into each layer's variables; every shape must match."""
    from ..tensor import convert

    used = set()
    for layer in _layers_with_weights(model):
        lw = saved.get(layer.name)
        if lw is None:
            raise ValueError(
                f"{source}: no weights for layer {layer.name!r} "
                f"({type(layer).__name__}, {len(layer.weights)} variables)"
            )
        arrays = _ordered_arrays(lw, layer)
        variables = layer.trainable_weights + layer.non_trainable_weights if lw.legacy else layer.weights
        if len(arrays) != len(variables):
            raise ValueError(
                f"{source}: layer {layer.name!r} has {len(variables)} variables but the "
                f"file holds {len(arrays)} arrays for it"
            )
        for i, (var, arr) in enumerate(zip(variables, arrays)):
            if tuple(arr.shape) != tuple(var.shape):
                raise ValueError(
                    f"{source}: layer {layer.name!r} variable {i} ({var.name}) has shape "
                    f"{tuple(var.shape)} but the file's array has shape {tuple(arr.shape)}"
                )
        for var, arr in zip(variables, arrays):
            var.assign(convert(arr.astype(var.dtype.name, copy=False)))
        used.add(layer.name)
    extra = [n for n, lw in saved.items() if n not in used and lw.flat()]
    if extra:
        raise ValueError(f"{source}: the file has weights for layers the model lacks: {extra}")

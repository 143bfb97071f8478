"""Keras models to and from one safetensors file: architecture, weights, optimizer state.

This is the Keras side of the model file; the format itself (``webtensor.saving``:
``safetensors``, ``validate``, ``sources``, ``budget``, ``atomic``) knows nothing of Keras.

Metadata (all strings, as safetensors requires): ``format: webtensor``,
``format_version``, ``model_config`` (Keras 3's ``serialize_keras_object`` JSON,
functional graphs included) and ``training_config`` (the compile config).
Weights are named by layer path (``dense/kernel``); optimizer variables are
``optimizer/<i>`` in the optimizer's variable order.
"""

from __future__ import annotations

import json
import os

from .. import dtypes as D
from ..saving import budget, sources, validate
from ..saving import safetensors as st
from ..saving.atomic import atomic_write
from ..saving.validate import PREFIX, fail
from . import saving as ks

SLACK = 1 << 16  # bytes of non-weight state (seeds, counters) a layer may create while built


# -- naming -------------------------------------------------------------------------------


def _base(var) -> str:
    name = getattr(var, "name", None) or "weight"
    return name.split(":")[0].rsplit("/", 1)[-1]


def weight_entries(model) -> list:
    """``(name, variable)`` for every weight of ``model`` in ``model.weights`` order,
    named by layer path: ``dense/kernel``, ``lstm/lstm_cell/kernel``, ``inner_model/dense/bias``."""
    paths = {}

    segments = ks.sublayer_segments

    def visit(layer, prefix):
        subs = segments(layer)
        inner = {id(w) for _, s in subs for w in s.weights}
        for w in layer.weights:
            if id(w) not in inner:
                paths.setdefault(id(w), f"{prefix}{_base(w)}")
        for seg, s in subs:
            visit(s, f"{prefix}{seg}/")

    visit(model, "")
    out, taken, seen = [], set(), set()
    for w in model.weights:
        if id(w) in seen:
            continue
        seen.add(id(w))
        name = paths[id(w)]
        if name in taken:
            k = 1
            while f"{name}_{k}" in taken:
                k += 1
            name = f"{name}_{k}"
        taken.add(name)
        out.append((name, w))
    return out


def _optimizer_variables(model) -> list:
    opt = getattr(model, "optimizer", None)
    if opt is None or not getattr(opt, "built", False):
        return []
    return list(opt.variables)


# -- saving -------------------------------------------------------------------------------


def _metadata(model, include_optimizer: bool, content: str) -> dict:
    meta = {"format": validate.FORMAT, "format_version": str(validate.FORMAT_VERSION), "content": content}
    if content == "model":
        config = ks.serialize_keras_object(model)
        training = config.pop("compile_config", None)
        meta["model_config"] = json.dumps(config, separators=(",", ":"))
        if training is not None and include_optimizer:
            meta["training_config"] = json.dumps(training, separators=(",", ":"))
    from .. import __version__

    meta["generated_by"] = f"webtensor {__version__}"
    return meta


def _tensors(model, include_optimizer: bool, weights_dtype) -> list:
    narrow = D.as_dtype(weights_dtype) if weights_dtype is not None else None
    out = []
    for name, var in weight_entries(model):
        if name.startswith("optimizer/"):
            raise ValueError(
                f"save: a layer named 'optimizer' would clash with the optimizer state ({name!r}); rename the layer"
            )
        dt = narrow if narrow is not None and var.dtype.is_floating else var.dtype
        out.append((name, dt, tuple(var.shape), st.tensor_bytes(var, dt)))
    if include_optimizer:
        for i, var in enumerate(_optimizer_variables(model)):
            out.append((f"optimizer/{i}", var.dtype, tuple(var.shape), st.tensor_bytes(var)))
    return out


def save_model(model, path, include_optimizer: bool = True, weights_dtype=None) -> None:
    """Write ``model`` (architecture, weights, optimizer state) to one safetensors file,
    atomically. ``weights_dtype="float16"`` stores float weights as half (half the size)."""
    meta = _metadata(model, include_optimizer, "model")
    tensors = _tensors(model, include_optimizer, weights_dtype)
    atomic_write(path, lambda f: st.write(f, tensors, meta))


def save_weights(model, path) -> None:
    """Write only the weights (no config, no optimizer) to a safetensors file, atomically."""
    meta = _metadata(model, False, "weights")
    tensors = _tensors(model, False, None)
    atomic_write(path, lambda f: st.write(f, tensors, meta))


# -- loading ------------------------------------------------------------------------------


def _build(config: dict, custom_objects, header) -> object:
    """The model the config describes, within the file's allocation budget."""
    at = header.at("model_config")
    validate.check_layers(config, ks.known_layer(custom_objects), at)
    weights = [e for e in header.tensors.values() if not e.name.startswith("optimizer/")]
    allowed = sum(8 * (e.nbytes // e.dtype.size) for e in weights) + SLACK
    try:
        with budget.limit(allowed, "the file", at):
            model = ks.deserialize_keras_object(config, custom_objects=custom_objects)
    except ValueError as e:
        if str(e).startswith("invalid model file"):
            raise
        raise fail(f"model_config does not build a model: {e}", at) from None
    except (RecursionError, MemoryError) as e:
        raise fail(f"model_config does not build a model: {type(e).__name__}", at) from None
    except Exception as e:  # noqa: BLE001 - untrusted config: any failure is a bad file
        raise fail(f"model_config does not build a model: {type(e).__name__}: {e}", at) from None
    if not hasattr(model, "weights") or not hasattr(model, "layers"):
        raise fail(f"model_config describes a {type(model).__name__}, not a model", at)
    return model


def _compile(model, training: dict | None, custom_objects, at: int) -> None:
    if not training or not hasattr(model, "compile_from_config"):
        return
    try:
        with ks.custom_object_scope(custom_objects):
            model.compile_from_config(training)
    except Exception as e:  # noqa: BLE001 - untrusted config
        raise fail(f"training_config does not compile: {type(e).__name__}: {e}", at) from None


def _optimizer_slots(model, header) -> list:
    """Optimizer variables to fill from the file (built to match the model's weights)."""
    saved = [e for e in header.tensors.values() if e.name.startswith("optimizer/")]
    opt = getattr(model, "optimizer", None)
    if not saved or opt is None:
        return []
    if not getattr(opt, "built", False):
        opt.build(model.trainable_variables)
    variables = list(opt.variables)
    if len(saved) != len(variables):
        raise fail(
            f"the file holds {len(saved)} optimizer variables but the optimizer has {len(variables)}", saved[0].offset
        )
    return [(f"optimizer/{i}", v) for i, v in enumerate(variables)]


def _assigner(targets: dict, header, staged: list | None = None):
    """Check the file against the model's variables, then a sink assigning each tensor
    (or, with ``staged``, collecting ``(variable, tensor)`` to assign once all arrived)."""
    expected = {name: tuple(v.shape) for name, v in targets.items()}
    validate.check_weights(header, expected)
    for e in header.tensors.values():
        if e.name not in targets:
            raise fail(f"weight {e.name!r} in the file belongs to no variable of the model", e.offset)
    for e in header.tensors.values():
        var = targets[e.name]
        if e.dtype.kind != var.dtype.kind and not (e.dtype.is_floating and var.dtype.is_floating):
            raise fail(
                f"weight {e.name!r} is {e.dtype.name} in the file but the model's variable is {var.dtype.name}",
                e.offset,
            )

    def sink(e, data):
        var = targets[e.name]
        t = st.to_tensor(e, data, var.dtype)
        if staged is None:
            var.assign(t)
        else:
            staged.append((var, t))

    return sink


def _by_position(entries: list, header) -> list:
    """``entries`` renamed to the file's weight names by position when the names differ but the
    counts agree, as Keras matches weights: auto layer names (``dense_3``) differ between two
    builds of one architecture, and files written before subclassed models named weights by
    attribute path hold ``linear_3/w`` where the model now says ``l_1/w``. Every shape must agree."""
    saved = [e for e in header.in_data_order() if not e.name.startswith("optimizer/")]
    if {e.name for e in saved} == {n for n, _ in entries} or len(saved) != len(entries):
        return entries
    for (name, var), e in zip(entries, saved):
        if tuple(var.shape) != e.shape:
            raise fail(
                f"weight {e.name!r} has shape {list(e.shape)} in the file but the model's "
                f"weight {name!r} in the same position has shape {list(var.shape)}",
                e.offset,
            )
    return [(e.name, var) for (_, var), e in zip(entries, saved)]


def _model_builder(custom_objects, compile: bool, built: dict):
    """``on_header`` for a model file: validate, build, check weights, then a sink."""

    def on_header(header):
        meta = validate.model_metadata(header)
        if meta["model_config"] is None:
            raise fail(
                "the file holds no model config (weights only): build the model in "
                "Python and call model.load_weights(...)",
                PREFIX,
            )
        model = _build(meta["model_config"], custom_objects, header)
        if compile:
            _compile(model, meta["training_config"], custom_objects, header.at("training_config"))
            targets = dict(_by_position(weight_entries(model), header))
            targets.update(_optimizer_slots(model, header))
            sink = _assigner(targets, header)
        else:
            sink = _weights_only_sink(dict(_by_position(weight_entries(model), header)), header)
        built["model"] = model
        return sink

    return on_header


def load_model(source, custom_objects=None, compile: bool = True):
    """A model from a webtensor safetensors file (path, bytes or URL), a Keras 3
    ``.keras`` archive or a legacy Keras ``.h5`` model (those two need h5py)."""
    if _keras_file_kind(source):
        from ..io import import_keras

        return import_keras(source, custom_objects=custom_objects, compile=compile)
    return load_webtensor_model(source, custom_objects, compile)


def load_webtensor_model(source, custom_objects=None, compile: bool = True):
    """Only a webtensor model file (safetensors with a model config): never a Keras
    import, whatever the file's name or first bytes. What a server loads: the format
    that validated a file is the one that loads it."""
    built = {}
    sources.read(source, _model_builder(custom_objects, compile, built))
    return built["model"]


async def load_model_async(source, custom_objects=None, compile: bool = True):
    """``load_model`` without blocking: in the page the fetch is awaited chunk by chunk,
    each tensor assigned as its bytes arrive."""
    built = {}
    await sources.read_async(source, _model_builder(custom_objects, compile, built))
    return built["model"]


def _weights_only_sink(targets: dict, header, staged: list | None = None):
    """Assign weights; optimizer tensors in the file are skipped (compile=False, load_weights)."""
    sub = validate.Header(
        {k: e for k, e in header.tensors.items() if not k.startswith("optimizer/")},
        header.metadata,
        header.data_start,
        header.data_size,
        header.meta_at,
    )
    inner = _assigner(targets, sub, staged)
    return lambda e, data: None if e.name.startswith("optimizer/") else inner(e, data)


def load_weights(model, source) -> None:
    """Fill ``model``'s weights from a safetensors file, or from a Keras ``.h5`` /
    ``.weights.h5`` file (by layer name, in Keras's weight order).

    Weights match by name when the file's names are the model's (a model rebuilt
    from the same config); otherwise, as Keras does, by position in ``model.weights``
    (layer names like ``dense_3`` differ between two builds of one architecture),
    and every shape must agree. All or nothing: a file that fails part-way (a broken
    download) leaves the model's weights as they were."""
    if _keras_file_kind(source) == "h5":
        from ..io import keras_import

        keras_import.load_keras_weights(model, source)
        return

    def on_header(header):
        validate.model_metadata(header)
        return _weights_only_sink(dict(_by_position(weight_entries(model), header)), header, staged)

    staged = []
    sources.read(source, on_header)
    for var, t in staged:
        var.assign(t)


KERAS_SUFFIXES = {".keras": "keras", ".h5": "h5", ".hdf5": "h5"}


def _keras_file_kind(source) -> str | None:
    """ "keras" / "h5" for a local file *named* as a Keras file, else None (safetensors).

    By name, never by first bytes: a valid safetensors file can start with ``PK\x03\x04``
    (its header length), and sniffing would hand it to the HDF5 importer."""
    if isinstance(source, (bytes, bytearray, memoryview)) or hasattr(source, "read") or sources.is_url(source):
        return None
    try:
        name = os.fspath(source)
    except TypeError:
        return None
    return KERAS_SUFFIXES.get(os.path.splitext(str(name))[1].lower())

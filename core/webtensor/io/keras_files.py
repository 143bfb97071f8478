"""Reading Keras files: Keras 3 ``.keras`` archives and legacy HDF5 (``.h5``) files.

Both become a ``KerasFile``: the model config (Keras 3's JSON layout) and a tree of
weight arrays per layer. Nothing here builds a model; ``keras_import`` does.
h5py (the ``keras-import`` extra) is needed only here, only natively.
"""
from __future__ import annotations

import io
import json
import os
import zipfile

from ..saving import validate

MAX_WEIGHTS_BYTES = 1 << 34  # 16 GiB: refuse archives declaring more before reading any
EXPANSION = 64  # arrays may hold at most this many times the HDF5 file's bytes (compression)


class _Reader:
    """Reads HDF5 datasets as arrays, refusing any whose declared size the file cannot
    justify (an HDF5 header can declare a terabyte dataset in a kilobyte)."""

    def __init__(self, file_bytes: int, source: str):
        self.left, self.source = EXPANSION * file_bytes + (1 << 20), source

    def __call__(self, ds):
        kind = getattr(ds.dtype, "kind", "")
        if kind not in "fiub":
            raise ValueError(f"{self.source}: dataset {ds.name} has dtype {ds.dtype}, not numbers")
        n = int(ds.size) * ds.dtype.itemsize
        self.left -= n
        if self.left < 0:
            raise ValueError(f"{self.source}: dataset {ds.name} declares {n} bytes, more than the "
                             f"file can hold")
        return ds[()]


class LayerWeights:
    """One layer's saved variables (in Keras's ``layer.weights`` order for its own
    variables) and its sublayers' by attribute name (``cell``, ``forward_layer``...).

    ``legacy``: the arrays of a legacy ``.h5`` file, which lists a layer's trainable
    weights first, then its non-trainable ones (a nested model's BatchNormalization
    statistics come after every kernel)."""

    __slots__ = ("name", "own", "children", "legacy")

    def __init__(self, name: str, own: list, children: dict, legacy: bool = False):
        self.name, self.own, self.children, self.legacy = name, own, children, legacy

    def flat(self) -> list:
        out = list(self.own)
        for child in self.children.values():
            out.extend(child.flat())
        return out

    def __repr__(self):
        return f"LayerWeights({self.name!r}, {[tuple(a.shape) for a in self.own]}, {list(self.children)})"


class KerasFile:
    __slots__ = ("config", "layers", "training_config", "keras_version", "source")

    def __init__(self, config: dict, layers: dict, training_config, keras_version, source: str):
        self.config, self.layers = config, layers
        self.training_config, self.keras_version, self.source = training_config, keras_version, source


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("reading Keras .keras/.h5 files needs h5py: "
                          "pip install 'webtensor[keras-import]'") from None
    return h5py


def _json(text, what: str) -> dict:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if len(text) > validate.MAX_HEADER:
        raise ValueError(f"{what} is over the {validate.MAX_HEADER} byte limit")
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"{what} is not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{what} is not a JSON object")
    return obj


def _as_value_error(fn):
    """Malformed files fail as ValueError naming the file, whatever h5py/zipfile raised."""
    def wrapper(path, *args):
        try:
            return fn(path, *args)
        except (ValueError, ImportError, FileNotFoundError):
            raise
        except (KeyError, TypeError, AttributeError, IndexError, OSError, zipfile.BadZipFile) as e:
            raise ValueError(f"{os.fspath(path)}: not a readable Keras file: {type(e).__name__}: {e}") from None
    wrapper.__doc__, wrapper.__name__ = fn.__doc__, fn.__name__
    return wrapper


@_as_value_error
def read(path) -> KerasFile:
    """A ``.keras`` archive or a legacy ``.h5`` model file, told apart by content."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic.startswith(b"PK"):
        return read_archive(path)
    if magic == b"\x89HDF\r\n\x1a\n":
        return read_legacy_h5(path)
    raise ValueError(f"{path}: neither a Keras 3 .keras archive (zip) nor an HDF5 .h5 file")


# -- Keras 3 archives ---------------------------------------------------------------------

@_as_value_error
def read_archive(path) -> KerasFile:
    """``config.json`` + ``model.weights.h5`` from a Keras 3 ``.keras`` zip archive."""
    h5py = _h5py()
    with zipfile.ZipFile(path) as z:
        members = {i.filename: i for i in z.infolist()}
        for need in ("config.json", "model.weights.h5"):
            if need not in members:
                raise ValueError(f"{path}: not a Keras 3 archive, {need} is missing "
                                 f"(members: {sorted(members)[:10]})")
        if members["config.json"].file_size > validate.MAX_HEADER:
            raise ValueError(f"{path}: config.json declares {members['config.json'].file_size} bytes, "
                             f"over the {validate.MAX_HEADER} byte limit")
        if members["model.weights.h5"].file_size > MAX_WEIGHTS_BYTES:
            raise ValueError(f"{path}: model.weights.h5 declares "
                             f"{members['model.weights.h5'].file_size} bytes")
        config = _json(z.read("config.json"), f"{path}: config.json")
        meta = _json(z.read("metadata.json"), f"{path}: metadata.json") if "metadata.json" in members else {}
        size = members["model.weights.h5"].file_size
        weights = io.BytesIO(z.read("model.weights.h5"))
    with h5py.File(weights, "r") as h5:
        layers = weights_tree(h5, _Reader(size, str(path)))
    return KerasFile(config, layers, config.get("compile_config"), meta.get("keras_version"), path)


def weights_tree(h5, read) -> dict:
    """Keras 3 weights (``layers/<key>/vars/<i>``): layer name -> LayerWeights."""
    group = h5.get("layers")
    out = {}
    if group is None:
        return out
    for key in group:
        lw = _layer_group(group[key], key, read)
        out[lw.name] = lw
    return out


def _layer_group(g, key: str, read) -> LayerWeights:
    vars_ = g.get("vars")
    name = key
    own = []
    if vars_ is not None:
        name = _attr_str(vars_.attrs.get("name", key))
        count = len(vars_)
        for i in range(count):
            if str(i) not in vars_:
                raise ValueError(f"weights of layer {name!r}: vars/{i} is missing")
            own.append(read(vars_[str(i)]))
    children = {}
    for sub in g:
        if sub == "vars":
            continue
        child = g[sub]
        if hasattr(child, "keys"):
            children[sub] = _layer_group(child, sub, read)
    return LayerWeights(name, own, {k: v for k, v in children.items() if v.flat()})


def _attr_str(v) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


@_as_value_error
def read_weights(path) -> dict:
    """Layer name -> LayerWeights from any Keras HDF5 weights file: Keras 3
    ``.weights.h5``, legacy ``save_weights`` output, or a legacy full model."""
    h5py = _h5py()
    read = _Reader(os.path.getsize(path), str(path))
    with h5py.File(path, "r") as h5:
        if "layer_names" in h5.attrs:
            return legacy_weights(h5, read)
        if "model_weights" in h5:
            return legacy_weights(h5["model_weights"], read)
        if "layers" in h5:
            return weights_tree(h5, read)
    raise ValueError(f"{path}: not a Keras weights file (no layers group or layer_names attribute)")


# -- legacy HDF5 ------------------------------------------------------------------------

@_as_value_error
def read_legacy_h5(path) -> KerasFile:
    """A Keras 2 / ``model.save('x.h5')`` file: ``model_config`` attribute + weights."""
    h5py = _h5py()
    read = _Reader(os.path.getsize(path), str(path))
    with h5py.File(path, "r") as h5:
        if "model_config" not in h5.attrs:
            layers = legacy_weights(h5, read)
            return KerasFile(None, layers, None, _attr_str(h5.attrs.get("keras_version", "")), path)
        config = _json(h5.attrs["model_config"], f"{path}: model_config")
        training = h5.attrs.get("training_config")
        training = _json(training, f"{path}: training_config") if training is not None else None
        layers = legacy_weights(h5["model_weights"], read)
        version = _attr_str(h5["model_weights"].attrs.get("keras_version", ""))
    return KerasFile(config, layers, training, version, path)


def legacy_weights(g, read) -> dict:
    """Legacy layout: ``layer_names`` attribute, each layer's ``weight_names`` in order."""
    if "layer_names" not in g.attrs:
        raise ValueError("not a Keras HDF5 weights file: no layer_names attribute")
    out = {}
    for lname in g.attrs["layer_names"]:
        lname = _attr_str(lname)
        lg = g[lname]
        arrays = [read(lg[_attr_str(w)]) for w in lg.attrs.get("weight_names", [])]
        out[lname] = LayerWeights(lname, arrays, {}, legacy=True)
    return out

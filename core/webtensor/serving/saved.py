"""A SavedModel version as a servable: each signature is a view with its own named,
typed, shaped inputs and outputs (TF Serving's ``signature_def``)."""

from __future__ import annotations

import os

from .. import dtypes as D
from .servable import RequestError, Servable, TensorInfo

SAVED_MODEL_FILE = "saved_model.json"
WEIGHTS_FILE = "variables.safetensors"


def is_saved_model(path) -> bool:
    return os.path.basename(os.fspath(path)) == SAVED_MODEL_FILE


def stamp(folder) -> tuple | None:
    """(total size, newest mtime, inode of the graph file) of a SavedModel version, None if absent."""
    try:
        a = os.stat(os.path.join(folder, SAVED_MODEL_FILE))
        b = os.stat(os.path.join(folder, WEIGHTS_FILE))
    except OSError:
        return None
    return (a.st_size + b.st_size, max(a.st_mtime_ns, b.st_mtime_ns), a.st_ino)


def _infos(spec: dict) -> list:
    return [TensorInfo(k, D.as_dtype(v["dtype"]), tuple(v["shape"])) for k, v in spec.items()]


class SignatureView:
    """One signature of a loaded SavedModel, with the model-file Servable's interface
    (``convert``, ``run_columns``, ``inputs``, ``outputs``) that the worker and the
    app use. A fresh view per request: requests are not merged into one call (a
    signature need not be row-independent; TF Serving batches only when told to)."""

    def __init__(self, parent: SavedModelServable, name: str):
        sig = parent.model.signatures[name]
        self.parent, self.signature_name, self._sig = parent, name, sig
        self.name, self.version = parent.name, parent.version
        self.inputs = _infos(sig.inputs_info)
        self.outputs = _infos(sig.outputs_info)
        self.output_names = [o.name for o in self.outputs]

    convert = Servable.convert

    def run_columns(self, tensors: list) -> dict:
        try:
            out = self._sig(**{i.name: t for i, t in zip(self.inputs, tensors)})
        except (TypeError, ValueError) as e:
            raise RequestError(f"signature {self.signature_name!r}: {e}") from None
        return {k: out[k].numpy().tolist() for k in self.output_names}


class SavedModelServable:
    """A loaded SavedModel version; ``signature(name)`` gives what a predict request uses."""

    def __init__(self, name: str, version: int, path: str, model):
        self.name, self.version, self.path, self.model = name, version, path, model
        folder = os.path.dirname(path)
        st = stamp(folder)
        self.size = st[0] if st else 0
        if not model.signatures:
            raise ValueError(f"SavedModel {folder} has no signatures to serve")
        self.default = "serving_default" if "serving_default" in model.signatures else sorted(model.signatures)[0]
        view = SignatureView(self, self.default)
        self.inputs, self.outputs, self.output_names = view.inputs, view.outputs, view.output_names
        self.params = sum(_count(v.shape) for v in model.variables)
        self.stamp = None

    def signature(self, name: str):
        if name in ("", None):
            name = self.default
        if name not in self.model.signatures:
            raise RequestError(f'Serving signature name: "{name}" not found in signature def')
        return SignatureView(self, name)

    def convert(self, columns: dict) -> list:
        return self.signature(self.default).convert(columns)

    def run_columns(self, tensors: list) -> dict:
        return self.signature(self.default).run_columns(tensors)

    def describe(self) -> dict:
        return {
            "version": str(self.version),
            "size": self.size,
            "params": self.params,
            "format": "saved_model",
            "signatures": sorted(self.model.signatures),
            "inputs": [i.to_json() for i in self.inputs],
            "outputs": [o.to_json() for o in self.outputs],
        }

    def signature_def(self) -> dict:
        out = {}
        for name in sorted(self.model.signatures):
            view = SignatureView(self, name)
            out[name] = {
                "inputs": {i.name: _named(i.signature_json(), name, i.name) for i in view.inputs},
                "outputs": {o.name: _named(o.signature_json(), name, o.name) for o in view.outputs},
                "method_name": "tensorflow/serving/predict",
            }
        return out


def _named(info: dict, signature: str, name: str) -> dict:
    info["name"] = f"{signature}_{name}:0"
    return info


def _count(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def load_saved_model_servable(name: str, version: int, path: str) -> SavedModelServable:
    """``path`` is the version's saved_model.json; its folder is the SavedModel."""
    from .. import saved_model

    return SavedModelServable(name, version, path, saved_model.load(os.path.dirname(path)))

"""A loaded model version and its signature: the named, typed, shaped inputs and outputs
that predict requests are checked against, fixed when the version loads."""

from __future__ import annotations

import os

from .. import dtypes as D
from ..tensor import convert

TF_DTYPES = {
    "float16": "DT_HALF",
    "float32": "DT_FLOAT",
    "float64": "DT_DOUBLE",
    "int32": "DT_INT32",
    "int64": "DT_INT64",
    "uint8": "DT_UINT8",
    "uint32": "DT_UINT32",
    "bool": "DT_BOOL",
}


class RequestError(Exception):
    """A request the client can fix; ``status`` is the HTTP status it gets."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class TensorInfo:
    """One input or output: name, dtype and shape (None for the batch and free dims)."""

    __slots__ = ("name", "dtype", "shape")

    def __init__(self, name: str, dtype: D.DType, shape: tuple):
        self.name, self.dtype, self.shape = name, dtype, tuple(shape)

    def to_json(self) -> dict:
        return {"name": self.name, "dtype": self.dtype.name, "shape": list(self.shape)}

    def signature_json(self) -> dict:
        """TF Serving's TensorInfo: dims of -1 where unknown."""
        return {
            "dtype": TF_DTYPES.get(self.dtype.name, "DT_INVALID"),
            "tensor_shape": {
                "dim": [{"size": str(-1 if d is None else d), "name": ""} for d in self.shape],
                "unknown_rank": False,
            },
            "name": f"serving_default_{self.name}:0",
        }

    def check(self, t) -> None:
        got = tuple(t.shape)
        if len(got) != len(self.shape) or any(w is not None and w != g for w, g in zip(self.shape, got)):
            raise RequestError(
                f"input {self.name!r}: expected shape {_fmt(self.shape)} (batch first), "
                f"got {_fmt(got)}; each instance must have shape {_fmt(self.shape[1:])}"
            )


def _fmt(shape: tuple) -> str:
    dims = ["None" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _symbol_name(s, i: int) -> str:
    """The name of the layer that made a symbolic tensor (Keras names signatures by
    layer: "pixels", "probabilities"), else the tensor's own name."""
    hist = getattr(s, "_keras_history", None)
    name = getattr(hist[0], "name", None) if hist else None
    return (name or getattr(s, "name", None) or f"tensor_{i}").split(":")[0].split("/")[0]


def _infos(symbols, dtype_default: D.DType) -> list:
    out, seen = [], set()
    for i, s in enumerate(symbols):
        name = _symbol_name(s, i)
        if name in seen:
            name = f"{name}_{i}"
        seen.add(name)
        dt = getattr(s, "dtype", None)
        dt = D.as_dtype(dt) if dt is not None else dtype_default
        out.append(TensorInfo(name, dt, tuple(s.shape)))
    return out


class Servable:
    """One version of one model, loaded and ready: ``convert`` checks a request's
    columns against the signature; ``run_columns`` runs the model on them."""

    def __init__(self, name: str, version: int, path: str, model):
        self.name, self.version, self.path, self.model = name, version, path, model
        self.size = os.path.getsize(path) if path and os.path.exists(path) else 0
        self.inputs = _infos(model.inputs, D.float32)
        self.outputs = _infos(model.outputs, D.float32)
        self.output_names = [o.name for o in self.outputs]
        self.params = int(model.count_params())
        self.stamp = None  # the file's (size, mtime, inode) when loaded: a change reloads it

    def convert(self, columns: dict) -> list:
        """Request columns (input name -> nested lists, batch first) -> checked tensors."""
        tensors, rows = [], None
        for info in self.inputs:
            if info.name not in columns:
                raise RequestError(
                    f"missing input {info.name!r}; this model takes {', '.join(repr(i.name) for i in self.inputs)}"
                )
            try:
                t = convert(columns[info.name], dtype=info.dtype, op=f"input {info.name!r}")
            except (TypeError, ValueError) as e:
                raise RequestError(f"input {info.name!r} ({info.dtype.name}): {e}") from None
            info.check(t)
            if rows is not None and t.shape[0] != rows:
                raise RequestError(f"inputs have different batch sizes ({rows} and {t.shape[0]})")
            rows = t.shape[0]
            tensors.append(t)
        extra = set(columns) - {i.name for i in self.inputs}
        if extra:
            raise RequestError(
                f"unknown input(s) {sorted(extra)}; this model takes {', '.join(repr(i.name) for i in self.inputs)}"
            )
        return tensors

    def run_columns(self, tensors: list) -> dict:
        """Output name -> nested lists, batch first."""
        out = self.model(tensors[0] if len(tensors) == 1 else tensors, training=False)
        outs = out if isinstance(out, (list, tuple)) else [out]
        if isinstance(out, dict):
            outs = [out[k] for k in out]
        return {name: t.numpy().tolist() for name, t in zip(self.output_names, outs)}

    def signature(self, name: str | None):
        """The servable a request naming ``signature_name`` uses: a model file has one."""
        if name not in ("serving_default", "", None):
            raise RequestError(f'Serving signature name: "{name}" not found in signature def')
        return self

    def describe(self) -> dict:
        """The gallery's view of this version (also written into static sites)."""
        return {
            "version": str(self.version),
            "size": self.size,
            "params": self.params,
            "inputs": [i.to_json() for i in self.inputs],
            "outputs": [o.to_json() for o in self.outputs],
        }

    def signature_def(self) -> dict:
        return {
            "serving_default": {
                "inputs": {i.name: i.signature_json() for i in self.inputs},
                "outputs": {o.name: o.signature_json() for o in self.outputs},
                "method_name": "tensorflow/serving/predict",
            }
        }


def load_webtensor(source):
    """A model from a webtensor model file only (path or bytes), through the one
    validating loader: never a Keras import, whatever the file's name or first bytes, so
    a version is always loaded by the format that validated it (a polyglot file that is
    also a zip stays a safetensors file). The server never touches HDF5."""
    from .. import saving

    loader = getattr(saving, "load_webtensor_model", None)
    if loader is not None:
        return loader(source, compile=False)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return saving.load_model(source, compile=False)  # bytes are never sniffed
    with open(source, "rb") as f:  # a file object is never sniffed either
        try:
            return saving.load_model(f, compile=False)
        except ValueError as e:
            raise ValueError(f"{source}: {e}") from None


def load_servable(name: str, version: int, path: str):
    """Load a version: its model file (webtensor format only) or its SavedModel."""
    from .saved import is_saved_model, load_saved_model_servable

    if is_saved_model(path):
        return load_saved_model_servable(name, version, path)
    return Servable(name, version, path, load_webtensor(path))

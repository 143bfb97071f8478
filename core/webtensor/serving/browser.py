"""Models in the page: the Python half of ``<webtensor-model>`` and of the web app.

JS hands in URLs, typed arrays or nested arrays and gets plain JS values back. A model
is held as the same ``Servable`` the server uses, so the page and the server check
inputs and name outputs alike. Natively these functions return Python values, which is
how the tests call them.
"""

from __future__ import annotations

import sys

from .servable import RequestError, Servable

IN_PAGE = sys.platform == "emscripten"
_models: dict = {}


def to_js(value):
    """Python -> JS (dicts become plain objects) in the page; unchanged natively."""
    if not IN_PAGE:
        return value
    from js import Object
    from pyodide.ffi import to_js as _to_js

    return _to_js(value, dict_converter=Object.fromEntries)


def from_js(value):
    """A JsProxy argument -> Python (arrays -> lists, typed arrays -> memoryviews)."""
    return value.to_py() if hasattr(value, "to_py") else value


def _describe(handle: int, s: Servable) -> dict:
    return {"handle": handle, "name": s.name, **s.describe()}


def adopt(model, name: str = "model") -> dict:
    """Hold an in-memory model (one trained in the page) like a loaded one."""
    handle = max(_models, default=0) + 1
    _models[handle] = s = Servable(name, 0, "", model)
    return to_js(_describe(handle, s))


async def load(url: str, name: str = "") -> dict:
    """Fetch and validate a model file (streamed); returns its handle and signature."""
    from ..saving import load_model_async

    model = await load_model_async(url, compile=False)
    return adopt(model, name or url.rsplit("/", 1)[-1].split("?")[0].removesuffix(".safetensors"))


def release(handle: int) -> None:
    _models.pop(int(handle), None)


def predict(handle: int, data, single: bool = False):
    """Outputs for a batch (nested arrays, batch first, or a flat typed array of whole
    instances); ``single``: ``data`` is one instance and one output comes back."""
    s = _models.get(int(handle))
    if s is None:
        raise RequestError(f"no model with handle {handle} (released, or never loaded)", 404)
    data = from_js(data)
    if single:
        data = [data] if not isinstance(data, memoryview) else data
    info = s.inputs[0]
    if len(s.inputs) > 1:
        raise RequestError(f"predict(input) takes one input; this model has {len(s.inputs)}")
    if isinstance(data, memoryview):
        data = _batch_from_flat(data, info)
    out = s.run_columns(s.convert({info.name: data}))
    result = out[s.output_names[0]] if len(s.output_names) == 1 else out
    if single:
        result = result[0] if len(s.output_names) == 1 else {k: v[0] for k, v in result.items()}
    return to_js(result)


def _batch_from_flat(buf: memoryview, info):
    """A flat typed array of whole instances -> a batch tensor of the input's shape."""
    from ..ops import array
    from ..tensor import convert

    per = 1
    for d in info.shape[1:]:
        if d is None:
            raise RequestError(f"input {info.name!r} has free dims {info.shape}; pass nested arrays")
        per *= d
    n = len(buf)
    if n == 0 or n % per:
        raise RequestError(
            f"input {info.name!r}: {n} values are not whole instances of {per} values (shape {tuple(info.shape[1:])})"
        )
    return array.reshape(convert(buf, dtype=info.dtype), [n // per, *info.shape[1:]])

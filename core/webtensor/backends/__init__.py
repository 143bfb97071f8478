"""Backend registry: which backends exist, which is the default, and the CPU fallback.

Backends are created lazily on first use, so ``import webtensor`` needs none of them
(numpy, wgpu and the wasm kernels are all optional).
"""

from __future__ import annotations

import importlib
import os

_FACTORIES = {
    "numpy": "webtensor.backends.numpy:NumpyBackend",
    "gpu": "webtensor.backends.gpu:GPUBackend",
    "wasm": "webtensor.backends.wasm:WasmBackend",
}
_instances: dict = {}
_default = [None]
NO_BACKEND = "no backend available: install numpy or run where WebGPU exists"


def register(name: str, factory) -> None:
    """Add or replace a backend factory (a callable or "module:Class"); the page loader
    uses this to register the WebGPU-in-the-browser backend."""
    _FACTORIES[name] = factory
    _instances.pop(name, None)


def get(name: str):
    """The backend instance called ``name``, created on first use."""
    be = _instances.get(name)
    if be is not None:
        return be
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(sorted(_FACTORIES))}")
    if isinstance(factory, str):
        mod, _, cls = factory.partition(":")
        try:
            factory = getattr(importlib.import_module(mod), cls)
        except ImportError as e:
            raise RuntimeError(f"backend {name!r} is not available here: {e}") from e
    be = _instances[name] = factory()
    return be


def available(name: str) -> bool:
    try:
        get(name)
        return True
    except Exception:
        return False


def set_default(name: str | None) -> None:
    """Choose the backend new tensors are created on (None: decide again from the env)."""
    _default[0] = None if name is None else get(name)


def default():
    """``WEBTENSOR_BACKEND`` if set, else numpy; a clear error when neither exists."""
    be = _default[0]
    if be is not None:
        return be
    name = os.environ.get("WEBTENSOR_BACKEND")
    if name:
        be = get(name)
    else:
        try:
            be = get("numpy")
        except RuntimeError:
            raise RuntimeError(NO_BACKEND) from None
    _default[0] = be
    return be


def cpu():
    """The CPU backend: numpy natively, the wasm kernels where numpy is missing."""
    d = default()
    if d.device_type == "CPU":
        return d
    for name in ("numpy", "wasm"):
        if name in _instances or available(name):
            return get(name)
    raise RuntimeError(NO_BACKEND)

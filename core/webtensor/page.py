"""In-page glue: the backend the loader chose, and blocking on browser promises.

The loader (web/webtensor.mjs) calls ``setup`` once after installing the wheel. GPU
readback in the browser is a promise (``GPUBuffer.mapAsync``); ``run_sync`` blocks on
it with JSPI (``pyodide.ffi.run_sync``) so ``t.numpy()`` works as it does natively.
"""
from __future__ import annotations

import sys

from . import backends

IN_PAGE = sys.platform == "emscripten"

SYNC_READBACK = ("synchronous readback ({what}) needs JSPI (WebAssembly stack switching), which "
                 "this browser or call path lacks; use `await t.numpy_async()` instead (JSPI needs "
                 "Chromium 137+ and Python entered through runPythonAsync, as the webtensor loader does)")


class SyncReadbackError(RuntimeError):
    """Blocking on a browser promise is impossible here; the message names the async form."""


def can_block() -> bool:
    """True when ``run_sync`` can wait for a promise right now."""
    if not IN_PAGE:
        return False
    from pyodide.ffi import can_run_sync

    return can_run_sync()


def run_sync(awaitable, what: str = "tensor.numpy()"):
    """Wait for a JS promise or Python awaitable from synchronous code (JSPI)."""
    if not can_block():
        raise SyncReadbackError(SYNC_READBACK.format(what=what))
    from pyodide.ffi import run_sync as _run_sync

    return _run_sync(awaitable)


def setup(backend: str, gpu_device=None) -> str:
    """Make ``backend`` ("gpu", "wasm" or "numpy") the default; for "gpu", build the GPU
    backend over the browser's ``GPUDevice`` (a JsProxy). Returns the backend's name."""
    if backend == "gpu":
        if gpu_device is None:
            raise ValueError("page.setup('gpu') needs the GPUDevice the loader requested")
        from .backends.gpu.webgpu_device import backend_factory

        backends.register("gpu", backend_factory(gpu_device))
    backends.set_default(backend)
    return backends.default().name

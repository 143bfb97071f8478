"""In-page glue: the backend the loader chose, and blocking on browser promises.

The loader (web/webtensor.mjs) calls ``setup`` once after installing the wheel. The JSPI
bridge (``run_sync``, ``can_block``, ``SyncReadbackError``) lives in ``backends.jspi`` so
the WebGPU adapter can use it without importing this module; it is re-exported here for
callers above the backends (model loading by URL, user code).
"""

from __future__ import annotations

from . import backends
from .backends.jspi import IN_PAGE, SYNC_READBACK, SyncReadbackError, can_block, run_sync

__all__ = ["IN_PAGE", "SYNC_READBACK", "SyncReadbackError", "can_block", "run_sync", "setup"]


def gpu_backend_factory(js_device):
    """A backend-registry factory: the GPU dispatcher over the browser's ``GPUDevice``,
    built on first use (the registry calls it when "gpu" is first asked for)."""

    def make():
        from .backends.gpu import GPUBackend
        from .backends.gpu.webgpu_device import WebGPUDevice

        return GPUBackend(device=WebGPUDevice(js_device))

    return make


def setup(backend: str, gpu_device=None) -> str:
    """Make ``backend`` ("gpu", "wasm" or "numpy") the default; for "gpu", build the GPU
    backend over the browser's ``GPUDevice`` (a JsProxy). Returns the backend's name."""
    if backend == "gpu":
        if gpu_device is None:
            raise ValueError("page.setup('gpu') needs the GPUDevice the loader requested")
        backends.register("gpu", gpu_backend_factory(gpu_device))
    backends.set_default(backend)
    return backends.default().name

"""The browser device adapter: ``gpu_device.Device`` over ``navigator.gpu`` in Pyodide.

The same dispatcher and WGSL as natively; only this file knows it runs in a page.
Each adapter call is one crossing of Pyodide's FFI into a small JS recorder (webgpu_helpers.mjs),
which holds the pending command encoder and builds descriptors on the JS side, so a
dispatch costs one call however many bindings it has. Data moves as whole buffers:
writes hand JS a view of the Python buffer (no element-wise crossing), reads copy the
mapped range once into Python bytes.

Readback is a promise (``mapAsync``): ``read`` blocks on it with JSPI (``backends.jspi.run_sync``);
``read_async`` awaits it and works in every browser with WebGPU.
"""

from __future__ import annotations

import functools
from pathlib import Path

from .. import jspi
from .device import LIMITS, NoAdapterError, ShaderError

HELPERS = Path(__file__).with_name("webgpu_helpers.mjs")
"""The JS half, an ES module shipped in the wheel (ESLint checks it as a module)."""


@functools.cache
def _recorder_factory():
    """``recorder(device)`` from webgpu_helpers.mjs, evaluated once per page. ``run_js``
    evaluates a script, not a module, so the one ``export`` becomes a local function and
    the wrapper returns it (a dynamic ``import()`` would be a promise, needing JSPI)."""
    from pyodide.code import run_js

    src = HELPERS.read_text(encoding="utf-8")
    if "export function recorder(" not in src:
        raise RuntimeError(f"{HELPERS.name} no longer exports `function recorder(device)`")
    return run_js(
        "(() => {\n" + src.replace("export function recorder(", "function recorder(", 1) + "\nreturn recorder;\n})()"
    )


class WebGPUDevice:
    """``gpu_device.Device`` over a browser ``GPUDevice`` (a JsProxy)."""

    backend_type = "WebGPU"

    def __init__(self, js_device):
        self._js = _recorder_factory()(js_device)
        info = self._js.info().to_py()
        self.adapter_name = info["name"]
        self.is_fallback = bool(info["fallback"])
        self.limits = {k: int(info["limits"][k]) for k in LIMITS if k in info["limits"]}
        self.features = frozenset(info["features"])
        self._dispatch, self._copy, self._submit = self._js.dispatch, self._js.copy, self._js.submit

    def create_buffer(self, size: int, usage: str):
        return self._js.createBuffer(size, usage)

    def destroy_buffer(self, buf) -> None:
        self._js.destroy(buf)

    def write_buffer(self, buf, offset: int, data) -> None:
        self._js.write(buf, offset, memoryview(data).cast("B"))

    def create_pipeline(self, code: str, entry: str, layout: str, label: str):
        if not jspi.can_block():  # no JSPI: compile errors then surface in the console
            return self._js.pipelineNow(code, entry, layout, label)
        try:
            return jspi.run_sync(self._js.pipeline(code, entry, layout, label), "compiling a shader")
        except Exception as e:
            if type(e).__name__ != "JsException":
                raise
            raise ShaderError(f"{label}: {getattr(e, 'message', e)}") from None

    def dispatch(self, pipeline, bindings, groups) -> None:
        flat = [v for b in bindings for v in b]
        self._dispatch(pipeline, *groups, *flat)

    def copy(self, src, src_offset: int, dst, dst_offset: int, size: int) -> None:
        self._copy(src, src_offset, dst, dst_offset, size)

    def submit(self) -> None:
        self._submit()

    def read(self, buf, offset: int, size: int) -> memoryview:
        return memoryview(jspi.run_sync(self._js.read(buf, offset, size)).to_bytes())

    async def read_async(self, buf, offset: int, size: int) -> memoryview:
        return memoryview((await self._js.read(buf, offset, size)).to_bytes())


def open_device(power_preference: str = "high-performance") -> WebGPUDevice:
    """Request an adapter and device from ``navigator.gpu`` (needs JSPI to wait on them);
    the loader normally does this in JS and passes its device to ``WebGPUDevice``."""
    try:
        from js import navigator
    except ImportError:
        raise NoAdapterError("webgpu_device runs only in a page (Pyodide)") from None
    gpu = getattr(navigator, "gpu", None)
    if gpu is None:
        raise NoAdapterError("WebGPU is not available in this browser (navigator.gpu is missing)")
    from pyodide.ffi import to_js
    from js import Object

    adapter = jspi.run_sync(
        gpu.requestAdapter(to_js({"powerPreference": power_preference}, dict_converter=Object.fromEntries)),
        "requesting a WebGPU adapter",
    )
    if adapter is None:
        raise NoAdapterError("navigator.gpu.requestAdapter() returned no adapter")
    limits = {k: getattr(adapter.limits, k) for k in LIMITS if hasattr(adapter.limits, k)}
    desc = to_js({"requiredLimits": limits}, dict_converter=Object.fromEntries)
    return WebGPUDevice(jspi.run_sync(adapter.requestDevice(desc), "requesting a WebGPU device"))

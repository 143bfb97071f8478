"""Blocking on browser promises from synchronous Python (JSPI), below the backends.

GPU readback in the browser is a promise (``GPUBuffer.mapAsync``); ``run_sync`` waits on
it with JSPI (``pyodide.ffi.run_sync``) so ``t.numpy()`` works as it does natively. The
WebGPU adapter and the in-page glue (``webtensor.page``) both use it, so it lives here and
imports nothing of webtensor's; natively ``can_block`` is False and ``run_sync`` refuses.
"""

from __future__ import annotations

import sys

IN_PAGE = sys.platform == "emscripten"

SYNC_READBACK = (
    "synchronous readback ({what}) needs JSPI (WebAssembly stack switching), which "
    "this browser or call path lacks; use `await t.numpy_async()` instead (JSPI needs "
    "Chromium 137+ and Python entered through runPythonAsync, as the webtensor loader does)"
)


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

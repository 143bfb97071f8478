"""Hosts for the kernel module: wasmtime natively, the browser's WebAssembly in Pyodide.

Both give the wasm backend the same operations: ``call`` an export with int
arguments (returning its i32 result), ``write``/``read`` bytes of linear memory,
``set_params`` (the argument block kernels read shapes from), ``pin`` (a fixed block the
host writes or reads on most calls: the params block, the free list) and ``memory_size``.
A trap inside a kernel surfaces as ``KernelTrap``; the backend re-raises it naming
the op.

Why wasmtime natively: it is on PyPI with wheels for every platform CI uses, compiles
the module with Cranelift to SIMD machine code (so the CI test pass runs at kernel
speed, not interpreter speed), and exposes the C API's unchecked call, which keeps a
call cheap (docs/benchmarks.md, "Backend overheads"). Node would put a process boundary
on every op.
"""

from __future__ import annotations

import atexit
import os
import struct
import sys

PARAMS_BYTES = 512  # set_params writes at most this much of the 4 KiB params block
PARAMS_BLOCK = 4096  # the whole params block (fused programs are written there too)
_MEMORY_RESERVATION = 1 << 32  # all of wasm32's address space: memory never moves


class KernelTrap(RuntimeError):
    """A kernel trapped (out-of-bounds access, unreachable...); the message says how."""


def kernels_path() -> str:
    """Where the built module is: ``WEBTENSOR_WASM_KERNELS`` or ``backends/kernels/``."""
    return os.environ.get("WEBTENSOR_WASM_KERNELS") or os.path.join(
        os.path.dirname(os.path.dirname(__file__)), "kernels", "webtensor_kernels.wasm"
    )


def load_kernels() -> bytes:
    path = kernels_path()
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise RuntimeError(f"the WebAssembly kernels are not built ({path} is missing); run `make wasm`") from None


class WasmtimeRuntime:
    """The module compiled by wasmtime, entered through ``wasmtime_func_call_unchecked``
    with a plain ctypes prototype over integer addresses: far cheaper per call than
    wasmtime-py's checked ``Func.__call__``."""

    def __init__(self, wasm: bytes):
        import ctypes

        try:
            import wasmtime
            from wasmtime import _bindings as ffi
        except ImportError as e:
            raise ImportError(
                f"natively the wasm backend runs its kernels in wasmtime: pip install 'webtensor[wasm]' ({e})"
            ) from None

        cfg = wasmtime.Config()
        cfg.memory_reservation = _MEMORY_RESERVATION
        cfg.memory_may_move = False  # so the base address below stays valid as memory grows
        self._engine = engine = wasmtime.Engine(cfg)
        self._store = store = wasmtime.Store(engine)
        inst = wasmtime.Instance(store, wasmtime.Module(engine, wasm), [])
        self._exports = inst.exports(store)
        self._memory = self._exports["memory"]
        base = ctypes.addressof(self._memory.data_ptr(store).contents)
        self._mem = memoryview((ctypes.c_ubyte * _MEMORY_RESERVATION).from_address(base)).cast("B")
        self._size = 0
        self._raw = (ffi.wasmtime_val_raw_t * 16)()
        self._result = ctypes.c_int32.from_address(ctypes.addressof(self._raw))
        self._trap = ctypes.c_void_p()
        proto = ctypes.CFUNCTYPE(
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p
        )
        invoke = proto(ctypes.cast(ffi.dll.wasmtime_func_call_unchecked, ctypes.c_void_p).value)
        ctx, raw, trap = (
            ctypes.cast(store._context(), ctypes.c_void_p).value,
            ctypes.addressof(self._raw),
            ctypes.addressof(self._trap),
        )
        self._enter = lambda fn: invoke(ctx, fn, raw, 16, trap)
        self._ctypes, self._ffi = ctypes, ffi
        self._packers = [struct.Struct("<" + "i12x" * n) for n in range(17)]
        self._fns: dict = {}
        params = self.call("wt_params_ptr")
        self._pmem = self._mem[params : params + PARAMS_BYTES]
        self.closed = False
        atexit.register(self.close)

    def close(self) -> None:
        """Free the instance before interpreter teardown (wasmtime's finalizers need ctypes
        alive); handles that die later find ``closed`` set and do nothing."""
        if not self.closed:
            self.closed = True
            self._store.close()
            self._engine.close()

    def call(self, name: str, *args: int) -> int:
        fn = self._fns.get(name)
        if fn is None:
            fn = self._fns[name] = self._ctypes.addressof(self._exports[name]._func)
        self._packers[len(args)].pack_into(self._raw, 0, *args)
        err = self._enter(fn)
        if err or self._trap.value:
            self._raise(name, err)
        return self._result.value

    def _raise(self, name, err):
        from wasmtime import WasmtimeError
        from wasmtime._trap import Trap

        ctypes, ffi = self._ctypes, self._ffi
        if self._trap.value:
            trap = Trap._from_ptr(ctypes.cast(self._trap.value, ctypes.POINTER(ffi.wasm_trap_t)))
            self._trap.value = None
            code = trap.trap_code
            msg = code.name.lower().replace("_", " ") if code is not None else trap.message.splitlines()[-1]
        else:
            msg = str(WasmtimeError._from_ptr(ctypes.cast(err, ctypes.POINTER(ffi.wasmtime_error_t))))
            msg = msg.splitlines()[0]
        raise KernelTrap(f"{name}: {msg}")

    def _check(self, ptr: int, n: int) -> None:
        """Host copies touch only live linear memory (beyond it the host would crash)."""
        if ptr < 0 or ptr + n > self._size:
            self._size = self._memory.data_len(self._store)
            if ptr < 0 or ptr + n > self._size:
                raise KernelTrap(f"memory access [{ptr}, {ptr + n}) is out of bounds ({self._size} bytes)")

    def write(self, ptr: int, data) -> None:
        n = len(data)
        self._check(ptr, n)
        self._mem[ptr : ptr + n] = data

    def read(self, ptr: int, n: int) -> bytes:
        self._check(ptr, n)
        return bytes(self._mem[ptr : ptr + n])

    def set_params(self, fmt: struct.Struct, *values) -> None:
        fmt.pack_into(self._pmem, 0, *values)

    def pin(self, ptr: int, nbytes: int) -> None:
        """Nothing to do: every copy here is already a memoryview slice."""

    def memory_size(self) -> int:
        return self._memory.data_len(self._store)


class PyodideRuntime:
    """The module instantiated by the page's own WebAssembly engine (Pyodide's JS FFI).

    Bytes cross as one TypedArray copy each way (``assign``/``to_bytes``), never per
    element. A view of linear memory is detached when memory grows; it is renewed then.

    Making a view (``subarray``) costs a JsProxy created and destroyed: in the page that
    was most of a small op's host time (~70 us under load, against ~1-5 us for a copy
    through a view made once). So blocks the host touches on most calls are pinned (``pin``):
    each has a view made once and a host mirror (a bytearray); a write updates the mirror
    and assigns all of it (a few KiB copied is cheaper than one new view), a read takes
    the whole block's bytes and slices them.
    """

    def __init__(self, wasm):
        import js
        from pyodide.ffi import JsException, to_js

        self._js, self._JsException = js, JsException
        data = wasm if hasattr(wasm, "byteLength") else to_js(memoryview(wasm))
        module = js.WebAssembly.Module.new(data)
        self._ex = js.WebAssembly.Instance.new(module, js.Object.new()).exports
        self._memory = self._ex.memory
        self._u8 = js.Uint8Array.new(self._memory.buffer)
        self._size = int(self._u8.byteLength)
        self._pins: list = []  # [start, end, mirror bytearray, view (renewed on growth)]
        self._fns: dict = {}
        self.closed = False
        self._params = int(self._ex.wt_params_ptr())
        self.pin(self._params, PARAMS_BLOCK)
        self._pbuf = self._pins[0][2]

    def call(self, name: str, *args: int) -> int:
        fn = self._fns.get(name)
        if fn is None:  # a JsProxy attribute lookup is slow: look each function up once
            fn = self._fns[name] = getattr(self._ex, name)
        try:
            return fn(*args)
        except self._JsException as e:
            raise KernelTrap(f"{name}: {e}") from None

    def pin(self, ptr: int, nbytes: int) -> None:
        self._check(ptr, nbytes)
        self._pins.append([ptr, ptr + nbytes, bytearray(nbytes), self._u8.subarray(ptr, ptr + nbytes)])

    def _renew(self):
        self._u8 = self._js.Uint8Array.new(self._memory.buffer)
        self._size = int(self._u8.byteLength)
        for p in self._pins:
            p[3] = self._u8.subarray(p[0], p[1])

    def _check(self, ptr: int, n: int) -> None:
        if ptr < 0 or ptr + n > self._size:
            self._renew()  # memory grew (the old view is detached) or the range is bad
            if ptr < 0 or ptr + n > self._size:
                raise KernelTrap(f"memory access [{ptr}, {ptr + n}) is out of bounds ({self._size} bytes)")

    def _pinned(self, ptr: int, n: int):
        for p in self._pins:
            if p[0] <= ptr and ptr + n <= p[1]:
                return p
        return None

    def _assign(self, pin) -> None:
        try:
            pin[3].assign(pin[2])
        except (ValueError, self._JsException):  # detached by memory growth
            self._renew()
            pin[3].assign(pin[2])

    def write(self, ptr: int, data) -> None:
        n = len(data)
        if not n:
            return
        pin = self._pinned(ptr, n)
        if pin is not None:
            pin[2][ptr - pin[0] : ptr - pin[0] + n] = data
            self._assign(pin)
            return
        self._check(ptr, n)
        try:
            self._u8.subarray(ptr, ptr + n).assign(data)
        except (ValueError, self._JsException):
            self._renew()
            self._u8.subarray(ptr, ptr + n).assign(data)

    def read(self, ptr: int, n: int) -> bytes:
        pin = self._pinned(ptr, n)
        if pin is not None:
            b = self._bytes_of(lambda: pin[3], pin[1] - pin[0])
            return b[ptr - pin[0] : ptr - pin[0] + n]
        self._check(ptr, n)
        return self._bytes_of(lambda: self._u8.subarray(ptr, ptr + n), n)

    def _bytes_of(self, view, n: int) -> bytes:
        """``view().to_bytes()``, renewing the views once if memory grew: a detached view
        either reads short or throws (``subarray`` of a detached buffer)."""
        try:
            b = view().to_bytes()
        except (ValueError, self._JsException):
            b = b""
        if len(b) != n:
            self._renew()
            b = view().to_bytes()
        return b

    def set_params(self, fmt: struct.Struct, *values) -> None:
        fmt.pack_into(self._pbuf, 0, *values)
        self._assign(self._pins[0])

    def memory_size(self) -> int:
        return int(self._memory.buffer.byteLength)


def create(wasm=None):
    """The runtime for this interpreter: Pyodide's engine in the page, wasmtime natively."""
    if wasm is None:
        wasm = load_kernels()
    if sys.platform == "emscripten":
        return PyodideRuntime(wasm)
    return WasmtimeRuntime(wasm)

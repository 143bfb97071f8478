"""The wasm backend: every primitive of ``base`` as C kernels compiled to WebAssembly.

Tensors live in the kernel module's linear memory; a handle (``WasmArray``) is an
address and a shape, and its memory is freed when Python drops the last handle.
Data crosses to Python only in ``write``/``read``. No numpy anywhere: this is the CPU
backend of the page, and runs natively through wasmtime so CI checks every kernel.

The split of work: Python validates, computes output shapes and collapses shapes to
the fewest dims (so kernels walk short loops), then makes one call per op; kernels
allocate their output and return its address (0: out of memory; negative: an
error code). float16 is stored as 16 bits; the heavy ops (matmul, conv, pooling,
reductions) compute it in float32 by casting around the float32 kernel.
"""

from __future__ import annotations

import functools
import struct
import threading

from ... import dtypes as D
from ...errors import InternalError, InvalidArgumentError, ResourceExhaustedError
from ...shape import broadcast_shape, prod
from .. import base, layout
from .runtime import PARAMS_BLOCK, KernelTrap, create

MEMORY_LIMIT = 2 << 30  # the module's maximum memory (build/wasm.sh)
MAX_DIMS = 16  # after collapsing, kernels walk at most this many dims (MAXDIM in kernels/codes.h)
_DT = {d: i for i, d in enumerate(D.ALL)}
_UNARY = {op: i for i, op in enumerate(base.UNARY_OPS)}
_BINARY = {op: i for i, op in enumerate(base.BINARY_OPS)}
_REDUCE = {op: i for i, op in enumerate(base.REDUCE_OPS)}
_E_NOMEM, _E_INDEX, _E_ARG = 1, 2, 3
_STRUCTS: dict = {}
_SCALAR_CACHE = 256  # distinct scalar constants kept alive for reuse
_PLAN_CACHE = 1024  # broadcast plans by operand shapes
_FREE_BATCH = 64  # queued frees per wt_release_many call (its list holds 256)


def _ints(n: int) -> struct.Struct:
    s = _STRUCTS.get(n)
    if s is None:
        s = _STRUCTS[n] = struct.Struct(f"<{n}i")
    return s


class WasmArray:
    """A tensor in linear memory: address, shape and dtype. A reshape or a contiguous
    slice is a view that keeps its base alive; the base frees the memory on death."""

    __slots__ = ("ptr", "shape", "dtype", "size", "_be", "_base", "__weakref__")

    def __init__(self, be, ptr: int, shape: tuple, dtype, base=None):
        self._be, self.ptr, self.shape, self.dtype, self._base = be, ptr, shape, dtype, base
        self.size = prod(shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.size

    def __del__(self):
        if self._base is None:
            try:
                self._be._release(self.ptr)
            except Exception:  # interpreter shutdown
                pass

    def __repr__(self):
        return f"WasmArray(0x{self.ptr:x}, shape={self.shape}, dtype={self.dtype.name})"


def _serialized(method):
    """One op at a time per instance: an op writes the params block then calls a kernel
    (natively the GIL is released inside wasm), so threads must not interleave."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return run


_strides, _bcast_strides, _collapse = layout.strides, layout.bcast_strides, layout.collapse


def _walk(op: str, shape: tuple, strides: list) -> tuple:
    """Params for a kernel's N-d walk: collapsed dims, then one stride row per operand."""
    dims, rows = _collapse(shape, strides)
    if len(dims) > MAX_DIMS:
        raise InvalidArgumentError(
            f"{op}: the wasm backend walks at most {MAX_DIMS} dims; shape {shape} needs {len(dims)}"
        )
    return (len(dims), *dims, *(s for row in rows for s in row))


def _conv_out(size, k, stride, pad, dil):
    return (size + pad[0] + pad[1] - (k - 1) * dil - 1) // stride + 1


class WasmBackend:
    name = "wasm"
    device_type = "CPU"
    dtypes = frozenset(D.ALL)
    fused = frozenset(
        (
            "softmax",
            "sparse_softmax_xent",
            "bias_act",
            "adam_update",
            "elementwise",
            "matmul_epilogue",
            "elementwise_many",
            "elementwise_into",
            "linalg_cholesky",
            "linalg_solve",
            "linalg_qr",
            "linalg_eigh",
            "linalg_eigvalsh",
            "linalg_svd",
            "linalg_svd_values",
            "linalg_signed_vectors",
            "fft",
            "rfft",
            "resample_axis",
        )
    )
    kernel_count = 0
    """Calls into the module's kernels (``_run``), for tf.config.experimental.get_kernel_count."""

    def __init__(self, wasm=None):
        self._rt = create(wasm)
        self._call = self._rt.call
        self._set_params = self._rt.set_params
        self._pending: list = []
        self._scalars: dict = {}
        self._plans: dict = {}
        self._lock = threading.RLock()
        self._mem_size = 0
        self._params_addr = self._call("wt_params_ptr")
        self._release_list = self._call("wt_release_list")
        self._rt.pin(self._release_list, 4 * 256)  # written at every flush (its list holds 256)
        self._fused: dict = {}

    # -- plumbing ---------------------------------------------------------------------
    def _new(self, ptr: int, shape: tuple, dtype, op: str, nbytes: int = 0) -> WasmArray:
        if ptr <= 0:
            self._fail(ptr, op, nbytes or prod(shape) * dtype.size, dtype)
        if len(self._pending) >= _FREE_BATCH:
            self._flush()
        return WasmArray(self, ptr, tuple(shape), dtype)

    def _room(self, shape: tuple, dtype, op: str) -> int:
        """Element count of a new tensor, refusing sizes linear memory cannot hold."""
        n = prod(shape)
        if n * dtype.size >= MEMORY_LIMIT:
            self._fail(0, op, n * dtype.size, dtype)
        return n

    def _fail(self, code: int, op: str, nbytes: int, dtype):
        if code == 0 or code == -_E_NOMEM:
            raise ResourceExhaustedError(
                f"{op}: out of WebAssembly memory allocating {nbytes} bytes "
                f"({self.memory_stats()['bytes_in_use']} bytes in use; the limit is "
                f"{MEMORY_LIMIT >> 30} GiB of linear memory)"
            )
        if code == -_E_ARG:
            raise InvalidArgumentError(f"{op}: dtype {dtype.name} is not supported by the wasm backend")
        raise InternalError(f"{op}: wasm kernel failed with code {code}")

    def _run(self, op: str, export: str, *args: int) -> int:
        self.kernel_count += 1
        try:
            r = self._call(export, *args)
            if r == 0 and self._pending:  # out of memory: return queued blocks, try again
                self._flush()
                r = self._call(export, *args)
            return r
        except KernelTrap as e:
            raise InternalError(f"{op}: WebAssembly kernel trapped ({e})") from None

    def _h(self, x, op: str) -> WasmArray:
        """x, checked to be a handle of this backend that lies inside linear memory (so a
        bad handle is an error before any kernel runs, not a trap halfway through)."""
        if type(x) is not WasmArray or x._be is not self:
            raise InvalidArgumentError(
                f"{op}: expected a tensor of this wasm backend, got {type(x).__name__} {getattr(x, 'shape', '')}"
            )
        end = x.ptr + x.size * x.dtype.size
        if end > self._mem_size or x.ptr <= 0:
            self._mem_size = self._rt.memory_size()
            if end > self._mem_size or x.ptr <= 0:
                raise InvalidArgumentError(
                    f"{op}: tensor handle {x!r} lies outside linear memory ({self._mem_size} bytes)"
                )
        return x

    def _params(self, values) -> None:
        self._set_params(_ints(len(values)), *values)

    def _release(self, ptr: int) -> None:
        """Called from ``__del__``, which may run inside any op (garbage collection): it
        only queues; queued blocks go back in one call at the next kernel's end."""
        if not self._rt.closed:
            self._pending.append(ptr)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for i in range(0, len(pending), _FREE_BATCH):
            part = pending[i : i + _FREE_BATCH]
            self._rt.write(self._release_list, _ints(len(part)).pack(*part))
            self._call("wt_release_many", len(part))

    def _alloc(self, nbytes: int, op: str) -> int:
        ptr = self._call("wt_alloc", nbytes) if nbytes < 2**31 - 64 else 0
        if ptr == 0 and self._pending:
            self._flush()
            ptr = self._call("wt_alloc", nbytes) if nbytes < 2**31 - 64 else 0
        if ptr == 0:
            self._fail(0, op, nbytes, D.uint8)
        return ptr

    @_serialized
    def memory_stats(self) -> dict:
        """Allocator counters: live bytes and blocks, heap extent, linear memory size."""
        self._flush()
        st = [self._call("wt_heap_stat", i) & 0xFFFFFFFF for i in range(4)]
        return {"bytes_in_use": st[0], "blocks_in_use": st[1], "heap_bytes": st[2], "memory_bytes": st[3]}

    def _f32(self, x: WasmArray) -> WasmArray:
        """float16 operands of the float32-only kernels are computed in float32."""
        return self.cast(x, D.float32) if x.dtype is D.float16 else x

    def _idx(self, x: WasmArray) -> WasmArray:
        """Index operands as the kernels read them: int64, else int32 (uint8/uint32 labels
        were read as int32 bytes: keras.datasets' uint8 labels gave NaN losses)."""
        return x if x.dtype in (D.int32, D.int64) else self.cast(x, D.int32)

    def _back(self, y: WasmArray, dtype) -> WasmArray:
        return self.cast(y, dtype) if dtype is D.float16 else y

    def _more_outputs(self, n: int) -> tuple:
        """The addresses a multi-output kernel left in params[0:n]."""
        return struct.unpack(f"<{n}i", self._rt.read(self._params_addr, 4 * n))

    # -- data movement ------------------------------------------------------------------
    @_serialized
    def write(self, buf, shape, dtype):
        shape = tuple(shape)
        mv = memoryview(buf)
        if mv.format != "B" or mv.ndim != 1:
            mv = mv.cast("B")
        n = prod(shape) * dtype.size
        if mv.nbytes != n:
            raise InvalidArgumentError(
                f"write: {mv.nbytes} bytes do not match shape {shape} of dtype {dtype.name} ({n} bytes)"
            )
        ptr = self._alloc(n, "write")
        self._rt.write(ptr, mv)
        return WasmArray(self, ptr, shape, dtype)

    @_serialized
    def read(self, h):
        h = self._h(h, "read")
        return memoryview(self._rt.read(h.ptr, h.nbytes))

    @_serialized
    def full(self, shape, value, dtype):
        shape = tuple(shape)
        if not shape:  # Python scalars in ops: handles are immutable, so one per value serves all
            key = (dtype, _FULL[dtype].pack(value))
            h = self._scalars.get(key)
            if h is None:
                if len(self._scalars) >= _SCALAR_CACHE:
                    self._scalars.clear()
                h = self._scalars[key] = self._fill(shape, value, dtype)
            return h
        return self._fill(shape, value, dtype)

    def _fill(self, shape, value, dtype):
        n = self._room(shape, dtype, "fill")
        self._set_params(_FULL[dtype], value)
        return self._new(self._run("fill", "wt_full", dtype.size, n), shape, dtype, "fill")

    @_serialized
    def arange(self, start, delta, n, dtype):
        self._room((n,), dtype, "range")
        if dtype.kind == "f":
            self._set_params(_TWO_F64, float(start), float(delta))
        else:
            self._set_params(_TWO_I64, int(start), int(delta))
        return self._new(self._run("range", "wt_arange", _DT[dtype], n), (n,), dtype, "range")

    @_serialized
    def random(self, kind, shape, dtype, key):
        shape = tuple(shape)
        n = self._room(shape, dtype, f"random_{kind}")
        k0, k1 = (k - (1 << 32) if k >= 1 << 31 else k for k in key)
        ptr = self._run(f"random_{kind}", "wt_random", kind == "normal", _DT[dtype], n, k0, k1)
        return self._new(ptr, shape, dtype, f"random_{kind}")

    # -- elementwise ----------------------------------------------------------------------
    @_serialized
    def unary(self, op, x):
        x = self._h(x, op)
        out = D.bool_ if op in base.BOOL_OPS else x.dtype
        ptr = self._run(op, "wt_unary", _UNARY[op], _DT[x.dtype], x.ptr, x.size)
        return self._new(ptr, x.shape, out, op, x.size * out.size)

    @_serialized
    def binary(self, op, x, y):
        x, y = self._h(x, op), self._h(y, op)
        out_dt = D.bool_ if op in base.BOOL_OPS else x.dtype
        plan = self._plans.get((x.shape, y.shape)) or self._plan((x.shape, y.shape), op)
        shape, n, mode, inner, walk = plan
        if n * out_dt.size >= MEMORY_LIMIT:
            self._room(shape, out_dt, op)
        if walk:
            self._params(walk)
        ptr = self._run(op, "wt_binary", _BINARY[op], _DT[x.dtype], x.ptr, y.ptr, n, mode, inner)
        return self._new(ptr, shape, out_dt, op, n * out_dt.size)

    def _plan(self, shapes: tuple, op: str) -> tuple:
        """How to broadcast operands of these shapes: (out shape, n, mode, row length,
        N-d walk params or None). Eager loops repeat shapes, so plans are kept."""
        shape = shapes[0]
        for s in shapes[1:]:
            shape = broadcast_shape(shape, s, op)
        n, sizes = prod(shape), [prod(s) for s in shapes]
        mode, inner, walk = 3, 0, None
        if len(shapes) == 2 and shapes[0] == shapes[1]:
            mode = 0
        elif len(shapes) == 2 and sizes[1] == 1 and sizes[0] == n:
            mode = 1
        elif len(shapes) == 2 and sizes[0] == 1 and sizes[1] == n:
            mode = 2
        else:
            strides = [_bcast_strides(s, shape) for s in shapes]
            dims, rows = _collapse(shape, strides)
            if len(shapes) == 2 and len(dims) == 2 and rows[0][1] == rows[1][1] == 1 and 0 in (rows[0][0], rows[1][0]):
                mode, inner = (4 if rows[1][0] == 0 else 5), dims[1]  # one side is a repeated row
            else:
                walk = _walk(op, shape, strides)
        if len(self._plans) >= _PLAN_CACHE:
            self._plans.clear()
        plan = self._plans[shapes] = (shape, n, mode, inner, walk)
        return plan

    @_serialized
    def where(self, cond, x, y):
        c, x, y = self._h(cond, "where"), self._h(x, "where"), self._h(y, "where")
        shapes = (c.shape, x.shape, y.shape)
        shape, n, _, _, walk = self._plans.get(shapes) or self._plan(shapes, "where")
        self._room(shape, x.dtype, "where")
        self._params(walk)
        return self._new(self._run("where", "wt_where", x.dtype.size, c.ptr, x.ptr, y.ptr, n), shape, x.dtype, "where")

    @_serialized
    def cast(self, x, dtype):
        x = self._h(x, "cast")
        if x.dtype is dtype:
            return x
        ptr = self._run("cast", "wt_cast", _DT[x.dtype], _DT[dtype], x.ptr, x.size)
        return self._new(ptr, x.shape, dtype, "cast")

    # -- reductions -------------------------------------------------------------------------
    def _blocks(self, x: WasmArray, axes: tuple):
        """(x', outer, r, inner): the reduced axes as one contiguous middle block,
        transposing them to the end first when they are not adjacent."""
        shape = x.shape
        if axes == tuple(range(axes[0], axes[-1] + 1)):
            return x, prod(shape[: axes[0]]), prod(shape[axes[0] : axes[-1] + 1]), prod(shape[axes[-1] + 1 :])
        rest = tuple(i for i in range(len(shape)) if i not in axes)
        xt = self.transpose(x, rest + tuple(axes))
        return xt, prod(shape[i] for i in rest), prod(shape[i] for i in axes), 1

    @_serialized
    def reduce(self, op, x, axes, keepdims):
        x = self._h(x, f"reduce_{op}")
        if not axes:
            return x
        axes = tuple(axes)
        dt = x.dtype
        xs, outer, r, inner = self._blocks(self._f32(x), axes)
        shape = (
            tuple(1 if i in axes else d for i, d in enumerate(x.shape))
            if keepdims
            else tuple(d for i, d in enumerate(x.shape) if i not in axes)
        )
        ptr = self._run(f"reduce_{op}", "wt_reduce", _REDUCE[op], _DT[xs.dtype], xs.ptr, outer, r, inner)
        return self._back(self._new(ptr, shape, xs.dtype, f"reduce_{op}"), dt)

    @_serialized
    def argreduce(self, op, x, axis, dtype):
        x = self._h(x, op)
        if x.shape[axis] == 0:
            raise InvalidArgumentError(f"{op}: reduction dimension {axis} of shape {x.shape} is empty")
        xs = self._f32(x)
        outer, r, inner = prod(x.shape[:axis]), x.shape[axis], prod(x.shape[axis + 1 :])
        ptr = self._run(op, "wt_argreduce", op == "argmax", _DT[xs.dtype], xs.ptr, outer, r, inner, _DT[dtype])
        return self._new(ptr, x.shape[:axis] + x.shape[axis + 1 :], dtype, op)

    @_serialized
    def scan(self, op, x, axis, exclusive, reverse):
        x = self._h(x, f"cum{op}")
        xs = self._f32(x)
        outer, r, inner = prod(x.shape[:axis]), x.shape[axis], prod(x.shape[axis + 1 :])
        ptr = self._run(
            f"cum{op}", "wt_scan", op == "prod", _DT[xs.dtype], xs.ptr, outer, r, inner, bool(exclusive), bool(reverse)
        )
        return self._back(self._new(ptr, x.shape, xs.dtype, f"cum{op}"), x.dtype)

    @_serialized
    def softmax(self, x, axis):
        """``base.FusedKernels.softmax`` (float16 computed in float32)."""
        x = self._h(x, "softmax")
        xs = self._f32(x)
        outer, r, inner = prod(x.shape[:axis]), x.shape[axis], prod(x.shape[axis + 1 :])
        ptr = self._run("softmax", "wt_softmax", _DT[xs.dtype], xs.ptr, outer, r, inner)
        return self._back(self._new(ptr, x.shape, xs.dtype, "softmax"), x.dtype)

    @_serialized
    def sparse_softmax_xent(self, logits, labels):
        """``base.FusedKernels.sparse_softmax_xent``."""
        x, lab = self._h(logits, "sparse_softmax_cross_entropy"), self._h(labels, "sparse_softmax_cross_entropy")
        xs, lab = self._f32(x), self._idx(lab)
        n = x.shape[-1]
        rows = x.size // n if n else 0
        ptr = self._run(
            "sparse_softmax_cross_entropy",
            "wt_sparse_softmax_xent",
            _DT[xs.dtype],
            xs.ptr,
            lab.ptr,
            lab.dtype is D.int64,
            rows,
            n,
        )
        loss = self._new(ptr, x.shape[:-1], xs.dtype, "sparse_softmax_cross_entropy")
        grad = WasmArray(self, self._more_outputs(1)[0], x.shape, xs.dtype)
        return self._back(loss, x.dtype), self._back(grad, x.dtype)

    @_serialized
    def bias_act(self, x, bias, activation: str):
        """``base.FusedKernels.bias_act``."""
        x, b = self._h(x, "bias_act"), self._h(bias, "bias_act")
        xs, bs = self._f32(x), self._f32(b)
        n = x.shape[-1] if x.shape else 1
        ptr = self._run(
            "bias_act",
            "wt_bias_act",
            _DT[xs.dtype],
            xs.ptr,
            bs.ptr,
            x.size // n if n else 0,
            n,
            _ACTIVATIONS[activation],
        )
        return self._back(self._new(ptr, x.shape, xs.dtype, "bias_act"), x.dtype)

    @_serialized
    def adam_update(self, w, m, v, g, alpha: float, c1: float, c2: float, eps: float):
        """``base.FusedKernels.adam_update`` (its float order); float32/float64 only."""
        w, m, v, g = (self._h(t, "adam_update") for t in (w, m, v, g))
        if not (w.dtype is m.dtype is v.dtype is g.dtype) or not (w.shape == m.shape == v.shape == g.shape):
            raise InvalidArgumentError(
                f"adam_update: variable, slots and gradient differ: {[(t.shape, t.dtype.name) for t in (w, m, v, g)]}"
            )
        self._set_params(_FOUR_F64, alpha, c1, c2, eps)
        ptr = self._run("adam_update", "wt_adam_update", _DT[w.dtype], w.ptr, m.ptr, v.ptr, g.ptr, w.size)
        w1 = self._new(ptr, w.shape, w.dtype, "adam_update", 3 * w.nbytes)
        mp, vp = self._more_outputs(2)
        return w1, WasmArray(self, mp, w.shape, w.dtype), WasmArray(self, vp, w.shape, w.dtype)

    def fusable(self, program) -> bool:
        """wt_fused takes up to 48 instructions, no float16, loads walking at most 4 dims."""
        return len(program) <= FUSED_MAX and self._words(program) is not None

    def _words(self, program):
        """``_fused_words(program)``, kept by program (binding a graph asks for each program
        several times: fusable, fusable_many, the binding; in the page each took ~0.8 ms under
        the profiler)."""
        if program in self._fused:
            return self._fused[program]
        if len(self._fused) >= _PLAN_CACHE:
            self._fused.clear()
        words = self._fused[program] = _fused_words(program)
        return words

    @_serialized
    def fused_elementwise_into(self, program, pos, *hs):
        """``fused_elementwise`` writing into input ``pos`` (handed over in a list: it dies
        here) when nothing else refers to it (no view, no cached scalar)."""
        hs = list(hs)
        h, sole = base.take_donation(hs[pos], hs, pos)
        shape, dt = tuple(program[-1][3]), D.as_dtype(program[-1][2])
        if not (
            sole
            and type(h) is WasmArray
            and h._be is self
            and h._base is None
            and h.dtype is dt
            and h.size == prod(shape)
        ):
            return self.fused_elementwise(program, *hs)
        words = self._fused.get(program) or self._fused.setdefault(program, _fused_words(program))
        hs = [self._h(x, "fused") for x in hs]
        head = (len(program), h.size, len(hs), *(x.ptr for x in hs))
        self._rt.write(self._params_addr, _ints(len(head) + len(words)).pack(*head, *words))
        r = self._run("fused", "wt_fused_into", h.ptr)
        if r <= 0:
            self._fail(r, "fused", h.nbytes, dt)
        h.shape = shape
        return h

    def fusable_many(self, programs) -> bool:
        """All programs fusable, and their blocks (inputs repeated per block) fit the
        4 KiB params block."""
        if len(programs) > 64 or not all(self.fusable(p) for p in programs):
            return False
        n_in = 1 + max(ins[4][0] for p in programs for ins in p if ins[0] == "load")
        return 1 + len(programs) + sum(3 + n_in + 15 * len(p) for p in programs) <= 1024

    @_serialized
    def fused_many(self, programs, *hs):
        """Independent fused programs in one wt_fused_many call."""
        hs = [self._h(h, "fused") for h in hs]
        ptrs = tuple(h.ptr for h in hs)
        words, blocks, shapes = [], [], []
        off = 1 + len(programs)
        for p in programs:
            w = self._fused.get(p) or self._fused.setdefault(p, _fused_words(p))
            shape, dt = tuple(p[-1][3]), D.as_dtype(p[-1][2])
            shapes.append((shape, dt, self._room(shape, dt, "fused")))
            block = (len(p), shapes[-1][2], len(hs), *ptrs, *w)
            blocks.append(off)
            words += block
            off += len(block)
        data = (len(programs), *blocks, *words)
        self._rt.write(self._params_addr, _ints(len(data)).pack(*data))
        first = self._run("fused", "wt_fused_many")
        out = [self._new(first, shapes[0][0], shapes[0][1], "fused", shapes[0][2] * shapes[0][1].size)]
        for ptr, (shape, dt, _n) in zip(self._more_outputs(len(programs) - 1), shapes[1:]):
            out.append(WasmArray(self, ptr, shape, dt))
        return tuple(out)

    @_serialized
    def fused_elementwise(self, program, *hs):
        """One wt_fused call for a fused elementwise program (function/passes.py): the C
        kernel interprets it block by block with the unfused kernels' row functions."""
        words = self._fused.get(program)
        if words is None:
            if len(self._fused) >= _PLAN_CACHE:
                self._fused.clear()
            words = self._fused[program] = _fused_words(program)
        hs = [self._h(h, "fused") for h in hs]
        shape, dt = tuple(program[-1][3]), D.as_dtype(program[-1][2])
        n = self._room(shape, dt, "fused")
        head = (len(program), n, len(hs), *(h.ptr for h in hs))
        self._rt.write(self._params_addr, _ints(len(head) + len(words)).pack(*head, *words))
        return self._new(self._run("fused", "wt_fused"), shape, dt, "fused", n * dt.size)

    # -- linear algebra -----------------------------------------------------------------------
    @_serialized
    def matmul(self, a, b, transpose_a, transpose_b):
        return self._matmul(a, b, transpose_a, transpose_b)

    @_serialized
    def fused_matmul(self, program, transpose_a, transpose_b, a, b, *hs):
        """matmul and a fused elementwise program over the product (its input 0) in one
        wt_matmul_fused call: the GEMM's epilogue."""
        return self._matmul(a, b, transpose_a, transpose_b, (program, hs))

    def _matmul(self, a, b, transpose_a, transpose_b, epilogue=None):
        a, b = self._h(a, "matmul"), self._h(b, "matmul")
        dt = a.dtype
        a, b = self._f32(a), self._f32(b)
        m, k = (a.shape[-1], a.shape[-2]) if transpose_a else (a.shape[-2], a.shape[-1])
        kb, n = (b.shape[-1], b.shape[-2]) if transpose_b else (b.shape[-2], b.shape[-1])
        if k != kb:
            raise InvalidArgumentError(
                f"matmul: inner dimensions differ: {a.shape} and {b.shape} "
                f"(transpose_a={transpose_a}, transpose_b={transpose_b})"
            )
        ab, bb = a.shape[:-2], b.shape[:-2]
        batch_shape = broadcast_shape(ab, bb, "matmul")
        batch = prod(batch_shape)
        if prod(bb) == 1 and not transpose_a:  # fold a's batch into its rows: one GEMM
            rows, batch_n, sa, sb = m * prod(ab), 1, 0, 0
        else:
            if prod(ab) != 1 and ab != batch_shape or prod(bb) != 1 and bb != batch_shape:
                a = self.broadcast_to(a, batch_shape + a.shape[-2:])
                b = self.broadcast_to(b, batch_shape + b.shape[-2:])
                ab = bb = batch_shape
            rows, batch_n = m, batch
            sa = 0 if prod(ab) == 1 else m * k
            sb = 0 if prod(bb) == 1 else k * n
        self._room(batch_shape + (m, n), a.dtype, "matmul")
        self._params([batch_n, sa, sb, rows, n, k, int(transpose_a), int(transpose_b)])
        if epilogue is None:
            ptr = self._run("matmul", "wt_matmul", _DT[a.dtype], a.ptr, b.ptr)
            return self._back(self._new(ptr, batch_shape + (m, n), a.dtype, "matmul"), dt)
        program, hs = epilogue
        words = self._fused.get(program) or self._fused.setdefault(program, _fused_words(program))
        hs = [self._h(h, "fused") for h in hs]
        shape, odt = tuple(program[-1][3]), D.as_dtype(program[-1][2])
        head = (len(program), prod(shape), len(hs) + 1, 0, *(h.ptr for h in hs))
        self._rt.write(self._params_addr + 64, _ints(len(head) + len(words)).pack(*head, *words))
        ptr = self._run("matmul", "wt_matmul_fused", _DT[a.dtype], a.ptr, b.ptr)
        return self._new(ptr, shape, odt, "matmul", prod(shape) * odt.size)

    # -- OPTIONAL_KERNELS (kernels/linalg.c) ---------------------------------------------------------
    def _square_batch(self, a, op: str) -> tuple:
        """(batch, n) of a [..., n, n] float32/float64 handle, as kernels/linalg.c reads it."""
        if a.dtype not in (D.float32, D.float64) or len(a.shape) < 2 or a.shape[-1] != a.shape[-2]:
            raise InvalidArgumentError(
                f"{op}: expected square float32/float64 matrices, got shape {a.shape} dtype {a.dtype.name}"
            )
        return prod(a.shape[:-2]), a.shape[-1]

    @_serialized
    def linalg_cholesky(self, a):
        """``base.OPTIONAL_KERNELS``: (L, failed) in one kernel call for the whole batch."""
        a = self._h(a, "cholesky")
        batch, n = self._square_batch(a, "cholesky")
        ptr = self._run("cholesky", "wt_cholesky", _DT[a.dtype], a.ptr, batch, n)
        out = self._new(ptr, a.shape, a.dtype, "cholesky")
        return out, bool(self._more_outputs(1)[0])

    @_serialized
    def linalg_solve(self, a, b, det=True):
        """``base.OPTIONAL_KERNELS``: LU with partial pivoting, one kernel call for the batch;
        (x, sign, log|det|), or (x, singular) with ``det=False``."""
        a, b = self._h(a, "solve"), self._h(b, "solve")
        batch, n = self._square_batch(a, "solve")
        if b.dtype is not a.dtype or len(b.shape) != len(a.shape) or b.shape[-2] != n:
            raise InvalidArgumentError(
                f"solve: right-hand side of shape {b.shape} dtype {b.dtype.name} does "
                f"not match matrices of shape {a.shape} dtype {a.dtype.name}"
            )
        bs = tuple(max(x, y) for x, y in zip(a.shape[:-2], b.shape[:-2]))
        a = a if a.shape[:-2] == bs else self.broadcast_to(a, bs + (n, n))
        b = b if b.shape[:-2] == bs else self.broadcast_to(b, bs + b.shape[-2:])
        batch, k = prod(bs), b.shape[-1]
        ptr = self._run("solve", "wt_lu_solve", _DT[a.dtype], a.ptr, b.ptr, batch, n, k, int(det))
        x = self._new(ptr, bs + (n, k), a.dtype, "solve")
        singular, sp, lp = self._more_outputs(3)
        if not det:
            return x, bool(singular)
        return x, WasmArray(self, sp, bs, a.dtype), WasmArray(self, lp, bs, a.dtype)

    def _float_batch(self, a, op: str) -> tuple:
        """(batch, m, n) of a [..., m, n] float32/float64 handle, as kernels/decomp.c reads it."""
        if a.dtype not in (D.float32, D.float64) or len(a.shape) < 2:
            raise InvalidArgumentError(
                f"{op}: expected float32/float64 matrices, got shape {a.shape} dtype {a.dtype.name}"
            )
        return prod(a.shape[:-2]), a.shape[-2], a.shape[-1]

    @_serialized
    def linalg_qr(self, a):
        """``base.OPTIONAL_KERNELS``: Householder (q, r) with LAPACK's signs, one kernel call."""
        a = self._h(a, "qr")
        batch, m, n = self._float_batch(a, "qr")
        ptr = self._run("qr", "wt_qr", _DT[a.dtype], a.ptr, batch, m, n)
        q = self._new(ptr, a.shape[:-2] + (m, m), a.dtype, "qr", batch * (m * m + m * n) * a.dtype.size)
        return q, WasmArray(self, self._more_outputs(1)[0], a.shape, a.dtype)

    def _eigh(self, a, op: str, vectors: bool):
        a = self._h(a, op)
        batch, n = self._square_batch(a, op)
        ptr = self._run(op, "wt_eigh", _DT[a.dtype], a.ptr, batch, n, int(vectors))
        e = self._new(ptr, a.shape[:-1], a.dtype, op, batch * (n + n * n * vectors) * a.dtype.size)
        return (e, WasmArray(self, self._more_outputs(1)[0], a.shape, a.dtype)) if vectors else e

    @_serialized
    def linalg_eigh(self, a):
        """``base.OPTIONAL_KERNELS``: cyclic Jacobi, (e ascending, v), one kernel call."""
        return self._eigh(a, "eigh", True)

    @_serialized
    def linalg_eigvalsh(self, a):
        """``base.OPTIONAL_KERNELS``: the Jacobi eigenvalues without accumulating vectors."""
        return self._eigh(a, "eigvalsh", False)

    def _svd(self, a, op: str, vectors: bool):
        a = self._h(a, op)
        batch, m, n = self._float_batch(a, op)
        ptr = self._run(op, "wt_svd", _DT[a.dtype], a.ptr, batch, m, n, int(vectors))
        bs = a.shape[:-2]
        s = self._new(
            ptr, bs + (min(m, n),), a.dtype, op, batch * (min(m, n) + (m * m + n * n) * vectors) * a.dtype.size
        )
        if not vectors:
            return s
        up, vp = self._more_outputs(2)
        return s, WasmArray(self, up, bs + (m, m), a.dtype), WasmArray(self, vp, bs + (n, n), a.dtype)

    @_serialized
    def linalg_svd(self, a):
        """``base.OPTIONAL_KERNELS``: one-sided Jacobi, (s descending, u [..., m, m], v [..., n, n])."""
        return self._svd(a, "svd", True)

    @_serialized
    def linalg_svd_values(self, a):
        """``base.OPTIONAL_KERNELS``: the singular values alone (no rotations accumulated)."""
        return self._svd(a, "svd", False)

    def _dft(self, op: str, re, im, inverse: bool, nout: int) -> tuple:
        """kernels/fft.c over the last axis of re (and im; None: real input)."""
        n = re.shape[-1] if re.shape else 1
        if re.dtype not in (D.float32, D.float64) or (
            im is not None and (im.shape != re.shape or im.dtype is not re.dtype)
        ):
            raise InvalidArgumentError(
                f"{op}: expected float32/float64 parts of one shape, got {re.shape} "
                f"{re.dtype.name}" + (f" and {im.shape} {im.dtype.name}" if im is not None else "")
            )
        rows = re.size // n if n else 0
        shape = re.shape[:-1] + (nout,)
        ptr = self._run(
            op, "wt_fft", _DT[re.dtype], re.ptr, im.ptr if im is not None else 0, rows, n, int(inverse), nout
        )
        out = self._new(ptr, shape, re.dtype, op, 2 * prod(shape) * re.dtype.size)
        return out, WasmArray(self, self._more_outputs(1)[0], shape, re.dtype)

    @_serialized
    def fft(self, re, im, inverse):
        """``base.OPTIONAL_KERNELS``: one kernel call; radix-2 for powers of two, else the direct sum."""
        re, im = self._h(re, "fft"), self._h(im, "fft")
        return self._dft("ifft" if inverse else "fft", re, im, inverse, re.shape[-1] if re.shape else 1)

    @_serialized
    def rfft(self, x):
        """``base.OPTIONAL_KERNELS``: the first n // 2 + 1 terms of the DFT of real x."""
        x = self._h(x, "rfft")
        return self._dft("rfft", x, None, False, x.shape[-1] // 2 + 1)

    # -- resample_axis (kernels/resample.c) --------------------------------------------------------
    @_serialized
    def resample_axis(self, x, idx, w, before: int, n_in: int, after: int):
        """``base.OPTIONAL_KERNELS``: one axis of a resize in one kernel call, y [before, out, after]."""
        x, idx, w = self._h(x, "resample_axis"), self._h(idx, "resample_axis"), self._h(w, "resample_axis")
        if (
            x.dtype not in (D.float32, D.float64)
            or x.size != before * n_in * after
            or idx.dtype is not D.int32
            or len(idx.shape) != 2
            or w.dtype is not x.dtype
            or w.shape != idx.shape
            or not idx.size
        ):
            raise InvalidArgumentError(
                f"resample_axis: expected float32/float64 x of {before}x{n_in}x{after} elements, int32 "
                f"idx [out, taps] and weights of that shape in x's dtype; got x {x.shape} {x.dtype.name}, "
                f"idx {idx.shape} {idx.dtype.name}, w {w.shape} {w.dtype.name}"
            )
        out, taps = idx.shape
        self._room((before, out, after), x.dtype, "resample_axis")
        ptr = self._run(
            "resample_axis", "wt_resample", _DT[x.dtype], x.ptr, idx.ptr, w.ptr, before, n_in, after, out, taps
        )
        if ptr == -_E_INDEX:
            self._index_error("resample_axis", n_in, f" (taps of input axis {n_in})")
        return self._new(ptr, (before, out, after), x.dtype, "resample_axis")

    # -- convolution and pooling ------------------------------------------------------------------
    def _conv(self, op, result, x_shape, w_shape, y_shape, strides, pads, dilations, groups, h0, h1, dt):
        """Run conv kernel ``wt_<op>`` on (h0, h1), producing a tensor of shape ``result``."""
        n, h, w, c = x_shape
        kh, kw, _, o = w_shape
        self._room(result, h0.dtype, op)
        self._params(
            [
                n,
                h,
                w,
                c,
                kh,
                kw,
                o,
                strides[0],
                strides[1],
                pads[0][0],
                pads[1][0],
                dilations[0],
                dilations[1],
                y_shape[1],
                y_shape[2],
                groups,
            ]
        )
        ptr = self._run(op, "wt_" + op, _DT[h0.dtype], h0.ptr, h1.ptr)
        return self._back(self._new(ptr, tuple(result), h0.dtype, op), dt)

    @_serialized
    def conv2d(self, x, w, strides, pads, dilations, groups):
        x, w = self._h(x, "conv2d"), self._h(w, "conv2d")
        n, h, wd, _ = x.shape
        kh, kw, _, o = w.shape
        out = (
            n,
            _conv_out(h, kh, strides[0], pads[0], dilations[0]),
            _conv_out(wd, kw, strides[1], pads[1], dilations[1]),
            o,
        )
        return self._conv(
            "conv2d", out, x.shape, w.shape, out, strides, pads, dilations, groups, self._f32(x), self._f32(w), x.dtype
        )

    @_serialized
    def conv2d_input_grad(self, dy, w, x_shape, strides, pads, dilations, groups):
        dy, w = self._h(dy, "conv2d_input_grad"), self._h(w, "conv2d_input_grad")
        x_shape = tuple(x_shape)
        return self._conv(
            "conv2d_input_grad",
            x_shape,
            x_shape,
            w.shape,
            dy.shape,
            strides,
            pads,
            dilations,
            groups,
            self._f32(dy),
            self._f32(w),
            dy.dtype,
        )

    @_serialized
    def conv2d_filter_grad(self, x, dy, w_shape, strides, pads, dilations, groups):
        x, dy = self._h(x, "conv2d_filter_grad"), self._h(dy, "conv2d_filter_grad")
        w_shape = tuple(w_shape)
        return self._conv(
            "conv2d_filter_grad",
            w_shape,
            x.shape,
            w_shape,
            dy.shape,
            strides,
            pads,
            dilations,
            groups,
            self._f32(x),
            self._f32(dy),
            x.dtype,
        )

    def _pool_params(self, x_shape, ksize, strides, pads):
        n, h, w, c = x_shape
        oh = _conv_out(h, ksize[0], strides[0], pads[0], 1)
        ow = _conv_out(w, ksize[1], strides[1], pads[1], 1)
        self._params([n, h, w, c, ksize[0], ksize[1], strides[0], strides[1], pads[0][0], pads[1][0], oh, ow])
        return (n, oh, ow, c)

    @_serialized
    def pool2d(self, op, x, ksize, strides, pads):
        x = self._h(x, f"{op}_pool")
        xs = self._f32(x)
        shape = self._pool_params(x.shape, ksize, strides, pads)
        ptr = self._run(f"{op}_pool", "wt_pool2d", op == "max", _DT[xs.dtype], xs.ptr)
        return self._back(self._new(ptr, shape, xs.dtype, f"{op}_pool"), x.dtype)

    @_serialized
    def pool2d_grad(self, op, x, dy, ksize, strides, pads):
        x, dy = self._h(x, f"{op}_pool_grad"), self._h(dy, f"{op}_pool_grad")
        xs, dys = self._f32(x), self._f32(dy)
        self._pool_params(x.shape, ksize, strides, pads)
        ptr = self._run(f"{op}_pool_grad", "wt_pool2d_grad", op == "max", _DT[xs.dtype], xs.ptr, dys.ptr)
        return self._back(self._new(ptr, x.shape, xs.dtype, f"{op}_pool_grad"), dy.dtype)

    # -- indexing -------------------------------------------------------------------------------
    def _index_error(self, op, n, detail):
        lo, hi = self._call("wt_err_lo"), self._call("wt_err_hi")
        bad = (hi << 32) | (lo & 0xFFFFFFFF)
        raise InvalidArgumentError(f"{op}: index {bad} is not in [0, {n}){detail}")

    @_serialized
    def gather(self, x, indices, axis):
        x, idx = self._h(x, "gather"), self._idx(self._h(indices, "gather"))
        outer, n, inner = prod(x.shape[:axis]), x.shape[axis], prod(x.shape[axis + 1 :])
        self._params([outer, n, inner, idx.size])
        ptr = self._run("gather", "wt_gather", x.dtype.size, x.ptr, idx.ptr, idx.dtype is D.int64)
        if ptr == -_E_INDEX:
            self._index_error("gather", n, f" (params shape {x.shape}, axis {axis})")
        return self._new(ptr, x.shape[:axis] + idx.shape + x.shape[axis + 1 :], x.dtype, "gather")

    @_serialized
    def scatter_add(self, indices, updates, shape, axis):
        idx, u = self._idx(self._h(indices, "scatter_add")), self._h(updates, "scatter_add")
        shape = tuple(shape)
        outer, n, inner = prod(shape[:axis]), shape[axis], prod(shape[axis + 1 :])
        self._params([outer, n, inner, idx.size])
        ptr = self._run("scatter_add", "wt_scatter_add", _DT[u.dtype], idx.ptr, idx.dtype is D.int64, u.ptr)
        if ptr == -_E_INDEX:
            self._index_error("scatter_add", n, "")
        return self._new(ptr, shape, u.dtype, "scatter_add")

    # -- movement -----------------------------------------------------------------------------------
    def reshape(self, x, shape):
        x = self._h(x, "reshape")
        shape = tuple(shape)
        if prod(shape) != x.size:
            raise InvalidArgumentError(f"reshape: cannot reshape {x.shape} ({x.size} elements) to {shape}")
        return WasmArray(self, x.ptr, shape, x.dtype, x._base or x)

    def _copy(self, op, es, dst_ptr, src_ptr, shape, dst_strides, src_strides) -> int:
        self._params(_walk(op, shape, [dst_strides, src_strides]))
        return self._run(op, "wt_copy", es, dst_ptr, src_ptr, prod(shape))

    def _strided(self, op, x, shape, offset, src_strides):
        """A new contiguous tensor of ``shape`` reading x at offset + sum(i * stride)."""
        self._room(shape, x.dtype, op)
        src = x.ptr + offset * x.dtype.size
        ptr = self._copy(op, x.dtype.size, 0, src, shape, _strides(shape), src_strides)
        return self._new(ptr, shape, x.dtype, op)

    @_serialized
    def transpose(self, x, perm):
        x = self._h(x, "transpose")
        perm = tuple(perm)
        if perm == tuple(range(len(perm))):
            return x
        st = _strides(x.shape)
        return self._strided("transpose", x, tuple(x.shape[p] for p in perm), 0, [st[p] for p in perm])

    @_serialized
    def slice(self, x, begin, size, strides):
        x = self._h(x, "strided_slice")
        st = _strides(x.shape)
        size = tuple(size)
        offset = sum(b * s for b, s in zip(begin, st))
        src = [s * k for s, k in zip(st, strides)]
        dims, (cs,) = _collapse(size, [src])
        if len(dims) == 1 and (cs[0] == 1 or dims[0] == 1) or prod(size) == 0:  # contiguous: a view
            return WasmArray(self, x.ptr + offset * x.dtype.size if prod(size) else x.ptr, size, x.dtype, x._base or x)
        return self._strided("strided_slice", x, size, offset, src)

    @_serialized
    def concat(self, xs, axis):
        xs = [self._h(t, "concat") for t in xs]
        first = xs[0]
        shape = list(first.shape)
        shape[axis] = sum(t.shape[axis] for t in xs)
        shape = tuple(shape)
        es = first.dtype.size
        self._room(shape, first.dtype, "concat")
        ptr = self._alloc(prod(shape) * es, "concat")
        out = WasmArray(self, ptr, shape, first.dtype)
        ost = _strides(shape)
        at = 0
        for t in xs:
            if t.size:
                self._copy("concat", es, ptr + at * ost[axis] * es, t.ptr, t.shape, ost, _strides(t.shape))
            at += t.shape[axis]
        return out

    @_serialized
    def pad(self, x, pads, value):
        x = self._h(x, "pad")
        shape = tuple(d + lo + hi for d, (lo, hi) in zip(x.shape, pads))
        out = self.full(shape, value, x.dtype)
        if x.size:
            ost = _strides(shape)
            offset = sum(lo * s for (lo, _), s in zip(pads, ost))
            self._copy("pad", x.dtype.size, out.ptr + offset * x.dtype.size, x.ptr, x.shape, ost, _strides(x.shape))
        return out

    @_serialized
    def broadcast_to(self, x, shape):
        x = self._h(x, "broadcast_to")
        shape = tuple(shape)
        if x.shape == shape:
            return x
        if x.size == prod(shape):  # only size-1 dims added: same bytes
            return self.reshape(x, shape)
        return self._strided("broadcast_to", x, shape, 0, _bcast_strides(x.shape, shape))

    # -- graph replay ---------------------------------------------------------------------------------
    def bind_static(self, type_, attrs, ins, outs):
        """A replay callable for one graph node (function/graph.py asks before its generic
        binding), or None. A graph's shapes and dtypes are static, so the params block a
        call would pack again (a fused program's words, a matmul's dims) is packed here
        once as a template: a call puts its operands' addresses into it, writes it in one
        host copy and makes one kernel call. In the page, where each Python step costs
        several times what it does natively, that packing was most of a fused node's time.
        The operands are this backend's handles by construction (graph.py moves a variable
        of another backend first), so they are not checked again. ``ins``/``outs``:
        (shape, dtype) pairs."""
        if any(dt is D.float16 for _, dt in ins) or any(dt is D.float16 for _, dt in outs):
            return None
        if any(prod(shape) * dt.size >= MEMORY_LIMIT for shape, dt in outs):
            return None  # the generic method raises the out-of-memory error
        if type_ == "fused" and "programs" in attrs:
            progs = attrs["programs"]
            return self._static_fused(progs, len(ins), outs, True) if self.fusable_many(progs) else None
        if type_ == "fused" and "anchor" in attrs:
            _, ta, tb = attrs["anchor"]
            return self._static_matmul(ins, outs, ta, tb, attrs["program"]) if self.fusable(attrs["program"]) else None
        if type_ == "fused":
            prog = attrs["program"]
            return self._static_fused((prog,), len(ins), outs, False) if self.fusable(prog) else None
        if type_ == "matmul":
            return self._static_matmul(ins, outs, attrs["transpose_a"], attrs["transpose_b"], None)
        if type_ == "binary":
            return self._static_binary(attrs["op"], ins, outs)
        if type_ in ("reduce", "softmax", "argreduce"):
            return self._static_rows(type_, attrs, ins[0], outs[0])
        if type_ == "sparse_softmax_xent" and ins[1][1] in (D.int32, D.int64):
            return self._static_xent(ins, outs)
        return None

    def _static_binary(self, op: str, ins, outs):
        """wt_binary with its broadcast plan (and N-d walk params) decided once."""
        (sx, dx), (sy, _dy) = ins
        shape, odt = tuple(outs[0][0]), outs[0][1]
        if odt is not (D.bool_ if op in base.BOOL_OPS else dx):
            return None
        pshape, n, mode, inner, walk = self._plan((tuple(sx), tuple(sy)), op)
        if pshape != shape:
            return None
        code, dtc, nbytes, params, write = _BINARY[op], _DT[dx], n * odt.size, self._params_addr, self._rt.write
        tmpl = _ints(len(walk)).pack(*walk) if walk else None

        def run(x, y):
            with self._lock:
                if tmpl is not None:
                    write(params, tmpl)
                ptr = self._run(op, "wt_binary", code, dtc, x.ptr, y.ptr, n, mode, inner)
                return self._new(ptr, shape, odt, op, nbytes)

        return run

    def _static_rows(self, type_: str, attrs, x_spec, out_spec):
        """wt_reduce over contiguous axes, wt_softmax and wt_argreduce over one axis: each
        an (outer, r, inner) block decided once."""
        xs, dt = tuple(x_spec[0]), x_spec[1]
        shape, odt = tuple(out_spec[0]), out_spec[1]
        if type_ == "reduce":
            axes, op = tuple(attrs["axes"]), attrs["op"]
            if not axes or axes != tuple(range(axes[0], axes[-1] + 1)) or odt is not dt:
                return None
            outer, r, inner = prod(xs[: axes[0]]), prod(xs[axes[0] : axes[-1] + 1]), prod(xs[axes[-1] + 1 :])
            name, export, lead = f"reduce_{op}", "wt_reduce", (_REDUCE[op], _DT[dt])
        else:
            axis = attrs["axis"]
            outer, r, inner = prod(xs[:axis]), xs[axis], prod(xs[axis + 1 :])
            if type_ == "softmax":
                name, export, lead = "softmax", "wt_softmax", (_DT[dt],)
            elif r == 0:
                return None  # the generic method's error
            else:
                name, export, lead = attrs["op"], "wt_argreduce", (attrs["op"] == "argmax", _DT[dt])
        tail = (_DT[attrs["dtype"]],) if type_ == "argreduce" else ()
        nbytes = prod(shape) * odt.size

        def run(x):
            with self._lock:
                ptr = self._run(name, export, *lead, x.ptr, outer, r, inner, *tail)
                return self._new(ptr, shape, odt, name, nbytes)

        return run

    def _static_xent(self, ins, outs):
        """wt_sparse_softmax_xent: (loss, dlogits) of fixed shapes."""
        (sx, dt), (_sl, ldt) = ins
        n = sx[-1]
        rows = prod(sx) // n if n else 0
        (ls, lt), (gs, gt) = ((tuple(s), d) for s, d in outs)
        i64, dtc, name = ldt is D.int64, _DT[dt], "sparse_softmax_cross_entropy"

        def run(logits, labels):
            with self._lock:
                ptr = self._run(name, "wt_sparse_softmax_xent", dtc, logits.ptr, labels.ptr, i64, rows, n)
                loss = self._new(ptr, ls, lt, name)
                return loss, WasmArray(self, self._more_outputs(1)[0], gs, gt)

        return run

    def _static_fused(self, programs, n_in: int, outs, many: bool):
        """wt_fused_many (``many``) or wt_fused over a template params block."""
        data = [len(programs)] + [0] * len(programs) if many else []
        slots = []  # byte offsets of each block's input addresses
        for i, (p, (shape, _dt)) in enumerate(zip(programs, outs)):
            if many:
                data[1 + i] = len(data)
            data += [len(p), prod(shape), n_in]
            slots.append(4 * len(data))
            data += [0] * n_in
            data += self._words(p)
        if 4 * len(data) > PARAMS_BLOCK:
            return None
        tmpl, ptrs = bytearray(_ints(len(data)).pack(*data)), _ints(n_in)
        spans = [(off, off + 4 * n_in) for off in slots]
        export, params, write = ("wt_fused_many" if many else "wt_fused"), self._params_addr, self._rt.write
        shape0, dt0 = outs[0]
        nbytes0, rest = prod(shape0) * dt0.size, [(tuple(s), dt) for s, dt in outs[1:]]
        shape0 = tuple(shape0)

        def run(*hs):
            with self._lock:
                pb = ptrs.pack(*[h.ptr for h in hs])
                for a, b in spans:
                    tmpl[a:b] = pb
                write(params, tmpl)
                first = self._new(self._run("fused", export), shape0, dt0, "fused", nbytes0)
                if not many:
                    return first
                more = self._more_outputs(len(rest))
                return (first, *[WasmArray(self, ptr, s, dt) for ptr, (s, dt) in zip(more, rest)])

        return run

    def _static_matmul(self, ins, outs, ta, tb, program):
        """wt_matmul (or wt_matmul_fused with ``program`` as its epilogue) of fixed shapes:
        the batch folded into rows, or equal batch dims; None where operands broadcast."""
        (sa, da), (sb, db) = ins[0], ins[1]
        if da is not db or len(sa) < 2 or len(sb) < 2:
            return None
        m, k = (sa[-1], sa[-2]) if ta else (sa[-2], sa[-1])
        n = sb[-2] if tb else sb[-1]
        ab, bb = tuple(sa[:-2]), tuple(sb[:-2])
        if prod(bb) == 1 and not ta:
            dims = (1, 0, 0, m * prod(ab), n, k, int(ta), int(tb))
        elif ab == bb:
            batch = prod(ab)
            dims = (batch, m * k if batch > 1 else 0, k * n if batch > 1 else 0, m, n, k, int(ta), int(tb))
        else:
            return None
        shape, odt = tuple(outs[0][0]), outs[0][1]
        nbytes, dtc, params, write = prod(shape) * odt.size, _DT[da], self._params_addr, self._rt.write
        if program is None:
            tmpl = _ints(8).pack(*dims)

            def run(a, b):
                with self._lock:
                    write(params, tmpl)
                    return self._new(self._run("matmul", "wt_matmul", dtc, a.ptr, b.ptr), shape, odt, "matmul", nbytes)

            return run
        n_hs = len(ins) - 2
        words = self._words(program)
        data = (*dims, *(0,) * 8, len(program), prod(shape), n_hs + 1, 0, *(0,) * n_hs, *words)
        if 4 * len(data) > PARAMS_BLOCK:
            return None
        tmpl, ptrs, at = bytearray(_ints(len(data)).pack(*data)), _ints(n_hs), 4 * 20

        def run_fused(a, b, *hs):
            with self._lock:
                tmpl[at : at + 4 * n_hs] = ptrs.pack(*[h.ptr for h in hs])
                write(params, tmpl)
                ptr = self._run("matmul", "wt_matmul_fused", dtc, a.ptr, b.ptr)
                return self._new(ptr, shape, odt, "matmul", nbytes)

        return run_fused


FUSED_MAX = 48  # instructions wt_fused takes (FUSED_MAX in kernels/codes.h)
_FUSED_KINDS = {k: i for i, k in enumerate(base.PROGRAM_KINDS)}  # kernels/codes.h F_*


def _fused_words(program):
    """The instruction words wt_fused reads (kernels/elementwise.c), or None when the
    kernel cannot run this program (float16, or a load needing more than 4 dims)."""
    words = []
    for kind, attr, dt, view, args in program:
        d = D.as_dtype(dt)
        if d is D.float16:
            return None
        op = _UNARY[attr] if kind == "unary" else _BINARY[attr] if kind == "binary" else 0
        if kind == "load":
            k, as_shape = args
            dims, (st,) = _collapse(tuple(view), [_bcast_strides(tuple(as_shape), tuple(view))])
            if len(dims) > 4:
                return None
            a = (k, 0, 0)
        else:
            dims, st = [1], [0]
            a = tuple(args) + (0,) * (3 - len(args))
        words += [
            _FUSED_KINDS[kind],
            op,
            _DT[d],
            *a,
            len(dims),
            *(list(dims) + [1] * (4 - len(dims))),
            *(list(st) + [0] * (4 - len(st))),
        ]
    return tuple(words)


_FULL = {d: struct.Struct("<" + ("B" if d is D.bool_ else d.fmt)) for d in D.ALL}
_TWO_F64 = struct.Struct("<2d")
_FOUR_F64 = struct.Struct("<4d")
_ACTIVATIONS = {a: i for i, a in enumerate(base.BIAS_ACTIVATIONS)}  # kernels/codes.h ACT_*
_TWO_I64 = struct.Struct("<2q")


def load_in_pyodide(wasm=None) -> WasmBackend:
    """Make the wasm backend the page's CPU backend, from the module's bytes (a JS
    ArrayBuffer/Uint8Array or Python bytes) or, by default, the copy in the wheel."""
    from .. import register, set_default

    backend = WasmBackend(wasm)
    register("wasm", lambda: backend)
    set_default("wasm")
    return backend

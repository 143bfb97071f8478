"""The GPU backend: every primitive of ``base.Backend`` as a WGSL kernel, through one
dispatcher over a device adapter (``device.Device``: wgpu-py natively, the
browser's WebGPU in the page).

The dispatcher is where eager speed comes from: pipelines are compiled once per
(kernel, specialisation); buffers come from a size-class pool and return to it when a
tensor dies; dispatches are recorded into one pending encoder, with their parameters
packed side by side in one uniform buffer, and submitted every ``SLOTS`` dispatches
or when data is read back. Shapes are collapsed (unit dims dropped, contiguous
neighbours merged) before a kernel sees them, so most kernels run at rank 1-3.
No numpy here: parameters are packed with ``struct``.
"""

from __future__ import annotations

import array
import functools
import inspect
import struct
import sys
import threading

from ... import dtypes as D
from ...errors import InvalidArgumentError, ResourceExhaustedError
from ...shape import broadcast_shape, prod
from .. import base, layout
from . import fft as _fft
from . import shaders as S
from .device import NoAdapterError, ShaderError  # noqa: F401  (re-exported)
from .memory import Handle, Pool

SLOT = 256  # parameter bytes per dispatch: one uniform binding
SLOTS = 128  # dispatches recorded before a submit
MAX_RANK = 8  # dims a kernel indexes after collapsing
WG = 256  # invocations per workgroup of the 1-D kernels


def open_default_device():
    """The adapter for this platform: the browser's WebGPU in Pyodide, else wgpu-py."""
    if sys.platform == "emscripten":
        from . import webgpu_device as adapter
    else:
        from . import wgpu_device as adapter
    return adapter.open_device()


# -- shape helpers (backends/layout.py) --------------------------------------------------------

_strides, _bcast_strides = layout.strides, layout.bcast_strides


def _collapse(shape: tuple, strides: list, op: str) -> tuple:
    """``layout.collapse``, refused past the MAX_RANK dims the kernels index."""
    dims, sts = layout.collapse(shape, strides)
    if len(dims) > MAX_RANK:
        raise InvalidArgumentError(
            f"{op}: the GPU kernels index at most {MAX_RANK} dims after merging "
            f"contiguous ones; shape {shape} needs {len(dims)} (run it under "
            f"tf.device('/CPU:0'))"
        )
    return dims, sts


def _pad(vals, n: int, fill: int = 0) -> list:
    return list(vals) + [fill] * (n - len(vals))


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


_BITS = {"f": "<f", "i": "<i", "u": "<I", "b": "<I"}


def _bits(value, dt: D.DType) -> int:
    """The 32-bit word of a scalar in dtype ``dt``'s compute type (float16: float32 bits)."""
    k = S.kind(dt)
    v = (1 if value else 0) if k == "b" else float(value) if k == "f" else int(value)
    if k == "u":
        v &= 0xFFFFFFFF
    elif k == "i":
        v = (v + 2**31) % 2**32 - 2**31
    try:
        return struct.unpack("<I", struct.pack(_BITS[k], v))[0]
    except OverflowError:  # a float beyond float32's range rounds to infinity, as numpy's
        return 0xFF800000 if v < 0 else 0x7F800000


def _identity(op: str, dt: D.DType):
    """``layout.identity``; int64 lives in 32 bits here, so its limits are int32's."""
    return layout.identity(op, D.int32 if dt is D.int64 else dt)


_FUSED_PARAMS = S.params_struct(S.FUSED_PARAMS)
_ZIP_SCALAR = S.param_offset("zip.wgsl", "scalar")  # a host-scalar operand's word

_INT64_RANGE = (
    "GPU: an int64 tensor of shape {} holds values outside the int32 range the GPU "
    "stores int64 in; keep it on the CPU (tf.device('/CPU:0'))"
)


class GPUBackend:
    """Primitives on a WebGPU device; see the module docstring."""

    name = "gpu"
    device_type = "GPU"
    fused = frozenset(
        (
            "softmax",
            "sparse_softmax_xent",
            "bias_act",
            "adam_update",
            "elementwise",
            "matmul_epilogue",
            "elementwise_many",
            "fft",
            "rfft",
        )
    )

    def __init__(self, device=None):
        self.dev = device if device is not None else open_default_device()
        self.adapter_name = self.dev.adapter_name
        self.is_fallback = self.dev.is_fallback
        lim = self.dev.limits
        self._max_groups = lim.get("maxComputeWorkgroupsPerDimension", 65535)
        self._max_binding = lim.get("maxStorageBufferBindingSize", 1 << 27)
        self._max_items = 64 if self.is_fallback else 4 * self._max_groups
        # tiled GEMM and tree reductions share workgroup memory: right for GPUs; CPU adapters
        # run workgroup barriers as thread switches and do better without (tests flip this)
        self.workgroup_kernels = not self.is_fallback
        self.storage = dict(S.STORAGE)  # dtype -> WGSL storage type
        if "shader-f16" in self.dev.features:
            self.storage.update(S.F16)
        self.dtypes = frozenset(self.storage)
        self._lock = threading.RLock()  # one op at a time: the pending encoder is shared state
        self.pool = Pool(self.dev, lim.get("maxBufferSize", 1 << 28), lock=self._lock)
        self._pipes: dict = {}
        self._plans: dict = {}
        self._fft_tables: dict = {}  # twiddles, chirps and chirp spectra per length (fft.py)
        self._params = bytearray(SLOT * SLOTS)
        self._pbuf = self.dev.create_buffer(SLOT * SLOTS, "uniform")
        self._slot = 0
        self.kernel_count = 0  # compute passes dispatched (tf.config.experimental.get_kernel_count)
        self._dummy = self.pool.take(16)

    def __repr__(self):
        return f"<GPUBackend on {self.adapter_name!r}>"

    # -- the dispatcher --------------------------------------------------------------------
    def _pipe(self, files: tuple, entry: str, layout: str, **subs):
        key = (files, entry, tuple(subs.items()))
        p = self._pipes.get(key)
        if p is None:
            code = S.specialise(files, subs)
            try:
                p = self.dev.create_pipeline(code, entry, layout, f"{files[-1]}:{entry}")
            except ShaderError as e:
                where = " + ".join(f"shaders/{f}" for f in ("common.wgsl",) + files)
                raise ShaderError(
                    f"WGSL compile error in {where} (entry point {entry!r}, specialised with {subs}):\n{e}"
                ) from None
            self._pipes[key] = p
        return p

    def _run(self, pipe, params: bytes, bufs: list, groups: tuple) -> None:
        """Record one dispatch: params go to the next uniform slot; ``bufs`` are the storage
        bindings in order, each a Handle or a (Buffer or None, nbytes) pair."""
        off = self._slot * SLOT
        self._params[off : off + len(params)] = params
        binds = [(self._pbuf, off, SLOT)]
        for h in bufs:
            b, nbytes = (h.buf, h.nbytes) if type(h) is Handle else h
            if b is None or nbytes == 0:
                b, nbytes = self._dummy, 16
            if nbytes > self._max_binding:
                raise ResourceExhaustedError(
                    f"GPU: a tensor of {nbytes} bytes exceeds this adapter's maxStorageBufferBindingSize "
                    f"({self._max_binding} bytes); split it or run it under tf.device('/CPU:0')"
                )
            binds.append((b.raw, 0, nbytes))
        self.dev.dispatch(pipe, binds, groups)
        self.pool.pending = True
        self.kernel_count += 1
        self._slot += 1
        if self._slot == SLOTS:
            self.flush()

    def flush(self) -> None:
        """Submit everything recorded so far."""
        if self._slot:
            self.dev.write_buffer(self._pbuf, 0, memoryview(self._params)[: self._slot * SLOT])
            self._slot = 0
        self.dev.submit()
        self.pool.flush()

    def _items(self, n: int) -> tuple:
        """Workgroups for an element kernel over n items: enough to cover them, capped
        (the kernels loop), fewer on CPU adapters where a workgroup is expensive."""
        return self._grid(min(_ceil(n, WG), self._max_items))

    def _grid(self, groups: int) -> tuple:
        """Workgroup counts for ``groups`` workgroups, spread over y past the x limit (and
        capped at the whole grid: the kernels loop)."""
        m = self._max_groups
        if groups <= m:
            return (groups, 1, 1)
        y = min(_ceil(groups, m), m)
        return (min(_ceil(groups, y), m), y, 1)

    def _new(self, shape: tuple, dtype: D.DType) -> Handle:
        h = Handle(shape, dtype, None)
        if h.n:
            h._buf = self.pool.take(h.nbytes)
        return h

    def _types(self, dt: D.DType) -> dict:
        """Specialisation of a kernel's storage type T and compute type C for a dtype."""
        t = self.storage[dt]
        return {"T": t, "C": S.COMPUTE[t]}

    def _map(
        self, x: Handle, shape: tuple, dtype: D.DType, expr: str, offset: int = 0, strides=None, op: str = "map"
    ) -> Handle:
        """out[i] = expr(x[offset + strided index of i]): unary ops, casts and copies."""
        key = ("map", x.shape, x.dtype, shape, dtype, expr, offset, strides and tuple(strides))
        plan = self._plans.get(key)
        if plan is None:
            st = _strides(x.shape) if strides is None else strides
            cs, (cst,) = _collapse(shape, [st], op)
            t, u = self.storage[x.dtype], self.storage[dtype]
            pipe = self._pipe(
                ("map.wgsl",), "main", "urw", T=t, U=u, C=S.COMPUTE[t], CU=S.COMPUTE[u], OP=expr, RANK=len(cs)
            )
            n = prod(shape)
            params = S.params("map.wgsl").pack(n, offset, 0, 0, *_pad(cs, 8, 1), *_pad(cst, 8))
            plan = self._plan(key, (pipe, params, self._items(n)))
        out = self._new(shape, dtype)
        if out.n:
            self._run(plan[0], plan[1], [x, out], plan[2])
        return out

    def _plan(self, key, plan):
        """Remember how a call with these shapes runs (eager loops repeat them every step)."""
        if len(self._plans) >= 8192:
            self._plans.clear()
        self._plans[key] = plan
        return plan

    def _fill(self, shape: tuple, dtype: D.DType, bits: int) -> Handle:
        out = self._new(shape, dtype)
        if out.n:
            pipe = self._pipe(("fill.wgsl",), "fill", "uw", **self._types(dtype))
            self._run(pipe, S.params("fill.wgsl").pack(out.n, bits, 0, 0), [out], self._items(out.n))
        return out

    def scalar_buffer(self, word: int, dtype: D.DType):
        """A buffer holding one host scalar a kernel must bind."""
        b = self.pool.take(4, host_write=True)
        data = struct.pack("<I", word)
        if dtype is D.float16:
            data = struct.pack("<e", struct.unpack("<f", data)[0]) + b"\0\0"
        self.dev.write_buffer(b.raw, 0, data)
        return b

    def memory_info(self) -> dict:
        """Pool statistics: live (held by tensors) and pooled (free) buffers and bytes."""
        return self.pool.info()

    # -- data movement ---------------------------------------------------------------------------
    def write(self, buf, shape, dtype):
        if dtype not in self.dtypes:  # uint8 label bytes were stored raw and read as i32
            raise InvalidArgumentError(
                f"GPU: dtype {dtype.name} is not stored on the GPU (it holds "
                f"{', '.join(sorted(d.name for d in self.dtypes))}); cast first"
            )
        shape = tuple(shape)
        n = prod(shape)
        if not n:
            return Handle(shape, dtype, None)
        mv = memoryview(buf).cast("B")
        if dtype is D.bool_:
            return self._bools_from_bytes(mv, shape)
        if dtype is D.int64:
            try:
                mv = memoryview(array.array("i", mv.cast("q"))).cast("B")
            except OverflowError:
                raise OverflowError(_INT64_RANGE.format(shape)) from None
        if n == 1:
            word = _bits(struct.unpack("<e", mv)[0], dtype) if dtype is D.float16 else struct.unpack("<I", mv)[0]
            return Handle(shape, dtype, None, word, self)
        h = Handle(shape, dtype, None)
        h._buf = self.pool.take(h.nbytes, host_write=True)
        self.dev.write_buffer(h._buf.raw, 0, mv if len(mv) == h.nbytes else bytes(mv) + bytes(h.nbytes - len(mv)))
        return h

    def _bools_from_bytes(self, mv: memoryview, shape: tuple) -> Handle:
        data = bytes(mv) + bytes(-len(mv) % 4)
        tmp = self.pool.take(len(data), host_write=True)
        self.dev.write_buffer(tmp.raw, 0, data)
        out = self._new(shape, D.bool_)
        pipe = self._pipe(("pack.wgsl",), "bool_from_bytes", "urw")
        self._run(pipe, S.params("pack.wgsl").pack(out.n, out.n, 0, 0), [(tmp, len(data)), out], self._items(out.n))
        return out

    def _host_words(self, h: Handle) -> tuple:
        """(buffer, bytes to read, host bytes) holding h in its host layout."""
        if h.dtype is D.bool_:
            words = _ceil(h.n, 4)
            entry, host = "bytes_from_bool", h.n
        elif h.dtype is D.int64:
            words = 2 * h.n
            entry, host = "i64_from_i32", 8 * h.n
        else:
            return h.buf, h.nbytes, h.n * (2 if h.dtype is D.float16 else 4)
        tmp = self.pool.take(4 * words)
        pipe = self._pipe(("pack.wgsl",), entry, "urw")
        self._run(pipe, S.params("pack.wgsl").pack(words, h.n, 0, 0), [h, (tmp, 4 * words)], self._items(words))
        return tmp, 4 * words, host

    @staticmethod
    def _host_scalar(h: Handle) -> memoryview:
        if h.dtype is D.bool_:
            return memoryview(bytes([1 if h.word else 0]))
        if h.dtype is D.int64:
            return memoryview(struct.pack("<q", struct.unpack("<i", struct.pack("<I", h.word))[0]))
        if h.dtype is D.float16:
            return memoryview(struct.pack("<e", struct.unpack("<f", struct.pack("<I", h.word))[0]))
        return memoryview(struct.pack("<I", h.word))

    def read(self, h):
        if not h.n:
            return memoryview(b"")
        if h.word is not None:
            return self._host_scalar(h)
        buf, nbytes, host = self._host_words(h)
        self.flush()
        return self.dev.read(buf.raw, 0, nbytes)[:host]

    async def read_async(self, h):
        if not h.n:
            return memoryview(b"")
        if h.word is not None:
            return self._host_scalar(h)
        buf, nbytes, host = self._host_words(h)
        self.flush()
        return (await self.dev.read_async(buf.raw, 0, nbytes))[:host]

    def full(self, shape, value, dtype):
        shape = tuple(shape)
        if dtype is D.int64 and not -(2**31) <= value < 2**31:
            raise OverflowError(_INT64_RANGE.format(shape))
        bits = _bits(value, dtype)
        if prod(shape) == 1:
            return Handle(shape, dtype, None, bits, self)
        return self._fill(shape, dtype, bits)

    def arange(self, start, delta, n, dtype):
        out = self._new((n,), dtype)
        if n:
            pipe = self._pipe(("fill.wgsl",), "arange", "uw", **self._types(dtype))
            params = S.params("fill.wgsl").pack(n, 0, _bits(start, dtype), _bits(delta, dtype))
            self._run(pipe, params, [out], self._items(n))
        return out

    def random(self, kind, shape, dtype, key):
        if dtype is not D.float32:  # drawn in float32, then rounded (as the numpy backend)
            return self.cast(self.random(kind, shape, D.float32, key), dtype)
        out = self._new(tuple(shape), dtype)
        if out.n:
            pipe = self._pipe(("random.wgsl",), "draw_" + kind, "uw")
            params = S.params("random.wgsl").pack(out.n, key[0] & 0xFFFFFFFF, key[1] & 0xFFFFFFFF, 0)
            self._run(pipe, params, [out], self._items(out.n))
        return out

    # -- elementwise ---------------------------------------------------------------------------
    def unary(self, op, x):
        try:
            expr = S.UNARY[op][S.kind(x.dtype)]
        except KeyError:
            raise InvalidArgumentError(f"GPU: unary {op} is not defined for {x.dtype.name} (shape {x.shape})") from None
        return self._map(x, x.shape, D.bool_ if op in base.BOOL_OPS else x.dtype, expr, op=op)

    def binary(self, op, x, y):
        side = 2 if y.word is not None else 1 if x.word is not None else 0  # a host-scalar operand
        key = (op, x.shape, y.shape, x.dtype, side)
        plan = self._plans.get(key) or self._binary_plan(key)
        shape, out_dtype, pipe, params, grid = plan
        out = self._new(shape, out_dtype)
        if not out.n:
            return out
        if side == 2:
            bufs = [x, (None, 0)]
            params = params[:_ZIP_SCALAR] + struct.pack("<I", y.word) + params[_ZIP_SCALAR + 4 :]
        elif side == 1:
            bufs = [(None, 0), y]
            params = params[:_ZIP_SCALAR] + struct.pack("<I", x.word) + params[_ZIP_SCALAR + 4 :]
        else:
            bufs = [x, y]
        self._run(pipe, params, bufs + [out], grid)
        return out

    def _binary_plan(self, key):
        op, xs, ys, dt, side = key
        try:
            expr = S.BINARY[op][S.kind(dt)]
        except KeyError:
            raise InvalidArgumentError(f"GPU: {op} is not defined for {dt.name} (shapes {xs} and {ys})") from None
        shape = xs if xs == ys else broadcast_shape(xs, ys, op)
        out_dtype = D.bool_ if op in base.BOOL_OPS else dt
        t, u = self.storage[dt], self.storage[out_dtype]
        c = S.COMPUTE[t]
        scalar = f"bitcast<{c}>(p.scalar)"
        cs, (sa, sb) = _collapse(shape, [_bcast_strides(xs, shape), _bcast_strides(ys, shape)], op)
        pipe = self._pipe(
            ("zip.wgsl",),
            "main",
            "urrw",
            T=t,
            U=u,
            C=c,
            CU=S.COMPUTE[u],
            OP=expr,
            RANK=len(cs),
            A=scalar if side == 1 else f"{c}(a[ia])",
            B=scalar if side == 2 else f"{c}(b[ib])",
        )
        n = prod(shape)
        params = S.params("zip.wgsl").pack(n, 0, 0, 0, *_pad(cs, 8, 1), *_pad(sa, 8), *_pad(sb, 8))
        return self._plan(key, (shape, out_dtype, pipe, params, self._items(n)))

    def where(self, cond, x, y):
        shape = broadcast_shape(broadcast_shape(cond.shape, x.shape, "where"), y.shape, "where")
        out = self._new(shape, x.dtype)
        if not out.n:
            return out
        cs, (sc, sa, sb) = _collapse(shape, [_bcast_strides(h.shape, shape) for h in (cond, x, y)], "where")
        pipe = self._pipe(("select.wgsl",), "main", "urrrw", T=self.storage[x.dtype], RANK=len(cs))
        params = S.params("select.wgsl").pack(out.n, 0, 0, 0, *_pad(cs, 8, 1), *_pad(sc, 8), *_pad(sa, 8), *_pad(sb, 8))
        self._run(pipe, params, [cond, x, y, out], self._items(out.n))
        return out

    def cast(self, x, dtype):
        if self.storage[x.dtype] == self.storage[dtype]:  # int32 <-> int64: the same 32-bit storage
            return x.view(x.shape, dtype)
        src, dst = S.kind(x.dtype), S.kind(dtype)
        return self._map(x, x.shape, dtype, S.CAST.get((src, dst), "x"), op="cast")

    # -- reductions ------------------------------------------------------------------------------
    def reduce(self, op, x, axes, keepdims):
        if not axes:
            return x
        shape = x.shape
        out_shape = (
            tuple(1 if i in axes else d for i, d in enumerate(shape))
            if keepdims
            else tuple(d for i, d in enumerate(shape) if i not in axes)
        )
        n_out, n_red = prod(out_shape), prod(shape[i] for i in axes)
        if not n_out:
            return Handle(out_shape, x.dtype, None)
        if not n_red:
            return self.full(out_shape, _identity(op, x.dtype), x.dtype)
        if n_red == 1:
            return x.view(out_shape, x.dtype)
        st = _strides(shape)
        groups = []  # [reduced?, size, stride] of merged runs
        for i, d in enumerate(shape):
            if d == 1:
                continue
            if groups and groups[-1][0] == (i in axes):
                groups[-1][1] *= d
                groups[-1][2] = st[i]
            else:
                groups.append([i in axes, d, st[i]])
        kept = [(d, s) for r, d, s in groups if not r]
        red = [(d, s) for r, d, s in groups if r]
        if len(kept) > 4 or len(red) > 4:
            raise InvalidArgumentError(
                f"reduce_{op}: the GPU kernel handles at most 4 runs of kept and "
                f"of reduced dims; axes {axes} of shape {shape} alternate more"
            )
        # one workgroup per output for long contiguous runs on a GPU; else one invocation
        # per output (CPU adapters run workgroup barriers as thread switches)
        contiguous = groups[-1][0] and n_red >= 256 and self.workgroup_kernels
        if contiguous:
            parts = 1 if n_out >= 64 else max(1, min(_ceil(n_red, 2048), 256 // n_out))
        else:  # one invocation per output
            parts = 1 if n_out >= 4096 else max(1, min(_ceil(n_red, 256), 8192 // n_out))
        chunk = _ceil(n_red, parts)
        parts = _ceil(n_red, chunk)
        k = S.kind(x.dtype)
        combine, ident = S.reduction(op, k)
        # float16 partial results stay in float32 (one rounding, as numpy's float32 accumulator)
        part_dt = D.float32 if parts > 1 and x.dtype is D.float16 else x.dtype
        pipe = self._pipe(
            ("reduce.wgsl",),
            "group" if contiguous else "serial",
            "urw",
            TO=self.storage[part_dt],
            COMBINE=combine,
            IDENTITY=ident,
            **self._types(x.dtype),
        )
        out = self._new((n_out, parts) if parts > 1 else out_shape, part_dt)
        params = S.params("reduce.wgsl").pack(
            n_out,
            n_red,
            parts,
            chunk,
            len(kept),
            len(red),
            0,
            0,
            *_pad([d for d, _ in kept], 4, 1),
            *_pad([s for _, s in kept], 4),
            *_pad([d for d, _ in red], 4, 1),
            *_pad([s for _, s in red], 4),
        )
        work = n_out * parts
        grid = self._grid(work) if contiguous else self._items(work)
        self._run(pipe, params, [x, out], grid)
        if parts > 1:
            out = self.cast(self.reduce(op, out, (1,), False), x.dtype)
            out = out.view(out_shape, x.dtype)
        return out

    def argreduce(self, op, x, axis, dtype):
        shape = x.shape
        n = shape[axis]
        if n == 0:
            raise InvalidArgumentError(f"{op}: reduction dimension {axis} of shape {shape} is empty")
        inner = prod(shape[axis + 1 :])
        out = self._new(shape[:axis] + shape[axis + 1 :], dtype)
        if out.n:
            pipe = self._pipe(
                ("argreduce.wgsl",), "main", "urw", BETTER=S.better(op, S.kind(x.dtype)), **self._types(x.dtype)
            )
            self._run(pipe, S.params("argreduce.wgsl").pack(out.n, n, inner, 0), [x, out], self._items(out.n))
        return out

    def scan(self, op, x, axis, exclusive, reverse):
        out = self._new(x.shape, x.dtype)
        n = x.shape[axis]
        lanes = out.n // n if n else 0
        if lanes:
            combine, ident = S.reduction(op, S.kind(x.dtype))
            types = self._types(x.dtype)
            pipe = self._pipe(
                ("scan.wgsl",), "main", "urw", COMBINE=combine, IDENTITY=f"{types['C']}({ident})", **types
            )
            params = S.params("scan.wgsl").pack(
                lanes, n, prod(x.shape[axis + 1 :]), (1 if exclusive else 0) | (2 if reverse else 0)
            )
            self._run(pipe, params, [x, out], self._items(lanes))
        return out

    # -- GEMM: matmul and convolutions ------------------------------------------------------------
    def _gemm(
        self,
        files: tuple,
        bufs: list,
        out_shape: tuple,
        dtype,
        m: int,
        n: int,
        k: int,
        batches: int,
        tail: tuple = (),
        geometry: str = "",
        splittable: bool = False,
        epilogue=None,
    ) -> Handle:
        """Run a GEMM kernel over ``batches`` x (m x n); ``tail`` holds the values of the
        kernel's own Params fields after the shared header, ``geometry`` its compiled-in constants.
        Split-K when the output is small and k long. Without ``workgroup_kernels`` (CPU
        adapters) the variant without workgroup memory runs."""
        tiles = _ceil(m, 64) * _ceil(n, 64) * batches
        splits = 1
        if splittable and tiles < 32 and k >= 1024:
            splits = min(_ceil(k, 256), max(1, 64 // tiles))
        kchunk = _ceil(_ceil(k, splits), 16) * 16
        splits = _ceil(k, kchunk)
        out = self._new((splits,) + out_shape if splits > 1 else out_shape, dtype)
        tile = 64 if self.workgroup_kernels else 32
        subs = dict(self._types(dtype), GEOMETRY=geometry) if geometry else self._types(dtype)
        driver = "gemm.wgsl" if self.workgroup_kernels else "gemm_direct.wgsl"
        extra = []
        if epilogue is not None and splits == 1:  # the program runs in the GEMM's store
            program, extra = epilogue
            pipe = self._epilogue_pipe(program, driver, subs, len(bufs))
        else:
            pipe = self._pipe(files + (driver,), "main", "u" + "r" * len(bufs) + "w", **subs)
        gx, gy, gz = _ceil(n, tile), _ceil(m, tile), batches * splits
        mg = self._max_groups
        if gx > mg:
            raise ResourceExhaustedError(
                f"GPU: a matrix product with {n} columns exceeds the adapter's grid ({mg} x 64)"
            )
        binds = bufs + [out] + list(extra)
        for z0 in range(0, gz, mg):
            for y0 in range(0, gy, mg):
                params = S.params(files[-1]).pack(m, n, k, kchunk, splits, z0, y0 * tile, batches, *tail)
                self._run(pipe, params, binds, (gx, min(mg, gy - y0), min(mg, gz - z0)))
        if splits > 1:
            out = self.reduce("sum", out, (0,), False).view(out_shape, dtype)
        if epilogue is not None and not extra and splits > 1:
            out = self.fused_elementwise(epilogue[0], out, *epilogue[1])
        return out

    def _epilogue_pipe(self, program, driver, subs, n_bufs):
        key = ("epilogue", program, driver, tuple(subs.items()))
        pipe = self._pipes.get(key)
        if pipe is None:
            idx = [_load_index(ins) if ins[0] == "load" else "" for ins in program]
            code = S.matmul_epilogue_source(program, self.storage, idx, driver, subs)
            n_in = 1 + max(ins[4][0] for ins in program if ins[0] == "load")
            try:
                pipe = self.dev.create_pipeline(
                    code, "main", "u" + "r" * n_bufs + "w" + "r" * (n_in - 1), "matmul_epilogue"
                )
            except ShaderError as e:
                raise ShaderError(f"WGSL compile error in a matmul epilogue kernel:\n{e}\n{code}") from None
            self._pipes[key] = pipe
        return pipe

    def fusable_many(self, programs) -> bool:
        limit = self.dev.limits.get("maxStorageBuffersPerShaderStage", 8)
        n_in = 1 + max(ins[4][0] for p in programs for ins in p if ins[0] == "load")
        return all(S.fused_supported(p, self.storage) for p in programs) and n_in + len(programs) <= limit

    def fused_many(self, programs, *hs):
        """Independent fused programs in one generated kernel (one dispatch)."""
        key = ("many", programs)
        pipe = self._pipes.get(key)
        if pipe is None:
            idx = [[_load_index(ins) if ins[0] == "load" else "" for ins in p] for p in programs]
            code, n_in = S.fused_many_source(programs, self.storage, idx)
            try:
                pipe = self.dev.create_pipeline(code, "main", "u" + "r" * n_in + "w" * len(programs), "fused_many")
            except ShaderError as e:
                raise ShaderError(f"WGSL compile error in a fused kernel:\n{e}\n{code}") from None
            self._pipes[key] = pipe
        n_in = 1 + max(ins[4][0] for p in programs for ins in p if ins[0] == "load")
        outs = [self._new(tuple(p[-1][3]), D.as_dtype(p[-1][2])) for p in programs]
        total = sum(o.n for o in outs)
        if total:
            self._run(pipe, _FUSED_PARAMS.pack(total, 0, 0, 0), list(hs[:n_in]) + outs, self._items(total))
        return tuple(outs)

    def fused_matmul(self, program, transpose_a, transpose_b, a, b, *hs):
        """matmul whose store applies a fused elementwise program (input 0 is the product):
        one dispatch (two when split-K needs a second pass)."""
        out = self._matmul(a, b, transpose_a, transpose_b, (program, hs))
        shape = tuple(program[-1][3])
        return out if out.shape == shape else out.view(shape, out.dtype)

    def matmul(self, a, b, transpose_a, transpose_b):
        return self._matmul(a, b, transpose_a, transpose_b)

    def _matmul(self, a, b, transpose_a, transpose_b, epilogue=None):
        m, k = (a.shape[-1], a.shape[-2]) if transpose_a else (a.shape[-2], a.shape[-1])
        n = b.shape[-2] if transpose_b else b.shape[-1]
        bshape = broadcast_shape(a.shape[:-2], b.shape[:-2], "matmul")
        out_shape = bshape + (m, n)
        if not prod(out_shape):
            return Handle(out_shape, a.dtype, None)
        if not k:
            z = self._fill(out_shape, a.dtype, 0)
            return z if epilogue is None else self.fused_elementwise(epilogue[0], z, *epilogue[1])
        cb, (sa, sb) = _collapse(
            bshape, [_bcast_strides(a.shape[:-2], bshape, m * k), _bcast_strides(b.shape[:-2], bshape, k * n)], "matmul"
        )
        if len(cb) > 4:
            raise InvalidArgumentError(
                f"matmul: the GPU kernel handles at most 4 batch dims after merging; shapes {a.shape} and {b.shape}"
            )
        sam, sak = (1, m) if transpose_a else (k, 1)
        sbk, sbn = (1, k) if transpose_b else (n, 1)
        tail = (len(cb), 0, 0, 0, sam, sak, sbk, sbn, *_pad(cb, 4, 1), *_pad(sa, 4), *_pad(sb, 4))
        return self._gemm(
            ("matmul.wgsl",),
            [a, b],
            out_shape,
            a.dtype,
            m,
            n,
            k,
            prod(bshape),
            tail,
            splittable=True,
            epilogue=epilogue,
        )

    @staticmethod
    def _geometry(x_shape, w_shape, oh, ow, strides, pads, dilations, groups) -> str:
        """The convolution kernels' compiled-in constants (everything but the batch size)."""
        _, h, w, c = x_shape
        kh, kw, cg, o = w_shape
        dims = dict(
            H=h,
            W=w,
            C=c,
            O=o,
            OH=oh,
            OW=ow,
            KH=kh,
            KW=kw,
            SH=strides[0],
            SW=strides[1],
            DH=dilations[0],
            DW=dilations[1],
            CG=cg,
            OG=o // groups,
        )
        return "\n".join(
            [f"const {k}: u32 = {v}u;" for k, v in dims.items()]
            + [f"const PT: i32 = {pads[0][0]};", f"const PL: i32 = {pads[1][0]};"]
        )

    def conv2d(self, x, w, strides, pads, dilations, groups):
        n_, h, wd, _ = x.shape
        kh, kw, cg, o = w.shape
        oh = (h + pads[0][0] + pads[0][1] - (kh - 1) * dilations[0] - 1) // strides[0] + 1
        ow = (wd + pads[1][0] + pads[1][1] - (kw - 1) * dilations[1] - 1) // strides[1] + 1
        out_shape = (n_, oh, ow, o)
        if not prod(out_shape):
            return Handle(out_shape, x.dtype, None)
        if not kh * kw * cg:
            return self._fill(out_shape, x.dtype, 0)
        geo = self._geometry(x.shape, w.shape, oh, ow, strides, pads, dilations, groups)
        return self._gemm(
            ("conv2d.wgsl",), [x, w], out_shape, x.dtype, n_ * oh * ow, o // groups, kh * kw * cg, groups, geometry=geo
        )

    def conv2d_input_grad(self, dy, w, x_shape, strides, pads, dilations, groups):
        x_shape = tuple(x_shape)
        kh, kw, cg, o = w.shape
        if not prod(x_shape):
            return Handle(x_shape, dy.dtype, None)
        if not (dy.n and w.n):
            return self._fill(x_shape, dy.dtype, 0)
        n_, h, wd, _ = x_shape
        geo = self._geometry(x_shape, w.shape, dy.shape[1], dy.shape[2], strides, pads, dilations, groups)
        return self._gemm(
            ("conv2d_input_grad.wgsl",),
            [dy, w],
            x_shape,
            dy.dtype,
            n_ * h * wd,
            cg,
            kh * kw * (o // groups),
            groups,
            geometry=geo,
        )

    def conv2d_filter_grad(self, x, dy, w_shape, strides, pads, dilations, groups):
        w_shape = tuple(w_shape)
        kh, kw, cg, o = w_shape
        if not prod(w_shape):
            return Handle(w_shape, x.dtype, None)
        if not (x.n and dy.n):
            return self._fill(w_shape, x.dtype, 0)
        geo = self._geometry(x.shape, w_shape, dy.shape[1], dy.shape[2], strides, pads, dilations, groups)
        return self._gemm(
            ("conv2d_filter_grad.wgsl",),
            [x, dy],
            w_shape,
            x.dtype,
            kh * kw * cg,
            o // groups,
            dy.n // o,
            groups,
            geometry=geo,
            splittable=True,
        )

    # -- pooling -----------------------------------------------------------------------------------
    def _pool_params(self, file, count, x_shape, oh, ow, ksize, strides, pads) -> bytes:
        _, h, w, c = x_shape
        return S.params(file).pack(
            count, h, w, c, oh, ow, ksize[0], ksize[1], strides[0], strides[1], pads[0][0], pads[1][0]
        )

    def _pool_subs(self, op, dt) -> dict:
        k = S.kind(dt)
        return dict(self._types(dt), MAX="true" if op == "max" else "false", LOWEST=S.LOWEST[k])

    def pool2d(self, op, x, ksize, strides, pads):
        n_, h, w, c = x.shape
        oh = (h + pads[0][0] + pads[0][1] - ksize[0]) // strides[0] + 1
        ow = (w + pads[1][0] + pads[1][1] - ksize[1]) // strides[1] + 1
        out = self._new((n_, oh, ow, c), x.dtype)
        if out.n:
            maxop = "fmax_(best, v)" if x.dtype.kind == "f" else "max(best, v)"
            pipe = self._pipe(("pool.wgsl",), "main", "urw", MAXOP=maxop, **self._pool_subs(op, x.dtype))
            self._run(
                pipe,
                self._pool_params("pool.wgsl", out.n, x.shape, oh, ow, ksize, strides, pads),
                [x, out],
                self._items(out.n),
            )
        return out

    def pool2d_grad(self, op, x, dy, ksize, strides, pads):
        if not dy.n:
            return self._fill(x.shape, dy.dtype, 0)
        out = self._new(x.shape, dy.dtype)
        if out.n:
            greater = "(is_nan(v) && !is_nan(best)) || v > best" if x.dtype.kind == "f" else "v > best"
            pipe = self._pipe(("pool_grad.wgsl",), "main", "urrw", GREATER=greater, **self._pool_subs(op, x.dtype))
            self._run(
                pipe,
                self._pool_params("pool_grad.wgsl", out.n, x.shape, dy.shape[1], dy.shape[2], ksize, strides, pads),
                [x, dy, out],
                self._items(out.n),
            )
        return out

    # -- indexing ----------------------------------------------------------------------------------
    def gather(self, x, indices, axis):
        shape = x.shape[:axis] + indices.shape + x.shape[axis + 1 :]
        out = self._new(shape, x.dtype)
        if out.n:
            inner = prod(x.shape[axis + 1 :])
            pipe = self._pipe(("gather.wgsl",), "main", "urrw", T=self.storage[x.dtype])
            self._run(
                pipe,
                S.params("gather.wgsl").pack(out.n, x.shape[axis], inner, indices.n),
                [x, indices, out],
                self._items(out.n),
            )
        return out

    def scatter_add(self, indices, updates, shape, axis):
        shape = tuple(shape)
        if updates.dtype is D.float16:  # atomics are 32-bit: accumulate in float32
            return self.cast(self.scatter_add(indices, self.cast(updates, D.float32), shape, axis), D.float16)
        out = self._fill(shape, updates.dtype, 0)
        if out.n and updates.n:
            inner = prod(shape[axis + 1 :])
            pipe = self._pipe(
                ("scatter_add.wgsl",),
                "main",
                "urrw",
                T=self.storage[updates.dtype],
                FLOAT="true" if updates.dtype.kind == "f" else "false",
            )
            self._run(
                pipe,
                S.params("scatter_add.wgsl").pack(updates.n, shape[axis], inner, indices.n),
                [indices, updates, out],
                self._items(updates.n),
            )
        return out

    # -- data movement without arithmetic -------------------------------------------------------
    def reshape(self, x, shape):
        return x.view(tuple(shape), x.dtype)

    def transpose(self, x, perm):
        st = _strides(x.shape)
        return self._map(
            x, tuple(x.shape[p] for p in perm), x.dtype, "x", strides=[st[p] for p in perm], op="transpose"
        )

    def slice(self, x, begin, size, strides):
        st = _strides(x.shape)
        off = sum(b * s for b, s in zip(begin, st))
        return self._map(
            x, tuple(size), x.dtype, "x", offset=off, strides=[s * k for s, k in zip(st, strides)], op="slice"
        )

    def broadcast_to(self, x, shape):
        shape = tuple(shape)
        return self._map(x, shape, x.dtype, "x", strides=_bcast_strides(x.shape, shape), op="broadcast_to")

    def concat(self, xs, axis):
        shape = list(xs[0].shape)
        shape[axis] = sum(h.shape[axis] for h in xs)
        out = self._new(tuple(shape), xs[0].dtype)
        if not out.n:
            return out
        outer = prod(shape[:axis])
        row = prod(shape[axis:])
        pipe = None
        off = 0
        for h in xs:
            inner = prod(h.shape[axis:])
            if h.n:
                cs, (cst,) = _collapse((outer, inner), [(row, 1)], "concat")
                pipe = self._pipe(("place.wgsl",), "main", "urw", T=self.storage[h.dtype], RANK=len(cs))
                params = S.params("place.wgsl").pack(h.n, off, 0, 0, *_pad(cs, 8, 1), *_pad(cst, 8))
                self._run(pipe, params, [h, out], self._items(h.n))
            off += inner
        return out

    def pad(self, x, pads, value):
        shape = tuple(d + a + b for d, (a, b) in zip(x.shape, pads))
        if not x.n:
            return self._fill(shape, x.dtype, _bits(value, x.dtype))
        out = self._new(shape, x.dtype)
        r = len(shape)
        if r > MAX_RANK:
            raise InvalidArgumentError(f"pad: the GPU kernel handles rank <= {MAX_RANK}, got shape {x.shape}")
        pipe = self._pipe(("pad.wgsl",), "main", "urw", RANK=r, **self._types(x.dtype))
        params = S.params("pad.wgsl").pack(
            out.n, _bits(value, x.dtype), 0, 0, *_pad(shape, 8, 1), *_pad([a for a, _ in pads], 8), *_pad(x.shape, 8, 1)
        )
        self._run(pipe, params, [x, out], self._items(out.n))
        return out

    # -- fused kernels (optional; base.FusedKernels states each formula) -----------------------
    def fusable(self, program) -> bool:
        limit = self.dev.limits.get("maxStorageBuffersPerShaderStage", 8)
        return (
            S.fused_supported(program, self.storage)
            and len({ins[4][0] for ins in program if ins[0] == "load"}) + 2 <= limit
        )  # + out, + a GEMM's 2nd operand

    def fused_elementwise(self, program, *hs):
        """One generated WGSL kernel for a fused elementwise program (function/passes.py),
        compiled once per program: every element runs the whole op chain in registers."""
        pipe = self._pipes.get(program)
        if pipe is None:
            idx = [_load_index(ins) if ins[0] == "load" else "" for ins in program]
            code, _ = S.fused_source(program, self.storage, idx)
            n_in = 1 + max(ins[4][0] for ins in program if ins[0] == "load")
            try:
                pipe = self.dev.create_pipeline(code, "main", "u" + "r" * n_in + "w", "fused")
            except ShaderError as e:
                raise ShaderError(f"WGSL compile error in a fused elementwise kernel:\n{e}\n{code}") from None
            self._pipes[program] = pipe
        shape, dt = tuple(program[-1][3]), D.as_dtype(program[-1][2])
        out = self._new(shape, dt)
        if out.n:
            self._run(pipe, _FUSED_PARAMS.pack(out.n, 0, 0, 0), list(hs) + [out], self._items(out.n))
        return out

    def softmax(self, x, axis):
        if x.dtype is not D.float32:
            return self.cast(self.softmax(self.cast(x, D.float32), axis), x.dtype)
        out = self._new(x.shape, x.dtype)
        n = x.shape[axis]
        rows = out.n // n if n else 0
        if rows:
            pipe = self._pipe(("softmax.wgsl",), "main", "urw")
            self._run(
                pipe, S.params("softmax.wgsl").pack(rows, n, prod(x.shape[axis + 1 :]), 0), [x, out], self._grid(rows)
            )
        return out

    def sparse_softmax_xent(self, logits, labels):
        """``base.FusedKernels.sparse_softmax_xent``; out-of-range labels give NaN (as TF on GPUs)."""
        if logits.dtype is not D.float32:
            loss, grad = self.sparse_softmax_xent(self.cast(logits, D.float32), labels)
            return self.cast(loss, logits.dtype), self.cast(grad, logits.dtype)
        n = logits.shape[-1]
        rows = logits.n // n if n else 0
        loss, grad = self._new(logits.shape[:-1], logits.dtype), self._new(logits.shape, logits.dtype)
        if rows:
            pipe = self._pipe(("softmax_xent.wgsl",), "main", "urrww")
            self._run(
                pipe, S.params("softmax_xent.wgsl").pack(rows, n, 0, 0), [logits, labels, loss, grad], self._grid(rows)
            )
        return loss, grad

    def bias_act(self, x, bias, activation: str):
        """``base.FusedKernels.bias_act`` (the WGSL of each activation: shaders.ACTIVATIONS)."""
        if x.dtype is not D.float32:  # the kernel reads f32: float16 buffers gave garbage
            y = self.bias_act(self.cast(x, D.float32), self.cast(bias, D.float32), activation)
            return self.cast(y, x.dtype)
        out = self._new(x.shape, x.dtype)
        if out.n:
            pipe = self._pipe(("bias_act.wgsl",), "main", "urrw", ACT=S.ACTIVATIONS[activation])
            self._run(pipe, S.params("bias_act.wgsl").pack(out.n, bias.n, 0, 0), [x, bias, out], self._items(out.n))
        return out

    def fft(self, re, im, inverse):
        """``base.OPTIONAL_KERNELS``: Stockham radix-2 passes, Bluestein for other lengths (fft.py)."""
        return _fft.fft(self, re, im, inverse)

    def rfft(self, x):
        """``base.OPTIONAL_KERNELS``: the first n // 2 + 1 terms of the DFT of real x (fft.py)."""
        return _fft.rfft(self, x)

    def adam_update(self, w, m, v, g, alpha, c1, c2, eps):
        """``base.FusedKernels.adam_update`` in one kernel; float32 only."""
        if w.dtype is not D.float32:
            raise InvalidArgumentError(f"adam_update: the GPU kernel is float32, got {w.dtype.name}")
        outs = [self._new(w.shape, w.dtype) for _ in range(3)]
        if w.n:
            pipe = self._pipe(("adam.wgsl",), "main", "urrrrwww")
            self._run(
                pipe,
                S.params("adam.wgsl").pack(w.n, alpha, c1, c2, eps, 0, 0, 0),
                [w, m, v, g] + outs,
                self._items(w.n),
            )
        return tuple(outs)


def _load_index(ins) -> str:
    """WGSL index (in flat output index ``i``) of a fused program's load: its input read as
    ``as_shape`` broadcast to the load's view shape, as literal dims and strides."""
    _k, as_shape = ins[4]
    view = tuple(ins[3])
    dims, (st,) = _collapse(view, [_bcast_strides(as_shape, view)], "fused")
    terms, inner = [], 1
    for d in range(len(dims) - 1, -1, -1):
        if st[d]:
            t = "i" if inner == 1 else f"(i / {inner}u)"
            if d > 0:
                t = f"({t} % {dims[d]}u)"
            terms.append(t if st[d] == 1 else f"{t} * {st[d]}u")
        inner *= dims[d]
    return " + ".join(terms) or "0u"


def _serialized(method):
    """Run a primitive under the backend's lock: ops from several threads (a server's
    workers, finalisers) must not interleave their dispatches with another's submit."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with self._lock:
            try:
                return method(self, *args, **kwargs)
            except struct.error as e:  # a size past the kernels' u32 parameters (the core refused < 0)
                shapes = ", ".join(str(getattr(a, "shape", a)) for a in args)[:200]
                raise ResourceExhaustedError(
                    f"{method.__name__}: a size exceeds the GPU kernels' 32-bit parameters ({e}); operands {shapes}"
                ) from None

    return run


for _name, _fn in list(vars(GPUBackend).items()):
    if not _name.startswith("_") and inspect.isfunction(_fn) and not inspect.iscoroutinefunction(_fn):
        setattr(GPUBackend, _name, _serialized(_fn))

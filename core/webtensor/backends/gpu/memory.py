"""GPU memory: tensor handles, pooled buffers, and their return when Python drops them.

A ``Handle`` is what the core holds for a GPU tensor: shape, dtype and a ``Buffer``.
Handles are immutable, so several may share one Buffer (reshape, int32 <-> int64).
When the last handle goes, CPython's refcount drops the Buffer and ``__del__`` gives
its device buffer back to the ``Pool`` (no user-visible dispose, unlike TF.js).
"""

from __future__ import annotations

import contextlib

from ... import dtypes as D
from ...errors import ResourceExhaustedError
from ...shape import prod

_ITEMSIZE = {D.float16: 2}  # stored size where it is not 4 bytes (int64 and bool use 4)


def size_class(nbytes: int) -> int:
    """Round up to one of four sizes per octave (at most 25% slack), minimum 16 bytes."""
    if nbytes <= 16:
        return 16
    top = 1 << (nbytes - 1).bit_length()
    step = top >> 3
    return -(-nbytes // step) * step


class Buffer:
    """One device buffer of ``size`` bytes, owned by a pool."""

    __slots__ = ("raw", "size", "pool")

    def __init__(self, raw, size: int, pool: "Pool"):
        self.raw, self.size, self.pool = raw, size, pool

    def __del__(self):
        try:
            self.pool.release(self.raw, self.size)
        except Exception:  # interpreter shutdown: the device is going away anyway
            pass


class Handle:
    """A GPU tensor: ``shape``, ``dtype``, ``n`` elements in ``buf`` (None when empty).

    A one-element tensor made on the host (a Python scalar) also keeps its 32-bit
    ``word`` (of its compute type: float32 bits for float16): kernels read such operands from their parameters, and its buffer is only
    made (``buf``, through the backend's ``scalar_buffer``) if a kernel must bind it."""

    __slots__ = ("shape", "dtype", "n", "_buf", "word", "_be")

    def __init__(self, shape: tuple, dtype, buf: Buffer | None, word: int | None = None, be=None):
        self.shape, self.dtype, self._buf, self.word, self._be = shape, dtype, buf, word, be
        self.n = prod(shape)

    @property
    def buf(self) -> Buffer | None:
        b = self._buf
        if b is None and self.word is not None:
            b = self._buf = self._be.scalar_buffer(self.word, self.dtype)
        return b

    @property
    def nbytes(self) -> int:
        """Bytes of storage, rounded up to whole 32-bit words (what a binding covers)."""
        return -(-self.n * _ITEMSIZE.get(self.dtype, 4) // 4) * 4

    def view(self, shape: tuple, dtype) -> "Handle":
        """The same data under another shape or a dtype of the same storage."""
        return Handle(shape, dtype, self._buf, self.word, self._be)

    def __repr__(self):
        return f"<gpu {self.dtype.name}{list(self.shape)}>"


class Pool:
    """Free device buffers by size class, reused last-in first-out.

    Kernels may reuse a buffer released a moment ago: dispatches run in order. A queue
    write, though, lands before commands still unsubmitted, which may read the buffer's
    old contents; so a buffer released since the last submit is ``dirty`` and only given
    out for kernels, never for host writes, until ``flush``. Reuse in a fixed order also
    makes every training step pick the same buffers (the adapter caches bind groups).
    ``live`` counts buffers handed out and not yet returned.

    The pool keeps every device buffer it made reachable (``_owned``): when a tensor dies
    inside a reference cycle, the cycle collector finalises everything reachable only from
    the cycle, and would otherwise release the device buffer we are about to recycle.
    """

    def __init__(self, device, max_buffer: int = 1 << 28, max_pooled_bytes: int = 1 << 30, lock=None):
        self._dev = device
        self._lock = lock if lock is not None else contextlib.nullcontext()
        self.max_buffer = max_buffer
        self._free: dict = {}
        self._dirty: set = set()
        self._owned: dict = {}
        self.pending = False
        self.live = 0
        self.live_bytes = 0
        self.pooled_bytes = 0
        self.peak_bytes = 0
        self.max_pooled_bytes = max_pooled_bytes

    def take(self, nbytes: int, host_write: bool = False) -> Buffer:
        size = size_class(nbytes)
        if size > self.max_buffer:
            size = nbytes
            if size > self.max_buffer:
                raise ResourceExhaustedError(
                    f"GPU: a tensor of {nbytes} bytes exceeds this adapter's maxBufferSize ({self.max_buffer} "
                    f"bytes); split it or run it under tf.device('/CPU:0')"
                )
        free = self._free.get(size)
        raw = None
        if free:
            if not host_write or not self._dirty:
                raw = free.pop()
            else:
                for i in range(len(free) - 1, -1, -1):
                    if id(free[i]) not in self._dirty:
                        raw = free.pop(i)
                        break
        if raw is None:
            raw = self._dev.create_buffer(size, "storage")
            self._owned[id(raw)] = raw
        else:
            self.pooled_bytes -= size
        self.live += 1
        self.live_bytes += size
        self.peak_bytes = max(self.peak_bytes, self.live_bytes)
        return Buffer(raw, size, self)

    def release(self, raw, size: int) -> None:
        with self._lock:  # a tensor may die on any thread
            self._release(raw, size)

    def _release(self, raw, size: int) -> None:
        self.live -= 1
        self.live_bytes -= size
        if self.pooled_bytes + size > self.max_pooled_bytes and not self.pending:
            self._destroy(raw)
            return
        if self.pending:
            self._dirty.add(id(raw))
        self._free.setdefault(size, []).append(raw)
        self.pooled_bytes += size

    def _destroy(self, raw) -> None:
        self._dev.destroy_buffer(raw)
        del self._owned[id(raw)]

    def flush(self) -> None:
        """Commands were submitted: every free buffer may take host writes again."""
        self.pending = False
        self._dirty.clear()

    def trim(self) -> None:
        """Destroy every pooled (free) buffer."""
        for bufs in self._free.values():
            for raw in bufs:
                self._destroy(raw)
        self._free.clear()
        self.pooled_bytes = 0

    def info(self) -> dict:
        return {
            "live_buffers": self.live,
            "live_bytes": self.live_bytes,
            "peak_bytes": self.peak_bytes,
            "pooled_buffers": sum(len(v) for v in self._free.values()),
            "pooled_bytes": self.pooled_bytes,
        }

"""The all-reduce, broadcast and all-gather between workers: torch.distributed's gloo.

Why gloo through torch.distributed: it is a real, proven collective library
(ring/halving-doubling all-reduce over TCP) that runs on CPUs, and it is what Ray's
own ``ray.util.collective`` GLOO backend runs on since Ray 2.4x; we call it directly
because that wrapper has no per-call timeout. Every call here waits with a timeout
and raises ``CollectiveError`` naming the worker, the operation and the step.

Gradients travel in buckets: all arrays of one dtype are packed into flat buffers of
at most ``bytes_per_pack`` bytes, one collective call per buffer (not per variable);
``compression="float16"`` halves the bytes of float32 buckets on the wire.
Native only (numpy + torch); the core imports this module lazily.
"""

from __future__ import annotations

import datetime
import time

from ..errors import OpError


class CollectiveError(OpError, TimeoutError):
    """A collective did not complete in time, or a peer died (TF: DeadlineExceeded/Unavailable)."""


_DEFAULT_PACK = 25 * 1024 * 1024  # torch DDP's default bucket size


class Collective:
    """One worker's membership of the process group (rank 0 hosts the TCP store)."""

    def __init__(self, rank: int, world_size: int, address: str, timeout: float = 300.0, task: str | None = None):
        import torch.distributed as dist

        self.rank, self.world_size, self.timeout = rank, world_size, float(timeout)
        self.task = task or f"worker {rank}"
        self.calls = 0  # collective calls issued (buckets, not variables)
        self.bytes = 0  # payload bytes sent into all-reduces
        self.seconds = 0.0  # wall time spent waiting in collectives
        self.step = 0  # the caller's training step, for error messages
        self._dist = dist
        host, _, port = address.rpartition(":")
        try:
            dist.init_process_group(
                "gloo",
                init_method=f"tcp://{host}:{port}",
                rank=rank,
                world_size=world_size,
                timeout=datetime.timedelta(seconds=max(self.timeout, 60.0)),
            )
        except Exception as e:
            raise CollectiveError(
                f"{self.where('init_process_group')}: could not join the group of {world_size} "
                f"workers at {address} within {max(self.timeout, 60.0):g}s: {e}"
            ) from None

    def where(self, op: str) -> str:
        return f"{op} on {self.task} (rank {self.rank} of {self.world_size}) at step {self.step}"

    def _wait(self, start, op: str) -> None:
        """Start the collective (``start()`` -> work) and wait for it, both bounded: a peer that died
        can fail either step, and either way the error names this worker, the op and the step."""
        self._finish(self._start(start, op), op)

    def _start(self, start, op: str):
        t0 = time.perf_counter()
        try:
            return start()
        except Exception as e:
            raise self._failed(op, e) from None
        finally:
            self.seconds += time.perf_counter() - t0

    def _finish(self, work, op: str) -> None:
        t0 = time.perf_counter()
        try:
            work.wait(timeout=datetime.timedelta(seconds=self.timeout))
        except Exception as e:
            raise self._failed(op, e) from None
        finally:
            self.seconds += time.perf_counter() - t0

    def _failed(self, op: str, e: Exception) -> CollectiveError:
        others = [r for r in range(self.world_size) if r != self.rank]
        return CollectiveError(
            f"{self.where(op)} did not complete within {self.timeout:g}s; the workers "
            f"with ranks {others} did not all arrive (dead, hung, or out of step): "
            f"{str(e).splitlines()[0] if str(e) else type(e).__name__}"
        )

    def start_sum(self, flat, compression: str | None = None):
        """Start the SUM all-reduce of one packed 1-D bucket and return at once (gloo runs it on
        its own threads while the caller goes on, e.g. with the backward pass); ``wait_sum`` ends it."""
        import numpy as np
        import torch

        wire = flat.astype(np.float16) if compression == "float16" and flat.dtype == np.float32 else flat
        t = torch.from_numpy(wire)
        self.calls += 1
        self.bytes += wire.nbytes
        work = self._start(lambda: self._dist.all_reduce(t, op=self._dist.ReduceOp.SUM, async_op=True), "all_reduce")
        return work, t, flat.dtype

    def wait_sum(self, started):
        """The summed bucket of ``start_sum`` (a numpy array of the bucket's dtype), bounded by the timeout."""
        work, t, dtype = started
        self._finish(work, "all_reduce")
        return t.numpy().astype(dtype, copy=False)

    def all_reduce(
        self, arrays: list, op: str = "sum", bytes_per_pack: int = 0, compression: str | None = None
    ) -> list:
        """Element-wise sum (or mean) of each numpy array over all workers, bucketed."""
        if op not in ("sum", "mean"):
            raise ValueError(f"all_reduce: op must be 'sum' or 'mean', got {op!r}")
        out = [None] * len(arrays)
        for idx, dtype in _buckets(arrays, bytes_per_pack or _DEFAULT_PACK):
            res = self.wait_sum(self.start_sum(pack([arrays[i] for i in idx]), compression))
            if op == "mean":
                res = res / self.world_size if res.dtype.kind == "f" else res // self.world_size
            for i, part in zip(idx, unpack(res, [arrays[i] for i in idx])):
                out[i] = part.astype(dtype, copy=False)
        return out

    def broadcast(self, arrays: list, root: int = 0, bytes_per_pack: int = 0) -> list:
        """Every worker gets rank ``root``'s arrays (mirrored variables start equal)."""
        import numpy as np
        import torch

        out = [None] * len(arrays)
        for idx, dtype in _buckets(arrays, bytes_per_pack or _DEFAULT_PACK):
            flat = np.concatenate([np.ascontiguousarray(arrays[i]).reshape(-1) for i in idx]).astype(dtype)
            t = torch.from_numpy(flat)
            self.calls += 1
            self._wait(lambda: self._dist.broadcast(t, src=root, async_op=True), "broadcast")
            off = 0
            for i in idx:
                n = arrays[i].size
                out[i] = t.numpy()[off : off + n].reshape(arrays[i].shape).copy()
                off += n
        return out

    def all_gather(self, array) -> list:
        """Each worker's array (first dims may differ), in rank order."""
        import numpy as np
        import torch

        a = np.ascontiguousarray(array)
        sizes = self.all_reduce([_one_hot_len(a.shape[0] if a.ndim else 1, self.rank, self.world_size)])[0]
        rows = int(sizes.max())
        padded = np.zeros((rows,) + a.shape[1:], a.dtype) if a.ndim else np.zeros((1,), a.dtype)
        padded[: len(a) if a.ndim else 1] = a if a.ndim else a.reshape(1)
        parts = [torch.empty_like(torch.from_numpy(padded)) for _ in range(self.world_size)]
        self.calls += 1
        self._wait(lambda: self._dist.all_gather(parts, torch.from_numpy(padded), async_op=True), "all_gather")
        out = [p.numpy()[: int(n)] for p, n in zip(parts, sizes)]
        return out if a.ndim else [o.reshape(()) for o in out]

    def barrier(self) -> None:
        self.all_reduce([__import__("numpy").zeros(1, "float32")])

    def close(self) -> None:
        if self._dist.is_initialized():
            self._dist.destroy_process_group()


def pack(arrays: list):
    """One fresh 1-D buffer holding the arrays one after another (the collective writes into it)."""
    import numpy as np

    if len(arrays) == 1:
        return np.ascontiguousarray(arrays[0]).reshape(-1).copy()
    return np.concatenate([np.ascontiguousarray(a).reshape(-1) for a in arrays])


def unpack(flat, like: list) -> list:
    """``pack``'s inverse: views of ``flat`` shaped like each array of ``like``."""
    out, off = [], 0
    for a in like:
        out.append(flat[off : off + a.size].reshape(a.shape))
        off += a.size
    return out


def _one_hot_len(n: int, rank: int, world: int):
    import numpy as np

    v = np.zeros(world, np.int64)
    v[rank] = n
    return v


def _buckets(arrays: list, limit: int) -> list:
    """Indices of arrays grouped by dtype into runs of at most ``limit`` bytes (one array may exceed it)."""
    return plan_buckets([(a.dtype, a.nbytes) for a in arrays], limit)


def plan_buckets(items: list, limit: int, first_limit: int | None = None) -> list:
    """``[(dtype, nbytes)]`` -> ``[(indices, dtype)]``: consecutive runs of one dtype and at most
    ``limit`` bytes (``first_limit`` for the first run; one item may exceed either)."""
    out, cur, cur_dtype, cur_bytes = [], [], None, 0
    for i, (dtype, nbytes) in enumerate(items):
        cap = first_limit if first_limit is not None and not out else limit
        if cur and (dtype != cur_dtype or cur_bytes + nbytes > cap):
            out.append((cur, cur_dtype))
            cur, cur_bytes = [], 0
        cur.append(i)
        cur_dtype = dtype
        cur_bytes += nbytes
    if cur:
        out.append((cur, cur_dtype))
    return out

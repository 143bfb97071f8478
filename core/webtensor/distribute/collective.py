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
        t0 = time.perf_counter()
        try:
            start().wait(timeout=datetime.timedelta(seconds=self.timeout))
        except Exception as e:
            others = [r for r in range(self.world_size) if r != self.rank]
            raise CollectiveError(
                f"{self.where(op)} did not complete within {self.timeout:g}s; the workers "
                f"with ranks {others} did not all arrive (dead, hung, or out of step): "
                f"{str(e).splitlines()[0] if str(e) else type(e).__name__}"
            ) from None
        finally:
            self.seconds += time.perf_counter() - t0

    def all_reduce(
        self, arrays: list, op: str = "sum", bytes_per_pack: int = 0, compression: str | None = None
    ) -> list:
        """Element-wise sum (or mean) of each numpy array over all workers, bucketed."""
        import numpy as np
        import torch

        if op not in ("sum", "mean"):
            raise ValueError(f"all_reduce: op must be 'sum' or 'mean', got {op!r}")
        out = [None] * len(arrays)
        for idx, dtype in _buckets(arrays, bytes_per_pack or _DEFAULT_PACK):
            flat = (
                np.concatenate([np.ascontiguousarray(arrays[i]).reshape(-1) for i in idx])
                if len(idx) > 1
                else np.ascontiguousarray(arrays[idx[0]]).reshape(-1).copy()
            )
            wire = flat.astype(np.float16) if compression == "float16" and flat.dtype == np.float32 else flat
            t = torch.from_numpy(wire)
            self.calls += 1
            self.bytes += wire.nbytes
            self._wait(lambda: self._dist.all_reduce(t, op=self._dist.ReduceOp.SUM, async_op=True), "all_reduce")
            res = t.numpy().astype(flat.dtype, copy=False)
            if op == "mean":
                res = res / self.world_size if res.dtype.kind == "f" else res // self.world_size
            off = 0
            for i in idx:
                n = arrays[i].size
                out[i] = res[off : off + n].reshape(arrays[i].shape).astype(dtype, copy=False)
                off += n
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


def _one_hot_len(n: int, rank: int, world: int):
    import numpy as np

    v = np.zeros(world, np.int64)
    v[rank] = n
    return v


def _buckets(arrays: list, limit: int) -> list:
    """Indices of arrays grouped by dtype into runs of at most ``limit`` bytes (one array may exceed it)."""
    out, cur, cur_dtype, cur_bytes = [], [], None, 0
    for i, a in enumerate(arrays):
        if cur and (a.dtype != cur_dtype or cur_bytes + a.nbytes > limit):
            out.append((cur, cur_dtype))
            cur, cur_bytes = [], 0
        cur.append(i)
        cur_dtype = a.dtype
        cur_bytes += a.nbytes
    if cur:
        out.append((cur, cur_dtype))
    return out

"""The one thread that runs webtensor for the server, batching concurrent predicts.

webtensor's tape stack and GPU command batches are process state, not per thread, so
every load and every predict runs on this thread. Requests that arrive while a batch
runs queue up; the next turn concatenates the compatible ones into one batch (TF
Serving's batching), so many small concurrent requests cost about one model call.
"""
from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

from ..ops import array

MAX_BATCH_ROWS = 256  # rows of instances one model call takes, across requests


class PredictJob:
    """One request's inputs (name -> nested lists, batch first) for one servable."""

    __slots__ = ("servable", "columns", "future", "tensors", "rows")

    def __init__(self, servable, columns: dict):
        self.servable, self.columns, self.future = servable, columns, Future()
        self.tensors, self.rows = None, 0


class Worker:
    """``submit(fn, *args)`` runs anything on the webtensor thread; ``predict`` batches."""

    def __init__(self, max_batch_rows: int = MAX_BATCH_ROWS):
        if max_batch_rows < 1:
            raise ValueError(f"max_batch_rows must be >= 1, got {max_batch_rows}")
        self.max_batch_rows = max_batch_rows
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="webtensor-worker", daemon=True)
        self._thread.start()

    def submit(self, fn, *args) -> Future:
        fut = Future()
        self._jobs.put((fn, args, fut))
        return fut

    def predict(self, servable, columns: dict) -> Future:
        """Outputs (name -> nested lists, batch first) of ``servable`` on ``columns``."""
        job = PredictJob(servable, columns)
        self._jobs.put(job)
        return job.future

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        pending = []
        while True:
            item = pending.pop(0) if pending else self._jobs.get()
            if item is None:
                return
            if isinstance(item, PredictJob):
                batch = [item]
                while True:  # take what queued up meanwhile; the rest waits for the next turn
                    try:
                        nxt = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    (batch if isinstance(nxt, PredictJob) else pending).append(nxt)
                    if nxt is None:
                        break
                self._run_predicts(batch)
            else:
                fn, args, fut = item
                _settle(fut, fn, *args)

    def _run_predicts(self, jobs: list) -> None:
        ready = [j for j in jobs if _settle_error(j, _prepare, j)]
        groups: dict = {}
        for j in ready:
            key = (id(j.servable), tuple(tuple(t.shape[1:]) for t in j.tensors))
            groups.setdefault(key, []).append(j)
        for group in groups.values():
            for chunk in _chunks(group, self.max_batch_rows):
                self._run_group(chunk)

    def _run_group(self, jobs: list) -> None:
        if len(jobs) == 1:
            j = jobs[0]
            _settle(j.future, lambda: j.servable.run_columns(j.tensors))
            return
        try:
            merged = [array.concat([j.tensors[i] for j in jobs], 0) for i in range(len(jobs[0].tensors))]
            out = jobs[0].servable.run_columns(merged)
            if any(len(v) != sum(j.rows for j in jobs) for v in out.values()):
                raise ValueError("outputs are not one row per input row: requests cannot share a call")
        except Exception:  # noqa: BLE001 - run each alone so each request gets its own answer
            for j in jobs:
                self._run_group([j])
            return
        start = 0
        for j in jobs:
            j.future.set_result({k: v[start:start + j.rows] for k, v in out.items()})
            start += j.rows


def _prepare(job: PredictJob) -> None:
    job.tensors = job.servable.convert(job.columns)
    job.rows = int(job.tensors[0].shape[0])


def _chunks(jobs: list, max_rows: int):
    chunk, rows = [], 0
    for j in jobs:
        if chunk and rows + j.rows > max_rows:
            yield chunk
            chunk, rows = [], 0
        chunk.append(j)
        rows += j.rows
    if chunk:
        yield chunk


def _settle(fut: Future, fn, *args) -> None:
    try:
        fut.set_result(fn(*args))
    except BaseException as e:  # noqa: BLE001 - handed to the waiting request
        fut.set_exception(e)


def _settle_error(job: PredictJob, fn, *args) -> bool:
    try:
        fn(*args)
        return True
    except BaseException as e:  # noqa: BLE001
        job.future.set_exception(e)
        return False


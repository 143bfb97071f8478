"""The predict workers: a small pool of threads that run model calls, batching
concurrent predicts for the same version.

Requests that arrive while the workers are busy queue up; a worker takes the oldest
job and the queued jobs for the same servable (up to ``max_batch_rows`` rows) and
concatenates them into one model call (TF Serving's batching), so many small
concurrent requests cost about one call. Other versions' jobs stay queued for the
other workers, so one slow request holds one worker, never all of them. Loads and
upload validation do not run here (the repository runs them on its own threads).
"""

from __future__ import annotations

import collections
import threading
from concurrent.futures import Future

from ..ops import array

MAX_BATCH_ROWS = 256  # rows of instances one model call takes, across requests


class PredictJob:
    """One request's inputs (name -> nested lists, batch first) for one servable."""

    __slots__ = ("columns", "future", "hint", "rows", "servable", "tensors")

    def __init__(self, servable, columns: dict):
        self.servable, self.columns, self.future = servable, columns, Future()
        self.tensors, self.rows = None, 0
        first = next(iter(columns.values()), None)
        self.hint = len(first) if isinstance(first, list) else 1  # rows, before conversion


class Worker:
    """``threads`` workers; ``submit(fn, *args)`` runs anything on one, ``predict`` batches."""

    def __init__(self, max_batch_rows: int = MAX_BATCH_ROWS, threads: int = 1):
        if max_batch_rows < 1:
            raise ValueError(f"max_batch_rows must be >= 1, got {max_batch_rows}")
        if threads < 1:
            raise ValueError(f"threads must be >= 1 (predict workers), got {threads}")
        self.max_batch_rows = max_batch_rows
        self._queue: collections.deque = collections.deque()
        self._cond = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._loop, name=f"webtensor-worker-{i}", daemon=True) for i in range(threads)
        ]
        for t in self._threads:
            t.start()

    def submit(self, fn, *args) -> Future:
        fut = Future()
        self._put((fn, args, fut))
        return fut

    def predict(self, servable, columns: dict) -> Future:
        """Outputs (name -> nested lists, batch first) of ``servable`` on ``columns``."""
        job = PredictJob(servable, columns)
        self._put(job)
        return job.future

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=10)

    def _put(self, item) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the predict workers are closed")
            self._queue.append(item)
            self._cond.notify()

    def _take(self):
        """The next call, or a batch of predict jobs for one servable; None once closed."""
        with self._cond:
            while not self._queue:
                if self._closed:
                    return None
                self._cond.wait()
            first = self._queue.popleft()
            if not isinstance(first, PredictJob):
                return first
            batch, rows, rest = [first], first.hint, collections.deque()
            while self._queue:
                j = self._queue.popleft()
                if isinstance(j, PredictJob) and j.servable is first.servable and rows + j.hint <= self.max_batch_rows:
                    batch.append(j)
                    rows += j.hint
                else:
                    rest.append(j)
            self._queue = rest
            if rest:
                self._cond.notify()  # another worker can take what is left
            return batch

    def _loop(self) -> None:
        while True:
            item = self._take()
            if item is None:
                return
            if isinstance(item, list):
                self._run_predicts(item)
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
            j.future.set_result({k: v[start : start + j.rows] for k, v in out.items()})
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

"""Background threads for ``prefetch`` and ``map(num_parallel_calls=...)``, natively.

The page has no threads (Pyodide), and ``WEBTENSOR_DATA_THREADS=0`` turns them off, so both
fall back to producing elements on demand in the caller's thread. Backends are thread-safe;
the one hazard is a ``tf.function`` being traced on the main thread while a worker runs (a
variable read, e.g. a Normalization layer in ``map``, would join the trace). Workers mark
themselves (``tensor.data_worker``) so variable reads stay eager in them, and they wait while
a trace is active before starting an element.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .. import nest

_DONE = object()
WORKERS = max(2, min(8, os.cpu_count() or 2))


def threads_available() -> bool:
    return sys.platform != "emscripten" and os.environ.get("WEBTENSOR_DATA_THREADS", "1") != "0"


def _tracing() -> bool:
    from ..function.graph import TRACER

    return bool(TRACER.stack)


def _symbolic(element) -> bool:
    from ..function.graph import TRACER

    return any(getattr(t, "_be", None) is TRACER for t in nest.flatten(element))


def _wait_for_eager() -> None:
    while _tracing():
        time.sleep(0.001)


def _mark_worker() -> None:
    from .. import tensor

    tensor.data_worker.active = True


def concrete(produce):
    """``produce()`` in a worker thread, started outside any trace; never a symbolic result."""
    _mark_worker()
    _wait_for_eager()
    value = produce()
    if _symbolic(value):
        raise RuntimeError(
            "tf.data: a background worker produced a symbolic tensor while a tf.function was "
            "being traced; set WEBTENSOR_DATA_THREADS=0 and report this"
        )
    return value


class _Error:
    def __init__(self, exc):
        self.exc = exc


def background(make, buffer: int):
    """Iterate ``make()`` on a daemon thread, up to ``buffer`` elements ahead of the consumer."""
    q: queue.Queue = queue.Queue(maxsize=max(1, buffer))
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run():
        try:
            it = make()
            while not stop.is_set():
                try:
                    item = concrete(lambda: next(it))
                except StopIteration:
                    break
                if not put(item):
                    return
            put(_DONE)
        except BaseException as e:  # noqa: BLE001 - re-raised in the consumer
            put(_Error(e))

    worker = threading.Thread(target=run, name="webtensor-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Error):
                raise item.exc
            yield item
    finally:
        stop.set()


def parallel_map(make, fn, workers: int, deterministic: bool):
    """``fn`` over ``make()``'s elements on a thread pool, ``2 * workers`` in flight; results in
    input order when ``deterministic``, else as they finish."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webtensor-map")
    it = make()
    pending: list = []
    try:

        def submit() -> bool:
            try:
                e = next(it)
            except StopIteration:
                return False
            pending.append(pool.submit(concrete, lambda e=e: fn(e)))
            return True

        while len(pending) < 2 * workers and submit():
            pass
        while pending:
            if deterministic:
                fut = pending.pop(0)
            else:
                fut = next((f for f in pending if f.done()), None) or pending[0]
                pending.remove(fut)
            value = fut.result()
            submit()
            yield value
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=False, cancel_futures=True)

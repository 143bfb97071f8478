"""Summary writers and the per-thread summary state (default writer, default step, record_if).

A file writer creates ``events.out.tfevents.<secs>.<host>.<pid>.<uid>.v2`` in its logdir
at once (with the ``brain.Event:2`` version record, as TF does), queues events in memory
and appends them when the queue exceeds ``max_queue``, when ``flush_millis`` has passed,
on ``flush()``/``close()``, on leaving ``as_default()``, and when the writer is collected
or the process exits.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import platform
import threading
import time
import weakref

from . import proto
from .records import frame

_uid = itertools.count()
WRITER_SOURCE = "tensorflow.core.util.events_writer"  # what TF's EventsWriter stamps


class _State(threading.local):
    def __init__(self):
        self.writer = None
        self.step = None
        self.recording = None


state = _State()


def _append(path: str, queue: list) -> None:
    if queue:
        with open(path, "ab") as f:
            f.write(b"".join(queue))
        queue.clear()


class SummaryWriter:
    """``tf.summary.SummaryWriter``: where ``tf.summary.*`` calls go while it is the default."""

    def set_as_default(self, step=None) -> None:
        self._check_open()
        state.writer = self
        if step is not None:
            state.step = step

    @contextlib.contextmanager
    def as_default(self, step=None):
        """Make this the default writer inside the block, and ``step`` (if given) the default step
        until the block ends; flush on exit."""
        self._check_open()
        old_writer, old_step = state.writer, state.step
        try:
            state.writer = self
            if step is not None:
                state.step = step
            yield self
            self.flush()
        finally:
            state.writer = old_writer
            if step is not None:
                state.step = old_step

    def _check_open(self) -> None:
        pass

    def init(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def write_event(self, data: bytes) -> None:
        pass


class NoopWriter(SummaryWriter):
    """``tf.summary.create_noop_writer()``: its ``as_default`` changes nothing."""

    def set_as_default(self, step=None) -> None:
        pass

    @contextlib.contextmanager
    def as_default(self, step=None):
        yield self


class FileWriter(SummaryWriter):
    def __init__(self, logdir, max_queue=None, flush_millis=None, filename_suffix=None):
        logdir = os.fspath(logdir)
        os.makedirs(logdir, exist_ok=True)
        now = time.time()
        suffix = ".v2" if filename_suffix is None else str(filename_suffix)
        name = f"events.out.tfevents.{int(now):010d}.{_host()}.{os.getpid()}.{next(_uid)}{suffix}"
        self.logdir = logdir
        self.path = os.path.join(logdir, name)
        self._max_queue = 10 if max_queue is None else int(max_queue)
        self._flush_s = (120000 if flush_millis is None else int(flush_millis)) / 1000.0
        self._queue: list = []
        self._closed = False
        first = proto.event(float(int(now)), file_version="brain.Event:2", source_writer=WRITER_SOURCE)
        with open(self.path, "wb") as f:
            f.write(frame(first))
        self._last_flush = now
        self._finalizer = weakref.finalize(self, _append, self.path, self._queue)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"SummaryWriter for {self.logdir} is already closed")

    def write_event(self, data: bytes) -> None:
        self._check_open()
        self._queue.append(frame(data))
        now = time.time()
        if len(self._queue) > self._max_queue or now - self._last_flush > self._flush_s:
            self.flush()

    def flush(self) -> None:
        if self._closed:
            return
        _append(self.path, self._queue)
        self._last_flush = time.time()

    def close(self) -> None:
        self.flush()
        self._closed = True

    def __repr__(self):
        return f"<FileWriter {self.path}>"


def _host() -> str:
    try:
        return platform.node() or "localhost"
    except OSError:
        return "localhost"


def should_record() -> bool:
    """A default writer exists and ``record_if`` (if set) says yes."""
    if state.writer is None:
        return False
    cond = state.recording
    if callable(cond):
        cond = cond()
    return True if cond is None else bool(cond)

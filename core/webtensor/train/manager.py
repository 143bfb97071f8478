"""``tf.train.CheckpointManager`` and ``tf.train.latest_checkpoint``.

A directory's state lives in a file named ``checkpoint`` in TF's text format
(``model_checkpoint_path: "ckpt-3"``, ``all_model_checkpoint_paths``, their
timestamps and ``last_preserved_timestamp``), paths relative to the directory,
written atomically, so a crash never leaves it naming a half-written file.
"""

from __future__ import annotations

import collections
import os
import re
import time

from ..saving.atomic import atomic_write
from .checkpoint import SUFFIX

STATE_FILE = "checkpoint"
_LINE = re.compile(r'^\s*(\w+)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|([-+0-9.eE]+))\s*$')
MAX_STATE = 1 << 20  # bytes; a larger state file is refused


class CheckpointState:
    """The parsed state file: latest path, active paths, their timestamps."""

    def __init__(self, latest=None, paths=(), timestamps=(), last_preserved=0.0):
        self.model_checkpoint_path = latest
        self.all_model_checkpoint_paths = list(paths)
        self.all_model_checkpoint_timestamps = list(timestamps)
        self.last_preserved_timestamp = float(last_preserved)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def get_checkpoint_state(checkpoint_dir, latest_filename=None) -> CheckpointState | None:
    """The directory's state, or None when it has no state file."""
    path = os.path.join(os.fspath(checkpoint_dir), latest_filename or STATE_FILE)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_STATE + 1)
    except OSError:
        return None
    if len(raw) > MAX_STATE:
        raise ValueError(f"invalid checkpoint state {path}: larger than {MAX_STATE} bytes")
    state = CheckpointState()
    for n, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        m = _LINE.match(line)
        if m is None:
            raise ValueError(
                f"invalid checkpoint state {path}: line {n} is {line[:80]!r}, not 'key: \"path\"' or 'key: number'"
            )
        _set_field(state, path, n, m)
    if state.model_checkpoint_path is None:
        raise ValueError(f"invalid checkpoint state {path}: no model_checkpoint_path")
    return state


def _set_field(state: CheckpointState, path: str, n: int, m) -> None:
    key, text, number = m.group(1), m.group(2), m.group(3)
    strings = {"model_checkpoint_path", "all_model_checkpoint_paths"}
    if (key in strings) != (text is not None):
        raise ValueError(f"invalid checkpoint state {path}: line {n}: {key} has the wrong kind of value")
    try:
        if key == "model_checkpoint_path":
            state.model_checkpoint_path = _unquote(text)
        elif key == "all_model_checkpoint_paths":
            state.all_model_checkpoint_paths.append(_unquote(text))
        elif key == "all_model_checkpoint_timestamps":
            state.all_model_checkpoint_timestamps.append(float(number))
        elif key == "last_preserved_timestamp":
            state.last_preserved_timestamp = float(number)
        else:
            raise ValueError(f"invalid checkpoint state {path}: line {n}: unknown field {key!r}")
    except (TypeError, OverflowError) as e:
        raise ValueError(f"invalid checkpoint state {path}: line {n}: {e}") from None


def _relative(folder: str, path: str) -> str:
    """``path`` relative to ``folder`` when it is inside it (a moved directory keeps working)."""
    rel = os.path.relpath(path, folder)
    return os.path.abspath(path) if rel.startswith("..") else rel


def update_checkpoint_state(
    folder: str, latest: str, paths=None, timestamps=None, last_preserved: float | None = None
) -> None:
    """Atomically rewrite ``folder/checkpoint`` (paths stored relative to ``folder``)."""
    paths = [latest] if paths is None else list(paths)
    timestamps = [time.time()] * len(paths) if timestamps is None else list(timestamps)
    lines = [f"model_checkpoint_path: {_quote(_relative(folder, latest))}"]
    lines += [f"all_model_checkpoint_paths: {_quote(_relative(folder, p))}" for p in paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in timestamps]
    lines.append(f"last_preserved_timestamp: {float(last_preserved if last_preserved is not None else 0.0)!r}")
    text = "\n".join(lines) + "\n"
    atomic_write(os.path.join(folder, STATE_FILE), lambda f: f.write(text.encode("utf-8")))


def _absolute(folder: str, path: str) -> str:
    return path if os.path.isabs(path) else os.path.join(folder, path)


def latest_checkpoint(checkpoint_dir, latest_filename=None) -> str | None:
    """The prefix of the directory's newest checkpoint, or None (no state, or its file is gone)."""
    folder = os.fspath(checkpoint_dir)
    state = get_checkpoint_state(folder, latest_filename)
    if state is None:
        return None
    path = _absolute(folder, state.model_checkpoint_path)
    return path if os.path.exists(path + SUFFIX) else None


class CheckpointManager:
    """Numbered saves in one directory, keeping the newest ``max_to_keep`` (and one every
    ``keep_checkpoint_every_n_hours``), saving at most every ``checkpoint_interval`` steps."""

    def __init__(
        self,
        checkpoint,
        directory,
        max_to_keep,
        keep_checkpoint_every_n_hours=None,
        checkpoint_name: str = "ckpt",
        step_counter=None,
        checkpoint_interval=None,
        init_fn=None,
    ):
        if max_to_keep is not None and (not isinstance(max_to_keep, int) or max_to_keep <= 0):
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got {max_to_keep!r}.")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("`step_counter` should be passed if `checkpoint_interval` is not None.")
        self._checkpoint, self._directory = checkpoint, os.fspath(directory)
        self._max_to_keep, self._keep_hours = max_to_keep, keep_checkpoint_every_n_hours
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter, self._checkpoint_interval = step_counter, checkpoint_interval
        self._last_checkpoint_step, self._init_fn = None, init_fn
        self._recover(time.time())

    def _recover(self, now: float) -> None:
        """Pick up the active checkpoints a previous manager of this directory recorded."""
        self._maybe_delete = collections.OrderedDict()
        state = get_checkpoint_state(self._directory)
        if state is None:
            self._latest_checkpoint, self._last_preserved = None, now
            return
        self._latest_checkpoint = _absolute(self._directory, state.model_checkpoint_path)
        self._last_preserved = min(state.last_preserved_timestamp, now)
        paths = state.all_model_checkpoint_paths
        stamps = state.all_model_checkpoint_timestamps or [self._last_preserved] * len(paths)
        for path, stamp in zip(paths, stamps):
            if min(stamp, now) > self._last_preserved:
                self._maybe_delete[_absolute(self._directory, path)] = min(stamp, now)

    directory = property(lambda self: self._directory)
    checkpoint = property(lambda self: self._checkpoint)
    checkpoint_interval = property(lambda self: self._checkpoint_interval)
    latest_checkpoint = property(lambda self: self._latest_checkpoint)

    @property
    def checkpoints(self) -> list:
        """The active checkpoint prefixes, oldest first (those kept by the hours rule are not)."""
        return list(self._maybe_delete)

    def save(self, checkpoint_number=None, check_interval: bool = True, options=None) -> str | None:
        """Save ``<directory>/<name>-<n>``; None when ``checkpoint_interval`` says not yet."""
        if self._checkpoint_interval is not None:
            step = int(_value(self._step_counter))
            last = self._last_checkpoint_step
            if last is not None and (step == last or (check_interval and step < last + self._checkpoint_interval)):
                return None
            self._last_checkpoint_step = step
        counter = self._checkpoint.save_counter
        counter.assign_add(1)
        number = int(_value(counter if checkpoint_number is None else checkpoint_number))
        path = self._checkpoint.write(f"{self._prefix}-{number}")
        self._maybe_delete.pop(path, None)
        self._maybe_delete[path] = time.time()
        self._latest_checkpoint = path
        self._record()
        self._sweep()
        self._record()
        return path

    def _record(self) -> None:
        update_checkpoint_state(
            self._directory,
            self._latest_checkpoint,
            list(self._maybe_delete),
            list(self._maybe_delete.values()),
            self._last_preserved,
        )

    def _sweep(self) -> None:
        if not self._max_to_keep:
            return
        while len(self._maybe_delete) > self._max_to_keep:
            path, stamp = self._maybe_delete.popitem(last=False)
            if self._keep_hours and stamp - self._keep_hours * 3600.0 >= self._last_preserved:
                self._last_preserved = stamp
                continue
            try:
                os.unlink(path + SUFFIX)
            except FileNotFoundError:
                pass

    def restore_or_initialize(self) -> str | None:
        """Restore the latest checkpoint (returns its path), else run ``init_fn`` (returns None)."""
        if self._latest_checkpoint is not None:
            self._checkpoint.restore(self._latest_checkpoint)
            return self._latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None


def _value(x):
    return x.numpy() if hasattr(x, "numpy") else x

"""Placement: ``tf.device`` scopes, where an op runs, and implicit copies between backends.

An op runs on the backend of the innermost ``tf.device`` scope, else on its first
tensor input's backend; new tensors without inputs go to the default backend. A
dtype the chosen backend cannot store (float64 on a GPU) runs on the CPU backend.
"""

from __future__ import annotations

import re

from . import backends

_scope: list = [None]


def current():
    """The backend of the innermost ``tf.device`` scope, or None."""
    return _scope[-1]


def for_dtype(be, dtype):
    return be if dtype in be.dtypes else _fallback(dtype)


def creation_backend(dtype):
    """Backend for a tensor made from host data or by a creation op."""
    be = _scope[-1] or backends.default()
    return be if dtype in be.dtypes else _fallback(dtype)


def _fallback(dtype):
    """The CPU backend; for tf.string the host strings backend over it (strings stay on the host)."""
    if dtype.kind == "S":
        from .backends.host_strings import for_cpu

        return for_cpu(backends.cpu())
    return backends.cpu()


_DEVICE_RE = re.compile(r"(?:.*device:)?/?(?P<type>[A-Za-z]+)(?::(?P<index>\d+))?$")


def parse(name: str) -> tuple:
    """'/GPU:0', 'gpu', '/job:localhost/replica:0/task:0/device:CPU:0' -> ('GPU', 0)."""
    m = _DEVICE_RE.match(name.strip())
    if not m:
        raise ValueError(f"Invalid device specification {name!r}; use '/CPU:0' or '/GPU:0'")
    return m.group("type").upper(), int(m.group("index") or 0)


def backend_for_device(name: str):
    kind, index = parse(name)
    if kind == "CPU":
        return backends.cpu()
    if kind == "GPU":
        if index != 0:
            raise ValueError(f"device {name!r}: only GPU:0 exists")
        try:
            return backends.get("gpu")
        except Exception as e:
            raise RuntimeError(f"no GPU backend available ({e})") from None
    raise ValueError(f"Unknown device type {kind!r} in {name!r}; use CPU or GPU")


class device:
    """``with tf.device('/GPU:0'):`` - ops and new tensors in the block run there."""

    def __init__(self, device_name: str | None):
        self._name = device_name

    def __enter__(self):
        be = None if not self._name else backend_for_device(self._name)
        if getattr(_scope[-1], "name", None) == "trace":  # in a tf.function the graph keeps recording:
            be = None  # it replays on the backend it is called on
        _scope.append(be if be is not None else _scope[-1])
        return self

    def __exit__(self, *exc):
        _scope.pop()
        return False


def device_string(be) -> str:
    return f"/job:localhost/replica:0/task:0/device:{be.device_type}:0"

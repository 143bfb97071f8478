"""The allocation budget of a model being rebuilt from a file.

A model config is untrusted: ``Dense(units=10**9)`` would allocate gigabytes
before its weights could be compared with the file's. While a file's model is
built, every weight a layer creates is charged here first, against what the
file's declared tensors justify; going over is a ``ValueError`` before any
allocation happens.
"""
from __future__ import annotations

import contextlib

_left: list = []  # bytes still allowed, innermost build last


@contextlib.contextmanager
def limit(nbytes: int, what: str, at: int = 0):
    """Allow ``nbytes`` of weights to be created inside the block; ``at`` is the byte
    offset of the config in the file, for the error."""
    _left.append([nbytes, what, at])
    try:
        yield
    finally:
        _left.pop()


def charge(shape, dtype) -> None:
    """Called by ``Layer.add_weight`` before it allocates; free outside ``limit``."""
    if not _left:
        return
    n = getattr(dtype, "size", 4)
    for d in shape:
        n *= int(d) if d is not None else 1
    budget = _left[-1]
    budget[0] -= n
    if budget[0] < 0:
        raise ValueError(f"invalid model file: the model config asks for more weights than "
                         f"{budget[1]} holds (a weight of shape {tuple(shape)} is over the budget) "
                         f"(at byte offset {budget[2]})")

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
_probe_left: list = []  # bytes of build-probe inputs still allowed, innermost build last

# Building runs each layer once on zeros of its declared input shape (Keras's build
# probes). Those zeros are charged here, summed over the whole build, against what the
# weights justify plus this allowance: a tiny file declaring Input((8000, 8000)) is
# refused before 256 MB of zeros exist. Documented in docs/model-files.md.
PROBE_ALLOWANCE = 256 << 20


@contextlib.contextmanager
def limit(nbytes: int, what: str, at: int = 0):
    """Allow ``nbytes`` of weights to be created inside the block; ``at`` is the byte
    offset of the config in the file, for the error."""
    _left.append([nbytes, what, at])
    _probe_left.append([nbytes + PROBE_ALLOWANCE, what, at])
    try:
        yield
    finally:
        _left.pop()
        _probe_left.pop()


def _nbytes(shape, dtype) -> int:
    n = getattr(dtype, "size", 4)
    for d in shape:
        n *= int(d) if d is not None else 1
    return n


def _spend(stack: list, shape, dtype, message: str) -> None:
    """Charge ``shape``'s bytes to the innermost budget on ``stack`` (free outside ``limit``);
    over it, the ValueError ``message`` formatted with what/shape/nbytes/at."""
    if not stack:
        return
    n = _nbytes(shape, dtype)
    budget = stack[-1]
    budget[0] -= n
    if budget[0] < 0:
        raise ValueError(
            "invalid model file: "
            + message.format(what=budget[1], shape=tuple(shape), n=n)
            + f" (at byte offset {budget[2]})"
        )


def charge_probe(shape, dtype) -> None:
    """Called before a build probe allocates its zeros."""
    _spend(
        _probe_left,
        shape,
        dtype,
        "building the model config's layers needs more memory than {what} "
        "justifies (a build input of shape {shape}, {n} bytes, is over the budget)",
    )


def charge(shape, dtype) -> None:
    """Called by ``Layer.add_weight`` before it allocates."""
    _spend(
        _left,
        shape,
        dtype,
        "the model config asks for more weights than {what} holds (a weight of shape {shape} is over the budget)",
    )

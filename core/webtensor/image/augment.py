"""``tf.image`` random augmentations, stateful (``random_*``, an op seed) and stateless
(``stateless_random_*``, a shape [2] seed: the same seed gives the same result).

Each draws its parameter from our own counter-based stream (ops/random_streams.py), so
the values are reproducible here but differ from TF's Philox stream for the same seed."""

from __future__ import annotations

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..ops import array as A
from ..ops import math as M
from ..ops import random as RNG
from ..ops.random_streams import stateless_uniform
from ..tensor import Tensor
from .ops import _conv, _hw_axes, adjust_brightness, adjust_contrast


def _draw(shape, lo, hi, seed, stateless: bool, dtype=D.float32) -> Tensor:
    if stateless:
        return stateless_uniform(shape, seed, lo, hi, dtype)
    return RNG.uniform(shape, lo, hi, dtype, seed)


def _flip(image, axis_index: int, seed, stateless: bool) -> Tensor:
    """Each image of a batch (or the one image) flipped with probability 1/2."""
    x = _conv(image)
    axis = _hw_axes(x)[axis_index]
    rank = x.shape.rank
    n = x.shape[0] if rank == 4 else 1
    flip = _draw((n,), 0.0, 1.0, seed, stateless) < 0.5
    mask = A.reshape(flip, (n,) + (1,) * (rank - 1) if rank == 4 else (1,) * rank)
    return M.where(mask, A.reverse(x, [axis]), x)


def random_flip_left_right(image, seed=None) -> Tensor:
    return _flip(image, 1, seed, False)


def random_flip_up_down(image, seed=None) -> Tensor:
    return _flip(image, 0, seed, False)


def stateless_random_flip_left_right(image, seed) -> Tensor:
    return _flip(image, 1, seed, True)


def stateless_random_flip_up_down(image, seed) -> Tensor:
    return _flip(image, 0, seed, True)


def _brightness(image, max_delta, seed, stateless, op):
    if max_delta < 0:
        raise ValueError(f"{op}: max_delta must be non-negative, got {max_delta}")
    return adjust_brightness(image, _draw((), -max_delta, max_delta, seed, stateless))


def random_brightness(image, max_delta: float, seed=None) -> Tensor:
    return _brightness(image, max_delta, seed, False, "random_brightness")


def stateless_random_brightness(image, max_delta: float, seed) -> Tensor:
    return _brightness(image, max_delta, seed, True, "stateless_random_brightness")


def _contrast(image, lower, upper, seed, stateless, op):
    if upper <= lower:
        raise ValueError(f"{op}: upper must be > lower, got lower={lower} upper={upper}")
    if lower < 0:
        raise ValueError(f"{op}: lower must be non-negative, got {lower}")
    return adjust_contrast(image, _draw((), lower, upper, seed, stateless))


def random_contrast(image, lower: float, upper: float, seed=None) -> Tensor:
    return _contrast(image, lower, upper, seed, False, "random_contrast")


def stateless_random_contrast(image, lower: float, upper: float, seed) -> Tensor:
    return _contrast(image, lower, upper, seed, True, "stateless_random_contrast")


def _crop(value, size, seed, stateless: bool, op: str) -> Tensor:
    """A ``size`` window at a uniform offset. Offsets are Python ints (the slice is static),
    so under tf.function the draw must be known at trace time (stateless with a constant seed)."""
    x = _conv(value)
    shape = tuple(x._h.shape)
    size = [int(s) for s in (size.numpy().tolist() if hasattr(size, "numpy") else size)]
    if len(size) != len(shape) or any(s < 0 or s > d for s, d in zip(size, shape)):
        raise InvalidArgumentError(
            f"{op}: need size <= value.shape elementwise and of the same rank, got size {size} for shape {list(shape)}"
        )
    draws = _draw((len(shape),), 0.0, 1.0, seed, stateless)
    if getattr(draws._h, "symbolic", False):
        raise InvalidArgumentError(
            f"{op}: the crop offsets must be known when tracing (the slice is static); crop outside tf.function"
        )
    offsets = [min(int(u * (d - s + 1)), d - s) for u, d, s in zip(A._host_flat(draws), shape, size)]
    return A.slice(x, offsets, size)


def random_crop(value, size, seed=None, name=None) -> Tensor:
    return _crop(value, size, seed, False, "random_crop")


def stateless_random_crop(value, size, seed, name=None) -> Tensor:
    return _crop(value, size, seed, True, "stateless_random_crop")


def _quality(min_q: int, max_q: int, seed, stateless: bool, op: str) -> int:
    if not 0 <= min_q < max_q <= 100:
        raise ValueError(f"{op}: need 0 <= min_jpeg_quality < max_jpeg_quality <= 100, got {min_q}, {max_q}")
    draw = _draw((), min_q, max_q, seed, stateless, D.int32)
    return int(A._host_flat(draw)[0])


def random_jpeg_quality(image, min_jpeg_quality: int, max_jpeg_quality: int, seed=None) -> Tensor:
    """JPEG-encode and decode at a quality drawn from [min, max)."""
    from .encode import adjust_jpeg_quality

    return adjust_jpeg_quality(image, _quality(min_jpeg_quality, max_jpeg_quality, seed, False, "random_jpeg_quality"))


def stateless_random_jpeg_quality(image, min_jpeg_quality: int, max_jpeg_quality: int, seed) -> Tensor:
    from .encode import adjust_jpeg_quality

    return adjust_jpeg_quality(
        image, _quality(min_jpeg_quality, max_jpeg_quality, seed, True, "stateless_random_jpeg_quality")
    )

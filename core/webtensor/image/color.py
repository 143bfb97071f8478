"""``tf.image`` colour: dtype conversion, grayscale, HSV (TF's kernels' formulas), hue,
saturation, gamma, per-image standardisation and their random variants."""

from __future__ import annotations

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..ops import array as A
from ..ops import math as M
from ..ops import reduce as R
from ..ops.dispatch import operand
from ..tensor import Tensor

_GRAY = (0.2989, 0.5870, 0.1140)


def _image(x, op: str, channels: int | None = None) -> Tensor:
    t = operand(x, op)
    if len(t._h.shape) < 3:
        raise InvalidArgumentError(
            f"{op}: image must have rank >= 3 ([..., height, width, channels]), got shape {tuple(t._h.shape)}"
        )
    if channels is not None and t._h.shape[-1] != channels:
        raise InvalidArgumentError(
            f"{op}: the last dimension must be {channels} channels, got shape {tuple(t._h.shape)}"
        )
    return t


def convert_image_dtype(image, dtype, saturate=False, name=None) -> Tensor:
    """``tf.image.convert_image_dtype``: ints span [0, MAX], floats [0, 1) (TF's scaling:
    float -> int multiplies by MAX + 0.5; int -> int shifts)."""
    x = operand(image, "convert_image_dtype")
    dt = D.as_dtype(dtype)
    src = x._dtype
    if src is dt:
        return x
    if src.kind == "f" and dt.kind == "f":
        return M.cast(x, dt)
    if src.kind in "iu" and dt.kind == "f":
        return M.cast(x, dt) * (1.0 / src.max)
    if src.kind == "f" and dt.kind in "iu":
        scaled = x * (dt.max + 0.5)
        if saturate:
            scaled = M.clip_by_value(scaled, 0.0, float(dt.max))
        return M.cast(scaled, dt)
    if src.kind in "iu" and dt.kind in "iu":
        bits_src, bits_dst = src.size * 8 - (src.kind == "i"), dt.size * 8 - (dt.kind == "i")
        if bits_src > bits_dst:
            return M.cast(M.floordiv(x, 2 ** (bits_src - bits_dst)), dt)
        return M.cast(x, dt) * (2 ** (bits_dst - bits_src))
    raise InvalidArgumentError(f"convert_image_dtype: cannot convert {src.name} to {dt.name}")


def _as_float(x: Tensor):
    return (x, None) if x._dtype.kind == "f" else (convert_image_dtype(x, D.float32), x._dtype)


def _back(y: Tensor, orig) -> Tensor:
    return y if orig is None else convert_image_dtype(y, orig, saturate=True)


def rgb_to_grayscale(images, name=None) -> Tensor:
    x, orig = _as_float(_image(images, "rgb_to_grayscale", 3))
    w = operand(list(_GRAY), "rgb_to_grayscale", x._dtype)
    return _back(R.reduce_sum(x * w, -1, keepdims=True), orig)


def grayscale_to_rgb(images, name=None) -> Tensor:
    x = _image(images, "grayscale_to_rgb", 1)
    return A.concat([x, x, x], -1)


def _channels(x: Tensor):
    return tuple(A.gather(x, i, axis=-1) for i in range(3))


def _hsv(x: Tensor):
    """(h, s, v) in [0, 1] with TF's kernel rules (hue 0 when the range is 0)."""
    r, g, b = _channels(x)
    v = M.maximum(M.maximum(r, g), b)
    lo = M.minimum(M.minimum(r, g), b)
    rng = v - lo
    s = M.where(M.greater(v, 0.0), rng / M.where(M.greater(v, 0.0), v, A.ones_like(v)), A.zeros_like(v))
    safe = M.where(M.greater(rng, 0.0), rng, A.ones_like(rng))
    norm = 1.0 / (6.0 * safe)
    h = M.where(
        M.equal(r, v), norm * (g - b), M.where(M.equal(g, v), norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    )
    h = M.where(M.greater(rng, 0.0), h, A.zeros_like(h))
    h = M.where(M.less(h, 0.0), h + 1.0, h)
    return h, s, v


def _rgb(h: Tensor, s: Tensor, v: Tensor) -> Tensor:
    c = s * v
    m_ = v - c
    dh = h * 6.0
    cat = M.floor(dh)
    fmod = dh - 2.0 * M.floor(dh * 0.5)
    x = c * (1.0 - M.abs(fmod - 1.0))
    z = A.zeros_like(c)
    table = ((c, x, z), (x, c, z), (z, c, x), (z, x, c), (x, z, c), (c, z, x))
    out = [z, z, z]
    for k, (rr, gg, bb) in enumerate(table):
        hit = M.equal(cat, float(k))
        out = [M.where(hit, new, old) for new, old in zip((rr, gg, bb), out)]
    return A.stack([o + m_ for o in out], -1)


def rgb_to_hsv(images, name=None) -> Tensor:
    x = _image(images, "rgb_to_hsv", 3)
    if x._dtype.kind != "f":
        raise InvalidArgumentError(f"rgb_to_hsv: images must be floating point, got {x._dtype.name}")
    return A.stack(list(_hsv(x)), -1)


def hsv_to_rgb(images, name=None) -> Tensor:
    x = _image(images, "hsv_to_rgb", 3)
    if x._dtype.kind != "f":
        raise InvalidArgumentError(f"hsv_to_rgb: images must be floating point, got {x._dtype.name}")
    return _rgb(*_channels(x))


def adjust_hue(image, delta, name=None) -> Tensor:
    """Rotates hue by ``delta`` (in [-1, 1], a fraction of the colour wheel)."""
    d = float(delta.numpy() if hasattr(delta, "numpy") else delta)
    if not -1.0 <= d <= 1.0:
        raise InvalidArgumentError(f"adjust_hue: delta must be in [-1, 1], got {d}")
    x, orig = _as_float(_image(image, "adjust_hue", 3))
    h, s, v = _hsv(x)
    h = h + d
    h = h - M.floor(h)
    return _back(_rgb(h, s, v), orig)


def adjust_saturation(image, saturation_factor, name=None) -> Tensor:
    x, orig = _as_float(_image(image, "adjust_saturation", 3))
    h, s, v = _hsv(x)
    return _back(_rgb(h, M.clip_by_value(s * saturation_factor, 0.0, 1.0), v), orig)


def adjust_gamma(image, gamma=1, gain=1) -> Tensor:
    """``gain * image ** gamma`` on [0, 1] floats (ints converted there and back)."""
    if (gamma.numpy() if hasattr(gamma, "numpy") else gamma) < 0:
        raise InvalidArgumentError(f"adjust_gamma: gamma must be non-negative, got {gamma}")
    x, orig = _as_float(operand(image, "adjust_gamma"))
    return _back(M.pow(x, M.cast(operand(gamma, "adjust_gamma"), x._dtype)) * gain, orig)


def per_image_standardization(image, name=None) -> Tensor:
    """(x - mean) / max(stddev, 1 / sqrt(N)) over each image's H, W and C (N values)."""
    x = _image(image, "per_image_standardization")
    if x._dtype.kind != "f":
        x = M.cast(x, D.float32)
    axes = [-3, -2, -1]
    n = x._h.shape[-1] * x._h.shape[-2] * x._h.shape[-3]
    mean = R.reduce_mean(x, axes, keepdims=True)
    var = R.reduce_mean(M.square(x - mean), axes, keepdims=True)
    std = M.maximum(M.sqrt(var), float(n) ** -0.5)
    return (x - mean) / std


def _uniform(lo: float, hi: float, seed, stateless: bool, dtype) -> Tensor:
    if stateless:
        from ..ops.random_streams import stateless_uniform

        return stateless_uniform([], seed, lo, hi, dtype)
    from ..ops.random import uniform

    return uniform([], lo, hi, dtype, seed)


def random_hue(image, max_delta, seed=None, name=None) -> Tensor:
    if not 0 <= max_delta <= 0.5:
        raise InvalidArgumentError(f"random_hue: max_delta must be in [0, 0.5], got {max_delta}")
    return adjust_hue(image, float(_uniform(-max_delta, max_delta, seed, False, D.float32)))


def stateless_random_hue(image, max_delta, seed) -> Tensor:
    if not 0 <= max_delta <= 0.5:
        raise InvalidArgumentError(f"stateless_random_hue: max_delta must be in [0, 0.5], got {max_delta}")
    return adjust_hue(image, float(_uniform(-max_delta, max_delta, seed, True, D.float32)))


def random_saturation(image, lower, upper, seed=None) -> Tensor:
    if not 0 <= lower < upper:
        raise InvalidArgumentError(f"random_saturation: need 0 <= lower < upper, got {lower}, {upper}")
    return adjust_saturation(image, _uniform(lower, upper, seed, False, D.float32))


def stateless_random_saturation(image, lower, upper, seed=None) -> Tensor:
    if not 0 <= lower < upper:
        raise InvalidArgumentError(f"stateless_random_saturation: need 0 <= lower < upper, got {lower}, {upper}")
    return adjust_saturation(image, _uniform(lower, upper, seed, True, D.float32))

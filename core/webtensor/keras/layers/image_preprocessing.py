"""Keras 3's image preprocessing layers: Resizing and the random augmentations.

The random layers act only while training (``fit``, or a direct call, which Keras 3 counts
as training); with ``training=False`` (``predict``/``evaluate``) they return the input as the
layer's float dtype. Their random draws are seeded like ``tf.random`` (``seed`` plus a call
counter), so a seeded layer repeats its sequence, but the numbers are not Keras's.
Images are channels-last: ``(batch, height, width, channels)`` or one ``(height, width, channels)``.
"""

from __future__ import annotations

import math

from ... import image as I
from ...image.affine import FILL_MODES, INTERPOLATIONS
from ...ops import array as A
from ...ops import math as M
from ...ops import random as RNG
from ..saving import register
from .layer import Layer


def _image_dims(x, layer) -> tuple:
    rank = x.shape.rank
    if rank not in (3, 4):
        raise ValueError(f"{layer}: expected images of rank 3 (h, w, c) or 4 (b, h, w, c), got shape {list(x.shape)}")
    return (x.shape[0] if rank == 4 else 1), x.shape[rank - 3], x.shape[rank - 2]


def _factor(factor, layer: str, low: float, high: float) -> tuple:
    """Keras 3's ``_set_factor``: a number f gives ``(max(-f, low), f)``, a pair is sorted."""
    msg = (
        f"{layer}: the `factor` argument should be a number (or a list of two numbers) in the range "
        f"[{low}, {high}]. Received: factor={factor}"
    )
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > high or factor[1] < low:
            raise ValueError(msg)
        return tuple(sorted(float(f) for f in factor))
    if not isinstance(factor, (int, float)) or not low <= factor <= high:
        raise ValueError(msg)
    return max(-abs(float(factor)), low), abs(float(factor))


def _range(factor, name: str, layer: str, low_open: bool) -> tuple:
    """RandomZoom/RandomTranslation factors: each value in [-1, 1] ((-1, 1] for zoom)."""
    values = list(factor) if isinstance(factor, (tuple, list)) else [factor]
    if (
        len(values) not in (1, 2)
        or not all(isinstance(v, (int, float)) for v in values)
        or any(v > 1.0 or v < -1.0 or (low_open and v <= -1.0) for v in values)
    ):
        raise ValueError(
            f"{layer}: `{name}` should be a float or a pair of floats in "
            f"{'(' if low_open else '['}-1, 1]. Received: {name}={factor}"
        )
    if len(values) == 2:
        return tuple(sorted(float(v) for v in values))
    return -abs(float(values[0])), abs(float(values[0]))


def _channels_last(data_format, layer: str) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{layer}: only data_format='channels_last' is supported, got {data_format!r}")


class _RandomLayer(Layer):
    """Shared: the training switch, seeded draws, the float cast and the shape rule."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _channels_last(data_format, type(self).__name__)
        self.seed = seed
        self._calls = 0

    def _uniform(self, shape, lo: float, hi: float):
        self._calls += 1
        seed = None if self.seed is None else self.seed + self._calls
        return RNG.uniform(shape, lo, hi, seed=seed)

    def _float(self, x):
        return x if x.dtype is self.dtype else M.cast(x, self.dtype)

    def call(self, inputs, training=True):
        x = self._float(inputs)
        if training is not None and not training:
            return x
        return self.augment(x)

    def compute_output_shape(self, input_shape):
        return input_shape


@register("layers")
class Resizing(Layer):
    """``tf.image.resize`` to ``(height, width)``, optionally cropping or padding to the target's
    aspect ratio first (Keras 3's rules); integer images stay integers (rounded, saturated)."""

    def __init__(
        self,
        height,
        width,
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
        fill_mode="constant",
        fill_value=0.0,
        antialias=False,
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _channels_last(data_format, "Resizing")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Resizing: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True")
        self.height, self.width = int(height), int(width)
        self.interpolation, self.antialias = interpolation, bool(antialias)
        self.crop_to_aspect_ratio, self.pad_to_aspect_ratio = bool(crop_to_aspect_ratio), bool(pad_to_aspect_ratio)
        self.fill_mode, self.fill_value = fill_mode, fill_value

    def call(self, inputs):
        x = inputs
        _, h, w = _image_dims(x, "Resizing")
        th, tw = self.height, self.width
        if self.crop_to_aspect_ratio:
            ch = max(min(h, int(w * th / tw)), 1)
            cw = max(min(w, int(h * tw / th)), 1)
            x = I.crop_to_bounding_box(x, int((h - ch) / 2), int((w - cw) / 2), ch, cw)
        elif self.pad_to_aspect_ratio:
            ph, pw = max(h, int(w * th / tw)), max(w, int(h * tw / th))
            top, left = int((ph - h) / 2), int((pw - w) / 2)
            x = (
                I.pad_to_bounding_box(x - self.fill_value, top, left, ph, pw) + self.fill_value
                if self.fill_value
                else I.pad_to_bounding_box(x, top, left, ph, pw)
            )
        out = I.resize(x, (th, tw), method=self.interpolation, antialias=self.antialias)
        if inputs.dtype.is_integer:
            return M.saturate_cast(M.round(out), inputs.dtype) if out.dtype is not inputs.dtype else out
        return out if out.dtype is self.dtype else M.cast(out, self.dtype)

    def compute_output_shape(self, input_shape):
        s = tuple(input_shape)
        return s[:-3] + (self.height, self.width, s[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
            "data_format": "channels_last",
        }


@register("layers")
class RandomCrop(_RandomLayer):
    """While training, a random ``(height, width)`` window (one offset per batch, as Keras 3); an input
    not larger than the crop is centre-cropped to the target's aspect ratio and resized. At
    inference Keras 3 returns the input unchanged, and so does this."""

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height, self.width = int(height), int(width)

    def augment(self, x):
        _, h, w = _image_dims(x, "RandomCrop")
        th, tw = self.height, self.width
        if h > th and w > tw:
            top = int(math.floor(float(self._uniform((), 0.0, float(h - th + 1)))))
            left = int(math.floor(float(self._uniform((), 0.0, float(w - tw + 1)))))
            return I.crop_to_bounding_box(x, top, left, th, tw)
        ch = max(min(h, int(w * th / tw)), 1)
        cw = max(min(w, int(h * tw / th)), 1)
        top, left = int((h - ch) / 2), int((w - cw) / 2)
        x = I.crop_to_bounding_box(x, top, left, min(th, h - top), min(tw, w - left))
        if tuple(x.shape[-3:-1]) != (th, tw):
            x = I.resize(x, (th, tw))
        return x

    def compute_output_shape(self, input_shape):
        s = tuple(input_shape)
        return s[:-3] + (self.height, self.width, s[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "seed": self.seed,
            "data_format": "channels_last",
        }


@register("layers")
class RandomBrightness(_RandomLayer):
    """Adds ``U(factor) * (max - min)`` of ``value_range`` per image, then clips to the range."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(factor, "RandomBrightness", -1.0, 1.0)
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(f"RandomBrightness: value_range must be a pair (min, max), got {value_range!r}")
        self.value_range = sorted(value_range)

    def augment(self, x):
        n, _, _ = _image_dims(x, "RandomBrightness")
        lo, hi = self.value_range
        shape = (n, 1, 1, 1) if x.shape.rank == 4 else (1, 1, 1)
        delta = self._uniform(shape, *self.factor) * float(hi - lo)
        return M.clip_by_value(x + M.cast(delta, x.dtype), float(lo), float(hi))

    def get_config(self):
        return {
            **super().get_config(),
            "factor": list(self.factor),
            "value_range": list(self.value_range),
            "seed": self.seed,
            "data_format": "channels_last",
        }


@register("layers")
class RandomContrast(_RandomLayer):
    """``(x - mean) * f + mean`` per image and channel, ``f ~ U(1 - lower, 1 + upper)``, clipped to
    ``value_range``."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(factor, "RandomContrast", 0.0, 1.0)
        self.value_range = tuple(value_range)

    def augment(self, x):
        from ...ops.reduce import reduce_mean

        n, _, _ = _image_dims(x, "RandomContrast")
        shape = (n, 1, 1, 1) if x.shape.rank == 4 else (1, 1, 1)
        f = self._uniform(shape, 1.0 - self.factor[0], 1.0 + self.factor[1])
        mean = reduce_mean(x, axis=[x.shape.rank - 3, x.shape.rank - 2], keepdims=True)
        lo, hi = self.value_range
        return M.clip_by_value((x - mean) * f + mean, float(lo), float(hi))

    def get_config(self):
        return {
            **super().get_config(),
            "factor": list(self.factor),
            "value_range": list(self.value_range),
            "seed": self.seed,
            "data_format": "channels_last",
        }


class _AffineLayer(_RandomLayer):
    """Random rotation/zoom/translation: one transform per image through ``image.affine_transform``."""

    def __init__(
        self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, data_format=None, **kwargs
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if fill_mode not in FILL_MODES:
            raise ValueError(f"{type(self).__name__}: unknown fill_mode {fill_mode!r}; expected one of {FILL_MODES}")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"{type(self).__name__}: unknown interpolation {interpolation!r}; expected one of {INTERPOLATIONS}"
            )
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value

    def augment(self, x):
        n, h, w = _image_dims(x, type(self).__name__)
        return I.affine_transform(x, self.transforms(n, h, w), self.interpolation, self.fill_mode, self.fill_value)

    def _base_config(self):
        return {
            **super().get_config(),
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "seed": self.seed,
            "fill_value": self.fill_value,
            "data_format": "channels_last",
        }


def _col(v, n: int):
    return A.reshape(v, (n, 1))


@register("layers")
class RandomRotation(_AffineLayer):
    """Rotates each image by ``U(factor) * 360`` degrees about its centre."""

    def __init__(
        self,
        factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _factor(factor, "RandomRotation", -1.0, 1.0)

    def transforms(self, n, h, w):
        angle = self._uniform((n,), self.factor[0] * 360.0, self.factor[1] * 360.0) * (math.pi / 180.0)
        return rotation_matrix(angle, h, w)

    def get_config(self):
        return {**self._base_config(), "factor": list(self.factor)}


def rotation_matrix(angle, h: int, w: int):
    """Keras 3's ``_compute_affine_matrix`` for a rotation by ``angle`` radians (one per image)
    about the centre ``((w - 1) / 2, (h - 1) / 2)``."""
    n = angle.shape[0]
    cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
    c, s = M.cos(angle), M.sin(angle)
    zero = A.zeros((n, 2))
    cols = [c, -s, cx - cx * c + cy * s, s, c, cy - cx * s - cy * c]
    return A.concat([_col(v, n) for v in cols] + [zero], axis=1)


@register("layers")
class RandomZoom(_AffineLayer):
    """Zooms each image by ``1 + U(height_factor)`` (and ``width_factor``, else the same draw) about
    its centre: a positive factor zooms out, a negative one in (Keras 3's sign)."""

    def __init__(
        self,
        height_factor,
        width_factor=None,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h_range = _range(height_factor, "height_factor", "RandomZoom", True)
        self._w_range = None if width_factor is None else _range(width_factor, "width_factor", "RandomZoom", True)

    def transforms(self, n, h, w):
        zy = self._uniform((n, 1), 1.0 + self._h_range[0], 1.0 + self._h_range[1])
        zx = zy if self._w_range is None else self._uniform((n, 1), 1.0 + self._w_range[0], 1.0 + self._w_range[1])
        zero = A.zeros((n, 1))
        return A.concat(
            [zx, zero, (w - 1) / 2.0 * (1.0 - zx), zero, zy, (h - 1) / 2.0 * (1.0 - zy), zero, zero], axis=1
        )

    def get_config(self):
        return {**self._base_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


@register("layers")
class RandomTranslation(_AffineLayer):
    """Shifts each image by ``U(height_factor) * height`` rows and ``U(width_factor) * width`` columns."""

    def __init__(
        self,
        height_factor,
        width_factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h_range = _range(height_factor, "height_factor", "RandomTranslation", False)
        self._w_range = _range(width_factor, "width_factor", "RandomTranslation", False)

    def transforms(self, n, h, w):
        dy = self._uniform((n, 1), *self._h_range) * float(h)
        dx = self._uniform((n, 1), *self._w_range) * float(w)
        one, zero = A.ones((n, 1)), A.zeros((n, 1))
        return A.concat([one, zero, -dx, zero, one, -dy, zero, zero], axis=1)

    def get_config(self):
        return {**self._base_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}

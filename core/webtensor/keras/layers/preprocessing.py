"""Preprocessing layers that are plain arithmetic: Rescaling."""

from __future__ import annotations

from ...ops import math as M
from ..saving import register
from .layer import Layer


@register("layers")
class Rescaling(Layer):
    """``inputs * scale + offset`` (e.g. ``Rescaling(1/255)`` for pixel values)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset
        self.supports_masking = True

    def call(self, inputs):
        x = inputs if inputs.dtype.kind == "f" else M.cast(inputs, self.dtype)
        return x * self.scale + self.offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


def _keep_axes(axis, rank: int) -> tuple:
    axes = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % rank for a in axes)


def _batches(data):
    """``adapt`` data as a list of float32 tensors: an array/tensor, or a dataset of batches."""
    from ...data import Dataset
    from ...tensor import convert, is_tensor

    if isinstance(data, Dataset):
        parts = [e[0] if isinstance(e, tuple) else e for e in data]
    else:
        parts = [data]
    return [M.cast(p if is_tensor(p) else convert(p), "float32") for p in parts]


@register("layers")
class Normalization(Layer):
    """``(x - mean) / max(sqrt(variance), 1e-7)`` per feature along ``axis`` (Keras 3's formula);
    ``invert=True`` maps back. State comes from ``mean``/``variance`` or from ``adapt(data)``
    (population statistics over every axis but ``axis``); it is saved as non-trainable weights."""

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization: give both `mean` and `variance`, or neither (then call adapt)")
        self.axis, self.invert = axis, bool(invert)
        self.input_mean, self.input_variance = mean, variance
        self._stats = None

    def adapt(self, data, batch_size=None, steps=None) -> None:
        from ...ops import array as A
        from ...ops import reduce as RNG

        parts = _batches(data)
        if not parts or sum(p.shape[0] if p.shape.rank else 1 for p in parts) == 0:
            raise ValueError("Normalization.adapt: the data is empty; give at least one sample")
        x = A.concat(parts, 0) if len(parts) > 1 else parts[0]
        keep = _keep_axes(self.axis, x.shape.rank)
        red = [a for a in range(x.shape.rank) if a not in keep]
        mean = RNG.reduce_mean(x, axis=red, keepdims=True)
        var = RNG.reduce_mean(M.square(x - mean), axis=red, keepdims=True)
        self._set_stats(mean, var)

    def _set_stats(self, mean, var):
        if self._stats is None or tuple(self._stats[0].shape) != tuple(mean.shape):
            self._stats = (
                self.add_weight(tuple(mean.shape), "zeros", "float32", False, name="mean"),
                self.add_weight(tuple(var.shape), "ones", "float32", False, name="variance"),
            )
        self._stats[0].assign(mean)
        self._stats[1].assign(var)

    def build(self, input_shape=None) -> None:
        """Creates the state (mean 0, variance 1 until adapted, as Keras 3 does) so a loaded
        model has variables for the saved statistics."""
        if self._stats is None:
            from ... import dtypes as D
            from ...ops import array as A
            from ...tensor import convert

            rank = len(input_shape)
            keep = _keep_axes(self.axis, rank)
            shape = [int(input_shape[a]) if a in keep else 1 for a in range(rank)]
            ones = A.ones(shape, D.float32)
            if self.input_mean is None:
                self._set_stats(ones * 0.0, ones)
            else:
                self._set_stats(
                    ones * convert(self.input_mean, D.float32), ones * convert(self.input_variance, D.float32)
                )
        self.built = True

    def call(self, inputs):
        x = M.cast(inputs, "float32")
        mean, var = self._stats
        scale = M.maximum(M.sqrt(var), 1e-7)
        return mean + x * scale if self.invert else (x - mean) / scale

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        def plain(v):
            return v.tolist() if hasattr(v, "tolist") else v

        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": plain(self.input_mean),
            "variance": plain(self.input_variance),
        }


@register("layers")
class Discretization(Layer):
    """Bucket indices: ``i`` such that ``bin_boundaries[i-1] <= x < bin_boundaries[i]`` (int64)."""

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if bin_boundaries is None:
            raise ValueError(
                "Discretization: give `bin_boundaries` (adapting boundaries from data is not supported here)"
            )
        if output_mode != "int":
            raise ValueError(f"Discretization: only output_mode='int' is supported, got {output_mode!r}")
        self.bin_boundaries = [float(b) for b in bin_boundaries]
        if self.bin_boundaries != sorted(self.bin_boundaries):
            raise ValueError(f"Discretization: bin_boundaries must be sorted, got {self.bin_boundaries}")
        self.output_mode = output_mode

    def call(self, inputs):
        x = M.cast(inputs, "float32")
        out = (
            M.cast(M.greater_equal(x, self.bin_boundaries[0]), "int64")
            if self.bin_boundaries
            else M.cast(x * 0, "int64")
        )
        for b in self.bin_boundaries[1:]:
            out = out + M.cast(M.greater_equal(x, b), "int64")
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "bin_boundaries": self.bin_boundaries, "output_mode": self.output_mode}


@register("layers")
class CenterCrop(Layer):
    """The central ``height x width`` window of images (NHWC, or HWC); an input smaller than the
    crop is an error here (Keras 3 would resize it instead)."""

    def __init__(self, height: int, width: int, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = int(height), int(width)

    def call(self, inputs):
        h_ax = inputs.shape.rank - 3
        H, W = inputs.shape[h_ax], inputs.shape[h_ax + 1]
        if H < self.height or W < self.width:
            raise ValueError(f"CenterCrop: input {H}x{W} is smaller than the crop {self.height}x{self.width}")
        top, left = (H - self.height) // 2, (W - self.width) // 2
        return inputs[..., top : top + self.height, left : left + self.width, :]

    def compute_output_shape(self, input_shape):
        s = list(input_shape)
        s[-3], s[-2] = self.height, self.width
        return tuple(s)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


@register("layers")
class RandomFlip(Layer):
    """Flips each image left-right and/or up-down with probability 1/2 while training; at
    inference (``training=False``, ``predict``/``evaluate``) it returns the input unchanged. As in
    Keras 3, a direct call with no training flag anywhere counts as training."""

    _MODES = {"horizontal": (False, True), "vertical": (True, False), "horizontal_and_vertical": (True, True)}

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in self._MODES:
            raise ValueError(f"RandomFlip: mode must be one of {list(self._MODES)}, got {mode!r}")
        self.mode, self.seed = mode, seed
        self._calls = 0

    def call(self, inputs, training=None):
        if training is not None and not training:
            return inputs
        from ...ops import array as A
        from ...ops import random as RNG

        x = inputs
        rank = x.shape.rank
        batched = rank == 4
        n = x.shape[0] if batched else 1
        for axis, on in zip((rank - 3, rank - 2), self._MODES[self.mode]):
            if not on:
                continue
            self._calls += 1
            seed = None if self.seed is None else self.seed + self._calls
            flip = RNG.uniform((n,), seed=seed) < 0.5
            mask = A.reshape(flip, (n,) + (1,) * (rank - 1)) if batched else A.reshape(flip, (1,) * rank)
            x = M.where(mask, A.reverse(x, [axis]), x)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "seed": self.seed}

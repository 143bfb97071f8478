"""``tf.image`` flips, crops, pads and brightness/contrast, written with public ops.

Images are ``[batch,] height, width, channels``; a 3-D image is one image. Offsets and
sizes are Python ints (static), as TF requires them to be known for these shapes.
"""

from __future__ import annotations

from .. import dtypes as D
from ..ops import array as A
from ..ops import math as M
from ..ops.reduce import reduce_mean
from ..tensor import convert
from .resize import _as_batch


def _conv(x):
    return x if hasattr(x, "_h") else convert(x)


def _hw_axes(x) -> tuple:
    rank = x.shape.rank
    if rank not in (3, 4):
        raise ValueError(f"tf.image: 'image' must have either 3 or 4 dimensions (got shape {list(x.shape)})")
    return rank - 3, rank - 2


def flip_left_right(image):
    x = _conv(image)
    return A.reverse(x, [_hw_axes(x)[1]])


def flip_up_down(image):
    x = _conv(image)
    return A.reverse(x, [_hw_axes(x)[0]])


def crop_to_bounding_box(image, offset_height: int, offset_width: int, target_height: int, target_width: int):
    x, single = _as_batch(image)
    _, h, w, c = x.shape.as_list()
    if offset_height < 0 or offset_width < 0 or target_height <= 0 or target_width <= 0:
        raise ValueError(
            f"crop_to_bounding_box: offsets must be >= 0 and target sizes > 0, got offset "
            f"({offset_height}, {offset_width}) target ({target_height}, {target_width})"
        )
    if offset_height + target_height > h or offset_width + target_width > w:
        raise ValueError(
            f"crop_to_bounding_box: the box ({offset_height}, {offset_width}) + ({target_height}, "
            f"{target_width}) exceeds the image ({h}, {w})"
        )
    out = A.slice(x, [0, offset_height, offset_width, 0], [-1, target_height, target_width, -1])
    return A.squeeze(out, 0) if single else out


def pad_to_bounding_box(image, offset_height: int, offset_width: int, target_height: int, target_width: int):
    x, single = _as_batch(image)
    _, h, w, _ = x.shape.as_list()
    after_h, after_w = target_height - offset_height - h, target_width - offset_width - w
    if offset_height < 0 or offset_width < 0 or after_h < 0 or after_w < 0:
        raise ValueError(
            f"pad_to_bounding_box: an image of ({h}, {w}) at offset ({offset_height}, {offset_width}) "
            f"does not fit in ({target_height}, {target_width})"
        )
    out = A.pad(x, [[0, 0], [offset_height, after_h], [offset_width, after_w], [0, 0]])
    return A.squeeze(out, 0) if single else out


def resize_with_crop_or_pad(image, target_height: int, target_width: int):
    """Centre-crop and/or zero-pad to the target (TF's offsets: crop ``(h - t) // 2``, pad ``(t - h) // 2``)."""
    x, single = _as_batch(image)
    _, h, w, _ = x.shape.as_list()
    ch, cw = min(h, target_height), min(w, target_width)
    x = crop_to_bounding_box(x, max(0, (h - target_height) // 2), max(0, (w - target_width) // 2), ch, cw)
    x = pad_to_bounding_box(
        x, max(0, (target_height - h) // 2), max(0, (target_width - w) // 2), target_height, target_width
    )
    return A.squeeze(x, 0) if single else x


def central_crop(image, central_fraction: float):
    """The central ``central_fraction`` of each side (TF's rounding of the offsets)."""
    if not 0.0 < central_fraction <= 1.0:
        raise ValueError(f"central_crop: central_fraction must be in (0, 1], got {central_fraction}")
    x, single = _as_batch(image)
    if central_fraction == 1.0:
        return image
    _, h, w, _ = x.shape.as_list()
    oh, ow = int((h - h * central_fraction) / 2), int((w - w * central_fraction) / 2)
    out = crop_to_bounding_box(x, oh, ow, h - 2 * oh, w - 2 * ow)
    return A.squeeze(out, 0) if single else out


def _float(x):
    x = _conv(x)
    return x, x.dtype


def _to_float(x):
    """Integer images become float32 in [0, 1] (``convert_image_dtype``'s scaling), as TF does here."""
    if x.dtype.is_floating:
        return x
    return M.cast(x, D.float32) * (1.0 / D.as_dtype(x.dtype).max)


def _from_float(y, dtype):
    if dtype.is_floating:
        return y if y.dtype is dtype else M.cast(y, dtype)
    return M.saturate_cast(M.round(y * float(D.as_dtype(dtype).max)), dtype)


def adjust_brightness(image, delta):
    """``image + delta`` (integer images go through [0, 1] floats, as TF)."""
    x, dt = _float(image)
    return _from_float(_to_float(x) + delta, dt)


def adjust_contrast(images, contrast_factor):
    """``(x - mean) * factor + mean`` with the mean over height and width of each channel."""
    x, dt = _float(images)
    y = _to_float(x)
    h_axis, w_axis = _hw_axes(y)
    mean = reduce_mean(y, axis=[h_axis, w_axis], keepdims=True)
    return _from_float((y - mean) * contrast_factor + mean, dt)

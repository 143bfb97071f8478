"""``tf.image`` quality metrics and gradients: psnr, ssim, total_variation,
image_gradients, sobel_edges (TF's formulas)."""

from __future__ import annotations

import math

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..ops import array as A
from ..ops import math as M
from ..ops import reduce as R
from ..ops.dispatch import operand
from ..tensor import Tensor
from .color import convert_image_dtype


def _pair(a, b, op: str):
    x, y = operand(a, op), operand(b, op)
    if tuple(x._h.shape[-3:]) != tuple(y._h.shape[-3:]) or len(x._h.shape) < 3:
        raise InvalidArgumentError(
            f"{op}: images must be [..., height, width, channels] of one shape, got "
            f"{tuple(x._h.shape)} and {tuple(y._h.shape)}"
        )
    if x._dtype.kind != "f":
        x, y = convert_image_dtype(x, D.float32), convert_image_dtype(y, D.float32)
    return x, y


def psnr(a, b, max_val, name=None) -> Tensor:
    """``20 log10(max_val) - 10 log10(mse)`` per image."""
    x, y = _pair(a, b, "psnr")
    mse = R.reduce_mean(M.square(x - y), [-3, -2, -1])
    return 20.0 * math.log10(float(max_val)) - (10.0 / math.log(10.0)) * M.log(mse)


def _gauss(size: int, sigma: float) -> list:
    c = [(i - (size - 1) / 2.0) ** 2 * (-0.5 / sigma**2) for i in range(size)]
    e = [math.exp(v) for v in c]
    s = sum(e)
    return [v / s for v in e]


def _blur(x: Tensor, size: int, sigma: float) -> Tensor:
    """VALID depthwise Gaussian filtering of [N, H, W, C] as two 1-D passes (the 2-D
    kernel TF builds is the outer product of the normalised 1-D one)."""
    from ..nn import depthwise_conv2d

    g = _gauss(size, sigma)
    c = x._h.shape[-1]
    kh = operand([[[[v] * 1 for _ in range(c)]] for v in g], "ssim", x._dtype)  # [size, 1, C, 1]
    kw = operand([[[[v] for _ in range(c)] for v in g]], "ssim", x._dtype)  # [1, size, C, 1]
    y = depthwise_conv2d(x, kh, [1, 1, 1, 1], "VALID")
    return depthwise_conv2d(y, kw, [1, 1, 1, 1], "VALID")


def ssim(img1, img2, max_val, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03, return_index_map=False):
    """``tf.image.ssim``: mean of luminance x contrast-structure over the VALID-filtered
    map and the channels, per image."""
    x, y = _pair(img1, img2, "ssim")
    lead = tuple(x._h.shape[:-3])
    h, w, c = x._h.shape[-3:]
    fs = int(filter_size)
    if h < fs or w < fs:
        raise InvalidArgumentError(f"ssim: images of {h}x{w} are smaller than filter_size {fs}")
    x4, y4 = A.reshape(x, (-1, h, w, c)), A.reshape(y, (-1, h, w, c))
    c1, c2 = (k1 * float(max_val)) ** 2, (k2 * float(max_val)) ** 2
    mx, my = _blur(x4, fs, filter_sigma), _blur(y4, fs, filter_sigma)
    num0 = mx * my * 2.0
    den0 = M.square(mx) + M.square(my)
    lum = (num0 + c1) / (den0 + c1)
    num1 = _blur(x4 * y4, fs, filter_sigma) * 2.0
    den1 = _blur(M.square(x4) + M.square(y4), fs, filter_sigma)
    cs = (num1 - num0 + c2) / (den1 - den0 + c2)
    smap = lum * cs
    if return_index_map:
        return A.reshape(R.reduce_mean(smap, -1), lead + tuple(smap._h.shape[1:3]))
    return A.reshape(R.reduce_mean(smap, [-3, -2, -1]), lead)


def total_variation(images, name=None) -> Tensor:
    """Sum of absolute neighbour differences along height and width, per image."""
    x = operand(images, "total_variation")
    r = len(x._h.shape)
    if r not in (3, 4):
        raise InvalidArgumentError(f"total_variation: images must be rank 3 or 4, got {tuple(x._h.shape)}")
    ax = r - 3
    h, w = x._h.shape[ax], x._h.shape[ax + 1]
    dy = A._axis_slice(x, ax, 1, h - 1) - A._axis_slice(x, ax, 0, h - 1)
    dx = A._axis_slice(x, ax + 1, 1, w - 1) - A._axis_slice(x, ax + 1, 0, w - 1)
    axes = [-3, -2, -1]
    return R.reduce_sum(M.abs(dy), axes) + R.reduce_sum(M.abs(dx), axes)


def image_gradients(image):
    """(dy, dx) of [N, H, W, C]: forward differences, zero in the last row / column."""
    x = operand(image, "image_gradients")
    if len(x._h.shape) != 4:
        raise InvalidArgumentError(f"image_gradients: image must be [batch, h, w, d], got {tuple(x._h.shape)}")
    _, h, w, _ = x._h.shape
    dy = A._axis_slice(x, 1, 1, h - 1) - A._axis_slice(x, 1, 0, h - 1)
    dx = A._axis_slice(x, 2, 1, w - 1) - A._axis_slice(x, 2, 0, w - 1)
    return (A.pad(dy, [[0, 0], [0, 1], [0, 0], [0, 0]]), A.pad(dx, [[0, 0], [0, 0], [0, 1], [0, 0]]))


_SOBEL = (
    ((-1.0, -2.0, -1.0), (0.0, 0.0, 0.0), (1.0, 2.0, 1.0)),
    ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0)),
)


def sobel_edges(image) -> Tensor:
    """[N, H, W, C, 2]: the Sobel (dy, dx) responses on REFLECT-padded images."""
    from ..nn import depthwise_conv2d

    x = operand(image, "sobel_edges")
    if len(x._h.shape) != 4:
        raise InvalidArgumentError(f"sobel_edges: image must be [batch, h, w, d], got {tuple(x._h.shape)}")
    if x._dtype.kind != "f":
        x = M.cast(x, D.float32)
    c = x._h.shape[-1]
    padded = A.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    outs = []
    for k in _SOBEL:
        kern = operand([[[[k[i][j]] for _ in range(c)] for j in range(3)] for i in range(3)], "sobel_edges", x._dtype)
        outs.append(depthwise_conv2d(padded, kern, [1, 1, 1, 1], "VALID"))
    return A.stack(outs, -1)

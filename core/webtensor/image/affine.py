"""Projective transforms of images with TF's ``ImageProjectiveTransformV3`` rules.

``transforms`` is ``(batch, 8)`` (or one row of 8): ``[a0, a1, a2, b0, b1, b2, c0, c1]`` maps an
*output* pixel ``(x, y)`` to the *input* point ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``
with ``k = c0 x + c1 y + 1``. Out-of-image points follow ``fill_mode`` (reflect ``dcba|abcd|dcba``,
wrap, nearest, constant ``fill_value``), then ``nearest`` (round) or ``bilinear`` sampling,
all as tensor ops (the sampling positions may depend on random tensors).
"""

from __future__ import annotations

from .. import dtypes as D
from ..ops import array as A
from ..ops import math as M
from ..tensor import constant, convert

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def _reflect(c, n: int):
    if n <= 1:
        return A.zeros_like(c)
    sz2 = float(2 * n)
    neg = sz2 * M.floor(-c / sz2) + c
    neg = M.where(neg < -n, neg + sz2, -neg - 1.0)
    pos = c - sz2 * M.floor(c / sz2)
    pos = M.where(pos >= n, sz2 - pos - 1.0, pos)
    return M.where(c < 0.0, neg, M.where(c > n - 1.0, pos, c))


def _wrap(c, n: int):
    if n <= 1:
        return A.zeros_like(c)
    sz = float(n - 1)
    neg = c + n * (M.floor(-c / sz) + 1.0)
    pos = c - n * M.floor(c / sz)
    return M.where(c < 0.0, neg, M.where(c > n - 1.0, pos, c))


def _map(c, n: int, fill_mode: str):
    if fill_mode == "constant":
        return c
    if fill_mode == "reflect":
        c = _reflect(c, n)
    elif fill_mode == "wrap":
        c = _wrap(c, n)
    return M.clip_by_value(c, 0.0, float(n - 1))


def affine_transform(
    images, transforms, interpolation: str = "bilinear", fill_mode: str = "constant", fill_value: float = 0.0
):
    """Apply one projective transform per image of ``(b, h, w, c)`` (or ``(h, w, c)``)."""
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"affine_transform: interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"affine_transform: fill_mode must be one of {FILL_MODES}, got {fill_mode!r}")
    x = images if hasattr(images, "_h") else convert(images)
    single = x.shape.rank == 3
    if single:
        x = A.expand_dims(x, 0)
    if x.shape.rank != 4:
        raise ValueError(f"affine_transform: images must be 3-D or 4-D, got shape {list(x.shape)}")
    dtype = x.dtype
    xf = x if dtype is D.float32 else M.cast(x, D.float32)
    b, h, w, c = x.shape.as_list()
    t = transforms if hasattr(transforms, "_h") else convert(transforms, D.float32)
    t = M.cast(t, D.float32) if t.dtype is not D.float32 else t
    if t.shape.rank == 1:
        t = A.expand_dims(t, 0)
    if tuple(t.shape) not in ((b, 8), (1, 8)):
        raise ValueError(f"affine_transform: transforms must be (batch, 8) or (8,), got {list(t.shape)} for {b} images")
    ox = A.reshape(constant([float(j) for j in range(w)] * h, D.float32), (1, h, w))
    oy = A.reshape(constant([float(i) for i in range(h) for _ in range(w)], D.float32), (1, h, w))
    col = [A.reshape(t[:, k], (-1, 1, 1)) for k in range(8)]
    k = col[6] * ox + col[7] * oy + 1.0
    degenerate = M.equal(k, 0.0)  # TF: fill_value where the projection is 0
    safe_k = M.where(degenerate, A.ones_like(k), k)
    in_x = _map((col[0] * ox + col[1] * oy + col[2]) / safe_k, w, fill_mode)
    in_y = _map((col[3] * ox + col[4] * oy + col[5]) / safe_k, h, fill_mode)
    flat = A.reshape(xf, (b * h * w, c))
    base = A.reshape(constant([float(i * h * w) for i in range(b)], D.float32), (b, 1, 1))
    filled = A.fill((b, h, w, c), float(fill_value))

    def read(yi, xi):
        """Pixels at integer float coords ``(yi, xi)``; ``fill_value`` outside the image."""
        inside = (yi >= 0.0) & (yi <= h - 1.0) & (xi >= 0.0) & (xi <= w - 1.0)
        idx = base + M.clip_by_value(yi, 0.0, h - 1.0) * float(w) + M.clip_by_value(xi, 0.0, w - 1.0)
        vals = A.gather(flat, M.cast(A.reshape(idx, (-1,)), D.int32))
        vals = A.reshape(vals, (b, h, w, c))
        return M.where(A.expand_dims(inside, -1) & A.ones_like(vals, dtype=D.bool_), vals, filled)

    if interpolation == "nearest":
        out = read(_round(in_y), _round(in_x))
    else:
        y0, x0 = M.floor(in_y), M.floor(in_x)
        y1, x1 = y0 + 1.0, x0 + 1.0
        wy1, wx1 = A.expand_dims(in_y - y0, -1), A.expand_dims(in_x - x0, -1)
        wy0, wx0 = 1.0 - wy1, 1.0 - wx1
        out = wy0 * (wx0 * read(y0, x0) + wx1 * read(y0, x1)) + wy1 * (wx0 * read(y1, x0) + wx1 * read(y1, x1))
    out = M.where(A.expand_dims(degenerate, -1) & A.ones_like(out, dtype=D.bool_), filled, out)
    return A.squeeze(out, 0) if single else out


def _round(v):
    """``std::round``: halves away from zero."""
    return M.sign(v) * M.floor(M.abs(v) + 0.5)

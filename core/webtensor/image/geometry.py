"""``tf.image`` rot90, transpose and extract_patches (static index gathers)."""

from __future__ import annotations

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..ops import array as A
from ..ops.dispatch import operand
from ..tensor import Tensor


def _hw(x: Tensor, op: str) -> int:
    r = len(x._h.shape)
    if r not in (3, 4):
        raise InvalidArgumentError(f"{op}: image must be [h, w, c] or [batch, h, w, c], got {tuple(x._h.shape)}")
    return r - 3


def transpose(image, name=None) -> Tensor:
    """Swaps height and width."""
    x = operand(image, "transpose")
    ax = _hw(x, "transpose")
    perm = list(range(len(x._h.shape)))
    perm[ax], perm[ax + 1] = perm[ax + 1], perm[ax]
    return A.transpose(x, perm)


def rot90(image, k=1, name=None) -> Tensor:
    """Rotates counter-clockwise by k quarter turns (numpy's rot90 on the image axes)."""
    x = operand(image, "rot90")
    ax = _hw(x, "rot90")
    turns = int(k.numpy() if hasattr(k, "numpy") else k) % 4
    for _ in range(turns):
        x = A.reverse(transpose(x), [ax])
    return x


def _positions(size: int, k: int, stride: int, rate: int, padding: str, op: str):
    """(output length, padding before, padding after) along one axis, as TF computes them."""
    eff = k + (k - 1) * (rate - 1)
    if padding == "VALID":
        out = (size - eff) // stride + 1 if size >= eff else 0
        return out, 0, 0
    if padding == "SAME":
        out = -(-size // stride)
        total = max((out - 1) * stride + eff - size, 0)
        return out, total // 2, total - total // 2
    raise InvalidArgumentError(f"{op}: padding must be 'VALID' or 'SAME', got {padding!r}")


def extract_patches(images, sizes, strides, rates, padding, name=None) -> Tensor:
    """[batch, out_rows, out_cols, size_rows * size_cols * depth], patch entries in
    (row, col, depth) order, zero padding for SAME (TF's)."""
    x = operand(images, "extract_patches")
    if len(x._h.shape) != 4:
        raise InvalidArgumentError(f"extract_patches: images must be [batch, h, w, d], got {tuple(x._h.shape)}")
    for name_, v in (("sizes", sizes), ("strides", strides), ("rates", rates)):
        if len(v) != 4 or v[0] != 1 or v[3] != 1:
            raise InvalidArgumentError(f"extract_patches: {name_} must be [1, r, c, 1], got {list(v)}")
    b, h, w, d = x._h.shape
    (kr, kc), (sr, sc), (rr, rc) = sizes[1:3], strides[1:3], rates[1:3]
    oh, ph0, ph1 = _positions(h, kr, sr, rr, padding, "extract_patches")
    ow, pw0, pw1 = _positions(w, kc, sc, rc, padding, "extract_patches")
    if ph0 or ph1 or pw0 or pw1:
        x = A.pad(x, [[0, 0], [ph0, ph1], [pw0, pw1], [0, 0]])
    rows = [i * sr + a * rr for i in range(oh) for a in range(kr)]
    cols = [j * sc + c * rc for j in range(ow) for c in range(kc)]
    g = A.gather(x, operand(rows, "extract_patches", D.int32) if rows else A.zeros((0,), D.int32), axis=1)
    g = A.gather(g, operand(cols, "extract_patches", D.int32) if cols else A.zeros((0,), D.int32), axis=2)
    g = A.reshape(g, (b, oh, kr, ow, kc, d))
    g = A.transpose(g, (0, 1, 3, 2, 4, 5))
    return A.reshape(g, (b, oh, ow, kr * kc * d))

"""``tf.image.resize``: TF 2's resize methods as two separable weight matrices.

Every TF method is linear and separable: ``out = Wy @ image @ Wx^T`` per channel, with
``Wy`` (new_h x h) and ``Wx`` (new_w x w) built on the host in Python from TF's own
sampling rules (half-pixel centres, the Keys cubic table, area overlaps, the
scale-and-translate kernels for antialiasing), then applied per axis as tap gathers (or a
``matmul`` for wide kernels), so it runs, and differentiates, on every backend. A backend
listing the optional ``resample_axis`` kernel (the wasm one) does each axis in one call.
"""

from __future__ import annotations

import array
import functools
import math

from .. import dtypes as D
from ..ops import array as A
from ..ops import math as M
from ..ops.dispatch import composite
from ..ops.linalg import matmul
from ..tensor import constant, convert, wrap


class ResizeMethod:
    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"


# -- one axis: (out_size x in_size) weights --------------------------------------------------------


def _f32(x: float) -> float:
    """Round to float32, as TF's kernels compute sampling positions in float."""
    import struct

    return struct.unpack("f", struct.pack("f", x))[0]


def _linear(in_size: int, out_size: int) -> list:
    scale = _f32(in_size / out_size)
    rows = []
    for o in range(out_size):
        x = _f32((o + 0.5) * scale - 0.5)
        lo_f = math.floor(x)
        lo, hi = max(lo_f, 0), min(math.ceil(x), in_size - 1)
        t = x - lo_f
        row = [0.0] * in_size
        row[lo] += 1.0 - t
        row[hi] += t
        rows.append(row)
    return rows


def _nearest(in_size: int, out_size: int) -> list:
    scale = _f32(in_size / out_size)
    rows = []
    for o in range(out_size):
        i = max(0, min(math.floor(_f32((o + 0.5) * scale)), in_size - 1))
        row = [0.0] * in_size
        row[i] = 1.0
        rows.append(row)
    return rows


_TABLE = 1024


def _keys_table(a: float = -0.5) -> list:
    table = []
    for i in range(_TABLE + 1):
        x = i / _TABLE
        w0 = ((a + 2) * x - (a + 3)) * x * x + 1
        x += 1.0
        w1 = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        table += [_f32(w0), _f32(w1)]
    return table


def _cubic(in_size: int, out_size: int) -> list:
    """TF's ResizeBicubic with half-pixel centres: Keys a=-0.5 from a 1024-entry table; taps
    outside the image get weight 0 and the rest are renormalised."""
    table = _keys_table()
    scale = _f32(in_size / out_size)
    rows = []
    for o in range(out_size):
        x = _f32((o + 0.5) * scale - 0.5)
        loc = math.floor(x)
        off = int(round((x - loc) * _TABLE))  # lrintf: ties never matter at these sizes
        taps = [
            (loc - 1, table[off * 2 + 1]),
            (loc, table[off * 2]),
            (loc + 1, table[(_TABLE - off) * 2]),
            (loc + 2, table[(_TABLE - off) * 2 + 1]),
        ]
        row = [0.0] * in_size
        kept = [(i, w) for i, w in taps if 0 <= i < in_size]
        total = sum(w for _, w in kept)
        for i, w in kept:
            row[i] += w / total if abs(total) > 1e-30 else w
        rows.append(row)
    return rows


def _area(in_size: int, out_size: int) -> list:
    """TF's ResizeArea: each output averages the input cells it covers, by overlap."""
    scale = _f32(in_size / out_size)
    rows = []
    for o in range(out_size):
        lo, hi = o * scale, (o + 1) * scale
        row = [0.0] * in_size
        for i in range(math.floor(lo), math.ceil(hi)):
            row[min(i, in_size - 1)] += (min(i + 1, hi) - max(i, lo)) / scale
        rows.append(row)
    return rows


def _triangle(x):
    return max(0.0, 1.0 - x)


def _keys(x):
    if x >= 2.0:
        return 0.0
    if x >= 1.0:
        return ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return ((1.5 * x - 2.5) * x) * x + 1.0


def _lanczos(radius):
    def k(x):
        if x > radius:
            return 0.0
        x *= math.pi
        if x < 1e-3:
            return 1.0
        return radius * math.sin(x) * math.sin(x / radius) / (x * x)

    return k


def _gaussian(x, radius=1.5, sigma=0.5):
    return 0.0 if x >= radius else math.exp(-x * x / (2.0 * sigma * sigma))


def _mitchell(x):
    if x >= 2.0:
        return 0.0
    if x >= 1.0:
        return (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
    return (((7.0 / 6.0) * x - 2.0) * x) * x + 8.0 / 9.0


_KERNELS = {
    "triangle": (_triangle, 1.0),
    "keyscubic": (_keys, 2.0),
    "lanczos3": (_lanczos(3.0), 3.0),
    "lanczos5": (_lanczos(5.0), 5.0),
    "gaussian": (_gaussian, 1.5),
    "mitchellcubic": (_mitchell, 2.0),
}


def _scale_translate(in_size: int, out_size: int, kernel: str, antialias: bool) -> list:
    """TF's ScaleAndTranslate spans (translation 0): kernel widened by 1/scale when antialiasing
    a downscale, taps clipped to the image, weights normalised to sum 1."""
    fn, radius = _KERNELS[kernel]
    inv_scale = 1.0 / _f32(out_size / in_size)
    kscale = max(inv_scale, 1.0) if antialias else 1.0
    rows = []
    for o in range(out_size):
        row = [0.0] * in_size
        sample = (o + 0.5) * inv_scale
        if 0 <= sample <= in_size:
            start = min(max(math.ceil(sample - radius * kscale - 0.5), 0), in_size - 1)
            end = min(max(math.floor(sample + radius * kscale - 0.5), 0), in_size - 1) + 1
            ws = [fn(abs((j + 0.5 - sample) / kscale)) for j in range(start, end)]
            total = sum(ws)
            if abs(total) > 1e-30:
                for j, w in zip(range(start, end), ws):
                    row[j] = w / total
        rows.append(row)
    return rows


def axis_weights(in_size: int, out_size: int, method: str, antialias: bool = False) -> list:
    """The ``out_size x in_size`` matrix resizing one axis the way ``tf.image.resize`` does."""
    if method == "bilinear":
        return _scale_translate(in_size, out_size, "triangle", True) if antialias else _linear(in_size, out_size)
    if method == "bicubic":
        return _scale_translate(in_size, out_size, "keyscubic", True) if antialias else _cubic(in_size, out_size)
    if method == "nearest":
        return _nearest(in_size, out_size)
    if method == "area":
        return _area(in_size, out_size)
    if method in _KERNELS:
        return _scale_translate(in_size, out_size, method, antialias)
    raise ValueError(
        f"tf.image.resize: unknown method {method!r}; expected one of bilinear, nearest, "
        f"bicubic, area, lanczos3, lanczos5, gaussian, mitchellcubic"
    )


class _Plan:
    """One axis's resize, built once per (in, out, method, antialias) as host arrays:
    ``taps`` columns of (index, weight) per output row when the rows are narrow (bilinear
    has 2, bicubic 4), else the dense matrix. Taps cost ``out * taps`` multiply-adds and
    gathers instead of the dense matmul's ``out * in``."""

    __slots__ = ("out", "taps", "index", "weight", "dense", "picks", "identity", "rows", "_tensors")

    def __init__(self, rows: list, in_size: int):
        self.out = len(rows)
        nz = [[(i, w) for i, w in enumerate(r) if w != 0.0] for r in rows]
        self.taps = max(1, max(len(t) for t in nz))
        self.picks = [t[0][0] if t else 0 for t in nz] if all(len(t) == 1 and t[0][1] == 1.0 for t in nz) else None
        self.identity = self.picks == list(range(in_size))
        self._tensors = {}
        self.index = self.weight = self.dense = None
        # a row short of taps repeats its last index with weight 0
        pad = [(t[-1][0] if t else 0, 0.0) for t in nz]
        self.rows = [t + [p] * (self.taps - len(t)) for t, p in zip(nz, pad)]  # [out][taps] (index, weight)
        if self.out * self.taps > _MAX_GATHER * max(in_size, self.out):
            self.dense = array.array("f", [w for r in rows for w in r])
            return
        # tap k of every row, k-major
        cols = [[r[k] for r in self.rows] for k in range(self.taps)]
        self.index = [array.array("i", [i for i, _ in c]) for c in cols]
        self.weight = [array.array("f", [w for _, w in c]) for c in cols]

    def tensor(self, what: str, k: int, shape: tuple, be, repeat: int = 1):
        """Tap ``k``'s ``index`` or ``weight`` column (each weight ``repeat`` times), or the
        ``dense`` matrix, as a tensor on backend ``be``, kept per backend: a host write per
        call cost more than the kernels in the page. Traced (symbolic) tensors belong to one
        graph: not kept."""
        key = (what, k, shape, repeat, be)
        t = self._tensors.get(key)
        if t is None:
            if what == "dense":
                values = self.dense
            elif what == "taps":  # the kernel's idx [out, taps]; k: the weights' typecode
                values = array.array("i", [i for r in self.rows for i, _ in r])
            elif what == "tap_weights":  # its w [out, taps] in float32's values, stored as k
                values = array.array(k, [_f32(w) for r in self.rows for _, w in r])
            else:
                values = getattr(self, what)[k]
            if repeat > 1:
                values = array.array(values.typecode, [v for v in values for _ in range(repeat)])
            if 0 in shape:  # an empty tensor (memoryview.cast takes no zero dims): no values
                from ..ops import array as A

                t = A.reshape(convert(memoryview(values[:0]).cast("B").cast(values.typecode), be=be), shape)
            else:
                t = convert(memoryview(values).cast("B").cast(values.typecode, shape), be=be)
            if not getattr(t._h, "symbolic", False):
                self._tensors[key] = t
        return t


_MAX_GATHER = 4
"""Taps are used while the gathered rows (out * taps) are at most this many times the larger
side; wider kernels (antialiased lanczos downscales) take the dense matmul instead."""

_FULL_WEIGHTS = 1 << 17
"""Up to this many values per output slice (out * after), a tap's weights are kept repeated
to the slice's full shape, so the multiply is a same-shape (or repeated-row) one, not a
stride-0 broadcast: the wasm kernels' fast paths, and numpy's when ``after`` is a few
channels. Larger slices broadcast (out, 1) weights instead of holding a big copy (with 16
plans kept, their tensors stay under about 32 MiB per backend)."""


@functools.lru_cache(maxsize=16)
def _plan(in_size: int, out_size: int, method: str, antialias: bool) -> _Plan:
    return _Plan(axis_weights(in_size, out_size, method, antialias), in_size)


# -- the op ---------------------------------------------------------------------------------------


def _size(size) -> tuple:
    if hasattr(size, "numpy") or hasattr(size, "tolist"):
        size = size.tolist() if hasattr(size, "tolist") else size.numpy().tolist()
    size = tuple(int(s) for s in size)
    if len(size) != 2 or min(size) <= 0:
        raise ValueError(f"tf.image.resize: size must be 2 positive integers [new_height, new_width], got {size}")
    return size


def _as_batch(images):
    x = images if hasattr(images, "_h") else convert(images)
    rank = x.shape.rank
    if rank not in (3, 4):
        raise ValueError(f"tf.image: 'images' must have either 3 or 4 dimensions (got shape {list(x.shape)})")
    return (x if rank == 4 else A.expand_dims(x, 0)), rank == 3


def resize(
    images,
    size,
    method: str = ResizeMethod.BILINEAR,
    preserve_aspect_ratio: bool = False,
    antialias: bool = False,
    name=None,
):
    """``tf.image.resize``: ``[batch,] height, width, channels`` to ``size``; float32 out, except
    ``nearest`` which keeps the input dtype (TF's rule)."""
    x, single = _as_batch(images)
    method = getattr(method, "value", method)
    method = str(method).lower()
    _, h, w, _ = x.shape.as_list()
    new_h, new_w = _size(size)
    if preserve_aspect_ratio:
        scale = min(new_h / h, new_w / w)
        new_h, new_w = max(int(round(h * scale)), 1), max(int(round(w * scale)), 1)
    py, px = _plan(h, new_h, method, antialias), _plan(w, new_w, method, antialias)
    if method == "nearest":
        out = _pick(x, py, px)
    else:
        xf = x if x.dtype is D.float32 else M.cast(x, D.float32)
        out = _along(_along(xf, 1, py), 2, px)
    return A.squeeze(out, 0) if single else out


def _along(x, axis: int, plan: _Plan):
    """Resize ``x`` (b, h, w, c) along ``axis`` 1 or 2, read as (before, in, after) so no
    transpose is needed: per tap a gather of its rows times its weights, summed; or one
    matmul with the dense matrix."""
    s = tuple(x._h.shape)
    if plan.identity:
        return x
    pre, n, post = math.prod(s[:axis]), s[axis], math.prod(s[axis + 1 :])
    be = x._be
    if "resample_axis" in be.fused and x._dtype in (D.float32, D.float64) and not getattr(x._h, "symbolic", False):
        return _resampled(x, s, axis, plan)
    x3 = A.reshape(x, (pre, n, post))
    if plan.dense is not None:
        y = matmul(plan.tensor("dense", 0, (plan.out, n), be), x3)  # (out, n) @ (pre, n, post)
    else:
        full = plan.out * post <= _FULL_WEIGHTS
        y = None
        for k in range(plan.taps):  # the sum over taps of their rows times their weights
            rows = A.gather(x3, plan.tensor("index", k, (plan.out,), be), axis=1)  # (pre, out, post)
            w = (
                plan.tensor("weight", k, (1, plan.out, post), be, post)
                if full
                else plan.tensor("weight", k, (plan.out, 1), be)
            )
            term = rows * w
            y = term if y is None else y + term
    return A.reshape(y, s[:axis] + (plan.out,) + s[axis + 1 :])


def _resampled(x, s: tuple, axis: int, plan: _Plan):
    """The backend's ``resample_axis`` kernel (base.OPTIONAL_KERNELS): the whole axis in one
    call, as one tape node. Resizing is linear, so its vjp is the transpose: each tap's
    weighted rows scattered back to their input rows, or the dense matrix transposed. The
    forward calls the backend directly (no reshape ops): in the page each op's Python cost
    was about what the kernels cost."""
    be, dt = x._be, x._dtype
    pre, n, post = math.prod(s[:axis]), s[axis], math.prod(s[axis + 1 :])
    shape = s[:axis] + (plan.out,) + s[axis + 1 :]
    idx = plan.tensor("taps", "i", (plan.out, plan.taps), be)._h
    w = plan.tensor("tap_weights", "d" if dt is D.float64 else "f", (plan.out, plan.taps), be)._h

    def fwd():
        return wrap(be.reshape(be.resample_axis(x._h, idx, w, pre, n, post), shape), dt, be)

    def vjp(dy, need):
        dy = A.reshape(dy, (pre, plan.out, post))
        if plan.dense is not None:
            dx = matmul(M.cast(plan.tensor("dense", 0, (plan.out, n), be), dy._dtype), dy, transpose_a=True)
        else:
            dx = None
            for k in range(plan.taps):
                wk = M.cast(plan.tensor("weight", k, (plan.out, 1), be), dy._dtype)
                term = A._scatter_add(plan.tensor("index", k, (plan.out,), be), dy * wk, (pre, n, post), 1)
                dx = term if dx is None else dx + term
        return (A.reshape(dx, s),)

    return composite((x,), fwd, vjp)


def _pick(x, py: _Plan, px: _Plan):
    """Nearest neighbour as two gathers (exact for every dtype)."""
    return A.gather(A.gather(x, constant(py.picks, D.int32), axis=1), constant(px.picks, D.int32), axis=2)


def resize_with_pad(
    image, target_height: int, target_width: int, method: str = ResizeMethod.BILINEAR, antialias: bool = False
):
    """Resize keeping the aspect ratio, then zero-pad (centred) to the target size."""
    from .ops import pad_to_bounding_box

    x, single = _as_batch(image)
    _, h, w, _ = x.shape.as_list()
    ratio = max(w / target_width, h / target_height)
    rh, rw = int(math.floor(h / ratio)), int(math.floor(w / ratio))
    resized = resize(x, (rh, rw), method=method, antialias=antialias)
    pad_h = max(0, int(math.floor((target_height - h / ratio) / 2)))
    pad_w = max(0, int(math.floor((target_width - w / ratio) / 2)))
    out = pad_to_bounding_box(resized, pad_h, pad_w, target_height, target_width)
    return A.squeeze(out, 0) if single else out

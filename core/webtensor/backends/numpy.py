"""The numpy backend: the reference implementation of every primitive in ``base``."""

from __future__ import annotations

import functools
import math
import os

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import dtypes as D
from ..errors import InvalidArgumentError, ResourceExhaustedError
from . import base
from .layout import identity

NP = {
    D.float16: np.float16,
    D.float32: np.float32,
    D.float64: np.float64,
    D.int32: np.int32,
    D.int64: np.int64,
    D.uint8: np.uint8,
    D.uint32: np.uint32,
    D.bool_: np.bool_,
}


def _quiet():
    return np.errstate(all="ignore")


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    return np.where(x >= 0, r, e * r)


_erf64 = np.frompyfunc(math.erf, 1, 1)


def _erf(x):
    if x.dtype == np.float64:
        return np.asarray(_erf64(x), dtype=np.float64)
    t = np.clip(x.astype(np.float32), -4.0, 4.0)
    t2 = t * t
    p = np.zeros_like(t)
    for c in base.ERF_F32_NUM:
        p = p * t2 + np.float32(c)
    q = np.zeros_like(t)
    for c in base.ERF_F32_DEN:
        q = q * t2 + np.float32(c)
    return (t * p / q).astype(x.dtype)


# (function, needs np.errstate: the op can warn on ordinary inputs)
UNARY = {
    "neg": (np.negative, False),
    "abs": (np.abs, False),
    "sign": (np.sign, False),
    "square": (np.square, False),
    "sqrt": (np.sqrt, True),
    "rsqrt": (lambda x: np.reciprocal(np.sqrt(x)), True),
    "reciprocal": (np.reciprocal, True),
    "exp": (np.exp, True),
    "log": (np.log, True),
    "log1p": (np.log1p, True),
    "expm1": (np.expm1, True),
    "sin": (np.sin, False),
    "cos": (np.cos, False),
    "tan": (np.tan, False),
    "tanh": (np.tanh, False),
    "sigmoid": (_sigmoid, True),
    "erf": (_erf, False),
    "floor": (np.floor, False),
    "ceil": (np.ceil, False),
    "round": (np.round, False),
    "logical_not": (np.logical_not, False),
    "isnan": (np.isnan, False),
    "isfinite": (np.isfinite, False),
}
BINARY = {
    "add": (np.add, False),
    "sub": (np.subtract, False),
    "mul": (np.multiply, False),
    "div": (np.true_divide, True),
    "floordiv": (np.floor_divide, True),
    "mod": (np.mod, True),
    "pow": (np.power, True),
    "maximum": (np.maximum, False),
    "minimum": (np.minimum, False),
    "equal": (np.equal, False),
    "not_equal": (np.not_equal, False),
    "less": (np.less, False),
    "less_equal": (np.less_equal, False),
    "greater": (np.greater, False),
    "greater_equal": (np.greater_equal, False),
    "logical_and": (np.logical_and, False),
    "logical_or": (np.logical_or, False),
}


def _mix32(x):
    """``base._mix32`` over a uint32 array, in place: ``x`` must be a fresh array (each
    step would otherwise allocate one more temporary of the full size)."""
    t = np.empty_like(x)
    for shift, mul in ((16, 0x7FEB352D), (15, 0x846CA68B)):
        np.right_shift(x, np.uint32(shift), out=t)
        x ^= t
        x *= np.uint32(mul)
    np.right_shift(x, np.uint32(16), out=t)
    x ^= t
    return x


def random_u32(idx, key):
    """Vectorised ``base.random_u32`` over a uint32 index array."""
    k0, k1 = (np.uint32(k) for k in key)
    x = _mix32(idx ^ k0)
    x += k1
    return _mix32(x)


def _windows(xp, ksize, strides, dilations, out_hw):
    """[N, OH, OW, KH, KW, C] strided view of a padded NHWC array (no copy)."""
    n, _, _, c = xp.shape
    s = xp.strides
    shape = (n, out_hw[0], out_hw[1], ksize[0], ksize[1], c)
    st = (s[0], s[1] * strides[0], s[2] * strides[1], s[1] * dilations[0], s[2] * dilations[1], s[3])
    return as_strided(xp, shape, st, writeable=False)


def _out_hw(hw, ksize, strides, dilations):
    return tuple((hw[i] - (ksize[i] - 1) * dilations[i] - 1) // strides[i] + 1 for i in range(2))


def _pad_hw(x, pads, value=0):
    if pads == ((0, 0), (0, 0)):
        return x
    (t, b), (l, r) = pads
    n, h, w, c = x.shape
    out = np.full((n, h + t + b, w + l + r, c), value, x.dtype)
    out[:, t : t + h, l : l + w, :] = x
    return out


def _offsets(ksize, out_hw):
    """Slices picking, for each position (i, j) of a non-overlapping window, that element of
    every window (stride == window, no padding), in row-major window order."""
    (kh, kw), (oh, ow) = ksize, out_hw
    return [(slice(None), slice(i, oh * kh, kh), slice(j, ow * kw, kw)) for i in range(kh) for j in range(kw)]


def _max_pool_grad_tiled(x, dy, ksize):
    """Max-pool gradient for non-overlapping windows, window positions on a leading axis so
    every step is one contiguous pass: dy goes to each window's first maximum (row-major),
    or its first NaN."""
    (kh, kw), (n, oh, ow, c) = ksize, dy.shape
    win = x[:, : oh * kh, : ow * kw].reshape(n, oh, kh, ow, kw, c).transpose(2, 4, 0, 1, 3, 5)
    win = win.reshape(kh * kw, n, oh, ow, c)
    hit = win == win.max(axis=0)
    hit |= win != win
    seen = hit[0].copy()
    for k in range(1, kh * kw):
        hit[k] &= ~seen
        seen |= hit[k]
    g = (hit * dy).astype(dy.dtype, copy=False)
    g = g.reshape(kh, kw, n, oh, ow, c).transpose(2, 3, 0, 4, 1, 5).reshape(n, oh * kh, ow * kw, c)
    if g.shape == x.shape:
        return g
    dx = np.zeros(x.shape, dy.dtype)
    dx[:, : oh * kh, : ow * kw] = g
    return dx


def _window_add(dst, src, i, j, strides, dilations, out_hw):
    """dst[:, i*dh + oh*sh, j*dw + ow*sw, :] += src for every output position."""
    hi, wj = i * dilations[0], j * dilations[1]
    dst[
        :,
        hi : hi + (out_hw[0] - 1) * strides[0] + 1 : strides[0],
        wj : wj + (out_hw[1] - 1) * strides[1] + 1 : strides[1],
        :,
    ] += src


def _crop(xp, pads, shape):
    return xp[:, pads[0][0] : pads[0][0] + shape[1], pads[1][0] : pads[1][0] + shape[2], :]


BIG_GEMM = 1 << 24
"""Multiply-adds from which a matmul gets every BLAS thread; smaller ones run on one."""


class _BlasThreads:
    """One OpenBLAS thread by default: deep-learning GEMMs are small, and OpenBLAS's spinning
    workers cost more than they give; with any other load on the machine they stall every
    step (docs/benchmarks.md, "Backend overheads").
    Big matmuls still use every core. ``WEBTENSOR_BLAS_THREADS=N`` sets the default, ``0``
    leaves BLAS alone; without threadpoolctl nothing changes."""

    def __init__(self):
        want = os.environ.get("WEBTENSOR_BLAS_THREADS", "1")
        self.ctl = None
        if want.strip() in ("", "0"):
            return
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return
        ctl = ThreadpoolController()
        if not ctl.select(user_api="blas").lib_controllers:
            return
        self.ctl, self.all = ctl, max(int(want), os.cpu_count() or 1)
        ctl.limit(limits=int(want), user_api="blas")

    def wide(self):
        return self.ctl.limit(limits=self.all, user_api="blas")


class NumpyBackend:
    name = "numpy"
    device_type = "CPU"
    dtypes = frozenset(D.ALL)
    fused = frozenset(
        (
            "softmax",
            "sparse_softmax_xent",
            "adam_update",
            "elementwise",
            "matmul_epilogue",
            "elementwise_many",
            "elementwise_into",
            "linalg_qr",
            "linalg_eigh",
            "linalg_svd",
            "fft",
            "linalg_solve",
            "linalg_cholesky",
            "rfft",
            "linalg_eigvalsh",
            "linalg_svd_values",
        )
    )
    kernel_count = 0
    """Primitive calls other than write/read (tf.config.experimental.get_kernel_count)."""

    def __init__(self):
        self._blas = _BlasThreads()

    # -- data movement --
    def write(self, buf, shape, dtype):
        return np.frombuffer(buf, dtype=NP[dtype]).reshape(shape).copy()

    def read(self, h):
        return memoryview(np.ascontiguousarray(h).reshape(-1).view(np.uint8))

    def full(self, shape, value, dtype):
        if not shape:
            return np.array(value, NP[dtype])
        return np.full(shape, value, NP[dtype])

    def arange(self, start, delta, n, dtype):
        t = NP[dtype]
        return (np.arange(n, dtype=t) * t(delta) + t(start)).astype(t)

    def random(self, kind, shape, dtype, key):
        n = math.prod(shape)
        ft = np.float64 if dtype is D.float64 else np.float32
        if kind == "uniform":  # in place where the arrays are fresh (a dropout mask per step)
            bits = random_u32(np.arange(n, dtype=np.uint32), key)
            bits >>= np.uint32(8)
            out = bits.astype(ft)
            out *= ft(2.0**-24)
        else:
            i2 = np.arange(n, dtype=np.uint32) * np.uint32(2)
            u1 = ((random_u32(i2, key) >> np.uint32(8)).astype(ft) + 1) * ft(2.0**-24)
            u2 = (random_u32(i2 + np.uint32(1), key) >> np.uint32(8)).astype(ft) * ft(2.0**-24)
            out = np.sqrt(ft(-2) * np.log(u1)) * np.cos(ft(2 * math.pi) * u2)
        return out.astype(NP[dtype], copy=False).reshape(shape)

    # -- elementwise --
    def unary(self, op, x):  # the hot paths catch MemoryError inline (no wrapper frame)
        self.kernel_count += 1
        f, warns = UNARY[op]
        try:
            if warns:
                with _quiet():
                    return f(x)
            return f(x)
        except MemoryError as e:
            raise _exhausted(op, (x,), e) from None

    def binary(self, op, x, y):
        self.kernel_count += 1
        f, warns = BINARY[op]
        try:
            if warns:
                with _quiet():
                    return f(x, y)
            return f(x, y)
        except MemoryError as e:
            raise _exhausted(op, (x, y), e) from None

    def where(self, cond, x, y):
        return np.where(cond, x, y)

    def cast(self, x, dtype):
        with _quiet():
            return x.astype(NP[dtype])

    # -- reductions --
    def reduce(self, op, x, axes, keepdims):
        if not axes:
            return x
        if op == "sum" and (x.dtype == np.float32 or x.dtype == np.float64):
            return np.add.reduce(x, axes, None, None, keepdims)  # np.sum's wrappers cost more than a small sum
        if op in ("sum", "prod"):
            acc = np.float32 if x.dtype == np.float16 else x.dtype
            f = np.sum if op == "sum" else np.prod
            with _quiet():
                return f(x, axis=axes, keepdims=keepdims, dtype=acc).astype(x.dtype, copy=False)
        if op in ("any", "all"):
            return (np.any if op == "any" else np.all)(x, axis=axes, keepdims=keepdims)
        f = np.maximum if op == "max" else np.minimum
        return f.reduce(x, axis=axes, keepdims=keepdims, initial=identity(op, D.as_dtype(x.dtype.name)))

    def argreduce(self, op, x, axis, dtype):
        if x.shape[axis] == 0:
            raise InvalidArgumentError(f"{op}: reduction dimension {axis} of shape {x.shape} is empty")
        f = np.argmax if op == "argmax" else np.argmin
        return f(x, axis=axis).astype(NP[dtype])

    def scan(self, op, x, axis, exclusive, reverse):
        if reverse:
            x = np.flip(x, axis)
        f = np.cumsum if op == "sum" else np.cumprod
        with _quiet():
            out = f(x, axis=axis, dtype=x.dtype)
        if exclusive:
            first = np.full_like(np.take(out, [0], axis=axis), 0 if op == "sum" else 1)
            out = np.concatenate([first, np.take(out, np.arange(x.shape[axis] - 1), axis=axis)], axis)
        return np.flip(out, axis) if reverse else out

    # -- linear algebra --
    def matmul(self, a, b, transpose_a, transpose_b):
        if transpose_a:
            a = a.swapaxes(-1, -2)
        if transpose_b:
            b = b.swapaxes(-1, -2)
        if self._blas.ctl is not None and a.size * b.shape[-1] >= BIG_GEMM:
            with self._blas.wide():
                return np.matmul(a, b)
        return np.matmul(a, b)

    # -- convolution and pooling --
    def conv2d(self, x, w, strides, pads, dilations, groups):
        kh, kw, cg, o = w.shape
        xp = _pad_hw(x, pads)
        out_hw = _out_hw(xp.shape[1:3], (kh, kw), strides, dilations)
        if groups == 1 and (kh, kw) == (1, 1):
            xs = xp[:, :: strides[0], :: strides[1], :][:, : out_hw[0], : out_hw[1], :]
            return np.matmul(xs, w[0, 0])
        win = _windows(xp, (kh, kw), strides, dilations, out_hw)
        n = x.shape[0]
        if groups == 1:  # im2col: one GEMM
            cols = win.reshape(n * out_hw[0] * out_hw[1], kh * kw * cg)
            return (cols @ w.reshape(kh * kw * cg, o)).reshape(n, out_hw[0], out_hw[1], o)
        win = win.reshape(n, out_hw[0], out_hw[1], kh, kw, groups, cg)
        wg = w.reshape(kh, kw, cg, groups, o // groups)
        out = np.einsum("nhwijgc,ijcgo->nhwgo", win, wg, optimize=True)
        return out.reshape(n, out_hw[0], out_hw[1], o)

    def conv2d_input_grad(self, dy, w, x_shape, strides, pads, dilations, groups):
        kh, kw, cg, o = w.shape
        (t, b), (l, r) = pads
        if groups == 1 and strides == (1, 1) and dilations == (1, 1) and max(t, b) < kh and max(l, r) < kw:
            # stride 1: the input gradient is the convolution of dy with the flipped, transposed kernel
            wf = np.ascontiguousarray(w[::-1, ::-1].transpose(0, 1, 3, 2))
            return self.conv2d(dy, wf, (1, 1), ((kh - 1 - t, kh - 1 - b), (kw - 1 - l, kw - 1 - r)), (1, 1), 1)
        n, h, wd, c = x_shape
        hp, wp = h + pads[0][0] + pads[0][1], wd + pads[1][0] + pads[1][1]
        out_hw = dy.shape[1:3]
        dxp = np.zeros((n, hp, wp, c), dy.dtype)
        if groups == 1:
            cols = np.tensordot(dy, w, axes=([3], [3]))  # [N, OH, OW, KH, KW, C]
        else:
            dyg = dy.reshape(n, out_hw[0], out_hw[1], groups, o // groups)
            wg = w.reshape(kh, kw, cg, groups, o // groups)
            cols = np.einsum("nhwgo,ijcgo->nhwijgc", dyg, wg, optimize=True)
            cols = cols.reshape(n, out_hw[0], out_hw[1], kh, kw, c)
        for i in range(kh):
            for j in range(kw):
                _window_add(dxp, cols[:, :, :, i, j, :], i, j, strides, dilations, out_hw)
        return np.ascontiguousarray(_crop(dxp, pads, x_shape))

    def conv2d_filter_grad(self, x, dy, w_shape, strides, pads, dilations, groups):
        kh, kw, cg, o = w_shape
        xp = _pad_hw(x, pads)
        out_hw = dy.shape[1:3]
        win = _windows(xp, (kh, kw), strides, dilations, out_hw)
        if groups == 1:
            cols = win.reshape(-1, kh * kw * cg)
            return (cols.T @ dy.reshape(-1, o)).reshape(w_shape)
        n = x.shape[0]
        win = win.reshape(n, out_hw[0], out_hw[1], kh, kw, groups, cg)
        dyg = dy.reshape(n, out_hw[0], out_hw[1], groups, o // groups)
        return np.einsum("nhwijgc,nhwgo->ijcgo", win, dyg, optimize=True).reshape(w_shape)

    def pool2d(self, op, x, ksize, strides, pads):
        if ksize == strides and pads == ((0, 0), (0, 0)):
            first, *rest = _offsets(ksize, _out_hw(x.shape[1:3], ksize, strides, (1, 1)))
            out = x[first].copy()
            for sl in rest:
                (np.maximum if op == "max" else np.add)(out, x[sl], out=out)
            return out if op == "max" else (out / (ksize[0] * ksize[1])).astype(x.dtype)
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xp = _pad_hw(x, pads, fill if op == "max" else 0)
        out_hw = _out_hw(xp.shape[1:3], ksize, strides, (1, 1))
        win = _windows(xp, ksize, strides, (1, 1), out_hw)
        if op == "max":
            return win.max(axis=(3, 4))
        return (win.sum(axis=(3, 4)) / self._pool_counts(x.shape, ksize, strides, pads, out_hw)).astype(x.dtype)

    def _pool_counts(self, shape, ksize, strides, pads, out_hw):
        ones = _pad_hw(np.ones((1, shape[1], shape[2], 1), np.float32), pads)
        return _windows(ones, ksize, strides, (1, 1), out_hw).sum(axis=(3, 4))

    def pool2d_grad(self, op, x, dy, ksize, strides, pads):
        n, h, w, c = x.shape
        if ksize == strides and pads == ((0, 0), (0, 0)):
            if op == "max":
                return _max_pool_grad_tiled(x, dy, ksize)
            dx = np.zeros(x.shape, dy.dtype)
            g = (dy / (ksize[0] * ksize[1])).astype(dy.dtype)
            for sl in _offsets(ksize, dy.shape[1:3]):
                dx[sl] = g
            return dx
        dxp = np.zeros((n, h + sum(pads[0]), w + sum(pads[1]), c), dy.dtype)
        out_hw = dy.shape[1:3]
        if op == "max":
            fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
            win = _windows(_pad_hw(x, pads, fill), ksize, strides, (1, 1), out_hw)
            arg = win.reshape(n, out_hw[0], out_hw[1], ksize[0] * ksize[1], c).argmax(axis=3)
            for i in range(ksize[0]):
                for j in range(ksize[1]):
                    src = np.where(arg == i * ksize[1] + j, dy, 0).astype(dy.dtype)
                    _window_add(dxp, src, i, j, strides, (1, 1), out_hw)
        else:
            src = (dy / self._pool_counts(x.shape, ksize, strides, pads, out_hw)).astype(dy.dtype)
            for i in range(ksize[0]):
                for j in range(ksize[1]):
                    _window_add(dxp, src, i, j, strides, (1, 1), out_hw)
        return np.ascontiguousarray(_crop(dxp, pads, x.shape))

    # -- fused kernels (base.FusedKernels states each formula) --
    def softmax(self, x, axis):
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    def sparse_softmax_xent(self, logits, labels):
        """``base.FusedKernels.sparse_softmax_xent``. Each row's label is picked by a flat
        index (take/put_along_axis cost more than the arithmetic at training sizes), the
        range check is one unsigned compare, and the masking for labels outside [0, n)
        runs only when there are some."""
        n = logits.shape[-1]
        with _quiet():
            m = logits.max(axis=-1, keepdims=True)
            if not np.isfinite(m).all():
                m = np.where(np.isfinite(m), m, np.zeros((), logits.dtype))
            e = np.exp(logits - m)
            lse = np.log(e.sum(axis=-1, keepdims=True))
            lse += m
            flat = labels.reshape(-1)
            ok = flat.view(f"u{flat.dtype.itemsize}") < n  # a negative label wraps to a huge one
            every = bool(ok.all())
            at = np.arange(0, flat.shape[0] * n, n)
            at += flat if every else np.where(ok, flat, 0)
            loss = lse.reshape(-1) - logits.take(at)
            if not every:
                loss = np.where(ok, loss, np.array(np.nan, logits.dtype))
            grad = np.exp(logits - lse)
            g = grad.reshape(-1)
            g[at] -= 1 if every else ok.astype(grad.dtype)
        return loss.reshape(labels.shape).astype(logits.dtype, copy=False), grad.astype(logits.dtype, copy=False)

    def adam_update(self, w, m, v, g, alpha, c1, c2, eps):
        """``base.FusedKernels.adam_update`` (its float order: identical results)."""
        with _quiet():
            m2 = g - m
            m2 *= c1
            m2 += m
            v2 = np.square(g)
            v2 -= v
            v2 *= c2
            v2 += v
            den = np.sqrt(v2)
            den += eps
            w2 = m2 * alpha
            w2 /= den
            return w - w2, m2, v2

    # -- LAPACK / pocketfft through numpy (base.OPTIONAL_KERNELS; float32/float64 only) --
    def linalg_qr(self, a):
        q, r = np.linalg.qr(a, mode="complete")
        return q.astype(a.dtype, copy=False), r.astype(a.dtype, copy=False)

    def linalg_eigh(self, a):
        e, v = np.linalg.eigh(a, UPLO="L")
        return e.astype(a.dtype, copy=False), v.astype(a.dtype, copy=False)

    def linalg_eigvalsh(self, a):
        return np.linalg.eigvalsh(a, UPLO="L").astype(a.dtype, copy=False)

    def linalg_svd_values(self, a):
        return np.linalg.svd(a, compute_uv=False).astype(a.dtype, copy=False)

    def linalg_svd(self, a):
        u, s, vt = np.linalg.svd(a, full_matrices=True)
        return (
            s.astype(a.dtype, copy=False),
            u.astype(a.dtype, copy=False),
            np.swapaxes(vt, -1, -2).astype(a.dtype, copy=False),
        )

    def linalg_solve(self, a, b, det=True):
        if not det:
            try:
                x = np.linalg.solve(a, b) if b.shape[-1] else np.zeros(b.shape, a.dtype)
                return x.astype(a.dtype, copy=False), False
            except np.linalg.LinAlgError:  # LAPACK's gesv: an exactly zero pivot
                return np.full(b.shape, np.nan, a.dtype), True
        sign, logabs = np.linalg.slogdet(a)
        try:
            x = np.linalg.solve(a, b) if b.shape[-1] else np.zeros(b.shape, a.dtype)
        except np.linalg.LinAlgError:
            x = np.full(b.shape, np.nan, a.dtype)
        return x.astype(a.dtype, copy=False), sign.astype(a.dtype), logabs.astype(a.dtype)

    def linalg_cholesky(self, a):
        try:
            return np.linalg.cholesky(a).astype(a.dtype, copy=False), False
        except np.linalg.LinAlgError:  # potrf: a pivot <= 0 or NaN
            return np.full(a.shape, np.nan, a.dtype), True

    def rfft(self, x):
        z = np.fft.rfft(x)
        return z.real.astype(x.dtype), z.imag.astype(x.dtype)

    def fft(self, re, im, inverse):
        z = np.fft.ifft(re + 1j * im) if inverse else np.fft.fft(re + 1j * im)
        return z.real.astype(re.dtype), z.imag.astype(re.dtype)

    def fusable(self, program) -> bool:
        return True

    def fused_elementwise(self, program, *hs):
        """A fused elementwise program (function/passes.py) with ufuncs writing into ``out=``
        buffers: a temporary is reused in place once its last reader has run, so a chain
        allocates one or two arrays, not one per op."""
        return _run_fused(program, hs, None)

    def fused_elementwise_into(self, program, pos, *hs):
        """``fused_elementwise`` where input ``pos`` (handed over in a list: it dies here) is
        the output buffer when nothing else refers to it (no view, no variable)."""
        hs = list(hs)
        h, sole = base.take_donation(hs[pos], hs, pos)
        if (
            sole
            and h.base is None
            and h.flags.writeable
            and h.flags.c_contiguous
            and h.dtype == NP[D.as_dtype(program[-1][2])]
        ):
            return _run_fused(program, hs, None, h)
        return _run_fused(program, hs, None)

    def fusable_many(self, programs) -> bool:
        return True

    def fused_many(self, programs, *hs):
        """Independent fused programs over shared inputs (one primitive call)."""
        return tuple(_run_fused(p, hs, None) for p in programs)

    def bind_static(self, type_, attrs, ins, outs):
        """A replay callable for one graph node (function/graph.py asks before it binds the
        generic method), or None. A graph's shapes and dtypes are static, so what each call
        would decide again (the fused program's plan, the BLAS thread count, the reduction's
        accumulator) is decided here once; the callable still counts one kernel and turns a
        MemoryError into ResourceExhaustedError. ``ins``/``outs``: (shape, dtype) pairs."""
        if type_ == "matmul":
            return self._static_matmul(attrs["transpose_a"], attrs["transpose_b"], ins, None)
        if type_ == "fused" and "anchor" in attrs:
            _, ta, tb = attrs["anchor"]
            return self._static_matmul(ta, tb, ins, _plan(attrs["program"], True))
        if type_ == "fused":
            progs = attrs["programs"] if "programs" in attrs else (attrs["program"],)
            return self._static_fused([_plan(p, False) for p in progs], "programs" in attrs)
        if type_ == "reduce" and attrs["op"] == "sum" and attrs["axes"] and ins[0][1] in (D.float32, D.float64):
            return self._static_sum(attrs["axes"], attrs["keepdims"])
        return None

    def _static_matmul(self, ta, tb, ins, epilogue):
        """matmul of fixed operand shapes on one BLAS thread, with ``epilogue`` (a fused
        program's plan over the product and the other inputs) run in the product's buffer."""
        (sa, _), (sb, _) = ins[0], ins[1]
        if self._blas.ctl is not None and math.prod(sa) * (sb[-2] if tb else sb[-1]) >= BIG_GEMM:
            return None  # every BLAS thread: the generic method sets them per call
        mm = np.matmul

        def run(a, b, *hs):
            self.kernel_count += 1
            try:
                y = mm(a.swapaxes(-1, -2) if ta else a, b.swapaxes(-1, -2) if tb else b)
                return y if epilogue is None else epilogue((y,) + hs, None)
            except MemoryError as e:
                raise _exhausted("fused_matmul" if epilogue else "matmul", (a, b) + hs, e) from None

        return run

    def _static_fused(self, plans, many):
        """Fused elementwise programs over shared inputs (one kernel): a tuple when ``many``."""
        one = plans[0]

        def run(*hs):
            self.kernel_count += 1
            try:
                return tuple([p(hs, None) for p in plans]) if many else one(hs, None)
            except MemoryError as e:
                raise _exhausted("fused_elementwise", hs, e) from None

        return run

    def _static_sum(self, axes, keepdims):
        red = np.add.reduce

        def run(x):
            self.kernel_count += 1
            try:
                return red(x, axes, None, None, keepdims)
            except MemoryError as e:
                raise _exhausted("reduce", (x,), e) from None

        return run

    def fused_matmul(self, program, transpose_a, transpose_b, a, b, *hs):
        """matmul with an elementwise epilogue (the program's input 0 is the product), which
        runs in the product's own buffer where the dtypes allow."""
        y = NumpyBackend.matmul.__wrapped__(self, a, b, transpose_a, transpose_b)
        return _run_fused(program, (y,) + hs, y)

    # -- indexing --
    def gather(self, x, indices, axis):
        n = x.shape[axis]
        if indices.size:
            lo, hi = int(indices.min()), int(indices.max())
            if lo < 0 or hi >= n:
                bad = lo if lo < 0 else hi
                raise InvalidArgumentError(
                    f"gather: index {bad} is not in [0, {n}) (params shape {x.shape}, axis {axis})"
                )
        return np.take(x, indices, axis=axis)

    def scatter_add(self, indices, updates, shape, axis):
        out = np.zeros(shape, updates.dtype)
        if indices.size:
            lo, hi = int(indices.min()), int(indices.max())
            if lo < 0 or hi >= shape[axis]:
                raise InvalidArgumentError(
                    f"scatter_add: index {hi if hi >= shape[axis] else lo} is not in [0, {shape[axis]})"
                )
        if axis == 0:
            np.add.at(out, indices.reshape(-1), updates.reshape((-1,) + tuple(shape[1:])))
        else:
            np.add.at(out, (slice(None),) * axis + (indices,), updates)
        return out

    # -- movement --
    def reshape(self, x, shape):
        return x.reshape(shape)

    def transpose(self, x, perm):
        return np.transpose(x, perm)

    def slice(self, x, begin, size, strides):
        idx = []
        for b, n, s in zip(begin, size, strides):
            end = b + n * s
            idx.append(slice(b, None if end < 0 else end, s))
        return x[tuple(idx)]

    def concat(self, xs, axis):
        return np.concatenate(xs, axis=axis)

    def pad(self, x, pads, value):
        return np.pad(x, pads, constant_values=value)

    def broadcast_to(self, x, shape):
        if not x.flags.c_contiguous:
            return np.broadcast_to(x, shape)
        lead = len(shape) - x.ndim  # a zero-stride view, without np.broadcast_to's checks
        strides = (0,) * lead + tuple(0 if d == 1 else st for d, st in zip(x.shape, x.strides))
        out = np.ndarray(shape, x.dtype, x, 0, strides)
        out.flags.writeable = False
        return out


_FUSED_PLANS: dict = {}


def _run_fused(program, hs, owned, into=None):
    """Evaluate a fused program; ``owned`` (hs[0], a fresh matmul product) may be
    overwritten; ``into``: the array the result is written to."""
    return _plan(program, owned is not None, into is not None)(hs, into)


def _plan(program, own0: bool, into: bool = False):
    """The compiled plan of a fused program (``_compile_fused``), cached by program."""
    key = (program, own0, into)
    fn = _FUSED_PLANS.get(key)
    if fn is None:
        if len(_FUSED_PLANS) >= 1024:
            _FUSED_PLANS.clear()
        fn = _FUSED_PLANS[key] = _compile_fused(program, own0, into)
    return fn


def _compile_fused(program, own0: bool, into: bool = False):
    """Straight-line numpy for a fused program (shapes are static, so every reshape and
    buffer choice is made here): ufuncs write into ``out=`` buffers, and a temporary whose
    last reader has run is reused, in place where the op allows."""
    n = math.prod(program[-1][3])
    last = {}
    for j, ins in enumerate(program):
        if ins[0] != "load":
            for a in ins[4]:
                last[a] = j
    ns = {"np": np, "empty": np.empty, "copyto": np.copyto}
    shapes, owned, free, body, warns = {}, set(), {}, [], False
    for j, (kind, attr, dt, shape, args) in enumerate(program):
        shape, t = tuple(shape), np.dtype(NP[D.as_dtype(dt)])
        ns[f"t{j}"] = t
        if kind == "load":
            k, as_shape = args
            body.append(f"r{j} = hs[{k}]")
            body.append(f"if r{j}.shape != {tuple(as_shape)!r}: r{j} = r{j}.reshape({tuple(as_shape)!r})")
            shapes[j] = tuple(as_shape)
            if own0 and k == 0 and math.prod(as_shape) == n:
                owned.add(j)
            continue
        ops = [
            f"r{a}" if shapes[a] in (shape, ()) or math.prod(shapes[a]) != n else f"r{a}.reshape({shape!r})"
            for a in args
        ]  # a scalar broadcasts as it is
        dying = [a for a in dict.fromkeys(args) if last.get(a) == j and a in owned]
        if kind in ("unary", "binary"):  # exact overlap is safe for ufuncs: reuse an operand
            for a in dying:
                free.setdefault(np.dtype(NP[D.as_dtype(program[a][2])]), []).append(a)
            dying = []
        pool = free.get(t)
        if kind == "where" and not (into and j == len(program) - 1):  # one pass, 2x faster than a masked copyto
            ns["where"] = np.where
            body.append(f"r{j} = where({ops[0]}, {ops[1]}, {ops[2]})")
            body.append(f"if r{j}.dtype != t{j}: r{j} = r{j}.astype(t{j})")
            out = None
        elif into and j == len(program) - 1:
            out = f"dst.reshape({shape!r})"
        elif pool and not (n == 1 and pool[-1] in args):  # numpy copies a 1-element operand that is also out=
            b = pool.pop()
            out = f"r{b}" if shapes[b] == shape else f"r{b}.reshape({shape!r})"
        else:
            out = f"empty({shape!r}, t{j})"
        if kind == "unary":
            f, w = UNARY[attr]
            ns[f"f{j}"] = f
            warns |= w
            if isinstance(f, np.ufunc):
                body.append(f"r{j} = f{j}({ops[0]}, out={out})")
            else:
                body.append(f"r{j} = {out}; copyto(r{j}, f{j}(np.broadcast_to({ops[0]}, {shape!r})), casting='unsafe')")
        elif kind == "binary":
            f, w = BINARY[attr]
            ns[f"f{j}"] = f
            warns |= w
            body.append(f"r{j} = f{j}({ops[0]}, {ops[1]}, out={out})")
        elif kind == "where":
            if out is not None:  # into the donated buffer
                body.append(f"r{j} = {out}; copyto(r{j}, {ops[2]}); copyto(r{j}, {ops[1]}, where={ops[0]})")
        else:
            warns = True
            body.append(f"r{j} = {out}; copyto(r{j}, {ops[0]}, casting='unsafe')")
        shapes[j] = shape
        owned.add(j)
        for a in dying:
            free.setdefault(np.dtype(NP[D.as_dtype(program[a][2])]), []).append(a)
    body.append(f"return r{len(program) - 1}")
    pad = "        " if warns else "    "
    src = "def run(hs, dst):\n" + ("    with _quiet():\n" if warns else "") + "".join(pad + ln + "\n" for ln in body)
    ns["_quiet"] = _quiet
    exec(src, ns)
    return ns["run"]


def _describe(v) -> str:
    return f"{v.shape} {v.dtype}" if isinstance(v, np.ndarray) else repr(v)[:60]


def _exhausted(name: str, args, e: MemoryError) -> ResourceExhaustedError:
    """numpy's MemoryError as TF's ResourceExhaustedError naming the primitive and operands."""
    operands = ", ".join(_describe(a) for a in args)
    return ResourceExhaustedError(f"{name}: out of host memory on the numpy backend for arguments ({operands}): {e}")


def _no_bare_memory_error(method, counted=True):
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        if counted:
            self.kernel_count += 1
        try:
            return method(self, *args, **kwargs)
        except MemoryError as e:
            raise _exhausted(method.__name__, args, e) from None

    return run


for _name, _fn in list(vars(NumpyBackend).items()):
    if (
        isinstance(_fn, type(_describe))
        and not _name.startswith("_")
        and _name not in ("unary", "binary", "bind_static")
    ):
        setattr(
            NumpyBackend, _name, _no_bare_memory_error(_fn, _name not in ("write", "read", "fusable", "fusable_many"))
        )

"""The GPU backend's FFT kernels (``base.OPTIONAL_KERNELS`` fft and rfft) over
``shaders/fft.wgsl``, on complex rows held as two float32 planes like ``ComplexTensor``.

Powers of two run ceil(log2(n) / 2) Stockham passes, one dispatch each: radix-4, and one
radix-2 where log2(n) is odd (the composition in signal/fft.py takes a dozen dispatches
per radix-2 stage); on GPUs a row of n <= 1024 runs all its passes in one dispatch through
workgroup memory (CPU adapters keep the passes: barriers are thread switches there).
Other lengths run Bluestein's chirp-z: two power-of-two FFTs of length m >= 2n - 1
between a chirp multiply in and out, and a pointwise product with the FFT of the chirp,
made once per (n, direction) on the GPU and cached with the twiddle and chirp tables
(host-made in float64, rounded once). rfft of even n is a complex FFT of n / 2 (the even
and odd terms as re and im) and a post-pass.
"""

from __future__ import annotations

import array
import math

from ... import dtypes as D
from ...errors import InvalidArgumentError
from ...shape import prod
from . import shaders as S

INVERSE, REAL, NO_TABLE, PAIRS = 1, 2, 4, 8  # fft.wgsl's flags
WORKGROUP_MAX = 1024  # rows this long run every pass in one dispatch (in_workgroup), on GPUs
_TABLES_MAX = 64  # cached tables (each a device buffer) before the cache starts over
_NONE = (None, 0)  # an unused binding


def fft(be, re, im, inverse: bool) -> tuple:
    """The DFT of re + i im over the last axis (inverse: with the 1/n), as two planes."""
    op = "ifft" if inverse else "fft"
    _check(op, re, im)
    n = re.shape[-1]
    return _dft(be, re, im, n, n, INVERSE if inverse else 0, re.shape)


def rfft(be, x) -> tuple:
    """The first n // 2 + 1 terms of the DFT of real x over its last axis; for even n
    from one complex FFT of half the length (the even and odd terms as re and im)."""
    _check("rfft", x, None)
    n = x.shape[-1]
    out_shape = x.shape[:-1] + (n // 2 + 1,)
    rows, h = prod(x.shape[:-1]), n // 2
    if n % 2 or not rows:
        return _dft(be, x, None, n, h + 1, REAL, out_shape)
    zr, zi = _dft(be, x, None, h, h, PAIRS, (rows, h))
    tw = _table(be, ("twiddle", n), lambda: _host(be, _twiddles(n)))
    return _pass(be, "rfft_post", zr, zi, tw, out_shape, rows, h, 0, 0, h, h + 1, 1.0)


def _check(op: str, re, im) -> None:
    if re.dtype is not D.float32 or (im is not None and (im.dtype is not D.float32 or im.shape != re.shape)):
        got = f"{re.dtype.name} {re.shape}" + (f" and {im.dtype.name} {im.shape}" if im is not None else "")
        raise InvalidArgumentError(f"{op}: the GPU kernel takes float32 parts of one shape, got {got}")
    if not re.shape:
        raise InvalidArgumentError(f"{op}: input must have rank >= 1, got a scalar")


def _dft(be, xr, xi, n: int, nout: int, flags: int, out_shape: tuple) -> tuple:
    rows = prod(out_shape[:-1])
    if not rows or not n:
        return be._new(out_shape, D.float32), be._new(out_shape, D.float32)
    inverse = flags & INVERSE
    scale = 1.0 / n if inverse else 1.0
    if n & (n - 1):
        return _bluestein(be, xr, xi, rows, n, nout, flags, scale, out_shape)
    return _pow2(be, xr, xi, rows, n, nout, flags, scale, out_shape)


def _pass(be, entry: str, xr, xi, tab, out_shape: tuple, rows, n, span, flags, nin, nout, scale) -> tuple:
    """One dispatch of fft.wgsl's ``entry``; every entry binds the same six slots. The
    element entries loop over their items; in_workgroup takes one workgroup per row."""
    yr, yi = be._new(out_shape, D.float32), be._new(out_shape, D.float32)
    pipe = be._pipe(("fft.wgsl",), entry, "urrrww")
    params = S.params("fft.wgsl").pack(rows, n, span, flags, nin, nout, scale, 0)
    if entry == "in_workgroup":
        grid = be._grid(rows)
    else:
        grid = be._items(rows * {"stage": n // 2, "stage4": n // 4}.get(entry, nout))
    be._run(pipe, params, [xr, xi if xi is not None else _NONE, tab or _NONE, yr, yi], grid)
    return yr, yi


def _pow2(be, xr, xi, rows, n, nout, flags, scale, out_shape) -> tuple:
    """Stockham passes: radix-2 first if log2(n) is odd, then radix-4 (half the passes and
    a quarter of the invocations of radix-2 alone). The first reads the input (real: no
    imaginary plane), the last keeps nout terms per row and scales them."""
    if n == 1:
        return _pass(be, "chirp_out", xr, xi, None, out_shape, rows, 1, 0, flags | NO_TABLE, 1, nout, scale)
    tw = _table(be, ("twiddle", n), lambda: _host(be, _twiddles(n)))
    if n <= WORKGROUP_MAX and be.workgroup_kernels:
        return _pass(be, "in_workgroup", xr, xi, tw, out_shape, rows, n, 0, flags, n, nout, scale)
    span = 1
    while span < n:
        radix = 2 if (n // span).bit_length() % 2 == 0 else 4  # n / span = 2^odd: one radix-2 pass
        last = radix * span == n
        f = flags & (INVERSE | REAL | PAIRS) if span == 1 else flags & INVERSE
        shape, keep, s = (out_shape, nout, scale) if last else ((rows, n), n, 1.0)
        entry = "stage" if radix == 2 else "stage4"
        xr, xi = _pass(be, entry, xr, xi, tw, shape, rows, n, span, f, n, keep, s)
        span *= radix
    return xr, xi


def _bluestein(be, xr, xi, rows, n, nout, flags, scale, out_shape) -> tuple:
    """X[k] = c[k] sum_j (x[j] c[j]) conj(c[k - j]), c[k] = exp(-i pi k^2 / n) (conjugated
    for the inverse), the sum a circular convolution of length m done by FFTs."""
    m = 1 << (2 * n - 2).bit_length()
    inv = flags & INVERSE
    chirp = _table(be, ("chirp", n), lambda: _host(be, _chirp(n)))
    ar, ai = _pass(be, "chirp_in", xr, xi, chirp, (rows, m), rows, m, 0, flags, n, m, 1.0)
    ar, ai = _pow2(be, ar, ai, rows, m, m, 0, 1.0, (rows, m))
    spectrum = _table(be, ("chirp_fft", n, inv), lambda: _chirp_spectrum(be, n, m, inv))
    ar, ai = _pass(be, "pointwise", ar, ai, spectrum, (rows, m), rows, m, 0, 0, m, m, 1.0)
    ar, ai = _pow2(be, ar, ai, rows, m, m, INVERSE, 1.0 / m, (rows, m))
    return _pass(be, "chirp_out", ar, ai, chirp, out_shape, rows, m, 0, inv, m, nout, scale)


def _table(be, key, make):
    """The table cached under ``key``, else ``make()``'s (a handle of interleaved re, im)."""
    cache = be._fft_tables
    h = cache.get(key)
    if h is None:
        if len(cache) >= _TABLES_MAX:
            cache.clear()
        h = cache[key] = make()
    return h


def _host(be, vals: list):
    """Host floats (computed in float64) as a float32 GPU tensor."""
    return be.write(memoryview(array.array("f", vals)).cast("B"), (len(vals),), D.float32)


def _twiddles(n: int) -> list:
    """exp(-2 pi i t / n) for t < n (a radix-4 pass reads up to 3n / 4)."""
    out = []
    for t in range(n):
        a = 2.0 * math.pi * t / n
        out += (math.cos(a), -math.sin(a))
    return out


def _chirp(n: int) -> list:
    """exp(-i pi k^2 / n) for k < n, with k^2 reduced mod 2n first (exact in integers)."""
    out = []
    for k in range(n):
        a = math.pi * ((k * k) % (2 * n)) / n
        out += (math.cos(a), -math.sin(a))
    return out


def _chirp_spectrum(be, n: int, m: int, inv: int):
    """fft of b, b[k] = b[m - k] = conj(c[k]) for k < n (zero between), as a table: the
    convolution kernel of Bluestein's sum for this direction (c conjugated for inverse)."""
    c = _chirp(n)
    br, bi = [0.0] * m, [0.0] * m
    for k in range(n):
        br[k], bi[k] = c[2 * k], (c[2 * k + 1] if inv else -c[2 * k + 1])
        if k:
            br[m - k], bi[m - k] = br[k], bi[k]
    fr, fi = _pow2(be, _host(be, br), _host(be, bi), 1, m, m, 0, 1.0, (1, m))
    return _pass(be, "interleave", fr, fi, None, (2 * m,), 1, m, 0, 0, m, m, 1.0)[0]

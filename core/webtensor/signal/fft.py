"""``tf.signal`` FFTs over the innermost dimension(s), composed of real primitives on the
(real, imag) parts of a complex tensor, so every backend and graph runs them and their
gradients come from the composition.

Power-of-two lengths use an iterative radix-2 Cooley-Tukey (a bit-reversal gather, then
log2(n) butterfly stages, each a reshape and a few elementwise ops); other lengths use
Bluestein's chirp-z algorithm on a power-of-two FFT of length >= 2n - 1.
"""

from __future__ import annotations

import math

from .. import dtypes as D
from ..complex import ComplexTensor
from ..errors import InvalidArgumentError
from ..ops import array as A
from ..ops.dispatch import operand
from ..tensor import Tensor


def _complex_input(x, op: str) -> ComplexTensor:
    if isinstance(x, ComplexTensor):
        return x
    dt = getattr(x, "dtype", None)
    raise InvalidArgumentError(
        f"{op}: expects a complex64 or complex128 tensor, got "
        f"{getattr(dt, 'name', type(x).__name__)} (use tf.complex(x, 0) or tf.signal.rfft)"
    )


def _const(values, like: Tensor) -> Tensor:
    return operand(values, "fft", like._dtype)


def _bit_reversed(n: int) -> list:
    bits = n.bit_length() - 1
    return [int(format(i, f"0{bits}b")[::-1], 2) if bits else 0 for i in range(n)]


def _radix2(re: Tensor, im: Tensor):
    n = re._h.shape[-1]
    lead = tuple(re._h.shape[:-1])
    perm = _bit_reversed(n)
    re, im = A.gather(re, perm, axis=-1), A.gather(im, perm, axis=-1)
    h = 1
    while h < n:
        shape = lead + (n // (2 * h), 2, h)
        re4, im4 = A.reshape(re, shape), A.reshape(im, shape)
        ar, ai = A.gather(re4, 0, axis=-2), A.gather(im4, 0, axis=-2)
        br, bi = A.gather(re4, 1, axis=-2), A.gather(im4, 1, axis=-2)
        ang = [-math.pi * j / h for j in range(h)]
        wr, wi = _const([math.cos(a) for a in ang], re), _const([math.sin(a) for a in ang], re)
        tr, ti = wr * br - wi * bi, wr * bi + wi * br
        re = A.reshape(A.stack([ar + tr, ar - tr], axis=-2), lead + (n,))
        im = A.reshape(A.stack([ai + ti, ai - ti], axis=-2), lead + (n,))
        h *= 2
    return re, im


def _pad_last(x: Tensor, n: int) -> Tensor:
    k = x._h.shape[-1]
    if k == n:
        return x
    if k > n:
        return A._axis_slice(x, len(x._h.shape) - 1, 0, n)
    return A.pad(x, [[0, 0]] * (len(x._h.shape) - 1) + [[0, n - k]])


def _bluestein(re: Tensor, im: Tensor):
    n = re._h.shape[-1]
    m = 1 << (2 * n - 2).bit_length()
    ang = [-math.pi * ((k * k) % (2 * n)) / n for k in range(n)]
    cr, ci = _const([math.cos(a) for a in ang], re), _const([math.sin(a) for a in ang], re)
    ar, ai = re * cr - im * ci, re * ci + im * cr
    ar, ai = _pad_last(ar, m), _pad_last(ai, m)
    br = [0.0] * m
    bi = [0.0] * m
    for k in range(n):
        br[k], bi[k] = math.cos(ang[k]), -math.sin(ang[k])
        if k:
            br[m - k], bi[m - k] = br[k], bi[k]
    fbr, fbi = _radix2(_const(br, re), _const(bi, re))
    far, fai = _radix2(ar, ai)
    pr, pi = far * fbr - fai * fbi, far * fbi + fai * fbr
    qr, qi = _radix2(pr, -pi)  # inverse FFT by conjugation: conj(fft(conj(x))) / m
    qr, qi = _pad_last(qr, n) / m, _pad_last(-qi, n) / m
    return qr * cr - qi * ci, qr * ci + qi * cr


def _fft_parts(re: Tensor, im: Tensor, inverse: bool, op: str):
    n = re._h.shape[-1] if re._h.shape else 0
    if not re._h.shape:
        raise InvalidArgumentError(f"{op}: input must have rank >= 1, got a scalar")
    if n == 0:
        return re, im
    be = re._be
    if (
        "fft" in be.fused
        and re._dtype in (D.float32, D.float64)
        and not getattr(re._h, "symbolic", False)
        and im._be is be
    ):
        return _native(be, re, im, inverse, op)
    if inverse:
        im = -im
    if n & (n - 1) == 0:
        re, im = _radix2(re, im)
    else:
        re, im = _bluestein(re, im)
    if inverse:
        re, im = re / n, -im / n
    return re, im


def _native(be, re: Tensor, im: Tensor, inverse: bool, op: str):
    """The backend's FFT kernel as one tape node. The DFT is linear, so its vjp (TF's
    dL/dRe + i dL/dIm convention) is the adjoint transform: n ifft(g), or fft(g) / n."""
    from ..ops.dispatch import composite
    from ..tensor import wrap

    n = re._h.shape[-1]

    def fwd():
        r, i = be.fft(re._h, im._h, inverse)
        return wrap(r, re._dtype, be), wrap(i, re._dtype, be)

    def vjp(dys, need):
        gr, gi = _fft_parts(dys[0], dys[1], not inverse, op)
        scale = 1.0 / n if inverse else float(n)
        return gr * scale, gi * scale

    return composite((re, im), fwd, vjp)


def _native_rfft(be, x: Tensor, n: int, k: int):
    """The backend's rfft kernel as one tape node; its vjp is Re(n ifft(g padded to n))."""
    from ..ops.dispatch import composite
    from ..tensor import wrap

    def fwd():
        r, i = be.rfft(x._h)
        return wrap(r, x._dtype, be), wrap(i, x._dtype, be)

    def vjp(dys, need):
        gr, gi = _fft_parts(_pad_last(dys[0], n), _pad_last(dys[1], n), True, "rfft")
        return (gr * float(n),)

    return composite((x,), fwd, vjp)


def _fft_last(z: ComplexTensor, inverse: bool, op: str) -> ComplexTensor:
    return ComplexTensor(*_fft_parts(z.real, z.imag, inverse, op))


def _swap_last2(x: Tensor) -> Tensor:
    r = len(x._h.shape)
    return A.transpose(x, tuple(range(r - 2)) + (r - 1, r - 2))


def _over_second_last(z: ComplexTensor, inverse: bool, op: str) -> ComplexTensor:
    if len(z.real._h.shape) < 2:
        raise InvalidArgumentError(f"{op}: input must have rank >= 2, got shape {tuple(z.real._h.shape)}")
    re, im = _fft_parts(_swap_last2(z.real), _swap_last2(z.imag), inverse, op)
    return ComplexTensor(_swap_last2(re), _swap_last2(im))


def fft(input, name=None) -> ComplexTensor:
    """``tf.signal.fft``: the DFT over the innermost dimension."""
    return _fft_last(_complex_input(input, "fft"), False, "fft")


def ifft(input, name=None) -> ComplexTensor:
    """``tf.signal.ifft``: the inverse DFT (with the 1/n) over the innermost dimension."""
    return _fft_last(_complex_input(input, "ifft"), True, "ifft")


def fft2d(input, name=None) -> ComplexTensor:
    z = _complex_input(input, "fft2d")
    return _over_second_last(_fft_last(z, False, "fft2d"), False, "fft2d")


def ifft2d(input, name=None) -> ComplexTensor:
    z = _complex_input(input, "ifft2d")
    return _over_second_last(_fft_last(z, True, "ifft2d"), True, "ifft2d")


def _fft_length(fft_length, rank: int, op: str) -> list | None:
    if fft_length is None:
        return None
    vals = fft_length.numpy().tolist() if hasattr(fft_length, "numpy") else fft_length
    vals = [int(v) for v in (vals if isinstance(vals, (list, tuple)) else [vals])]
    if len(vals) != rank or any(v < 0 for v in vals):
        raise InvalidArgumentError(f"{op}: fft_length must be {rank} non-negative ints, got {vals}")
    return vals


def _real_input(x, op: str) -> Tensor:
    t = operand(x, op)
    if t._dtype not in (D.float32, D.float64):
        raise InvalidArgumentError(
            f"{op}: expects a float32 or float64 tensor, got {t._dtype.name} {tuple(t._h.shape)}"
        )
    if not t._h.shape:
        raise InvalidArgumentError(f"{op}: input must have rank >= 1, got a scalar")
    return t


def rfft(input_tensor, fft_length=None, name=None) -> ComplexTensor:
    """``tf.signal.rfft``: the n // 2 + 1 non-negative frequencies of a real signal; the
    input's last dimension is cropped or zero-padded to ``fft_length``."""
    x = _real_input(input_tensor, "rfft")
    lens = _fft_length(fft_length, 1, "rfft")
    n = lens[0] if lens else x._h.shape[-1]
    x = _pad_last(x, n)
    k = n // 2 + 1 if n else 0
    be = x._be
    if n and "rfft" in be.fused and x._dtype in (D.float32, D.float64) and not getattr(x._h, "symbolic", False):
        return ComplexTensor(*_native_rfft(be, x, n, k))
    re, im = _fft_parts(x, A.zeros_like(x), False, "rfft")
    return ComplexTensor(_pad_last(re, k), _pad_last(im, k))


def _hermitian_full(z: ComplexTensor, n: int) -> tuple:
    """The length-n spectrum whose non-negative half is z's (cropped or zero-padded)."""
    half = n // 2 + 1
    re, im = _pad_last(z.real, half), _pad_last(z.imag, half)
    tail = (n + 1) // 2 - 1
    if tail <= 0:
        return re, im
    ax = len(re._h.shape) - 1
    mre = A.reverse(A._axis_slice(re, ax, 1, tail), [-1])
    mim = A.reverse(A._axis_slice(im, ax, 1, tail), [-1])
    return A.concat([re, mre], -1), A.concat([im, -mim], -1)


def irfft(input_tensor, fft_length=None, name=None) -> Tensor:
    """``tf.signal.irfft``: the real signal of length ``fft_length`` (default 2 (m - 1))
    whose rfft is the input."""
    z = _complex_input(input_tensor, "irfft")
    lens = _fft_length(fft_length, 1, "irfft")
    n = lens[0] if lens else 2 * (z.real._h.shape[-1] - 1)
    if n <= 0:
        raise InvalidArgumentError(f"irfft: fft_length {n} must be positive (input shape {tuple(z.real._h.shape)})")
    re, im = _hermitian_full(z, n)
    out, _ = _fft_parts(re, im, True, "irfft")
    return out


def rfft2d(input_tensor, fft_length=None, name=None) -> ComplexTensor:
    x = _real_input(input_tensor, "rfft2d")
    lens = _fft_length(fft_length, 2, "rfft2d")
    if lens:
        x = _swap_last2(_pad_last(_swap_last2(_pad_last(x, lens[1])), lens[0]))
    return _over_second_last(rfft(x), False, "rfft2d")


def irfft2d(input_tensor, fft_length=None, name=None) -> Tensor:
    z = _complex_input(input_tensor, "irfft2d")
    lens = _fft_length(fft_length, 2, "irfft2d")
    rows = lens[0] if lens else z.real._h.shape[-2]
    zz = ComplexTensor(
        _swap_last2(_pad_last(_swap_last2(z.real), rows)), _swap_last2(_pad_last(_swap_last2(z.imag), rows))
    )
    return irfft(_over_second_last(zz, True, "irfft2d"), None if not lens else [lens[1]])


def _swap_axis_last(x: Tensor, k: int) -> Tensor:
    """Swap the k-th-from-last axis with the last (its own inverse)."""
    r = len(x._h.shape)
    perm = list(range(r))
    perm[r - k], perm[r - 1] = perm[r - 1], perm[r - k]
    return A.transpose(x, tuple(perm))


def _over_third_last(z: ComplexTensor, inverse: bool, op: str) -> ComplexTensor:
    re, im = _fft_parts(_swap_axis_last(z.real, 3), _swap_axis_last(z.imag, 3), inverse, op)
    return ComplexTensor(_swap_axis_last(re, 3), _swap_axis_last(im, 3))


def _rank3(z: ComplexTensor, op: str) -> ComplexTensor:
    if len(z.real._h.shape) < 3:
        raise InvalidArgumentError(f"{op}: input must have rank >= 3, got shape {tuple(z.real._h.shape)}")
    return z


def fft3d(input, name=None) -> ComplexTensor:
    """``tf.signal.fft3d``: the DFT over the three innermost dimensions (three 1-D passes)."""
    z = _rank3(_complex_input(input, "fft3d"), "fft3d")
    return _over_third_last(_over_second_last(_fft_last(z, False, "fft3d"), False, "fft3d"), False, "fft3d")


def ifft3d(input, name=None) -> ComplexTensor:
    z = _rank3(_complex_input(input, "ifft3d"), "ifft3d")
    return _over_third_last(_over_second_last(_fft_last(z, True, "ifft3d"), True, "ifft3d"), True, "ifft3d")


def rfft3d(input_tensor, fft_length=None, name=None) -> ComplexTensor:
    """``tf.signal.rfft3d``: rfft over the last axis, then full DFTs over the two before it."""
    x = _real_input(input_tensor, "rfft3d")
    if len(x._h.shape) < 3:
        raise InvalidArgumentError(f"rfft3d: input must have rank >= 3, got shape {tuple(x._h.shape)}")
    lens = _fft_length(fft_length, 3, "rfft3d")
    if lens:
        x = _pad_last(x, lens[2])
        x = _swap_last2(_pad_last(_swap_last2(x), lens[1]))
        x = _swap_axis_last(_pad_last(_swap_axis_last(x, 3), lens[0]), 3)
    return _over_third_last(_over_second_last(rfft(x), False, "rfft3d"), False, "rfft3d")


def irfft3d(input_tensor, fft_length=None, name=None) -> Tensor:
    """``tf.signal.irfft3d``: inverse full DFTs over the outer two axes, then irfft over the last."""
    z = _rank3(_complex_input(input_tensor, "irfft3d"), "irfft3d")
    lens = _fft_length(fft_length, 3, "irfft3d")
    if lens:

        def fit(t):
            t = _swap_last2(_pad_last(_swap_last2(t), lens[1]))
            return _swap_axis_last(_pad_last(_swap_axis_last(t, 3), lens[0]), 3)

        z = ComplexTensor(fit(z.real), fit(z.imag))
    z = _over_third_last(_over_second_last(z, True, "irfft3d"), True, "irfft3d")
    return irfft(z, None if not lens else [lens[2]])

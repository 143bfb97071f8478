"""``tf.signal`` framing, windows, STFT, mel filterbanks, DCT and MFCCs (TF's formulas),
written with the core's ops so they run on every backend and differentiate."""

from __future__ import annotations

import array
import functools
import math

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..ops import array as A
from ..ops.dispatch import operand
from ..ops.linalg import matmul
from ..ops.segment import unsorted_segment_sum
from ..tensor import Tensor, convert
from .fft import irfft, rfft


def _int(v, op: str, what: str) -> int:
    x = int(v.numpy() if hasattr(v, "numpy") else v)
    if x <= 0:
        raise InvalidArgumentError(f"{op}: {what} must be positive, got {x}")
    return x


@functools.lru_cache(maxsize=64)
def _window_values(n: int, periodic: bool, a: float, b: float, fmt: str, width: int = 0) -> array.array:
    """TF's raised cosine: a periodic window of odd length is the symmetric one, because TF
    divides by ``n + periodic * even - 1`` (window_ops.py), not by ``n``. Cached as host
    bytes (``fmt`` "f" or "d"), so a call is one buffer write, not a list conversion;
    ``width`` crops or zero-fills it (stft's FFT length)."""
    if n == 1:
        vals = [1.0]
    else:
        denom = n + (1 - n % 2) * int(bool(periodic)) - 1
        vals = [a - b * math.cos(2 * math.pi * i / denom) for i in range(n)]
    if width:
        vals = (vals + [0.0] * width)[:width]
    return array.array(fmt, vals)


_HOST_FORMAT = {D.float32: "f", D.float64: "d"}


def _window(length, periodic, dtype, a: float, b: float, op: str, width: int = 0) -> Tensor:
    n = _int(length, op, "window_length")
    dt = D.as_dtype(dtype)
    fmt = _HOST_FORMAT.get(dt)
    if fmt is None:  # float16, bfloat16: the float64 values, converted
        return operand(list(_window_values(n, bool(periodic), a, b, "d", width)), op, dt)
    return operand(memoryview(_window_values(n, bool(periodic), a, b, fmt, width)), op)


def hann_window(window_length, periodic=True, dtype=D.float32, name=None) -> Tensor:
    return _window(window_length, periodic, dtype, *_RAISED_COSINE["hann_window"], "hann_window")


def hamming_window(window_length, periodic=True, dtype=D.float32, name=None) -> Tensor:
    return _window(window_length, periodic, dtype, *_RAISED_COSINE["hamming_window"], "hamming_window")


_RAISED_COSINE = {"hann_window": (0.5, 0.5), "hamming_window": (0.54, 0.46)}


_STFT_WINDOWS: dict = {}
"""Our windows as stft uses them, per (function, lengths, dtype, backend): in the page a
host write per call cost more than the multiply."""


def _stft_window(window_fn, fl: int, n: int, dtype, be) -> Tensor:
    """The window cropped or zero-filled to the FFT length ``n``; our own windows come so
    from a per-backend cache (not traced ones: a symbolic tensor belongs to one graph)."""
    if window_fn in (hann_window, hamming_window):
        key = (window_fn.__name__, fl, n, dtype, be)
        w = _STFT_WINDOWS.get(key)
        if w is None:
            w = _window(fl, True, dtype, *_RAISED_COSINE[window_fn.__name__], "stft", width=n)
            w = convert(w, be=be) if w._be is not be else w
            if not getattr(w._h, "symbolic", False):
                if len(_STFT_WINDOWS) >= 64:
                    _STFT_WINDOWS.clear()
                _STFT_WINDOWS[key] = w
        return w
    w = operand(window_fn(fl, dtype=dtype), "stft", dtype)
    if n < fl:
        return A._axis_slice(w, 0, 0, n)
    return A.concat([w, A.zeros((n - fl,), dtype)], 0) if n > fl else w


@functools.lru_cache(maxsize=64)
def _frame_indices(n: int, fl: int, fs: int, frames: int, width: int) -> array.array:
    """Row-major ``[frames, width]`` signal indices: ``f * fs + j`` for column ``j < fl``
    inside the signal, else ``n``, the one pad slot appended after the signal. Built once
    per shape, so framing is a single gather."""
    out = array.array("i", [n]) * (frames * width)
    cols = min(fl, width)
    for f in range(frames):
        start = f * fs
        stop = min(cols, n - start)
        if stop > 0:
            out[f * width : f * width + stop] = array.array("i", range(start, start + stop))
    return out


_MAX_PIECES = 4
"""Frames whose kept length spans at most this many steps are cut as that many slices of the
signal reshaped to rows of one step; longer ones (small steps) take one gather."""


def _frames(x: Tensor, ax: int, fl: int, fs: int, pad_end: bool, pad_value, width: int, op: str) -> Tensor:
    """``[..., frames, width, ...]``: frames of ``fl`` samples along ``ax``, cropped or filled
    with ``pad_value`` to ``width`` columns (stft fills to the FFT length in the same step)."""
    s = tuple(x._h.shape)
    n = s[ax]
    frames = -(-n // fs) if pad_end else (1 + (n - fl) // fs if n >= fl else 0)
    cols = min(fl, width)  # columns that come from the signal; the rest are pad_value
    pieces = -(-cols // fs)
    if not frames:
        return A.gather(x, A.zeros((0, width), D.int32), axis=ax)
    fill = _Filler(pad_value, x._dtype, op)
    if pieces > _MAX_PIECES:
        return _gathered_frames(x, ax, fl, fs, frames, width, fill, op)
    # sample f * fs + j is row f + j // fs, column j % fs of the signal cut into rows of fs
    rows = frames + pieces - 1
    x = _fit(x, ax, rows * fs, fill)
    x = A.reshape(x, s[:ax] + (rows, fs) + s[ax + 1 :])
    r = len(s) + 1
    parts = []
    for j in range(pieces):
        m = min(fs, cols - j * fs)
        begin = tuple(j if i == ax else 0 for i in range(r))
        size = tuple(frames if i == ax else m if i == ax + 1 else d for i, d in enumerate(x._h.shape))
        parts.append(x if size == tuple(x._h.shape) else A._strided(x, begin, size, (1,) * r))
    if width > cols:
        parts.append(fill(s[:ax] + (frames, width - cols) + s[ax + 1 :]))
    return A.concat(parts, ax + 1) if len(parts) > 1 else parts[0]


class _Filler:
    """Blocks of ``pad_value`` (zeros straight from the backend, the common case)."""

    def __init__(self, value, dtype, op: str):
        self.value, self.dtype, self.op = value, dtype, op

    def __call__(self, shape: tuple) -> Tensor:
        if type(self.value) in (int, float) and self.value == 0:
            return A.zeros(shape, self.dtype)
        return A.fill(shape, operand(self.value, self.op, self.dtype))


def _fit(x: Tensor, ax: int, length: int, fill: _Filler) -> Tensor:
    """``x`` cropped, or extended with ``fill``, to ``length`` along ``ax``."""
    s = tuple(x._h.shape)
    if s[ax] > length:
        return A._axis_slice(x, ax, 0, length)
    if s[ax] < length:
        return A.concat([x, fill(s[:ax] + (length - s[ax],) + s[ax + 1 :])], ax)
    return x


def _gathered_frames(x: Tensor, ax: int, fl: int, fs: int, frames: int, width: int, fill: _Filler, op: str):
    n = x._h.shape[ax]
    idx = _frame_indices(n, fl, fs, frames, width)
    x = _fit(x, ax, n + 1, fill)  # index n is the pad slot
    return A.gather(x, operand(memoryview(idx).cast("B").cast("i", (frames, width)), op), axis=ax)


def frame(signal, frame_length, frame_step, pad_end=False, pad_value=0, axis=-1, name=None) -> Tensor:
    """``tf.signal.frame``: overlapping windows of ``axis`` -> [..., frames, frame_length, ...]."""
    x = operand(signal, "frame")
    r = len(x._h.shape)
    if r == 0:
        raise InvalidArgumentError("frame: signal must have rank >= 1, got a scalar")
    fl, fs = _int(frame_length, "frame", "frame_length"), _int(frame_step, "frame", "frame_step")
    return _frames(x, axis % r, fl, fs, pad_end, pad_value, fl, "frame")


def overlap_and_add(signal, frame_step, name=None) -> Tensor:
    """``tf.signal.overlap_and_add``: [..., frames, frame_length] -> [..., (frames - 1) * step + length]."""
    x = operand(signal, "overlap_and_add")
    s = tuple(x._h.shape)
    if len(s) < 2:
        raise InvalidArgumentError(f"overlap_and_add: signal must have rank >= 2, got shape {s}")
    fs = _int(frame_step, "overlap_and_add", "frame_step")
    frames, fl = s[-2], s[-1]
    out_len = (frames - 1) * fs + fl if frames else 0
    lead = s[:-2]
    flat = A.reshape(x, lead + (frames * fl,))
    k = len(lead)
    moved = A.transpose(flat, (k,) + tuple(range(k)))
    ids = operand([f * fs + j for f in range(frames) for j in range(fl)], "overlap_and_add", D.int32)
    summed = unsorted_segment_sum(moved, ids, out_len)
    return A.transpose(summed, tuple(range(1, k + 1)) + (0,))


def _default_fft_length(frame_length: int) -> int:
    return 1 << max(0, (frame_length - 1).bit_length())


def stft(signals, frame_length, frame_step, fft_length=None, window_fn=hann_window, pad_end=False, name=None):
    """``tf.signal.stft``: rfft of windowed frames -> [..., frames, fft_length // 2 + 1].
    The frames come out of one gather already cropped or zero-filled to ``fft_length``
    (and the window with them), so rfft pads nothing."""
    x = _real_signal(signals, "stft")
    fl = _int(frame_length, "stft", "frame_length")
    fs = _int(frame_step, "stft", "frame_step")
    n = _default_fft_length(fl) if fft_length is None else _int(fft_length, "stft", "fft_length")
    frames = _frames(x, len(x._h.shape) - 1, fl, fs, pad_end, 0, n, "stft")
    if window_fn is not None:
        frames = frames * _stft_window(window_fn, fl, n, x._dtype, frames._be)
    return rfft(frames)  # already n wide


def _real_signal(signals, op: str) -> Tensor:
    x = operand(signals, op)
    if not x._h.shape:
        raise InvalidArgumentError(f"{op}: signals must have rank >= 1, got a scalar")
    return x


def inverse_stft(stfts, frame_length, frame_step, fft_length=None, window_fn=hann_window, name=None) -> Tensor:
    """``tf.signal.inverse_stft``: irfft, window, overlap-add (use inverse_stft_window_fn
    for a perfect reconstruction of stft's output, as in TF)."""
    fl = _int(frame_length, "inverse_stft", "frame_length")
    n = _default_fft_length(fl) if fft_length is None else _int(fft_length, "inverse_stft", "fft_length")
    frames = irfft(stfts, [n])
    if n > fl:
        frames = A._axis_slice(frames, len(frames._h.shape) - 1, 0, fl)
    elif n < fl:
        frames = A.pad(frames, [[0, 0]] * (len(frames._h.shape) - 1) + [[0, fl - n]])
    if window_fn is not None:
        frames = frames * window_fn(fl, dtype=frames._dtype)
    return overlap_and_add(frames, frame_step)


def inverse_stft_window_fn(frame_step, forward_window_fn=hann_window, name=None):
    """A window for inverse_stft that undoes ``forward_window_fn``'s overlap (TF's)."""

    def fn(frame_length, dtype=D.float32):
        fl = _int(frame_length, "inverse_stft_window_fn", "frame_length")
        fs = _int(frame_step, "inverse_stft_window_fn", "frame_step")
        w = forward_window_fn(fl, dtype=dtype)
        overlaps = -(-fl // fs)
        den = A.pad(w * w, [[0, overlaps * fs - fl]])
        den = A.reshape(den, (overlaps, fs))
        from ..ops.reduce import reduce_sum

        den = A.reshape(A.tile(reduce_sum(den, 0, keepdims=True), [overlaps, 1]), (overlaps * fs,))
        return w / A._axis_slice(den, 0, 0, fl)

    return fn


def _hz_to_mel(f: float) -> float:
    return 1127.0 * math.log1p(f / 700.0)


def linear_to_mel_weight_matrix(
    num_mel_bins=20,
    num_spectrogram_bins=129,
    sample_rate=8000,
    lower_edge_hertz=125.0,
    upper_edge_hertz=3800.0,
    dtype=D.float32,
    name=None,
) -> Tensor:
    """``[num_spectrogram_bins, num_mel_bins]`` triangular filters on TF's mel scale
    (1127 ln(1 + f / 700)); the DC bin's row is zero, as TF."""
    nm, ns = int(num_mel_bins), int(num_spectrogram_bins)
    sr, lo, hi = float(sample_rate), float(lower_edge_hertz), float(upper_edge_hertz)
    op = "linear_to_mel_weight_matrix"
    if nm <= 0 or ns <= 1 or sr <= 0:
        raise InvalidArgumentError(
            f"{op}: num_mel_bins ({nm}) and sample_rate ({sr}) must be positive and num_spectrogram_bins ({ns}) > 1"
        )
    if lo < 0 or lo >= hi or hi > sr / 2:
        raise InvalidArgumentError(
            f"{op}: need 0 <= lower_edge_hertz ({lo}) < upper_edge_hertz ({hi}) <= sample_rate / 2 ({sr / 2})"
        )
    nyq = sr / 2
    freqs = [nyq * i / (ns - 1) for i in range(1, ns)]
    mels = [_hz_to_mel(f) for f in freqs]
    ml, mh = _hz_to_mel(lo), _hz_to_mel(hi)
    edges = [ml + (mh - ml) * i / (nm + 1) for i in range(nm + 2)]
    rows = [[0.0] * nm]
    for mel in mels:
        row = []
        for b in range(nm):
            left, center, right = edges[b], edges[b + 1], edges[b + 2]
            row.append(max(0.0, min((mel - left) / (center - left), (right - mel) / (right - center))))
        rows.append(row)
    return operand(rows, op, D.as_dtype(dtype))


def _dct_matrix(n: int, kind: int, norm, dt) -> Tensor:
    """The [n, n] matrix C with y = x @ C for DCT type 2 or 3 (TF's and scipy's scaling)."""
    rows = []
    for i in range(n):  # input index
        row = []
        for k in range(n):  # output index
            if kind == 2:
                v = 2.0 * math.cos(math.pi * k * (2 * i + 1) / (2 * n))
                if norm == "ortho":
                    v *= math.sqrt(1.0 / (4 * n)) if k == 0 else math.sqrt(1.0 / (2 * n))
            else:
                v = 1.0 if i == 0 else 2.0 * math.cos(math.pi * i * (2 * k + 1) / (2 * n))
                if norm == "ortho":
                    v *= math.sqrt(1.0 / n) if i == 0 else math.sqrt(1.0 / (2 * n))
            row.append(v)
        rows.append(row)
    return operand(rows, "dct", dt)


def dct(input, type=2, n=None, axis=-1, norm=None, name=None) -> Tensor:  # noqa: A002 (TF's names)
    """``tf.signal.dct`` types 2 and 3 over the last axis (``norm`` None or "ortho")."""
    x = operand(input, "dct")
    if type not in (2, 3):
        raise InvalidArgumentError(f"dct: type {type} is not supported (types 2 and 3 are)")
    if axis not in (-1, len(x._h.shape) - 1):
        raise InvalidArgumentError(f"dct: only axis=-1 is supported, got {axis}")
    if norm not in (None, "ortho"):
        raise InvalidArgumentError(f"dct: norm must be None or 'ortho', got {norm!r}")
    if n is not None:
        k = x._h.shape[-1]
        n = int(n)
        x = (
            A._axis_slice(x, len(x._h.shape) - 1, 0, n)
            if n <= k
            else A.pad(x, [[0, 0]] * (len(x._h.shape) - 1) + [[0, n - k]])
        )
    size = x._h.shape[-1]
    lead = tuple(x._h.shape[:-1])
    y = matmul(A.reshape(x, (-1, size)), _dct_matrix(size, type, norm, x._dtype))
    return A.reshape(y, lead + (size,))


def idct(input, type=2, n=None, axis=-1, norm=None, name=None) -> Tensor:  # noqa: A002
    """``tf.signal.idct``: the DCT of the inverse type (3 for 2); without norm="ortho" the
    result is scaled by 2n, as TF documents."""
    return dct(input, {2: 3, 3: 2}.get(type, type), n, axis, norm)


def mfccs_from_log_mel_spectrograms(log_mel_spectrograms, name=None) -> Tensor:
    """``tf.signal.mfccs_from_log_mel_spectrograms``: DCT-II scaled by 1/sqrt(2 * bins) (TF's)."""
    x = operand(log_mel_spectrograms, "mfccs_from_log_mel_spectrograms")
    bins = x._h.shape[-1]
    if bins <= 0:
        raise InvalidArgumentError("mfccs_from_log_mel_spectrograms: the last dimension must be positive")
    return dct(x, 2) * (1.0 / math.sqrt(2.0 * bins))

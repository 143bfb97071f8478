"""``tf.audio``: 16-bit PCM WAV decoding and encoding (TF's decode_wav/encode_wav), in pure
Python so it runs in the page. Samples map to floats as TF does: int16 / 32768 when
decoding, round(clip(x, -1, 1) * 32767) when encoding."""

from __future__ import annotations

import struct

from . import dtypes as D
from .errors import InvalidArgumentError
from .tensor import Tensor, constant, convert


def _chunks(data: bytes):
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if pos + 8 + size > len(data):
            raise InvalidArgumentError(
                f"decode_wav: chunk {cid!r} at byte {pos} runs past the end of the "
                f"data ({size} bytes declared, {len(data) - pos - 8} left)"
            )
        yield cid, data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)


def _parse(data: bytes):
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise InvalidArgumentError("decode_wav: not a RIFF/WAVE file (header missing)")
    fmt = samples = None
    for cid, body in _chunks(data):
        if cid == b"fmt ":
            if len(body) < 16:
                raise InvalidArgumentError(f"decode_wav: fmt chunk too short ({len(body)} bytes)")
            fmt = struct.unpack_from("<HHIIHH", body)
        elif cid == b"data":
            samples = body
    if fmt is None or samples is None:
        raise InvalidArgumentError("decode_wav: the file has no " + ("fmt " if fmt is None else "data") + " chunk")
    tag, channels, rate, _, _, bits = fmt
    if tag not in (1, 0xFFFE) or bits != 16:
        raise InvalidArgumentError(
            f"decode_wav: only 16-bit PCM is supported (TF's rule); this file has "
            f"format tag {tag} and {bits} bits per sample"
        )
    if channels < 1:
        raise InvalidArgumentError("decode_wav: the file declares 0 channels")
    frames = len(samples) // (2 * channels)
    vals = struct.unpack_from(f"<{frames * channels}h", samples)
    return [list(vals[i * channels : (i + 1) * channels]) for i in range(frames)], channels, rate


def decode_wav(contents, desired_channels=-1, desired_samples=-1, name=None):
    """(audio float32 [samples, channels] in [-1, 1), sample_rate int32 scalar)."""
    t = contents if isinstance(contents, Tensor) else convert(contents, D.string, op="decode_wav")
    if t._dtype is not D.string or t._h.shape:
        raise InvalidArgumentError(
            f"decode_wav: contents must be a scalar string, got {t._dtype.name} {tuple(t._h.shape)}"
        )
    frames, channels, rate = _parse(t._h.flat[0])
    want_c = channels if int(desired_channels) < 0 else int(desired_channels)
    if channels == 1 and want_c > 1:
        frames = [f * want_c for f in frames]
    elif want_c > channels:
        raise InvalidArgumentError(f"decode_wav: desired_channels {want_c} but the file has {channels}")
    frames = [f[:want_c] for f in frames]
    if int(desired_samples) >= 0:
        n = int(desired_samples)
        frames = frames[:n] + [[0] * want_c for _ in range(n - len(frames))]
    audio = [[v / 32768.0 for v in f] for f in frames]
    from .ops.array import reshape

    return reshape(constant(sum(audio, []), D.float32), (len(audio), want_c)), constant(rate, D.int32)


def encode_wav(audio, sample_rate, name=None) -> Tensor:
    """A 16-bit PCM WAV file (scalar string) from float audio [samples, channels]."""
    a = audio if isinstance(audio, Tensor) else convert(audio, D.float32, op="encode_wav")
    if a._dtype is not D.float32 or len(a._h.shape) != 2:
        raise InvalidArgumentError(
            f"encode_wav: audio must be float32 [samples, channels], got {a._dtype.name} {tuple(a._h.shape)}"
        )
    frames, channels = a._h.shape
    rate = int(sample_rate.numpy() if hasattr(sample_rate, "numpy") else sample_rate)
    flat = struct.unpack(f"<{frames * channels}f", bytes(a._be.read(a._h)))
    pcm = struct.pack(f"<{len(flat)}h", *(int(round(max(-1.0, min(1.0, v)) * 32767)) for v in flat))
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm
    return constant(b"RIFF" + struct.pack("<I", len(body)) + body, D.string)

"""``tf.summary.write``/``scalar``/``histogram``/``text``: each builds the tensor and plugin
metadata TensorBoard's own summary_v2 ops build, and appends one Event to the default writer.

Values are tensor summaries, as TF 2 writes them: TensorBoard shows them in its Scalars,
Histograms and Text dashboards; its legacy ``EventAccumulator`` lists them under
``Tensors(tag)`` (``tensor_util.make_ndarray`` decodes them), exactly as for TF's files.
"""

from __future__ import annotations

import contextlib
import math
import re
import struct
import time

from .. import dtypes as D
from ..ops import array as A
from ..ops import math as M
from ..ops import reduce as R
from ..tensor import convert, is_tensor
from . import proto
from .png import encode_png
from .writer import should_record, state

DEFAULT_BUCKET_COUNT = 30


def _result(ok: bool):
    return convert(ok)


def _step(step) -> int:
    if step is None:
        step = state.step
        if step is None:
            raise ValueError(
                "No step set. Please specify one either through the `step` argument or "
                "through tf.summary.experimental.set_step()"
            )
    return int(step)


def _metadata(metadata) -> bytes:
    if metadata is None:
        return b""
    if hasattr(metadata, "SerializeToString"):
        return metadata.SerializeToString()
    return bytes(metadata)


def _emit(tag: str, step, make_tensor, metadata: bytes):
    """The shared path: no writer -> False; no step -> ValueError; record_if off -> False."""
    if state.writer is None:
        return _result(False)
    step = _step(step)
    if not should_record():
        return _result(False)
    value = proto.summary_value(tag, make_tensor(), metadata)
    state.writer.write_event(proto.event(time.time(), step, summary_values=(value,)))
    return _result(True)


def _tensor_proto(value) -> bytes:
    if isinstance(value, (str, bytes)) or _is_text_list(value):
        return _string_tensor(value)
    if hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "USO":  # numpy strings
        return _string_tensor(value.tolist())
    from ..saving.safetensors import tensor_bytes

    t = value if is_tensor(value) else convert(value, op="summary.write")
    return proto.tensor(t.dtype, tuple(t.shape), bytes(tensor_bytes(t)))


def _is_text_list(v) -> bool:
    while isinstance(v, (list, tuple)) and v:
        v = v[0]
    return isinstance(v, (str, bytes))


def _string_tensor(value) -> bytes:
    shape, flat = [], []
    v = value
    while isinstance(v, (list, tuple)):
        shape.append(len(v))
        if not v:
            break
        v = v[0]

    def walk(x, depth):
        if depth == len(shape):
            if not isinstance(x, (str, bytes)):
                raise TypeError(f"text: expected strings (or nested lists of them), got {x!r:.60}")
            flat.append(x.encode("utf-8") if isinstance(x, str) else bytes(x))
            return
        if not isinstance(x, (list, tuple)) or len(x) != shape[depth]:
            raise ValueError(f"text: nested lists must be rectangular, got {value!r:.60}")
        for y in x:
            walk(y, depth + 1)

    walk(value, 0)
    return proto.string_tensor(shape, flat)


def write(tag, tensor, step=None, metadata=None, name=None):
    """Write ``tensor`` (or ``tensor()``, called only when recording) under ``tag``."""
    return _emit(tag, step, lambda: _tensor_proto(tensor() if callable(tensor) else tensor), _metadata(metadata))


def scalar(name, data, step=None, description=None):
    """A float32 scalar for TensorBoard's Scalars dashboard (plugin ``scalars``)."""

    def make():
        v = data
        if is_tensor(v):
            if v.shape.rank != 0:
                raise ValueError(f"scalar '{name}': data must be a scalar, got shape {v.shape}")
            v = float(v)
        elif hasattr(v, "shape") and tuple(v.shape) != ():
            raise ValueError(f"scalar '{name}': data must be a scalar, got shape {tuple(v.shape)}")
        return proto.tensor(D.float32, (), _float32_bytes(float(v)))

    return _emit(name, step, make, proto.summary_metadata("scalars", description=description or ""))


def _float32_bytes(v: float) -> bytes:
    try:
        return struct.pack("<f", v)
    except OverflowError:  # beyond float32: the cast gives infinity, as tf.cast does
        return struct.pack("<f", math.copysign(math.inf, v))


def histogram(name, data, step=None, buckets=None, description=None):
    """A ``[buckets, 3]`` float64 tensor of (left edge, right edge, count) rows, bucketed like
    TensorBoard's histogram summary (plugin ``histograms``)."""
    k = DEFAULT_BUCKET_COUNT if buckets is None else max(0, int(buckets))

    def make():
        rows = _buckets(data, k)
        flat = [v for row in rows for v in row]
        return proto.tensor(D.float64, (len(rows), 3), struct.pack(f"<{len(flat)}d", *flat))

    return _emit(name, step, make, proto.summary_metadata("histograms", description=description or ""))


def _buckets(data, k: int) -> list:
    x = A.reshape(data if is_tensor(data) else convert(data, op="histogram"), (-1,))
    if x.dtype is not D.float64:
        x = M.cast(x, D.float32)
    n = x.shape[0]
    if n == 0 or k == 0:
        return [[0.0, 0.0, 0.0] for _ in range(k)]
    lo, hi = float(R.reduce_min(x)), float(R.reduce_max(x))
    if hi == lo:
        return [[hi, hi, float(n) if i == k - 1 else 0.0] for i in range(k)]
    width = (hi - lo) / k
    idx = M.cast(M.floor((x - lo) / width), D.int32)
    idx = M.minimum(idx, k - 1)
    counts = A.unsorted_segment_sum(A.ones_like(idx), idx, k).numpy().tolist()
    step = (hi - lo) / k
    edges = [lo + step * i for i in range(k)] + [hi]
    return [[edges[i], edges[i + 1], float(counts[i])] for i in range(k)]


def image(name, data, step=None, max_outputs=3, description=None):
    """The first ``max_outputs`` images of a ``[k, height, width, channels]`` batch (channels 1-4) as
    PNGs, for TensorBoard's Images dashboard (plugin ``images``). Floats are taken to be in [0, 1]
    and converted like ``tf.image.convert_image_dtype(..., tf.uint8, saturate=True)``."""

    def make():
        x = data if is_tensor(data) else convert(data, op="image")
        shape = tuple(x.shape)
        if len(shape) != 4 or not 1 <= shape[3] <= 4:
            raise ValueError(
                f"image '{name}': data must have shape [k, height, width, channels] with 1 to 4 "
                f"channels, got shape {shape}"
            )
        x = _to_uint8(x)[: max(0, int(max_outputs))]
        _, h, w, c = shape
        from ..saving.safetensors import tensor_bytes

        raw = bytes(tensor_bytes(x)) if x.shape[0] else b""
        size = h * w * c
        pngs = [encode_png(raw[i * size : (i + 1) * size], h, w, c) for i in range(x.shape[0])]
        return proto.string_tensor([2 + len(pngs)], [str(w).encode(), str(h).encode()] + pngs)

    return _emit(name, step, make, proto.summary_metadata("images", description=description or ""))


def _to_uint8(x):
    if x.dtype is D.uint8:
        return x
    if x.dtype.is_floating:
        return M.saturate_cast(x * 255.5, D.uint8)  # convert_image_dtype's scale: max + 0.5
    if x.dtype.is_integer:
        return M.saturate_cast(M.floordiv(x, (x.dtype.max + 1) // 256), D.uint8)
    raise TypeError(f"image: data of dtype {x.dtype.name} cannot be shown as an image")


def text(name, data, step=None, description=None):
    """A string (or nested lists of strings) for TensorBoard's Text dashboard (Markdown)."""

    def make():
        if not (isinstance(data, (str, bytes)) or _is_text_list(data) or hasattr(data, "tolist")):
            raise TypeError(
                f"text '{name}': data must be a string or nested lists of strings, got {type(data).__name__}"
            )
        return _string_tensor(data.tolist() if hasattr(data, "tolist") else data)

    return _emit(name, step, make, proto.summary_metadata("text", description=description or ""))


def flush(writer=None, name=None) -> None:
    """Flush ``writer`` (default: the current default writer, if any)."""
    w = writer if writer is not None else state.writer
    if w is not None:
        w.flush()


@contextlib.contextmanager
def record_if(condition):
    """Inside the block, summaries are written only when ``condition`` (a bool, a bool tensor or a
    callable returning one, evaluated at each write) is true."""
    old = state.recording
    try:
        state.recording = condition
        yield
    finally:
        state.recording = old


_INVALID_SCOPE_CHARS = re.compile(r"[^-_/.A-Za-z0-9]")


@contextlib.contextmanager
def summary_scope(name, default_name="summary", values=None):
    """``(tag, scope)`` for a custom summary op; webtensor has no name scopes, so the tag is the name."""
    tag = name or default_name
    yield tag, (_INVALID_SCOPE_CHARS.sub("", tag) or default_name) + "/"

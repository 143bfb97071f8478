"""The safetensors format in pure Python: write, and read from bytes, files and streams.

Layout: an 8-byte little-endian header length, a JSON header (tensor name ->
dtype, shape, data_offsets relative to the data section; ``__metadata__`` a
str->str map), then raw little-endian tensor data. Any safetensors reader reads
our files; ours needs no numpy, so it runs in the page.

Reading is sans-IO: ``_records`` is a generator that asks for byte counts and
gets bytes back, so one parser serves bytes, files, HTTP responses and the
browser's ``fetch`` stream (sync and async). Each tensor's bytes are handed to
a sink as soon as they arrive and then dropped: no full copy of the file is
held beside the weights.
"""

from __future__ import annotations

import json
import os
import zlib
import stat
import struct

from .. import dtypes as D
from . import validate
from .validate import PREFIX, Entry, Header, fail

CHUNK = 1 << 22  # a stream of unknown length is read this much at a time
CHECKSUM_KEY = "data_crc32"  # __metadata__: CRC-32 of the data section, 8 hex digits


# -- writing ----------------------------------------------------------------------------


def encode_header(entries: list, metadata: dict | None = None) -> bytes:
    """Length prefix + JSON header for ``(name, dtype, shape)`` entries in data order.

    The JSON is space-padded to a multiple of 8 bytes (as the reference writer does)
    so the data section starts aligned."""
    header, pos = {}, 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, dt, shape in entries:
        n = dt.size
        for d in shape:
            n *= d
        if name in header:
            raise ValueError(f"save: duplicate tensor name {name!r}")
        header[name] = {
            "dtype": validate.dtype_code(dt),
            "shape": [int(d) for d in shape],
            "data_offsets": [pos, pos + n],
        }
        pos += n
    try:
        raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as e:
        bad = e.object[max(0, e.start - 20) : e.end + 20].encode("utf-8", "backslashreplace").decode()
        raise ValueError(
            f"save: a tensor name or metadata value is not valid Unicode (a lone surrogate) near {bad!r}"
        ) from None
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw


def data_checksum(buffers) -> str:
    """CRC-32 (zlib's, C speed natively and in the page) of the buffers in order."""
    crc = 0
    for buf in buffers:
        crc = zlib.crc32(memoryview(buf).cast("B"), crc)
    return f"{crc:08x}"


def write(f, tensors: list, metadata: dict | None = None, checksum: bool = True) -> int:
    """Write ``(name, dtype, shape, little-endian bytes)`` tensors to a binary file object;
    ``checksum`` records the data section's CRC-32 in ``__metadata__`` (verified on load)."""
    if checksum:
        metadata = dict(metadata or {}, **{CHECKSUM_KEY: data_checksum(b for *_, b in tensors)})
    head = encode_header([(n, dt, s) for n, dt, s, _ in tensors], metadata)
    f.write(head)
    size = len(head)
    for name, dt, shape, buf in tensors:
        mv = memoryview(buf).cast("B")
        f.write(mv)
        size += mv.nbytes
    return size


def tensor_bytes(t, dtype: D.DType | None = None) -> memoryview:
    """Little-endian bytes of a tensor or variable, cast to ``dtype`` first if given."""
    if dtype is not None and t.dtype is not dtype:
        from ..ops import math

        t = math.cast(t, dtype)
    if hasattr(t, "value"):
        t = t.value()
    return t._be.read(t._h)


# -- reading ----------------------------------------------------------------------------


def _records(total: int | None, on_header):
    """Parser generator: yields a wanted byte count, receives bytes (fewer at the end of
    the file). ``on_header(header)`` returns the sink called with ``(entry, bytes)``."""
    prefix = yield PREFIX
    n = validate.header_length(prefix, total)
    raw = yield n
    if len(raw) < n:
        raise fail(f"truncated file: the header ends after {len(raw)} of its {n} bytes", PREFIX + len(raw))
    header = validate.parse_header(raw, total)
    want = _expected_checksum(header)
    sink = on_header(header)
    crc = 0
    for e in header.in_data_order():
        data = yield e.nbytes
        if len(data) < e.nbytes:
            raise fail(
                f"truncated file: tensor {e.name!r} ends after {len(data)} of its {e.nbytes} bytes",
                e.offset + len(data),
            )
        if want is not None:
            crc = zlib.crc32(data, crc)
        sink(e, data)
    if total is None:
        extra = yield 1
        if len(extra):
            raise fail("bytes after the last tensor belong to no tensor", header.total_size)
    if want is not None and crc != want:
        raise fail(
            f"the data section's CRC-32 is {crc:08x} but the header records {want:08x}: "
            f"the tensor data is damaged (or the file changed while it was read)",
            header.data_start,
        )
    return header


def _expected_checksum(header: Header) -> int | None:
    value = header.metadata.get(CHECKSUM_KEY)
    if value is None:
        return None
    if len(value) != 8 or any(c not in "0123456789abcdef" for c in value):
        raise fail(
            f"__metadata__[{CHECKSUM_KEY!r}] is {value[:20]!r}, not 8 lowercase hex digits", header.at(CHECKSUM_KEY)
        )
    return int(value, 16)


def _drive(total, on_header, read):
    gen = _records(total, on_header)
    try:
        want = next(gen)
        while True:
            want = gen.send(read(want))
    except StopIteration as stop:
        return stop.value


async def _drive_async(total, on_header, read):
    gen = _records(total, on_header)
    try:
        want = next(gen)
        while True:
            want = gen.send(await read(want))
    except StopIteration as stop:
        return stop.value


def read_bytes(buf, on_header=None) -> Header:
    """Parse an in-memory file; tensors are zero-copy slices of ``buf``."""
    mv = memoryview(buf).cast("B")
    pos = [0]

    def read(n):
        chunk = mv[pos[0] : pos[0] + n]
        pos[0] += len(chunk)
        return chunk

    return _drive(mv.nbytes, on_header or _ignore, read)


def read_file(f, on_header=None) -> Header:
    """Parse an open binary file; its size bounds every read before one happens."""
    try:
        info = os.fstat(f.fileno())
        total = info.st_size - f.tell() if stat.S_ISREG(info.st_mode) else None  # pipes: unknown
    except (AttributeError, OSError, ValueError):
        total = None
    return _drive(total, on_header or _ignore, _bounded(f.read, total))


def _bounded(read, total):
    if total is not None:
        return read

    def chunked(n):
        """Allocate only what arrives: a header cannot make us reserve its claimed size."""
        buf = bytearray()
        while len(buf) < n:
            part = read(min(CHUNK, n - len(buf)))
            if not part:
                break
            buf += part
        return memoryview(buf)

    return chunked


def read_stream(read, on_header=None) -> Header:
    """Parse a stream of unknown length from ``read(n) -> bytes`` (b"" at the end)."""
    return _drive(None, on_header or _ignore, _bounded(read, None))


async def read_stream_async(read, on_header=None) -> Header:
    """Like ``read_stream`` for ``async read(n)``: the browser's fetch body, say."""
    return await _drive_async(None, on_header or _ignore, read)


def read_header(path) -> Header:
    """Only the validated header of a file on disk (``inspect`` reads no tensor data)."""
    with open(path, "rb") as f:
        total = os.fstat(f.fileno()).st_size
        n = validate.header_length(f.read(PREFIX), total)
        return validate.parse_header(f.read(n), total)


def _ignore(header):
    return lambda e, data: None


def save(path, tensors: dict, metadata: dict | None = None, checksum: bool = True) -> None:
    """Atomically write ``{name: tensor}`` as a safetensors file (with the data CRC-32
    in ``__metadata__`` unless ``checksum=False``)."""
    from .atomic import atomic_write

    items = [(k, t.dtype, tuple(t.shape), tensor_bytes(t)) for k, t in tensors.items()]
    atomic_write(path, lambda f: write(f, items, metadata, checksum))


# -- bytes -> tensors ---------------------------------------------------------------------


def _storable(dt: D.DType) -> D.DType:
    """float16 where the default backend stores it, else float32 (no detour to the CPU)."""
    from .. import backends

    return D.float32 if dt is D.float16 and dt not in backends.default().dtypes else dt


def _half(data, shape: tuple, convert):
    """float16 bytes -> float32 tensor: numpy widens where it exists, struct elsewhere."""
    from ..host import numpy_module

    np = numpy_module()
    if np is not None:
        return convert(np.frombuffer(data, "<f2").astype(np.float32).reshape(shape))
    import array as pyarray

    wide = pyarray.array("f", struct.unpack(f"<{len(data) // 2}e", data))
    return convert(memoryview(wide).cast("B").cast("f", shape))


def to_tensor(e: Entry, data, dtype: D.DType | None = None):
    """A tensor from a validated entry's bytes, through the one conversion path.

    float16 is widened on the host (memoryviews have no half format): a float16
    file then loads on backends without float16 (as float32), as ``--float16``
    exports need."""
    from ..ops import array, math
    from ..tensor import convert

    want = dtype or _storable(e.dtype)
    if 0 in e.shape:
        return array.zeros(e.shape, want)
    if e.dtype is D.float16:
        t = _half(data, e.shape, convert)
    else:
        t = convert(memoryview(data).cast("B").cast(e.dtype.fmt, e.shape))
    return t if t.dtype is want else math.cast(t, want)

"""The host strings backend: ``tf.string`` tensors, which live on the host on every backend.

TF keeps strings on the CPU; so do we. A string handle is a flat Python list of
``bytes`` plus a shape, and this backend implements the shape-moving primitives
(reshape, transpose, slice, concat, gather, where, broadcast_to, pad) and
``equal``/``not_equal`` for it. Every other dtype is delegated to the CPU backend: a
bool result of ``==`` or an int index moved here is an ordinary CPU handle, so later
ops on it run on the CPU kernels unchanged. Placement sends string tensors here
(``placement.for_dtype``), so the core's ops need no string cases.
"""

from __future__ import annotations

import itertools

from .. import dtypes as D
from .. import host
from ..errors import InvalidArgumentError
from ..shape import prod
from . import layout


class StrHandle:
    """Flat row-major ``bytes`` values and a shape (immutable by convention)."""

    __slots__ = ("__weakref__", "flat", "shape")

    def __init__(self, flat: list, shape: tuple):
        self.flat, self.shape = flat, tuple(shape)


def _strides(shape: tuple) -> tuple:
    return tuple(layout.strides(shape))


def _positions(shape: tuple):
    return itertools.product(*(range(d) for d in shape))


def _bcast_index(in_shape: tuple, out_shape: tuple) -> list:
    """Flat input offsets for each output position under NumPy broadcasting."""
    off = len(out_shape) - len(in_shape)
    st = _strides(in_shape)
    return [sum(i * s for i, s, d in zip(pos[off:], st, in_shape) if d != 1) for pos in _positions(out_shape)]


def _out_shape(*shapes) -> tuple:
    r = max(len(s) for s in shapes)
    padded = [(1,) * (r - len(s)) + tuple(s) for s in shapes]
    return tuple(max(ds) if min(ds) else 0 for ds in zip(*padded))


class HostStringsBackend:
    """String handles here; all other handles belong to (and are run by) ``cpu``."""

    device_type = "CPU"
    fused = frozenset()

    def __init__(self, cpu):
        self._cpu = cpu
        self.name = cpu.name
        self.dtypes = frozenset(cpu.dtypes) | {D.string}

    def __getattr__(self, name):
        fn = getattr(self._cpu, name)
        if not callable(fn):
            return fn

        def delegated(*args, **kwargs):
            if any(isinstance(a, StrHandle) for a in args) or any(
                isinstance(a, (list, tuple)) and any(isinstance(b, StrHandle) for b in a) for a in args
            ):
                raise InvalidArgumentError(f"{name}: not supported for string tensors (dtype string)")
            return fn(*args, **kwargs)

        return delegated

    # -- data movement ------------------------------------------------------------------
    def write(self, buf, shape, dtype):
        if dtype is D.string:
            raise InvalidArgumentError(
                "write: string tensors are made from Python values (strings() handles), not from bytes buffers"
            )
        return self._cpu.write(buf, shape, dtype)

    def read(self, h):
        if isinstance(h, StrHandle):
            raise InvalidArgumentError("read: a string tensor has no byte buffer; use .numpy()")
        return self._cpu.read(h)

    def strings(self, flat: list, shape: tuple) -> StrHandle:
        """A string handle from a flat list of ``bytes``."""
        return StrHandle(list(flat), shape)

    def values(self, h, dtype) -> list:
        """Flat Python values of any handle here (string or CPU)."""
        if isinstance(h, StrHandle):
            return h.flat
        return host.unpack(self._cpu.read(h), dtype)

    def _index_values(self, h) -> list:
        return host.unpack(self._cpu.read(h), D.as_dtype(h.dtype))

    def full(self, shape, value, dtype):
        if dtype is D.string:
            if not isinstance(value, (bytes, str)):
                if value:  # e.g. ones_like: TF has no "one" string
                    raise InvalidArgumentError(f"fill: cannot fill a string tensor with {value!r}")
                value = b""  # zeros_like / zeros of strings: TF gives b""
            return StrHandle([as_bytes(value, "fill")] * prod(shape), shape)
        return self._cpu.full(shape, value, dtype)

    # -- shape movement -------------------------------------------------------------------
    def reshape(self, x, shape):
        if not isinstance(x, StrHandle):
            return self._cpu.reshape(x, shape)
        return StrHandle(x.flat, shape)

    def transpose(self, x, perm):
        if not isinstance(x, StrHandle):
            return self._cpu.transpose(x, perm)
        st = _strides(x.shape)
        shape = tuple(x.shape[p] for p in perm)
        pst = [st[p] for p in perm]
        return StrHandle([x.flat[sum(i * s for i, s in zip(pos, pst))] for pos in _positions(shape)], shape)

    def slice(self, x, begin, size, strides):
        if not isinstance(x, StrHandle):
            return self._cpu.slice(x, begin, size, strides)
        st = _strides(x.shape)
        return StrHandle(
            [x.flat[sum((b + i * k) * s for i, b, k, s in zip(pos, begin, strides, st))] for pos in _positions(size)],
            size,
        )

    def broadcast_to(self, x, shape):
        if not isinstance(x, StrHandle):
            return self._cpu.broadcast_to(x, shape)
        return StrHandle([x.flat[i] for i in _bcast_index(x.shape, shape)], shape)

    def concat(self, xs, axis):
        if not isinstance(xs[0], StrHandle):
            return self._cpu.concat(xs, axis)
        outer = prod(xs[0].shape[:axis])
        flat = []
        for o in range(outer):
            for x in xs:
                n = prod(x.shape[axis:])
                flat.extend(x.flat[o * n : (o + 1) * n])
        shape = xs[0].shape[:axis] + (sum(x.shape[axis] for x in xs),) + xs[0].shape[axis + 1 :]
        return StrHandle(flat, shape)

    def pad(self, x, pads, value):
        if not isinstance(x, StrHandle):
            return self._cpu.pad(x, pads, value)
        value = b"" if isinstance(value, (int, float)) and not value else as_bytes(value, "pad")  # TF: "" for 0
        shape = tuple(d + a + b for d, (a, b) in zip(x.shape, pads))
        st = _strides(x.shape)
        out = []
        for pos in _positions(shape):
            src = [i - a for i, (a, _) in zip(pos, pads)]
            inside = all(0 <= j < d for j, d in zip(src, x.shape))
            out.append(x.flat[sum(j * s for j, s in zip(src, st))] if inside else value)
        return StrHandle(out, shape)

    def gather(self, x, indices, axis):
        if not isinstance(x, StrHandle):
            return self._cpu.gather(x, indices, axis)
        idx = self._index_values(indices)
        d = x.shape[axis]
        for k, i in enumerate(idx):
            if not 0 <= i < d:
                raise InvalidArgumentError(f"gather: indices[{k}] = {i} is not in [0, {d})")
        outer, inner = prod(x.shape[:axis]), prod(x.shape[axis + 1 :])
        flat = []
        for o in range(outer):
            for i in idx:
                start = (o * d + i) * inner
                flat.extend(x.flat[start : start + inner])
        return StrHandle(flat, x.shape[:axis] + tuple(indices.shape) + x.shape[axis + 1 :])

    # -- selection and comparison -----------------------------------------------------------
    def where(self, cond, x, y):
        if not isinstance(x, StrHandle):
            return self._cpu.where(cond, x, y)
        c = self._index_values(cond)
        shape = _out_shape(cond.shape, x.shape, y.shape)
        ci, xi, yi = (_bcast_index(s, shape) for s in (cond.shape, x.shape, y.shape))
        return StrHandle([x.flat[a] if c[k] else y.flat[b] for k, a, b in zip(ci, xi, yi)], shape)

    def binary(self, op, x, y):
        if not isinstance(x, StrHandle):
            return self._cpu.binary(op, x, y)
        if op not in ("equal", "not_equal"):
            raise InvalidArgumentError(f"{op}: not supported for string tensors (dtype string)")
        shape = _out_shape(x.shape, y.shape)
        same = [x.flat[a] == y.flat[b] for a, b in zip(_bcast_index(x.shape, shape), _bcast_index(y.shape, shape))]
        vals = same if op == "equal" else [not v for v in same]
        return self._cpu.write(host.pack(vals, D.bool_), shape, D.bool_)


_by_cpu: dict = {}


def for_cpu(cpu) -> HostStringsBackend:
    """The one strings backend over a given CPU backend."""
    be = _by_cpu.get(cpu.name)
    if be is None or be._cpu is not cpu:
        be = _by_cpu[cpu.name] = HostStringsBackend(cpu)
    return be


# -- conversion (the hooks tensor.py calls) ---------------------------------------------------


def as_bytes(v, op: str = "constant") -> bytes:
    """A Python/numpy str (UTF-8 encoded) or bytes value as ``bytes``; TypeError otherwise."""
    if isinstance(v, bytes):
        return bytes(v)
    if isinstance(v, str):
        return v.encode("utf-8")
    raise TypeError(
        f"{op}: cannot convert {v!r} (type {type(v).__name__}) to a string tensor element; expected str or bytes"
    )


def string_tensor(flat: list, shape: tuple, op: str = "constant", be=None):
    """A tf.string Tensor on the host strings backend from flat str/bytes values."""
    from .. import placement
    from ..tensor import wrap

    be = placement.for_dtype(be, D.string) if be is not None else placement.creation_backend(D.string)
    return wrap(StrHandle([as_bytes(v, op) for v in flat], shape), D.string, be)


def to_host(h: StrHandle):
    """``.numpy()`` of a string tensor: a numpy object array of bytes (bytes for rank 0),
    or a HostArray of bytes where numpy is missing."""
    if not h.shape:
        return h.flat[0]
    np = host.numpy_module()
    if np is None:
        return host.HostArray(list(h.flat), h.shape, D.string)
    a = np.empty(len(h.flat), dtype=object)
    a[:] = h.flat
    return a.reshape(h.shape)

"""Shape and indexing ops: reshape, transpose, slicing, concat/split, pad, gather, creation."""

from __future__ import annotations

import builtins
import math as _pymath

from .. import placement
from .. import dtypes as D
from ..composite import composite_in
from ..errors import InvalidArgumentError, ResourceExhaustedError
from ..shape import as_int, as_shape_tuple, broadcast_shape, dims_tuple, normalize_axis, prod
from .dispatch import INTEGER, Tensor, check_kind, operand, record, same_dtype, tapes, wrap
from . import math as M
from .reduce import reduce_sum

newaxis = None
_range, _slice = builtins.range, builtins.slice


# -- creation -----------------------------------------------------------------------------------


def _full(shape: tuple, value, dtype: D.DType, op: str = "fill") -> Tensor:
    be = placement.creation_backend(dtype)
    try:
        return wrap(be.full(shape, value, dtype), dtype, be)
    except ResourceExhaustedError as e:  # the backend's words, with the op and the argument first
        raise ResourceExhaustedError(
            f"{op}: shape {shape} {dtype.name} needs {prod(shape) * dtype.size} bytes: {e}"
        ) from None


def zeros(shape, dtype=D.float32, name=None) -> Tensor:
    dt = D.as_dtype(dtype)
    return _full(dims_tuple(shape, "zeros"), False if dt.kind == "b" else 0, dt, "zeros")


def ones(shape, dtype=D.float32, name=None) -> Tensor:
    dt = D.as_dtype(dtype)
    return _full(dims_tuple(shape, "ones"), True if dt.kind == "b" else 1, dt, "ones")


def fill(dims, value, name=None) -> Tensor:
    v = operand(value, "fill")
    if v._h.shape:
        raise InvalidArgumentError(f"fill: value must be a scalar, got shape {tuple(v._h.shape)}")
    return broadcast_to(v, dims_tuple(dims, "fill", "dims"))


def _like(x, dtype, value, op):
    if type(x) is not Tensor and hasattr(x, "flat_values"):  # ragged: the same rows, filled values
        return x.with_flat_values(_like(x.flat_values, dtype, value, op))
    x = operand(x, op)
    dt = D.as_dtype(dtype) if dtype is not None else x._dtype
    be = placement.for_dtype(placement.current() or x._be, dt)
    v = bool(value) if dt.kind == "b" else value
    return wrap(be.full(tuple(x._h.shape), v, dt), dt, be)


def zeros_like(input, dtype=None, name=None) -> Tensor:
    return _like(input, dtype, 0, "zeros_like")


def ones_like(input, dtype=None, name=None) -> Tensor:
    return _like(input, dtype, 1, "ones_like")


def range(start, limit=None, delta=1, dtype=None, name="range") -> Tensor:
    """``tf.range``: int32 for int arguments, float32 if any is a float."""
    vals = [v.tolist() if hasattr(v, "numpy") else v for v in (start, limit, delta)]  # no numpy in the page
    start, limit, delta = vals
    if limit is None:
        start, limit = 0, start
    if delta == 0:
        raise InvalidArgumentError("range: delta must not be 0")
    if dtype is not None:
        dt = D.as_dtype(dtype)
    elif any(isinstance(v, float) for v in (start, limit, delta)):
        dt = D.float32
    else:
        dt = D.int32
    n = max(0, _pymath.ceil((limit - start) / delta))
    be = placement.creation_backend(dt)
    return wrap(be.arange(start, delta, n, dt), dt, be)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=D.float32, name=None) -> Tensor:
    dt = D.as_dtype(dtype)
    cols = num_rows if num_columns is None else num_columns
    e = M.cast(M.equal(reshape(range(num_rows), (num_rows, 1)), range(cols)), dt)
    if batch_shape is not None:
        bs = dims_tuple(batch_shape, "eye", "batch_shape")
        e = broadcast_to(e, bs + (num_rows, cols))
    return e


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None) -> Tensor:
    """Out-of-range (and negative) indices give all-off rows, as TF."""
    if type(indices) is not Tensor and hasattr(indices, "flat_values") and axis in (None, -1):  # ragged ids
        return indices.with_flat_values(one_hot(indices.flat_values, depth, on_value, off_value, axis, dtype))
    idx = operand(indices, "one_hot")
    check_kind(idx, "one_hot", INTEGER)
    if dtype is not None:
        dt = D.as_dtype(dtype)
    elif on_value is not None and hasattr(on_value, "_dtype"):
        dt = on_value._dtype
    elif isinstance(on_value, int) and not isinstance(on_value, bool):
        dt = D.int32
    else:
        dt = D.float32
    depth = as_int(depth, "one_hot", "depth")
    if depth < 0:
        raise InvalidArgumentError(f"one_hot: depth must be non-negative, got {depth}")
    rank = len(idx._h.shape)
    ax = rank if axis is None or axis == -1 else normalize_axis(axis, rank + 1, "one_hot")
    hot = M.equal(
        expand_dims(idx, ax),
        reshape(range(depth, dtype=idx._dtype), tuple(depth if i == ax else 1 for i in _range(rank + 1))),
    )
    on = operand(1 if on_value is None else on_value, "one_hot", dt)
    off = operand(0 if off_value is None else off_value, "one_hot", dt)
    return M.where(hot, on, off)


def identity(input, name=None) -> Tensor:
    x = operand(input, "identity")
    y = wrap(x._h, x._dtype, x._be)
    if tapes:
        record((x,), (y,), lambda dy, need: (dy,))
    return y


def stop_gradient(input, name=None) -> Tensor:
    """The same value, invisible to tapes: no gradient flows through it."""
    x = operand(input, "stop_gradient")
    return wrap(x._h, x._dtype, x._be)


def shape(input, out_type=D.int32, name=None) -> Tensor:
    x = operand(input, "shape")
    from ..tensor import convert

    return convert(list(x._h.shape), D.as_dtype(out_type))


def shape_n(input, out_type=D.int32, name=None) -> list:
    return [shape(x, out_type) for x in input]


def size(input, out_type=D.int32, name=None) -> Tensor:
    from ..tensor import convert

    if type(input) is not Tensor and composite_in(input) is not None:  # ragged: its values; sparse: dense
        n = prod(input.flat_values._h.shape) if hasattr(input, "flat_values") else prod(input.shape.as_list())
        return convert(n, D.as_dtype(out_type))
    return convert(prod(operand(input, "size")._h.shape), D.as_dtype(out_type))


def rank(input, name=None) -> Tensor:
    from ..tensor import convert

    if type(input) is not Tensor and composite_in(input) is not None:
        return convert(input.shape.rank, D.int32)
    return convert(len(operand(input, "rank")._h.shape), D.int32)


# -- reshaping ----------------------------------------------------------------------------------


def _resolve_shape(n: int, shape: tuple, in_shape: tuple) -> tuple:
    unknown = [i for i, d in enumerate(shape) if d == -1]
    if len(unknown) > 1 or any(d < -1 for d in shape):
        raise InvalidArgumentError(f"reshape: at most one dimension may be -1 and none below it; got {shape}")
    if unknown:
        known = prod(d for d in shape if d != -1)
        if known == 0 or n % known:
            raise InvalidArgumentError(
                f"reshape: input of shape {in_shape} has {n} values, which cannot be reshaped to "
                f"{shape} (the known dimensions multiply to {known})"
            )
        shape = tuple(n // known if d == -1 else d for d in shape)
    if prod(shape) != n:
        raise InvalidArgumentError(
            f"reshape: input of shape {in_shape} has {n} values, but the requested shape {shape} has {prod(shape)}"
        )
    return shape


def reshape(tensor, shape, name=None) -> Tensor:
    if type(tensor) is not Tensor and composite_in(tensor) is not None:
        return tensor._dispatch(reshape, (tensor, shape), {})
    x = operand(tensor, "reshape")
    xs = x._h.shape
    shape = as_shape_tuple(shape, "reshape") if type(shape) is not tuple else shape
    if shape == xs:
        return x
    shape = _resolve_shape(prod(xs), shape, tuple(xs))
    y = wrap(x._be.reshape(x._h, shape), x._dtype, x._be)
    if tapes and x._dtype.kind == "f":
        record((x,), (y,), lambda dy, need: (reshape(dy, tuple(xs)),))
    return y


def transpose(a, perm=None, conjugate=False, name=None) -> Tensor:
    if type(a) is not Tensor and composite_in(a) is not None:
        return a._dispatch(transpose, (a, perm), {"conjugate": conjugate})
    x = operand(a, "transpose")
    r = len(x._h.shape)
    perm = tuple(_pyrange_rev(r)) if perm is None else as_shape_tuple(perm, "transpose")
    if sorted(perm) != list(_range(r)):
        raise InvalidArgumentError(
            f"transpose: perm {perm} is not a permutation of the {r} axes of shape {tuple(x._h.shape)}"
        )
    if perm == tuple(_range(r)):
        return x
    y = wrap(x._be.transpose(x._h, perm), x._dtype, x._be)
    if tapes and x._dtype.kind == "f":
        inv = [0] * r
        for i, p in enumerate(perm):
            inv[p] = i
        record((x,), (y,), lambda dy, need: (transpose(dy, tuple(inv)),))
    return y


def _pyrange_rev(r):
    return _range(r - 1, -1, -1)


def expand_dims(input, axis, name=None) -> Tensor:
    if type(input) is not Tensor and composite_in(input) is not None:
        return input._dispatch(expand_dims, (input, axis), {})
    x = operand(input, "expand_dims")
    s = tuple(x._h.shape)
    ax = normalize_axis(axis, len(s) + 1, "expand_dims")
    return reshape(x, s[:ax] + (1,) + s[ax:])


def squeeze(input, axis=None, name=None) -> Tensor:
    if type(input) is not Tensor and composite_in(input) is not None:
        return input._dispatch(squeeze, (input, axis), {})
    x = operand(input, "squeeze")
    s = tuple(x._h.shape)
    if axis is None:
        return reshape(x, tuple(d for d in s if d != 1))
    axes = [normalize_axis(a, len(s), "squeeze") for a in (axis if isinstance(axis, (list, tuple)) else [axis])]
    for a in axes:
        if s[a] != 1:
            raise InvalidArgumentError(
                f"squeeze: can not squeeze dim[{a}], expected a dimension of 1, got {s[a]} (shape {s})"
            )
    return reshape(x, tuple(d for i, d in enumerate(s) if i not in axes))


def broadcast_to(input, shape, name=None) -> Tensor:
    x = operand(input, "broadcast_to")
    xs = tuple(x._h.shape)
    shape = dims_tuple(shape, "broadcast_to")
    if xs == shape:
        return x
    if len(xs) > len(shape) or broadcast_shape(xs, shape, "broadcast_to") != shape:
        raise InvalidArgumentError(f"broadcast_to: cannot broadcast shape {xs} to {shape}")
    y = wrap(x._be.broadcast_to(x._h, shape), x._dtype, x._be)
    if tapes and x._dtype.kind == "f":
        record((x,), (y,), lambda dy, need: (M.unbroadcast(dy, xs),))
    return y


def tile(input, multiples, name=None) -> Tensor:
    if type(input) is not Tensor and composite_in(input) is not None:
        return input._dispatch(tile, (input, multiples), {})
    x = operand(input, "tile")
    s = tuple(x._h.shape)
    mult = as_shape_tuple(multiples, "tile")
    if len(mult) != len(s):
        raise InvalidArgumentError(f"tile: multiples {mult} must have one entry per dimension of shape {s}")
    for i, k in enumerate(mult):  # one axis at a time through rank-4 views: no rank-2r intermediate
        if k != 1:
            cur = tuple(x._h.shape)
            a, b, c = prod(cur[:i]), cur[i], prod(cur[i + 1 :])
            y = broadcast_to(reshape(x, (a, 1, b, c)), (a, as_int(k, "tile", "multiples"), b, c))
            x = reshape(y, cur[:i] + (k * b,) + cur[i + 1 :])
    return x


def repeat(input, repeats, axis=None, name=None) -> Tensor:
    x = operand(input, "repeat")
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    s = tuple(x._h.shape)
    ax = normalize_axis(axis, len(s), "repeat")
    if isinstance(repeats, int):
        y = broadcast_to(expand_dims(x, ax + 1), s[: ax + 1] + (repeats,) + s[ax + 1 :])
        return reshape(y, s[:ax] + (s[ax] * repeats,) + s[ax + 1 :])
    reps = as_shape_tuple(repeats, "repeat")
    idx = [i for i, r in enumerate(reps) for _ in _range(r)]
    return gather(x, idx, axis=ax)


# -- slicing ------------------------------------------------------------------------------------


def _strided(x: Tensor, begin: tuple, size: tuple, strides: tuple) -> Tensor:
    y = wrap(x._be.slice(x._h, begin, size, strides), x._dtype, x._be)
    if tapes and x._dtype.kind == "f":
        xs = tuple(x._h.shape)
        record((x,), (y,), lambda dy, need: (_embed(dy, xs, begin, size, strides),))
    return y


def _embed(dy: Tensor, shape: tuple, begin: tuple, size: tuple, strides: tuple) -> Tensor:
    """The inverse of a strided slice: dy's elements at their source positions, zeros elsewhere."""
    if 0 in size:
        return zeros(shape, dy._dtype)
    g = dy
    r = len(shape)
    for ax, (d, b, n, s) in enumerate(zip(shape, begin, size, strides)):
        if s < 0:
            g = reverse(g, [ax])
            b, s = b + (n - 1) * s, -s
        if s > 1:
            gs = tuple(g._h.shape)
            g = reshape(g, gs[: ax + 1] + (1,) + gs[ax + 1 :])
            g = pad(g, [(0, 0)] * (ax + 1) + [(0, s - 1)] + [(0, 0)] * (r - ax - 1))
            g = reshape(g, gs[:ax] + (n * s,) + gs[ax + 1 :])
            keep = (n - 1) * s + 1
            g = _strided(g, (0,) * r, gs[:ax] + (keep,) + gs[ax + 1 :], (1,) * r)
        length = (n - 1) * s + 1
        if (b, length) != (0, d):
            g = pad(g, [(0, 0)] * ax + [(b, d - b - length)] + [(0, 0)] * (r - ax - 1))
    return g


_INDEX_HELP = (
    "Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
    "tf.int32/tf.int64 tensors are valid indices"
)


def _as_index(v, what):
    if v is None or isinstance(v, int):
        return v
    if hasattr(v, "_dtype") and v._dtype.is_integer and not v._h.shape:
        return int(v)
    if hasattr(v, "__index__"):
        return v.__index__()
    raise TypeError(f"{_INDEX_HELP}, got {what} {v!r}")


def getitem(x, key) -> Tensor:
    """``x[key]`` with TF/NumPy basic indexing (ints, slices, ..., newaxis)."""
    x = operand(x, "strided_slice")
    shape = tuple(x._h.shape)
    key = key if isinstance(key, tuple) else (key,)
    if sum(k is Ellipsis for k in key) > 1:
        raise InvalidArgumentError("strided_slice: an index can only have a single ellipsis ('...')")
    real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if real > len(shape):
        raise InvalidArgumentError(f"strided_slice: too many indices ({real}) for a tensor of shape {shape}")
    if Ellipsis not in key:
        key = key + (Ellipsis,)
    begin, size, strides, out = [], [], [], []
    ax = 0
    for k in key:
        if k is Ellipsis:
            for _ in _range(len(shape) - real):
                d = shape[ax]
                begin.append(0), size.append(d), strides.append(1), out.append(d)
                ax += 1
            real = len(shape)  # a second pass never happens (single ellipsis)
        elif k is None:
            out.append(1)
        elif isinstance(k, _slice):
            d = shape[ax]
            st = _as_index(k.step, "step")
            if st == 0:
                raise InvalidArgumentError("strided_slice: slice step cannot be zero")
            b, e, st = _slice(_as_index(k.start, "start"), _as_index(k.stop, "stop"), st).indices(d)
            n = len(_range(b, e, st))
            begin.append(b if n else 0), size.append(n), strides.append(st if n else 1), out.append(n)
            ax += 1
        else:
            if isinstance(k, bool) or not (isinstance(k, int) or hasattr(k, "__index__")):
                raise TypeError(f"{_INDEX_HELP}, got {k!r}")
            i = _as_index(k, "index")
            d = shape[ax]
            if not -d <= i < d:
                raise InvalidArgumentError(
                    f"strided_slice: slice index {i} of dimension {ax} out of bounds (shape {shape})"
                )
            begin.append(i % d), size.append(1), strides.append(1)
            ax += 1
    y = x
    if tuple(size) != shape or any(s != 1 for s in strides):
        y = _strided(x, tuple(begin), tuple(size), tuple(strides))
    return reshape(y, tuple(out))


def slice(input_, begin, size, name=None) -> Tensor:
    """``tf.slice``: ``size`` -1 means 'to the end'."""
    x = operand(input_, "slice")
    s = tuple(x._h.shape)
    b = as_shape_tuple(begin, "slice")
    n = as_shape_tuple(size, "slice")
    if len(b) != len(s) or len(n) != len(s):
        raise InvalidArgumentError(f"slice: begin {b} and size {n} need one entry per dim of {s}")
    n = tuple(d - bb if k == -1 else k for d, bb, k in zip(s, b, n))
    for d, bb, k in zip(s, b, n):
        if bb < 0 or k < 0 or bb + k > d:
            raise InvalidArgumentError(f"slice: begin {b} with size {n} is out of bounds for shape {s}")
    return _strided(x, b, n, (1,) * len(s))


def reverse(tensor, axis, name=None) -> Tensor:
    if type(tensor) is not Tensor and composite_in(tensor) is not None:
        return tensor._dispatch(reverse, (tensor, axis), {})
    x = operand(tensor, "reverse")
    s = tuple(x._h.shape)
    axes = {normalize_axis(a, len(s), "reverse") for a in (axis if isinstance(axis, (list, tuple)) else [axis])}
    begin = tuple(d - 1 if i in axes and d else 0 for i, d in enumerate(s))
    strides = tuple(-1 if i in axes else 1 for i in _range(len(s)))
    return _strided(x, begin, s, strides)


# -- joining and splitting ----------------------------------------------------------------------


def concat(values, axis, name=None) -> Tensor:
    values = list(values)
    if composite_in(values) is not None:  # ragged/sparse inputs: their own rule
        return composite_in(values)._dispatch(concat, (values,), {"axis": axis})
    if not values:
        raise InvalidArgumentError("concat: values must be a non-empty list of tensors, got []")
    xs = same_dtype(values, "concat")
    s0 = tuple(xs[0]._h.shape)
    ax = normalize_axis(axis, len(s0), "concat")
    for t in xs[1:]:
        s = tuple(t._h.shape)
        if len(s) != len(s0) or any(a != b for i, (a, b) in enumerate(zip(s, s0)) if i != ax):
            raise InvalidArgumentError(f"concat: shapes {s0} and {s} must match except in dimension {ax}")
    if len(xs) == 1:
        return xs[0]
    be = xs[0]._be
    y = wrap(be.concat([t._h for t in xs], ax), xs[0]._dtype, be)
    if tapes and xs[0]._dtype.kind == "f":
        sizes = [t._h.shape[ax] for t in xs]

        def vjp(dy, need):
            out, off = [], 0
            ds = tuple(dy._h.shape)
            for n, nd in zip(sizes, need):
                b = tuple(off if i == ax else 0 for i in _range(len(ds)))
                sz = tuple(n if i == ax else d for i, d in enumerate(ds))
                out.append(_strided(dy, b, sz, (1,) * len(ds)) if nd else None)
                off += n
            return tuple(out)

        record(tuple(xs), (y,), vjp)
    return y


def stack(values, axis=0, name=None) -> Tensor:
    values = list(values)
    if composite_in(values) is not None:
        return composite_in(values)._dispatch(stack, (values,), {"axis": axis})
    xs = same_dtype(list(values), "stack")
    if not xs:
        raise InvalidArgumentError("stack: values must be a non-empty list")
    s0 = tuple(xs[0]._h.shape)
    for i, t in enumerate(xs[1:], 1):
        if tuple(t._h.shape) != s0:
            raise InvalidArgumentError(
                f"stack: shapes of all inputs must match: values[0].shape = "
                f"{s0} != values[{i}].shape = {tuple(t._h.shape)}"
            )
    ax = normalize_axis(axis, len(s0) + 1, "stack")
    return concat([expand_dims(t, ax) for t in xs], ax)


def unstack(value, num=None, axis=0, name=None) -> list:
    x = operand(value, "unstack")
    s = tuple(x._h.shape)
    ax = normalize_axis(axis, len(s), "unstack")
    if num is not None and num != s[ax]:
        raise InvalidArgumentError(f"unstack: num {num} does not match dimension {ax} of shape {s}")
    rest = s[:ax] + s[ax + 1 :]
    return [
        reshape(
            _strided(
                x,
                tuple(i if j == ax else 0 for j in _range(len(s))),
                tuple(1 if j == ax else d for j, d in enumerate(s)),
                (1,) * len(s),
            ),
            rest,
        )
        for i in _range(s[ax])
    ]


def split(value, num_or_size_splits, axis=0, num=None, name=None) -> list:
    x = operand(value, "split")
    s = tuple(x._h.shape)
    ax = normalize_axis(axis, len(s), "split")
    d = s[ax]
    if isinstance(num_or_size_splits, int) or (hasattr(num_or_size_splits, "_h") and not num_or_size_splits._h.shape):
        k = int(num_or_size_splits)
        if k <= 0 or d % k:
            raise InvalidArgumentError(f"split: dimension {ax} of size {d} must be evenly divisible by {k} (shape {s})")
        sizes = [d // k] * k
    else:
        sizes = list(as_shape_tuple(num_or_size_splits, "split"))
        if sizes.count(-1) > 1:
            raise InvalidArgumentError("split: at most one size may be -1")
        if -1 in sizes:
            sizes[sizes.index(-1)] = d - (sum(sizes) + 1)
        if sum(sizes) != d or any(z < 0 for z in sizes):
            raise InvalidArgumentError(f"split: sizes {sizes} do not add up to dimension {ax} of size {d} (shape {s})")
    out, off = [], 0
    for n in sizes:
        out.append(
            _strided(
                x,
                tuple(off if j == ax else 0 for j in _range(len(s))),
                tuple(n if j == ax else dd for j, dd in enumerate(s)),
                (1,) * len(s),
            )
        )
        off += n
    return out


def _paddings(paddings, r, op):
    if hasattr(paddings, "numpy"):
        paddings = paddings.numpy().tolist()
    pads = [tuple(int(v) for v in p) for p in paddings]
    if len(pads) != r or any(len(p) != 2 or p[0] < 0 or p[1] < 0 for p in pads):
        raise InvalidArgumentError(f"{op}: paddings {pads} must be {r} pairs of non-negative ints")
    return tuple(pads)


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None) -> Tensor:
    x = operand(tensor, "pad")
    s = tuple(x._h.shape)
    pads = _paddings(paddings, len(s), "pad")
    mode = mode.upper()
    if mode == "CONSTANT":
        if all(p == (0, 0) for p in pads):
            return x
        v = constant_values.numpy() if hasattr(constant_values, "numpy") else constant_values
        v = v.item() if hasattr(v, "item") else v  # a numpy scalar natively, a Python one in the page
        y = wrap(x._be.pad(x._h, pads, v), x._dtype, x._be)
        if tapes and x._dtype.kind == "f":
            record((x,), (y,), lambda dy, need: (_strided(dy, tuple(p[0] for p in pads), s, (1,) * len(s)),))
        return y
    if mode not in ("REFLECT", "SYMMETRIC"):
        raise InvalidArgumentError(f"pad: mode must be CONSTANT, REFLECT or SYMMETRIC, got {mode!r}")
    off = 1 if mode == "REFLECT" else 0
    for ax, (lo, hi) in enumerate(pads):
        d = s[ax]
        if lo > d - off or hi > d - off:
            raise InvalidArgumentError(f"pad: {mode} paddings {pads[ax]} too large for dimension {ax} of size {d}")
        parts = []
        if lo:
            parts.append(reverse(_axis_slice(x, ax, off, lo), [ax]))
        parts.append(x)
        if hi:
            parts.append(reverse(_axis_slice(x, ax, d - hi - off, hi), [ax]))
        x = concat(parts, ax) if len(parts) > 1 else x
    return x


def _axis_slice(x, ax, start, n):
    s = tuple(x._h.shape)
    return _strided(
        x,
        tuple(start if i == ax else 0 for i in _range(len(s))),
        tuple(n if i == ax else d for i, d in enumerate(s)),
        (1,) * len(s),
    )


# -- gather and scatter -------------------------------------------------------------------------


def _index_tensor(indices, op):
    """Indices as every backend's kernels read them: int32 or int64 (uint8 is cast once here)."""
    idx = operand(indices, op, D.int32)
    check_kind(idx, op, INTEGER)
    return idx if idx._dtype in (D.int32, D.int64) else M.cast(idx, D.int32)


def _gather(x: Tensor, idx: Tensor, ax: int) -> Tensor:
    if idx._be is not x._be:
        from ..tensor import to_backend

        idx = to_backend(idx, x._be)
    y = wrap(x._be.gather(x._h, idx._h, ax), x._dtype, x._be)
    if tapes and x._dtype.kind == "f":
        xs = tuple(x._h.shape)
        record((x,), (y,), lambda dy, need: (_scatter_add(idx, dy, xs, ax),))
    return y


def _scatter_add(idx: Tensor, updates: Tensor, shape: tuple, ax: int) -> Tensor:
    if idx._be is not updates._be:
        from ..tensor import to_backend

        idx = to_backend(idx, updates._be)
    y = wrap(updates._be.scatter_add(idx._h, updates._h, shape, ax), updates._dtype, updates._be)
    if tapes and updates._dtype.kind == "f":
        record((updates,), (y,), lambda dy, need: (_gather(dy, idx, ax),))
    return y


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None) -> Tensor:
    """``tf.gather``: out = params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis+1:]."""
    c = composite_in(params, indices) if type(params) is not Tensor or type(indices) is not Tensor else None
    if c is not None:  # ragged params or indices: their own rule
        return c._dispatch(gather, (params, indices), {"axis": axis, "batch_dims": batch_dims})
    x = operand(params, "gather")
    idx = _index_tensor(indices, "gather")
    s = tuple(x._h.shape)
    ax = normalize_axis(batch_dims if axis is None else axis, len(s), "gather")
    b = batch_dims if batch_dims >= 0 else batch_dims + len(idx._h.shape)
    if not b:
        return _gather(x, idx, ax)
    return _batched_gather(x, idx, ax, b)


def _batched_gather(x, idx, ax, b):
    """batch_dims > 0: offset each batch's indices into one flat gather."""
    s, si = tuple(x._h.shape), tuple(idx._h.shape)
    if s[:b] != si[:b] or ax < b:
        raise InvalidArgumentError(
            f"gather: batch dims of params {s} and indices {si} must match (batch_dims={b}, axis={ax})"
        )
    nb = prod(s[:b])
    mid = s[b:ax]
    xt = transpose(x, tuple(_range(b)) + (ax,) + tuple(_range(b, ax)) + tuple(_range(ax + 1, len(s))))
    xt = reshape(xt, (nb * s[ax],) + mid + s[ax + 1 :])
    off = reshape(range(nb, dtype=idx._dtype) * s[ax], (nb,) + (1,) * (len(si) - b))
    flat = reshape(idx, (nb,) + si[b:]) + off
    g = _gather(xt, flat, 0)  # [nb, I..., mid..., rest...]
    ni = len(si) - b
    g = reshape(g, s[:b] + si[b:] + mid + s[ax + 1 :])
    perm = (
        tuple(_range(b))
        + tuple(_range(b + ni, b + ni + len(mid)))
        + tuple(_range(b, b + ni))
        + tuple(_range(b + ni + len(mid), len(g._h.shape)))
    )
    return transpose(g, perm)


def _check_indices_host(idx: Tensor, limits: tuple, op: str):
    """CPU backends reject out-of-range indices, as TF on CPU does (one readback)."""
    from .reduce import reduce_any

    if idx._be.device_type != "CPU" or not prod(idx._h.shape):
        return
    lim = reshape(operand(list(limits), op, idx._dtype), (len(limits),))
    bad = M.logical_or(M.less(idx, 0), M.greater_equal(idx, lim))
    if bool(reduce_any(bad)):
        flat = reshape(idx, (-1, len(limits))).numpy().tolist()
        first = next(r for r in flat if any(v < 0 or v >= d for v, d in zip(r, limits)))
        raise InvalidArgumentError(f"{op}: indices {first} do not index into param shape {limits}")


def gather_nd(params, indices, batch_dims=0, name=None) -> Tensor:
    """``tf.gather_nd``: indices[..., K] address the first K dims of params."""
    x = operand(params, "gather_nd")
    idx = _index_tensor(indices, "gather_nd")
    s, si = tuple(x._h.shape), tuple(idx._h.shape)
    if not si:
        raise InvalidArgumentError("gather_nd: indices must have rank >= 1")
    if batch_dims:
        idx = _with_batch_coords(idx, batch_dims)
        si = tuple(idx._h.shape)
    k = si[-1]
    if k > len(s):
        raise InvalidArgumentError(f"gather_nd: index depth {k} exceeds the rank of params {s}")
    _check_indices_host(idx, s[:k], "gather_nd")
    strides = [prod(s[i + 1 : k]) for i in _range(k)]
    flat = reduce_sum(idx * operand(strides, "gather_nd", idx._dtype), -1) if k else zeros(si[:-1], idx._dtype)
    if k and idx._be.device_type != "CPU":  # a row out of range anywhere gathers zeros (TF on GPUs)
        lim = operand(list(s[:k]), "gather_nd", idx._dtype)
        from .reduce import reduce_any

        bad = reduce_any(M.logical_or(M.less(idx, 0), M.greater_equal(idx, lim)), -1)
        flat = M.where(bad, -1, flat)
    return _gather(reshape(x, (prod(s[:k]),) + s[k:]), flat, 0)


def _with_batch_coords(idx, b):
    si = tuple(idx._h.shape)
    lead = si[:-1]
    coords = []
    for j in _range(b):
        r = reshape(range(si[j], dtype=idx._dtype), tuple(si[j] if i == j else 1 for i in _range(len(lead))))
        coords.append(broadcast_to(r, lead))
    coords = [expand_dims(c, -1) for c in coords]
    return concat(coords + [idx], -1)


def boolean_mask(tensor, mask, axis=None, name=None) -> Tensor:
    """Rows where mask is true (reads the mask to the host: the result shape depends on it)."""
    c = composite_in(tensor, mask) if type(tensor) is not Tensor or type(mask) is not Tensor else None
    if c is not None:
        return c._dispatch(boolean_mask, (tensor, mask), {"axis": axis})
    x = operand(tensor, "boolean_mask")
    mk = operand(mask, "boolean_mask", D.bool_)
    if mk._dtype is not D.bool_:
        raise InvalidArgumentError(f"boolean_mask: mask must be bool, got {mk._dtype.name}")
    s, sm = tuple(x._h.shape), tuple(mk._h.shape)
    ax = 0 if axis is None else normalize_axis(axis, len(s), "boolean_mask")
    k = len(sm)
    if k == 0 or s[ax : ax + k] != sm:
        raise InvalidArgumentError(
            f"boolean_mask: mask shape {sm} must match the dims of tensor {s} starting at axis {ax}"
        )
    flat = reshape(x, s[:ax] + (prod(sm),) + s[ax + k :])
    picks = [i for i, v in enumerate(_host_flat(mk)) if v]
    return _gather(flat, operand(picks, "boolean_mask", D.int32) if picks else zeros((0,), D.int32), ax)


def _host_flat(t: Tensor) -> list:
    v = t.numpy()
    if hasattr(v, "reshape"):
        v = v.reshape(-1).tolist()
    return v if isinstance(v, list) else [v]


def where_indices(condition) -> Tensor:
    """``tf.where(cond)``: int64 [n, rank] coordinates of the true elements, row-major."""
    c = operand(condition, "where")
    s = tuple(c._h.shape)
    flat = _host_flat(c)
    rows = []
    for i, v in enumerate(flat):
        if v:
            coord, r = [], i
            for d in reversed(s):
                coord.append(r % d)
                r //= d
            rows.append(coord[::-1])
    if not rows:
        return zeros((0, len(s)), D.int64)
    from ..tensor import convert

    return convert(rows, D.int64)


def unsorted_segment_sum(data, segment_ids, num_segments, name=None) -> Tensor:
    x = operand(data, "unsorted_segment_sum")
    ids = _index_tensor(segment_ids, "unsorted_segment_sum")
    s, si = tuple(x._h.shape), tuple(ids._h.shape)
    if s[: len(si)] != si:
        raise InvalidArgumentError(f"unsorted_segment_sum: segment_ids shape {si} must be a prefix of data shape {s}")
    n = as_int(num_segments, "unsorted_segment_sum", "num_segments")
    if n < 0:
        raise InvalidArgumentError(f"unsorted_segment_sum: num_segments must be non-negative, got {n}")
    flat_ids = reshape(ids, (prod(si),))
    flat = reshape(x, (prod(si),) + s[len(si) :])
    return _scatter_add(flat_ids, flat, (n,) + s[len(si) :], 0)

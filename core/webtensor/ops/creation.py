"""Creation and matrix-structure ops composed of existing primitives: linspace, meshgrid,
roll, the ``tf.linalg`` diagonal family, band_part, trace and cumulative_logsumexp.

Every op here is written with public ops, so gradients (and higher-order gradients)
come from the ops they are built of and every backend runs them unchanged."""

from __future__ import annotations

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..shape import as_int, broadcast_shape, normalize_axis, prod
from . import array as A
from . import math as M
from .dispatch import FLOAT, Tensor, check_kind, operand
from .reduce import cumsum, reduce_max, reduce_sum


def _float_operand(v, op: str) -> Tensor:
    """TF's linspace keeps float inputs' dtype; ints divide in float64 (TF's int truediv)."""
    t = operand(v, op, D.float32 if isinstance(v, float) else None)
    if t._dtype.kind in "iu":
        return M.cast(t, D.float64)
    check_kind(t, op, FLOAT)
    return t


def linspace(start, stop, num, name=None, axis=0) -> Tensor:
    """``tf.linspace``: ``num`` evenly spaced values; the first is start and the last stop
    exactly (TF concatenates them around ``start + i * delta``). Batched start/stop put
    the new axis at ``axis``."""
    s = _float_operand(start, "linspace")
    e = _float_operand(stop, "linspace")
    if e._dtype is not s._dtype:
        e = M.cast(e, s._dtype)
    n = as_int(num, "linspace", "num")
    if n < 0:
        raise InvalidArgumentError(f"linspace: num must be non-negative, got {n}")
    shape = broadcast_shape(tuple(s._h.shape), tuple(e._h.shape), "linspace")
    s, e = A.broadcast_to(s, shape), A.broadcast_to(e, shape)
    ax = normalize_axis(axis, len(shape) + 1, "linspace")
    s1, e1 = A.expand_dims(s, ax), A.expand_dims(e, ax)
    if n == 0:
        return A.zeros(shape[:ax] + (0,) + shape[ax:], s._dtype)
    if n == 1:
        return s1
    delta = (e1 - s1) / float(n - 1)
    steps = A.reshape(A.range(1, n - 1, dtype=s._dtype), tuple(n - 2 if i == ax else 1 for i in range(len(shape) + 1)))
    return A.concat([s1, s1 + steps * delta, e1], ax)


def meshgrid(*args, **kwargs) -> list:
    """``tf.meshgrid``: 'xy' (default) swaps the first two output axes, as NumPy/TF."""
    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"meshgrid: unexpected keyword arguments {sorted(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise InvalidArgumentError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    xs = [A.reshape(operand(a, "meshgrid"), (-1,)) for a in args]
    n = len(xs)
    sizes = [x._h.shape[0] for x in xs]
    if indexing == "xy" and n >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, x in enumerate(xs):
        pos = i if indexing == "ij" or n < 2 or i > 1 else 1 - i
        shp = tuple(-1 if j == pos else 1 for j in range(n))
        out.append(A.broadcast_to(A.reshape(x, shp), tuple(sizes)))
    return out


def _int_list(v, op, what) -> list:
    if hasattr(v, "numpy"):
        v = v.numpy()
        v = v.tolist() if hasattr(v, "tolist") else v
    return [int(a) for a in v] if isinstance(v, (list, tuple)) else [int(v)]


def roll(input, shift, axis, name=None) -> Tensor:
    """``tf.roll``: shifts along each listed axis (repeated axes add up), wrapping round."""
    x = operand(input, "roll")
    s = tuple(x._h.shape)
    shifts, axes = _int_list(shift, "roll", "shift"), _int_list(axis, "roll", "axis")
    if len(shifts) != len(axes):
        raise InvalidArgumentError(f"roll: shift {shifts} and axis {axes} must have the same length")
    total = {}
    for sh, a in zip(shifts, axes):
        a = normalize_axis(a, len(s), "roll")
        total[a] = total.get(a, 0) + sh
    for a, sh in sorted(total.items()):
        d = s[a]
        k = sh % d if d else 0
        if k:
            x = A.concat([A._axis_slice(x, a, d - k, k), A._axis_slice(x, a, 0, d - k)], a)
    return x


# -- diagonals -------------------------------------------------------------------------------


def _single_k(k, op) -> int:
    ks = _int_list(k, op, "k")
    if len(ks) == 2 and ks[0] == ks[1]:
        ks = ks[:1]
    if len(ks) != 1:
        raise InvalidArgumentError(f"{op}: only a single diagonal k is supported, got k={ks}")
    return ks[0]


def _offsets(rows: int, cols: int, dtype=D.int32):
    """(i, j) index grids of shape [rows, 1] and [1, cols]."""
    return (A.reshape(A.range(rows, dtype=dtype), (rows, 1)), A.reshape(A.range(cols, dtype=dtype), (1, cols)))


def matrix_diag(diagonal, name=None, k=0, num_rows=-1, num_cols=-1, padding_value=0, align="RIGHT_LEFT") -> Tensor:
    """``tf.linalg.diag``: a batch of matrices with ``diagonal`` on diagonal k, padding elsewhere."""
    d = operand(diagonal, "diag")
    k = _single_k(k, "diag")
    s = tuple(d._h.shape)
    if not s:
        raise InvalidArgumentError("diag: diagonal must have rank >= 1, got a scalar")
    n = s[-1]
    rows = as_int(num_rows, "diag", "num_rows")
    cols = as_int(num_cols, "diag", "num_cols")
    if rows == -1 and cols == -1:  # TF assumes a square output
        rows = cols = n + abs(k)
    rows = n + max(-k, 0) if rows == -1 else rows
    cols = n + max(k, 0) if cols == -1 else cols
    avail = min(rows, cols - k) if k >= 0 else min(rows + k, cols)
    if avail != n:
        raise InvalidArgumentError(
            f"diag: diagonal of length {n} does not fit diagonal k={k} of a {rows}x{cols} matrix (length {avail})"
        )
    i, j = _offsets(rows, cols)
    mask = M.equal(j - i, k)
    src = M.minimum(M.maximum(i if k >= 0 else j, 0), max(n - 1, 0))
    src = A.broadcast_to(src, (rows, cols))
    if n == 0:
        return A.fill(s[:-1] + (rows, cols), operand(padding_value, "diag", d._dtype))
    g = A.gather(d, A.reshape(src, (-1,)), axis=len(s) - 1)
    g = A.reshape(g, s[:-1] + (rows, cols))
    return M.where(mask, g, operand(padding_value, "diag", d._dtype))


def matrix_diag_part(input, name=None, k=0, padding_value=0, align="RIGHT_LEFT") -> Tensor:
    """``tf.linalg.diag_part``: diagonal k of each matrix in the batch."""
    x = operand(input, "diag_part")
    k = _single_k(k, "diag_part")
    s = tuple(x._h.shape)
    if len(s) < 2:
        raise InvalidArgumentError(f"diag_part: input must have rank >= 2, got shape {s}")
    r, c = s[-2:]
    if not (-r < k < c) and r * c:
        raise InvalidArgumentError(f"diag_part: k={k} is out of range for {r}x{c} matrices")
    n = max(0, min(r, c - k) if k >= 0 else min(r + k, c))
    idx = [(i * c + i + k) if k >= 0 else ((i - k) * c + i) for i in range(n)]
    flat = A.reshape(x, s[:-2] + (r * c,))
    if not n:
        return A.zeros(s[:-2] + (0,), x._dtype)
    return A.gather(flat, operand(idx, "diag_part", D.int32), axis=len(s) - 2)


def matrix_set_diag(input, diagonal, name=None, k=0, align="RIGHT_LEFT") -> Tensor:
    """``tf.linalg.set_diag``: input with diagonal k replaced."""
    x = operand(input, "set_diag")
    d = operand(diagonal, "set_diag", x._dtype)
    k = _single_k(k, "set_diag")
    s = tuple(x._h.shape)
    if len(s) < 2:
        raise InvalidArgumentError(f"set_diag: input must have rank >= 2, got shape {s}")
    r, c = s[-2:]
    n = max(0, min(r, c - k) if k >= 0 else min(r + k, c))
    ds = tuple(d._h.shape)
    if ds != s[:-2] + (n,):
        raise InvalidArgumentError(f"set_diag: diagonal shape {ds} must be {s[:-2] + (n,)} for input {s}, k={k}")
    i, j = _offsets(r, c)
    return M.where(M.equal(j - i, k), matrix_diag(d, k=k, num_rows=r, num_cols=c), x)


def band_part(input, num_lower, num_upper, name=None) -> Tensor:
    """``tf.linalg.band_part``: keep num_lower sub- and num_upper super-diagonals (-1: all)."""
    x = operand(input, "band_part")
    s = tuple(x._h.shape)
    if len(s) < 2:
        raise InvalidArgumentError(f"band_part: input must have rank >= 2, got shape {s}")
    lo, hi = as_int(num_lower, "band_part", "num_lower"), as_int(num_upper, "band_part", "num_upper")
    i, j = _offsets(*s[-2:])
    keep = M.logical_and(M.less_equal(i - j, lo if lo >= 0 else s[-2]), M.less_equal(j - i, hi if hi >= 0 else s[-1]))
    return M.where(keep, x, A.zeros((), x._dtype))


def trace(x, name=None) -> Tensor:
    """``tf.linalg.trace``: sum of the main diagonal of each matrix."""
    return reduce_sum(matrix_diag_part(x), -1)


def tensor_diag(diagonal, name=None) -> Tensor:
    """``tf.linalg.tensor_diag`` (``tf.diag``): rank-2k tensor with diagonal on (i..., i...)."""
    d = operand(diagonal, "tensor_diag")
    s = tuple(d._h.shape)
    n = prod(s)
    return A.reshape(matrix_diag(A.reshape(d, (n,))), s + s)


PAIRWISE_LIMIT = 1 << 22
"""Most [..., n, n] terms cumulative_logsumexp masks before it shifts by one axis maximum."""


def _masked_cumulative_lse(x: Tensor, ax: int, exclusive: bool, reverse: bool) -> Tensor:
    """Each prefix's own reduce_logsumexp over a masked [..., n(i), n(j)] copy: exact and
    stable however far apart the values are."""
    from .reduce import reduce_logsumexp

    n = x._h.shape[ax]
    xt = A.expand_dims(A.transpose(x, tuple(i for i in range(len(x._h.shape)) if i != ax) + (ax,)), -2)
    i, j = _offsets(n, n)
    keep = (
        (M.greater(j, i) if exclusive else M.greater_equal(j, i))
        if reverse
        else (M.less(j, i) if exclusive else M.less_equal(j, i))
    )
    terms = M.where(keep, xt, A.fill((), operand(float("-inf"), "cumulative_logsumexp", x._dtype)))
    out = reduce_logsumexp(terms, -1)
    r = len(x._h.shape)
    perm = list(range(r - 1))
    perm.insert(ax, r - 1)
    return A.transpose(out, tuple(perm))


def cumulative_logsumexp(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    """``tf.math.cumulative_logsumexp``: exclusive starts at -inf. Up to PAIRWISE_LIMIT terms
    each prefix is its own stable logsumexp; beyond, log(cumsum(exp(x - max))) + max with the
    axis maximum held constant (terms > 88 below it underflow in float32)."""
    x = operand(x, "cumulative_logsumexp")
    check_kind(x, "cumulative_logsumexp", FLOAT)
    ax = normalize_axis(axis, len(x._h.shape), "cumulative_logsumexp")
    n = x._h.shape[ax]
    if n and n * prod(x._h.shape) <= PAIRWISE_LIMIT:
        return _masked_cumulative_lse(x, ax, bool(exclusive), bool(reverse))
    raw = reduce_max(x, ax, keepdims=True)
    mx = A.stop_gradient(M.where(M.is_finite(raw), raw, M.zero_fill(raw)))
    return M.log(cumsum(M.exp(x - mx), ax, exclusive, reverse)) + mx


__all__ = [
    "band_part",
    "cumulative_logsumexp",
    "linspace",
    "matrix_diag",
    "matrix_diag_part",
    "matrix_set_diag",
    "meshgrid",
    "roll",
    "tensor_diag",
    "trace",
]

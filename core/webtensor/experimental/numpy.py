"""``tf.experimental.numpy``: NumPy's API over webtensor's ops (TF's "tnp").

In the page, where numpy is absent, this is what a user has in its place. As in TF's
tnp, arrays are ``tf.Tensor``s, Python floats default to float64 and ints to int64
(``experimental_enable_numpy_behavior(prefer_float32=True)`` makes floats float32), and
binary operations promote their operands with NumPy's rules over webtensor's dtypes.
"""

from __future__ import annotations

import builtins
import math as _math

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..ops import array as A
from ..ops import creation as C
from ..ops import linalg as LA
from ..ops import math as M
from ..ops import reduce as R
from ..ops import sorting as SORT
from ..tensor import Tensor, Variable, convert

ndarray = Tensor
float16, float32, float64 = D.float16, D.float32, D.float64
int32, int64, uint8, uint32, bool_ = D.int32, D.int64, D.uint8, D.uint32, D.bool_
pi, e, inf, nan, newaxis = _math.pi, _math.e, float("inf"), float("nan"), None

_state = {"prefer_float32": False}
_ORDER = [D.bool_, D.uint8, D.uint32, D.int32, D.int64, D.float16, D.float32, D.float64]


def experimental_enable_numpy_behavior(prefer_float32: bool = False, dtype_conversion_mode="legacy") -> None:
    """TF's switch; here it sets the default float type (float64 unless prefer_float32)."""
    _state["prefer_float32"] = bool(prefer_float32)


def _default_float() -> D.DType:
    return D.float32 if _state["prefer_float32"] else D.float64


def _py_dtype(v) -> D.DType:
    if isinstance(v, builtins.bool):
        return D.bool_
    if isinstance(v, int):
        return D.int64
    return _default_float()


def _infer(value) -> D.DType | None:
    """NumPy's default dtype for Python values (None: let conversion decide)."""
    if isinstance(value, (builtins.bool, int, float)):
        return _py_dtype(value)
    if isinstance(value, (list, tuple)):
        flat = _flatten(value)
        if flat and builtins.all(isinstance(v, (builtins.bool, int, float)) for v in flat):
            if builtins.all(isinstance(v, builtins.bool) for v in flat):
                return D.bool_
            return D.int64 if builtins.all(isinstance(v, int) for v in flat) else _default_float()
    return None


def _flatten(v) -> list:
    if isinstance(v, (list, tuple)):
        return [x for item in v for x in _flatten(item)]
    return [v]


def asarray(a, dtype=None) -> Tensor:
    if isinstance(a, Variable):
        a = a.value()
    dt = D.as_dtype(dtype) if dtype is not None else None
    if isinstance(a, Tensor):
        return a if dt is None or a._dtype is dt else M.cast(a, dt)
    t = convert(a, dt or _infer(a), op="tnp.asarray")
    return t


def array(val, dtype=None, copy=True, ndmin=0) -> Tensor:
    t = asarray(val, dtype)
    while len(t._h.shape) < ndmin:
        t = A.expand_dims(t, 0)
    return A.identity(t) if copy else t


def result_type(*arrays_and_dtypes) -> D.DType:
    """NumPy's promotion over webtensor's dtypes (an int with a float gives the float; mixed
    signed/unsigned ints widen; int64 with uint32 stays int64; Python scalars are weak)."""
    strong = [a for a in arrays_and_dtypes if not isinstance(a, (builtins.bool, int, float))]
    weak = [a for a in arrays_and_dtypes if isinstance(a, (builtins.bool, int, float))]
    dts = [a if isinstance(a, D.DType) else getattr(a, "dtype", None) or asarray(a)._dtype for a in strong]
    dts = [D.as_dtype(d) for d in dts]
    if not dts:
        dts = [_py_dtype(w) for w in weak]
        weak = []
    out = builtins.max(dts, key=_ORDER.index)
    signed = [d for d in dts if d.kind == "i"]
    unsigned = [d for d in dts if d.kind == "u"]
    if out.kind in "iu" and signed and unsigned:
        wide = builtins.max(signed, key=lambda d: d.size)
        out = wide if wide.size > builtins.max(u.size for u in unsigned) else D.int64
    if builtins.any(isinstance(w, float) for w in weak) and out.kind != "f":
        out = _default_float()
    return out


def _pair(x, y):
    dt = result_type(x, y)
    return asarray(x, dt) if not isinstance(x, (int, float)) else convert(x, dt), asarray(y, dt) if not isinstance(
        y, (int, float)
    ) else convert(y, dt)


def _binary(op, float_out: bool = False):
    def fn(x1, x2):
        a, b = _pair(x1, x2)
        if float_out and a._dtype.kind != "f":
            a, b = M.cast(a, _default_float()), M.cast(b, _default_float())
        return op(a, b)

    fn.__name__ = op.__name__
    return fn


add, subtract, multiply = _binary(M.add), _binary(M.subtract), _binary(M.multiply)
true_divide = divide = _binary(M.truediv, float_out=True)
floor_divide, mod, remainder = _binary(M.floordiv), _binary(M.mod), _binary(M.mod)
power = _binary(M.pow)
maximum, minimum = _binary(M.maximum), _binary(M.minimum)
equal, not_equal = _binary(M.equal), _binary(M.not_equal)
less, less_equal, greater, greater_equal = (
    _binary(M.less),
    _binary(M.less_equal),
    _binary(M.greater),
    _binary(M.greater_equal),
)
logical_and, logical_or = _binary(M.logical_and), _binary(M.logical_or)


def _unary(op, float_in: bool = True):
    def fn(x):
        t = asarray(x)
        if float_in and t._dtype.kind != "f":
            t = M.cast(t, _default_float())
        return op(t)

    fn.__name__ = op.__name__
    return fn


exp, log, sqrt, sin, cos, tan, tanh = (_unary(f) for f in (M.exp, M.log, M.sqrt, M.sin, M.cos, M.tan, M.tanh))
log1p, expm1 = _unary(M.log1p), _unary(M.expm1)
floor, ceil = _unary(M.floor), _unary(M.ceil)
abs = absolute = _unary(M.abs, float_in=False)  # noqa: A001 (NumPy's name)
negative, sign, square = _unary(M.negative, False), _unary(M.sign, False), _unary(M.square, False)
logical_not = _unary(M.logical_not, False)
reciprocal = _unary(M.reciprocal)


def around(a, decimals=0) -> Tensor:
    t = asarray(a)
    if not decimals:
        return M.round(t)
    s = 10.0**decimals
    return M.round(t * s) / s


round = around  # noqa: A001


def _axis(axis):
    return list(axis) if isinstance(axis, tuple) else axis


def sum(a, axis=None, dtype=None, keepdims=False) -> Tensor:  # noqa: A001
    t = asarray(a, dtype)
    return R.reduce_sum(t, _axis(axis), keepdims)


def mean(a, axis=None, dtype=None, keepdims=False) -> Tensor:
    t = asarray(a, dtype)
    if t._dtype.kind != "f":
        t = M.cast(t, _default_float())
    return R.reduce_mean(t, _axis(axis), keepdims)


def prod(a, axis=None, dtype=None, keepdims=False) -> Tensor:
    return R.reduce_prod(asarray(a, dtype), _axis(axis), keepdims)


def amax(a, axis=None, keepdims=False) -> Tensor:
    return R.reduce_max(asarray(a), _axis(axis), keepdims)


def amin(a, axis=None, keepdims=False) -> Tensor:
    return R.reduce_min(asarray(a), _axis(axis), keepdims)


max, min = amax, amin  # noqa: A001


def var(a, axis=None, ddof=0, keepdims=False) -> Tensor:
    t = mean(a, axis, keepdims=True)
    x = asarray(a)
    x = M.cast(x, t._dtype) if x._dtype is not t._dtype else x
    d = x - t
    n = size(x) if axis is None else _count(x, axis)
    return R.reduce_sum(d * d, _axis(axis), keepdims) / builtins.max(n - ddof, 0)


def std(a, axis=None, ddof=0, keepdims=False) -> Tensor:
    return M.sqrt(var(a, axis, ddof, keepdims))


def _count(x: Tensor, axis) -> int:
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    n = 1
    for ax in axes:
        n *= x._h.shape[ax]
    return n


def all(a, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    return R.reduce_all(M.cast(asarray(a), D.bool_), _axis(axis), keepdims)


def any(a, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    return R.reduce_any(M.cast(asarray(a), D.bool_), _axis(axis), keepdims)


def argmax(a, axis=None) -> Tensor:
    t = asarray(a)
    return R.argmax(A.reshape(t, (-1,)) if axis is None else t, 0 if axis is None else axis, output_type=D.int64)


def argmin(a, axis=None) -> Tensor:
    t = asarray(a)
    return R.argmin(A.reshape(t, (-1,)) if axis is None else t, 0 if axis is None else axis, output_type=D.int64)


def cumsum(a, axis=None, dtype=None) -> Tensor:
    t = asarray(a, dtype)
    return R.cumsum(A.reshape(t, (-1,)) if axis is None else t, 0 if axis is None else axis)


def cumprod(a, axis=None, dtype=None) -> Tensor:
    t = asarray(a, dtype)
    return R.cumprod(A.reshape(t, (-1,)) if axis is None else t, 0 if axis is None else axis)


def zeros(shape, dtype=float) -> Tensor:
    return A.zeros(_shape(shape), _dt(dtype))


def ones(shape, dtype=float) -> Tensor:
    return A.ones(_shape(shape), _dt(dtype))


def full(shape, fill_value, dtype=None) -> Tensor:
    v = asarray(fill_value, dtype)
    return A.broadcast_to(v, _shape(shape))


def zeros_like(a, dtype=None) -> Tensor:
    return A.zeros_like(asarray(a), dtype)


def ones_like(a, dtype=None) -> Tensor:
    return A.ones_like(asarray(a), dtype)


def full_like(a, fill_value, dtype=None) -> Tensor:
    t = asarray(a)
    return A.broadcast_to(asarray(fill_value, dtype or t._dtype), tuple(t._h.shape))


def empty(shape, dtype=float) -> Tensor:
    return zeros(shape, dtype)


def _dt(dtype) -> D.DType:
    return _default_float() if dtype is float else D.as_dtype(dtype)


def _shape(shape) -> tuple:
    return (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)


def eye(N, M_=None, k=0, dtype=float) -> Tensor:
    cols = N if M_ is None else M_
    if k == 0:
        return A.eye(N, cols, dtype=_dt(dtype))
    n = builtins.max(0, builtins.min(N, cols - k) if k > 0 else builtins.min(N + k, cols))
    if n == 0:
        return A.zeros((N, cols), _dt(dtype))
    return C.matrix_diag(A.ones((n,), _dt(dtype)), k=k, num_rows=N, num_cols=cols)


identity = lambda n, dtype=float: eye(n, dtype=dtype)  # noqa: E731


def arange(start, stop=None, step=1, dtype=None) -> Tensor:
    if stop is None:
        start, stop = 0, start
    dt = (
        D.as_dtype(dtype)
        if dtype is not None
        else (_default_float() if builtins.any(isinstance(v, float) for v in (start, stop, step)) else D.int64)
    )
    return A.range(start, stop, step, dtype=dt)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    dt = D.as_dtype(dtype) if dtype is not None else _default_float()
    n = int(num)
    if n < 0:
        raise InvalidArgumentError(f"linspace: num must be non-negative, got {n}")
    div = (n - 1) if endpoint else n
    step = (stop - start) / div if div > 0 else float("nan")
    vals = [start + i * step for i in range(n)]
    if endpoint and n > 1:
        vals[-1] = stop
    out = convert(vals, dt)
    return (out, step) if retstep else out


def reshape(a, newshape, order="C") -> Tensor:
    if order != "C":
        raise InvalidArgumentError(f"reshape: only order='C' is supported, got {order!r}")
    return A.reshape(asarray(a), _shape(newshape))


def ravel(a) -> Tensor:
    return A.reshape(asarray(a), (-1,))


def transpose(a, axes=None) -> Tensor:
    return A.transpose(asarray(a), axes)


def swapaxes(a, axis1, axis2) -> Tensor:
    t = asarray(a)
    perm = list(range(len(t._h.shape)))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return A.transpose(t, perm)


def moveaxis(a, source, destination) -> Tensor:
    t = asarray(a)
    r = len(t._h.shape)
    perm = [i for i in range(r) if i != source % r]
    perm.insert(destination % r, source % r)
    return A.transpose(t, perm)


def expand_dims(a, axis) -> Tensor:
    return A.expand_dims(asarray(a), axis)


def squeeze(a, axis=None) -> Tensor:
    return A.squeeze(asarray(a), axis)


def concatenate(arys, axis=0) -> Tensor:
    ts = _promote_all(arys)
    return A.concat(ts, axis)


def stack(arrays, axis=0) -> Tensor:
    return A.stack(_promote_all(arrays), axis)


def vstack(tup) -> Tensor:
    ts = [atleast_2d(t) for t in _promote_all(tup)]
    return A.concat(ts, 0)


def hstack(tup) -> Tensor:
    ts = _promote_all(tup)
    return A.concat(ts, 0 if len(ts[0]._h.shape) == 1 else 1)


def _promote_all(arrays) -> list:
    arrs = [asarray(a) if not isinstance(a, (int, float)) else a for a in arrays]
    dt = result_type(*arrs)
    return [asarray(a, dt) for a in arrs]


def atleast_1d(a) -> Tensor:
    t = asarray(a)
    return A.reshape(t, (1,)) if not t._h.shape else t


def atleast_2d(a) -> Tensor:
    t = atleast_1d(a)
    return A.expand_dims(t, 0) if len(t._h.shape) == 1 else t


def split(ary, indices_or_sections, axis=0) -> list:
    t = asarray(ary)
    if isinstance(indices_or_sections, int):
        return A.split(t, indices_or_sections, axis)
    n = t._h.shape[axis]
    cuts = [0] + [int(i) for i in indices_or_sections] + [n]
    return A.split(t, [b - a for a, b in zip(cuts, cuts[1:])], axis)


def tile(A_, reps) -> Tensor:
    t = asarray(A_)
    reps = [reps] if isinstance(reps, int) else list(reps)
    while len(t._h.shape) < len(reps):
        t = A.expand_dims(t, 0)
    reps = [1] * (len(t._h.shape) - len(reps)) + reps
    return A.tile(t, reps)


def repeat(a, repeats, axis=None) -> Tensor:
    t = asarray(a)
    return A.repeat(A.reshape(t, (-1,)) if axis is None else t, repeats, 0 if axis is None else axis)


def flip(m, axis=None) -> Tensor:
    t = asarray(m)
    axes = list(range(len(t._h.shape))) if axis is None else ([axis] if isinstance(axis, int) else list(axis))
    return A.reverse(t, axes)


def roll(a, shift, axis=None) -> Tensor:
    t = asarray(a)
    if axis is None:
        return A.reshape(C.roll(A.reshape(t, (-1,)), shift, 0), tuple(t._h.shape))
    return C.roll(t, shift, axis)


def where(condition, x=None, y=None):
    c = M.cast(asarray(condition), D.bool_)
    if x is None and y is None:
        idx = A.where_indices(c)
        return tuple(M.cast(A.gather(idx, i, axis=1), D.int64) for i in range(len(c._h.shape)))
    a, b = _pair(x, y)
    return M.where(c, a, b)


def clip(a, a_min, a_max) -> Tensor:
    t = asarray(a)
    lo = t if a_min is None else maximum(t, a_min)
    return lo if a_max is None else minimum(lo, a_max)


def dot(a, b) -> Tensor:
    x, y = _pair(a, b)
    rx, ry = len(x._h.shape), len(y._h.shape)
    if rx == 0 or ry == 0:
        return x * y
    if rx == 1 and ry == 1:
        return R.reduce_sum(x * y)
    if ry == 1:
        return LA.tensordot(x, y, [[rx - 1], [0]])
    return LA.tensordot(x, y, [[rx - 1], [ry - 2]])


def matmul(x1, x2) -> Tensor:
    a, b = _pair(x1, x2)
    if len(a._h.shape) == 1 and len(b._h.shape) == 1:
        return R.reduce_sum(a * b)
    if len(a._h.shape) == 1:
        return A.squeeze(LA.matmul(A.expand_dims(a, 0), b), -2)
    if len(b._h.shape) == 1:
        return A.squeeze(LA.matmul(a, A.expand_dims(b, -1)), -1)
    return LA.matmul(a, b)


def outer(a, b) -> Tensor:
    x, y = _pair(a, b)
    return A.reshape(x, (-1, 1)) * A.reshape(y, (1, -1))


def inner(a, b) -> Tensor:
    x, y = _pair(a, b)
    return LA.tensordot(x, y, [[len(x._h.shape) - 1], [len(y._h.shape) - 1]])


def tensordot(a, b, axes=2) -> Tensor:
    x, y = _pair(a, b)
    return LA.tensordot(x, y, axes)


def einsum(subscripts, *operands) -> Tensor:
    return LA.einsum(subscripts, *_promote_all(operands))


def trace(a, offset=0, axis1=0, axis2=1) -> Tensor:
    t = asarray(a)
    if (offset, axis1, axis2) != (0, 0, 1) or len(t._h.shape) != 2:
        raise InvalidArgumentError("trace: only the main diagonal of a matrix is supported")
    return C.trace(t)


def diag(v, k=0) -> Tensor:
    t = asarray(v)
    return C.matrix_diag(t, k=k) if len(t._h.shape) == 1 else C.matrix_diag_part(t, k=k)


def sort(a, axis=-1) -> Tensor:
    return SORT.sort(asarray(a), axis)


def argsort(a, axis=-1) -> Tensor:
    return M.cast(SORT.argsort(asarray(a), axis), D.int64)


def isnan(x) -> Tensor:
    return M.is_nan(asarray(x))


def isfinite(x) -> Tensor:
    return M.is_finite(asarray(x))


def isinf(x) -> Tensor:
    return M.is_inf(asarray(x))


def allclose(a, b, rtol=1e-05, atol=1e-08) -> Tensor:
    x, y = _pair(a, b)
    return R.reduce_all(M.less_equal(M.abs(x - y), atol + rtol * M.abs(y)))


def isclose(a, b, rtol=1e-05, atol=1e-08) -> Tensor:
    x, y = _pair(a, b)
    return M.less_equal(M.abs(x - y), atol + rtol * M.abs(y))


def array_equal(a1, a2) -> Tensor:
    x, y = asarray(a1), asarray(a2)
    if tuple(x._h.shape) != tuple(y._h.shape):
        return convert(False)
    return all(equal(x, y))


def shape(a) -> tuple:
    return tuple(asarray(a)._h.shape)


def ndim(a) -> int:
    return len(asarray(a)._h.shape)


def size(a) -> int:
    n = 1
    for d in asarray(a)._h.shape:
        n *= d
    return n


def count_nonzero(a, axis=None) -> Tensor:
    return R.count_nonzero(asarray(a), _axis(axis), dtype=D.int64)


def broadcast_to(array_, shape_) -> Tensor:
    return A.broadcast_to(asarray(array_), _shape(shape_))


def take(a, indices, axis=None) -> Tensor:
    t = asarray(a)
    return A.gather(A.reshape(t, (-1,)) if axis is None else t, indices, axis=0 if axis is None else axis)


def meshgrid(*xi, indexing="xy") -> list:
    return C.meshgrid(*[asarray(x) for x in xi], indexing=indexing)


def nonzero(a) -> tuple:
    return where(asarray(a))


def float_power(x1, x2) -> Tensor:
    a, b = _pair(x1, x2)
    return M.pow(M.cast(a, D.float64), M.cast(b, D.float64))


__all__ = [n for n in dir() if not n.startswith("_") and n not in ("annotations", "builtins")]

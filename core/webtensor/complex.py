"""Complex tensors: ``tf.complex64`` / ``tf.complex128`` values held as a (real, imag) pair
of float32 / float64 tensors.

No backend stores complex numbers, so a complex tensor is a composite (like ragged and
sparse): the core's ops hand it to ``ComplexTensor._dispatch``, which writes the complex
arithmetic with real ops. So complex values run on every backend and in graphs, and
gradients come from the real ops. ``tape.gradient(loss, z)`` for a complex source gives
TF's convention, ``dL/dRe(z) + i dL/dIm(z)``.
"""

from __future__ import annotations

import builtins
import math as _math
import sys

from . import dtypes as D
from .composite import ArithmeticOps, CompositeTensor, MatmulOps
from .errors import InvalidArgumentError
from .ops import array as A
from .ops import math as M
from .ops import reduce as R
from .tensor import Tensor, Variable, convert

_PY_COMPLEX = builtins.complex  # this module defines tf.complex
_FLOAT_FOR = {"complex64": D.float32, "complex128": D.float64}


def _complex_dtype(real: D.DType) -> D.DType:
    return D.complex128 if real is D.float64 else D.complex64


class ComplexTensor(ArithmeticOps, MatmulOps, CompositeTensor):
    """A complex tensor: ``real`` and ``imag`` float tensors of one shape and dtype."""

    __slots__ = ("real", "imag")

    def __init__(self, real: Tensor, imag: Tensor):
        if real._dtype is not imag._dtype or real._dtype not in (D.float32, D.float64):
            raise InvalidArgumentError(
                f"complex: real and imag must both be float32 or both float64, got "
                f"{real._dtype.name} and {imag._dtype.name}"
            )
        if tuple(real._h.shape) != tuple(imag._h.shape):
            real, imag = A.broadcast_to(real, _bshape(real, imag)), A.broadcast_to(imag, _bshape(real, imag))
        self.real, self.imag = real, imag

    # -- Tensor-like surface ---------------------------------------------------------------
    dtype = property(lambda self: _complex_dtype(self.real._dtype))
    shape = property(lambda self: self.real.shape)
    ndim = property(lambda self: len(self.real._h.shape))
    device = property(lambda self: self.real.device)

    def numpy(self):
        re, im = self.real.numpy(), self.imag.numpy()
        np = sys.modules.get("numpy")
        if np is not None and isinstance(re, np.ndarray | np.generic):
            return re + 1j * im
        return _zip_complex(re.tolist() if hasattr(re, "tolist") else re, im.tolist() if hasattr(im, "tolist") else im)

    def __repr__(self) -> str:
        return f"<tf.Tensor: shape={tuple(self.real._h.shape)}, dtype={self.dtype.name}, numpy={self.numpy()!r}>"

    def __len__(self) -> int:
        return len(self.real)

    def __getitem__(self, key):
        return ComplexTensor(self.real[key], self.imag[key])

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self):
        raise TypeError("The truth value of a complex tensor is ambiguous")

    # operators: composite.ArithmeticOps and MatmulOps, through the core ops to _HANDLERS below
    def __eq__(self, o):  # not ElementwiseOps': incompatible operands raise, they do not compare unequal
        return M.equal(self, o)

    def __ne__(self, o):
        return M.not_equal(self, o)

    __hash__ = None

    def _dispatch(self, op, args: tuple, kwargs: dict):
        fn = _HANDLERS.get(op)
        if fn is not None:
            return fn(*args, **{k: v for k, v in kwargs.items() if k != "name"})
        raise TypeError(
            f"{getattr(op, '__name__', op)}: complex tensors ({self.dtype.name}) are not supported by this op"
        )

    # -- autodiff: a complex source is its two real parts --------------------------------
    def _grad_parts(self) -> tuple:
        return self.real, self.imag

    @staticmethod
    def _from_grads(parts):
        g_re, g_im = parts
        if g_re is None and g_im is None:
            return None
        like = g_re if g_re is not None else g_im
        return ComplexTensor(
            g_re if g_re is not None else A.zeros_like(like), g_im if g_im is not None else A.zeros_like(like)
        )


def _zip_complex(re, im):
    if isinstance(re, list):
        return [_zip_complex(a, b) for a, b in zip(re, im)]
    return _PY_COMPLEX(re, im)


def _bshape(a: Tensor, b: Tensor) -> tuple:
    from .shape import broadcast_shape

    return broadcast_shape(tuple(a._h.shape), tuple(b._h.shape), "complex")


def is_complex_value(value) -> bool:
    """True for Python complex numbers, nested lists holding one, and numpy complex arrays."""
    if isinstance(value, _PY_COMPLEX):
        return True
    if isinstance(value, (list, tuple)):
        return any(is_complex_value(v) for v in value)
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.ndarray | np.generic) and value.dtype.kind == "c"


def _split(value):
    if isinstance(value, (list, tuple)):
        parts = [_split(v) for v in value]
        return [p[0] for p in parts], [p[1] for p in parts]
    c = _PY_COMPLEX(value)
    return c.real, c.imag


def constant(value, dtype=None) -> ComplexTensor:
    """A complex constant from Python complex numbers, nested lists or a numpy array."""
    dt = D.as_dtype(dtype) if dtype is not None else D.complex128 if _is_numpy_c128(value) else D.complex64
    if dt.kind != "c":
        raise InvalidArgumentError(f"constant: cannot convert a complex value to {dt.name} (use tf.math.real)")
    fdt = _FLOAT_FOR[dt.name]
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray | np.generic):
        arr = np.asarray(value)
        return ComplexTensor(convert(arr.real.astype(fdt.name), fdt), convert(arr.imag.astype(fdt.name), fdt))
    re, im = _split(value)
    return ComplexTensor(convert(re, fdt), convert(im, fdt))


def _is_numpy_c128(value) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.ndarray | np.generic) and value.dtype == np.complex128


def _as_complex(x, like: D.DType, op: str) -> ComplexTensor:
    """An operand as a ComplexTensor of dtype ``like``: Python numbers are promoted (as TF
    converts them); real tensors are an error, as TF does not promote."""
    if isinstance(x, ComplexTensor):
        if x.dtype is not like:
            raise InvalidArgumentError(f"{op}: dtype mismatch: {x.dtype.name} and {like.name} (use tf.cast)")
        return x
    if isinstance(x, (int, float, _PY_COMPLEX)) or is_complex_value(x) or isinstance(x, (list, tuple)):
        return constant(x, like)
    if isinstance(x, (Tensor, Variable)):
        raise InvalidArgumentError(
            f"{op}: dtype mismatch: {like.name} and {x.dtype.name} {tuple(x.shape)} "
            f"(TF does not promote; use tf.complex(x, 0) or tf.cast)"
        )
    return constant(x, like)


def _pair(x, y, op):
    c = x if isinstance(x, ComplexTensor) else y
    return _as_complex(x, c.dtype, op), _as_complex(y, c.dtype, op)


def _mul(a: ComplexTensor, b: ComplexTensor) -> ComplexTensor:
    return ComplexTensor(a.real * b.real - a.imag * b.imag, a.real * b.imag + a.imag * b.real)


def _div(a: ComplexTensor, b: ComplexTensor) -> ComplexTensor:
    den = b.real * b.real + b.imag * b.imag
    return ComplexTensor((a.real * b.real + a.imag * b.imag) / den, (a.imag * b.real - a.real * b.imag) / den)


def _binary(op, x, y, name=None):
    a, b = _pair(x, y, getattr(op, "__name__", "op"))
    if op is M.add:
        return ComplexTensor(a.real + b.real, a.imag + b.imag)
    if op is M.subtract:
        return ComplexTensor(a.real - b.real, a.imag - b.imag)
    if op is M.multiply:
        return _mul(a, b)
    if op is M.truediv or op is M.divide:
        return _div(a, b)
    if op is M.pow:
        return _exp(_mul(b, _log(a)))
    if op is M.equal:
        return M.logical_and(M.equal(a.real, b.real), M.equal(a.imag, b.imag))
    if op is M.not_equal:
        return M.logical_or(M.not_equal(a.real, b.real), M.not_equal(a.imag, b.imag))
    raise TypeError(f"{getattr(op, '__name__', op)}: not defined for complex tensors")


def _abs(z: ComplexTensor) -> Tensor:
    """|z|, scaled by s = max(|re|, |im|) so the squares neither overflow nor underflow; s is
    held constant for the gradient (re/|z|, im/|z|), which ties in the max would break."""
    s = A.stop_gradient(M.maximum(M.abs(z.real), M.abs(z.imag)))
    zero = M.equal(s, 0.0)
    safe = M.where(zero, A.ones_like(s), s)
    re, im = z.real / safe, z.imag / safe
    r2 = re * re + im * im
    return M.where(zero, A.zeros_like(s), safe * M.sqrt(M.where(zero, A.ones_like(r2), r2)))


def _exp(z: ComplexTensor) -> ComplexTensor:
    e = M.exp(z.real)
    return ComplexTensor(e * M.cos(z.imag), e * M.sin(z.imag))


def _log(z: ComplexTensor) -> ComplexTensor:
    from .ops.math_extra import atan2

    return ComplexTensor(M.log(_abs(z)), atan2(z.imag, z.real))


def _sqrt(z: ComplexTensor) -> ComplexTensor:
    """The principal square root: the larger part from sqrt((|z| + |re|) / 2), the other as
    im / (2 * that), so neither part loses digits to cancellation."""
    r = _abs(z)
    t = M.sqrt((r + M.abs(z.real)) * 0.5)
    safe = M.where(M.equal(t, 0.0), A.ones_like(t), t)
    other = z.imag / (2.0 * safe)
    pos = M.greater_equal(z.real, 0.0)
    neg_im = M.less(z.imag, 0.0)
    re = M.where(pos, t, M.abs(other))
    im = M.where(pos, other, M.where(neg_im, -t, t))
    zero = M.equal(t, 0.0)
    return ComplexTensor(M.where(zero, A.zeros_like(t), re), M.where(zero, A.zeros_like(t), im))


def _cosh_sinh(x: Tensor):
    ep, en = M.exp(x), M.exp(-x)
    return 0.5 * (ep + en), 0.5 * (M.expm1(x) - M.expm1(-x))


def _sin(z):
    ch, sh = _cosh_sinh(z.imag)
    return ComplexTensor(M.sin(z.real) * ch, M.cos(z.real) * sh)


def _cos(z):
    ch, sh = _cosh_sinh(z.imag)
    return ComplexTensor(M.cos(z.real) * ch, -M.sin(z.real) * sh)


def _unary(fn):
    return lambda x, **_: fn(x)


def _reduce(op):
    def run(x, axis=None, keepdims=False, **_):
        return ComplexTensor(op(x.real, axis, keepdims), op(x.imag, axis, keepdims))

    return run


def _parts_op(fn):
    """An op applied to both parts with the same arguments (shape moving, selection)."""

    def run(x, *args, **kwargs):
        return ComplexTensor(fn(x.real, *args, **kwargs), fn(x.imag, *args, **kwargs))

    return run


def _listwise(fn):
    def run(values, **kwargs):
        vals = list(values)
        c = next(v for v in vals if isinstance(v, ComplexTensor))
        cs = [_as_complex(v, c.dtype, fn.__name__) for v in vals]
        return ComplexTensor(fn([v.real for v in cs], **kwargs), fn([v.imag for v in cs], **kwargs))

    return run


def _gather(params, indices, **kwargs):
    return ComplexTensor(A.gather(params.real, indices, **kwargs), A.gather(params.imag, indices, **kwargs))


def _cast(x, dtype, **_):
    dt = D.as_dtype(dtype)
    if dt.kind == "c":
        f = _FLOAT_FOR[dt.name]
        return ComplexTensor(M.cast(x.real, f), M.cast(x.imag, f))
    return M.cast(x.real, dt)  # TF's cast from complex to real keeps the real part


def _sign(z):
    a = _abs(z)
    safe = M.where(M.equal(a, 0.0), A.ones_like(a), a)
    return ComplexTensor(z.real / safe, z.imag / safe)


_HANDLERS = {
    M.add: lambda x, y, **_: _binary(M.add, x, y),
    M.subtract: lambda x, y, **_: _binary(M.subtract, x, y),
    M.multiply: lambda x, y, **_: _binary(M.multiply, x, y),
    M.truediv: lambda x, y, **_: _binary(M.truediv, x, y),
    M.pow: lambda x, y, **_: _binary(M.pow, x, y),
    M.equal: lambda x, y, **_: _binary(M.equal, x, y),
    M.not_equal: lambda x, y, **_: _binary(M.not_equal, x, y),
    M.negative: _unary(lambda z: ComplexTensor(-z.real, -z.imag)),
    M.abs: _unary(_abs),
    M.exp: _unary(_exp),
    M.log: _unary(_log),
    M.sqrt: _unary(_sqrt),
    M.square: _unary(lambda z: _mul(z, z)),
    M.sin: _unary(_sin),
    M.cos: _unary(_cos),
    M.reciprocal: _unary(lambda z: _div(constant(1.0, z.dtype), z)),
    M.sign: _unary(_sign),
    M.is_finite: _unary(lambda z: M.logical_and(M.is_finite(z.real), M.is_finite(z.imag))),
    M.is_nan: _unary(lambda z: M.logical_or(M.is_nan(z.real), M.is_nan(z.imag))),
    M.cast: _cast,
    R.reduce_sum: _reduce(R.reduce_sum),
    R.reduce_mean: _reduce(R.reduce_mean),
    A.concat: _listwise(A.concat),
    A.stack: _listwise(A.stack),
    A.gather: _gather,
    A.reshape: _parts_op(A.reshape),
    A.expand_dims: _parts_op(A.expand_dims),
    A.squeeze: _parts_op(A.squeeze),
    A.broadcast_to: _parts_op(A.broadcast_to),
    A.tile: _parts_op(A.tile),
    A.reverse: _parts_op(A.reverse),
    A.identity: _parts_op(A.identity),
    A.zeros_like: lambda x, dtype=None, **_: ComplexTensor(A.zeros_like(x.real), A.zeros_like(x.imag)),
}
if hasattr(M, "divide"):
    _HANDLERS[M.divide] = lambda x, y, **_: _binary(M.truediv, x, y)


def _transpose(a, perm=None, conjugate=False, **_):
    z = ComplexTensor(A.transpose(a.real, perm), A.transpose(a.imag, perm))
    return conj(z) if conjugate else z


_HANDLERS[A.transpose] = _transpose


def _register_matmul():
    from .ops.linalg import matmul as mm

    _HANDLERS[mm] = matmul


# -- public functions -------------------------------------------------------------------


def complex(real, imag, name=None) -> ComplexTensor:  # noqa: A001 (TF's name)
    """``tf.complex``: real and imag of one float dtype (float32 -> complex64)."""
    re = real if isinstance(real, Tensor) else convert(real, op="complex")
    im = (
        imag
        if isinstance(imag, Tensor)
        else convert(imag, re._dtype if isinstance(imag, (int, float, list)) else None, op="complex")
    )
    if re._dtype is not im._dtype:
        raise InvalidArgumentError(
            f"complex: real and imag must have the same dtype, got {re._dtype.name} "
            f"{tuple(re._h.shape)} and {im._dtype.name} {tuple(im._h.shape)}"
        )
    return ComplexTensor(re, im)


def real(input, name=None) -> Tensor:
    """``tf.math.real``: the real part (a real input is returned as is)."""
    return input.real if isinstance(input, ComplexTensor) else convert(input, op="real")


def imag(input, name=None) -> Tensor:
    """``tf.math.imag``: the imaginary part (zeros for a real input)."""
    return input.imag if isinstance(input, ComplexTensor) else A.zeros_like(convert(input, op="imag"))


def conj(x, name=None):
    """``tf.math.conj`` (a real input is returned as is)."""
    return ComplexTensor(x.real, -x.imag) if isinstance(x, ComplexTensor) else convert(x, op="conj")


def angle(input, name=None) -> Tensor:
    """``tf.math.angle``: atan2(imag, real); for real input 0, or pi where negative (TF's)."""
    from .ops.math_extra import atan2

    if isinstance(input, ComplexTensor):
        return atan2(input.imag, input.real)
    t = convert(input, op="angle")
    return M.where(M.less(t, 0.0), A.fill((), convert(_math.pi, t._dtype)), A.zeros_like(t))


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False, **_):
    """Complex matmul as four real ones; adjoint means the conjugate transpose."""
    c = a if isinstance(a, ComplexTensor) else b
    x, y = _as_complex(a, c.dtype, "matmul"), _as_complex(b, c.dtype, "matmul")
    if adjoint_a:
        x = conj(x)
    if adjoint_b:
        y = conj(y)
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    from .ops.linalg import matmul as mm

    def p(u, v):
        return mm(u, v, transpose_a=ta, transpose_b=tb)

    return ComplexTensor(p(x.real, y.real) - p(x.imag, y.imag), p(x.real, y.imag) + p(x.imag, y.real))


_register_matmul()

__all__ = ["ComplexTensor", "angle", "complex", "conj", "imag", "real"]


class ComplexVariable(ComplexTensor):
    """``tf.Variable`` with a complex initial value: two float Variables (real, imag).

    It is a ComplexTensor whose parts are fresh variable reads, so every complex op takes
    it, tapes record both reads (``tape.gradient(loss, v)`` is TF's ``dL/dRe + i dL/dIm``)
    and tf.function captures the two variables like any other. ``tf.Variable(...)``
    returns one when the value or ``dtype`` is complex."""

    __slots__ = ("_re", "_im", "_name")

    def __init__(self, initial_value, trainable=None, name=None, dtype=None, **_):
        if callable(initial_value):
            initial_value = initial_value()
        dt = D.as_dtype(dtype) if dtype is not None else None
        z = initial_value if isinstance(initial_value, ComplexTensor) else constant(initial_value, dt)
        if dt is not None and z.dtype is not dt:
            z = _cast(z, dt)
        base = (name or "Variable").split(":")[0]
        self._name = base + ":0"
        self._re = Variable(z.real, trainable=trainable, name=base + "/real")
        self._im = Variable(z.imag, trainable=trainable, name=base + "/imag")

    real = property(lambda self: self._re.value())
    imag = property(lambda self: self._im.value())
    name = property(lambda self: self._name)
    trainable = property(lambda self: self._re.trainable)
    dtype = property(lambda self: _complex_dtype(self._re._dtype))
    shape = property(lambda self: self._re.shape)

    def value(self) -> ComplexTensor:
        return ComplexTensor(self._re.value(), self._im.value())

    read_value = value

    def _delta(self, value, op: str) -> ComplexTensor:
        z = _as_complex(value, self.dtype, op)
        if tuple(z.real._h.shape) != tuple(self._re._h.shape):
            raise ValueError(
                f"{op}: cannot assign a value of shape {tuple(z.real._h.shape)} to the complex "
                f"variable '{self._name}' of shape {tuple(self._re._h.shape)}"
            )
        return z

    def assign(self, value, use_locking=None, name=None, read_value=True):
        z = self._delta(value, "assign")
        self._re.assign(z.real)
        self._im.assign(z.imag)
        return self

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        z = self._delta(delta, "assign_add")
        self._re.assign_add(z.real)
        self._im.assign_add(z.imag)
        return self

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        z = self._delta(delta, "assign_sub")
        self._re.assign_sub(z.real)
        self._im.assign_sub(z.imag)
        return self

    def _grad_parts(self) -> tuple:
        return self._re, self._im

    @staticmethod
    def _from_grads(parts):
        return ComplexTensor._from_grads(parts)

    def __repr__(self) -> str:
        return (
            f"<tf.Variable '{self._name}' shape={tuple(self._re._h.shape)} dtype={self.dtype.name}, "
            f"numpy={self.numpy()!r}>"
        )


def wants_complex_variable(initial_value, dtype) -> bool:
    """``tf.Variable``'s test: a complex value or dtype makes a ComplexVariable."""
    if dtype is not None:
        return D.as_dtype(dtype).kind == "c"
    return isinstance(initial_value, ComplexTensor) or is_complex_value(initial_value)

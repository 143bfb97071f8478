"""``Tensor`` and ``Variable``, and the one path from Python values to tensors."""

from __future__ import annotations

import math
import sys
import threading

from . import autodiff, host, placement
from . import dtypes as D
from .composite import ElementwiseOps, MatmulOps, bind_ops
from .errors import InvalidArgumentError
from .shape import MAX_RANK as _MAX_RANK, TensorShape, check_rank, prod


graph_hook: list = [None]
data_worker = threading.local()  # tf.data's background threads set .active: they never join a trace


def _hook():
    """The trace's variable hook, unless this thread is a tf.data worker (those stay eager)."""
    h = graph_hook[0]
    return None if h is None or getattr(data_worker, "active", False) else h


"""The tf.function trace in progress (variable reads/assigns/creation go through it), or None."""
variable_creation_hooks: list = []  # called with each new eager Variable (tf.distribute scopes)


class _Ref:
    """Hashable stand-in for a tensor or variable (``t.ref()``)."""

    __slots__ = ("_obj",)

    def __init__(self, obj):
        self._obj = obj

    def deref(self):
        return self._obj

    def __hash__(self):
        return id(self._obj)

    def __eq__(self, other):
        return isinstance(other, _Ref) and other._obj is self._obj


class _TensorLike(ElementwiseOps, MatmulOps):
    """What Tensor and Variable share: properties, host access and operators."""

    __slots__ = ()
    __array_priority__ = 100
    __hash__ = None  # == is elementwise, as in TF 2; use .ref() as a dict key

    dtype = property(lambda self: self._dtype)
    ndim = property(lambda self: len(self._h.shape))
    device = property(lambda self: placement.device_string(self._be))
    backend = property(lambda self: self._be.name)

    @property
    def shape(self) -> TensorShape:
        """The static shape. Built without TensorShape's per-dim checks: a handle's shape is
        already a tuple of ints, and Keras reads it on every layer call."""
        s = _new(TensorShape)
        dims = self._h.shape
        s._dims = dims if type(dims) is tuple else tuple(dims)
        return s

    @property
    def value_token(self) -> object:
        """An opaque token for the current value: a new object (compare with ``is``) whenever
        the value is replaced (``assign``, loading a file), so caches of host copies, such as an
        optimizer's step count, can tell a stale copy without reading the device. Keeping
        the token keeps that value's buffer alive."""
        return self._h

    def get_shape(self) -> TensorShape:
        return self.shape

    def numpy(self):
        """Host copy: a numpy array (numpy scalar for rank 0), or a HostArray without numpy."""
        if self._dtype is D.string:
            return _hs().to_host(self._h)
        return host.to_host(self._be.read(self._h), self._h.shape, self._dtype)

    async def numpy_async(self):
        """Like ``numpy()`` without blocking: for engines without synchronous readback."""
        if self._dtype is D.string:
            return _hs().to_host(self._h)
        reader = getattr(self._be, "read_async", None)
        buf = await reader(self._h) if reader else self._be.read(self._h)
        return host.to_host(buf, self._h.shape, self._dtype)

    def tolist(self):
        v = self.numpy()
        return v.tolist() if hasattr(v, "tolist") else v

    def ref(self):
        return _Ref(self)

    experimental_ref = ref

    def __array__(self, dtype=None, copy=None):
        import numpy as np

        return np.asarray(self.numpy(), dtype=dtype)

    def _scalar(self, kind):
        if self._h.shape and prod(self._h.shape) != 1:
            raise InvalidArgumentError(
                f"only single-element tensors can be converted to Python {kind.__name__}; shape is {self._h.shape}"
            )
        v = self.numpy()
        return kind(v.item() if hasattr(v, "item") else v)

    def __float__(self):
        return self._scalar(float)

    def __int__(self):
        return self._scalar(int)

    def __index__(self):
        if not self._dtype.is_integer:
            raise TypeError(f"only integer tensors can be used as an index, not {self._dtype.name}")
        return self._scalar(int)

    def __bool__(self):
        if self._h.shape and prod(self._h.shape) != 1:
            raise ValueError(
                "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()"
            )
        return self._scalar(bool)

    def __len__(self):
        if not self._h.shape:
            raise TypeError("Scalar tensor has no `len()`")
        return self._h.shape[0]

    def __iter__(self):
        if not self._h.shape:
            raise TypeError("Cannot iterate over a scalar tensor.")
        from .ops import array

        return iter(array.unstack(self, axis=0))

    def __format__(self, spec):
        if not self._h.shape and not getattr(self._h, "symbolic", False):
            return format(self.numpy().item() if hasattr(self.numpy(), "item") else self.numpy(), spec)
        return format(str(self), spec)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    # operators: composite.py's mixins (shared with RaggedTensor/ComplexTensor); these two are Tensor's own
    def __pos__(self):
        return self

    def __xor__(self, o):
        return M.logical_xor(self, o)

    def __getitem__(self, key):
        if _is_bool_mask(key):  # TF: a boolean tensor, numpy array or list as key is boolean_mask
            return A.boolean_mask(self, key)
        return A.getitem(self, key)


def _is_bool_mask(key) -> bool:
    if isinstance(key, list):
        return bool(key) and all(type(k) is bool for k in key)
    dt = getattr(key, "dtype", None)
    if isinstance(key, _TensorLike):
        return getattr(dt, "name", None) == "bool"
    return getattr(dt, "kind", None) == "b" and getattr(key, "ndim", 0) > 0


class Tensor(_TensorLike):
    """An immutable n-dimensional array on one backend."""

    __slots__ = ("_h", "_dtype", "_be", "__weakref__")

    def __init__(self, *args, **kwargs):
        raise TypeError("Tensors are created with tf.constant or tf.convert_to_tensor")

    def _repr_value(self):
        v = self.numpy()
        if hasattr(v, "tolist") and not hasattr(v, "__array_interface__"):
            return repr(v.tolist())
        return repr(v) if self._h.shape else str(v)

    def __repr__(self):
        if getattr(self._h, "symbolic", False):
            return "<tf." + self._h.describe(self._dtype) + ">"
        v = self._repr_value()
        sep = "\n" if "\n" in v else ""
        return f"<tf.Tensor: shape={tuple(self._h.shape)}, dtype={self._dtype.name}, numpy={sep}{v}>"

    def __str__(self):
        if getattr(self._h, "symbolic", False):
            return self._h.describe(self._dtype)
        v = self.numpy()
        v = v.tolist() if not hasattr(v, "__array_interface__") and hasattr(v, "tolist") else v
        return f"tf.Tensor({v}, shape={tuple(self._h.shape)}, dtype={self._dtype.name})"

    def __reduce__(self):
        return (constant, (self.tolist(), self._dtype.name))

    def set_shape(self, shape) -> None:
        """Check ``shape`` against the (always known) static shape; ValueError if incompatible."""
        from .ops.static import set_shape

        set_shape(self, shape)


_new = object.__new__


def wrap(h, dtype: D.DType, be) -> Tensor:
    """A Tensor over a backend handle; the constructor every op uses."""
    if len(h.shape) > _MAX_RANK:  # one rank limit on every backend (the GPU indexes 8 dims)
        check_rank(tuple(h.shape), "tensor")
    t = _new(Tensor)
    t._h, t._dtype, t._be = h, dtype, be
    return t


class Variable(_TensorLike):
    """``tf.Variable``: a named, mutable holder of a tensor value (handles are swapped)."""

    __slots__ = ("_h", "_dtype", "_be", "_name", "_trainable", "__weakref__")

    def __new__(cls, initial_value=None, *args, dtype=None, **kwargs):
        """A complex value or dtype gives a ComplexVariable (two float Variables, see complex.py)."""
        if cls is Variable and (dtype is not None or not isinstance(initial_value, (Tensor, int, float))):
            from .complex import ComplexVariable, wants_complex_variable

            if wants_complex_variable(initial_value, dtype):
                return ComplexVariable(initial_value, *args, dtype=dtype, **kwargs)
        return object.__new__(cls)

    def __init__(
        self,
        initial_value=None,
        trainable=None,
        name=None,
        dtype=None,
        shape=None,
        validate_shape=True,
        caching_device=None,
        synchronization=None,
        aggregation=None,
        constraint=None,
        import_scope=None,
        experimental_enable_variable_lifting=None,
    ):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        if _hook() is not None:  # inside a tf.function trace: created once, eagerly
            graph_hook[0].create_variable(self, initial_value, trainable, name, dtype)
            return
        if callable(initial_value):
            initial_value = initial_value()
        with autodiff.no_record():
            t = convert(initial_value, D.as_dtype(dtype) if dtype is not None else None)
        self._h, self._dtype, self._be = t._h, t._dtype, t._be
        self._trainable = True if trainable is None else bool(trainable)
        base = name or "Variable"
        self._name = base if ":" in base else base + ":0"
        for hook in variable_creation_hooks:  # tf.distribute: mirror variables created in a strategy's scope
            hook(self)

    name = property(lambda self: self._name)
    trainable = property(lambda self: self._trainable)

    def value(self) -> Tensor:
        """The current value as a Tensor; tapes record the read (gradients flow here)."""
        t = wrap(self._h, self._dtype, self._be) if _hook() is None else graph_hook[0].read_variable(self)
        if autodiff.tapes:
            autodiff.read_variable(self, t)
        return t

    read_value = value

    def assign(self, value, use_locking=None, name=None, read_value=True):
        if _hook() is not None:
            return graph_hook[0].assign_variable(self, value)
        t = convert(value, self._dtype, self._be, op="assign")
        if t._h.shape != self._h.shape:
            raise ValueError(
                f"Cannot assign value to variable '{self._name}': Shape mismatch. The "
                f"variable shape {TensorShape(self._h.shape)}, and the assigned value "
                f"shape {TensorShape(t._h.shape)} are incompatible."
            )
        if t._be is not self._be:
            t = to_backend(t, self._be)
        self._h = t._h
        return self

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        with autodiff.no_record():
            return self.assign(M.add(self.value(), delta))

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        with autodiff.no_record():
            return self.assign(M.subtract(self.value(), delta))

    def __repr__(self):
        v = wrap(self._h, self._dtype, self._be)._repr_value()
        sep = "\n" if "\n" in v else ""
        return (
            f"<tf.Variable '{self._name}' shape={TensorShape(self._h.shape)} dtype={self._dtype.name}, numpy={sep}{v}>"
        )

    def __reduce__(self):
        return (_rebuild_variable, (self.tolist(), self._dtype.name, self._name, self._trainable))


def _rebuild_variable(value, dtype, name, trainable):
    return Variable(value, dtype=dtype, name=name.split(":")[0], trainable=trainable)


def is_tensor(x) -> bool:
    return isinstance(x, (Tensor, Variable))


def is_symbolic_tensor(x) -> bool:
    """``tf.is_symbolic_tensor``: True for a tensor of a ``tf.function`` trace (it has no value
    yet), False for an eager tensor, a variable or a non-tensor."""
    return isinstance(x, Tensor) and getattr(x._h, "symbolic", False)


def to_backend(t: Tensor, be) -> Tensor:
    """Copy a tensor to another backend (the implicit CPU<->GPU copy)."""
    if t._be is be:
        return t
    y = wrap(be.write(t._be.read(t._h), tuple(t._h.shape), t._dtype), t._dtype, be)
    if autodiff.tapes and t._dtype.kind == "f":  # a copy is differentiable: gradients go home
        home = t._be
        autodiff.record((t,), (y,), lambda dy, need: (to_backend(dy, home),))
    return y


# -- conversion ---------------------------------------------------------------------------


def _check_scalar(v, dt: D.DType, op: str):
    if dt.kind == "b":
        return bool(v)
    if isinstance(v, float) and dt.kind != "f":
        if not math.isfinite(v) or v != int(v):
            raise TypeError(f"{op}: cannot convert {v!r} to a tensor of dtype {dt.name}")
        v = int(v)
    if dt.kind in "iu" and not dt.min <= v <= dt.max:
        raise TypeError(f"{op}: cannot convert {v!r} to a tensor of dtype {dt.name} (out of range)")
    return v


def _infer_list_dtype(flat, op):
    kind = D.bool_
    big = False
    for v in flat:
        t = type(v)
        if t is bool:
            continue
        if t is int:
            kind = D.int32 if kind is D.bool_ else kind
            big = big or not -(2**31) <= v < 2**31
        elif t is float:
            return D.float32
        elif hasattr(v, "dtype") and hasattr(v, "item"):  # numpy scalar
            d = _numpy_dtype(v.dtype, op)
            if d.kind == "f":
                return D.float32
            kind = D.int32 if kind is D.bool_ else kind
        else:
            raise InvalidArgumentError(
                f"{op}: cannot convert {v!r} (type {t.__name__}) to a tensor; expected numbers or booleans"
            )
    return D.int64 if big and kind is D.int32 else kind


def _flatten_nested(value, op):
    """Nested Python sequences -> (flat list, shape); non-rectangular input is an error."""
    shape = []
    v = value
    while isinstance(v, (list, tuple)):
        shape.append(len(v))
        if not v:
            break
        v = v[0]
    flat = []
    _walk_nested(value, 0, shape, flat, op)
    return flat, tuple(shape)


def _walk_nested(x, depth, shape, flat, op):
    # module level, not a recursive closure: that would be a reference cycle holding the values
    if depth == len(shape):
        if isinstance(x, (list, tuple)):
            raise InvalidArgumentError(f"{op}: can't convert non-rectangular Python sequence to Tensor.")
        flat.append(x)
        return
    if not isinstance(x, (list, tuple)) or len(x) != shape[depth]:
        raise InvalidArgumentError(f"{op}: can't convert non-rectangular Python sequence to Tensor.")
    for y in x:
        _walk_nested(y, depth + 1, shape, flat, op)


def _numpy_dtype(npdt, op):
    try:
        return D.as_dtype(npdt.name)
    except TypeError:
        raise InvalidArgumentError(
            f"{op}: numpy dtype {npdt.name} is not supported; cast to one of {', '.join(d.name for d in D.ALL)}"
        ) from None


def _refuse_float_to_int(buf_dt: D.DType, want: D.DType, value, op):
    if buf_dt.kind == "f" and want.kind in "iu":
        raise TypeError(f"{op}: cannot convert a {buf_dt.name} array to dtype {want.name} implicitly; use tf.cast")


def _written(be, buf, shape: tuple, dt: D.DType) -> Tensor:
    """A new tensor of host bytes on ``be``; values ``be`` cannot hold (OverflowError: int64
    beyond a GPU's 32-bit storage) stay on the CPU backend, as float64 does."""
    try:
        return wrap(be.write(buf, shape, dt), dt, be)
    except OverflowError:
        from . import backends

        cpu = backends.cpu()
        if cpu is be:
            raise
        return wrap(cpu.write(buf, shape, dt), dt, cpu)


def _from_buffer(mv: memoryview, dt, want, be, op):
    shape = tuple(mv.shape)
    data = mv if mv.c_contiguous else memoryview(mv.tobytes())
    be = placement.for_dtype(be, dt) if be is not None else placement.creation_backend(dt)
    t = _written(be, data.cast("B") if data.ndim != 1 or data.format != "B" else data, shape, dt)
    if want is not None and want is not dt:
        from .ops import math as M

        _refuse_float_to_int(dt, want, None, op)
        t = M.cast(t, want)
    return t


def _numpy_types(np) -> tuple:
    """(ndarray, generic), or () while another thread is still importing numpy."""
    return (getattr(np, "ndarray", ()), getattr(np, "generic", ()))


def convert(
    value, dtype: D.DType | None = None, be=None, hint: D.DType | None = None, op: str = "convert_to_tensor"
) -> Tensor:
    """The one conversion: Tensor, Variable, Python scalars and nested lists, numpy
    arrays, buffer-protocol objects and HostArrays -> Tensor of ``dtype`` (if given)."""
    tp = type(value)
    if tp is Tensor:
        if dtype is not None and value._dtype is not dtype:
            raise InvalidArgumentError(
                f"{op}: tensor conversion requested dtype {dtype.name} for a "
                f"tensor of dtype {value._dtype.name} (shape {tuple(value._h.shape)})"
            )
        return value if be is None or value._be is be else to_backend(value, be)
    if tp is float or tp is int or tp is bool:
        dt = dtype or (hint if hint is not None and _fits(value, hint) else D.result_kind_of(value))
        v = _check_scalar(value, dt, op)
        be = placement.for_dtype(be, dt) if be is not None else placement.creation_backend(dt)
        try:
            return wrap(be.full((), v, dt), dt, be)
        except OverflowError:
            return _written(be, host.pack([v], dt), (), dt)
    if isinstance(value, (str, bytes)) or dtype is D.string:
        return _string_convert(value, dtype, be, op)
    if isinstance(value, Variable):
        return convert(value.value(), dtype, be, op=op)
    if isinstance(value, (list, tuple)):
        return _convert_sequence(value, dtype, be, hint, op)
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, _numpy_types(np)):
        arr = np.asarray(value)
        if arr.dtype.kind in "OSU":
            return _string_convert(arr, dtype, be, op)
        if arr.dtype.kind == "c":
            raise InvalidArgumentError(
                f"{op}: a complex array must first become a complex tensor "
                f"(tf.constant(...)): shape {arr.shape} {arr.dtype}"
            )
        if not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr)
        dt = _numpy_dtype(arr.dtype, op)
        if dtype is not None and dtype is not dt:
            _refuse_float_to_int(dt, dtype, value, op)
            arr, dt = arr.astype(dtype.name), dtype
        be = placement.for_dtype(be, dt) if be is not None else placement.creation_backend(dt)
        return _written(be, memoryview(arr.reshape(-1)).cast("B"), arr.shape, dt)
    if isinstance(value, host.HostArray):
        if value.dtype is D.string:
            return _string_convert(value, dtype, be, op)
        dt = value.dtype
        be = placement.for_dtype(be, dt) if be is not None else placement.creation_backend(dt)
        t = _written(be, value.buffer(), value.shape, dt)
        return t if dtype is None or dtype is dt else _cast_checked(t, dtype, op)
    if isinstance(value, TensorShape):
        return convert(value.as_list(), dtype or D.int32, be, op=op)
    if isinstance(value, (memoryview, bytearray)) or type(value).__name__ == "array":
        mv = memoryview(value)
        dt = D.from_format(mv.format, mv.itemsize)
        if dt is None:
            raise InvalidArgumentError(f"{op}: buffer format {mv.format!r} is not supported")
        return _from_buffer(mv, dt, dtype, be, op)
    if np is not None and hasattr(value, "__array__"):
        return convert(np.asarray(value), dtype, be, hint, op)
    if hasattr(value, "_as_tensor"):  # e.g. Keras symbolic values or layers' weights
        return convert(value._as_tensor(), dtype, be, hint, op)
    raise InvalidArgumentError(
        f"{op}: cannot convert {type(value).__name__} {value!r:.60} to a tensor; "
        f"expected numbers, nested lists of numbers, arrays or tensors"
    )


def _hs():
    from .backends import host_strings

    return host_strings


def _string_convert(value, dtype, be, op):
    """str/bytes values (scalars, nested lists, numpy str/bytes/object arrays) -> tf.string."""
    if dtype is not None and dtype is not D.string:
        raise TypeError(
            f"{op}: cannot convert {value!r:.60} to a tensor of dtype {dtype.name}; use tf.strings.to_number"
        )
    if isinstance(value, (Tensor, Variable)):
        return convert(value, None, be, op=op)
    if isinstance(value, host.HostArray):
        return _hs().string_tensor(list(value._flat), value.shape, op, be)
    if hasattr(value, "dtype") and hasattr(value, "reshape"):  # numpy array
        return _hs().string_tensor(value.reshape(-1).tolist(), tuple(value.shape), op, be)
    flat, shape = _flatten_nested(value, op) if isinstance(value, (list, tuple)) else ([value], ())
    return _hs().string_tensor(flat, shape, op, be)


def _cast_checked(t, dtype, op):
    from .ops import math as M

    _refuse_float_to_int(t._dtype, dtype, None, op)
    return M.cast(t, dtype)


def _fits(v, dt: D.DType) -> bool:
    if dt.kind == "f":
        return not isinstance(v, bool)
    if dt.kind in "iu":
        return isinstance(v, int) and not isinstance(v, bool) and dt.min <= v <= dt.max
    return isinstance(v, bool)


def _convert_sequence(value, dtype, be, hint, op):
    flat, shape = _flatten_nested(value, op)
    if dtype is None and flat and isinstance(flat[0], (str, bytes)):
        return _hs().string_tensor(flat, shape, op, be)
    if any(isinstance(v, (Tensor, Variable)) for v in flat) and len(shape) >= 1:
        from .ops import array

        return array.stack(
            [
                convert(v, dtype, be, hint, op) if not isinstance(v, (list, tuple)) else convert(v, dtype, be, hint, op)
                for v in value
            ]
        )
    if dtype is None:
        dt = _infer_list_dtype(flat, op)
        if hint is not None and all(_fits(v, hint) for v in flat):
            dt = hint
    else:
        dt = dtype
        if dt.kind in "iu":
            flat = [_check_scalar(v.item() if hasattr(v, "item") else v, dt, op) for v in flat]
    be = placement.for_dtype(be, dt) if be is not None else placement.creation_backend(dt)
    try:
        buf = host.pack(flat, dt)
    except (TypeError, ValueError, OverflowError) as e:
        raise InvalidArgumentError(f"{op}: cannot convert {value!r:.60} to dtype {dt.name}: {e}") from None
    return _written(be, buf, shape, dt)


def constant(value, dtype=None, shape=None, name=None) -> Tensor:
    """``tf.constant``: like convert_to_tensor, but casts numpy arrays to ``dtype`` and
    broadcasts a scalar to ``shape``."""
    dt = D.as_dtype(dtype) if dtype is not None else None
    if (dt is not None and dt.kind == "c") or _complex_value(value):
        from .complex import constant as complex_constant

        return complex_constant(value, dt)
    np = sys.modules.get("numpy")
    if dt is not None and np is not None and isinstance(value, _numpy_types(np)):
        value = np.asarray(value).astype(dt.name)
    if dt is not None and isinstance(value, (Tensor, Variable)):
        from .ops import math as M

        value = M.cast(value, dt)
    t = convert(value, dt, op="constant")
    if shape is not None:
        from .ops import array
        from .shape import as_shape_tuple

        shape = as_shape_tuple(shape)
        n = prod(t._h.shape)
        if n == prod(shape):
            t = array.reshape(t, shape)
        elif n == 1:
            t = array.broadcast_to(array.reshape(t, ()), shape)
        else:
            raise TypeError(f"constant: eager tensor of {n} elements cannot be reshaped to {shape}")
    return t


def _complex_value(value) -> bool:
    if type(value) in (float, int, bool, Tensor, str, bytes):
        return False
    from .complex import is_complex_value

    return is_complex_value(value)


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None) -> Tensor:
    if (dtype is not None and D.as_dtype(dtype).kind == "c") or _complex_value(value):
        from .complex import ComplexTensor, constant as complex_constant

        return value if isinstance(value, ComplexTensor) else complex_constant(value, dtype)
    return convert(
        value,
        D.as_dtype(dtype) if dtype is not None else None,
        hint=D.as_dtype(dtype_hint) if dtype_hint is not None else None,
    )


from .ops import array as A  # noqa: E402  (operators need the ops; ops need Tensor)
from .ops import linalg as LA  # noqa: E402
from .ops import math as M  # noqa: E402

bind_ops(M, LA)

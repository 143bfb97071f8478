"""The base of ``tf.RaggedTensor`` and ``tf.SparseTensor``, and how ops find one.

An op given a composite operand hands the call to that operand's ``_dispatch`` instead of
converting it to a Tensor (TF's op dispatch). The ops test ``type(x) is not Tensor``
first, so plain tensors pay nothing.
"""

from __future__ import annotations


class CompositeTensor:
    """A value made of component tensors (ragged splits and values; sparse indices, values, shape)."""

    __slots__ = ()

    def _dispatch(self, op, args: tuple, kwargs: dict):
        raise TypeError(f"{getattr(op, '__name__', op)}: {type(self).__name__} is not supported")


def composite_in(*xs):
    """The first composite operand among ``xs`` (looking one list level deep), or None."""
    for x in xs:
        if isinstance(x, CompositeTensor):
            return x
        if type(x) in (list, tuple):
            for v in x:
                if isinstance(v, CompositeTensor):
                    return v
    return None


# -- Python operators --------------------------------------------------------------------
# Tensor, RaggedTensor and ComplexTensor forward their operators to the core ops, which hand
# composite operands to their ``_dispatch``; so the forwarding is written once, here. These
# are plain mixins, not CompositeTensor: Tensor uses them too and must stay non-composite.
# The ops modules import Tensor, so tensor.py binds them here once they exist (bind_ops).

_m = _la = None


def bind_ops(math_module, linalg_module) -> None:
    """Called once by tensor.py after the ops modules load (they import Tensor, so it cannot
    be the other way round); the operator methods read these module globals directly, which
    costs Tensor's hot ``a + b`` no more than its own globals did."""
    global _m, _la
    _m, _la = math_module, linalg_module


class ArithmeticOps:
    """``+ - * / **``, unary ``-`` and ``abs()``: what every tensor-like value supports."""

    __slots__ = ()

    def __add__(self, o):
        return _m.add(self, o)

    def __radd__(self, o):
        return _m.add(o, self)

    def __sub__(self, o):
        return _m.subtract(self, o)

    def __rsub__(self, o):
        return _m.subtract(o, self)

    def __mul__(self, o):
        return _m.multiply(self, o)

    def __rmul__(self, o):
        return _m.multiply(o, self)

    def __truediv__(self, o):
        return _m.truediv(self, o)

    def __rtruediv__(self, o):
        return _m.truediv(o, self)

    def __pow__(self, o):
        return _m.pow(self, o)

    def __neg__(self):
        return _m.negative(self)

    def __abs__(self):
        return _m.abs(self)


class ElementwiseOps(ArithmeticOps):
    """The real-valued rest: ``// % ~ & |``, reflected ``**``, ordering, and ``== !=`` that
    answer False/True for operands that cannot be compared (TF 2's Tensor equality)."""

    __slots__ = ()

    def __rpow__(self, o):
        return _m.pow(o, self)

    def __floordiv__(self, o):
        return _m.floordiv(self, o)

    def __rfloordiv__(self, o):
        return _m.floordiv(o, self)

    def __mod__(self, o):
        return _m.mod(self, o)

    def __rmod__(self, o):
        return _m.mod(o, self)

    def __invert__(self):
        return _m.logical_not(self)

    def __and__(self, o):
        return _m.logical_and(self, o)

    def __rand__(self, o):
        return _m.logical_and(o, self)

    def __or__(self, o):
        return _m.logical_or(self, o)

    def __ror__(self, o):
        return _m.logical_or(o, self)

    def __lt__(self, o):
        return _m.less(self, o)

    def __le__(self, o):
        return _m.less_equal(self, o)

    def __gt__(self, o):
        return _m.greater(self, o)

    def __ge__(self, o):
        return _m.greater_equal(self, o)

    def __eq__(self, o):
        try:
            return _m.equal(self, o)
        except (TypeError, ValueError):  # incompatible operands compare unequal
            return False

    def __ne__(self, o):
        try:
            return _m.not_equal(self, o)
        except (TypeError, ValueError):
            return True

    __hash__ = None  # == is elementwise; use .ref() as a dict key


class MatmulOps:
    """``@`` for values with a matrix product (dense and complex)."""

    __slots__ = ()

    def __matmul__(self, o):
        return _la.matmul(self, o)

    def __rmatmul__(self, o):
        return _la.matmul(o, self)

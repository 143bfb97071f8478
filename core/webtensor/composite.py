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

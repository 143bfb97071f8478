"""``tf.function``: accepted as a decorator; the function runs eagerly.

Graph capture and kernel fusion are a later step; the decorator keeps the call
signature (``input_signature``, ``jit_compile``, ``reduce_retracing``) so code
written for TensorFlow runs unchanged.
"""
from __future__ import annotations

import functools


class Function:
    """A callable wrapper with TF's attributes; binds like a method on classes."""

    def __init__(self, fn, input_signature=None, jit_compile=None, reduce_retracing=False,
                 autograph=True, experimental_relax_shapes=None, name=None, **_ignored):
        self.python_function = fn
        self.input_signature = input_signature
        self.jit_compile = jit_compile
        self.reduce_retracing = reduce_retracing
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        return self.python_function(*args, **kwargs)

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self.__call__, obj)

    def get_concrete_function(self, *args, **kwargs):
        return self


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_relax_shapes=None, name=None, **kwargs):
    """``@tf.function`` or ``@tf.function(input_signature=..., jit_compile=...)``."""
    def wrap(fn):
        return Function(fn, input_signature, jit_compile, reduce_retracing, autograph,
                        experimental_relax_shapes, name)

    return wrap if func is None else wrap(func)

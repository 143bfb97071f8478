"""Merge layers: combine a list of inputs elementwise (with broadcasting) or by concatenation."""

from __future__ import annotations

from ...ops import array as A
from ...ops import math as M
from ..saving import register
from .layer import Layer


class _Merge(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or not input_shape
            or not isinstance(input_shape[0], (list, tuple))
        ):
            raise ValueError(f"A merge layer should be called on a list of inputs. Received: input_shape={input_shape}")
        if len(input_shape) < 1:
            raise ValueError("A merge layer should be called on a list of at least 1 input.")
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A merge layer should be called on a list of inputs. Received: {inputs!r:.80}")
        out = inputs[0]
        for x in inputs[1:]:
            out = self._merge(out, x)
        return self._finish(out, len(inputs))

    def _finish(self, out, n):
        return out

    def compute_mask(self, inputs, previous_mask=None):
        return None


@register("layers")
class Add(_Merge):
    def _merge(self, a, b):
        return a + b


@register("layers")
class Subtract(_Merge):
    def call(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: {len(inputs)} inputs")
        return inputs[0] - inputs[1]


@register("layers")
class Multiply(_Merge):
    def _merge(self, a, b):
        return a * b


@register("layers")
class Average(_Merge):
    def _merge(self, a, b):
        return a + b

    def _finish(self, out, n):
        return out / float(n)


@register("layers")
class Maximum(_Merge):
    def _merge(self, a, b):
        return M.maximum(a, b)


@register("layers")
class Minimum(_Merge):
    def _merge(self, a, b):
        return M.minimum(a, b)


@register("layers")
class Concatenate(_Merge):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape):
        super().build(input_shape)
        shapes = [tuple(s) for s in input_shape]
        ranks = {len(s) for s in shapes}
        ax = self.axis % len(shapes[0]) if shapes[0] else 0
        if len(ranks) != 1 or any(
            any(a != b and None not in (a, b) for i, (a, b) in enumerate(zip(s, shapes[0])) if i != ax) for s in shapes
        ):
            raise ValueError(
                f"A `Concatenate` layer requires inputs with matching shapes except for the concat "
                f"axis. Received: input_shape={[list(s) for s in shapes]}"
            )

    def call(self, inputs):
        return A.concat(list(inputs), self.axis)

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        ax = self.axis % len(shapes[0])
        sizes = [s[ax] for s in shapes]
        out = list(shapes[0])
        out[ax] = None if None in sizes else sum(sizes)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)

"""``tf.keras.activations``: activation functions by name, as Keras 3 defines them.

``softmax`` remembers its logits (as Keras's TF backend does with ``_keras_logits``),
so a crossentropy on softmax probabilities is computed from the logits: stabler,
and fewer ops per training step.
"""

from __future__ import annotations

import weakref

from .. import nn as _nn
from ..tensor import convert
from ..ops import math as M
from .saving import lookup, register

_LOGITS: dict = {}  # id(softmax output) -> (weakref to output, logits, axis)


def logits_of(probs, axis: int = -1):
    """The logits ``probs`` was computed from by ``softmax`` over ``axis``, else None."""
    entry = _LOGITS.get(id(probs))
    if entry is None or entry[0]() is not probs:
        return None
    rank = len(probs.shape)
    return entry[1] if entry[2] % rank == axis % rank else None


@register("activations")
def softmax(x, axis=-1):
    y = _nn.softmax(x, axis=axis)
    key = id(y)
    _LOGITS[key] = (weakref.ref(y, lambda _, k=key: _LOGITS.pop(k, None)), x, axis)
    return y


@register("activations")
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return _nn.relu(x)
    x = convert(x)
    if max_value is None and threshold == 0.0:
        return _nn.leaky_relu(x, alpha=negative_slope)
    neg = _nn.relu(threshold - x) if negative_slope != 0.0 else None
    y = M.where(M.greater(x, threshold), x, M.zero_fill(x)) if threshold != 0.0 else _nn.relu(x)
    if max_value is not None:
        y = M.clip_by_value(y, 0.0, float(max_value))
    return y if neg is None else y - neg * negative_slope


@register("activations")
def leaky_relu(x, negative_slope=0.2):
    return _nn.leaky_relu(x, alpha=negative_slope)


@register("activations")
def relu6(x):
    return _nn.relu6(x)


@register("activations")
def elu(x, alpha=1.0):
    y = _nn.elu(x)
    return y if alpha == 1.0 else M.where(M.greater(x, 0.0), y, y * alpha)


@register("activations")
def selu(x):
    return _nn.selu(x)


@register("activations")
def softplus(x):
    return M.softplus(x)


@register("activations")
def softsign(x):
    return x / (M.abs(x) + 1.0)


@register("activations", "swish")
def silu(x):
    return _nn.silu(x)


@register("activations")
def gelu(x, approximate=False):
    return _nn.gelu(x, approximate=approximate)


@register("activations")
def tanh(x):
    return M.tanh(x)


@register("activations")
def sigmoid(x):
    return M.sigmoid(x)


@register("activations")
def exponential(x):
    return M.exp(x)


@register("activations")
def hard_sigmoid(x):
    return _nn.relu6(x + 3.0) * (1.0 / 6.0)


@register("activations", "hard_swish")
def hard_silu(x):
    return x * hard_sigmoid(x)


@register("activations")
def log_sigmoid(x):
    return M.log_sigmoid(x)


@register("activations")
def linear(x):
    return x


@register("activations")
def mish(x):
    return x * M.tanh(M.softplus(x))


@register("activations")
def log_softmax(x, axis=-1):
    return _nn.log_softmax(x, axis=axis)


def serialize(activation) -> str:
    """The name a config stores for an activation function."""
    name = getattr(activation, "__name__", None)
    from .saving import _CUSTOM_NAMES

    if activation in _CUSTOM_NAMES:
        return _CUSTOM_NAMES[activation]
    if name is None or lookup_or_none(name) is not activation:
        raise ValueError(
            f"Unknown activation function {activation!r} cannot be serialized; register it "
            f"with tf.keras.saving.register_keras_serializable()"
        )
    return name


def lookup_or_none(name):
    try:
        return lookup("activations", name, "activation function")
    except ValueError:
        return None


def deserialize(config, custom_objects=None):
    from .saving import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects, kind="activations")


def bias_epilogue(fn):
    """The name ``ops.nn.bias_activation`` fuses when ``fn`` is Keras's own linear/relu/sigmoid/tanh
    (so Dense/Conv get one kernel), else ``fn`` itself, which is composed."""
    name = getattr(fn, "__name__", None)
    return name if name in ("linear", "relu", "sigmoid", "tanh") and globals().get(name) is fn else fn


def get(identifier):
    """None -> linear; a name -> the function (error lists the valid names); callables as is."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return lookup("activations", identifier, "activation function")
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")

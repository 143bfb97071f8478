"""MultiHeadAttention (Keras 3 weights and math) over (batch, time, features) inputs."""

from __future__ import annotations

import math

from ... import nn
from ...ops import array as A
from ...ops import linalg as LA
from ...ops import math as M
from .. import constraints, initializers, regularizers
from ..saving import register, serialize_keras_object as _ser
from .activation import Softmax
from .layer import Layer


class _Projection(Layer):
    """``einsum(equation, x, kernel) + bias``: the EinsumDense sublayers of attention."""

    def __init__(self, equation, kernel_shape, bias_shape, owner, **kwargs):
        super().__init__(**kwargs)
        self.equation, self.kernel_shape, self.bias_shape = equation, kernel_shape, bias_shape
        object.__setattr__(self, "_owner", owner)  # the parent: not a sublayer

    def build(self, input_shape=None):
        o = self._owner
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_shape,
            initializer=o.kernel_initializer.clone()
            if hasattr(o.kernel_initializer, "clone")
            else o.kernel_initializer,
            regularizer=o.kernel_regularizer,
            constraint=o.kernel_constraint,
        )
        self.bias = (
            self.add_weight(
                name="bias",
                shape=self.bias_shape,
                initializer=o.bias_initializer,
                regularizer=o.bias_regularizer,
                constraint=o.bias_constraint,
            )
            if o.use_bias
            else None
        )
        self.built = True

    def call(self, inputs):
        y = LA.einsum(self.equation, inputs, self.kernel)
        return y if self.bias is None else y + self.bias


@register("layers")
class MultiHeadAttention(Layer):
    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        seed=None,
        use_gate=False,
        sliding_window=None,
        flash_attention=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if use_gate or sliding_window is not None:
            raise ValueError("MultiHeadAttention: use_gate and sliding_window are not supported")
        if attention_axes not in (None, 1, (1,), [1]):
            raise ValueError(
                f"MultiHeadAttention: only attention over the time axis of rank-3 inputs is "
                f"supported, got attention_axes={attention_axes}"
            )
        self.num_heads, self.key_dim = num_heads, key_dim
        self.value_dim = value_dim if value_dim else key_dim
        self.dropout, self.use_bias = dropout, use_bias
        self._output_shape_arg = (output_shape,) if isinstance(output_shape, int) else output_shape
        self._attention_axes = None
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self.supports_masking = True
        self._softmax = Softmax(axis=-1, name="softmax", dtype=self.dtype)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = key_shape or value_shape
        for name, s in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(s) != 3:
                raise ValueError(f"MultiHeadAttention: {name} must be rank 3 (batch, time, features), got {s}")
        n, h, hv = self.num_heads, self.key_dim, self.value_dim
        out = self._output_shape_arg
        out_dim = query_shape[-1] if out is None else out[-1]
        self._attention_axes = (1,)

        def proj(equation, kernel, bias, name):
            return _Projection(equation, kernel, bias, self, name=name, dtype=self.dtype)

        self._query_dense = proj("abc,cde->abde", (query_shape[-1], n, h), (n, h), "query")
        self._key_dense = proj("abc,cde->abde", (key_shape[-1], n, h), (n, h), "key")
        self._value_dense = proj("abc,cde->abde", (value_shape[-1], n, hv), (n, hv), "value")
        self._output_dense = proj("abcd,cde->abe", (n, hv, out_dim), (out_dim,), "attention_output")
        for sub in (self._query_dense, self._key_dense, self._value_dense, self._output_dense):
            sub.build()
        self.built = True

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        key = value if key is None else key
        q = self._query_dense(query) * (1.0 / math.sqrt(float(self.key_dim)))
        k = self._key_dense(key)
        v = self._value_dense(value)
        scores = LA.einsum("aecd,abcd->acbe", k, q)
        mask = self._attention_mask(query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask)
        probs = self._softmax(scores, mask=None if mask is None else A.expand_dims(mask, 1))
        dropped = nn.dropout(probs, self.dropout, seed=self.seed) if training and self.dropout > 0 else probs
        out = self._output_dense(LA.einsum("acbe,aecd->abcd", dropped, v))
        return (out, probs) if return_attention_scores else out

    def _attention_mask(self, query, value, query_mask, value_mask, key_mask, attention_mask, causal):
        from .layer import get_keras_mask

        query_mask = query_mask if query_mask is not None else get_keras_mask(query)
        value_mask = value_mask if value_mask is not None else get_keras_mask(value)
        mask = None

        def both(a, b):
            return b if a is None else M.logical_and(a, b)

        if query_mask is not None:
            mask = both(mask, A.expand_dims(M.cast(query_mask, "bool"), -1))
        if value_mask is not None:
            mask = both(mask, A.expand_dims(M.cast(value_mask, "bool"), -2))
        if key_mask is not None:
            mask = both(mask, A.expand_dims(M.cast(key_mask, "bool"), -2))
        if causal:
            t, s = query.shape[1], value.shape[1]
            rows = A.reshape(A.range(t), (t, 1))
            mask = both(mask, A.expand_dims(M.greater_equal(rows, A.reshape(A.range(s), (1, s))), 0))
        if attention_mask is not None:
            mask = both(mask, M.cast(attention_mask, "bool"))
        if mask is not None:
            mask = A.broadcast_to(mask, (query.shape[0], query.shape[1], value.shape[1]))
        return mask

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        out = self._output_shape_arg
        return tuple(query_shape[:-1]) + ((query_shape[-1],) if out is None else tuple(out))

    def compute_output_spec(self, query, value, key=None, **kwargs):
        from .input_layer import KerasTensor

        out = KerasTensor(self.compute_output_shape(query.shape), self.dtype)
        if kwargs.get("return_attention_scores"):
            return out, KerasTensor((query.shape[0], self.num_heads, query.shape[1], value.shape[1]), self.dtype)
        return out

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "use_gate": False,
            "output_shape": list(self._output_shape_arg) if self._output_shape_arg is not None else None,
            "attention_axes": list(self._attention_axes) if self._attention_axes is not None else None,
            "sliding_window": None,
            "kernel_initializer": _ser(self.kernel_initializer),
            "bias_initializer": _ser(self.bias_initializer),
            "kernel_regularizer": _ser(self.kernel_regularizer),
            "bias_regularizer": _ser(self.bias_regularizer),
            "activity_regularizer": _ser(self.activity_regularizer),
            "kernel_constraint": _ser(self.kernel_constraint),
            "bias_constraint": _ser(self.bias_constraint),
            "seed": self.seed,
        }

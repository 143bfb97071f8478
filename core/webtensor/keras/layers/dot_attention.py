"""``Attention`` (Luong, dot or concat scores) and ``AdditiveAttention`` (Bahdanau): Keras 3's
``[query, value(, key)]`` layers with value/query masks, a causal mask and score dropout."""

from __future__ import annotations

from ... import nn
from ...ops import array as A
from ...ops import math as M
from ...ops.linalg import matmul
from ...ops.reduce import reduce_sum
from ..saving import register
from .layer import Layer


def _check(layer, inputs, mask=None) -> None:
    name = type(layer).__name__
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(
            f"{name} layer must be called on a list of inputs, namely [query, value] or "
            f"[query, value, key]. Received: inputs={inputs}."
        )
    if not 2 <= len(inputs) <= 3:
        raise ValueError(
            f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
            f"[query, value, key]. Received length: {len(inputs)}."
        )
    if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
        raise ValueError(f"{name} layer mask must be a list, namely [query_mask, value_mask]. Received: mask={mask}.")


def _bool(m):
    from ...tensor import convert, is_tensor

    m = m if is_tensor(m) else convert(m)
    return m if m.dtype.name == "bool" else M.cast(m, "bool")


@register("layers")
class Attention(Layer):
    """``softmax(scores(q, k)) @ v``; ``score_mode="dot"`` is ``q @ k^T`` (times a learned scalar with
    ``use_scale``), ``"concat"`` is ``w * sum(tanh(scale * (q + k)))``."""

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                f"Invalid value for argument score_mode. Expected one of {{'dot', 'concat'}}. "
                f"Received: score_mode={score_mode}"
            )
        self.use_scale, self.score_mode, self.dropout, self.seed = use_scale, score_mode, dropout, seed
        self.supports_masking = True

    def build(self, input_shape):
        _check(self, input_shape)
        self.scale = self.add_weight(name="scale", shape=(), initializer="ones") if self.use_scale else None
        self.concat_score_weight = (
            self.add_weight(name="concat_score_weight", shape=(), initializer="ones")
            if self.score_mode == "concat"
            else None
        )

    def scores(self, q, k):
        if self.score_mode == "dot":
            s = matmul(q, k, transpose_b=True)
            return s * self.scale if self.scale is not None else s
        t = A.expand_dims(q, -2) + A.expand_dims(k, -3)
        if self.scale is not None:
            t = self.scale * t
        return self.concat_score_weight * reduce_sum(M.tanh(t), axis=-1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        _check(self, inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        scores = self.scores(q, k)
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        keep = None if v_mask is None else A.expand_dims(_bool(v_mask), -2)
        if use_causal_mask:
            tq, tv = scores.shape[-2], scores.shape[-1]
            causal = _bool([[j <= i for j in range(tv)] for i in range(tq)])
            keep = causal if keep is None else keep & causal
        if keep is not None:
            scores = M.where(keep, scores, scores - 1.0e9)
        weights = nn.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            weights = nn.dropout(weights, self.dropout, seed=self.seed)
        out = matmul(weights, v)
        if q_mask is not None:
            out = M.where(A.expand_dims(_bool(q_mask), -1), out, A.zeros_like(out))
        return (out, weights) if return_attention_scores else out

    def compute_mask(self, inputs, mask=None):
        return None if mask is None or mask[0] is None else _bool(mask[0])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def get_config(self):
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }


@register("layers")
class AdditiveAttention(Attention):
    """Scores ``sum(scale * tanh(q + k), -1)`` with a learned ``scale`` per feature."""

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        _check(self, input_shape)
        self.scale = (
            self.add_weight(name="scale", shape=(input_shape[0][-1],), initializer="glorot_uniform")
            if self.use_scale
            else None
        )

    def scores(self, q, k):
        t = M.tanh(A.expand_dims(q, -2) + A.expand_dims(k, -3))
        return reduce_sum(self.scale * t if self.scale is not None else t, axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config

"""``ConvLSTM2D``: an LSTM whose input and recurrent transforms are 2-D convolutions, over
``(batch, time, rows, cols, channels)``. Keras 3's cell math and weights (``kernel``,
``recurrent_kernel``, ``bias`` of a ``conv_lstm_cell``, gates in the order i, f, c, o; the
recurrent convolution is always 'same' with stride 1)."""

from __future__ import annotations

from ... import nn
from ...ops import array as A
from ...ops import math as M
from .. import activations, constraints, initializers, regularizers
from ..saving import register, serialize_keras_object as _ser
from .conv import _tuple, conv_output_length
from .core import _channels_last
from .layer import InputSpec, Layer


class ConvLSTMCell(Layer):
    """Holds the weights; ``step`` is one time step."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides,
        padding,
        dilation_rate,
        activation,
        recurrent_activation,
        use_bias,
        kernel_initializer,
        recurrent_initializer,
        bias_initializer,
        unit_forget_bias,
        kernel_regularizer,
        recurrent_regularizer,
        bias_regularizer,
        kernel_constraint,
        recurrent_constraint,
        bias_constraint,
        dropout,
        recurrent_dropout,
        seed,
        name="conv_lstm_cell",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.filters, self.kernel_size, self.strides = filters, kernel_size, strides
        self.padding, self.dilation_rate = padding, dilation_rate
        self.activation, self.recurrent_activation = activation, recurrent_activation
        self.use_bias, self.unit_forget_bias = use_bias, unit_forget_bias
        self.kernel_initializer, self.recurrent_initializer = kernel_initializer, recurrent_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer, self.recurrent_regularizer = kernel_regularizer, recurrent_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint, self.recurrent_constraint = kernel_constraint, recurrent_constraint
        self.bias_constraint = bias_constraint
        self.dropout, self.recurrent_dropout, self.seed = dropout, recurrent_dropout, seed

    def build(self, input_shape):
        c, f = input_shape[-1], self.filters
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (c, 4 * f),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=self.kernel_size + (f, 4 * f),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            base = self.bias_initializer
            init = base
            if self.unit_forget_bias:

                def init(shape, dtype=None):
                    return A.concat([base((f,), dtype), A.ones((f,), dtype), base((2 * f,), dtype)], 0)

            self.bias = self.add_weight(
                name="bias",
                shape=(4 * f,),
                initializer=init,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None

    def step(self, x, h, c, in_masks=None, rec_masks=None):
        pad = "SAME" if self.padding == "same" else "VALID"
        if in_masks is None:
            zx = nn.conv2d(x, self.kernel, self.strides, pad, dilations=self.dilation_rate)
        else:
            ks = A.split(self.kernel, 4, axis=3)
            zx = A.concat(
                [nn.conv2d(x * m, k, self.strides, pad, dilations=self.dilation_rate) for m, k in zip(in_masks, ks)],
                axis=-1,
            )
        if self.bias is not None:
            zx = zx + self.bias
        if rec_masks is None:
            zh = nn.conv2d(h, self.recurrent_kernel, 1, "SAME")
        else:
            ks = A.split(self.recurrent_kernel, 4, axis=3)
            zh = A.concat([nn.conv2d(h * m, k, 1, "SAME") for m, k in zip(rec_masks, ks)], axis=-1)
        zi, zf, zc, zo = A.split(zx + zh, 4, axis=-1)
        i, f, o = self.recurrent_activation(zi), self.recurrent_activation(zf), self.recurrent_activation(zo)
        c = f * c + i * self.activation(zc)
        return o * self.activation(c), c


@register("layers")
class ConvLSTM2D(Layer):
    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        _channels_last(data_format)
        if stateful:
            raise ValueError("ConvLSTM2D(stateful=True) is not supported")
        padding = padding.lower()
        if padding not in ("valid", "same"):
            raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: padding={padding}")
        strides, dilation = _tuple(strides, 2, "strides"), _tuple(dilation_rate, 2, "dilation_rate")
        if max(strides) > 1 and max(dilation) > 1:
            raise ValueError(
                f"Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Received: "
                f"strides={strides} and dilation_rate={dilation}"
            )
        self.cell = ConvLSTMCell(
            int(filters),
            _tuple(kernel_size, 2, "kernel_size"),
            strides,
            padding,
            dilation,
            activations.get(activation),
            activations.get(recurrent_activation),
            use_bias,
            initializers.get(kernel_initializer),
            initializers.get(recurrent_initializer),
            initializers.get(bias_initializer),
            unit_forget_bias,
            regularizers.get(kernel_regularizer),
            regularizers.get(recurrent_regularizer),
            regularizers.get(bias_regularizer),
            constraints.get(kernel_constraint),
            constraints.get(recurrent_constraint),
            constraints.get(bias_constraint),
            min(1.0, max(0.0, dropout)),
            min(1.0, max(0.0, recurrent_dropout)),
            seed,
            dtype=self.dtype,
        )
        self.return_sequences, self.return_state, self.go_backwards = return_sequences, return_state, go_backwards
        self.unroll = unroll
        self.input_spec = InputSpec(ndim=5)

    def build(self, sequences_shape, initial_state_shape=None):
        if None in tuple(sequences_shape[2:4]) or sequences_shape[-1] is None:
            raise ValueError(
                f"ConvLSTM layers only support static input shapes for the spatial dimension. "
                f"Received invalid input shape: input_shape={sequences_shape}"
            )
        self.cell.build((sequences_shape[0],) + tuple(sequences_shape[2:]))

    def _state_shape(self, shape) -> tuple:
        c = self.cell
        rows, cols = (
            conv_output_length(n, k, c.padding, s, d)
            for n, k, s, d in zip(shape[2:4], c.kernel_size, c.strides, c.dilation_rate)
        )
        return rows, cols, c.filters

    def call(self, sequences, initial_state=None, mask=None, training=False):
        c = self.cell
        b, steps = sequences.shape[0], sequences.shape[1]
        if initial_state is None:
            h = st = A.zeros((b,) + self._state_shape(tuple(sequences.shape)), sequences.dtype)
        else:
            h, st = initial_state
        in_masks = rec_masks = None
        if training and 0 < c.dropout < 1:
            ones = A.ones(tuple(sequences.shape[:1]) + tuple(sequences.shape[2:]), sequences.dtype)
            in_masks = [nn.dropout(ones, c.dropout, seed=c.seed) for _ in range(4)]
        if training and 0 < c.recurrent_dropout < 1:
            ones = A.ones_like(h)
            rec_masks = [nn.dropout(ones, c.recurrent_dropout, seed=c.seed) for _ in range(4)]
        outputs = []
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        for t in order:
            h_new, st_new = c.step(sequences[:, t], h, st, in_masks, rec_masks)
            if mask is not None:
                keep = A.reshape(M.cast(mask[:, t], h.dtype), (b, 1, 1, 1))
                h_new, st_new = keep * h_new + (1.0 - keep) * h, keep * st_new + (1.0 - keep) * st
            h, st = h_new, st_new
            outputs.append(h)
        out = A.stack(outputs, axis=1) if self.return_sequences else h
        return [out, h, st] if self.return_state else out

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        state = (sequences_shape[0],) + self._state_shape(tuple(sequences_shape))
        out = (state[0], sequences_shape[1]) + state[1:] if self.return_sequences else state
        return [out, state, state] if self.return_state else out

    def get_config(self):
        c = self.cell
        return {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": False,
            "unroll": self.unroll,
            "zero_output_for_mask": False,
            "filters": c.filters,
            "kernel_size": list(c.kernel_size),
            "strides": list(c.strides),
            "padding": c.padding,
            "data_format": "channels_last",
            "dilation_rate": list(c.dilation_rate),
            "activation": activations.serialize(c.activation),
            "recurrent_activation": activations.serialize(c.recurrent_activation),
            "use_bias": c.use_bias,
            "kernel_initializer": _ser(c.kernel_initializer),
            "recurrent_initializer": _ser(c.recurrent_initializer),
            "bias_initializer": _ser(c.bias_initializer),
            "unit_forget_bias": c.unit_forget_bias,
            "kernel_regularizer": _ser(c.kernel_regularizer),
            "recurrent_regularizer": _ser(c.recurrent_regularizer),
            "bias_regularizer": _ser(c.bias_regularizer),
            "activity_regularizer": _ser(self.activity_regularizer),
            "kernel_constraint": _ser(c.kernel_constraint),
            "recurrent_constraint": _ser(c.recurrent_constraint),
            "bias_constraint": _ser(c.bias_constraint),
            "dropout": c.dropout,
            "recurrent_dropout": c.recurrent_dropout,
            "seed": c.seed,
        }

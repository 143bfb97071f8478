"""Recurrent layers: SimpleRNN, LSTM, GRU (cells + the RNN time loop) and Bidirectional.

The input projection ``x @ kernel + bias`` of every time step is one matmul over the
whole sequence; each step then does only the recurrent matmul and the gate math.
"""

from __future__ import annotations

from ... import nn
from ...ops import array as A
from ...ops import linalg as LA
from ...ops import math as M
from .. import activations, constraints, initializers, regularizers
from ..backend import to_snake_case
from ..saving import deserialize_keras_object, register, serialize_keras_object as _ser
from ...ragged.tensor import RaggedTensor
from .layer import InputSpec, Layer
from .ragged_support import from_padded, padded_and_mask, reverse_rows

_CELL_ARGS = (
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
)


class _Cell(Layer):
    """Shared cell state: weights, activations, dropout masks. Subclasses define ``gates``
    (columns of the kernel), ``_step`` and ``state_size``."""

    gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if units <= 0:
            raise ValueError(
                f"Received an invalid value for argument `units`, expected a positive integer, got {units}."
            )
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        for name in ("kernel_initializer", "recurrent_initializer", "bias_initializer"):
            setattr(self, name, initializers.get(locals()[name]))
        for name in ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer"):
            setattr(self, name, regularizers.get(locals()[name]))
        for name in ("kernel_constraint", "recurrent_constraint", "bias_constraint"):
            setattr(self, name, constraints.get(locals()[name]))
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.seed = seed

    def _bias_init(self):
        return self.bias_initializer

    def _bias_shape(self):
        return (self.gates * self.units,)

    def build(self, input_shape):
        g = self.gates * self.units
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], g),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, g),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = (
            self.add_weight(
                name="bias",
                shape=self._bias_shape(),
                initializer=self._bias_init(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
            if self.use_bias
            else None
        )
        self.built = True

    def _input_bias(self):
        return self.bias

    def project(self, x, training=False):
        """x [..., features] -> x @ kernel + input bias (all time steps at once)."""
        if training and 0.0 < self.dropout < 1.0:
            keep = nn.dropout(A.ones_like(x[:, 0] if len(x.shape) == 3 else x), self.dropout, seed=self.seed)
            x = x * (A.expand_dims(keep, 1) if len(x.shape) == 3 else keep)
        p = LA.matmul(x, self.kernel)
        b = self._input_bias()
        return p if b is None else p + b

    def recurrent_mask(self, h, training):
        if training and 0.0 < self.recurrent_dropout < 1.0:
            return nn.dropout(A.ones_like(h), self.recurrent_dropout, seed=self.seed)
        return None

    def get_initial_state(self, batch_size):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [A.zeros((batch_size, s), self.dtype) for s in sizes]

    def call(self, inputs, states, training=False):
        """One step on raw inputs (the cell API); returns (output, new_states)."""
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        rmask = self.recurrent_mask(states[0], training)
        return self._step(self.project(inputs, training), states, rmask)

    def get_config(self):
        c = {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation)}
        if self.gates > 1:
            c["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        c["use_bias"] = self.use_bias
        c.update({k: _ser(getattr(self, k)) for k in _CELL_ARGS})
        c.update({"dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed})
        return c


@register("layers")
class SimpleRNNCell(_Cell):
    gates = 1

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)

    state_size = property(lambda self: self.units)
    output_size = property(lambda self: self.units)

    def _step(self, xp, states, rmask):
        h = states[0] if rmask is None else states[0] * rmask
        out = self.activation(xp + LA.matmul(h, self.recurrent_kernel))
        return out, [out]


@register("layers")
class LSTMCell(_Cell):
    gates = 4

    def __init__(
        self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True, unit_forget_bias=True, **kwargs
    ):
        super().__init__(
            units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias, **kwargs
        )
        self.unit_forget_bias = unit_forget_bias

    state_size = property(lambda self: [self.units, self.units])
    output_size = property(lambda self: self.units)

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        u, base = self.units, self.bias_initializer

        def init(shape, dtype=None):
            return A.concat([base((u,), dtype), A.ones((u,), dtype), base((2 * u,), dtype)], 0)

        return init

    def _step(self, xp, states, rmask):
        h, c = states
        if rmask is not None:
            h = h * rmask
        z = xp + LA.matmul(h, self.recurrent_kernel)
        zi, zf, zc, zo = A.split(z, 4, axis=-1)
        i, f, o = self.recurrent_activation(zi), self.recurrent_activation(zf), self.recurrent_activation(zo)
        c = f * c + i * self.activation(zc)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        c = super().get_config()
        c["unit_forget_bias"] = self.unit_forget_bias
        return c


@register("layers")
class GRUCell(_Cell):
    gates = 3

    def __init__(
        self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True, reset_after=True, **kwargs
    ):
        super().__init__(
            units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias, **kwargs
        )
        self.reset_after = reset_after

    state_size = property(lambda self: self.units)
    output_size = property(lambda self: self.units)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self):
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def _step(self, xp, states, rmask):
        h = states[0]
        hm = h if rmask is None else h * rmask
        u = self.units
        x_z, x_r, x_h = A.split(xp, 3, axis=-1)
        if self.reset_after:
            inner = LA.matmul(hm, self.recurrent_kernel)
            if self.bias is not None:
                inner = inner + self.bias[1]
            r_z, r_r, r_h = A.split(inner, 3, axis=-1)
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            rh = r * r_h
        else:
            inner = LA.matmul(hm, self.recurrent_kernel[:, : 2 * u])
            r_z, r_r = A.split(inner, 2, axis=-1)
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            rh = LA.matmul(r * hm, self.recurrent_kernel[:, 2 * u :])
        hh = self.activation(x_h + rh)
        out = z * h + (1.0 - z) * hh
        return out, [out]

    def get_config(self):
        c = super().get_config()
        c["reset_after"] = self.reset_after
        return c


@register("layers")
class RNN(Layer):
    """Runs ``cell`` over the time axis of (batch, time, features) inputs."""

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if stateful:
            raise ValueError("stateful=True RNNs are not supported; pass initial_state instead")
        if isinstance(cell, (list, tuple)):
            raise ValueError("RNN over a list of cells (StackedRNNCells) is not supported; stack RNN layers")
        self.cell = cell
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.stateful, self.unroll = go_backwards, stateful, unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)

    def build(self, sequences_shape, initial_state_shape=None):
        if not self.cell.built:
            self.cell.build((sequences_shape[0], sequences_shape[-1]))
        self.built = True

    def call(self, sequences, initial_state=None, mask=None, training=False):
        lengths = None
        if isinstance(sequences, RaggedTensor):  # as tf.keras: padded, masked by the row lengths
            if self.go_backwards:
                sequences = reverse_rows(sequences)  # each row read backwards, as alone
            sequences, mask, lengths = padded_and_mask(sequences)
        cell = self.cell
        n, t = sequences.shape[0], sequences.shape[1]
        if initial_state is None:
            states = cell.get_initial_state(n)
        else:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        fast = isinstance(cell, _Cell)
        steps = A.unstack(cell.project(sequences, training) if fast else sequences, axis=1)
        masks = A.unstack(mask, axis=1) if mask is not None else None
        order = range(t - 1, -1, -1) if self.go_backwards and lengths is None else range(t)
        rmask = cell.recurrent_mask(states[0], training) if fast else None
        outputs, out = [], None
        for i in order:
            if fast:
                out, new = cell._step(steps[i], states, rmask)
            else:
                out, new = cell(steps[i], states, training=training)
                new = list(new) if isinstance(new, (list, tuple)) else [new]
            if masks is not None:
                m = A.expand_dims(masks[i], -1)
                new = [M.where(m, a, b) for a, b in zip(new, states)]
                prev = outputs[-1] if outputs else A.zeros_like(out)
                out = M.where(m, out, A.zeros_like(out) if self.zero_output_for_mask else prev)
            states = new
            outputs.append(out)
        y = A.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        if lengths is not None and self.return_sequences:
            y = from_padded(y, lengths)
        return [y] + list(states) if self.return_state else y

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask if self.return_sequences else None

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        """A pure shape rule, so symbolic calls (and building a model from a file) never run
        the cell over the time axis, whose length a file chooses."""
        sizes = self.cell.state_size if isinstance(self.cell.state_size, (list, tuple)) else [self.cell.state_size]
        u = getattr(self.cell, "output_size", sizes[0])  # Keras: a cell without output_size outputs state 0
        y = (sequences_shape[0], sequences_shape[1], u) if self.return_sequences else (sequences_shape[0], u)
        if not self.return_state:
            return y
        return [y] + [(sequences_shape[0], s) for s in sizes]

    def get_config(self):
        return {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    def _rnn_config(self):
        return {k: v for k, v in RNN.get_config(self).items()}


class _CellRNN(RNN):
    """SimpleRNN/LSTM/GRU: an RNN whose cell is built from the layer's own arguments."""

    cell_class = None

    def __init__(
        self,
        units,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        base = {
            k: kwargs.pop(k)
            for k in (
                "name",
                "dtype",
                "trainable",
                "input_shape",
                "batch_input_shape",
                "input_dim",
                "batch_size",
                "activity_regularizer",
            )
            if k in kwargs
        }
        cell_name = to_snake_case(self.cell_class.__name__)
        cell = self.cell_class(units, name=cell_name, dtype=base.get("dtype"), **kwargs)
        super().__init__(
            cell, return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask, **base
        )

    def __getattr__(self, name):
        cell = self.__dict__.get("cell")
        if cell is not None and not name.startswith("_"):
            return getattr(cell, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get_config(self):
        c = {k: v for k, v in Layer.get_config(self).items()}
        c.update(self._rnn_config())
        cell = self.cell.get_config()
        for k in ("name", "trainable", "dtype"):
            cell.pop(k, None)
        c.update(cell)
        c["activity_regularizer"] = _ser(self.activity_regularizer)
        if isinstance(self.cell, SimpleRNNCell):
            c.pop("seed", None)
        order = [
            "name",
            "trainable",
            "dtype",
            "return_sequences",
            "return_state",
            "go_backwards",
            "stateful",
            "unroll",
            "zero_output_for_mask",
            "units",
            "activation",
            "recurrent_activation",
            "use_bias",
        ]
        return {**{k: c[k] for k in order if k in c}, **{k: v for k, v in c.items() if k not in order}}


@register("layers")
class SimpleRNN(_CellRNN):
    cell_class = SimpleRNNCell


@register("layers")
class LSTM(_CellRNN):
    cell_class = LSTMCell


@register("layers")
class GRU(_CellRNN):
    cell_class = GRUCell


@register("layers")
class Bidirectional(Layer):
    """Run ``layer`` forwards and a copy backwards over time; merge their outputs."""

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        if merge_mode not in ("sum", "mul", "ave", "concat", None):
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                f'{{"sum", "mul", "ave", "concat", None}}'
            )
        config = _ser(layer)
        config["config"]["name"] = "forward_" + _strip(layer.name, "forward_")
        self.forward_layer = deserialize_keras_object(config)
        if backward_layer is None:
            config = _ser(layer)
            config["config"]["go_backwards"] = not layer.go_backwards
            config["config"]["name"] = "backward_" + _strip(layer.name, "backward_")
            backward_layer = deserialize_keras_object(config)
        self.backward_layer = backward_layer
        if layer.return_sequences:  # Keras zeroes masked steps of both directions so they line up
            self.forward_layer.zero_output_for_mask = self.backward_layer.zero_output_for_mask = True
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self._initial_weights = weights

    def build(self, sequences_shape, initial_state_shape=None):
        for sub in (self.forward_layer, self.backward_layer):
            sub.build(sequences_shape)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
        self.built = True

    def call(self, sequences, initial_state=None, mask=None, training=False):
        fw_state = bw_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fw_state, bw_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(sequences, initial_state=fw_state, mask=mask, training=training)
        yb = self.backward_layer(sequences, initial_state=bw_state, mask=mask, training=training)
        if self.return_state:
            states = list(y[1:]) + list(yb[1:])
            y, yb = y[0], yb[0]
        if self.return_sequences:
            yb = A.reverse(yb, [1])
        if self.merge_mode == "concat":
            out = A.concat([y, yb], -1)
        elif self.merge_mode == "sum":
            out = y + yb
        elif self.merge_mode == "ave":
            out = (y + yb) * 0.5
        elif self.merge_mode == "mul":
            out = y * yb
        else:
            out = [y, yb]
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states
        return out

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask if self.return_sequences else None

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        """From the two layers' shape rules: no probe runs either direction over time."""
        fw = self.forward_layer.compute_output_shape(sequences_shape)
        bw = self.backward_layer.compute_output_shape(sequences_shape)
        states = []
        if self.return_state:
            states = [tuple(s) for s in fw[1:]] + [tuple(s) for s in bw[1:]]
            fw, bw = fw[0], bw[0]
        fw, bw = tuple(fw), tuple(bw)
        if self.merge_mode is None:
            out = [fw, bw]
        elif self.merge_mode == "concat":
            last = None if fw[-1] is None or bw[-1] is None else fw[-1] + bw[-1]
            out = [fw[:-1] + (last,)]
        else:
            out = [fw]
        if self.return_state:
            return out + states
        return out if self.merge_mode is None else out[0]

    def get_config(self):
        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": _ser(self.forward_layer),
            "backward_layer": _ser(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = deserialize_keras_object(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_keras_object(config["backward_layer"])
        return cls(**config)


def _strip(name, prefix):
    return name[len(prefix) :] if name.startswith(prefix) else name

"""Symbolic values of the functional API: ``KerasTensor``, the ``Node`` recording one
layer call, and ``Input``/``InputLayer`` where a graph starts."""

from __future__ import annotations

from ... import nest
from ... import dtypes as D
from ...shape import as_int
from .. import backend
from ..saving import register
from .layer import Layer


class KerasTensor:
    """A symbolic tensor: a shape (None = unknown), a dtype, and the call that made it."""

    def __init__(self, shape, dtype="float32", sparse: bool = False, name: str | None = None, ragged: bool = False):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = D.as_dtype(dtype)
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self.name = name or backend.unique_name("keras_tensor")
        self._keras_history = None
        self._pre_history = None

    ndim = property(lambda self: len(self.shape))

    @property
    def ragged_rank(self) -> int:
        """Ragged dims of a ragged KerasTensor: the leading None dims after the batch."""
        from .ragged_support import ragged_rank_of

        return ragged_rank_of(self.shape) if self.ragged else 0

    def __repr__(self):
        flags = ", ragged=True" if self.ragged else ""
        return (
            f"<KerasTensor shape={self.shape}, dtype={self.dtype.name}, sparse={self.sparse}{flags}, name={self.name}>"
        )

    def _as_tensor(self):
        raise TypeError(
            f"{self!r} is symbolic: it has no value. Pass it to Keras layers to build a "
            f"functional model, then call the model on real data."
        )

    def __array__(self, *a, **k):
        self._as_tensor()

    def __len__(self):
        raise TypeError(f"{self!r} is symbolic: its length is not known until the model runs")

    def __bool__(self):
        raise TypeError(f"{self!r} is symbolic: it has no truth value")

    def _binary(self, other, cls):
        from . import merge

        if not isinstance(other, KerasTensor):
            raise TypeError(
                f"Operators on KerasTensors need two KerasTensors (they become {cls} layers); "
                f"got {type(other).__name__}. Use a layer such as Rescaling for constants."
            )
        return getattr(merge, cls)()([self, other])

    def __add__(self, other):
        return self._binary(other, "Add")

    def __sub__(self, other):
        return self._binary(other, "Subtract")

    def __mul__(self, other):
        return self._binary(other, "Multiply")


class Node:
    """One call of ``operation`` in a functional graph: its arguments and output KerasTensors."""

    def __init__(self, operation, call_args=(), call_kwargs=None, outputs=None):
        self.operation = operation
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs = outputs
        flat_in = nest.flatten((list(self.call_args), self.call_kwargs))
        self.input_tensors = [x for x in flat_in if isinstance(x, KerasTensor)]
        self.output_tensors = [x for x in nest.flatten(outputs) if isinstance(x, KerasTensor)]
        self.is_input = not self.input_tensors
        index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for i, t in enumerate(self.output_tensors):
            t._keras_history = (operation, index, i)

    @property
    def parent_nodes(self) -> list:
        out = []
        for t in self.input_tensors:
            op, index, _ = t._keras_history
            out.append(op._inbound_nodes[index])
        return out


def _checked_batch_shape(batch_shape) -> tuple:
    """Dims None or ints >= 0: Input(shape=(-3,)) was accepted and failed later, or not at all."""
    dims = tuple(None if d is None else as_int(d, "Input", "shape") for d in batch_shape)
    if any(d is not None and d < 0 for d in dims):
        raise ValueError(f"Input: every dimension of the shape must be None or >= 0; received batch shape {dims}")
    return dims


@register("layers")
class InputLayer(Layer):
    """The start of a functional graph; ``output`` is its KerasTensor."""

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        sparse=None,
        batch_shape=None,
        input_tensor=None,
        optional: bool = False,
        name: str | None = None,
        ragged=None,
        **kwargs,
    ):
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        super().__init__(name=name or backend.unique_name("input_layer"), dtype=dtype, **kwargs)
        if input_tensor is not None:
            if not isinstance(input_tensor, KerasTensor):
                raise ValueError(f"Argument `input_tensor` must be a KerasTensor, got {input_tensor!r}")
            batch_shape = input_tensor.shape
        if shape is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
        if batch_shape is None:
            if shape is None:
                raise ValueError("You must pass a `shape` argument.")
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size,) + shape
        self._batch_shape = _checked_batch_shape(batch_shape)
        if input_tensor is not None:
            sparse, ragged = sparse or input_tensor.sparse, ragged or input_tensor.ragged
        self.sparse, self.ragged = bool(sparse), bool(ragged)
        if self.sparse and self.ragged:
            raise ValueError("Input: only one of `ragged` and `sparse` can be True (TF's rule); got both")
        if self.ragged:
            from .ragged_support import ragged_rank_of

            if len(self._batch_shape) < 2:
                raise ValueError(
                    f"Input(ragged=True) needs a shape of rank >= 1 besides the batch, with the "
                    f"ragged dims None; got batch shape {self._batch_shape}"
                )
            ragged_rank_of(self._batch_shape)
        self._eager_only = self.sparse or self.ragged  # row partitions would retrace every batch
        self.optional = optional
        self.output = input_tensor or KerasTensor(
            self._batch_shape, self.dtype, sparse=self.sparse, ragged=self.ragged, name=self.name
        )
        Node(self, (), {}, self.output)
        self.built = True

    batch_shape = property(lambda self: self._batch_shape)

    def call(self, inputs=None):
        return inputs

    def get_config(self):
        return {
            "batch_shape": list(self._batch_shape),
            "dtype": self.dtype.name,
            "sparse": self.sparse,
            "ragged": self.ragged,
            "name": self.name,
            "optional": self.optional,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def Input(
    shape=None,
    batch_size=None,
    dtype=None,
    sparse=None,
    batch_shape=None,
    name=None,
    tensor=None,
    optional: bool = False,
    ragged=None,
) -> KerasTensor:
    """``tf.keras.Input(shape=(64,))``: a symbolic batch of inputs (batch dimension None).
    ``ragged=True`` (TF 2's tf.keras; Keras 3 rejects it) or ``sparse=True``: the model takes
    RaggedTensor / SparseTensor values there."""
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        batch_shape=batch_shape,
        name=name,
        input_tensor=tensor,
        optional=optional,
        ragged=ragged,
    )
    return layer.output

"""Where elements come from: tensors (sliced or whole), an integer range, a Python generator.

The first three are random-access *sources*: ``element(i)`` for one element and
``gather(indices)`` for a whole batch, so a shuffled, repeated, batched pipeline
costs one slice or gather per component per batch.
"""

from __future__ import annotations

import array
import builtins

from .. import nest
from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..ops import array as A
from ..shape import TensorShape
from ..spec import TensorSpec
from ..tensor import Tensor, convert, is_tensor
from . import structure as S
from .dataset import Dataset


class _Source(Dataset):
    """A dataset that is its own random-access source, read in order 0..n-1."""

    _n = 0

    def _source(self):
        return self

    def _indices(self):
        return iter(builtins.range(self._n))

    def _card(self) -> int:
        return self._n


def _is_run(idx: list) -> bool:
    """True when the indices are consecutive and increasing (a slice serves them)."""
    a = idx[0]
    return idx[-1] - a + 1 == len(idx) and idx == list(builtins.range(a, a + len(idx)))


class TensorSliceDataset(_Source):
    """``from_tensor_slices``: element i is component[i] of every component."""

    def __init__(self, tensors):
        el = S.normalize(tensors, "from_tensor_slices")
        flat = nest.flatten(el)
        if not flat:
            raise ValueError("from_tensor_slices: `tensors` must contain at least one tensor")
        for t in flat:
            if not t.shape.rank:
                raise InvalidArgumentError(
                    f"from_tensor_slices: every component needs rank >= 1 to be sliced; got a scalar "
                    f"{t.dtype.name} in {S.spec_of(el)}"
                )
        n = flat[0].shape[0]
        for t in flat[1:]:
            if t.shape[0] != n:
                raise InvalidArgumentError(
                    f"from_tensor_slices: all components must have the same size in dimension 0; got "
                    f"shapes {', '.join(str(tuple(u.shape)) for u in flat)}"
                )
        self._struct, self._flat, self._n = el, flat, n

    def element(self, i: int):
        return nest.pack_sequence_as(
            self._struct, [t[i] if isinstance(t, Tensor) else _ragged_data().row(t, i) for t in self._flat]
        )

    def gather(self, idx: list):
        if _is_run(idx):
            a, b = idx[0], idx[0] + len(idx)
            parts = [t[a:b] if isinstance(t, Tensor) else _ragged_data().rows(t, idx) for t in self._flat]
        else:
            ix = convert(array.array("i" if self._n < 2**31 else "q", idx))  # the buffer path: no per-item checks
            parts = [A.gather(t, ix) if isinstance(t, Tensor) else _ragged_data().rows(t, idx) for t in self._flat]
        return nest.pack_sequence_as(self._struct, parts)

    def _spec(self):
        return nest.map_structure(
            lambda t: TensorSpec(t.shape[1:], t.dtype) if isinstance(t, Tensor) else _ragged_data().sliced_spec(t),
            self._struct,
        )


class TensorDataset(_Source):
    """``from_tensors``: the whole structure is the single element."""

    def __init__(self, tensors):
        self._el = S.normalize(tensors, "from_tensors")
        self._n = 1

    def element(self, i: int):
        return self._el

    def gather(self, idx: list):
        zeros = convert([0] * len(idx), D.int32)
        return nest.map_structure(
            lambda t: (
                A.gather(A.expand_dims(t, 0), zeros) if isinstance(t, Tensor) else _ragged_data().stack([t] * len(idx))
            ),
            self._el,
        )

    def _spec(self):
        return S.spec_of(self._el)


class RangeDataset(_Source):
    """``range([start,] stop[, step])``: int64 scalars unless ``output_type`` says otherwise."""

    def __init__(self, *args, output_type=None):
        if not 1 <= len(args) <= 3:
            raise TypeError(f"range: expected 1 to 3 arguments (start, stop, step), got {len(args)}")
        vals = []
        for a in args:
            v = int(a) if is_tensor(a) else a
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"range: arguments must be integers, got {a!r}")
            vals.append(v)
        if len(vals) == 3 and vals[2] == 0:
            raise InvalidArgumentError("range: step must not be 0")
        self._r = builtins.range(*vals)
        self._n = len(self._r)
        self._dtype = D.as_dtype(output_type) if output_type is not None else D.int64

    def element(self, i: int):
        return convert(self._r[i], self._dtype)

    def gather(self, idx: list):
        r = self._r
        return convert([r[i] for i in idx], self._dtype)

    def _spec(self):
        return TensorSpec((), self._dtype)


class GeneratorDataset(Dataset):
    """``from_generator``: calls ``generator(*args)`` afresh for every pass, checking each
    yielded element against the declared signature (structure, dtype, shape)."""

    def __init__(self, generator, output_types, output_shapes, args, output_signature):
        if not callable(generator):
            raise TypeError(
                "from_generator: `generator` must be a Python callable (it is called for every pass over the dataset)"
            )
        if output_signature is not None:
            if output_types is not None or output_shapes is not None:
                raise TypeError("from_generator: give `output_signature` or `output_types`/`output_shapes`, not both")
            spec = nest.map_structure(_as_spec, output_signature)
        elif output_types is not None:
            spec = _types_and_shapes(output_types, output_shapes)
        else:
            raise TypeError(
                "from_generator: the element structure is unknown; give "
                "`output_signature` (e.g. tf.TensorSpec(shape=(), dtype=tf.int32))"
            )
        self._gen, self._spec_value = generator, spec
        self._args = tuple(a.numpy() if is_tensor(a) else a for a in (args or ()))

    def _elements(self):
        for v in self._gen(*self._args):
            yield _conform(self._spec_value, v)

    def _spec(self):
        return self._spec_value


def _as_spec(s) -> TensorSpec:
    if not isinstance(s, TensorSpec) and not _ragged_data().is_composite_spec(s):
        raise TypeError(f"from_generator: `output_signature` must be a structure of tf.TensorSpec, got {s!r}")
    return s


def _types_and_shapes(types, shapes):
    """Pair a structure of dtypes with a structure of shapes (shapes are lists, so walk by hand)."""
    if isinstance(types, dict):
        return {k: _types_and_shapes(v, None if shapes is None else shapes[k]) for k, v in types.items()}
    if isinstance(types, (tuple, list)):
        if shapes is not None and len(shapes) != len(types):
            raise ValueError(f"from_generator: `output_shapes` {shapes} does not match `output_types` {types}")
        return tuple(_types_and_shapes(t, None if shapes is None else shapes[i]) for i, t in enumerate(types))
    return TensorSpec(TensorShape(shapes) if shapes is not None else TensorShape(None), types)


def _conform(spec, value):
    if _ragged_data().is_composite_spec(spec):  # RaggedTensorSpec / SparseTensorSpec
        return _ragged_data().conform(spec, value)
    if isinstance(spec, TensorSpec):
        try:
            t = convert(value, spec.dtype, op="from_generator")
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(
                f"from_generator: `generator` yielded an element that could not be converted to the "
                f"expected type. The expected type was {spec.dtype.name}, but the yielded element was "
                f"{value!r:.80} ({e})"
            ) from None
        if not spec.shape.is_compatible_with(t.shape):
            raise InvalidArgumentError(
                f"from_generator: `generator` yielded an element of shape {t.shape} where an element "
                f"of shape {spec.shape} was expected."
            )
        return t
    if isinstance(spec, dict):
        if not isinstance(value, dict) or set(value) != set(spec):
            raise _mismatch(spec, value)
        return {k: _conform(spec[k], value[k]) for k in spec}
    if not isinstance(value, (tuple, list)) or isinstance(value, Tensor) or len(value) != len(spec):
        raise _mismatch(spec, value)
    items = [_conform(s, v) for s, v in zip(spec, value)]
    return type(spec)(*items) if hasattr(spec, "_fields") else tuple(items)


def _mismatch(spec, value):
    return InvalidArgumentError(
        f"from_generator: `generator` yielded an element that did not match the expected structure. "
        f"The expected structure was {spec}, but the yielded element was {value!r:.80}."
    )


def _ragged_data():
    from ..ragged import data

    return data

"""tf.data with ragged elements: the specs of RaggedTensor components, ``Dataset.ragged_batch`` and
``tf.data.experimental.dense_to_ragged_batch``. The data package calls these small helpers where
its element structure meets a composite."""

from __future__ import annotations

from .. import dtypes as D
from .. import nest
from ..errors import InvalidArgumentError
from ..ops import array as A
from ..shape import TensorShape
from ..spec import TensorSpec
from .spec import RaggedTensorSpec
from .tensor import RaggedTensor


def spec_of(x):
    """The spec of a composite element component."""
    from ..sparse.spec import SparseTensorSpec
    from ..sparse.tensor import SparseTensor

    if isinstance(x, SparseTensor):
        return SparseTensorSpec.from_value(x)
    return RaggedTensorSpec.from_value(x)


def relax(a, b):
    """Two composite specs -> one with the dims that differ unknown."""
    if type(a) is not type(b) or a.dtype is not b.dtype or getattr(a, "ragged_rank", 0) != getattr(b, "ragged_rank", 0):
        raise TypeError(f"incompatible specs {a} and {b}")
    sa, sb = a.shape, b.shape
    shape = None if sa.rank != sb.rank or sa.rank is None else [x if x == y else None for x, y in zip(sa, sb)]
    if isinstance(a, RaggedTensorSpec):
        return RaggedTensorSpec(shape, a.dtype, a.ragged_rank, a.row_splits_dtype)
    return type(a)(shape, a.dtype)


def is_composite_spec(s) -> bool:
    from ..sparse.spec import SparseTensorSpec

    return isinstance(s, (RaggedTensorSpec, SparseTensorSpec))


def conform(spec, value):
    """A generator's value for a RaggedTensorSpec/SparseTensorSpec (nested lists become ragged)."""
    from ..sparse.tensor import SparseTensor

    if isinstance(spec, RaggedTensorSpec):
        v = value
        if not isinstance(v, RaggedTensor):
            from . import constant

            try:
                v = constant(
                    v, spec.dtype, ragged_rank=spec.ragged_rank or None, row_splits_dtype=spec.row_splits_dtype
                )
            except (TypeError, ValueError) as e:
                raise InvalidArgumentError(
                    f"from_generator: `generator` yielded {value!r:.80}, which is not a {spec} ({e})"
                ) from None
    else:
        v = value
        if not isinstance(v, SparseTensor):
            raise InvalidArgumentError(
                f"from_generator: `generator` yielded {value!r:.80} where a SparseTensor of {spec} was expected"
            )
    if not spec.is_compatible_with(v):
        raise InvalidArgumentError(f"from_generator: `generator` yielded {v!r:.80}, which does not match {spec}")
    return v


def sliced_spec(x):
    """The spec of one row of a composite component (``from_tensor_slices``): ragged_rank - 1."""
    from ..sparse.spec import SparseTensorSpec

    if isinstance(x, RaggedTensor):
        return RaggedTensorSpec(list(x.shape)[1:], x.dtype, x.ragged_rank - 1, x.row_splits_dtype)
    return SparseTensorSpec(list(x.shape)[1:], x.dtype)


def row(x, i: int):
    """Row ``i`` of a composite component (a Tensor or RaggedTensor for ragged; sparse stays sparse)."""
    if isinstance(x, RaggedTensor):
        return x[i]
    from ..sparse.ops import row as sparse_row

    return sparse_row(x, i)


def rows(x, idx: list):
    """Rows ``idx`` of a composite component, keeping the leading dimension."""
    if isinstance(x, RaggedTensor):
        from .tensor import _take_rows

        return _take_rows(x, idx)
    from ..sparse.ops import take_rows

    return take_rows(x, idx)


def stack(parts: list):
    """Composite components (or rows of one) batched along a new dimension 0."""
    from ..sparse.ops import stack_rows
    from ..sparse.tensor import SparseTensor

    if isinstance(parts[0], SparseTensor):
        return stack_rows(parts)
    return A.stack(parts)


def unstack(x) -> list:
    if isinstance(x, RaggedTensor):
        return list(x)
    return [row(x, i) for i in range(x.shape[0])]


def dense_view(s):
    """A RaggedTensorSpec with ragged_rank 0 (rows of a sliced RaggedTensor) is a TensorSpec."""
    if isinstance(s, RaggedTensorSpec) and s.ragged_rank == 0:
        return TensorSpec(s.shape, s.dtype)
    return s


def batched(s, lead):
    """The spec of a batch of components of spec ``s`` (a composite spec gains an outer dim)."""
    if isinstance(s, RaggedTensorSpec):
        return RaggedTensorSpec([lead] + list(s.shape), s.dtype, s.ragged_rank + 1, s.row_splits_dtype)
    return type(s)([lead] + list(s.shape), s.dtype)


def dummy(s, unknown: int, value: int):
    """A ragged stand-in for ``s``: every unknown dim ``unknown`` long, filled with ``value``."""
    from ..tensor import convert

    if not isinstance(s, RaggedTensorSpec):
        raise TypeError("no stand-in for a SparseTensor component")
    dims = [unknown if d is None else d for d in s.shape]
    dense = A.fill(tuple(dims), convert(value, s.dtype))
    return (
        RaggedTensor.from_tensor(dense, ragged_rank=s.ragged_rank, row_splits_dtype=s.row_splits_dtype)
        if s.ragged_rank
        else dense
    )


def _ragged_component(parts: list, spec, sdt):
    """A batch of one component: ragged rows where the element shape is not fully known."""
    p0 = parts[0]
    if isinstance(p0, RaggedTensor):
        return A.stack(parts)
    shape = getattr(spec, "shape", TensorShape(None))
    if not p0.shape.rank or shape.is_fully_defined():
        return A.stack(parts)
    if p0.shape.rank == 1 or all(tuple(p.shape[1:]) == tuple(p0.shape[1:]) for p in parts):
        return RaggedTensor.from_row_lengths(A.concat(parts, 0), [p.shape[0] for p in parts]).with_row_splits_dtype(sdt)
    rows = [RaggedTensor.from_tensor(p, ragged_rank=p.shape.rank - 1, row_splits_dtype=sdt) for p in parts]
    return A.stack(rows)


def ragged_stack(elements: list, specs: list, sdt):
    flats = [nest.flatten(e) for e in elements]
    out = []
    for c, spec in enumerate(specs):
        parts = [f[c] for f in flats]
        if any(p.shape.rank != parts[0].shape.rank for p in parts):
            raise InvalidArgumentError(
                f"ragged_batch: component {c} has elements of different ranks: {[tuple(p.shape) for p in parts][:8]}"
            )
        out.append(_ragged_component(parts, spec, sdt))
    return nest.pack_sequence_as(elements[0], out)


def ragged_batch(dataset, batch_size, drop_remainder: bool = False, row_splits_dtype=D.int64):
    from ..data.transforms import BatchDataset

    class RaggedBatchDataset(BatchDataset):
        """``batch``, except components whose shape is not fully known become RaggedTensors."""

        def _elements(self):
            import itertools

            stream = self._input._iterate()
            specs = nest.flatten(self._input.element_spec)
            while True:
                chunk = list(itertools.islice(stream, self._size))
                if not chunk or (self._drop and len(chunk) < self._size):
                    return
                yield ragged_stack(chunk, specs, self._sdt)

        def _spec(self):
            lead = self._size if self._drop else None

            def one(s):
                if isinstance(s, RaggedTensorSpec):
                    return batched(s, lead)
                if isinstance(s, TensorSpec) and s.shape.rank and not s.shape.is_fully_defined():
                    rr = 1 if all(d is not None for d in list(s.shape)[1:]) else s.shape.rank
                    return RaggedTensorSpec([lead] + list(s.shape), s.dtype, rr, self._sdt)
                return batched(s, lead)

            return nest.map_structure(one, self._input.element_spec)

    ds = RaggedBatchDataset(dataset, batch_size, drop_remainder)
    ds._sdt = D.as_dtype(row_splits_dtype)
    return ds


def dense_to_ragged_batch(batch_size, drop_remainder: bool = False, row_splits_dtype=D.int64):
    """``tf.data.experimental.dense_to_ragged_batch``: for ``dataset.apply``."""
    return lambda ds: ragged_batch(ds, batch_size, drop_remainder, row_splits_dtype)

"""Dataset elements: nested tuples, namedtuples and dicts of Tensors, and their TensorSpecs.

Lists are values, not structure (``from_tensor_slices([1, 2])`` slices one tensor), as in TF.
"""

from __future__ import annotations

from .. import nest
from ..composite import CompositeTensor
from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..ops import array as A
from ..shape import TensorShape
from ..spec import TensorSpec
from ..tensor import Tensor, convert


def normalize(value, op: str):
    """A user value -> an element: tuples and dicts stay structure, the rest become Tensors."""
    if isinstance(value, dict):
        items = [(k, normalize(v, op)) for k, v in value.items()]
        return dict(items) if type(value) is dict else type(value)(items)
    if isinstance(value, tuple):
        items = [normalize(v, op) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if type(value) is Tensor or isinstance(value, (bytes, _Opaque, CompositeTensor)):
        return value  # bytes: string elements (no string dtype yet); _Opaque: parsed composites
    if value is None:
        raise TypeError(f"{op}: None is not a valid dataset component; give a tensor, an array or a number")
    return convert(value, op=op)


def normalize_output(value, op: str):
    """A function's return value -> an element; a top-level list means a tuple (TF does the same)."""
    if isinstance(value, list):
        value = tuple(value)
    return normalize(value, op)


class StringSpec:
    """The spec of a string component: webtensor has no string dtype, so such elements are
    Python ``bytes`` and this stands in for ``TensorSpec(shape=(), dtype=tf.string)``."""

    shape = TensorShape([])
    name = "string"
    dtype = property(lambda self: self)

    def __eq__(self, other):
        return isinstance(other, StringSpec)

    def __hash__(self):
        return hash("string")

    def __repr__(self):
        return "TensorSpec(shape=(), dtype=string)"


class _Opaque:
    """Marker base for element components that are passed through untouched (SparseTensor)."""


def _leaf_spec(x):
    if isinstance(x, bytes):
        return StringSpec()
    if isinstance(x, _Opaque):
        return x
    if isinstance(x, CompositeTensor):  # RaggedTensorSpec / SparseTensorSpec
        from ..ragged import data as _rd

        return _rd.spec_of(x)
    return TensorSpec.from_tensor(x)


def spec_of(element):
    return nest.map_structure(_leaf_spec, element)


def call(fn, element):
    """Call a user function on an element: a plain tuple is spread into arguments (TF's rule)."""
    return fn(*element) if type(element) is tuple else fn(element)


def dummy(spec, unknown: int, value: int):
    """``value``-filled tensors matching ``spec``, unknown dims set to ``unknown``: stand-ins to
    learn a function's output spec from (TF traces the function symbolically instead)."""

    def make(s):
        if isinstance(s, StringSpec):
            return b""
        if isinstance(s, _Opaque):
            raise TypeError("no stand-in for an opaque component")
        if not isinstance(s, TensorSpec):  # a RaggedTensorSpec: a ragged stand-in
            from ..ragged import data as _rd

            return _rd.dummy(s, unknown, value)
        dims = [] if s.shape.rank is None else [unknown if d is None else d for d in s.shape]
        return A.fill(tuple(dims), convert(value, s.dtype))

    return nest.map_structure(make, spec)


def relax(a, b):
    """The most specific spec compatible with both (dims that differ become None)."""
    if isinstance(a, (StringSpec, _Opaque)) or isinstance(b, (StringSpec, _Opaque)):
        if type(a) is not type(b):
            raise TypeError(f"incompatible specs {a} and {b}")
        return a
    if not isinstance(a, TensorSpec) or not isinstance(b, TensorSpec):  # ragged/sparse specs
        from ..ragged import data as _rd

        return _rd.relax(a, b)
    if a.dtype is not b.dtype:
        raise TypeError(f"incompatible dtypes {a.dtype.name} and {b.dtype.name}")
    if a.shape.rank is None or b.shape.rank is None or a.shape.rank != b.shape.rank:
        return TensorSpec(TensorShape(None), a.dtype)
    return TensorSpec([x if x == y else None for x, y in zip(a.shape, b.shape)], a.dtype)


def relax_structure(a, b, what: str):
    try:
        nest.assert_same_structure(a, b)
        return nest.map_structure(relax, a, b)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what}: incompatible dataset elements: {a} vs. {b} ({e})") from None


def stack(elements: list):
    """A list of elements with one structure -> one element whose components have a new axis 0."""
    flats = [nest.flatten(e) for e in elements]
    out = []
    for c in range(len(flats[0])):
        parts = [f[c] for f in flats]
        if isinstance(parts[0], CompositeTensor):  # ragged: one more ragged dim; sparse: a leading dim
            from ..ragged import data as _rd

            out.append(_rd.stack(parts))
            continue
        if isinstance(parts[0], (bytes, bytearray)):  # records/lines: a 1-D tf.string batch
            if not all(isinstance(p, (bytes, bytearray)) for p in parts):
                raise InvalidArgumentError(f"batch: component {c} mixes bytes with other values")
            out.append(convert([bytes(p) for p in parts], D.string))
            continue
        s0 = tuple(parts[0].shape)
        for i, p in enumerate(parts):
            if tuple(p.shape) != s0:
                raise InvalidArgumentError(
                    f"batch: cannot batch tensors with different shapes in component {c}. First element "
                    f"had shape {list(s0)} and element {i} had shape {list(p.shape)}."
                )
        # one concat along the existing axis 0, then one reshape: 4x cheaper than stack's expand_dims each
        out.append(A.reshape(A.concat(parts, 0), (len(parts),) + s0) if s0 else A.stack(parts))
    return nest.pack_sequence_as(elements[0], out)


def int64_scalar(v: int) -> Tensor:
    return convert(v, D.int64)

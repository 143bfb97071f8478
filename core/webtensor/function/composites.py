"""tf.function arguments and results that are RaggedTensors or SparseTensors.

A composite is traced as its component tensors, as TF's TypeSpec does: its values become
placeholders. Its structure (ragged row partitions, sparse indices and dense shape) is
static in our traces, as shapes are: it is part of the trace key, so a call with another
row structure traces again (documented in docs/ragged-sparse.md)."""

from __future__ import annotations

from ..composite import CompositeTensor


class Parts(tuple):
    """A composite flattened for tracing: (its static structure, its value tensor)."""

    def __new__(cls, items):
        return tuple.__new__(cls, items)


class Static:
    """A hashable leaf holding a composite's structure (the trace key compares it)."""

    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, Static) and other.key == self.key

    def __repr__(self):
        return f"<{self.key[0]} structure>"


def _has(x) -> bool:
    if isinstance(x, CompositeTensor):
        return True
    if isinstance(x, dict):
        return any(_has(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return any(_has(v) for v in x)
    return False


def expand(x):
    """``x`` with every RaggedTensor/SparseTensor replaced by its Parts (``x`` itself if none)."""
    return _expand(x) if _has(x) else x


def _expand(x):
    from ..ragged.tensor import RaggedTensor
    from ..sparse.tensor import SparseTensor

    if isinstance(x, RaggedTensor):
        key = ("RaggedTensor", tuple(tuple(s) for s in x._nested()), x._sdt.name)
        return Parts((Static(key), x.flat_values))
    if isinstance(x, SparseTensor):
        key = ("SparseTensor", tuple(tuple(r) for r in x._rows()), tuple(x._shape))
        return Parts((Static(key), x.values))
    if hasattr(x, "_grad_parts"):  # a complex tensor: its real and imaginary parts
        return Parts((Static(("ComplexTensor",)),) + tuple(x._grad_parts()))
    if isinstance(x, dict):
        return type(x)((k, _expand(v)) for k, v in x.items())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*[_expand(v) for v in x])
    if isinstance(x, (list, tuple)):
        return type(x)(_expand(v) for v in x)
    return x


def rebuild(x):
    """The inverse of ``expand``: Parts (holding traced or result tensors) back into composites."""
    if isinstance(x, Parts):
        return _composite(x[0].key, *x[1:])
    if isinstance(x, dict):
        return type(x)((k, rebuild(v)) for k, v in x.items()) if _has_parts(x) else x
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*[rebuild(v) for v in x]) if _has_parts(x) else x
    if isinstance(x, (list, tuple)):
        return type(x)(rebuild(v) for v in x) if _has_parts(x) else x
    return x


def _has_parts(x) -> bool:
    if isinstance(x, Parts):
        return True
    if isinstance(x, dict):
        return any(_has_parts(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return any(_has_parts(v) for v in x)
    return False


def _composite(key, values, *more):
    from .. import dtypes as D
    from ..ragged.tensor import RaggedTensor
    from ..sparse.tensor import SparseTensor

    if key[0] == "ComplexTensor":
        from ..complex import ComplexTensor

        return ComplexTensor(values, more[0])
    if key[0] == "RaggedTensor":
        out = values
        for s in reversed(key[1]):
            out = RaggedTensor._make(out, list(s), D.as_dtype(key[2]))
        return out
    return SparseTensor._make([list(r) for r in key[1]], values, list(key[2]))


def is_spec(s) -> bool:
    """Whether ``s`` is a RaggedTensorSpec or SparseTensorSpec (an input_signature entry)."""
    from ..ragged.spec import RaggedTensorSpec
    from ..sparse.spec import SparseTensorSpec

    return isinstance(s, (RaggedTensorSpec, SparseTensorSpec))


def specs(x):
    """Parts of (structure, TensorSpec) in a signature -> RaggedTensorSpec / SparseTensorSpec."""
    if isinstance(x, Parts):
        from ..ragged.spec import RaggedTensorSpec
        from ..sparse.spec import SparseTensorSpec

        key, values = x[0].key, x[1]
        if key[0] == "RaggedTensor":
            inner = list(values.shape)[1:]
            shape = [len(key[1][0]) - 1] + [None] * len(key[1]) + inner
            return RaggedTensorSpec(shape, values.dtype, len(key[1]), key[2])
        return SparseTensorSpec(list(key[2]), values.dtype)
    if isinstance(x, dict):
        return type(x)((k, specs(v)) for k, v in x.items())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*[specs(v) for v in x])
    if isinstance(x, (list, tuple)):
        return type(x)(specs(v) for v in x)
    return x

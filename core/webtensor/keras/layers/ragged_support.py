"""Keras over ``tf.RaggedTensor`` and ``tf.SparseTensor``: what tf.keras (TF 2) did for them.

- ``Input(ragged=True)`` / ``Input(sparse=True)`` make KerasTensors carrying the flag; a layer
  called on one learns its output (ragged, sparse or dense) by running on a small stand-in
  composite value, as the dense path probes with zeros.
- Model inputs are matched to their ``Input``: a RaggedTensor/SparseTensor given to a dense
  input is densified with 0 (TF's documented rule); a dense value given to a ragged input
  becomes full-length rows.
- RNNs run a ragged batch as the padded batch plus a mask from the row lengths, so every row's
  result is that of running the sequence alone.
- The data adapter batches and shuffles composite arrays by rows.
"""

from __future__ import annotations

from ... import autodiff, nest
from ... import dtypes as D
from ...composite import CompositeTensor
from ...errors import InvalidArgumentError
from ...ops import array as A
from ...ops import math as M
from ...ragged.tensor import RaggedTensor
from ...sparse.tensor import SparseTensor
from ...tensor import Tensor, convert, is_tensor


def is_composite(x) -> bool:
    return isinstance(x, CompositeTensor)


# -- eager values ---------------------------------------------------------------------------------


def autocast(x, layer):
    """A composite layer input, with float values cast to the layer's dtype (as dense inputs are)."""
    if layer.autocast and x.dtype.kind == "f" and x.dtype is not layer.dtype:
        return M.cast(x, layer.dtype)
    return x


def padded_and_mask(rt: RaggedTensor):
    """(padded dense batch [n, max_len, ...], bool mask [n, max_len], host row lengths)."""
    if rt.ragged_rank != 1:
        raise InvalidArgumentError(
            f"RNN: a RaggedTensor input needs ragged_rank 1 (batch, (time), features); "
            f"got ragged_rank {rt.ragged_rank} with shape {rt.shape}"
        )
    lengths = rt._lengths()
    x = rt.to_tensor()
    t = x.shape[1]
    mask = convert([[j < n for j in range(t)] for n in lengths], D.bool_)
    return x, mask, lengths


def from_padded(y: Tensor, lengths: list) -> RaggedTensor:
    """Rows of a padded [n, time, ...] result cut back to the input's row lengths."""
    return RaggedTensor.from_tensor(y, lengths=convert(lengths, D.int64))


def reverse_rows(rt: RaggedTensor) -> RaggedTensor:
    """Each row reversed in place (what ``go_backwards`` reads for that sequence alone)."""
    s = rt._s
    idx = [b - 1 - j for a, b in zip(s, s[1:]) for j in range(b - a)]
    values = A.gather(rt.values, convert(idx, D.int32)) if idx else rt.values
    return RaggedTensor._make(values, list(s), rt._sdt)


def sparse_matmul(st: SparseTensor, kernel: Tensor, op: str) -> Tensor:
    """``st @ kernel`` for a 2-D SparseTensor (Dense on sparse input, as tf.keras)."""
    from ...sparse.ops import sparse_dense_matmul

    if len(st._shape) != 2:
        raise InvalidArgumentError(
            f"{op}: a SparseTensor input must be 2-D (batch, features), got dense_shape {st._shape}"
        )
    if st._shape[1] != kernel.shape[0]:
        raise InvalidArgumentError(
            f"{op}: SparseTensor input of dense_shape {st._shape} does not match the "
            f"kernel of shape {tuple(kernel.shape)}"
        )
    vals = st.values if st.dtype is kernel.dtype else M.cast(st.values, kernel.dtype)
    return sparse_dense_matmul(st.with_values(vals), kernel)


def standardize_input(spec, x):
    """A model input matched to its ``Input`` KerasTensor ``spec``, or None when dense stays dense."""
    ragged, sparse = getattr(spec, "ragged", False), spec.sparse
    if isinstance(x, RaggedTensor):
        if ragged:
            return x
        return x.to_tensor() if not sparse else x.to_sparse()
    if isinstance(x, SparseTensor):
        if sparse:
            return x
        from ...sparse.ops import to_dense

        dense = to_dense(x)
        return RaggedTensor.from_tensor(dense) if ragged else dense
    if ragged:
        if isinstance(x, (list, tuple)) and not isinstance(x, Tensor):
            from ... import ragged as R

            return R.constant(x, dtype=spec.dtype)
        t = x if type(x) is Tensor else convert(x, spec.dtype)
        return RaggedTensor.from_tensor(t) if len(t.shape) >= 2 else t
    if sparse:
        from ...sparse.ops import from_dense

        return from_dense(x if type(x) is Tensor else convert(x, spec.dtype))
    return None


def check_input(spec, x, model_name: str, index: int) -> None:
    """The composite value's rank and known dims against its Input (Keras's message)."""
    from .layer import _shape_str

    got, want = tuple(x.shape), spec.shape
    if len(got) != len(want) or any(w is not None and g is not None and w != g for w, g in zip(want, got)):
        raise ValueError(
            f'Input {index} of layer "{model_name}" is incompatible with the layer: expected '
            f"shape={_shape_str(want)}, found shape={_shape_str(got)} ({type(x).__name__})"
        )


# -- rows, for fit/evaluate/predict -------------------------------------------------------------------


def slice_rows(x, start: int, stop: int):
    if isinstance(x, RaggedTensor):
        return x[start:stop]
    from ...sparse.ops import take_rows

    return take_rows(x, list(range(start, stop)))


def gather_rows(x, perm):
    """Rows ``perm`` (an int tensor, the shuffle) of a RaggedTensor or SparseTensor."""
    if isinstance(x, RaggedTensor):
        return A.gather(x, perm)
    from ...sparse.ops import take_rows

    return take_rows(x, [int(i) for i in perm.tolist()])


# -- symbolic calls -------------------------------------------------------------------------------------


def has_composite_input(args, kwargs) -> bool:
    from .input_layer import KerasTensor

    return any(
        isinstance(x, KerasTensor) and (x.sparse or getattr(x, "ragged", False))
        for x in nest.flatten((list(args), kwargs))
    )


def ragged_rank_of(shape) -> int:
    """Ragged dims of an ``Input(ragged=True)``: the leading None dims after the batch (TF 2's rule)."""
    r = 0
    for d in shape[1:]:
        if d is not None:
            break
        r += 1
    if any(d is None for d in shape[1 + r :]):
        raise ValueError(
            f"Input(ragged=True): the ragged (None) dimensions must come before the uniform ones; "
            f"got shape {tuple(shape[1:])}"
        )
    return max(r, 1)


def _stand_in(kt, fill: int):
    """A small concrete value shaped like ``kt`` (unknown dims = ``fill``)."""
    from ...saving import budget

    if not (kt.ragged or kt.sparse):
        shape = tuple(fill if d is None else d for d in kt.shape)
        budget.charge_probe(shape, kt.dtype)
        return A.zeros(shape, kt.dtype)
    if kt.sparse:
        shape = [fill if d is None else d for d in kt.shape]
        first = [[0] * len(shape)] if all(shape) else []
        return SparseTensor(convert(first, D.int64) if first else [], _zeros(len(first), kt.dtype), shape)
    rank = kt.ragged_rank
    inner = tuple(kt.shape[1 + rank :])
    budget.charge_probe((fill,) * (rank + 1) + inner, kt.dtype)
    n = fill ** (rank + 1)
    flat = A.reshape(_zeros(n * _prod(inner), kt.dtype), (n,) + inner)
    rt = flat
    for level in range(rank, 0, -1):
        rows = fill**level
        rt = RaggedTensor._make(rt, [i * fill for i in range(rows + 1)], D.int64)
    return rt


def _zeros(n: int, dtype):
    if dtype is D.string:
        return convert([b""] * n, D.string) if n else convert([], D.string)
    return A.zeros((n,), dtype)


def _prod(dims) -> int:
    p = 1
    for d in dims:
        p *= d
    return p


def _probe(layer, args, kwargs, fill: int):
    from . import layer as L
    from .input_layer import KerasTensor

    def concrete(x):
        return _stand_in(x, fill) if isinstance(x, KerasTensor) else x

    cargs = [nest.map_structure(concrete, a) for a in args]
    ckw = {k: nest.map_structure(concrete, v) for k, v in kwargs.items()}
    if L._signature_info(type(layer))[0]:
        ckw.setdefault("training", False)
    n = len(L._LOSSES)
    with autodiff.no_record():
        L._CTX.append(False)
        try:
            out = layer.call(*cargs, **ckw)
        finally:
            L._CTX.pop()
    del L._LOSSES[n:]
    return out


def output_spec(layer, args, kwargs):
    """KerasTensors for a layer called on ragged/sparse KerasTensors, from two stand-in runs
    (dims that change with the unknown input dims become None); None when no input is composite."""
    from .input_layer import KerasTensor

    if not has_composite_input(args, kwargs):
        return None
    try:
        first, second = _probe(layer, args, kwargs, 2), _probe(layer, args, kwargs, 3)
    except Exception as e:  # a layer whose ops do not take the type: say which input it was
        kts = [x for x in nest.flatten((list(args), kwargs)) if isinstance(x, KerasTensor)]
        what = ", ".join(f"{'ragged' if x.ragged else 'sparse' if x.sparse else 'dense'} {x.shape}" for x in kts)
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}) cannot take its input ({what}): {type(e).__name__}: {e}'
        ) from e

    def spec(a, b):
        if isinstance(a, RaggedTensor):
            shape = tuple(x if x == y else None for x, y in zip(a.shape, b.shape))
            return KerasTensor((None,) + shape[1:], a.dtype, ragged=True)
        if isinstance(a, SparseTensor):
            shape = tuple(x if x == y else None for x, y in zip(a.shape, b.shape))
            return KerasTensor(shape, a.dtype, sparse=True)
        if not is_tensor(a):
            return a
        shape = tuple(x if x == y else None for x, y in zip(a.shape, b.shape))
        return KerasTensor(shape, a.dtype)

    return nest.map_structure(spec, first, second)

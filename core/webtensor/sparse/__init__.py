"""``tf.sparse``: SparseTensor ops (see docs/ragged-sparse.md)."""

from .ops import (  # noqa: F401
    add,
    concat,
    expand_dims,
    eye,
    fill_empty_rows,
    from_dense,
    map_values,
    maximum,
    minimum,
    reduce_max,
    reduce_sum,
    reorder,
    reshape,
    retain,
    slice,
    sparse_dense_matmul,
    split,
    to_dense,
    to_indicator,
    transpose,
)
from .spec import SparseTensorSpec  # noqa: F401
from .tensor import SparseTensor  # noqa: F401

matmul = sparse_dense_matmul

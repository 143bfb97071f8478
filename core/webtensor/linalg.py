"""``tf.linalg``."""
from .ops.array import eye  # noqa: F401
from .ops.linalg import (  # noqa: F401
    einsum, global_norm, matmul, matrix_transpose, norm, tensordot,
)


"""``tf.linalg``."""

from .ops.array import eye  # noqa: F401
from .ops.linalg import (  # noqa: F401
    einsum,
    global_norm,
    matmul,
    matrix_transpose,
    norm,
    tensordot,
)

from .ops.creation import (  # noqa: F401
    band_part,
    linspace,
    matrix_diag as diag,
    matrix_diag_part as diag_part,
    matrix_set_diag as set_diag,
    tensor_diag,
    trace,
)
from .ops.linalg_extra import (  # noqa: F401
    cholesky,
    cholesky_solve,
    det,
    inv,
    logdet,
    slogdet,
    solve,
    triangular_solve,
)
from .ops.decompositions import (  # noqa: F401
    eigh,
    eigvalsh,
    expm,
    lstsq,
    lu,
    lu_matrix_inverse,
    lu_reconstruct,
    lu_solve,
    matrix_rank,
    pinv,
    qr,
    svd,
)

"""``tf.math``: elementwise math, comparisons and reductions."""
from .ops.math import (  # noqa: F401
    abs, add, add_n, ceil, cos, div_no_nan, divide, divide_no_nan, equal, erf, exp, expm1, floor,
    floordiv, floormod, greater, greater_equal, is_finite, is_inf, is_nan, less, less_equal, log,
    log1p, log_sigmoid, logical_and, logical_not, logical_or, logical_xor, maximum, minimum, mod,
    multiply, negative, not_equal, pow, reciprocal, round, rsqrt, scalar_mul, sigmoid, sign, sin,
    softplus, sqrt, square, squared_difference, subtract, tan, tanh, truediv, xlogy,
)
from .ops.reduce import (  # noqa: F401
    argmax, argmin, count_nonzero, cumprod, cumsum, reduce_all, reduce_any, reduce_euclidean_norm,
    reduce_logsumexp, reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_std, reduce_sum,
    reduce_variance,
)
from .ops.creation import cumulative_logsumexp  # noqa: F401
from .ops.segment import (  # noqa: F401
    segment_max, segment_mean, segment_min, segment_prod, segment_sum, unsorted_segment_max,
    unsorted_segment_mean, unsorted_segment_min, unsorted_segment_prod, unsorted_segment_sqrt_n,
    unsorted_segment_sum,
)
from .ops.sorting import bincount, confusion_matrix  # noqa: F401
from .ops.nn import in_top_k, top_k  # noqa: F401

floor_div = floordiv
from .ops.math_extra import (  # noqa: F401,E402
    acos, acosh, asin, asinh, atan, atan2, atanh, cosh, digamma, erfc, erfinv, is_non_decreasing,
    is_strictly_increasing, l2_normalize, lgamma, multiply_no_nan, ndtri, polyval, reciprocal_no_nan, rint,
    sinh, softsign, truncatediv, truncatemod, xlog1py,
)
from .nn import log_softmax  # noqa: F401,E402
from .complex import angle, conj, imag, real  # noqa: F401,E402

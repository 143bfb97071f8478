"""webtensor: TensorFlow 2 / Keras-style deep learning, the same code natively and in the page.

``import webtensor as tf`` gives the TF 2 eager API. The core is pure Python; numpy,
the GPU (WGSL through wgpu-py or the browser's WebGPU) and WebAssembly kernels are
backends chosen at run time (see ``webtensor.backends``).
"""

from . import dtypes, errors, nest
from .autodiff import GradientTape, UnconnectedGradients, custom_gradient
from .placement import device
from .dtypes import DType, as_dtype, bool_ as bool, double, float16, float32, float64, half, int32, int64, uint8, uint32
from .function import autograph, executing_eagerly, function, init_scope
from .function.py_function import numpy_function, py_function
from .shape import TensorShape
from .spec import TensorSpec
from .tensor import Tensor, Variable, constant, convert_to_tensor, is_symbolic_tensor, is_tensor
from .ops.array import (
    boolean_mask,
    broadcast_to,
    concat,
    expand_dims,
    eye,
    fill,
    gather,
    gather_nd,
    identity,
    newaxis,
    one_hot,
    ones,
    ones_like,
    pad,
    range,
    rank,
    repeat,
    reshape,
    reverse,
    shape,
    shape_n,
    size,
    slice,
    split,
    squeeze,
    stack,
    stop_gradient,
    tile,
    transpose,
    unstack,
    zeros,
    zeros_like,
)
from .ops.linalg import clip_by_global_norm, clip_by_norm, einsum, matmul, norm, tensordot
from .ops.math import (
    abs,
    add,
    add_n,
    cast,
    ceil,
    clip_by_value,
    cos,
    divide,
    equal,
    exp,
    floor,
    floordiv,
    greater,
    greater_equal,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    pow,
    round,
    saturate_cast,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    truediv,
    where,
)
from .ops.reduce import (
    argmax,
    argmin,
    cumsum,
    reduce_all,
    reduce_any,
    reduce_logsumexp,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_sum,
)
from . import config, linalg, math, nn, random  # noqa: E402,F401
from .complex import complex  # noqa: E402,F401  (tf.complex; complex64/128 tensors are composites)
from .dtypes import complex64, complex128, string  # noqa: E402,F401
from .control_flow import (
    TensorArray,
    case,
    cond,
    foldl,
    foldr,
    map_fn,
    print_ as print,
    scan,  # noqa: E402,F401
    switch_case,
    vectorized_map,
    while_loop,
)
from .module import Module, name_scope  # noqa: E402,F401

from .ops.creation import linspace, meshgrid, roll  # noqa: E402,F401
from .ops.scatter import (
    scatter_nd,
    tensor_scatter_nd_add,
    tensor_scatter_nd_max,  # noqa: E402,F401
    tensor_scatter_nd_min,
    tensor_scatter_nd_sub,
    tensor_scatter_nd_update,
)
from .ops.sorting import argsort, histogram_fixed_width, searchsorted, sort, unique, unique_with_counts  # noqa: E402,F401,E501
from .ops.static import ensure_shape, get_static_value  # noqa: E402,F401
from . import version  # noqa: E402,F401

__version__ = version.VERSION

# Imported on first use (``tf.keras``, ``tf.data``, ``tf.io`` ...): ``import webtensor`` stays
# small, which is what the page's boot snapshot holds and what a cold visit downloads.
# name -> (module, attribute or None for the module itself)
_LAZY = {
    **{
        sub: (f".{sub}", None)
        for sub in (
            "audio",
            "bitwise",
            "data",
            "debugging",
            "distribute",
            "experimental",
            "image",
            "io",
            "keras",
            "lookup",
            "ragged",
            "saved_model",
            "saving",
            "signal",
            "sparse",
            "strings",
            "summary",
            "train",
        )
    },
    **{alias: (".keras", alias) for alias in ("initializers", "losses", "metrics", "optimizers")},
    "RaggedTensor": (".ragged", "RaggedTensor"),
    "RaggedTensorSpec": (".ragged", "RaggedTensorSpec"),
    "SparseTensor": (".sparse", "SparseTensor"),
    "SparseTensorSpec": (".sparse", "SparseTensorSpec"),
}


def __getattr__(name: str):
    """Import a lazy name on first use and keep it, so later lookups are plain attributes."""
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'webtensor' has no attribute {name!r}") from None
    import importlib

    value = importlib.import_module(module, __name__)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY))

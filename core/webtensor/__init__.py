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
from .tensor import Tensor, Variable, constant, convert_to_tensor, is_tensor
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
from . import audio, bitwise  # noqa: E402,F401  (tf.audio, tf.bitwise)
from .complex import complex  # noqa: E402,F401  (tf.complex; complex64/128 tensors are composites)
from .dtypes import complex64, complex128  # noqa: E402,F401
from . import signal  # noqa: E402,F401  (tf.signal)
from . import experimental  # noqa: E402,F401  (tf.experimental.numpy)
from . import strings  # noqa: E402,F401  (tf.strings; the tf.string dtype below)
from . import ragged, sparse  # noqa: E402,F401  (tf.ragged, tf.sparse)
from .ragged import RaggedTensor, RaggedTensorSpec  # noqa: E402,F401
from .sparse import SparseTensor, SparseTensorSpec  # noqa: E402,F401
from . import lookup  # noqa: E402,F401  (tf.lookup tables)
from .dtypes import string  # noqa: E402,F401
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
from . import debugging  # noqa: E402,F401
from . import io  # noqa: E402,F401  (webtensor.io.import_keras)
from . import saving  # noqa: E402,F401  (model files)
from . import data, summary  # noqa: E402,F401
from . import image  # noqa: E402,F401  (tf.image, partial)
from . import keras  # noqa: E402,F401
from . import train  # noqa: E402,F401  (tf.train.Checkpoint; tf.Module below)
from . import saved_model  # noqa: E402,F401  (tf.saved_model.save/load)
from . import distribute  # noqa: E402,F401  (tf.distribute strategies)
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
from .keras import initializers, losses, metrics, optimizers  # noqa: E402,F401  (TF 2's aliases)

__version__ = version.VERSION

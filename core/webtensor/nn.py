"""``tf.nn``: activations, losses, convolution, pooling, normalisation."""

from .ops.conv import (  # noqa: F401
    avg_pool,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv2d_backprop_input,
    conv2d_transpose,
    depthwise_conv2d,
    max_pool,
    max_pool1d,
    max_pool2d,
    separable_conv2d,
)
from .ops.math import log_sigmoid  # noqa: F401
from .ops.nn import (  # noqa: F401
    batch_normalization,
    bias_add,
    dropout,
    elu,
    gelu,
    in_top_k,
    l2_normalize,
    leaky_relu,
    log_softmax,
    moments,
    relu,
    relu6,
    selu,
    sigmoid,
    sigmoid_cross_entropy_with_logits,
    silu,
    softmax,
    softmax_cross_entropy_with_logits,
    softplus,
    sparse_softmax_cross_entropy_with_logits,
    swish,
    tanh,
    top_k,
    weighted_cross_entropy_with_logits,
)
from .ops.segment import embedding_lookup  # noqa: F401
from .sparse.ops import embedding_lookup_sparse  # noqa: F401,E402
from .distribute.losses import compute_average_loss, scale_regularization_loss  # noqa: F401,E402

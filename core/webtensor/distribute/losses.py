"""``tf.nn.compute_average_loss`` / ``scale_regularization_loss``: losses scaled for synchronous replicas."""

from __future__ import annotations


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """sum(per_example_loss * sample_weight) / global batch (default: local rows x replicas in sync)."""
    from .. import tensor
    from ..ops import math as M
    from ..ops import reduce as R
    from .context import get_strategy

    loss = tensor.convert_to_tensor(per_example_loss)
    if sample_weight is not None:
        loss = M.multiply(loss, M.cast(sample_weight, loss.dtype))
    if global_batch_size is None:
        shape = tuple(loss.shape)
        rows = shape[0] if shape else 1
        global_batch_size = rows * get_strategy().num_replicas_in_sync
    if isinstance(global_batch_size, int) and global_batch_size <= 0:
        raise ValueError(f"compute_average_loss: global_batch_size must be positive, got {global_batch_size}")
    return M.divide(R.reduce_sum(loss), M.cast(global_batch_size, loss.dtype))


def scale_regularization_loss(regularization_loss):
    """The regularization loss divided by the replicas in sync (summed back by the all-reduce)."""
    from .. import tensor
    from ..ops import math as M
    from .context import get_strategy

    loss = tensor.convert_to_tensor(regularization_loss)
    return M.divide(loss, M.cast(get_strategy().num_replicas_in_sync, loss.dtype))

"""``tf.random``."""
from .ops.random import (  # noqa: F401
    categorical, get_global_seed, normal, set_seed, shuffle, truncated_normal, uniform,
)

"""``tf.random.experimental``."""

from .ops.random_streams import (  # noqa: F401
    Generator,
    get_global_generator,
    set_global_generator,
    stateless_fold_in,
    stateless_split,
)

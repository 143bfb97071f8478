"""``tf.random``."""

from .ops.random import (  # noqa: F401
    categorical,
    get_global_seed,
    normal,
    set_seed,
    shuffle,
    truncated_normal,
    uniform,
)
from .ops.random_streams import (  # noqa: F401,E402
    Generator,
    gamma,
    get_global_generator,
    poisson,
    set_global_generator,
    stateless_binomial,
    stateless_categorical,
    stateless_gamma,
    stateless_normal,
    stateless_poisson,
    stateless_truncated_normal,
    stateless_uniform,
)
from . import random_experimental as experimental  # noqa: F401,E402

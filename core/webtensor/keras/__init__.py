"""``tf.keras``: Keras 3's API over webtensor ops (runs unchanged on every backend and in the page)."""
from . import (  # noqa: F401
    activations, backend, callbacks, constraints, initializers, layers, losses, metrics, optimizers, regularizers,
    saving, utils,
)
from .layers import Input, InputSpec, Layer  # noqa: F401

"""``tf.keras``: Keras 3's API over webtensor ops (runs unchanged on every backend and in the page)."""

from . import (  # noqa: F401
    activations,
    backend,
    callbacks,
    constraints,
    initializers,
    layers,
    losses,
    metrics,
    optimizers,
    regularizers,
    saving,
    utils,
)
from . import models  # noqa: F401
from . import config  # noqa: F401
from . import datasets  # noqa: F401  (keras.datasets: cached files only)
from .layers import Input, InputSpec, Layer  # noqa: F401
from .models import Model, Sequential  # noqa: F401

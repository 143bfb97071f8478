"""``keras.config``: global Keras settings (floatx, epsilon, unsafe deserialization)."""

from __future__ import annotations

from .backend import (  # noqa: F401
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from .saving import enable_unsafe_deserialization  # noqa: F401


def backend() -> str:
    return "webtensor"

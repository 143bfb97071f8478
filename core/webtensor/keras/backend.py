"""``tf.keras.backend``: global Keras state (layer name counters, floatx, epsilon)."""

from __future__ import annotations

import re

from .. import dtypes as D

_uids: dict = {}
_state = {"floatx": "float32", "epsilon": 1e-7}


def get_uid(prefix: str = "") -> int:
    """1, 2, 3... per prefix: the counter behind default names like "dense_1"."""
    _uids[prefix] = _uids.get(prefix, 0) + 1
    return _uids[prefix]


def unique_name(base: str) -> str:
    """Keras's naming: the first "dense" is "dense", the next "dense_1"."""
    uid = get_uid(base)
    return base if uid == 1 else f"{base}_{uid - 1}"


def to_snake_case(name: str) -> str:
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def clear_session(free_memory: bool = True) -> None:
    """Reset default names ("dense" again); buffers free themselves when unreferenced."""
    _uids.clear()


def floatx() -> str:
    return _state["floatx"]


def set_floatx(value: str) -> None:
    if value not in ("float16", "float32", "float64"):
        raise ValueError(f"Unknown floatx type: {value!r}; expected float16, float32 or float64")
    _state["floatx"] = value


def float_dtype() -> D.DType:
    return D.as_dtype(_state["floatx"])


def epsilon() -> float:
    return _state["epsilon"]


def set_epsilon(value: float) -> None:
    _state["epsilon"] = float(value)


def image_data_format() -> str:
    return "channels_last"


def set_image_data_format(data_format: str) -> None:
    if data_format != "channels_last":
        raise ValueError("only data_format='channels_last' (NHWC) is supported")


def is_keras_tensor(x) -> bool:
    from .layers.input_layer import KerasTensor

    return isinstance(x, KerasTensor)


def get_value(x):
    return x.numpy()


def set_value(x, value) -> None:
    x.assign(value)

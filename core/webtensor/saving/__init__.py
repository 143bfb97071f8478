"""Model files: one safetensors file holds a model's weights, its architecture and
(optionally) its optimizer state; ``validate`` is the one place that checks files.

This package is the format (``safetensors``, ``validate``, ``sources``, ``budget``,
``atomic``) and imports nothing above the core. The Keras side, which builds and
serialises models, is ``webtensor.keras.model_file``; its functions are re-exported
here lazily (``webtensor.saving.load_model`` works) so that importing the format
never imports Keras."""

from .safetensors import save as save_file  # noqa: F401
from .sources import load_file, load_file_async  # noqa: F401

_KERAS = ("load_model", "load_model_async", "load_webtensor_model", "load_weights", "save_model", "save_weights")


def __getattr__(name: str):
    if name in _KERAS:
        from ..keras import model_file

        return getattr(model_file, name)
    if name == "model_file":  # the old module's name; ``from . import`` would recurse into here
        import importlib

        return importlib.import_module(f"{__name__}.model_file")
    raise AttributeError(f"module 'webtensor.saving' has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | set(_KERAS))

"""Model files: one safetensors file holds a model's weights, its architecture and
(optionally) its optimizer state; ``validate`` is the one place that checks files."""
from .model_file import (load_model, load_model_async, load_webtensor_model, load_weights,  # noqa: F401
                         save_model, save_weights)
from .safetensors import save as save_file  # noqa: F401
from .sources import load_file, load_file_async  # noqa: F401

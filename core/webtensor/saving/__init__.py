"""Model files: one safetensors file holds a model's weights, its architecture and
(optionally) its optimizer state; ``validate`` is the one place that checks files."""
from .safetensors import load as load_file, save as save_file  # noqa: F401

"""``tf.saved_model``: save a Module's variables, traced functions and signatures to a
directory, and load them back without the Python classes (docs/saved-model.md)."""

from .load import contains_saved_model, load  # noqa: F401
from .save import save  # noqa: F401

SERVING = "serve"  # tf.saved_model.SERVING (tags are accepted and ignored: one graph per file)
DEFAULT_SERVING_SIGNATURE_DEF_KEY = "serving_default"


class SaveOptions:
    """Accepted for TF compatibility; no option changes what is written."""

    def __init__(self, **kwargs):
        self.options = kwargs


class LoadOptions(SaveOptions):
    pass

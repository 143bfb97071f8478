"""``tf.experimental``: ``numpy`` (TF's NumPy API over webtensor's ops)."""

from . import numpy  # noqa: F401

"""``tf.lookup.experimental``: where TF 2 exports ``MutableHashTable``."""

from .tables import MutableHashTable  # noqa: F401

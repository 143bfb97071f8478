"""``tf.lookup``: hash tables from keys to values, filled by initializers, on the host.

Eager only for now: a table used inside ``tf.function`` tracing raises ``UnimplementedError``
(see docs/text.md).
"""

from .initializers import KeyValueTensorInitializer, TextFileIndex, TextFileInitializer  # noqa: F401
from .tables import MutableHashTable, StaticHashTable, StaticVocabularyTable  # noqa: F401
from . import experimental  # noqa: F401

__all__ = [
    "KeyValueTensorInitializer",
    "MutableHashTable",
    "StaticHashTable",
    "StaticVocabularyTable",
    "TextFileIndex",
    "TextFileInitializer",
    "experimental",
]

"""``tf.data``: input pipelines as lazy chains of ``Dataset`` nodes.

Iteration is plain Python: ``for element in dataset`` (or ``iter(dataset)`` then
``next``) runs the pipeline afresh on every pass and yields each element as the
structure it was built from -- a Tensor, a tuple, a namedtuple or a dict of
Tensors (tuples and dicts nest). Keras's ``fit``/``evaluate``/``predict`` consume
exactly this: one pass per epoch, elements ``x``, ``(x,)``, ``(x, y)`` or
``(x, y, sample_weight)``. ``len(dataset)`` (or ``cardinality()``) gives the
number of elements when it is known; shuffling is reseeded per pass from
``tf.random``'s seeds, so ``tf.random.set_seed`` makes whole runs reproducible.
"""

from . import experimental  # noqa: F401
from .dataset import AUTOTUNE, INFINITE as INFINITE_CARDINALITY, UNKNOWN as UNKNOWN_CARDINALITY  # noqa: F401
from .dataset import Dataset, Iterator  # noqa: F401
from .extra import Options, ThreadingOptions  # noqa: F401
from .text import TextLineDataset  # noqa: F401,E402
from .tfrecord import TFRecordDataset  # noqa: F401,E402

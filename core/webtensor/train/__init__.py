"""``tf.train``: checkpoints of object graphs and the manager that keeps the newest few."""

from .checkpoint import (  # noqa: F401
    Checkpoint,
    CheckpointLoadStatus,
    CheckpointReader,
    list_variables,
    load_checkpoint,
)
from .manager import CheckpointManager, get_checkpoint_state, latest_checkpoint  # noqa: F401
from ..io.example_proto import BytesList, Example, Feature, Features, FloatList, Int64List  # noqa: F401,E402

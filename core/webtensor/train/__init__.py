"""``tf.train``: checkpoints of object graphs and the manager that keeps the newest few."""
from .checkpoint import Checkpoint, CheckpointLoadStatus, CheckpointReader, list_variables, load_checkpoint  # noqa: F401
from .manager import CheckpointManager, get_checkpoint_state, latest_checkpoint  # noqa: F401

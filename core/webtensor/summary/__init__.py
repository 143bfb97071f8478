"""``tf.summary``: TensorBoard event files written in pure Python (TFRecord framing with
masked CRC-32C, Event/Summary/TensorProto encoded by hand), so it runs in the page too.

    writer = tf.summary.create_file_writer("logs/run1")
    with writer.as_default(step=0):
        tf.summary.scalar("loss", 0.25)
"""

from . import experimental  # noqa: F401
from .summaries import flush, histogram, image, record_if, scalar, text, write  # noqa: F401
from .writer import FileWriter, NoopWriter, SummaryWriter  # noqa: F401


def create_file_writer(
    logdir, max_queue=None, flush_millis=None, filename_suffix=None, name=None, experimental_trackable=False
) -> SummaryWriter:
    """A writer that appends events to a new event file in ``logdir`` (created if missing)."""
    if logdir is None:
        raise ValueError("create_file_writer: logdir cannot be None")
    return FileWriter(logdir, max_queue, flush_millis, filename_suffix)


def create_noop_writer() -> SummaryWriter:
    return NoopWriter()

"""``tf.summary.experimental``: the default step, and ``summary_scope`` for custom summaries."""

from .summaries import summary_scope  # noqa: F401
from .writer import state


def set_step(step) -> None:
    """Default ``step`` for summaries written without one (an int, a tensor or a variable)."""
    state.step = step


def get_step():
    return state.step

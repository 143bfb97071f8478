"""``tf.function``: tracing Python into graphs of backend primitives, and replaying them."""

from . import autograph  # noqa: F401
from .graph import Graph, Operation, OperatorNotAllowedInGraphError  # noqa: F401
from .trace import (  # noqa: F401
    ConcreteFunction,
    Function,
    executing_eagerly,
    function,
    functions_run_eagerly,
    init_scope,
    run_functions_eagerly,
)

"""``tf.distribute.ReduceOp``: how values from replicas are combined."""

from __future__ import annotations

import enum


class ReduceOp(enum.Enum):
    SUM = "SUM"
    MEAN = "MEAN"

    @staticmethod
    def from_variable_aggregation(aggregation) -> "ReduceOp":
        name = getattr(aggregation, "name", str(aggregation)).upper()
        if name in ("SUM", "MEAN"):
            return ReduceOp[name]
        raise ValueError(f"Could not convert from `tf.VariableAggregation` {aggregation} to `tf.distribute.ReduceOp`")


def as_reduce_op(op) -> ReduceOp:
    """ReduceOp, or its name ("sum"/"mean"), as TF accepts."""
    if isinstance(op, ReduceOp):
        return op
    if isinstance(op, str) and op.upper() in ("SUM", "MEAN"):
        return ReduceOp[op.upper()]
    raise ValueError(f"reduce: reduce_op must be tf.distribute.ReduceOp.SUM or MEAN, got {op!r}")

"""Distributed values: one value per local replica (``PerReplica``), as ``strategy.run`` returns."""

from __future__ import annotations


class DistributedValues:
    """Base of values that live on several replicas; ``.values`` has one per local replica."""

    def __init__(self, values):
        self._values = tuple(values)

    @property
    def values(self) -> tuple:
        return self._values

    def __repr__(self):
        inner = ",\n  ".join(f"{i}: {v!r}" for i, v in enumerate(self._values))
        return f"{type(self).__name__}:{{\n  {inner}\n}}"


class PerReplica(DistributedValues):
    """A possibly different value on each replica (inputs and results of ``run``)."""


class Mirrored(DistributedValues):
    """The same value on each replica."""


def regroup(values: list):
    """One replica -> the plain value; several -> PerReplica (TF's regroup at the top level)."""
    return values[0] if len(values) == 1 else PerReplica(values)


def select_replica(i: int, structure):
    """The i-th local replica's part of ``structure`` (PerReplica leaves picked, the rest as is)."""
    from .. import nest

    if isinstance(structure, DistributedValues):
        return structure.values[i]
    if isinstance(structure, (list, tuple, dict)):
        return nest.map_structure(lambda v: v.values[i] if isinstance(v, DistributedValues) else v, structure)
    return structure

"""Inputs per replica: ``InputContext``, and datasets split across workers and replicas.

``experimental_distribute_dataset(ds)``: ``ds`` yields *global* batches. Each global
batch of B rows is split into ``num_replicas_in_sync`` consecutive pieces as evenly
as possible (the first ``B % R`` pieces one row larger), as TF's rebatching does;
worker w keeps pieces ``w*L .. w*L+L-1`` (L local replicas). Every worker reads the
whole dataset, so all workers must see the same batches: shuffle with a seed.
``distribute_datasets_from_function(fn)``: ``fn(InputContext)`` builds this worker's
own pipeline, which yields per-replica batches.
"""

from __future__ import annotations

from .. import nest
from .values import PerReplica


class InputContext:
    """``tf.distribute.InputContext``: what a dataset function is told about its pipeline."""

    def __init__(self, num_input_pipelines: int = 1, input_pipeline_id: int = 0, num_replicas_in_sync: int = 1):
        self.num_input_pipelines = num_input_pipelines
        self.input_pipeline_id = input_pipeline_id
        self.num_replicas_in_sync = num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size: int) -> int:
        if global_batch_size % self.num_replicas_in_sync != 0:
            raise ValueError(
                f"The `global_batch_size` {global_batch_size} is not divisible by "
                f"`num_replicas_in_sync` {self.num_replicas_in_sync}"
            )
        return global_batch_size // self.num_replicas_in_sync

    def __repr__(self):
        return (
            f"tf.distribute.InputContext(input pipeline id {self.input_pipeline_id}, total: {self.num_input_pipelines})"
        )


class InputOptions:
    """``tf.distribute.InputOptions`` (accepted; prefetching is the dataset's own)."""

    def __init__(
        self,
        experimental_fetch_to_device=None,
        experimental_replication_mode=None,
        experimental_place_dataset_on_device=False,
        experimental_per_replica_buffer_size=1,
    ):
        self.experimental_fetch_to_device = experimental_fetch_to_device
        self.experimental_per_replica_buffer_size = experimental_per_replica_buffer_size


def split_sizes(n: int, parts: int) -> list:
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def rows(batch) -> int:
    first = next((t for t in nest.flatten(batch) if t is not None), None)
    shape = tuple(first.shape) if first is not None else ()
    if not shape:
        raise ValueError(
            "distribute: a batch element has rank 0; batch the dataset (global batches) before distributing it"
        )
    return int(shape[0])


def take_rows(batch, start: int, stop: int):
    flat = [None if t is None else t[start:stop] for t in nest.flatten(batch)]
    return nest.pack_sequence_as(batch, flat) if nest.is_nested(batch) else flat[0]


def local_pieces(batch, strategy) -> list:
    """This worker's per-replica pieces of one global batch."""
    n = rows(batch)
    sizes = split_sizes(n, strategy.num_replicas_in_sync)
    first = strategy._rank * len(strategy._devices)
    start = sum(sizes[:first])
    out = []
    for k in range(len(strategy._devices)):
        size = sizes[first + k]
        out.append(take_rows(batch, start, start + size))
        start += size
    return out


class DistributedDataset:
    """Iterating yields, per step, this worker's input: one batch, or PerReplica of them."""

    def __init__(self, strategy, dataset=None, dataset_fn=None):
        self._strategy, self._dataset, self._fn = strategy, dataset, dataset_fn
        if dataset_fn is not None:
            s = strategy
            ctx = InputContext(s._world, s._rank, s.num_replicas_in_sync)
            self._dataset = dataset_fn(ctx)

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __iter__(self):
        local = len(self._strategy._devices)
        if self._fn is not None:
            it = iter(self._dataset)
            while True:
                parts = []
                for _ in range(local):
                    try:
                        parts.append(next(it))
                    except StopIteration:
                        break
                if len(parts) < local:
                    return
                yield parts[0] if local == 1 else PerReplica(parts)
            return
        for batch in self._dataset:
            pieces = local_pieces(batch, self._strategy)
            yield pieces[0] if local == 1 else PerReplica(pieces)

    def __repr__(self):
        return f"<DistributedDataset over {self._strategy.num_replicas_in_sync} replicas>"

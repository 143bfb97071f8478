"""``MultiWorkerMirroredStrategy``: synchronous data parallelism over worker processes.

Each worker holds one replica; the workers come from a cluster resolver (Ray's when
started by ``python -m webtensor.distribute run``, else ``TF_CONFIG``; neither means
one worker, as TF). Gradients, metrics and reductions are summed across workers with
gloo (collective.py), each call bounded by ``CommunicationOptions.timeout_seconds``.
"""

from __future__ import annotations

import enum
import os

from .cluster_resolver import RayClusterResolver, TFConfigClusterResolver
from .strategy import Strategy

DEFAULT_TIMEOUT = 300.0  # seconds a collective may wait (TF's default is no limit; we always have one)


class CommunicationImplementation(enum.Enum):
    AUTO = "AUTO"
    RING = "RING"
    NCCL = "NCCL"


class CommunicationOptions:
    """``tf.distribute.experimental.CommunicationOptions``, plus two of ours: ``compression``
    ``"float16"`` sends float32 gradient buckets as float16 (half the bytes, ~3 digits), and
    ``overlap`` (default True) starts each bucket's all-reduce during the backward pass of an
    eager train step on a host backend (keras_hooks.gradients)."""

    def __init__(
        self,
        bytes_per_pack: int = 0,
        timeout_seconds: float | None = None,
        implementation=CommunicationImplementation.AUTO,
        compression: str | None = None,
        overlap: bool = True,
    ):
        if bytes_per_pack < 0:
            raise ValueError(f"bytes_per_pack must be non-negative, got {bytes_per_pack}")
        if compression not in (None, "float16"):
            raise ValueError(f"CommunicationOptions: compression must be None or 'float16', got {compression!r}")
        self.bytes_per_pack, self.timeout_seconds = bytes_per_pack, timeout_seconds
        self.implementation, self.compression, self.overlap = implementation, compression, bool(overlap)


def default_resolver():
    return RayClusterResolver() if RayClusterResolver.available() else TFConfigClusterResolver()


class MultiWorkerMirroredStrategy(Strategy):
    """``tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=None, communication_options=None)``."""

    def __init__(self, cluster_resolver=None, communication_options=None):
        from .. import backends

        local = "/GPU:0" if getattr(backends.default(), "name", "") == "gpu" else "/CPU:0"
        super().__init__((local,))
        self._cluster_resolver = cluster_resolver or default_resolver()
        self._options = communication_options or CommunicationOptions()
        self._rank, self._world, address = self._cluster_resolver.rank_and_world()
        if self._world > 1:
            from .collective import Collective

            timeout = self._options.timeout_seconds or float(os.environ.get("WEBTENSOR_DIST_TIMEOUT", DEFAULT_TIMEOUT))
            r = self._cluster_resolver
            self._coll = Collective(self._rank, self._world, address, timeout, task=f"{r.task_type} {r.task_id}")

    @property
    def is_chief(self) -> bool:
        return self._rank == 0

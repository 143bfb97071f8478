"""``tf.distribute``: data-parallel strategies; several processes through Ray and gloo.

One process: ``MirroredStrategy`` (a replica per local device), ``OneDeviceStrategy``,
the default strategy. Several: ``MultiWorkerMirroredStrategy`` with workers started by
``python -m webtensor.distribute run`` (Ray) or described by ``TF_CONFIG``. The core
imports no numpy/torch/ray here; only a multi-worker group loads them.
"""

from . import cluster_resolver
from .context import (
    ReplicaContext,
    get_cross_replica_context,
    get_replica_context,
    get_strategy,
    has_strategy,
    in_cross_replica_context,
)
from .input import DistributedDataset, InputContext, InputOptions
from .multi_worker import CommunicationImplementation, CommunicationOptions, MultiWorkerMirroredStrategy
from .reduce_op import ReduceOp
from .strategy import MirroredStrategy, OneDeviceStrategy, Strategy, ValueContext
from .values import DistributedValues, Mirrored, PerReplica


class experimental:  # noqa: N801  (tf.distribute.experimental namespace)
    CommunicationOptions = CommunicationOptions
    CommunicationImplementation = CommunicationImplementation
    CollectiveCommunication = CommunicationImplementation
    MultiWorkerMirroredStrategy = MultiWorkerMirroredStrategy
    ValueContext = ValueContext
    PerReplica = PerReplica


def __getattr__(name):
    if name == "collective":
        from . import collective

        return collective
    raise AttributeError(f"module 'webtensor.distribute' has no attribute {name!r}")

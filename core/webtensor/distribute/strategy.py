"""``tf.distribute.Strategy`` and the one-process strategies (default, OneDevice, Mirrored).

A strategy has ``_devices`` (its local replicas, run one after another in this process)
and, for several workers, a ``Collective`` (``_coll``) that sums across processes;
``MultiWorkerMirroredStrategy`` (multi_worker.py) only adds the cluster and the collective.
Every reduction is: combine the local replicas with tensor ops, then all-reduce across
workers. ``num_replicas_in_sync`` = workers x local replicas.
"""

from __future__ import annotations

import contextlib

from .. import nest
from . import context, mirrored_run
from .input import DistributedDataset
from .reduce_op import ReduceOp, as_reduce_op
from .values import DistributedValues, PerReplica, regroup, select_replica


class _Extended:
    """``strategy.extended``: the few members Keras-style code asks for."""

    def __init__(self, strategy):
        self._s = strategy

    should_checkpoint = property(lambda self: self._s._rank == 0)
    should_save_summary = property(lambda self: self._s._rank == 0)
    should_init = property(lambda self: True)
    worker_devices = property(lambda self: tuple(self._s._devices))
    parameter_devices = worker_devices

    def _in_multi_worker_mode(self) -> bool:
        return self._s._world > 1


class Strategy:
    """Base of every strategy: scope, run, reduce, gather, distributed datasets."""

    def __init__(self, devices=("/CPU:0",)):
        from ..placement import backend_for_device

        self._devices = tuple(_canonical(d) for d in devices)
        if not self._devices:
            raise ValueError(f"{type(self).__name__}: `devices` is empty; give at least one device")
        if len(set(self._devices)) != len(self._devices):
            raise ValueError(f"{type(self).__name__}: duplicated devices in {list(devices)}")
        self._backends = [backend_for_device(d) for d in self._devices]
        self._rank, self._world = 0, 1
        self._coll = None  # Collective across workers (MultiWorkerMirroredStrategy)
        self._options = None  # CommunicationOptions
        self._cluster_resolver = None
        self.extended = _Extended(self)

    # -- what it is -----------------------------------------------------------------------------
    @property
    def num_replicas_in_sync(self) -> int:
        return self._world * len(self._devices)

    @property
    def cluster_resolver(self):
        return self._cluster_resolver

    def __repr__(self):
        return (
            f"<tf.distribute.{type(self).__name__} devices={list(self._devices)} replicas={self.num_replicas_in_sync}>"
        )

    # -- scope ----------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def scope(self):
        """Variables created here are mirrored: every worker starts from rank 0's value."""
        if context._scopes and context._scopes[-1] is not self and not isinstance(context._scopes[-1], _Default):
            raise RuntimeError(
                f"Mixing different tf.distribute.Strategy objects: {self!r} inside the scope of {context._scopes[-1]!r}"
            )
        from .. import tensor

        context._scopes.append(self)
        tensor.variable_creation_hooks.append(self._on_variable_created)
        try:
            yield self
        finally:
            tensor.variable_creation_hooks.remove(self._on_variable_created)
            context._scopes.pop()

    def _on_variable_created(self, variable) -> None:
        if self._coll is not None and not context._replicas:
            variable.assign(_constant(self._coll.broadcast([variable.numpy()])[0]))

    def _default_replica_context(self):
        return context.ReplicaContext(self, 0)

    # -- running -----------------------------------------------------------------------------------
    def run(self, fn, args=(), kwargs=None, options=None):
        """``fn`` once per local replica, with that replica's part of PerReplica arguments."""
        kwargs = kwargs or {}
        if len(self._devices) > 1 and mirrored_run.threads_available():  # replicas may meet (all_reduce)
            return regroup(mirrored_run.run(self, fn, tuple(args), dict(kwargs), _replica_device))
        results = []
        for i, dev in enumerate(self._devices):
            ctx = context.ReplicaContext(self, self._rank * len(self._devices) + i, i)
            context._replicas.append(ctx)
            try:
                with _replica_device(dev):
                    results.append(fn(*select_replica(i, tuple(args)), **select_replica(i, dict(kwargs))))
            finally:
                context._replicas.pop()
        return regroup(results)

    def experimental_local_results(self, value) -> tuple:
        return value.values if isinstance(value, DistributedValues) else (value,)

    def experimental_distribute_dataset(self, dataset, options=None) -> DistributedDataset:
        return DistributedDataset(self, dataset=dataset)

    def distribute_datasets_from_function(self, dataset_fn, options=None) -> DistributedDataset:
        return DistributedDataset(self, dataset_fn=dataset_fn)

    def experimental_distribute_values_from_function(self, value_fn):
        vals = [
            value_fn(ValueContext(self._rank * len(self._devices) + i, self.num_replicas_in_sync))
            for i in range(len(self._devices))
        ]
        return regroup(vals)

    # -- reductions -------------------------------------------------------------------------------------
    def reduce(self, reduce_op, value, axis=None):
        """SUM or MEAN over all replicas (and over ``axis`` of each, if given), in cross-replica context."""
        if context._replicas and context._replicas[-1] is not None:
            raise RuntimeError(
                "strategy.reduce must be called in cross-replica context (outside strategy.run); "
                "inside it use tf.distribute.get_replica_context().all_reduce"
            )
        op = as_reduce_op(reduce_op)
        if not isinstance(value, DistributedValues) and self._world == 1:
            if op is ReduceOp.SUM and self.num_replicas_in_sync != 1:
                raise ValueError(
                    f"A non-DistributedValues value {value!r} cannot be reduced with the given reduce op {op}."
                )
            if axis is None:
                return value if op is ReduceOp.MEAN else _sum_local([value])
        return nest.map_structure(
            lambda *parts: self._reduce_parts(op, list(parts), axis),
            *[p for p in self.experimental_local_results(value)],
        )

    def _reduce_parts(self, op, parts, axis):
        from .. import tensor
        from ..ops import math as M
        from ..ops import reduce as R

        parts = [tensor.convert_to_tensor(p) for p in parts]
        count = float(self.num_replicas_in_sync)
        if axis is not None:
            count = float(sum(int(p.shape[axis]) for p in parts))
            parts = [R.reduce_sum(p, axis) for p in parts]
            if self._coll is not None:
                count = float(self._coll.all_reduce([_np_float(count)])[0][0])
        total = self._cross_worker_sum(_sum_local(parts))
        return M.divide(total, M.cast(count, total.dtype)) if op is ReduceOp.MEAN else total

    def _cross_worker_sum(self, t):
        if self._coll is None:
            return t
        return _constant(self._coll.all_reduce([t.numpy()], "sum")[0])

    def gather(self, value, axis: int):
        """All replicas' values concatenated along ``axis``, in replica order."""
        from ..ops import array as A

        def one(*parts):
            local = A.concat(list(parts), axis) if len(parts) > 1 else parts[0]
            if self._coll is None:
                return local
            if axis != 0:
                local_t = A.transpose(local, _swap(len(local.shape), axis))
                full = A.concat([_constant(p) for p in self._coll.all_gather(local_t.numpy())], 0)
                return A.transpose(full, _swap(len(local.shape), axis))
            return A.concat([_constant(p) for p in self._coll.all_gather(local.numpy())], 0)

        return nest.map_structure(one, *self.experimental_local_results(value))

    def _merged_all_reduce(self, op, per_replica):
        """The merge of ``ReplicaContext.all_reduce`` with several local replicas: one value for all."""
        return nest.map_structure(lambda *parts: self._reduce_parts(op, list(parts), None), *per_replica.values)

    def _replica_all_reduce(self, op, value):
        """``ReplicaContext.all_reduce`` with one local replica: only the workers meet."""
        from ..ops import math as M

        def one(t):
            from .. import tensor

            total = self._cross_worker_sum(tensor.convert_to_tensor(t))
            return (
                M.divide(total, M.cast(float(self.num_replicas_in_sync), total.dtype)) if op is ReduceOp.MEAN else total
            )

        return nest.map_structure(one, value)

    def _replica_all_gather(self, value, axis):
        return self.gather(value, axis)


class ValueContext:
    """``tf.distribute.experimental.ValueContext``."""

    def __init__(self, replica_id_in_sync_group: int = 0, num_replicas_in_sync: int = 1):
        self.replica_id_in_sync_group = replica_id_in_sync_group
        self.num_replicas_in_sync = num_replicas_in_sync


class _Default(Strategy):
    """The strategy in effect outside every scope: one replica, nothing mirrored."""

    def __init__(self):
        super().__init__(("/CPU:0",))

    def scope(self):
        return contextlib.nullcontext(self)

    def run(self, fn, args=(), kwargs=None, options=None):
        return fn(*args, **(kwargs or {}))


_DEFAULT: list = []


def default_strategy() -> Strategy:
    if not _DEFAULT:
        _DEFAULT.append(_Default())
    return _DEFAULT[0]


class _OnDevices(Strategy):
    """Strategies whose scope places new variables and ops on their (first) device."""

    @contextlib.contextmanager
    def scope(self):
        from ..placement import device

        with super().scope(), device(self._devices[0]):
            yield self


class OneDeviceStrategy(_OnDevices):
    """``tf.distribute.OneDeviceStrategy(device)``: one replica; ops and variables on ``device``."""

    def __init__(self, device: str):
        super().__init__((device,))


class MirroredStrategy(_OnDevices):
    """``tf.distribute.MirroredStrategy(devices=None)``: a replica per local device.

    Default devices: the GPU when the GPU backend is available, else the CPU (one replica).
    Several devices (e.g. ``["/cpu:0", "/cpu:1"]``) run their replicas one after another."""

    def __init__(self, devices=None, cross_device_ops=None):
        if devices is None:
            from .. import config

            gpus = config.list_logical_devices("GPU")
            devices = [d.name for d in gpus] or ["/CPU:0"]
        super().__init__(tuple(devices))
        kinds = {type(b).__name__ for b in self._backends}
        if len(kinds) > 1:
            raise ValueError(
                f"MirroredStrategy: devices {list(self._devices)} are on different backends "
                f"({sorted(kinds)}); mirror over devices of one kind"
            )


def _replica_device(dev: str):
    """``tf.device(dev)`` eagerly; nothing inside a tf.function trace, whose tracer places the ops
    (a device scope there would hand the op to the eager backend, which cannot read a symbolic tensor)."""
    from ..function.trace import TRACER
    from ..placement import device

    return contextlib.nullcontext() if TRACER.stack else device(dev)


def _canonical(name: str) -> str:
    from ..placement import parse

    kind, index = parse(name)
    return f"/job:localhost/replica:0/task:0/device:{kind}:{index}"


def _sum_local(parts):
    from ..ops import math as M

    total = parts[0]
    for p in parts[1:]:
        total = M.add(total, p)
    return total


def _swap(rank: int, axis: int) -> list:
    perm = list(range(rank))
    perm[0], perm[axis] = perm[axis], perm[0]
    return perm


def _np_float(x):
    import numpy as np

    return np.array([x], np.float64)


def _constant(array):
    from .. import tensor

    return tensor.constant(array)


__all__ = ["Strategy", "OneDeviceStrategy", "MirroredStrategy", "ReduceOp", "PerReplica"]

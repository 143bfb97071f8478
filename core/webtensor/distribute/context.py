"""Which strategy is current, and whether code runs per replica or across replicas.

Outside any ``scope()`` the default strategy (one replica, no communication) is
current and code is in its default *replica* context, as TF: ``get_replica_context()``
is a ReplicaContext and ``in_cross_replica_context()`` is False. Inside
``strategy.scope()`` code is in cross-replica context (``get_replica_context()`` is
None); inside ``strategy.run(fn)`` it is in the replica context of one replica.
"""

from __future__ import annotations

from .reduce_op import as_reduce_op

_scopes: list = []  # strategies whose scope() is entered, innermost last
_replicas: list = []  # ReplicaContexts of the run() calls in progress


class ReplicaContext:
    """``tf.distribute.ReplicaContext``: what ``fn`` sees inside ``strategy.run``."""

    def __init__(self, strategy, replica_id_in_sync_group: int, local_index: int = 0):
        self._strategy = strategy
        self._replica_id = replica_id_in_sync_group
        self._local = local_index

    strategy = property(lambda self: self._strategy)
    replica_id_in_sync_group = property(lambda self: self._replica_id)
    num_replicas_in_sync = property(lambda self: self._strategy.num_replicas_in_sync)
    devices = property(lambda self: (self._strategy._devices[self._local],))

    def all_reduce(self, reduce_op, value, options=None):
        """SUM or MEAN of ``value`` (a nest of tensors) over all replicas in sync. Several local
        replicas meet in a merge_call; the result is not differentiated (TF's is)."""
        op = as_reduce_op(reduce_op)
        if len(self._strategy._devices) > 1:
            return self.merge_call(lambda s, per: s._merged_all_reduce(op, per), (value,))
        return self._strategy._replica_all_reduce(op, value)

    def all_gather(self, value, axis: int, options=None):
        """Every replica's ``value`` concatenated along ``axis``, in replica order."""
        if len(self._strategy._devices) > 1:
            return self.merge_call(lambda s, per: s.gather(per, axis), (value,))
        return self._strategy._replica_all_gather(value, axis)

    def merge_call(self, merge_fn, args=(), kwargs=None):
        """``merge_fn(strategy, *args)`` once, in cross-replica context. With several local
        replicas each argument arrives as a PerReplica of the replicas' values, and each
        replica gets its part of the result (mirrored_run.py)."""
        baton = getattr(self, "_baton", None)
        if baton is not None:
            return baton.merge_call(merge_fn, tuple(args), kwargs or {})
        if len(self._strategy._devices) > 1:
            raise RuntimeError(
                f"ReplicaContext.merge_call (all_reduce, all_gather): the {len(self._strategy._devices)} "
                f"local replicas of {type(self._strategy).__name__} run one after another here (no "
                "threads, e.g. in Pyodide), so they cannot meet inside strategy.run; return the values "
                "from run and use strategy.reduce"
            )
        _replicas.append(None)
        try:
            return merge_fn(self._strategy, *args, **(kwargs or {}))
        finally:
            _replicas.pop()

    def __repr__(self):
        return f"<ReplicaContext replica {self._replica_id} of {self.num_replicas_in_sync}>"


def get_strategy():
    """The innermost entered strategy, else the default (one-replica) strategy."""
    if _scopes:
        return _scopes[-1]
    from .strategy import default_strategy

    return default_strategy()


def has_strategy() -> bool:
    return bool(_scopes)


def in_cross_replica_context() -> bool:
    if _replicas:
        return _replicas[-1] is None
    return bool(_scopes)


def get_replica_context():
    """The ReplicaContext inside run (or outside any scope), None in cross-replica context."""
    if _replicas:
        return _replicas[-1]
    if _scopes:
        return None
    return get_strategy()._default_replica_context()


def get_cross_replica_context():
    return get_strategy() if in_cross_replica_context() else None

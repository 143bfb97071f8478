"""Local replicas that meet inside ``strategy.run``: ``ReplicaContext.all_reduce``/``merge_call``.

TF's MirroredStrategy runs each replica's ``fn`` in a thread of its own, and so does this,
but only one thread runs at a time: the caller hands the baton to replica 0, which runs
until ``fn`` returns or it reaches a ``merge_call``; then replica 1, and so on. When every
replica waits in ``merge_call`` the caller runs ``merge_fn`` once, in cross-replica context,
on the replicas' arguments (each a ``PerReplica``), and each replica resumes with its part
of the result. One at a time keeps the op order of the plain replica loop (deterministic,
and the deferred ``apply_gradients`` of keras_hooks works unchanged), and lets the state a
replica owns be swapped at each hand-off: the active tapes, the replica context and the
device scope are module lists (not thread-locals; Pyodide has no threads), name scopes
are per thread and start as the caller's. A tf.function trace is shared: every replica's
ops join the graph being traced, as in TF.

Pyodide has no threads: there the replicas run one after another and a meeting raises.
"""

from __future__ import annotations

import sys
import threading

from . import context
from .values import PerReplica, select_replica


def threads_available() -> bool:
    return sys.platform != "emscripten"


def _lists() -> tuple:
    from .. import autodiff, placement

    return (autodiff.tapes, context._replicas, placement._scope)


def _save() -> list:
    return [list(v) for v in _lists()]


def _load(state: list) -> None:
    for v, saved in zip(_lists(), state):
        v[:] = saved


class _Replica:
    """One replica's thread and the two events that pass the baton to it and back."""

    def __init__(self, index: int, body, state: list, name_scopes: list):
        self.index, self.body, self.state, self.name_scopes = index, body, state, name_scopes
        self.go, self.back = threading.Event(), threading.Event()
        self.done, self.result, self.error = False, None, None
        self.merge = None  # (merge_fn, args, kwargs) while it waits in merge_call
        self.reply = None  # (ok, value) the caller leaves for that merge_call
        self.thread = threading.Thread(target=self._main, name=f"replica-{index}", daemon=True)

    def _main(self) -> None:
        from .. import module

        self._wait_for_baton()
        module._LOCAL.scopes = list(self.name_scopes)
        try:
            self.result = self.body(self)
        except BaseException as e:  # re-raised by the caller, in its own thread
            self.error = e
        self.done = True
        self._hand_back()

    def _wait_for_baton(self) -> None:
        self.go.wait()
        self.go.clear()
        _load(self.state)

    def _hand_back(self) -> None:
        self.state = _save()
        self.back.set()

    def resume(self, caller_state: list) -> None:
        """Caller side: let this replica run until it returns or waits in merge_call."""
        self.go.set()
        self.back.wait()
        self.back.clear()
        _load(caller_state)

    def merge_call(self, merge_fn, args: tuple, kwargs: dict):
        """Replica side: wait until every replica is here and the caller has merged."""
        self.merge = (merge_fn, args, kwargs)
        self._hand_back()
        self._wait_for_baton()
        self.merge = None
        ok, value = self.reply
        if not ok:
            raise value
        return value


def run(strategy, fn, args: tuple, kwargs: dict, device_scope) -> list:
    """``fn`` on each local replica in its own thread; returns the replicas' results in order."""
    from .. import module

    n = len(strategy._devices)
    caller = _save()
    scopes = list(getattr(module._LOCAL, "scopes", None) or [])

    def body_for(i: int):
        def body(rep):
            ctx = context.ReplicaContext(strategy, strategy._rank * n + i, i)
            ctx._baton = rep
            context._replicas.append(ctx)
            try:
                with device_scope(strategy._devices[i]):
                    return fn(*select_replica(i, args), **select_replica(i, kwargs))
            finally:
                context._replicas.pop()

        return body

    reps = [_Replica(i, body_for(i), caller, scopes) for i in range(n)]
    culprit = None
    try:
        for r in reps:
            r.thread.start()
        while True:
            for r in reps:
                if not r.done:
                    r.resume(caller)
            if all(r.done for r in reps):
                break
            culprit = _meet(strategy, reps, caller)
    finally:
        _load(caller)
        for r in reps:
            if r.done:  # a replica still waiting (the caller was interrupted) is a daemon thread
                r.thread.join()
    for r in ([culprit] if culprit is not None else []) + reps:
        if r.error is not None:
            raise r.error
    return [r.result for r in reps]


def _meet(strategy, reps: list, caller: list):
    """Every unfinished replica waits in merge_call: merge once (None), or, when one failed or
    returned early, fail the waiting ones and return that replica (the culprit)."""
    waiting = [r for r in reps if not r.done]
    failed = next((r for r in reps if r.error is not None), None)
    if failed is not None or len(waiting) != len(reps):
        done = [r.index for r in reps if r.done]
        error = failed.error if failed is not None else None
        if error is None:
            error = RuntimeError(
                f"strategy.run: local replica {done[0]} returned from fn while replicas "
                f"{[r.index for r in waiting]} wait in ReplicaContext.all_reduce/all_gather/merge_call; "
                "every replica must make the same collective calls in the same order"
            )
            failed = reps[done[0]]
            failed.error = error
        _abandon(waiting, failed.index, caller)
        return failed
    merge_fn, _, kwargs = waiting[0].merge
    merged_args = tuple(PerReplica(parts) for parts in zip(*(r.merge[1] for r in reps)))
    context._replicas.append(None)  # cross-replica context while merging
    try:
        out, ok = merge_fn(strategy, *merged_args, **kwargs), True
    except BaseException as e:
        out, ok = e, False
    finally:
        context._replicas.pop()
    for r in reps:
        r.reply = (True, select_replica(r.index, out)) if ok else (False, out)
    return None


def _abandon(waiting: list, culprit: int, caller: list) -> None:
    """Wake replicas left waiting in merge_call with an error, until each has returned."""
    for _ in range(1000):
        waiting = [r for r in waiting if not r.done]
        if not waiting:
            return
        for r in waiting:
            r.reply = (False, RuntimeError(f"strategy.run: local replica {culprit} did not reach this meeting"))
            r.resume(caller)

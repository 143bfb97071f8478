"""Run a function or a script on N Ray worker processes as one MultiWorkerMirroredStrategy group.

Ray places the workers (one actor each, ``num_cpus_per_worker`` CPUs), streams their
output to the driver prefixed with ``(rank=N ...)`` (the actor's repr), and tells us
when a worker process dies. Then, like Ray Train's FailureConfig, the whole group is
torn down and started again, up to ``max_restarts`` times: a collective group cannot
take back one new member, and with ``BackupAndRestore`` the new group resumes from the
last backup. Each worker learns its place from ``WEBTENSOR_RAY_*`` variables
(``RayClusterResolver``); rank 0's node hosts the gloo rendezvous on a free port.
"""

from __future__ import annotations

import os
import socket
import sys
import traceback


class WorkerFailedError(RuntimeError):
    """A worker died (or raised) and could not be restarted."""


class _Worker:
    """One rank of the group, in its own Ray worker process."""

    def __init__(self, rank: int, world_size: int, attempt: int):
        self.rank, self.world_size, self.attempt = rank, world_size, attempt

    def __repr__(self):  # Ray prefixes this worker's log lines with it
        return f"rank={self.rank}"

    def where(self) -> tuple:
        import ray

        host = ray.util.get_node_ip_address()
        with socket.socket() as s:
            s.bind(("", 0))
            port = s.getsockname()[1]
        return host, port, os.getpid()

    def run(self, env: dict, kind: str, payload, args=(), kwargs=None):
        os.environ.update({k: str(v) for k, v in env.items()})
        os.environ.update(
            {
                "WEBTENSOR_RAY_RANK": str(self.rank),
                "WEBTENSOR_RAY_WORLD_SIZE": str(self.world_size),
                "WEBTENSOR_RAY_ATTEMPT": str(self.attempt),
            }
        )
        if kind == "fn":
            return payload(*args, **(kwargs or {}))
        path, source, argv = payload
        sys.argv = [path] + list(argv)
        try:
            exec(compile(source, path, "exec"), {"__name__": "__main__", "__file__": path})
        except SystemExit as e:
            code = e.code
            if code is None:
                return 0
            if isinstance(code, int):
                return code
            print(code, file=sys.stderr)
            return 1
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
            return 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return 0


def run(
    fn=None,
    *,
    script: str | None = None,
    argv=(),
    args=(),
    kwargs=None,
    num_workers: int = 2,
    max_restarts: int = 0,
    num_cpus_per_worker: float = 1,
    env: dict | None = None,
    timeout: float | None = None,
) -> list:
    """``fn(*args, **kwargs)`` (or ``script`` with ``argv``) on every rank; returns each rank's result
    (a script's exit code) in rank order. Ray must be initialised (``ray.init``) by the caller."""
    import ray

    if (fn is None) == (script is None):
        raise ValueError("ray_runner.run: give exactly one of `fn` and `script`")
    if num_workers < 1:
        raise ValueError(f"ray_runner.run: num_workers must be >= 1, got {num_workers}")
    if script is not None:
        with open(script, encoding="utf-8") as f:
            payload = (os.path.abspath(script), f.read(), tuple(argv))
        kind = "script"
    else:
        payload, kind = fn, "fn"
    actor_cls = ray.remote(_Worker)
    base_env = dict(env or {})
    if timeout is not None:
        base_env["WEBTENSOR_DIST_TIMEOUT"] = str(timeout)
    failures = []
    for attempt in range(max_restarts + 1):
        workers = [
            actor_cls.options(num_cpus=num_cpus_per_worker, max_restarts=0, max_concurrency=2).remote(
                r, num_workers, attempt
            )
            for r in range(num_workers)
        ]
        try:
            places = ray.get([w.where.remote() for w in workers])
            host, port, _ = places[0]
            run_env = dict(base_env, WEBTENSOR_RAY_ADDRESS=f"{host}:{port}")
            refs = [w.run.remote(run_env, kind, payload, args, kwargs) for w in workers]
            died = _wait_all(ray, refs, places)
            if died is None:
                return ray.get(refs)
            failures.append(died)
        finally:
            for w in workers:
                ray.kill(w, no_restart=True)
    rank, pid, err = failures[-1]
    raise WorkerFailedError(
        f"distribute: worker rank {rank} (pid {pid}) died and the group was restarted "
        f"{max_restarts} times (max_restarts={max_restarts}); giving up. Last error: {err}"
    )


def _wait_all(ray, refs, places):
    """None when every rank finished; else (rank, pid, error) of the failure to restart for: a worker
    process that died, or (when no death shows up within a few seconds) a collective that failed
    because of one. Any other Python exception raised by ``fn`` is re-raised as is."""
    from ray.exceptions import ActorDiedError, RayActorError, RayTaskError, WorkerCrashedError

    from .collective import CollectiveError

    pending, broken = list(refs), None
    while pending:
        done, pending = ray.wait(pending, num_returns=1, timeout=None if broken is None else 10.0)
        if not done:
            return broken
        rank = refs.index(done[0])
        try:
            ray.get(done[0])
        except (RayActorError, ActorDiedError, WorkerCrashedError) as e:
            return rank, places[rank][2], str(e).splitlines()[0]
        except RayTaskError as e:
            cause = e.as_instanceof_cause() if hasattr(e, "as_instanceof_cause") else e
            if isinstance(cause, CollectiveError) or "CollectiveError" in str(e).splitlines()[0]:
                broken = broken or (rank, places[rank][2], str(cause).splitlines()[-1])
                continue
            raise cause from None
    return broken

"""``tf.distribute.cluster_resolver``: who the workers are and which one this process is.

``TFConfigClusterResolver`` reads TF's ``TF_CONFIG`` JSON
(``{"cluster": {"chief": [...], "worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}``).
``RayClusterResolver`` reads what ``webtensor.distribute.ray_runner`` gives each Ray worker
(``WEBTENSOR_RAY_RANK``, ``WEBTENSOR_RAY_WORLD_SIZE``, ``WEBTENSOR_RAY_ADDRESS``).
Ranks: the chief (if any) is rank 0, then the workers in order; rank 0's address
hosts the collective's rendezvous (a TCP store on that port).
"""

from __future__ import annotations

import json
import os


class ClusterSpec:
    """``tf.train.ClusterSpec``: job name -> list of "host:port" addresses."""

    def __init__(self, cluster):
        if isinstance(cluster, ClusterSpec):
            cluster = cluster.as_dict()
        self._jobs = {}
        for job, tasks in (cluster or {}).items():
            if isinstance(tasks, dict):
                tasks = [tasks[k] for k in sorted(tasks)]
            if not isinstance(tasks, (list, tuple)) or not all(isinstance(t, str) for t in tasks):
                raise ValueError(f"ClusterSpec: job {job!r} must list 'host:port' strings, got {tasks!r}")
            self._jobs[job] = list(tasks)

    @property
    def jobs(self) -> list:
        return list(self._jobs)

    def as_dict(self) -> dict:
        return {k: list(v) for k, v in self._jobs.items()}

    def num_tasks(self, job_name: str) -> int:
        return len(self._jobs.get(job_name, []))

    def task_address(self, job_name: str, task_index: int) -> str:
        try:
            return self._jobs[job_name][task_index]
        except (KeyError, IndexError):
            raise ValueError(f"No such task: job {job_name!r} index {task_index} in {self._jobs}") from None

    def task_indices(self, job_name: str) -> list:
        return list(range(self.num_tasks(job_name)))

    def __bool__(self):
        return bool(self._jobs)

    def __eq__(self, other):
        return isinstance(other, ClusterSpec) and self._jobs == other._jobs

    def __repr__(self):
        return f"ClusterSpec({self._jobs})"


class ClusterResolver:
    """Base: ``cluster_spec()``, ``task_type``, ``task_id``, ``master()``, ``num_accelerators()``."""

    task_type = None
    task_id = None
    rpc_layer = None
    environment = ""

    def cluster_spec(self) -> ClusterSpec:
        raise TypeError(f"{type(self).__name__} must implement cluster_spec")

    def master(self, task_type=None, task_id=None, rpc_layer=None) -> str:
        spec = self.cluster_spec()
        task_type = task_type if task_type is not None else self.task_type
        task_id = task_id if task_id is not None else self.task_id
        if task_type is None or not spec:
            return ""
        addr = spec.task_address(task_type, task_id)
        layer = rpc_layer or self.rpc_layer
        return f"{layer}://{addr}" if layer else addr

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None) -> dict:
        from .. import config

        n = len(config.list_logical_devices("GPU"))
        return {"GPU": n} if n else {}

    # -- what the collective needs ------------------------------------------------------------------
    def rank_and_world(self) -> tuple:
        """(rank, world size, rank 0's address) over the chief and worker tasks."""
        spec = self.cluster_spec()
        tasks = [("chief", i) for i in spec.task_indices("chief")] + [
            ("worker", i) for i in spec.task_indices("worker")
        ]
        if not tasks:
            return 0, 1, None
        me = (self.task_type, int(self.task_id or 0))
        if me not in tasks:
            raise ValueError(
                f"{type(self).__name__}: this task {me} is not among the chief/worker tasks {tasks} of {spec}"
            )
        return tasks.index(me), len(tasks), spec.task_address(*tasks[0])


class SimpleClusterResolver(ClusterResolver):
    def __init__(
        self,
        cluster_spec,
        master="",
        task_type=None,
        task_id=None,
        environment="",
        num_accelerators=None,
        rpc_layer=None,
    ):
        self._spec = ClusterSpec(cluster_spec)
        self._master, self.task_type, self.task_id = master, task_type, task_id
        self.environment, self.rpc_layer = environment, rpc_layer

    def cluster_spec(self) -> ClusterSpec:
        return self._spec

    def master(self, task_type=None, task_id=None, rpc_layer=None) -> str:
        return self._master or super().master(task_type, task_id, rpc_layer)


class TFConfigClusterResolver(ClusterResolver):
    """The cluster and this task from the ``TF_CONFIG`` environment variable (read on each call)."""

    def __init__(self, task_type=None, task_id=None, rpc_layer=None, environment=None):
        self._task_type, self._task_id = task_type, task_id
        self._rpc_layer, self._environment = rpc_layer, environment

    @staticmethod
    def _config() -> dict:
        raw = os.environ.get("TF_CONFIG", "")
        if not raw:
            return {}
        try:
            cfg = json.loads(raw)
        except json.JSONDecodeError as e:
            raise ValueError(f"TF_CONFIG is not valid JSON ({e}): {raw[:200]!r}") from None
        if not isinstance(cfg, dict):
            raise ValueError(f"TF_CONFIG must be a JSON object, got {type(cfg).__name__}")
        return cfg

    @property
    def task_type(self):
        return self._task_type if self._task_type is not None else self._config().get("task", {}).get("type")

    @task_type.setter
    def task_type(self, value):
        self._task_type = value

    @property
    def task_id(self):
        if self._task_id is not None:
            return self._task_id
        idx = self._config().get("task", {}).get("index")
        return int(idx) if idx is not None else None

    @task_id.setter
    def task_id(self, value):
        self._task_id = value

    @property
    def rpc_layer(self):
        return self._rpc_layer if self._rpc_layer is not None else self._config().get("rpc_layer")

    @property
    def environment(self):
        return self._environment if self._environment is not None else self._config().get("environment", "")

    def cluster_spec(self) -> ClusterSpec:
        return ClusterSpec(self._config().get("cluster", {}))


class RayClusterResolver(ClusterResolver):
    """This Ray worker's place in the group ``ray_runner`` started (rank, world size, chief address)."""

    def __init__(self):
        env = os.environ
        missing = [
            k for k in ("WEBTENSOR_RAY_RANK", "WEBTENSOR_RAY_WORLD_SIZE", "WEBTENSOR_RAY_ADDRESS") if k not in env
        ]
        if missing:
            raise ValueError(
                f"RayClusterResolver: {missing} not set; start the workers with "
                "`python -m webtensor.distribute run` or webtensor.distribute.ray_runner.run"
            )
        self._rank, self._world = int(env["WEBTENSOR_RAY_RANK"]), int(env["WEBTENSOR_RAY_WORLD_SIZE"])
        self._address = env["WEBTENSOR_RAY_ADDRESS"]
        self.task_type, self.task_id = "worker", self._rank
        self.environment = "ray"

    @staticmethod
    def available() -> bool:
        return "WEBTENSOR_RAY_RANK" in os.environ

    def cluster_spec(self) -> ClusterSpec:
        # Only rank 0's address is used (the rendezvous); the others are named by rank.
        return ClusterSpec({"worker": [self._address] + [f"ray-rank-{i}" for i in range(1, self._world)]})

    def rank_and_world(self) -> tuple:
        return self._rank, self._world, self._address

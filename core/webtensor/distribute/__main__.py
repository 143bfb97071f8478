"""``python -m webtensor.distribute run [--num-workers N] [--address ADDR] script.py [args...]``.

Starts a local Ray cluster (or joins ``--address``, e.g. ``ray://head:10001`` or ``auto``),
runs the script on N workers as one MultiWorkerMirroredStrategy group, streams each
worker's output prefixed with its rank, and exits with the chief's (rank 0's) exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m webtensor.distribute")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a training script on N Ray workers")
    r.add_argument("--num-workers", type=int, default=2)
    r.add_argument("--address", default=None, help="an existing Ray cluster (default: start a local one)")
    r.add_argument("--max-restarts", type=int, default=0, help="restart the group this many times if a worker dies")
    r.add_argument("--timeout", type=float, default=None, help="seconds each collective may wait (default 300)")
    r.add_argument("--cpus-per-worker", type=float, default=1)
    r.add_argument(
        "--working-dir",
        default=None,
        help="a directory Ray uploads to every worker (for modules the script imports); the script "
        "itself is always shipped",
    )
    r.add_argument("script")
    r.add_argument("args", nargs=argparse.REMAINDER)
    ns = p.parse_args(argv)
    if not os.path.isfile(ns.script):
        p.error(f"no such script: {ns.script}")
    try:
        import ray
    except ImportError:
        print("webtensor.distribute run needs Ray: pip install 'webtensor[distribute]'", file=sys.stderr)
        return 2
    from . import ray_runner

    runtime_env = {"working_dir": ns.working_dir} if ns.working_dir else None
    if ns.address:
        ray.init(address=ns.address, runtime_env=runtime_env)
    else:
        ray.init(
            num_cpus=max(int(ns.num_workers * ns.cpus_per_worker), 1), include_dashboard=False, runtime_env=runtime_env
        )
    try:
        codes = ray_runner.run(
            script=ns.script,
            argv=ns.args,
            num_workers=ns.num_workers,
            max_restarts=ns.max_restarts,
            num_cpus_per_worker=ns.cpus_per_worker,
            timeout=ns.timeout,
        )
    except ray_runner.WorkerFailedError as e:
        print(f"webtensor.distribute: {e}", file=sys.stderr)
        return 1
    finally:
        time.sleep(1.5)  # Ray's log monitor forwards the last lines of worker output asynchronously
        ray.shutdown()
    bad = {rank: c for rank, c in enumerate(codes) if c}
    if bad:
        print(f"webtensor.distribute: exit codes by rank {bad}", file=sys.stderr)
    return codes[0]


if __name__ == "__main__":
    sys.exit(main())

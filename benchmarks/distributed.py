"""tf.distribute on Ray: samples/s of the digits CNN with 1 and 2 workers, and the gloo
all-reduce time against the bytes reduced.

Each worker is a Ray actor with 1 CPU (Ray sets its BLAS/OpenMP threads to 1), so
"2 workers" uses both cores of this machine and "1 worker" one: the ratio is the
data-parallel scaling per core. The per-worker batch is fixed (the global batch grows
with the workers), as in TF's guidance; the loop is fit() over in-memory arrays.

On a shared machine other processes steal cores, so 1 and 2 workers run alternately for
``--rounds`` rounds and each configuration keeps its best round (the least disturbed).

The overlap section (2 workers, eager steps, where the all-reduce can overlap the backward
pass) times three configurations interleaved in one group, step by step: one bucket (the
default, 153 KB: it can only start when the backward pass ends), three 32 KiB buckets
without overlap, and the same three buckets started from autodiff's per-gradient hook
during the backward pass. It reports the median step time and the time each step spent
blocked in the collective (``Collective.seconds``: starting and waiting, which includes
waiting for the slower worker).

Run: python benchmarks/distributed.py [--json out.json] [--steps 40] [--rounds 3] [--only overlap|scaling] [--batches 256,1024]
(needs the `distribute` extra: ray + torch).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

PER_WORKER_BATCHES = (16, 64, 256, 1024)
OVERLAP_BATCHES = (64, 256, 1024)
OVERLAP_CONFIGS = (("1 bucket", 0, False), ("3 buckets", 32 << 10, False), ("3 buckets, overlap", 32 << 10, True))
ALLREDUCE_BYTES = (4 << 10, 64 << 10, 1 << 20, 4 << 20, 16 << 20)


def cnn(run_eagerly=False):
    import webtensor as tf

    tf.random.set_seed(0)
    L = tf.keras.layers
    m = tf.keras.Sequential(
        [
            tf.keras.Input(shape=(8, 8, 1)),
            L.Conv2D(16, 3, activation="relu", padding="same"),
            L.MaxPooling2D(2),
            L.Conv2D(32, 3, activation="relu", padding="same"),
            L.Flatten(),
            L.Dense(64, activation="relu"),
            L.Dense(10),
        ]
    )
    m.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), run_eagerly=run_eagerly)
    return m


def worker(steps: int, sweep: bool, batches=PER_WORKER_BATCHES) -> dict:
    """Runs on every rank: timed fit per batch size (and, on 2 workers, the all-reduce sweep)."""
    import webtensor as tf
    from digits import load_digits_split

    s = tf.distribute.MultiWorkerMirroredStrategy()
    x, y, _, _ = load_digits_split()
    x = x.reshape(-1, 8, 8, 1)
    out = {"workers": s._world, "fit": {}, "allreduce": {}}
    for b, eager in [(b, e) for b in batches for e in (False, True)]:
        g = b * s._world
        reps = -(-(steps + 2) * g // len(x))
        xs, ys = np.concatenate([x] * reps)[: (steps + 2) * g], np.concatenate([y] * reps)[: (steps + 2) * g]
        with s.scope():
            model = cnn(eager)
        model.fit(xs[: 2 * g], ys[: 2 * g], batch_size=g, epochs=1, shuffle=False, verbose=0)  # warm-up, builds
        c0 = (s._coll.seconds, s._coll.bytes, s._coll.calls) if s._coll else (0.0, 0, 0)
        t0, p0 = time.perf_counter(), time.process_time()
        model.fit(xs[2 * g :], ys[2 * g :], batch_size=g, epochs=1, shuffle=False, verbose=0)
        dt, cpu = time.perf_counter() - t0, time.process_time() - p0
        c1 = (s._coll.seconds, s._coll.bytes, s._coll.calls) if s._coll else (0.0, 0, 0)
        out["fit"][(b, eager)] = {
            "steps_per_s": steps / dt,
            "samples_per_s": steps * g / dt,
            "cpu_s_per_step": cpu / steps,
            "collective_s_per_step": (c1[0] - c0[0]) / steps,
            "grad_bytes": sum(int(np.prod(v.shape)) * 4 for v in model.trainable_variables),
        }
    if sweep and s._coll is not None:
        for n in ALLREDUCE_BYTES:
            a = [np.ones(n // 4, np.float32)]
            times = []
            for _ in range(7):
                t0 = time.perf_counter()
                s._coll.all_reduce(a)
                times.append(time.perf_counter() - t0)
            out["allreduce"][n] = statistics.median(times[1:])
    return out


def overlap_worker(steps: int, rounds: int) -> dict:
    """Per-step wall time and collective time of eager fit, the three bucket/overlap settings interleaved."""
    import webtensor as tf
    from digits import load_digits_split

    s = tf.distribute.MultiWorkerMirroredStrategy()
    x, y, _, _ = load_digits_split()
    x = x.reshape(-1, 8, 8, 1)
    out = {}
    for b in OVERLAP_BATCHES:
        g = b * s._world
        reps = -(-(steps + 2) * g // len(x))
        xs, ys = np.concatenate([x] * reps)[: (steps + 2) * g], np.concatenate([y] * reps)[: (steps + 2) * g]
        models = {}
        for name, pack, overlap in OVERLAP_CONFIGS:
            with s.scope():
                models[name] = cnn(True)
        for _ in range(rounds):
            for name, pack, overlap in OVERLAP_CONFIGS:
                s._options = tf.distribute.experimental.CommunicationOptions(bytes_per_pack=pack, overlap=overlap)
                m = models[name]
                m.fit(xs[: 2 * g], ys[: 2 * g], batch_size=g, epochs=1, shuffle=False, verbose=0)  # warm-up
                c0, k0 = s._coll.seconds, s._coll.calls
                t0 = time.perf_counter()
                m.fit(xs[2 * g :], ys[2 * g :], batch_size=g, epochs=1, shuffle=False, verbose=0)
                dt = time.perf_counter() - t0
                r = out.setdefault(f"{b}/{name}", {"step_s": [], "collective_s": [], "calls": 0})
                r["step_s"].append(dt / steps)
                r["collective_s"].append((s._coll.seconds - c0) / steps)
                r["calls"] = (s._coll.calls - k0 - 3) / steps  # less the data check (2) and metrics (1)
    return out


def best(results: list) -> dict:
    """Per batch size the round with the most samples/s; per size the fastest all-reduce."""
    out = {"workers": results[0]["workers"], "fit": {}, "allreduce": {}}
    for key in results[0]["fit"]:
        out["fit"][key] = max((r["fit"][key] for r in results), key=lambda f: f["samples_per_s"])
        out["fit"][key]["cpu_s_per_step"] = min(r["fit"][key]["cpu_s_per_step"] for r in results)
    for n in results[0]["allreduce"]:
        out["allreduce"][n] = min(r["allreduce"][n] for r in results)
    return out


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--json")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--only", choices=("overlap", "scaling"))
    p.add_argument("--batches", default=",".join(map(str, PER_WORKER_BATCHES)), help="per-worker batches (scaling)")
    ns = p.parse_args(argv)
    batches = tuple(int(b) for b in ns.batches.split(","))
    import ray

    from webtensor.distribute import ray_runner

    here = os.path.dirname(os.path.abspath(__file__))
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([here, os.path.join(here, "..", "tests")])}},
    )
    try:
        rounds = [
            (
                ray_runner.run(worker, args=(ns.steps, False, batches), num_workers=1)[0],
                ray_runner.run(worker, args=(ns.steps, True, batches), num_workers=2)[0],
            )
            for _ in range(ns.rounds if ns.only != "overlap" else 0)
        ]
        overlap = (
            ray_runner.run(overlap_worker, args=(ns.steps, ns.rounds), num_workers=2)[0] if ns.only != "scaling" else {}
        )
    finally:
        ray.shutdown()
    if overlap:
        report_overlap(overlap, ns)
    if not rounds:
        if ns.json:
            with open(ns.json, "w") as f:
                json.dump({"overlap": overlap}, f, indent=1)
        return
    one, two = (best([r[i] for r in rounds]) for i in (0, 1))
    print(
        f"digits CNN, fit, per-worker batch; 1 worker = 1 CPU, 2 workers = 2 CPUs ({ns.steps} timed steps, "
        f"best of {ns.rounds} rounds)"
    )
    print("compiled: fit's default tf.function steps (the all-reduce a numpy_function node); eager: run_eagerly=True")
    print(
        "cpu ratio: 2 x (1-worker CPU s/step) / (2-worker CPU s/step), each worker's own CPU time (all its "
        "threads), i.e. the speed-up on two dedicated cores if the collective's waits overlap nothing"
    )
    print(
        f"{'batch/worker':>12} {'mode':>9} {'1w samples/s':>13} {'2w samples/s':>13} {'ratio':>6} "
        f"{'2w steps/s':>11} {'allreduce ms/step':>18} {'1w cpu ms/step':>15} {'2w cpu ms/step':>15} "
        f"{'cpu ratio':>10}"
    )
    rows = []
    for b in batches:
        for eager in (False, True):
            a, c = one["fit"][(b, eager)], two["fit"][(b, eager)]
            ratio = c["samples_per_s"] / a["samples_per_s"]
            cpu_ratio = 2 * a["cpu_s_per_step"] / c["cpu_s_per_step"]
            rows.append(
                {
                    "per_worker_batch": b,
                    "eager": eager,
                    "one_worker": a,
                    "two_workers": c,
                    "ratio": ratio,
                    "cpu_ratio": cpu_ratio,
                }
            )
            print(
                f"{b:>12} {'eager' if eager else 'compiled':>9} {a['samples_per_s']:>13.0f} "
                f"{c['samples_per_s']:>13.0f} {ratio:>6.2f} {c['steps_per_s']:>11.1f} "
                f"{1e3 * c['collective_s_per_step']:>18.2f} {1e3 * a['cpu_s_per_step']:>15.2f} "
                f"{1e3 * c['cpu_s_per_step']:>15.2f} {cpu_ratio:>10.2f}"
            )
    print(f"gradient bytes per step: {two['fit'][(batches[0], True)]['grad_bytes']}")
    print(f"{'all-reduce bytes':>16} {'ms (2 workers)':>15} {'MB/s algbw':>11}")
    for n, t in two["allreduce"].items():
        print(f"{n:>16} {1e3 * t:>15.3f} {n / t / 1e6:>11.1f}")
    if ns.json:
        with open(ns.json, "w") as f:
            json.dump(
                {"fit": rows, "allreduce_s": {str(k): v for k, v in two["allreduce"].items()}, "overlap": overlap},
                f,
                indent=1,
            )


def report_overlap(overlap: dict, ns) -> None:
    print(
        f"digits CNN, 2 workers, eager fit: median of {ns.rounds} interleaved rounds of {ns.steps} steps; "
        "collective ms = time a step was blocked starting/waiting on all-reduces (rank 0)"
    )
    print(
        f"{'batch/worker':>12} {'config':>20} {'calls/step':>10} {'step ms':>8} {'collective ms':>14} {'vs 1 bucket':>12}"
    )
    for b in OVERLAP_BATCHES:
        base = statistics.median(overlap[f"{b}/{OVERLAP_CONFIGS[0][0]}"]["step_s"])
        for name, _, _ in OVERLAP_CONFIGS:
            r = overlap[f"{b}/{name}"]
            step = statistics.median(r["step_s"])
            print(
                f"{b:>12} {name:>20} {r['calls']:>10.0f} {1e3 * step:>8.2f} "
                f"{1e3 * statistics.median(r['collective_s']):>14.2f} {base / step:>12.3f}"
            )


if __name__ == "__main__":
    main()

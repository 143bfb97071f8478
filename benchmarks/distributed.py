"""tf.distribute on Ray: samples/s of the digits CNN with 1 and 2 workers, and the gloo
all-reduce time against the bytes reduced.

Each worker is a Ray actor with 1 CPU (Ray sets its BLAS/OpenMP threads to 1), so
"2 workers" uses both cores of this machine and "1 worker" one: the ratio is the
data-parallel scaling per core. The per-worker batch is fixed (the global batch grows
with the workers), as in TF's guidance; the loop is fit() over in-memory arrays.

Run: python benchmarks/distributed.py [--json out.json] [--steps 30]
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

PER_WORKER_BATCHES = (16, 64, 256)
ALLREDUCE_BYTES = (4 << 10, 64 << 10, 1 << 20, 4 << 20, 16 << 20)


def cnn():
    import webtensor as tf

    tf.random.set_seed(0)
    L = tf.keras.layers
    m = tf.keras.Sequential([tf.keras.Input(shape=(8, 8, 1)),
                             L.Conv2D(16, 3, activation="relu", padding="same"), L.MaxPooling2D(2),
                             L.Conv2D(32, 3, activation="relu", padding="same"), L.Flatten(),
                             L.Dense(64, activation="relu"), L.Dense(10)])
    m.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m


def worker(steps: int, sweep: bool) -> dict:
    """Runs on every rank: timed fit per batch size (and, on 2 workers, the all-reduce sweep)."""
    import webtensor as tf
    from digits import load_digits_split

    s = tf.distribute.MultiWorkerMirroredStrategy()
    x, y, _, _ = load_digits_split()
    x = x.reshape(-1, 8, 8, 1)
    out = {"workers": s._world, "fit": {}, "allreduce": {}}
    for b in PER_WORKER_BATCHES:
        g = b * s._world
        reps = -(-(steps + 2) * g // len(x))
        xs, ys = np.concatenate([x] * reps)[:(steps + 2) * g], np.concatenate([y] * reps)[:(steps + 2) * g]
        with s.scope():
            model = cnn()
        model.fit(xs[:2 * g], ys[:2 * g], batch_size=g, epochs=1, shuffle=False, verbose=0)  # warm-up, builds
        c0 = (s._coll.seconds, s._coll.bytes, s._coll.calls) if s._coll else (0.0, 0, 0)
        t0 = time.perf_counter()
        model.fit(xs[2 * g:], ys[2 * g:], batch_size=g, epochs=1, shuffle=False, verbose=0)
        dt = time.perf_counter() - t0
        c1 = (s._coll.seconds, s._coll.bytes, s._coll.calls) if s._coll else (0.0, 0, 0)
        out["fit"][b] = {"steps_per_s": steps / dt, "samples_per_s": steps * g / dt,
                         "collective_s_per_step": (c1[0] - c0[0]) / steps,
                         "grad_bytes": sum(int(np.prod(v.shape)) * 4 for v in model.trainable_variables)}
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


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--json")
    p.add_argument("--steps", type=int, default=30)
    ns = p.parse_args(argv)
    import ray

    from webtensor.distribute import ray_runner

    here = os.path.dirname(os.path.abspath(__file__))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([here, os.path.join(here, "..", "tests")])}})
    try:
        one = ray_runner.run(worker, args=(ns.steps, False), num_workers=1)[0]
        two = ray_runner.run(worker, args=(ns.steps, True), num_workers=2)[0]
    finally:
        ray.shutdown()
    print(f"digits CNN, fit, per-worker batch; 1 worker = 1 CPU, 2 workers = 2 CPUs ({ns.steps} timed steps)")
    print(f"{'batch/worker':>12} {'1w samples/s':>13} {'2w samples/s':>13} {'ratio':>6} {'2w steps/s':>11} "
          f"{'allreduce ms/step':>18}")
    rows = []
    for b in PER_WORKER_BATCHES:
        a, c = one["fit"][b], two["fit"][b]
        ratio = c["samples_per_s"] / a["samples_per_s"]
        rows.append({"per_worker_batch": b, "one_worker": a, "two_workers": c, "ratio": ratio})
        print(f"{b:>12} {a['samples_per_s']:>13.0f} {c['samples_per_s']:>13.0f} {ratio:>6.2f} "
              f"{c['steps_per_s']:>11.1f} {1e3 * c['collective_s_per_step']:>18.2f}")
    print(f"gradient bytes per step: {two['fit'][PER_WORKER_BATCHES[0]]['grad_bytes']}")
    print(f"{'all-reduce bytes':>16} {'ms (2 workers)':>15} {'MB/s algbw':>11}")
    for n, t in two["allreduce"].items():
        print(f"{n:>16} {1e3 * t:>15.3f} {n / t / 1e6:>11.1f}")
    if ns.json:
        with open(ns.json, "w") as f:
            json.dump({"fit": rows, "allreduce_s": two["allreduce"]}, f, indent=1)


if __name__ == "__main__":
    main()

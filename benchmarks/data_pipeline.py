"""tf.data and tf.summary beside TensorFlow's, in one process: one epoch over a digits-sized
training set (1347 x 64 float32 + int32 labels) shuffled and batched by 32, the same with a
``map`` first, and writing 1000 scalar summaries to an event file.

Run: env -u OPENBLAS_CORETYPE python benchmarks/data_pipeline.py [--json out.json]
TensorFlow columns appear when ``tensorflow`` imports (a benchmark-only install).
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time

import numpy as np

import webtensor as wt

N, BATCH, EPOCHS, SCALARS = 1347, 32, 20, 1000


def per_call(fn, repeat: int) -> float:
    """Median seconds of ``repeat`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def epoch_of(ds):
    def run():
        for _ in ds:
            pass
    return run


def pipelines(tf, x, y) -> dict:
    d = tf.data.Dataset.from_tensor_slices((x, y))
    return {"shuffle+batch": d.shuffle(N).batch(BATCH).prefetch(tf.data.AUTOTUNE),
            "map+shuffle+batch": d.map(lambda a, b: (a * 2.0, b)).shuffle(N).batch(BATCH)}


def summaries(tf):
    def run():
        with tempfile.TemporaryDirectory() as d:
            w = tf.summary.create_file_writer(d)
            with w.as_default():
                for i in range(SCALARS):
                    tf.summary.scalar("loss", 1.0 / (i + 1), step=i)
            w.close()
    return run


def main() -> dict:
    rng = np.random.default_rng(0)
    x = rng.random((N, 64), dtype=np.float32)
    y = rng.integers(0, 10, N).astype(np.int32)
    libs = {"webtensor": wt}
    try:
        import tensorflow

        libs["tensorflow"] = tensorflow
    except ImportError:
        pass
    res: dict = {}
    for name, lib in libs.items():
        for label, ds in pipelines(lib, x, y).items():
            res.setdefault(label, {})[name] = per_call(epoch_of(ds), EPOCHS) * 1e3
        res.setdefault(f"{SCALARS} scalar summaries", {})[name] = per_call(summaries(lib), 5) * 1e3
    return res


if __name__ == "__main__":
    out = main()
    print(f"{'ms (median)':28} {'webtensor':>10} {'tensorflow':>11} {'ratio':>7}")
    for label, r in out.items():
        tfv = r.get("tensorflow")
        ratio = f"{r['webtensor'] / tfv:.2f}x" if tfv else "-"
        print(f"{label:28} {r['webtensor']:10.2f} {tfv if tfv else float('nan'):11.2f} {ratio:>7}")
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump(out, f, indent=1)

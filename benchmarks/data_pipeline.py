"""tf.data and tf.summary beside TensorFlow's, in one process: one epoch over a digits-sized
training set (1347 x 64 float32 + int32 labels) shuffled and batched by 32, the same with a
``map`` first, writing 1000 scalar summaries to an event file; then file pipelines in
examples/s (a CSV through ``make_csv_dataset``, a TFRecord of ``tf.train.Example``s through
``parse_example``), and ``fit`` over an input pipeline with and without ``prefetch`` (the
background thread overlapping input work with training; the input stage waits 10 ms per batch,
standing in for file reads, which release the GIL as real I/O does).

Run: env -u OPENBLAS_CORETYPE python benchmarks/data_pipeline.py [--json out.json]
TensorFlow columns appear when ``tensorflow`` imports (a benchmark-only install; e.g. a venv
with tensorflow-cpu and ``PYTHONPATH=core``).
"""

from __future__ import annotations

import json
import os
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
    return {
        "shuffle+batch": d.shuffle(N).batch(BATCH).prefetch(tf.data.AUTOTUNE),
        "map+shuffle+batch": d.map(lambda a, b: (a * 2.0, b)).shuffle(N).batch(BATCH),
    }


def summaries(tf):
    def run():
        with tempfile.TemporaryDirectory() as d:
            w = tf.summary.create_file_writer(d)
            with w.as_default():
                for i in range(SCALARS):
                    tf.summary.scalar("loss", 1.0 / (i + 1), step=i)
            w.close()

    return run


ROWS, FILE_BATCH, COLS = 20000, 256, 8


def write_files(d: str) -> tuple:
    """A CSV (8 float columns + an int label, header) and a TFRecord of the same rows as Examples,
    written once with webtensor's writer (byte-compatible with TF's)."""
    rng = np.random.default_rng(1)
    x = rng.random((ROWS, COLS), dtype=np.float32)
    y = rng.integers(0, 10, ROWS)
    csv = os.path.join(d, "rows.csv")
    with open(csv, "w") as f:
        f.write(",".join([f"f{i}" for i in range(COLS)] + ["label"]) + "\n")
        for row, label in zip(x.tolist(), y.tolist()):
            f.write(",".join(f"{v:.6f}" for v in row) + f",{label}\n")
    rec = os.path.join(d, "rows.tfrecord")
    E = wt.train
    with wt.io.TFRecordWriter(rec) as w:
        for row, label in zip(x.tolist(), y.tolist()):
            ex = E.Example(
                features=E.Features(
                    feature={
                        "x": E.Feature(float_list=E.FloatList(value=row)),
                        "y": E.Feature(int64_list=E.Int64List(value=[label])),
                    }
                )
            )
            w.write(ex.SerializeToString())
    return csv, rec


def file_pipelines(tf, csv: str, rec: str) -> dict:
    spec = {"x": tf.io.FixedLenFeature([COLS], tf.float32), "y": tf.io.FixedLenFeature([], tf.int64)}
    return {
        "CSV -> batches": lambda: tf.data.experimental.make_csv_dataset(
            csv, FILE_BATCH, label_name="label", num_epochs=1, shuffle=False
        ),
        "TFRecord -> parsed": lambda: (
            tf.data.TFRecordDataset(rec).batch(FILE_BATCH).map(lambda s: tf.io.parse_example(s, spec))
        ),
    }


def examples_per_s(make) -> float:
    def run():
        for _ in make():
            pass

    return ROWS / per_call(run, 3)


def fit_seconds(tf, prefetch: bool) -> float:
    """Wall time of 2 epochs of fit over 40 batches whose input stage takes ~10 ms each."""
    rng = np.random.default_rng(2)
    x = rng.random((40 * 64, 256), dtype=np.float32)
    y = rng.integers(0, 10, 40 * 64).astype(np.int32)

    def slow_read(a, b):
        time.sleep(0.01)  # stands in for reading the batch from disk (releases the GIL)
        return a, b

    ds = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .batch(64)
        .map(
            lambda a, b: (
                tf.numpy_function(slow_read, [a, b], [tf.float32, tf.int32]) if tf is not wt else slow_read(a, b)
            )
        )
    )
    if tf is not wt:
        ds = ds.map(lambda a, b: (tf.ensure_shape(a, [None, 256]), tf.ensure_shape(b, [None])))
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    keras = tf.keras
    model = keras.Sequential([keras.Input((256,)), keras.layers.Dense(256, activation="relu"), keras.layers.Dense(10)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(ds.take(2), epochs=1, verbose=0)  # warm-up (traces the step)
    t0 = time.perf_counter()
    model.fit(ds, epochs=2, verbose=0)
    return time.perf_counter() - t0


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
    files: dict = {}
    with tempfile.TemporaryDirectory() as d:
        csv, rec = write_files(d)
        for name, lib in libs.items():
            for label, make in file_pipelines(lib, csv, rec).items():
                files.setdefault(label, {})[name] = examples_per_s(make)
    fits: dict = {}
    for name, lib in libs.items():
        runs: dict = {False: [], True: []}
        for _ in range(3):  # alternated, medians: a loaded machine drifts between runs
            for pf in (False, True):
                runs[pf].append(fit_seconds(lib, pf))
        fits.setdefault("fit, no prefetch", {})[name] = statistics.median(runs[False])
        fits.setdefault("fit, prefetch", {})[name] = statistics.median(runs[True])
    return {"ms": res, "examples_per_s": files, "fit_s": fits}


def _table(title, rows, fmt, ratio_of):
    print(f"{title:28} {'webtensor':>10} {'tensorflow':>11} {'ratio':>7}")
    for label, r in rows.items():
        tfv = r.get("tensorflow")
        ratio = f"{ratio_of(r['webtensor'], tfv):.2f}x" if tfv else "-"
        print(f"{label:28} {r['webtensor']:10{fmt}} {tfv if tfv else float('nan'):11{fmt}} {ratio:>7}")


if __name__ == "__main__":
    out = main()
    _table("ms (median)", out["ms"], ".2f", lambda w, t: w / t)
    _table("examples/s (wt/tf)", out["examples_per_s"], ".0f", lambda w, t: w / t)
    _table("fit seconds", out["fit_s"], ".3f", lambda w, t: w / t)
    for lib in out["fit_s"]["fit, prefetch"]:
        no, yes = out["fit_s"]["fit, no prefetch"][lib], out["fit_s"]["fit, prefetch"][lib]
        print(f"{lib}: prefetch takes {yes / no:.2f}x the wall time of no prefetch")
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump(out, f, indent=1)

"""Fit time and test accuracy of the issue's digits MLP (30 epochs) and CNN (20 epochs), batch 32:
webtensor compiled (the default, ``compile(run_eagerly=False)``) and eager (``run_eagerly=True``)
beside Keras 3 on TensorFlow (and PyTorch eager with ``--torch``), each run in a fresh process,
interleaved: the median fit time and the mean test accuracy of ``--runs`` runs (run i seeds
every library with i, so accuracies are averaged over seeds, not one lucky draw).
verbose=0 everywhere.

    env -u OPENBLAS_CORETYPE python benchmarks/digits_fit.py [--runs 3] [--tf-python PATH] [--torch]

PyTorch uses all cores unless WEBTENSOR_BENCH_TORCH_THREADS says otherwise (on a shared,
loaded machine its spinning threads can be many times slower than one thread). The cpu
columns are the fit's process CPU time, steadier than wall time on a loaded machine when
every library runs one thread (OPENBLAS_NUM_THREADS=1 WEBTENSOR_BENCH_TORCH_THREADS=1).

TensorFlow is a benchmark-only install (``pip install '.[bench]'``); ``--tf-python`` (or
WEBTENSOR_BENCH_TF_PYTHON) names another interpreter that has it. The ratio column is
webtensor's time / Keras's time (target <= 0.5) at >= Keras's accuracy; the torch ratio column
is each time / PyTorch's (issue 13's targets for compiled webtensor: MLP <= 0.6, CNN <= 0.8).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))


def _data(cnn: bool):
    import digits

    xtr, ytr, xte, yte = digits.load_digits_split()
    if cnn:
        xtr, xte = xtr.reshape(-1, 8, 8, 1), xte.reshape(-1, 8, 8, 1)
    return xtr, ytr, xte, yte


def run_keras_like(K, cnn: bool, seed_fn, seed: int = 0, **compile_kw) -> dict:
    """The same script for webtensor (``tf.keras``) and Keras 3: build, compile, fit, evaluate."""
    seed_fn(seed)
    L = K.layers
    xtr, ytr, xte, yte = _data(cnn)
    if cnn:
        model = K.Sequential(
            [
                K.Input(shape=(8, 8, 1)),
                L.Conv2D(16, 3, activation="relu", padding="same"),
                L.MaxPooling2D(2),
                L.Conv2D(32, 3, activation="relu", padding="same"),
                L.Flatten(),
                L.Dense(64, activation="relu"),
                L.Dense(10),
            ]
        )
        model.compile(
            optimizer="adam",
            loss=K.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
            **compile_kw,
        )
    else:
        model = K.Sequential(
            [K.Input(shape=(64,)), L.Dense(64, activation="relu"), L.Dropout(0.1), L.Dense(10, activation="softmax")]
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **compile_kw)
    t, c = time.perf_counter(), time.process_time()
    model.fit(xtr, ytr, epochs=20 if cnn else 30, batch_size=32, verbose=0)
    fit, cpu = time.perf_counter() - t, time.process_time() - c
    _, acc = model.evaluate(xte, yte, verbose=0)
    return {"fit_s": fit, "cpu_s": cpu, "acc": float(acc)}


def worker_webtensor(cnn, seed, run_eagerly=False):
    sys.path.insert(0, os.path.join(ROOT, "core"))
    import webtensor as tf

    return run_keras_like(tf.keras, cnn, tf.random.set_seed, seed, run_eagerly=run_eagerly)


def worker_webtensor_eager(cnn, seed):
    return worker_webtensor(cnn, seed, run_eagerly=True)


def worker_keras(cnn, seed):
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return run_keras_like(keras, cnn, keras.utils.set_random_seed, seed)


def worker_torch(cnn, seed):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    torch.set_num_threads(int(os.environ.get("WEBTENSOR_BENCH_TORCH_THREADS", 0)) or os.cpu_count() or 1)
    xtr, ytr, xte, yte = (torch.from_numpy(a) for a in _data(False))
    ytr, yte = ytr.long(), yte.long()
    if cnn:
        xtr, xte = xtr.reshape(-1, 1, 8, 8), xte.reshape(-1, 1, 8, 8)
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )
    else:
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    n = xtr.shape[0]
    t, c = time.perf_counter(), time.process_time()
    for _ in range(20 if cnn else 30):
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, 32):
            idx = perm[i : i + 32]
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
    fit, cpu = time.perf_counter() - t, time.process_time() - c
    model.eval()
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
    return {"fit_s": fit, "cpu_s": cpu, "acc": acc}


WORKERS = {
    "webtensor": worker_webtensor,
    "wt-eager": worker_webtensor_eager,
    "keras": worker_keras,
    "torch": worker_torch,
}


def _spawn(python, lib, model, seed) -> dict | None:
    cmd = [python, os.path.abspath(__file__), "--worker", lib, model, str(seed)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    if r.returncode != 0:
        print(f"  {lib} {model} failed: {r.stderr.strip().splitlines()[-1:] or r.returncode}", file=sys.stderr)
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


def _has(python, module) -> bool:
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([python, "-c", code], capture_output=True).returncode == 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tf-python", default=os.environ.get("WEBTENSOR_BENCH_TF_PYTHON", sys.executable))
    ap.add_argument("--models", default="mlp,cnn")
    ap.add_argument("--torch", action="store_true", help="add PyTorch (the same networks, a plain loop)")
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        lib, model, seed = args.worker
        print(json.dumps(WORKERS[lib](model == "cnn", int(seed))))
        return
    libs = {"webtensor": sys.executable, "wt-eager": sys.executable}
    if _has(args.tf_python, "tensorflow") and _has(args.tf_python, "keras"):
        libs["keras"] = args.tf_python
    else:
        print("TensorFlow not found (pip install '.[bench]' or --tf-python): webtensor only", file=sys.stderr)
    if args.torch and _has(sys.executable, "torch"):
        libs["torch"] = sys.executable
    results = {}
    for seed in range(args.runs):
        for model in args.models.split(","):
            for lib, python in libs.items():
                r = _spawn(python, lib, model, seed)
                if r:
                    results.setdefault((model, lib), []).append(r)
    print(f"digits fit, {args.runs} fresh processes / seeds (batch 32; MLP 30 epochs, CNN 20 epochs)")
    print(
        f"{'':5} {'library':10} {'fit (s)':>8} {'test acc':>9} {'vs Keras':>9} {'vs torch':>9} "
        f"{'cpu (s)':>8} {'cpu/torch':>9}   (median times, mean accuracy)"
    )

    def median(model, lib, what="fit_s"):
        rs = results.get((model, lib))
        return statistics.median(r[what] for r in rs) if rs else None

    def ratio(a, b):
        return f"{a / b:8.2f}x" if b else "        -"

    for model in args.models.split(","):
        base, torch_base, torch_cpu = median(model, "keras"), median(model, "torch"), median(model, "torch", "cpu_s")
        for lib in libs:
            rs = results.get((model, lib))
            if not rs:
                continue
            fit, cpu = median(model, lib), median(model, lib, "cpu_s")
            acc = statistics.mean(r["acc"] for r in rs)
            print(
                f"{model:5} {lib:10} {fit:8.2f} {acc:9.3f} {ratio(fit, base)} {ratio(fit, torch_base)} "
                f"{cpu:8.2f} {ratio(cpu, torch_cpu)}"
            )


if __name__ == "__main__":
    main()

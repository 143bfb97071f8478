"""Where elementwise and matmul-epilogue fusion stop paying, by tensor size (issue 13;
``passes.BROADCAST_LOAD_MAX_ELEMENTS`` is set from it).

For each backend (numpy; wasm when its kernels are built) and size, one traced graph is
bound twice, fused (``Program(g, be)``) and unfused (``Program(g, be, fuse=False)``), and
the two replays are timed interleaved (short windows, best of many, so preemption on a
loaded machine drops out). Printed: the fused/unfused time ratio per size (< 1: fusion pays).

    env -u OPENBLAS_CORETYPE python benchmarks/fusion_threshold.py [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np

import webtensor as tf
from webtensor import backends
from webtensor.function.graph import Program

SIZES = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144)


def chain(x, y):
    """Four elementwise ops (mul, add, maximum, mul), the shape of a bias-act-scale chain."""
    return tf.nn.relu(x * y + 1.0) * 0.5


def bias_relu(x, b):
    """A bias row broadcast over a batch, then relu (a broadcasting load)."""
    return tf.nn.relu(x + b)


def dense(x, w, b):
    """A matmul with a bias+relu epilogue."""
    return tf.nn.relu(x @ w + b)


def _time(fn, number=20, repeat=15) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def ratio(be, f, arrays, rounds) -> float:
    """Median over interleaved rounds of fused / unfused replay time."""
    g = tf.function(f).get_concrete_function(*[tf.constant(a) for a in arrays]).graph
    fused, plain = Program(g, be), Program(g, be, fuse=False)
    hs = [be.write(memoryview(a.reshape(-1).view(np.uint8)), a.shape, tf.float32) for a in arrays]
    fused.run(hs), plain.run(hs)
    out = []
    for _ in range(rounds):
        tf_, tp = _time(lambda: fused.run(hs)), _time(lambda: plain.run(hs))
        out.append(tf_ / tp)
    return statistics.median(out)


def on(be_name, rounds) -> dict:
    be = backends.get(be_name)
    rng = np.random.default_rng(0)
    res = {"chain": {}, "bias": {}, "dense": {}}
    for n in SIZES:
        res["chain"][n] = ratio(be, chain, [rng.standard_normal(n).astype(np.float32) for _ in range(2)], rounds)
    for m in (1, 4, 16, 32, 64, 128, 256, 1024):  # output m x 64 = m * 64 elements
        res["bias"][m * 64] = ratio(
            be, bias_relu, [rng.standard_normal(s).astype(np.float32) for s in ((m, 64), (64,))], rounds
        )
        arrays = [rng.standard_normal(s).astype(np.float32) for s in ((m, 32), (32, 64), (64,))]
        res["dense"][m * 64] = ratio(be, dense, arrays, rounds)
    return res


def main():
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    res = {}
    for name in ("numpy", "wasm"):
        try:
            backends.get(name)
        except Exception as e:  # no wasmtime or no built kernels
            print(f"{name}: skipped ({e})", file=sys.stderr)
            continue
        res[name] = on(name, rounds)
        for what, by in res[name].items():
            print(f"{name:6} {what:6} " + "  ".join(f"{n}:{r:.2f}" for n, r in by.items()))
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()

"""The GPU backend's WGSL FFT kernel beside the composition of GPU primitives it replaces
(signal/fft.py, what runs when the backend lists no ``fft`` kernel), in one process,
interleaved: eager ``tf.signal.fft`` / ``rfft`` end to end, synchronised by a readback.

    env -u OPENBLAS_CORETYPE python benchmarks/gpu_fft.py [--rounds 3] [--json out.json]

Prints the median of the rounds' per-call seconds for each and their ratio, and the
dispatches each takes per call.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core"))

import numpy as np  # noqa: E402

import webtensor as tf  # noqa: E402
from webtensor import backends  # noqa: E402


def cases():
    rng = np.random.default_rng(0)

    def cplx(shape):
        re, im = rng.normal(size=shape).astype("float32"), rng.normal(size=shape).astype("float32")
        return tf.complex(tf.constant(re), tf.constant(im))

    z1, z2, z3 = cplx((8, 1024)), cplx((1 << 16,)), cplx((8, 1000))
    x = tf.constant(rng.normal(size=(1 << 16,)).astype("float32"))
    return {
        "fft 8x1024 complex64": lambda: tf.signal.fft(z1),
        "fft 2^16 complex64": lambda: tf.signal.fft(z2),
        "fft 8x1000 (Bluestein)": lambda: tf.signal.fft(z3),
        "rfft 2^16": lambda: tf.signal.rfft(x),
    }


def per_call(gpu, fn, reps: int) -> float:
    t = time.perf_counter()
    for _ in range(reps):
        z = fn()
    z.real.numpy()[:1]  # readback: everything recorded has run
    return (time.perf_counter() - t) / reps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()
    gpu = backends.get("gpu")
    backends.default = lambda: gpu
    with_kernel, without = gpu.fused, gpu.fused - {"fft", "rfft"}
    rows = {}
    for name, fn in cases().items():
        times = {"kernel": [], "composition": []}
        counts = {}
        for mode, fused in (("kernel", with_kernel), ("composition", without)):  # warm-up and count
            gpu.fused = fused
            fn().real.numpy()
            before = gpu.kernel_count
            fn().real.numpy()
            counts[mode] = gpu.kernel_count - before
            once = per_call(gpu, fn, 1)
            times[mode + "_reps"] = max(1, min(50, int(1.0 / max(once, 1e-6))))
        for _ in range(args.rounds):
            for mode, fused in (("kernel", with_kernel), ("composition", without)):
                gpu.fused = fused
                times[mode].append(per_call(gpu, fn, times[mode + "_reps"]))
        k, c = statistics.median(times["kernel"]), statistics.median(times["composition"])
        rows[name] = {"kernel_ms": 1e3 * k, "composition_ms": 1e3 * c, "speedup": c / k, "dispatches": counts}
        print(
            f"{name:26s} kernel {1e3 * k:8.2f} ms ({counts['kernel']:3d} dispatches)  "
            f"composition {1e3 * c:8.2f} ms ({counts['composition']:4d})  {c / k:5.1f}x",
            flush=True,
        )
    gpu.fused = with_kernel
    print(f"adapter: {gpu.adapter_name}; load average: {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()

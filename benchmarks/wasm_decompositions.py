"""The wasm backend's qr / eigh / eigvalsh / svd kernels (kernels/decomp.c) beside the core's
composition of primitives on the same backend, eager float32, natively (wasmtime).

Run: env -u OPENBLAS_CORETYPE python benchmarks/wasm_decompositions.py [--rounds 3]
Each round times every case with the kernel (best of 5 calls) and with the composition (one
call; the kernel names taken out of the backend's ``fused``) back to back, alternating which
goes first; the table shows the medians over rounds and their ratio (composition / kernel).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import webtensor as tf
from webtensor import backends

KERNELS = {"linalg_qr", "linalg_eigh", "linalg_eigvalsh", "linalg_svd", "linalg_svd_values", "linalg_signed_vectors"}


def cases():
    rng = np.random.default_rng(0)
    out = []
    for shape in ((64, 64), (8, 32, 32)):
        a = rng.normal(size=shape).astype(np.float32)
        t, s = tf.constant(a), tf.constant(a + np.swapaxes(a, -1, -2))
        tag = "x".join(map(str, shape))
        out += [
            (f"qr {tag}", lambda t=t: tf.linalg.qr(t)),
            (f"eigh {tag}", lambda s=s: tf.linalg.eigh(s)),
            (f"eigvalsh {tag}", lambda s=s: tf.linalg.eigvalsh(s)),
            (f"svd {tag}", lambda t=t: tf.linalg.svd(t)),
            (f"svd values {tag}", lambda t=t: tf.linalg.svd(t, compute_uv=False)),
        ]
    return out


def timed(fn, calls: int) -> float:
    """Best of ``calls`` calls (the kernels take milliseconds; one call is mostly noise
    on a loaded machine), each read back so the values exist."""
    best = float("inf")
    for _ in range(calls):
        t0 = time.perf_counter()
        tf.nest.flatten(fn())[0].numpy()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    backends.set_default("wasm")
    be = backends.get("wasm")
    kernel_set, composed_set = be.fused, be.fused - KERNELS
    rows = cases()
    times = {name: {"kernel": [], "composed": []} for name, _ in rows}
    for r in range(args.rounds):
        for name, fn in rows:
            order = ("kernel", "composed") if r % 2 == 0 else ("composed", "kernel")
            for side in order:
                be.fused = kernel_set if side == "kernel" else composed_set
                times[name][side].append(timed(fn, 5 if side == "kernel" else 1))
    be.fused = kernel_set
    print(f"load average {os.getloadavg()[0]:.1f}, {args.rounds} rounds, medians")
    print("| op (float32) | kernel, ms | composition, ms | composition / kernel |")
    print("|---|---|---|---|")
    for name, _ in rows:
        k, c = (statistics.median(times[name][s]) * 1e3 for s in ("kernel", "composed"))
        print(f"| {name} | {k:.2f} | {c:.0f} | {c / k:.0f}x |")


if __name__ == "__main__":
    main()

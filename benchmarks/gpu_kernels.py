"""GPU kernel throughput and eager overhead, beside numpy on the same machine, in one run.

    env -u OPENBLAS_CORETYPE python benchmarks/gpu_kernels.py [--quick] [--json out.json]

Rows: matmul GFLOP/s (N = 256..2048), conv2d GFLOP/s (forward and both gradients on
typical shapes), elementwise and reduction GB/s, and the cost of one eager op (tf.add
on tiny tensors, end to end including the GPU's work). GPU times cover recording,
submitting and running the kernels (synchronised by a 4-byte readback); numpy times
the same primitive of the numpy backend. Printed as a table and as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core"))

import numpy as np  # noqa: E402

import webtensor as tf  # noqa: E402
from webtensor import backends  # noqa: E402


def put(be, a):
    return be.write(memoryview(np.ascontiguousarray(a).reshape(-1)).cast("B"), a.shape, tf.as_dtype(a.dtype.name))


def sync(be):
    if be.device_type == "GPU":
        be.flush()
        be.dev.read(be._dummy.raw, 0, 4)


def seconds(be, fn, budget: float) -> float:
    """Median seconds per call: calls batched until ``budget`` seconds, at least 3 rounds."""
    fn()
    sync(be)
    t = time.perf_counter()
    fn()
    sync(be)
    once = max(time.perf_counter() - t, 1e-6)
    reps = max(1, min(200, int(budget / 3 / once)))
    rounds = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        sync(be)
        rounds.append((time.perf_counter() - t) / reps)
    return sorted(rounds)[1]


def bench(quick: bool) -> dict:
    gpu, cpu = backends.get("gpu"), backends.get("numpy")
    rng = np.random.default_rng(0)
    budget = 0.3 if quick else 1.5
    rows = []

    def row(kind, what, unit, work, fn_of):
        r = {"kind": kind, "what": what, "unit": unit}
        for name, be in (("gpu", gpu), ("numpy", cpu)):
            s = seconds(be, fn_of(be), budget)
            r[name] = work / s / 1e9
            r[name + "_ms"] = s * 1e3
        r["gpu/numpy"] = r["gpu"] / r["numpy"]
        rows.append(r)
        print(
            f"{kind:12s} {what:38s} gpu {r['gpu']:9.3f}  numpy {r['numpy']:9.3f} {unit:8s} "
            f"(gpu/numpy {r['gpu/numpy']:.3f})",
            flush=True,
        )

    for n in (256, 512) if quick else (256, 512, 1024, 2048):
        a, b = rng.standard_normal((n, n), np.float32), rng.standard_normal((n, n), np.float32)
        row(
            "matmul",
            f"{n}x{n} @ {n}x{n}",
            "GFLOP/s",
            2 * n**3,
            lambda be, a=a, b=b: (lambda ha=put(be, a), hb=put(be, b): lambda: be.matmul(ha, hb, False, False))(),
        )

    convs = [
        ("digits CNN conv2", (32, 4, 4, 16), (3, 3, 16, 32)),
        ("ResNet-ish 3x3", (8, 28, 28, 64), (3, 3, 64, 64)),
        ("stem 7x7/2", (8, 56, 56, 3), (7, 7, 3, 32)),
    ]
    for name, xs, ws in convs[:2] if quick else convs:
        st = (2, 2) if "/2" in name else (1, 1)
        kh, kw = ws[:2]
        pads = (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2))
        oh = (xs[1] + sum(pads[0]) - kh) // st[0] + 1
        ow = (xs[2] + sum(pads[1]) - kw) // st[1] + 1
        flops = 2 * xs[0] * oh * ow * ws[3] * kh * kw * ws[2]
        x, w = rng.standard_normal(xs, np.float32), rng.standard_normal(ws, np.float32)
        dy = rng.standard_normal((xs[0], oh, ow, ws[3]), np.float32)
        row(
            "conv2d",
            f"{name} fwd {xs}*{ws}",
            "GFLOP/s",
            flops,
            lambda be, x=x, w=w, st=st, pads=pads: (
                lambda hx=put(be, x), hw=put(be, w): lambda: be.conv2d(hx, hw, st, pads, (1, 1), 1)
            )(),
        )
        row(
            "conv2d",
            f"{name} input grad",
            "GFLOP/s",
            flops,
            lambda be, dy=dy, w=w, xs=xs, st=st, pads=pads: (
                lambda hd=put(be, dy), hw=put(be, w): lambda: be.conv2d_input_grad(hd, hw, xs, st, pads, (1, 1), 1)
            )(),
        )
        row(
            "conv2d",
            f"{name} filter grad",
            "GFLOP/s",
            flops,
            lambda be, x=x, dy=dy, ws=ws, st=st, pads=pads: (
                lambda hx=put(be, x), hd=put(be, dy): lambda: be.conv2d_filter_grad(hx, hd, ws, st, pads, (1, 1), 1)
            )(),
        )

    n = 1 << 20 if quick else 1 << 22
    a, b = rng.standard_normal(n, np.float32), rng.standard_normal(n, np.float32)
    row(
        "elementwise",
        f"add {n} float32",
        "GB/s",
        12 * n,
        lambda be: (lambda ha=put(be, a), hb=put(be, b): lambda: be.binary("add", ha, hb))(),
    )
    row(
        "elementwise",
        f"exp {n} float32",
        "GB/s",
        8 * n,
        lambda be: (lambda ha=put(be, a): lambda: be.unary("exp", ha))(),
    )
    m = a.reshape(1024, -1)
    row(
        "reduction",
        f"sum of {n} float32",
        "GB/s",
        4 * n,
        lambda be: (lambda ha=put(be, a): lambda: be.reduce("sum", ha, (0,), False))(),
    )
    row(
        "reduction",
        f"row sums {m.shape}",
        "GB/s",
        4 * n,
        lambda be: (lambda hm=put(be, m): lambda: be.reduce("sum", hm, (1,), False))(),
    )
    row(
        "reduction",
        f"column sums {m.shape}",
        "GB/s",
        4 * n,
        lambda be: (lambda hm=put(be, m): lambda: be.reduce("sum", hm, (0,), False))(),
    )

    overhead = {}
    for dev in ("/GPU:0", "/CPU:0"):
        with tf.device(dev):
            x, y = tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])
            be = x._be
            k = 300 if quick else 2000
            times = []
            for _ in range(3):
                sync(be)
                t = time.perf_counter()
                for _ in range(k):
                    tf.add(x, y)
                sync(be)
                times.append((time.perf_counter() - t) / k)
            overhead[be.name] = sorted(times)[1] * 1e6
    print(
        f"{'eager op':12s} {'tf.add on 2 floats, us per op':38s} gpu {overhead['gpu']:9.1f}  "
        f"numpy {overhead['numpy']:9.1f} us",
        flush=True,
    )
    return {
        "adapter": gpu.adapter_name,
        "backend_type": gpu.dev.backend_type,
        "fallback_adapter": gpu.is_fallback,
        "rows": rows,
        "eager_op_us": overhead,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes and budgets (a smoke run)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    gpu = backends.get("gpu")
    print(
        f"adapter: {gpu.adapter_name} ({gpu.dev.backend_type}{', software' if gpu.is_fallback else ''}); "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}"
    )
    out = bench(args.quick)
    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()

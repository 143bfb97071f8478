"""Our WebAssembly kernels beside TensorFlow.js 4.22's wasm backend, in one Chromium page.

    python benchmarks/page/wasm_kernels.py [--sizes 256,512,1024] [--json out.json]

Needs ``make wasm`` (the module) and ``npm ci`` (TF.js, a benchmark-only devDependency).
Serves both from 127.0.0.1, drives Debian's Chromium headless and prints matmul GFLOP/s at
each N (single thread, SIMD128 on both sides) and the digits CNN's second convolution
(batch 32, 8x8x16 -> 32, 3x3 SAME) forward and both gradients, with ours/TF.js ratios.
The model-level comparison (MLP/CNN fit, predict) is bench_page.py's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "build"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import serve  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

KERNELS = ROOT / "core" / "webtensor" / "backends" / "kernels"


def run(sizes: list) -> dict:
    if not (KERNELS / "webtensor_kernels.wasm").exists():
        sys.exit("build the kernels first: make wasm")
    if not (ROOT / "node_modules" / "@tensorflow" / "tfjs-backend-wasm").exists():
        sys.exit("install TF.js first: npm ci")
    from playwright.sync_api import sync_playwright

    srv = serve.serve({"/": HERE, "/kernels/": KERNELS, "/tfjs/": ROOT / "node_modules" / "@tensorflow"})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pg = browser.new_page()
            pg.goto(f"{srv.url}/wasm_kernels.html")
            pg.wait_for_function("window.kernelsReady === true")
            out = pg.evaluate("(o) => runKernels(o)", {"sizes": sizes})
            out["chromium"] = browser.version
            browser.close()
    finally:
        srv.stop()
    return out


def report(r: dict) -> str:
    lines = ["| matmul N | ours GFLOP/s | TF.js wasm GFLOP/s | ours / TF.js |", "|---|---|---|---|"]
    for n, m in r["matmul"].items():
        lines.append(
            f"| {n} | {m['ours_gflops']:.1f} | {m['tfjs_gflops']:.1f} | {m['ours_gflops'] / m['tfjs_gflops']:.2f}x |"
        )
    c = r["conv"]
    lines += ["", "| conv 32x8x8x16 -> 32, 3x3 | ours (ms) | TF.js wasm (ms) | TF.js / ours |", "|---|---|---|---|"]
    for k, name in (("forward", "forward"), ("input_grad", "input gradient"), ("filter_grad", "filter gradient")):
        o, t = c[f"ours_{k}_ms"], c.get(f"tfjs_{k}_ms")
        lines.append(
            f"| {name} | {o:.3f} | {'-' if t is None else f'{t:.3f}'} | "
            f"{'not registered' if t is None else f'{t / o:.2f}x'} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="256,512,1024")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    r = run([int(s) for s in a.sizes.split(",")])
    print(report(r))
    if a.json:
        a.json.write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()

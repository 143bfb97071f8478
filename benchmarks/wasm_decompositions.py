"""The wasm backend's qr / eigh / eigvalsh / svd kernels (kernels/decomp.c) beside the core's
composition of primitives on the same backend, eager float32: natively (wasmtime) or, with
--page, in headless Chromium (Pyodide; the built site, `make web`).

Run: env -u OPENBLAS_CORETYPE python benchmarks/wasm_decompositions.py [--rounds 3] [--page]
Each round times every case with the kernel (best of 5 calls) and with the composition (one
call; the kernel names taken out of the backend's ``fused``) back to back, alternating which
goes first; the table shows the medians over rounds and their ratio (composition / kernel).
The measurement is pure Python (no numpy), so the same code runs in the page.
"""

from __future__ import annotations

import json
import random
import statistics
import time

KERNELS = {"linalg_qr", "linalg_eigh", "linalg_eigvalsh", "linalg_svd", "linalg_svd_values", "linalg_signed_vectors"}


def _cases(tf) -> list:
    rnd = random.Random(0)
    out = []
    for shape in ((64, 64), (8, 32, 32)):
        size = 1
        for d in shape:
            size *= d
        a = tf.reshape(tf.constant([rnd.gauss(0.0, 1.0) for _ in range(size)], tf.float32), shape)
        s = a + tf.linalg.matrix_transpose(a)
        tag = "x".join(map(str, shape))
        out += [
            (f"qr {tag}", lambda t=a: tf.linalg.qr(t)),
            (f"eigh {tag}", lambda s=s: tf.linalg.eigh(s)),
            (f"eigvalsh {tag}", lambda s=s: tf.linalg.eigvalsh(s)),
            (f"svd {tag}", lambda t=a: tf.linalg.svd(t)),
            (f"svd values {tag}", lambda t=a: tf.linalg.svd(t, compute_uv=False)),
        ]
    return out


def _timed(tf, fn, calls: int) -> float:
    """Best of ``calls`` calls (the kernels take milliseconds; one call is mostly noise on a
    loaded machine), each read back so the values exist."""
    best = float("inf")
    for _ in range(calls):
        t0 = time.perf_counter()
        tf.nest.flatten(fn())[0].numpy()
        best = min(best, time.perf_counter() - t0)
    return best


def measure(rounds: int) -> str:
    """JSON {case: [kernel ms, composition ms]} (medians over rounds), on the wasm backend."""
    import webtensor as tf
    from webtensor import backends

    backends.set_default("wasm")
    be = backends.get("wasm")
    kernel_set, composed_set = be.fused, be.fused - KERNELS
    rows = _cases(tf)
    times = {name: {"kernel": [], "composed": []} for name, _ in rows}
    try:
        for r in range(rounds):
            for name, fn in rows:
                for side in ("kernel", "composed") if r % 2 == 0 else ("composed", "kernel"):
                    be.fused = kernel_set if side == "kernel" else composed_set
                    times[name][side].append(_timed(tf, fn, 5 if side == "kernel" else 1))
    finally:
        be.fused = kernel_set
    return json.dumps(
        {n: [statistics.median(t["kernel"]) * 1e3, statistics.median(t["composed"]) * 1e3] for n, t in times.items()}
    )


PAGE_JS = """async ([src, rounds]) => {
  const py = window.wt.pyodide;
  py.FS.writeFile("/home/pyodide/wasm_decompositions.py", src);
  py.globals.set("_rounds", rounds);
  return await py.runPythonAsync(`
import sys
sys.path.insert(0, "/home/pyodide")
import wasm_decompositions
wasm_decompositions.measure(_rounds)
`);
}"""


def in_page(rounds: int) -> tuple:
    """measure() in headless Chromium on the built site; (its JSON, Chromium's version)."""
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent / "page"
    sys.path.insert(0, str(here))
    import bench_page as bp  # its sys.path set-up, server and Chromium flags
    from playwright.sync_api import sync_playwright

    site = bp.ROOT / "build" / "dist" / "site"
    if not (site / "webtensor.json").exists():
        sys.exit("build the site first: make web")
    srv = bp.serve.serve({"/": site, "/bench/": here})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=bp.CHROMIUM, args=bp.CHROMIUM_ARGS)
            pg = browser.new_page()
            pg.goto(f"{srv.url}/bench/webtensor.html")
            r = bp.boot(pg, backend="wasm", snapshot=False)  # how Python started does not matter here
            if "error" in r:
                sys.exit(f"webtensor did not boot: {r['error'][:300]}")
            out = pg.evaluate(PAGE_JS, [Path(__file__).read_text(), rounds])
            version = browser.version
            browser.close()
    finally:
        srv.stop()
    return out, version


def main():
    import argparse
    import os

    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--page", action="store_true", help="in headless Chromium instead of natively")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    where = "natively (wasmtime)"
    if args.page:
        out, version = in_page(args.rounds)
        where = f"in Chromium {version}"
    else:
        out = measure(args.rounds)
    print(f"{where}; load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; {args.rounds} rounds, medians")
    print("| op (float32) | kernel, ms | composition, ms | composition / kernel |")
    print("|---|---|---|---|")
    for name, (k, c) in json.loads(out).items():
        print(f"| {name} | {k:.2f} | {c:.0f} | {c / k:.0f}x |")


if __name__ == "__main__":
    main()

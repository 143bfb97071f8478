"""Bytes and time of a visit: what the built site sends, cold and warm, fast and slow network.

    python benchmarks/page/boot_bytes.py [--runs 3] [--json out.json]

After ``make web``. Prints (1) the bytes per resource of build/dist/site raw, gzip and
brotli (the variants the site builder wrote), and (2) for a visit to a blank page that
boots webtensor on wasm in Chromium with a disk-cache profile: bytes transferred and
milliseconds from navigation to ``loadWebtensor()`` resolving and to a first prediction (a
Keras MLP built and run on one row), cold (empty cache) and warm
(the same profile again), unthrottled and at 20 Mbit/s with 40 ms latency (CDP network
emulation). Medians over ``--runs``; served by build/serve.py (as the webtensor server).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "build"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import serve  # noqa: E402
from conftest import BLANK, CHROMIUM, CHROMIUM_ARGS, boot  # noqa: E402

SITE = ROOT / "build" / "dist" / "site"
TRANSFER_JS = """() => performance.getEntriesByType("resource").concat(performance.getEntriesByType("navigation"))
  .reduce((n, e) => n + e.transferSize, 0)"""
# What a page does first: build a Keras MLP (tf.keras imports lazily) and classify one row.
FIRST_PREDICTION_JS = """() => window.wt.runPython(`
import webtensor as tf
m = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(32, activation="relu"), tf.keras.layers.Dense(10)])
int(tf.argmax(m(tf.zeros((1, 64))), axis=-1).numpy()[0])`)"""
SLOW = {"offline": False, "latency": 40, "downloadThroughput": 20e6 / 8, "uploadThroughput": 20e6 / 8}


def resource_table(site: Path) -> list:
    manifest = json.loads((site / "webtensor.json").read_text())
    names = (
        [
            "webtensor.mjs",
            "webtensor.json",
            "pyodide/pyodide.mjs",
            "pyodide/pyodide.asm.mjs",
            "pyodide/pyodide.asm.wasm",
            manifest.get("snapshotStdlib", manifest.get("stdlib", "pyodide/python_stdlib.zip")),
            "pyodide/pyodide-lock.json",
            manifest["wheel"],
        ]
        + ([manifest["snapshot"]] if "snapshot" in manifest else [])
        + (["pyodide/python_stdlib.zip"] if "stdlib" in manifest else [])  # on demand only
    )
    rows = []
    for n in names:
        p = site / n
        size = lambda ext: p.with_name(p.name + ext).stat().st_size if p.with_name(p.name + ext).exists() else None
        rows.append({"file": n, "raw": p.stat().st_size, "gzip": size(".gz"), "br": size(".br")})
    return rows


def visit(ctx, url: str, slow: bool) -> dict:
    pg = ctx.new_page()
    try:
        if slow:
            cdp = ctx.new_cdp_session(pg)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", SLOW)
        pg.goto(f"{url}/_bench/blank.html")
        r = boot(pg, backend="wasm")
        if "error" in r:
            raise RuntimeError(r["error"])
        ready = {"bytes": pg.evaluate(TRANSFER_JS), "ms": pg.evaluate("performance.now()")}
        pg.evaluate(FIRST_PREDICTION_JS)
        return {**ready, "first_bytes": pg.evaluate(TRANSFER_JS), "first_ms": pg.evaluate("performance.now()")}
    finally:
        pg.close()


def visits(playwright, url: str, slow: bool, runs: int) -> dict:
    cold, warm = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as profile:
            ctx = playwright.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                cold.append(visit(ctx, url, slow))
                warm.append(visit(ctx, url, slow))
            finally:
                ctx.close()
    med = lambda rows, k: statistics.median(r[k] for r in rows)
    out = {}
    for name, rows in (("cold", cold), ("warm", warm)):
        for k in ("bytes", "ms", "first_bytes", "first_ms"):
            out[f"{name}_{k}"] = med(rows, k)
        out[f"{name}_first_ms_all"] = [round(r["first_ms"]) for r in rows]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--site", default=str(SITE), help="a built site (default build/dist/site)")
    args = ap.parse_args()
    site = Path(args.site)
    from playwright.sync_api import sync_playwright

    rows = resource_table(site)
    print("| file | raw | gzip | brotli |\n|---|---|---|---|")
    mb = lambda n: "-" if n is None else f"{n / 1e6:.2f} MB" if n >= 100_000 else f"{n / 1e3:.1f} KB"
    for r in rows:
        print(f"| `{r['file']}` | {mb(r['raw'])} | {mb(r['gzip'])} | {mb(r['br'])} |")
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "blank.html").write_text(BLANK)
        srv = serve.serve({"/": site, "/_bench/": d})
        try:
            with sync_playwright() as p:
                out = {
                    "fast": visits(p, srv.url, False, args.runs),
                    "20 Mbit/s, 40 ms": visits(p, srv.url, True, args.runs),
                }
        finally:
            srv.stop()
    print(
        "\n| network | visit | transfer to ready | to first prediction | ms to ready | ms to first prediction (runs) |"
        "\n|---|---|---|---|---|---|"
    )
    for k, v in out.items():
        for visit_ in ("cold", "warm"):
            g = lambda f: v[f"{visit_}_{f}"]  # noqa: E731
            print(
                f"| {k} | {visit_} | {mb(g('bytes'))} | {mb(g('first_bytes'))} | {g('ms'):.0f} | "
                f"{g('first_ms'):.0f} {g('first_ms_all')} |"
            )
    if args.json:
        Path(args.json).write_text(json.dumps({"resources": rows, "visits": out}, indent=1))


if __name__ == "__main__":
    main()

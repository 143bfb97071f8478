"""Bytes and time of a visit: what the built site sends, cold and warm, fast and slow network.

    python benchmarks/page/boot_bytes.py [--runs 3] [--json out.json]

After ``make web``. Prints (1) the bytes per resource of build/dist/site raw, gzip and
brotli (the variants the site builder wrote), and (2) for a visit to a blank page that
boots webtensor on wasm in Chromium with a disk-cache profile: bytes transferred and
milliseconds from navigation to ``loadWebtensor()`` resolving, cold (empty cache) and warm
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
SLOW = {"offline": False, "latency": 40, "downloadThroughput": 20e6 / 8, "uploadThroughput": 20e6 / 8}


def resource_table(site: Path) -> list:
    manifest = json.loads((site / "webtensor.json").read_text())
    names = [
        "webtensor.mjs",
        "webtensor.json",
        "pyodide/pyodide.mjs",
        "pyodide/pyodide.asm.mjs",
        "pyodide/pyodide.asm.wasm",
        "pyodide/python_stdlib.zip",
        "pyodide/pyodide-lock.json",
        manifest["wheel"],
    ] + ([manifest["snapshot"]] if "snapshot" in manifest else [])
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
        return {"bytes": pg.evaluate(TRANSFER_JS), "ms": pg.evaluate("performance.now()")}
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
    return {
        "cold_bytes": med(cold, "bytes"),
        "cold_ms": med(cold, "ms"),
        "warm_bytes": med(warm, "bytes"),
        "warm_ms": med(warm, "ms"),
        "cold_ms_all": [round(r["ms"]) for r in cold],
        "warm_ms_all": [round(r["ms"]) for r in warm],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    rows = resource_table(SITE)
    print("| file | raw | gzip | brotli |\n|---|---|---|---|")
    mb = lambda n: "-" if n is None else f"{n / 1e6:.2f} MB" if n >= 100_000 else f"{n / 1e3:.1f} KB"
    for r in rows:
        print(f"| `{r['file']}` | {mb(r['raw'])} | {mb(r['gzip'])} | {mb(r['br'])} |")
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "blank.html").write_text(BLANK)
        srv = serve.serve({"/": SITE, "/_bench/": d})
        try:
            with sync_playwright() as p:
                out = {
                    "fast": visits(p, srv.url, False, args.runs),
                    "20 Mbit/s, 40 ms": visits(p, srv.url, True, args.runs),
                }
        finally:
            srv.stop()
    print(
        "\n| network | cold transfer | cold to ready (ms) | warm transfer | warm to ready (ms) |\n|---|---|---|---|---|"
    )
    for k, v in out.items():
        print(
            f"| {k} | {mb(v['cold_bytes'])} | {v['cold_ms']:.0f} {v['cold_ms_all']} | {mb(v['warm_bytes'])} | "
            f"{v['warm_ms']:.0f} {v['warm_ms_all']} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"resources": rows, "visits": out}, indent=1))


if __name__ == "__main__":
    main()

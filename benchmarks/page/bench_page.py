"""Page benchmarks: webtensor in Chromium vs TensorFlow.js 4.22 in the same run.

    env -u OPENBLAS_CORETYPE python benchmarks/page/bench_page.py [--quick] [--json out.json]

Serves build/dist/site (``make web``) with this folder and node_modules/@tensorflow beside
it on 127.0.0.1, drives Debian's Chromium (WebGPU = SwiftShader here) and measures, on
each of our backends (wasm, gpu) and TF.js's (wasm, cpu, webgpu): boot, page open to first
MLP prediction (ours), MLP 30-epoch and CNN 20-epoch fit time, and the median latency of
predicting the 450 test digits in one batch. Prints a table and the ratios the README quotes.

    python benchmarks/page/bench_page.py --boot 3      (issue 18: boot only, no training)

interleaves N rounds of: our page open to first prediction (boot_bytes.py's visit: boot on
wasm, then a Keras MLP classifies one row) cold and warm in a disk-cache profile, unthrottled
and at 20 Mbit/s with 40 ms latency, beside TF.js's page open to ``tf.ready()`` on wasm
in the same conditions. Prints medians and every run.
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
sys.path.insert(0, str(HERE))  # boot_bytes.py

import serve  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS, WEBGPU_ARGS, boot  # noqa: E402

RUN_MODELS_JS = """async ([src, opts]) => {
  const py = window.wt.pyodide;
  py.FS.writeFile("/home/pyodide/bench_models.py", src);
  py.globals.set("_opts", py.toPy(opts));
  const r = await py.runPythonAsync(`
import json, sys
sys.path.insert(0, "/home/pyodide")
import bench_models
json.dumps(await bench_models.${opts.fn}(**{k: v for k, v in _opts.items() if k != "fn"}))
`);
  return JSON.parse(r);
}"""


def ours(browser, url: str, backend: str, opts: dict) -> dict:
    pg = browser.new_page()
    try:
        pg.goto(f"{url}/bench/webtensor.html")
        r = boot(pg, backend=backend)
        if "error" in r:
            return {"error": r["error"][:300]}
        src = (HERE / "bench_models.py").read_text()
        pg.evaluate(RUN_MODELS_JS, [src, {"fn": "first_prediction"}])
        out = {"backend": r["backend"], "boot_ms": r["ms"], "first_prediction_ms": pg.evaluate("performance.now()")}
        out.update(pg.evaluate(RUN_MODELS_JS, [src, {"fn": "run", **opts}]))
        return out
    except Exception as e:
        return {"error": str(e)[:300]}
    finally:
        pg.close()


def tfjs(browser, url: str, backend: str, opts: dict) -> dict:
    pg = browser.new_page()
    try:
        pg.goto(f"{url}/bench/tfjs.html")
        pg.wait_for_function("window.tfjsReady === true")
        js_opts = {
            "mlpEpochs": opts["mlp_epochs"],
            "cnnEpochs": opts["cnn_epochs"],
            "repeats": opts["repeats"],
            "models": opts["models"],
        }
        return pg.evaluate("(o) => runTfjs(o.backend, o)", {"backend": backend, **js_opts})
    except Exception as e:
        return {"error": str(e)[:300]}
    finally:
        pg.close()


def tfjs_visit(ctx, url: str, slow: bool) -> dict:
    """TF.js 4.22 on wasm: page open to tf.ready() (its scripts and .wasm fetched)."""
    import boot_bytes

    pg = ctx.new_page()
    try:
        if slow:
            cdp = ctx.new_cdp_session(pg)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", boot_bytes.SLOW)
        pg.goto(f"{url}/bench/tfjs.html")
        pg.wait_for_function("window.tfjsReady === true")
        pg.evaluate("() => runTfjs('wasm', { models: [] })")
        return {"bytes": pg.evaluate(boot_bytes.TRANSFER_JS), "first_ms": pg.evaluate("performance.now()")}
    finally:
        pg.close()


def boot_rounds(playwright, url: str, rounds: int) -> dict:
    """Interleaved: each round visits ours and TF.js's page, cold then warm, fast then slow."""
    import tempfile

    import boot_bytes

    runs: dict = {}
    for _ in range(rounds):
        for slow in (False, True):
            for who, visit in (("webtensor", boot_bytes.visit), ("tfjs", tfjs_visit)):
                with tempfile.TemporaryDirectory() as profile:
                    ctx = playwright.chromium.launch_persistent_context(
                        profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS
                    )
                    try:
                        for state in ("cold", "warm"):
                            r = visit(ctx, url, slow)
                            key = f"{who} {state}{' 20 Mbit/s' if slow else ''}"
                            runs.setdefault(key, []).append(r)
                            print(key, json.dumps(r), file=sys.stderr)
                    finally:
                        ctx.close()
    return runs


def boot_table(runs: dict) -> str:
    import statistics

    lines = [
        "| | page open to first prediction / tf.ready() (ms, median) | runs (ms) | transfer (MB) |",
        "|---|---|---|---|",
    ]
    for key, rows in runs.items():
        ms = [r["first_ms"] for r in rows]
        mb = statistics.median(r.get("first_bytes", r["bytes"]) for r in rows) / 1e6
        lines.append(f"| {key} | {statistics.median(ms):.0f} | {[round(m) for m in ms]} | {mb:.2f} |")
    return "\n".join(lines)


def table(results: dict) -> str:
    cols = list(results)
    rows = [
        ("boot (ms)", lambda r: r.get("boot_ms")),
        ("page open to first prediction (ms)", lambda r: r.get("first_prediction_ms")),
    ]
    for m in ("mlp", "cnn"):
        rows += [
            (f"{m.upper()} fit (s)", lambda r, m=m: r.get(m, {}).get("fit_s")),
            (f"{m.upper()} predict 450 (ms)", lambda r, m=m: r.get(m, {}).get("predict_ms")),
            (f"{m.upper()} test accuracy", lambda r, m=m: r.get(m, {}).get("accuracy")),
        ]

    def fmt(v):
        if v is None:
            return "-"
        return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.3g}"

    lines = ["| | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, get in rows:
        lines.append(f"| {name} | " + " | ".join(fmt(get(results[c])) for c in cols) + " |")
    return "\n".join(lines)


def ratios(results: dict) -> list:
    """Ours / TF.js for the README's targets (lower is better)."""

    def get(col, m, k):
        return results.get(col, {}).get(m, {}).get(k)

    out = []
    for m in ("mlp", "cnn"):
        g, tg = get("webtensor gpu", m, "fit_s"), get("tfjs webgpu", m, "fit_s")
        if g and tg:
            out.append(f"{m} fit, our WebGPU / TF.js webgpu (same adapter): {g / tg:.2f}x (target <= 0.8)")
        for k, what in (("fit_s", "fit"), ("predict_ms", "predict")):
            o = [get(c, m, k) for c in results if c.startswith("webtensor")]
            t = [get(c, m, k) for c in results if c.startswith("tfjs")]
            o, t = [v for v in o if v], [v for v in t if v]
            if o and t:
                target = ("<= 0.5" if m == "mlp" else "<= 0.8") if k == "fit_s" else "<= 1.0"  # issue 13: MLP 0.5x
                out.append(f"{m} {what}, our best / TF.js best: {min(o) / min(t):.2f}x (target {target})")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 MLP / 2 CNN epochs: a smoke run, not for the README")
    ap.add_argument("--ours", default="wasm,gpu")
    ap.add_argument("--tfjs", default="wasm,cpu,webgpu")
    ap.add_argument("--models", default="mlp,cnn")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--boot", type=int, default=0, metavar="N", help="boot only: N interleaved rounds (issue 18)")
    a = ap.parse_args()
    opts = {
        "mlp_epochs": 3 if a.quick else 30,
        "cnn_epochs": 2 if a.quick else 20,
        "repeats": 5,
        "models": a.models.split(","),
    }
    site = ROOT / "build" / "dist" / "site"
    if not (site / "webtensor.json").exists():
        sys.exit("build the site first: make web")
    import tempfile

    blank = Path(tempfile.mkdtemp())
    from conftest import BLANK

    (blank / "blank.html").write_text(BLANK)
    srv = serve.serve({"/": site, "/bench/": HERE, "/_bench/": blank, "/tfjs/": ROOT / "node_modules" / "@tensorflow"})
    from playwright.sync_api import sync_playwright

    if a.boot:
        try:
            with sync_playwright() as p:
                runs = boot_rounds(p, srv.url, a.boot)
        finally:
            srv.stop()
        print(boot_table(runs))
        if a.json:
            a.json.write_text(json.dumps(runs, indent=1))
        return

    results = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + WEBGPU_ARGS)
            for b in filter(None, a.ours.split(",")):
                results[f"webtensor {b}"] = r = ours(browser, srv.url, "webgpu" if b == "gpu" else b, opts)
                print(f"webtensor {b}: {json.dumps(r)}", file=sys.stderr)
            for b in filter(None, a.tfjs.split(",")):
                results[f"tfjs {b}"] = r = tfjs(browser, srv.url, b, opts)
                print(f"tfjs {b}: {json.dumps(r)}", file=sys.stderr)
            browser.close()
    finally:
        srv.stop()
    print(table(results))
    for line in ratios(results):
        print("-", line)
    if a.json:
        a.json.write_text(json.dumps({"options": opts, "results": results}, indent=1))


if __name__ == "__main__":
    main()

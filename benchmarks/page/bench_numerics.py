"""Issue 15's heavy numerics ops in the page: webtensor (Pyodide, wasm backend) beside
TensorFlow.js 4.22 in the same Chromium, as ratios (ours / TF.js; lower is better).

    env -u OPENBLAS_CORETYPE python benchmarks/page/bench_numerics.py [--rounds 7] [--tfjs wasm,cpu] [--json out.json]

Needs ``make web`` (the site, with the checkout's webtensor) and ``npm ci`` (TF.js). Uses
bench_page.py's server and Chromium setup and tfjs.html's TF.js loader. The pages stay
open side by side; each round times every op on every side in turn, ``number`` calls then
one readback of the last result; the table shows medians over rounds. TF.js has no svd or solve, and its wasm backend registers no
FFT kernel (fft, rfft and stft run there only on TF.js's cpu or GPU backends): those cells
say so. The target (issue 15): at least TF.js wasm's speed where TF.js wasm has the op.

This one file is also the in-page module: the page imports it (page_setup, page_round).
"""

from __future__ import annotations

import json
import statistics
import sys
import time

CASES = (
    "svd 64x64",
    "solve 64x64 @ 64x8",
    "fft 2^16 (complex64)",
    "rfft 2^16",
    "stft 1 s of 16 kHz (255/128, fft 256)",
    "resize 224->112 bilinear",
)


# -- in the page (Pyodide): no numpy, no playwright ----------------------------------------------


def _cases(tf) -> dict:
    import array
    import random

    rnd = random.Random(0)

    def normal(*shape):
        n = 1
        for d in shape:
            n *= d
        return tf.reshape(tf.constant(array.array("f", [rnd.gauss(0.0, 1.0) for _ in range(n)])), list(shape))

    a = normal(64, 64)
    spd = tf.matmul(a, a, transpose_b=True) + 64.0 * tf.eye(64)
    b = normal(64, 8)
    sig = normal(2**16)
    z = tf.complex(sig, tf.zeros_like(sig))
    audio = normal(16000)
    img = tf.abs(normal(1, 224, 224, 3))
    ops = (
        lambda: tf.linalg.svd(a, compute_uv=False),
        lambda: tf.linalg.solve(spd, b),
        lambda: tf.signal.fft(z),
        lambda: tf.signal.rfft(sig),
        lambda: tf.signal.stft(audio, 255, 128),
        lambda: tf.image.resize(img, [112, 112]),
    )
    return dict(zip(CASES, ops))


def _read(r) -> None:
    """Wait for the result as a user would (values on the host)."""
    (r.real if type(r).__name__ == "ComplexTensor" else r).numpy()


_CASES: dict = {}


def page_setup() -> str:
    """Build the inputs once; the backend the page booted."""
    import webtensor as tf
    from webtensor import backends

    _CASES.update(_cases(tf))
    return backends.default().name


def page_round(name: str, number: int) -> float:
    """ms per call of ``number`` calls, the last one read back (number 0: warm, then time one)."""
    fn = _CASES[name]
    if not number:
        _read(fn())
        number = 1
    t0 = time.perf_counter()
    for _ in range(number - 1):
        fn()
    _read(fn())
    return (time.perf_counter() - t0) / number * 1e3


def page_breakdown(number: int = 50) -> dict:
    """Where resize's time goes in the page: each primitive it runs, timed alone (ms per
    call), beside a 1-element add (the per-op floor) and the whole op."""
    import importlib

    import webtensor as tf
    from webtensor.ops import array as A

    R = importlib.import_module("webtensor.image.resize")
    img = tf.abs(tf.random.normal([1, 224, 224, 3]))
    plan, be = R._plan(224, 112, "bilinear", False), img._be

    def per_call(fn):
        fn()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - t0) / number * 1e3

    out = {"whole resize": per_call(lambda: tf.image.resize(img, [112, 112]))}
    x = img
    for axis, name in ((1, "height"), (2, "width")):
        s = tuple(x.shape.as_list())
        pre, post = s[0] * (s[1] if axis == 2 else 1), 3 * (s[2] if axis == 1 else 1)
        x3 = A.reshape(x, (pre, s[axis], post))
        idx = plan.tensor("index", 0, (plan.out,), be)
        w = plan.tensor("weight", 0, (1, plan.out, post), be, post)
        rows = A.gather(x3, idx, axis=1)
        out[f"{name}: gather, one tap"] = per_call(lambda: A.gather(x3, idx, axis=1))
        out[f"{name}: multiply, one tap"] = per_call(lambda: rows * w)
        out[f"{name}: add"] = per_call(lambda: rows + rows)
        x = R._along(x, axis, plan)
    one = tf.constant([1.0])
    out["1-element add"] = per_call(lambda: one + one)
    return out


# -- TF.js, in the same page (tfjs.html loads it) -------------------------------------------------

TFJS_SETUP_JS = """async (backend) => {
  const boot = await runTfjs(backend, {models: []});  // tfjs.html: load TF.js, set the backend
  const a = tf.randomNormal([64, 64]);
  const sig = tf.randomNormal([65536]);
  let z = null, noComplex = null;  // the wasm backend registers no Complex kernel
  try { z = tf.complex(sig, tf.zerosLike(sig)); } catch (e) { noComplex = e; }
  const audio = tf.randomNormal([16000]);
  const img = tf.abs(tf.randomNormal([1, 224, 224, 3]));
  const cases = {
    "svd 64x64": null,
    "solve 64x64 @ 64x8": null,
    "fft 2^16 (complex64)": () => { if (noComplex) throw noComplex; return tf.spectral.fft(z); },
    "rfft 2^16": () => tf.spectral.rfft(sig),
    "stft 1 s of 16 kHz (255/128, fft 256)": () => tf.signal.stft(audio, 255, 128, 256),
    // TF 2's resize: half-pixel centres, no corner alignment
    "resize 224->112 bilinear": () => tf.image.resizeBilinear(img, [112, 112], false, true),
  };
  const read = async (r) => { await (r.dtype === "complex64" ? tf.real(r) : r).data(); tf.dispose(r); };
  window.numRound = async (name, number) => {  // ms per call; number 0: warm, then time one
    const fn = cases[name];
    if (fn === null) return {error: "TF.js has no such op"};
    try {
      if (!number) { await read(tf.tidy(fn)); number = 1; }
      const t0 = performance.now();
      for (let i = 0; i < number - 1; i++) tf.dispose(tf.tidy(fn));
      await read(tf.tidy(fn));
      return {ms: (performance.now() - t0) / number};
    } catch (e) {
      return {error: String(e.message ?? e).slice(0, 160)};
    }
  };
  return {backend: tf.getBackend(), boot_ms: boot.boot_ms};
}"""

OURS_SETUP_JS = """async (src) => {
  const py = window.wt.pyodide;
  py.FS.writeFile("/home/pyodide/bench_numerics.py", src);
  return await py.runPythonAsync(`
import sys
sys.path.insert(0, "/home/pyodide")
import bench_numerics
bench_numerics.page_setup()
`);
}"""

OURS_BREAKDOWN_JS = """async () => JSON.parse(await window.wt.pyodide.runPythonAsync(
  "import json; json.dumps(bench_numerics.page_breakdown())"))"""

OURS_ROUND_JS = """async ([name, number]) => {
  const py = window.wt.pyodide;
  py.globals.set("_args", py.toPy([name, number]));
  try {
    return {ms: await py.runPythonAsync("bench_numerics.page_round(*_args)")};
  } catch (e) {  // a failing op is a cell of the table, not the end of the run
    const lines = String(e.message ?? e).trim().split("\\n");
    return {error: lines[lines.length - 1].slice(0, 160)};
  }
}"""


# -- natively: serve, drive Chromium, print the table --------------------------------------------


_SLOW_MS = 1000.0


def measure(rounds: int, tfjs_backends: list, min_ms: float = 40.0, site=None, breakdown: bool = False) -> dict:
    """Both sides' pages open at once; every round runs each op on each side in turn, so the
    machine's load drift reaches all columns alike."""
    from pathlib import Path

    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    import bench_page as bp  # its sys.path set-up, server and Chromium flags
    from playwright.sync_api import sync_playwright

    site = Path(site) if site else bp.ROOT / "build" / "dist" / "site"
    if not (site / "webtensor.json").exists():
        sys.exit("build the site first: make web")
    srv = bp.serve.serve({"/": site, "/bench/": bp.HERE, "/tfjs/": bp.ROOT / "node_modules" / "@tensorflow"})
    res: dict = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=bp.CHROMIUM, args=bp.CHROMIUM_ARGS)
            res["chromium"] = browser.version
            sides = {}
            pg = browser.new_page()
            pg.goto(f"{srv.url}/bench/webtensor.html")
            r = bp.boot(pg, backend="wasm")
            if "error" in r:
                sys.exit(f"webtensor did not boot: {r['error'][:300]}")
            res["webtensor wasm"] = {"backend": pg.evaluate(OURS_SETUP_JS, Path(__file__).read_text())}
            sides["webtensor wasm"] = lambda name, n, pg=pg: pg.evaluate(OURS_ROUND_JS, [name, n])
            for b in tfjs_backends:
                tp = browser.new_page()
                tp.goto(f"{srv.url}/bench/tfjs.html")
                tp.wait_for_function("window.tfjsReady === true")
                res[f"tfjs {b}"] = tp.evaluate(TFJS_SETUP_JS, b)
                sides[f"tfjs {b}"] = lambda name, n, tp=tp: tp.evaluate("([a, n]) => numRound(a, n)", [name, n])
            numbers = {}
            for side, run in sides.items():
                for name in CASES:
                    one = run(name, 0)
                    res[side][name] = one if "error" in one else {"times": []}
                    if "ms" in one and one["ms"] > _SLOW_MS:  # e.g. TF.js cpu's FFT: one timed call, no rounds
                        res[side][name] = {"ms": one["ms"], "number": 1, "single": True}
                    elif "ms" in one:
                        numbers[side, name] = max(2, min(500, int(min_ms / max(one["ms"], 0.01))))
            for _ in range(rounds):
                for name in CASES:
                    for side, run in sides.items():
                        if (side, name) in numbers:
                            t = run(name, numbers[side, name])
                            if "ms" in t:
                                res[side][name]["times"].append(t["ms"])
                            else:
                                res[side][name] = t
                                del numbers[side, name]
            for (side, name), n in numbers.items():
                cell = res[side][name]
                cell.update(ms=statistics.median(cell["times"]), number=n)
            if breakdown:
                res["resize breakdown"] = pg.evaluate(OURS_BREAKDOWN_JS)
            browser.close()
    finally:
        srv.stop()
    return res


def table(res: dict) -> str:
    cols = [c for c in res if c.startswith("tfjs")]
    head = "| op | ours wasm (ms) | " + " | ".join(f"TF.js {c[5:]} (ms)" for c in cols)
    head += " | " + " | ".join(f"ours / TF.js {c[5:]}" for c in cols) + " |"
    lines = [head, "|---" * (2 + 2 * len(cols)) + "|"]
    ours = res["webtensor wasm"]
    for name in CASES:
        o = ours.get(name, {}).get("ms")
        cells = [f"{o:.3f}" if o else f"fails: {ours.get(name, {}).get('error', '-')[:60]}"]
        ratios = []
        for c in cols:
            t = res[c].get(name, {})
            if "ms" in t:
                cells.append(f"{t['ms']:.3f}" + (" (1 call)" if t.get("single") else ""))
                ratios.append(f"{o / t['ms']:.3g}x" if o else "-")
            else:
                msg = t.get("error", "-")
                cells.append("no op" if "no such op" in msg else "not registered" if "not registered" in msg else msg)
                ratios.append("-")
        lines.append(f"| {name} | " + " | ".join(cells + ratios) + " |")
    return "\n".join(lines)


def main() -> None:
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--tfjs", default="wasm,cpu")
    ap.add_argument("--min-ms", type=float, default=40.0, help="the least time one round of one op takes")
    ap.add_argument("--site", type=Path, help="a built site other than build/dist/site")
    ap.add_argument("--breakdown", action="store_true", help="also time resize's primitives one by one")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    res = measure(a.rounds, [b for b in a.tfjs.split(",") if b], a.min_ms, a.site, a.breakdown)
    print(table(res))
    for k, v in res.get("resize breakdown", {}).items():
        print(f"  resize, ours: {k:28s} {v:8.3f} ms")
    print(f"{a.rounds} rounds, medians; Chromium {res.get('chromium')}")
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()

"""The page runtime (web/runtime, no Python) beside TensorFlow.js 4.22 in the same Chromium run.

    python benchmarks/page/bench_runtime.py [--runs 5] [--json out.json]

For the digits MLP and CNN (bench_models.py's architectures, seeded weights): exports a
SavedModel, and the same weights in TF.js's layers format (model.json + weights.bin, written
here); serves both on 127.0.0.1. Our page is what `python -m webtensor site` writes: a
``<webtensor-model>`` with its ``<link>`` preload hints (site.graph_preloads); TF.js's loads
its scripts and ``tf.loadLayersModel``. Cold: a fresh browser context per load (nothing
cached), page open to the first prediction of one digit, the two libraries alternating for
``--runs`` rounds; the bytes fetched up to that prediction (raw and gzip -9, as a static host
would serve them); for ours, the median of each cold-start phase (the runtime's
``webtensor:*`` performance measures, and when each file arrived). Then predict latency for
one digit and the 450-digit batch, in rounds alternating between the libraries (median of 7
calls a round, median over the rounds). Our side: the wasm backend (our page runs ``auto``
as the site's does, which picks wasm on this machine's SwiftShader); TF.js: its wasm backend
(SIMD); ``--webgpu`` adds both on WebGPU. Then fine-tuning: the MLP's exported training signature (Adam, batch 32) run over the digits
train split by the runtime, beside TF.js's ``fit`` of the same model and weights on the same
batches (median epoch time after the first).
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "build"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "tests" / "runtime"))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import serve  # noqa: E402
import webtensor as tf  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-webgpu",
]

# The cold start's phases: the runtime's own measures (webtensor:kernels, fetch, parse, weights,
# load, prepare, first-run: web/runtime/webtensor-runtime.mjs) and, from resource timing, when
# each file's bytes had arrived (ms since navigation start).
PHASES_JS = """
const phases = () => {
  const out = { script: window.scriptStart };
  for (const e of performance.getEntriesByType("measure"))
    if (e.name.startsWith("webtensor:")) out[e.name.slice(10).split(" ")[0]] = e.duration;
  for (const e of performance.getEntriesByType("resource")) {
    const f = e.name.split("/").pop();
    if (/\\.(mjs|wasm|json|safetensors)$/.test(f)) out[`got ${f}`] = e.responseEnd;
  }
  return out;
};
"""

# Our page: <webtensor-model> with the <link> hints `python -m webtensor site` writes (site.graph_preloads).
OURS_HTML = (
    """<!doctype html><meta charset=utf-8>
%(preloads)s<script type="module" src="/webtensor-model.mjs"></script>
<body><webtensor-model id="m" src="/models/%(name)s/" backend="%(backend)s"></webtensor-model>
<script type="module">
window.scriptStart = performance.now();
"""
    + PHASES_JS
    + """
const m = document.getElementById("m"), shape = %(shape)s;
await m.ready;
const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5);
const y = await m.predict(x);
window.first = { ms: performance.now(), top: y.indexOf(Math.max(...y)), phases: phases(), backend: m.info.backend };
window.latency = async (batch) => {
  const s = [batch, ...shape.slice(1)], xb = new Float32Array(s.reduce((a, b) => a * b, 1)).fill(0.5), t = [];
  for (let i = 0; i < 7; i++) { const t0 = performance.now(); await m.predict(xb, { batch: true }); t.push(performance.now() - t0); }
  t.sort((a, b) => a - b);
  return t[3];
};
</script>"""
)

TFJS_HTML = """<!doctype html><meta charset=utf-8><body>
<script src="/tfjs/tfjs/dist/tf.min.js"></script>
<script src="/tfjs/tfjs-backend-%(backend)s/dist/tf-backend-%(backend)s.min.js"></script>
<script>
(async () => {
  if (tf.wasm) tf.wasm.setWasmPaths("/tfjs/tfjs-backend-wasm/dist/");
  await tf.setBackend("%(backend)s");
  const m = await tf.loadLayersModel("/models/%(name)s_tfjs/model.json");
  const shape = %(shape)s, x = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5);
  const y = await m.predict(tf.tensor(x, shape)).data();
  window.first = { ms: performance.now(), top: y.indexOf(Math.max(...y)), backend: tf.getBackend() };
  window.latency = async (batch) => {
    const s = [batch, ...shape.slice(1)], xb = tf.tensor(new Float32Array(s.reduce((a, b) => a * b, 1)).fill(0.5), s), t = [];
    for (let i = 0; i < 7; i++) { const t0 = performance.now(); const p = m.predict(xb); await p.data(); p.dispose(); t.push(performance.now() - t0); }
    t.sort((a, b) => a - b);
    return t[3];
  };
})();
</script>"""


TRAIN_OURS_HTML = """<!doctype html><meta charset=utf-8><body><script type="module">
const { loadGraphModel } = await import("/runtime/webtensor-runtime.mjs");
const m = await loadGraphModel("/models/mlp_train/", { backend: "%(backend)s" });
const buf = await (await fetch("/data/digits_split.bin")).arrayBuffer();
const [nTrain] = new Int32Array(buf, 0, 2), x = new Float32Array(buf, 8, nTrain * 64), y = new Int32Array(buf, 8 + 4 * nTrain * 64, nTrain);
const B = 32, nb = Math.floor(nTrain / B), epochs = [], losses = [];
for (let e = 0; e < %(epochs)d; e++) {
  const t0 = performance.now();
  let loss;
  for (let b = 0; b < nb; b++)
    loss = (await m.run("train", { x: { data: x.subarray(b * B * 64, (b + 1) * B * 64), shape: [B, 64], dtype: "float32" },
                                   y: { data: y.subarray(b * B, (b + 1) * B), shape: [B], dtype: "int32" } })).loss.data[0];
  epochs.push(performance.now() - t0);
  losses.push(loss);
}
window.done = { epochs, losses, batches: nb };
</script>"""

TRAIN_TFJS_HTML = """<!doctype html><meta charset=utf-8><body>
<script src="/tfjs/tfjs/dist/tf.min.js"></script>
<script src="/tfjs/tfjs-backend-%(backend)s/dist/tf-backend-%(backend)s.min.js"></script>
<script>
(async () => {
  if (tf.wasm) tf.wasm.setWasmPaths("/tfjs/tfjs-backend-wasm/dist/");
  await tf.setBackend("%(backend)s");
  const m = await tf.loadLayersModel("/models/mlp_tfjs/model.json");
  m.compile({ optimizer: tf.train.adam(0.001, 0.9, 0.999, 1e-7), loss: "sparseCategoricalCrossentropy" });
  const buf = await (await fetch("/data/digits_split.bin")).arrayBuffer();
  const [nTrain] = new Int32Array(buf, 0, 2), B = 32, n = Math.floor(nTrain / B) * B;
  const x = tf.tensor(new Float32Array(buf, 8, n * 64), [n, 64]), y = tf.tensor(new Int32Array(buf, 8 + 4 * nTrain * 64, n), [n], "float32");
  const epochs = [], losses = [];
  let t0 = performance.now();
  await m.fit(x, y, { epochs: %(epochs)d, batchSize: B, shuffle: false, verbose: 0, callbacks: {
    onEpochEnd: async (e, logs) => { epochs.push(performance.now() - t0); losses.push(logs.loss); t0 = performance.now(); } } });
  window.done = { epochs, losses, batches: n / B };
})();
</script>"""


BACKENDS = [("wasm", "wasm")]  # (ours, TF.js's); --webgpu adds ("webgpu", "webgpu")


def _keras2_layer(layer) -> dict:
    """TF.js's layers-format config (Keras 2 names) for the layer kinds of the digits models."""
    kind = type(layer).__name__
    cfg = {"name": layer.name, "trainable": True, "dtype": "float32"}
    if kind == "Dense":
        cfg.update(units=layer.units, activation=layer.activation.__name__, use_bias=True)
    elif kind == "Conv2D":
        cfg.update(
            filters=layer.filters,
            kernel_size=list(layer.kernel_size),
            strides=list(layer.strides),
            padding=layer.padding,
            activation=layer.activation.__name__,
            use_bias=True,
            data_format="channels_last",
            dilation_rate=[1, 1],
        )
    elif kind == "MaxPooling2D":
        cfg.update(
            pool_size=list(layer.pool_size),
            strides=list(layer.strides),
            padding=layer.padding,
            data_format="channels_last",
        )
    elif kind == "Dropout":
        cfg.update(rate=layer.rate)
    elif kind == "Flatten":
        cfg.update(data_format="channels_last")
    else:
        raise ValueError(f"bench_runtime: no TF.js config for {kind}")
    return {"class_name": kind, "config": cfg}


def write_tfjs(model, shape, dest: Path) -> None:
    dest.mkdir(parents=True)
    layers = [_keras2_layer(layer) for layer in model.layers]
    layers[0]["config"]["batch_input_shape"] = [None, *shape]
    weights, blobs = [], []
    for layer in model.layers:
        for v, part in zip(layer.weights, ("kernel", "bias")):
            a = np.asarray(v.numpy(), "float32")
            weights.append({"name": f"{layer.name}/{part}", "shape": list(a.shape), "dtype": "float32"})
            blobs.append(a.tobytes())
    (dest / "weights.bin").write_bytes(b"".join(blobs))
    doc = {
        "format": "layers-model",
        "generatedBy": "webtensor bench_runtime.py",
        "convertedBy": None,
        "modelTopology": {
            "class_name": "Sequential",
            "config": {"name": "digits", "layers": layers},
            "keras_version": "2.15.0",
            "backend": "tensorflow",
        },
        "weightsManifest": [{"paths": ["weights.bin"], "weights": weights}],
    }
    (dest / "model.json").write_text(json.dumps(doc))


def build(site: Path) -> dict:
    from bench_models import cnn, mlp
    from runtime_node import page_site, save

    from webtensor.serving.site import graph_preloads

    page_site(site, element=True)
    out = {}
    for name, make, shape in (("mlp", mlp, [64]), ("cnn", cnn, [8, 8, 1])):
        tf.random.set_seed(0)
        model = make()
        save(model, site / "models" / name)
        write_tfjs(model, shape, site / "models" / f"{name}_tfjs")
        want = model(np.full([1, *shape], 0.5, "float32")).numpy()
        out[name] = {"shape": shape, "top": int(want.argmax())}
        for b, tb in BACKENDS:
            sub = {"name": name, "shape": json.dumps([1, *shape])}
            hints = graph_preloads(f"/models/{name}/", "/runtime/", kernels=b == "wasm")
            # wasm: the site page's own choice (auto, no backend attribute), which is wasm on SwiftShader
            attr = "auto" if b == "wasm" else b
            (site / f"{name}_{b}.html").write_text(OURS_HTML % dict(sub, backend=attr, preloads=hints))
            (site / f"{name}_tfjs_{tb}.html").write_text(TFJS_HTML % dict(sub, backend=tb))
        if name == "mlp":
            _export_train(model, site / "models" / "mlp_train")
    digits = ROOT / "tests" / "data" / "digits_split.bin"
    if digits.exists():
        (site / "data").mkdir()
        (site / "data" / digits.name).write_bytes(digits.read_bytes())
    return out


def _export_train(model, path: Path) -> None:
    """The MLP's training step (Adam as TF.js's defaults, batch 32) as a signature of its own."""
    from runtime_node import save_trainer

    save_trainer(
        model,
        tf.keras.optimizers.Adam(0.001, epsilon=1e-7),
        tf.keras.losses.SparseCategoricalCrossentropy(),
        tf.TensorSpec([32, 64], tf.float32),
        tf.TensorSpec([32], tf.int32),
        path,
    )


def fine_tune(browser, url, page_name) -> dict:
    ctx = browser.new_context()
    try:
        pg = ctx.new_page()
        pg.goto(f"{url}/{page_name}.html")
        pg.wait_for_function("window.done !== undefined", timeout=300000, polling=500)
        d = pg.evaluate("window.done")
    finally:
        ctx.close()
    return {
        "epoch_ms": statistics.median(d["epochs"][1:] or d["epochs"]),
        "epochs_ms": d["epochs"],
        "losses": d["losses"],
        "batches": d["batches"],
    }


def fetched(page, site: Path, tfjs_root: Path) -> tuple:
    """(raw bytes, gzip -9 bytes) of every file the page fetched (resource timing)."""
    urls = page.evaluate("performance.getEntriesByType('resource').map((e) => e.name).concat([location.href])")
    raw = gz = 0
    for u in set(urls):
        path = u.split("://", 1)[1].split("/", 1)[1]
        f = (tfjs_root / path[len("tfjs/") :]) if path.startswith("tfjs/") else site / path
        if not f.is_file():  # a 404 (favicon.ico)
            continue
        data = f.read_bytes()
        raw += len(data)
        gz += len(gzip.compress(data, 9))
    return raw, gz


def cold(browser, url, page_name) -> tuple:
    """One cold load in a fresh context: (window.first, the page, its context) (close it after)."""
    ctx = browser.new_context()
    pg = ctx.new_page()
    pg.goto(f"{url}/{page_name}.html")
    pg.wait_for_function("window.first !== undefined", timeout=60000)
    return pg.evaluate("window.first"), pg, ctx


def compare(browser, url, pages: dict, site, tfjs_root, runs) -> dict:
    """The libraries' pages side by side: cold loads alternate between them (one fresh context
    each, ``runs`` rounds), then predict latency in rounds that alternate too (each round the
    median of 7 calls a library; the result is the median over ``runs`` rounds), so a change in
    the machine's load reaches both alike."""
    out = {k: {"colds": [], "phases": {}} for k in pages}
    for i in range(runs):
        for k, page_name in pages.items():
            first, pg, ctx = cold(browser, url, page_name)
            r = out[k]
            r["colds"].append(first["ms"])
            for p, v in (first.get("phases") or {}).items():
                r["phases"].setdefault(p, []).append(v)
            if i == 0:
                r["sizes"], r["top"] = fetched(pg, site, tfjs_root), first["top"]
                r["backend"] = first.get("backend")
            ctx.close()
    open_pages = {k: cold(browser, url, page_name) for k, page_name in pages.items()}
    lat = {k: {1: [], 450: []} for k in pages}
    try:
        for _ in range(runs):
            for batch in (1, 450):
                for k, (_, pg, _) in open_pages.items():
                    lat[k][batch].append(pg.evaluate(f"window.latency({batch})"))
    finally:
        for _, _, ctx in open_pages.values():
            ctx.close()
    results = {}
    for k, r in out.items():
        results[k] = {
            "cold_ms": statistics.median(r["colds"]),
            "cold_all_ms": r["colds"],
            "bytes": r["sizes"][0],
            "gzip_bytes": r["sizes"][1],
            "phases_ms": {p: round(statistics.median(v), 1) for p, v in r["phases"].items()},
            "predict_1_ms": statistics.median(lat[k][1]),
            "predict_450_ms": statistics.median(lat[k][450]),
            "predict_450_all_ms": lat[k][450],
            "top": r["top"],
            "backend": r.get("backend"),
        }
    return results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--webgpu", action="store_true", help="also both libraries on WebGPU (SwiftShader here: slow)")
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.webgpu:
        BACKENDS.append(("webgpu", "webgpu"))
    from playwright.sync_api import sync_playwright

    tfjs_root = ROOT / "node_modules" / "@tensorflow"
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        models = build(site)
        srv = serve.serve({"/": site, "/tfjs/": tfjs_root})
        results = {}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for b, tb in BACKENDS if (site / "data").exists() else ():
                    for page_name, html, bk in (("train", TRAIN_OURS_HTML, b), ("train_tfjs", TRAIN_TFJS_HTML, tb)):
                        (site / f"{page_name}_{bk}.html").write_text(html % {"epochs": a.epochs, "backend": bk})
                    for lib, page_name in (
                        (f"webtensor runtime ({b})", f"train_{b}"),
                        (f"TF.js 4.22 ({tb})", f"train_tfjs_{tb}"),
                    ):
                        results[f"mlp fine-tune: {lib}"] = r = fine_tune(browser, srv.url, page_name)
                        print(f"mlp fine-tune: {lib}: {json.dumps(r)}", file=sys.stderr)
                for name, b, tb in ((n, b, tb) for n in models for b, tb in BACKENDS):
                    pages = {
                        f"{name}: webtensor runtime ({b})": f"{name}_{b}",
                        f"{name}: TF.js 4.22 ({tb})": f"{name}_tfjs_{tb}",
                    }
                    for k, r in compare(browser, srv.url, pages, site, tfjs_root, a.runs).items():
                        r["agrees_with_python"] = r["top"] == models[name]["top"]
                        results[k] = r
                        print(f"{k}: {json.dumps(r)}", file=sys.stderr)
                browser.close()
        finally:
            srv.stop()
    print(f"{'':34} {'gzip KB':>8} {'raw KB':>8} {'cold ms':>8} {'1 digit ms':>10} {'450 ms':>8}")
    for k, r in results.items():
        if "epoch_ms" in r:
            continue
        print(
            f"{k:34} {r['gzip_bytes'] / 1024:8.1f} {r['bytes'] / 1024:8.1f} {r['cold_ms']:8.0f} "
            f"{r['predict_1_ms']:10.2f} {r['predict_450_ms']:8.2f}"
        )
    for k, r in results.items():
        if r.get("phases_ms"):
            print(f"{k} cold phases (median ms): " + ", ".join(f"{p} {v:.1f}" for p, v in r["phases_ms"].items()))
    for k, r in results.items():
        if "epoch_ms" in r:
            print(
                f"{k:44} epoch {r['epoch_ms']:8.0f} ms ({r['batches']} batches of 32), losses "
                + " ".join(f"{v:.4f}" for v in r["losses"])
            )
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

"""web/runtime in Chromium, with no Pyodide: a SavedModel exported here runs on the wasm kernels
and on WebGPU (SwiftShader here) with the same WGSL, and matches Python; a training signature
updates the runtime's variables as Python's steps do."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import webtensor as tf

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "build"))
sys.path.insert(0, str(ROOT / "tests" / "runtime"))

import serve  # noqa: E402  (build/serve.py)
from runtime_node import page_site, save, save_trainer  # noqa: E402

pytestmark = pytest.mark.numpy

RUN_JS = """async ({ backend, calls, tiled }) => {
  const { loadGraphModel } = await import("/runtime/webtensor-runtime.mjs");
  try {
    const out = {};
    for (const [dir, runs] of Object.entries(calls)) {
      const m = await loadGraphModel(`/${dir}/`, { backend, workgroupKernels: tiled ? true : undefined });
      out[dir] = { backend: m.backend, results: [] };
      for (const [sig, inputs] of runs) {
        const r = await m.run(sig, Object.fromEntries(Object.entries(inputs).map(([k, v]) =>
          [k, { data: v.dtype === "int32" ? Int32Array.from(v.values) : Float32Array.from(v.values), shape: v.shape, dtype: v.dtype }])));
        out[dir].results.push(Object.fromEntries(Object.entries(r).map(([k, t]) => [k, { shape: t.shape, values: Array.from(t.data) }])));
      }
    }
    return out;
  } catch (e) {
    return { error: String(e.message) };
  }
}"""


def _js(x):
    return {"values": np.asarray(x).ravel().tolist(), "shape": list(np.shape(x)), "dtype": np.asarray(x).dtype.name}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The runtime folder (as make web builds it) and three SavedModels, served on 127.0.0.1."""
    d = tmp_path_factory.mktemp("runtime-site")
    page_site(d, element=True)
    (d / "embed.html").write_text(
        '<!doctype html><meta charset=utf-8><script type="module" src="/webtensor-model.mjs">'
        '</script><webtensor-model id="m" src="mlp/"></webtensor-model>'
    )
    L = tf.keras.layers
    tf.random.set_seed(5)
    mlp = tf.keras.Sequential([L.Input((8,)), L.Dense(16, activation="relu"), L.Dense(3, activation="softmax")])
    cnn = tf.keras.Sequential(
        [
            L.Input((8, 8, 1)),
            L.Conv2D(4, 3, padding="same", activation="relu"),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dense(10, activation="softmax"),
        ]
    )
    save(mlp, d / "mlp")
    from test_runtime_wasm import Ops, _cnn, _Trainer

    ops = Ops(int64=False)
    save(ops, d / "ops", signatures={"serving_default": ops.f.get_concrete_function()})
    save(cnn, d / "cnn")

    t = save_trainer(
        tf.keras.Sequential([L.Input((8,)), L.Dense(8, activation="tanh"), L.Dense(3)]),
        tf.keras.optimizers.SGD(0.2),
        tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        tf.TensorSpec([5, 8], tf.float32),
        tf.TensorSpec([5], tf.int32),
        d / "train",
    )
    ct = _Trainer(_cnn(), tf.keras.optimizers.SGD(0.1, momentum=0.9), tf.keras.losses.SparseCategoricalCrossentropy())
    cnn_train = tf.function(
        ct.step, input_signature=[tf.TensorSpec([4, 8, 8, 1], tf.float32), tf.TensorSpec([4], tf.int32)]
    )
    save(ct, d / "cnn_train", signatures={"train": cnn_train.get_concrete_function()})  # conv and pooling gradients
    rs = np.random.RandomState(3)
    data = {
        "mlp": rs.randn(3, 8).astype("float32"),
        "cnn": rs.randn(2, 8, 8, 1).astype("float32"),
        "train": [(rs.randn(5, 8).astype("float32"), rs.randint(0, 3, 5).astype("int32")) for _ in range(4)],
        "ops": (np.array([[0.5, -1.25, 2.0], [-0.75, 3.0, 0.125]], "float32"), np.array([3, 0, 3, 1, 2], "int32")),
        "cnn_train": [(rs.randn(4, 8, 8, 1).astype("float32"), rs.randint(0, 3, 4).astype("int32")) for _ in range(3)],
    }
    want = {
        "mlp": mlp(data["mlp"]).numpy(),
        "cnn": cnn(data["cnn"]).numpy(),
        "train": [float(t.train(x, y)["loss"].numpy()) for x, y in data["train"]],
        "cnn_train": [float(cnn_train(x, y)["loss"].numpy()) for x, y in data["cnn_train"]],
        "ops": {k: v.numpy() for k, v in ops.f(*data["ops"]).items()},
    }
    names = {
        k: next(iter(json.loads((d / k / "saved_model.json").read_text())["signatures"]["serving_default"]["inputs"]))
        for k in ("mlp", "cnn")
    }
    srv = serve.serve(d)
    yield srv, data, want, names
    srv.stop()


@pytest.mark.parametrize("backend", ["wasm", "webgpu", "webgpu-tiled"])
def test_runtime_in_chromium_matches_python(browser, site, backend):
    """webgpu-tiled: the workgroup-memory kernels (tiled GEMM, tree reductions) a hardware GPU
    gets, forced on SwiftShader (which otherwise gets the direct kernels)."""
    tiled = backend == "webgpu-tiled"
    backend = "webgpu" if tiled else backend
    srv, data, want, names = site
    calls = {
        "mlp": [["serving_default", {names["mlp"]: _js(data["mlp"])}]],
        "cnn": [["serving_default", {names["cnn"]: _js(data["cnn"])}]],
        "train": [["train", {"x": _js(x), "y": _js(y)}] for x, y in data["train"]],
        "ops": [["serving_default", {"x": _js(data["ops"][0]), "idx": _js(data["ops"][1])}]],
        "cnn_train": [["train", {"x": _js(x), "y": _js(y)}] for x, y in data["cnn_train"]],
    }
    if tiled:  # slow on SwiftShader: the primitives and the CNN's gradients cover the tiled kernels
        calls = {"ops": calls["ops"], "cnn_train": calls["cnn_train"][:1]}
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(f"{srv.url}/runtime/")  # any page of the origin (a 404 body is fine)
        out = page.evaluate(RUN_JS, {"backend": backend, "calls": calls, "tiled": tiled})
    finally:
        ctx.close()
    assert "error" not in out, out.get("error")
    tol = 1e-5 if backend == "wasm" else 1e-4
    for k in ("mlp", "cnn") if not tiled else ():
        assert out[k]["backend"] == backend
        (r,) = out[k]["results"]
        (got,) = r.values()
        np.testing.assert_allclose(np.array(got["values"]).reshape(got["shape"]), want[k], rtol=tol, atol=1e-6)
    (ops,) = out["ops"]["results"]
    assert set(ops) == set(want["ops"])
    for k, v in want["ops"].items():
        got = np.array(ops[k]["values"], dtype=v.dtype).reshape(ops[k]["shape"])
        np.testing.assert_allclose(got, v, rtol=tol, atol=1e-6, err_msg=k)
    for k in ("train", "cnn_train") if not tiled else ("cnn_train",):
        assert out[k]["backend"] == backend and len(out[k]["results"]) == len(calls[k])
        losses = [r["loss"]["values"][0] for r in out[k]["results"]]
        assert want[k][-1] != want[k][0]
        np.testing.assert_allclose(losses, want[k][: len(losses)], rtol=tol * 10, err_msg=k)


def test_webtensor_model_element_runs_a_savedmodel_without_pyodide(browser, site):
    srv, data, want, _ = site
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(f"{srv.url}/embed.html")
        out = page.evaluate(
            """async (rows) => {
          const m = document.getElementById("m");
          const info = await m.ready;
          const one = await m.predict(rows[0]);
          const all = await m.predict(rows, { batch: true });
          const fetched = performance.getEntriesByType("resource").map((e) => e.name);
          return { info, one, all, pyodide: fetched.filter((u) => u.includes("pyodide") || u.endsWith(".whl") || u.endsWith("/webtensor.mjs")) };
        }""",
            data["mlp"].tolist(),
        )
    finally:
        ctx.close()
    assert out["info"]["runtime"] == "graph" and out["info"]["backend"] == "wasm"  # auto: SwiftShader is not used
    assert out["pyodide"] == []  # nor the Pyodide loader (webtensor.mjs): the element imports it for .safetensors only
    np.testing.assert_allclose(out["one"], want["mlp"][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["all"], want["mlp"], rtol=1e-5, atol=1e-6)

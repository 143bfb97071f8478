"""``python -m webtensor site SAVEDMODEL OUT`` writes a runtime-only folder (no Pyodide, no wheel)
whose page predicts what Python predicts; a .safetensors model still gets the Pyodide page."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
import webtensor as tf  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "build"))
import serve  # noqa: E402  (build/serve.py)

pytestmark = pytest.mark.numpy


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("graph-site")
    L = tf.keras.layers
    tf.random.set_seed(11)
    model = tf.keras.Sequential([L.Input((6,)), L.Dense(12, activation="relu"), L.Dense(4, activation="softmax")])
    model.export(str(d / "digits_mlp"))  # the Keras export path: a SavedModel with serving_default
    out = d / "out"
    r = subprocess.run(
        [sys.executable, "-m", "webtensor", "site", str(d / "digits_mlp"), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    x = np.random.RandomState(2).randn(3, 6).astype("float32")
    return out, x, model(x).numpy()


def test_the_folder_holds_the_runtime_and_the_model_only(built):
    out, _, _ = built
    files = json.loads((out / "site-files.json").read_text())["files"]
    plain = sorted(f for f in files if not f.endswith((".br", ".gz")))
    assert plain == [
        "digits_mlp/saved_model.json",
        "digits_mlp/variables.safetensors",
        "index.html",
        "runtime/webgpu-backend.mjs",
        "runtime/webtensor-runtime.mjs",
        "runtime/webtensor_kernels.wasm",
        "runtime/wgsl.mjs",
        "webtensor-model.mjs",
        "webtensor.mjs",
    ]
    assert not any("pyodide" in f or f.endswith(".whl") for f in files)
    page = (out / "index.html").read_text()
    assert 'src="digits_mlp/"' in page and 'rel="modulepreload" href="./runtime/webtensor-runtime.mjs"' in page
    for f in ("./runtime/webtensor_kernels.wasm", "digits_mlp/saved_model.json", "digits_mlp/variables.safetensors"):
        assert f'<link rel="preload" href="{f}" as="fetch" crossorigin>' in page  # fetched while the page parses


def test_a_bad_savedmodel_is_refused_before_publishing(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "saved_model.json").write_text('{"format": "webtensor.saved_model", "objects": 3}')
    from webtensor.serving.site import build

    with pytest.raises(ValueError, match="saved_model.json"):
        build(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_page_predicts_what_python_predicts_without_pyodide(browser, built):
    out, x, want = built
    srv = serve.serve(out)
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(f"{srv.url}/index.html")
        got = page.evaluate(
            """async (rows) => {
          const m = document.getElementById("model");
          const info = await m.ready;
          const all = await m.predict(rows, { batch: true });
          await new Promise((r) => setTimeout(r, 0));
          const fetched = performance.getEntriesByType("resource").map((e) => e.name);
          return { info, all, status: document.getElementById("status").textContent, fetched,
                   pyodide: fetched.filter((u) => u.includes("pyodide") || u.endsWith(".whl")) };
        }""",
            x.tolist(),
        )
    finally:
        ctx.close()
        srv.stop()
    assert got["info"]["runtime"] == "graph"
    assert got["pyodide"] == []
    # each file once: the runtime's own fetches took the preloaded responses
    names = [u.split("/", 3)[3] for u in got["fetched"]]
    assert sorted(names) == sorted(set(names)), names
    assert "webtensor.mjs" not in names  # the Pyodide loader: imported for a .safetensors src only
    assert "runtime/webgpu-backend.mjs" not in names  # auto ran on wasm: the WebGPU chunk was not needed
    assert got["status"].startswith("ready: running on ")
    np.testing.assert_allclose(np.array(got["all"], "float32"), want, rtol=1e-5, atol=1e-6)

"""The loader in a real Chromium: boot, backend choice, progress, failures, readback."""

from __future__ import annotations

import pytest

from conftest import boot, run_python

EXAMPLE = """
import webtensor as tf
x = tf.Variable([[1.0, 2.0]])
with tf.GradientTape() as t:
    y = tf.reduce_sum(tf.nn.relu(x @ tf.ones([2, 3])))
t.gradient(y, x).numpy().tolist()
"""


def test_auto_skips_fallback_adapter_for_wasm(page):
    """SwiftShader is a fallback adapter: "auto" picks the wasm kernels and says why."""
    r = boot(page)
    assert "error" not in r, r
    assert r["adapterInfo"]["fallback"] is True
    assert r["backend"] == "wasm"
    assert "fallback" in r["reason"]
    assert run_python(page, "from webtensor import backends; backends.default().name") == "wasm"


@pytest.mark.parametrize("backend, name", [("wasm", "wasm"), ("webgpu", "gpu")])
def test_issue_example_runs(page, backend, name):
    """d/dx sum(relu(x @ ones(2,3))) at x=[[1,2]]: every x@ones entry is 3 > 0, so each
    x_j gets a gradient of 3 (one per output column)."""
    r = boot(page, backend=backend)
    assert r.get("backend") == name, r
    assert run_python(page, EXAMPLE) == [[3.0, 3.0]]
    assert run_python(page, "tf.reduce_sum(x).device").endswith("GPU:0" if name == "gpu" else "CPU:0")


def test_progress_events_cover_every_stage(page):
    boot(page, backend="wasm")
    events = page.evaluate("window.progress")
    assert [e["stage"] for e in events if e["stage"] != "download"] == [
        "manifest",
        "runtime",
        "wheel",
        "backend",
        "ready",
    ]
    fractions = [e["fraction"] for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1
    assert "wasm" in events[-1]["message"]


def test_no_numpy_in_page_numpy_returns_host_array(page):
    boot(page, backend="wasm")
    got = run_python(
        page,
        """
import importlib.util
t = tf.constant([[1, 2], [3, 4]])
a = t.numpy()
r = tf.range(tf.reduce_sum(tf.constant([1, 2])))
[importlib.util.find_spec("numpy") is None, type(a).__name__, a.tolist(), list(a.shape), a[1][0],
 r.numpy().tolist(), tf.reduce_sum(t).numpy()]
""".replace("tf.", "__import__('webtensor')."),
    )
    assert got == [True, "HostArray", [[1, 2], [3, 4]], [2, 2], 3, [0, 1, 2], 10]


def test_sync_readback_on_gpu_uses_jspi(page):
    r = boot(page, backend="webgpu")
    assert r["jspi"] is True
    got = run_python(
        page,
        """
import webtensor as tf
a = tf.constant([1.0, 2.0, 3.0]) * 2.0
[a.numpy().tolist(), float(tf.reduce_sum(a))]
""",
    )
    assert got == [[2.0, 4.0, 6.0], 12.0]


def test_sync_readback_without_jspi_says_use_numpy_async(page):
    """Python entered with runPython (not runPythonAsync) cannot block on a promise."""
    boot(page, backend="webgpu")
    msg = page.evaluate("""() => {
      try {
        wt.pyodide.runPython("import webtensor as tf; (tf.constant([1.0, 2.0]) + 1.0).numpy()");
        return "no error";
      } catch (e) { return String(e.message); }
    }""")
    assert "SyncReadbackError" in msg and "await t.numpy_async()" in msg
    got = run_python(
        page,
        """
import webtensor as tf
(await (tf.constant([1.0, 2.0]) + 1.0).numpy_async()).tolist()
""",
    )
    assert got == [2.0, 3.0]


def test_without_webgpu_auto_runs_on_wasm(browser_no_webgpu, server):
    pg = browser_no_webgpu.new_page()
    pg.goto(f"{server.url}/_test/blank.html")
    r = boot(pg)
    assert r.get("backend") == "wasm", r
    assert "adapter" in r["reason"] or "WebGPU" in r["reason"]
    assert run_python(pg, "import webtensor as tf; float(tf.reduce_sum(tf.constant([1.0, 2.5])))") == 3.5
    pg.close()


def test_without_webgpu_override_rejects_clearly(browser_no_webgpu, server):
    pg = browser_no_webgpu.new_page()
    pg.goto(f"{server.url}/_test/blank.html")
    r = boot(pg, backend="webgpu")
    assert r.get("name") == "WebtensorError", r
    assert 'backend "webgpu" was requested' in r["error"]
    assert r["ms"] < 60_000
    pg.close()


def test_navigator_gpu_missing_gives_wasm(page):
    page.evaluate("() => { Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }); }")
    r = boot(page)
    assert r.get("backend") == "wasm", r
    assert "navigator.gpu is missing" in r["reason"]


@pytest.mark.parametrize(
    "pattern, opts, url_part",
    [
        ("**/wheels/*.whl", {}, "/wheels/webtensor-"),
        ("**/pyodide/pyodide.mjs", {}, "/pyodide/pyodide.mjs"),
        ("**/nowhere/webtensor.json", {"baseURL": "/nowhere/"}, "/nowhere/webtensor.json"),
        ("**/pyodide/webtensor-*.snapshot", {}, "/pyodide/webtensor-"),  # content-hashed name
        ("**/pyodide/pyodide.asm.wasm", {"snapshot": False}, "/pyodide/pyodide.asm.wasm"),
        ("**/pyodide/python_stdlib*.zip", {}, "/pyodide/python_stdlib"),  # the trimmed zip the boot uses
    ],
)
def test_boot_failure_rejects_with_the_url(page, pattern, opts, url_part):
    page.route(pattern, lambda route: route.fulfill(status=404, body="not here"))
    r = boot(page, backend="wasm", **opts)
    assert r.get("name") == "WebtensorError", r
    assert url_part in r["error"] and url_part in r["url"]


def test_boot_without_snapshot(page):
    """Python started from scratch (no memory snapshot) gives the same library."""
    r = boot(page, backend="wasm", snapshot=False)
    assert r.get("backend") == "wasm", r
    assert run_python(page, EXAMPLE) == [[3.0, 3.0]]
    assert run_python(page, "import os; os.environ['WEBTENSOR_IN_PAGE']") == "1"


def test_env_option_reaches_python_after_snapshot(page):
    r = boot(page, backend="wasm", env={"WT_PROBE": "42"})
    assert r.get("backend") == "wasm", r
    assert run_python(page, "import os; [os.environ['WT_PROBE'], os.environ['WEBTENSOR_IN_PAGE']]") == ["42", "1"]


def test_engine_without_jspi_boots_from_scratch_and_says_use_numpy_async(page):
    """An engine without JSPI: no snapshot (it was made with JSPI), and GPU readback
    through the sync form is a clear error while the async form works."""
    page.evaluate("() => { delete WebAssembly.Suspending; delete WebAssembly.Suspender; }")
    r = boot(page, backend="webgpu")
    assert r.get("backend") == "gpu" and r["jspi"] is False, r
    assert page.evaluate("performance.getEntriesByType('resource').some((e) => e.name.endsWith('.snapshot'))") is False
    got = run_python(
        page,
        """
import webtensor as tf
from webtensor.page import SyncReadbackError
t = tf.constant([1.0, 2.0]) * 3.0
try:
    t.numpy()
    msg = "no error"
except SyncReadbackError as e:
    msg = str(e)
[msg, (await t.numpy_async()).tolist()]
""",
    )
    assert "await t.numpy_async()" in got[0]
    assert got[1] == [3.0, 6.0]


WORKER_JS = """async () => {
  const src = `
    import { loadWebtensor } from "${location.origin}/webtensor.mjs";
    const wt = await loadWebtensor({ backend: "wasm" });
    const out = await wt.runPython("import webtensor as tf; tf.reduce_sum(tf.ones([3, 4])).numpy()");
    postMessage({ backend: wt.backend, out, hasDocument: typeof document !== "undefined" });`;
  const w = new Worker(URL.createObjectURL(new Blob([src], { type: "text/javascript" })), { type: "module" });
  return await new Promise((ok, fail) => {
    w.onmessage = (e) => { ok(e.data); w.terminate(); };
    w.onerror = (e) => fail(new Error(e.message));
  });
}"""


def test_loader_runs_in_a_module_worker(page):
    """Training off the main thread: the same loader in a module Worker."""
    assert page.evaluate(WORKER_JS) == {"backend": "wasm", "out": 12.0, "hasDocument": False}

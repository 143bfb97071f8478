"""The browser device adapter on its own (no dispatcher): bytes in and out of GPUBuffers,
a hand-written WGSL kernel, copies, batching, shader errors and both readback forms.
Runs on Chromium's WebGPU (SwiftShader here)."""

from __future__ import annotations

import pytest

RAW_BOOT_JS = """async () => {
  const manifest = await (await fetch("/webtensor.json")).json();
  const { loadPyodide } = await import("/" + manifest.pyodide + "pyodide.mjs");
  const py = await loadPyodide({ indexURL: "/" + manifest.pyodide });
  const whl = await (await fetch("/" + manifest.wheel)).arrayBuffer();
  py.unpackArchive(whl, "wheel", { extractDir: py.runPython("import site; site.getsitepackages()[0]") });
  const adapter = await navigator.gpu.requestAdapter();
  py.globals.set("js_device", await adapter.requestDevice());
  window.py = py;
  return true;
}"""

ADD_ONE = """
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> n: vec4<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < n.x) { y[id.x] = x[id.x] + 1.0; }
}
"""


@pytest.fixture(scope="module")
def py_page(browser, server):
    pg = browser.new_page()
    pg.goto(f"{server.url}/_test/blank.html")
    assert pg.evaluate(RAW_BOOT_JS)
    pg.evaluate(
        "(src) => py.runPythonAsync(src)",
        f"""
from webtensor.backends.gpu.webgpu_device import WebGPUDevice
import array
dev = WebGPUDevice(js_device)
ADD_ONE = {ADD_ONE!r}
def f32(xs): return memoryview(array.array("f", xs)).cast("B")
def floats(mv): return array.array("f", bytes(mv)).tolist()
""",
    )
    yield pg
    pg.close()


def run(pg, code):
    return pg.evaluate(
        "async (src) => { const r = await py.runPythonAsync(src); "
        "return r?.toJs ? r.toJs({create_pyproxies: false}) : r; }",
        code,
    )


def test_device_reports_adapter_and_limits(py_page):
    got = run(
        py_page,
        "[dev.is_fallback, dev.backend_type, dev.limits['maxStorageBuffersPerShaderStage'] >= 8,"
        " dev.limits['maxComputeWorkgroupSizeX'] >= 64, 'swiftshader' in dev.adapter_name]",
    )
    assert got == [True, "WebGPU", True, True, True]


def test_write_then_read_round_trips(py_page):
    got = run(
        py_page,
        """
b = dev.create_buffer(16, "storage")
dev.write_buffer(b, 0, f32([1.5, -2.0, 3.25, 4.0]))
dev.write_buffer(b, 8, f32([9.0]))
[floats(dev.read(b, 0, 16)), floats(dev.read(b, 4, 8))]
""",
    )
    assert got == [[1.5, -2.0, 9.0, 4.0], [-2.0, 9.0]]


def test_new_buffer_is_zero(py_page):
    assert run(py_page, "floats(dev.read(dev.create_buffer(32, 'storage'), 0, 32))") == [0.0] * 8


def test_dispatch_copy_and_batching(py_page):
    """Dispatches and a copy are recorded, then one read submits them in order; the
    uniform's offset (its parameter slot) is honoured when a bind group is reused."""
    got = run(
        py_page,
        """
pipe = dev.create_pipeline(ADD_ONE, "main", "rwu", "add_one")
n = 100
x = dev.create_buffer(4 * n, "storage"); y = dev.create_buffer(4 * n, "storage")
z = dev.create_buffer(4 * n, "storage"); u = dev.create_buffer(512, "uniform")
dev.write_buffer(x, 0, f32(range(n)))
dev.write_buffer(u, 0, memoryview(array.array("I", [n, 0, 0, 0])).cast("B"))
dev.write_buffer(u, 256, memoryview(array.array("I", [10, 0, 0, 0])).cast("B"))
dev.dispatch(pipe, [(x, 0, 4 * n), (y, 0, 4 * n), (u, 0, 16)], (2, 1, 1))
dev.dispatch(pipe, [(y, 0, 4 * n), (z, 0, 4 * n), (u, 0, 16)], (2, 1, 1))
dev.dispatch(pipe, [(y, 0, 4 * n), (z, 0, 4 * n), (u, 256, 16)], (2, 1, 1))
dev.copy(z, 4 * 10, x, 0, 8)
zs = floats(dev.read(z, 0, 4 * n))
[zs == [i + 2.0 for i in range(n)], floats(dev.read(x, 0, 12))]
""",
    )
    assert got == [True, [12.0, 13.0, 2.0]]


def test_uniform_offset_selects_the_parameters(py_page):
    """The same buffers with the uniform at another slot: only the first 10 elements."""
    got = run(
        py_page,
        """
w = dev.create_buffer(4 * n, "storage")
dev.dispatch(pipe, [(x, 0, 4 * n), (w, 0, 4 * n), (u, 256, 16)], (2, 1, 1))
ws = floats(dev.read(w, 0, 4 * n))
dev.destroy_buffer(w)
[ws[:10] == [v + 1.0 for v in floats(dev.read(x, 0, 40))], ws[10:] == [0.0] * (n - 10)]
""",
    )
    assert got == [True, True]


def test_read_async(py_page):
    got = run(
        py_page,
        """
b = dev.create_buffer(8, "storage")
dev.write_buffer(b, 0, f32([7.0, 8.0]))
floats(await dev.read_async(b, 0, 8))
""",
    )
    assert got == [7.0, 8.0]


def test_bad_wgsl_raises_shader_error_with_compiler_message(py_page):
    got = run(
        py_page,
        """
from webtensor.backends.gpu.device import ShaderError
try:
    dev.create_pipeline("fn main( { }", "main", "w", "broken")
    r = "no error"
except ShaderError as e:
    r = str(e)
r
""",
    )
    assert got.startswith("broken:") and "error" in got


def test_sync_read_without_jspi_names_numpy_async(py_page):
    msg = py_page.evaluate("""() => {
      try { py.runPython("dev.read(dev.create_buffer(4, 'storage'), 0, 4)"); return "no error"; }
      catch (e) { return String(e.message); } }""")
    assert "SyncReadbackError" in msg and "await t.numpy_async()" in msg

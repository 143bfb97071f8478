"""The core and Keras test files, run with pytest inside the page (Pyodide in Chromium),
once on the WebAssembly backend and once on WebGPU (SwiftShader here).

Each backend's whole run happens once per session (``in_page``); every test module is
then one item here that fails listing the in-page tests that failed in it. Tests marked
``numpy`` (numpy is not loadable in the page) or ``native`` (files, servers,
subprocesses) skip there and are counted in the terminal summary.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, SUMMARY, boot

HERE = Path(__file__).resolve().parent
MODULES = sorted(
    p.relative_to(ROOT).as_posix() for d in ("tests/core", "tests/keras") for p in (ROOT / d).glob("test_*.py")
)
# SwiftShader runs WGSL on the CPU, far slower than the wasm kernels: the WebGPU pass
# runs every module but would leave out the tests named here if the budget needed it
# (docs/page.md says which and why).
GPU_DESELECT: list = []
PASSES = {"wasm": MODULES, "webgpu": MODULES}
LOGS = ROOT / "build" / "dist" / "logs"

RUN_JS = """async ([src, base, paths, args]) => {
  const py = window.wt.pyodide;
  py.FS.writeFile("/home/pyodide/in_page_runner.py", src);
  py.globals.set("_run_args", py.toPy([base, paths, args]));
  return await py.runPythonAsync(`
import sys
sys.path.insert(0, "/home/pyodide")
import in_page_runner
await in_page_runner.run(*_run_args)
`);
}"""


def _run_backend(browser, server, backend: str) -> dict:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / f"in-page-{backend}.log", "w")
    pg = browser.new_page()
    pg.on("console", lambda m: (log.write(m.text + "\n"), log.flush()))
    try:
        pg.goto(f"{server.url}/_test/blank.html")
        r = boot(pg, backend=backend)
        if "error" in r:
            return {"boot_error": r["error"]}
        args = [a for t in (GPU_DESELECT if backend == "webgpu" else []) for a in ("--deselect", t)]
        out = pg.evaluate(
            RUN_JS, [(HERE / "in_page_runner.py").read_text(), f"{server.url}/_test/", PASSES[backend], args]
        )
        (LOGS / f"in-page-{backend}.json").write_text(out)  # every test's outcome, for tools
        return json.loads(out)
    except Exception as e:  # the page crashed or Python raised outside a test
        return {"boot_error": f"in-page run on {backend} failed: {e}"[:4000]}
    finally:
        pg.close()
        log.close()


@pytest.fixture(scope="session")
def in_page(browser, server):
    cache: dict = {}

    def results(backend: str) -> dict:
        if backend not in cache:
            cache[backend] = _run_backend(browser, server, backend)
            SUMMARY[backend] = cache[backend]
        return cache[backend]

    return results


CASES = [(b, m) for b in PASSES for m in PASSES[b]]


@pytest.mark.timeout(3600)
@pytest.mark.parametrize("backend, module", CASES, ids=[f"{b}-{Path(m).stem}" for b, m in CASES])
def test_module_in_page(in_page, backend, module):
    res = in_page(backend)
    assert "boot_error" not in res, res.get("boot_error")
    want = "gpu" if backend == "webgpu" else backend
    assert res["backend"] == want, f"the in-page run used backend {res['backend']!r}, not {want!r}"
    tests = {k: v for k, v in res["tests"].items() if k == module or k.startswith(module + "::")}
    assert tests, f"{module}: no test ran in the page"
    bad = {k: v for k, v in tests.items() if v["outcome"] in ("failed", "error")}
    assert not bad, f"{len(bad)} of {len(tests)} tests failed in the page on {backend}:\n" + "\n\n".join(
        f"{k} ({v.get('when', 'call')}):\n{v.get('detail', '')[-1500:]}" for k, v in bad.items()
    )

"""Runs inside the page (Pyodide), not natively: install pytest from the test wheels,
unpack the test files, run pytest on them and return every test's outcome as JSON.

The native half is ``webtensor.testing.browser`` (``python -m webtensor test --browser``);
webtensor's own browser tests use it too (tests/browser/in_page_runner.py).

``run(paths, extra_args)`` is awaited through ``runPythonAsync`` so tests that read
GPU tensors synchronously can block with JSPI. Each finished test is also logged to
the browser console (the native side copies it to a log file as it goes).
"""

import importlib
import io
import json
import os
import site
import sys
import zipfile

WORK = "/home/pyodide/work"


async def _fetch(url: str) -> bytes:
    from pyodide.http import pyfetch

    resp = await pyfetch(url)
    if not resp.ok:
        raise RuntimeError(f"in-page runner: GET {url} -> HTTP {resp.status}")
    return await resp.bytes()


async def install(test_base: str) -> None:
    """pytest's wheels into site-packages, the test tree into WORK."""
    target = site.getsitepackages()[0]
    names = (await _fetch(f"{test_base}wheels.txt")).decode().split()
    if not names:
        raise RuntimeError("in-page runner: no pytest wheels; run `python build/make_site.py test-wheels`")
    for name in names:
        zipfile.ZipFile(io.BytesIO(await _fetch(f"{test_base}wheels/{name}"))).extractall(target)
    zipfile.ZipFile(io.BytesIO(await _fetch(f"{test_base}tests.zip"))).extractall(WORK)
    importlib.invalidate_caches()
    os.environ["WEBTENSOR_IN_PAGE"] = "1"
    os.environ["WEBTENSOR_DIGITS"] = f"{WORK}/tests/data/digits_split.bin"


class Collector:
    """A pytest plugin that keeps one record per test (and per failed collection)."""

    def __init__(self):
        self.tests: dict = {}

    def _log(self, line: str) -> None:
        from js import console

        console.log(f"[in-page] {line}")

    def pytest_collectreport(self, report):
        if report.failed:
            self.tests[report.nodeid or "<collection>"] = {
                "outcome": "error",
                "when": "collect",
                "detail": str(report.longrepr)[-3000:],
            }
            self._log(f"{report.nodeid} COLLECT ERROR")
        elif report.skipped:  # a module that skips as a whole here (pytest.importorskip("numpy"))
            self.tests[report.nodeid] = {
                "outcome": "skipped",
                "when": "collect",
                "duration": 0.0,
                "markers": [],
                "detail": str(report.longrepr)[-500:],
            }
            self._log(f"{report.nodeid} skipped")

    def pytest_runtest_logreport(self, report):
        rec = self.tests.setdefault(report.nodeid, {"outcome": "passed", "duration": 0.0, "markers": []})
        rec["duration"] = rec.get("duration", 0.0) + report.duration
        if report.when == "setup":
            rec["markers"] = sorted(k for k in ("numpy", "native", "slow") if k in report.keywords)
        if report.skipped:
            rec["outcome"] = "skipped"
            rec["detail"] = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        elif report.failed:
            rec["outcome"] = "failed" if report.when == "call" else "error"
            rec["when"] = report.when
            rec["detail"] = str(report.longrepr)[-3000:]
        if report.when == "teardown":
            self._log(f"{report.nodeid} {rec['outcome']} {rec['duration']:.2f}s")


async def run(test_base: str, paths: list, extra_args: list) -> str:
    await install(test_base)
    os.chdir(WORK)
    sys.path.insert(0, f"{WORK}/tests")
    import pytest

    collector = Collector()
    args = [
        "-q",
        "-p",
        "no:cacheprovider",
        "--capture=sys",
        "-W",
        "ignore::pytest.PytestConfigWarning",
        "-o",
        "console_output_style=classic",
        *extra_args,
        *paths,
    ]
    code = pytest.main(args, plugins=[collector])
    from webtensor import backends

    return json.dumps({"exit": int(code), "backend": backends.default().name, "tests": collector.tests})

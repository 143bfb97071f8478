"""``python -m webtensor test --browser [--backend wasm|webgpu] PATHS...``: a user's pytest
files run inside the page (Pyodide in headless Chromium) against this webtensor.

The built runtime site (``make web``; ``--runtime DIR``), pytest's pure-Python wheels
(``--wheels DIR``; this checkout's build/dist/test-wheels by default) and the test files
are served on 127.0.0.1; Chromium boots webtensor, installs pytest and runs it on the
files. pytest's own report is printed as it runs; the exit code is pytest's.

Shipped in: every file of each PATH's folder (a file's folder, or the folder itself;
subfolders too, hidden ones and ``__pycache__`` left out: the data tests read lies beside
them), the ``conftest.py`` files between it and the current folder and, from the
current folder, ``conftest.py``, ``pytest.ini``,
``pyproject.toml``, ``setup.cfg`` and ``tox.ini``. Paths are taken relative to the
current folder, as pytest takes them, and must lie under it.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import tempfile
import threading
import zipfile
from pathlib import Path

from ..serving import static

CHROMIUM = os.environ.get("WEBTENSOR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CONFIG_FILES = ("conftest.py", "pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini")
MAX_ZIP = 256 * 1024 * 1024
BLANK = "<!doctype html><meta charset=utf-8><title>webtensor test</title><body></body>"
RUN_JS = """async ([backend, base, paths, args]) => {
  const { loadWebtensor } = await import("/webtensor.mjs");
  let wt;
  try { wt = await loadWebtensor({ backend }); } catch (e) { return JSON.stringify({ boot_error: e.message }); }
  const py = wt.pyodide;
  py.setStdout({ batched: (line) => console.log("[out] " + line) });
  py.setStderr({ batched: (line) => console.log("[out] " + line) });
  py.globals.set("_run_args", py.toPy([base, paths, args]));
  return await py.runPythonAsync("from webtensor.testing import in_page\\nawait in_page.run(*_run_args)");
}"""


def zip_tests(paths: list, cwd: Path) -> tuple:
    """The files to ship, as one zip, and the paths as pytest in the page gets them."""
    cwd = cwd.resolve()
    buf, names = io.BytesIO(), []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:

        def add(f: Path) -> None:
            rel = f.resolve().relative_to(cwd).as_posix()
            if rel not in z.namelist():
                z.write(f, rel)

        for name in CONFIG_FILES:
            if (cwd / name).is_file():
                add(cwd / name)
        for p in paths:
            path = Path(p.split("::")[0])
            full = (cwd / path).resolve()
            if not full.exists():
                raise ValueError(f"test --browser: {p} does not exist")
            if not full.is_relative_to(cwd):
                raise ValueError(f"test --browser: {p} is outside the current folder {cwd}; run from a folder above it")
            folder = full.parent if full.is_file() else full  # the tests' data lies beside them
            files = sorted(
                f
                for f in folder.rglob("*")
                if f.is_file()
                and not any(part.startswith(".") or part == "__pycache__" for part in f.relative_to(folder).parts)
            )
            for f in files:
                add(f)
            for parent in full.parents:  # conftest.py files between the folder and the path
                if parent == cwd or not parent.is_relative_to(cwd):
                    break
                if (parent / "conftest.py").is_file():
                    add(parent / "conftest.py")
            names.append(full.relative_to(cwd).as_posix() + ("::" + p.split("::", 1)[1] if "::" in p else ""))
    data = buf.getvalue()
    if len(data) > MAX_ZIP:
        raise ValueError(f"test --browser: the test files are {len(data) >> 20} MiB zipped (limit {MAX_ZIP >> 20})")
    return data, names


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, *args, mounts: dict, **kw):
        self.mounts = mounts
        super().__init__(*args, **kw)

    def do_GET(self, head: bool = False):
        url = self.path.split("?")[0]
        for prefix in sorted(self.mounts, key=len, reverse=True):
            if url.startswith(prefix):
                root = self.mounts[prefix].resolve()
                full = (root / url[len(prefix) :].lstrip("/")).resolve()
                break
        if not (full.is_relative_to(root) and full.is_file()):
            self.send_error(404)
            return
        status, headers, body = static.plan(full, {k.lower(): v for k, v in self.headers.items()})
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        data = b"" if body is None else body.read_bytes()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def do_HEAD(self):
        self.do_GET(head=True)

    def log_message(self, *args):
        pass


def _serve(mounts: dict):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, mounts=mounts))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def _wheels(wheels) -> Path:
    if wheels is not None:
        return Path(wheels)
    from ..serving.site import TEST_WHEELS, TEST_REQUIREMENTS, fetch_test_wheels

    if not TEST_WHEELS.is_dir() and not (TEST_WHEELS.parents[2] / "pyproject.toml").is_file():
        raise ValueError(
            "test --browser: pass --wheels DIR (pytest and its pure-Python deps as wheels for "
            f"Python 3.14: {', '.join(TEST_REQUIREMENTS)}) outside a webtensor checkout"
        )
    return fetch_test_wheels()


def run(
    paths: list,
    backend: str = "wasm",
    runtime=None,
    wheels=None,
    pytest_args: tuple = (),
    cwd=None,
    out=print,
    timeout_s: float = 3600,
) -> int:
    """Run pytest on ``paths`` in the page; returns pytest's exit code (4 when the page could not run it)."""
    from ..serving.site import runtime_site

    if backend not in ("wasm", "webgpu"):
        raise ValueError(f"test --browser: --backend must be wasm or webgpu, not {backend!r}")
    if not Path(CHROMIUM).exists():
        raise ValueError(
            f"test --browser: {CHROMIUM} is missing (Debian: apt-get install chromium; "
            f"elsewhere set WEBTENSOR_CHROMIUM)"
        )
    site = runtime_site(runtime)
    data, names = zip_tests(list(paths), Path(cwd or os.getcwd()))
    wheel_files = sorted(_wheels(wheels).glob("*.whl"))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ImportError(
            "test --browser drives Chromium with Playwright: pip install playwright "
            "(the browser itself is the system's chromium; no `playwright install`)"
        ) from None
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        (d / "blank.html").write_text(BLANK)
        (d / "tests.zip").write_bytes(data)
        (d / "wheels").mkdir()
        for w in wheel_files:
            (d / "wheels" / w.name).write_bytes(w.read_bytes())
        (d / "wheels.txt").write_text("\n".join(w.name for w in wheel_files))
        httpd, url = _serve({"/": Path(site), "/_test/": d})
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM,
                    args=CHROMIUM_ARGS + (["--enable-unsafe-webgpu"] if backend == "webgpu" else []),
                )
                page = browser.new_page()
                page.set_default_timeout(timeout_s * 1000)
                page.on("console", lambda m: m.text.startswith("[out] ") and out(m.text[6:]))
                page.goto(f"{url}/_test/blank.html")
                args = ["-v", "-rfE", *pytest_args]  # after the runner's -q: pytest's usual report, failures listed
                res = json.loads(page.evaluate(RUN_JS, [backend, f"{url}/_test/", names, args]))
                browser.close()
        finally:
            httpd.shutdown()
            httpd.server_close()
    if "boot_error" in res:
        out(f"test --browser: webtensor did not start in the page: {res['boot_error']}")
        return 4
    return int(res["exit"])


def add_commands(sub) -> None:
    """``test`` on an argparse subparsers object."""
    t = sub.add_parser(
        "test",
        help="run pytest files inside the page (Pyodide in headless Chromium)",
        description="Run pytest files inside the page (Pyodide in headless Chromium) against "
        "this webtensor; exits with pytest's code.",
    )
    t.add_argument(
        "--browser",
        action="store_true",
        required=True,
        help="run in the browser (the only mode: natively, run pytest itself)",
    )
    t.add_argument("--backend", default="wasm", choices=("wasm", "webgpu"), help="the page's backend")
    t.add_argument("--runtime", default=None, help="a built runtime site (default: this checkout's build/dist/site)")
    t.add_argument(
        "--wheels",
        default=None,
        help="folder of pytest's wheels for Python 3.14 (default: this "
        "checkout's build/dist/test-wheels, fetched when missing)",
    )
    t.add_argument("-k", dest="keyword", default=None, help="pytest's -k expression")
    t.add_argument("-x", dest="exitfirst", action="store_true", help="stop at the first failure")
    t.add_argument("paths", nargs="+", help="test files or folders (pytest node ids too), under the current folder")
    t.set_defaults(
        run=lambda a: run(
            a.paths,
            a.backend,
            a.runtime,
            a.wheels,
            tuple((["-k", a.keyword] if a.keyword else []) + (["-x"] if a.exitfirst else [])),
        )
    )

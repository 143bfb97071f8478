"""The documentation site builds with warnings as errors, and every ```python block of
the guide runs (a page's blocks in order, sharing one namespace that starts with
``tf = webtensor``, in a scratch folder); fragments that need data, a server or a browser
are fenced ```py and are not run."""

import linecache
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "docs")
pytestmark = pytest.mark.native


def _pages() -> list:
    return sorted(f for f in os.listdir(DOCS) if f.endswith(".md")) + ["../README.md"]


def _blocks(page: str) -> list:
    with open(os.path.join(DOCS, page)) as f:
        return re.findall(r"^```python\n(.*?)^```", f.read(), re.M | re.S)


def test_site_builds_without_warnings(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    r = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "site" / "reference" / "primitives" / "index.html").exists()


@pytest.mark.parametrize("page", [p for p in _pages() if _blocks(p)])
def test_python_blocks_run(page, tmp_path, monkeypatch):
    import webtensor

    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__", "tf": webtensor}  # the pages write `tf.` throughout
    for i, block in enumerate(_blocks(page)):
        where = f"{page} (python block {i + 1})"
        linecache.cache[where] = (len(block), None, block.splitlines(True), where)  # autograph reads source
        exec(compile(block, where, "exec"), namespace)

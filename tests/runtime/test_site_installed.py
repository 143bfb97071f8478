"""The site builders work from an installed wheel's layout, not only from the source checkout:
the page files travel as webtensor/web (pyproject force-include) and the runtime folder is
built from them; what needs a checkout fails with a ValueError that says what to pass."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ROOT / "core" / "webtensor" / "backends" / "kernels" / "webtensor_kernels.wasm"


def test_pyproject_ships_the_page_files_in_the_wheel():
    tomllib = pytest.importorskip("tomllib")
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = cfg["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert include.get("web") == "webtensor/web"


@pytest.mark.skipif(not KERNELS.exists(), reason="make wasm builds the kernels")
def test_runtime_folder_and_errors_from_an_installed_layout(tmp_path):
    site_packages = tmp_path / "site-packages"
    shutil.copytree(
        ROOT / "core" / "webtensor", site_packages / "webtensor", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "shaders", site_packages / "webtensor" / "shaders")
    shutil.copytree(ROOT / "web", site_packages / "webtensor" / "web")
    script = f"""
import json
from webtensor.serving import page_runtime, site
out = page_runtime.build({str(tmp_path / "rt")!r})
errors = []
for call in (lambda: site.runtime_site(), lambda: site.runtime_site({str(tmp_path)!r})):
    try:
        call()
    except ValueError as e:
        errors.append(str(e))
print(json.dumps({{"web": str(page_runtime.web_dir()), "files": sorted(p.name for p in out.iterdir()), "errors": errors}}))
"""
    r = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site_packages), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["web"] == str(site_packages / "webtensor" / "web")
    assert got["files"] == ["webgpu-backend.mjs", "webtensor-runtime.mjs", "webtensor_kernels.wasm", "wgsl.mjs"]
    bundled = (tmp_path / "rt" / "webtensor-runtime.mjs").read_text()
    assert "loadGraphModel" in bundled and not re.search(
        r'^import .*from "\./', bundled, re.M
    )  # one module, no import cascade
    assert "class WebGPUBackend" not in bundled  # a chunk of its own, imported when WebGPU is used
    chunk = (tmp_path / "rt" / "webgpu-backend.mjs").read_text()
    assert "class WebGPUBackend" in chunk and re.findall(r'^import .*from "(\./[^"]+)"', chunk, re.M) == [
        "./webtensor-runtime.mjs"
    ]
    assert (tmp_path / "rt" / "webtensor_kernels.wasm").read_bytes() == KERNELS.read_bytes()
    assert len(got["errors"]) == 2
    assert "installed" in got["errors"][0] and "--runtime DIR" in got["errors"][0]
    assert "no webtensor.json" in got["errors"][1]

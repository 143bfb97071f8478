"""Assemble the static site that runs webtensor in a page: ``build/dist/site/``.

    python build/make_site.py              # the site (needs `npm ci` done: node_modules/pyodide)
    python build/make_site.py test-wheels  # pytest + its pure-Python deps for the in-page test run

The site is self-contained and works from any static host (nothing from a CDN):

    webtensor.mjs        the loader (web/webtensor.mjs)
    webtensor.json       manifest: wheel file name, Pyodide version, data files
    index.html ...       demo pages (web/*.html)
    pyodide/             the runtime, copied from the npm package ``pyodide``, and
                         webtensor-<hash>.snapshot: its memory with webtensor imported (fast boot)
    wheels/              webtensor-<hash>.whl: the pure-Python wheel (shaders and wasm kernels inside)
    data/                small binaries the demos and tests use (digits_split.bin)

Big files get ``.br`` (with the optional ``brotli`` module) and ``.gz`` variants beside
them, and the files that change with every build carry their content's hash in their
name, so a server may let browsers cache them for good (serving/static.py). The
snapshot is remade only when its inputs (wheel, runtime, Chromium) changed, and
compressed variants are kept by content hash in build/dist/cache/.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "build" / "dist"
SITE = DIST / "site"
TEST_WHEELS = DIST / "test-wheels"
CACHE = DIST / "cache"
PYODIDE_NPM = ROOT / "node_modules" / "pyodide"
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
                 "pyodide-lock.json", "package.json")
DATA_FILES = (ROOT / "tests" / "data" / "digits_split.bin",)
# pytest for Python 3.14 in the page: pure-Python wheels only, pinned for reproducible runs
TEST_REQUIREMENTS = ("pytest==9.2.0", "pluggy==1.7.0", "iniconfig==2.3.1", "packaging==26.3",
                     "pygments==2.21.0")


def vendor_pyodide(dest: Path) -> str:
    """Copy the runtime files of the npm package; returns its version."""
    if not (PYODIDE_NPM / "pyodide.asm.wasm").exists():
        sys.exit(f"site: {PYODIDE_NPM} is missing; run `npm ci` first (make web does)")
    dest.mkdir(parents=True, exist_ok=True)
    for name in PYODIDE_FILES:
        shutil.copy2(PYODIDE_NPM / name, dest / name)
    return json.loads((PYODIDE_NPM / "package.json").read_text())["version"]


def build_wheel(dest: Path) -> Path:
    """The same wheel ``pip install .`` builds (hatchling; shaders force-included)."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("webtensor-*.whl"):
        old.unlink()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dest), str(ROOT)],
                   check=True)
    (wheel,) = dest.glob("webtensor-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    if "webtensor/__init__.py" not in names:
        sys.exit(f"site: {wheel.name} has no webtensor/__init__.py")
    return wheel


def copy_web(dest: Path) -> None:
    """The loader and the pages in web/ (web/app/ is the web app's, not the site's)."""
    for f in sorted((ROOT / "web").iterdir()):
        if f.is_file() and f.suffix in (".mjs", ".js", ".html", ".css"):
            shutil.copy2(f, dest / f.name)


def copy_data(dest: Path) -> list:
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for f in DATA_FILES:
        if f.exists():
            shutil.copy2(f, dest / f.name)
            out.append(f"data/{f.name}")
        else:
            print(f"site: {f.relative_to(ROOT)} not built yet; demos that train on digits need it")
    return out


def _static():
    """core/webtensor/serving/static.py, loaded by path (no import of the library)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("webtensor_static", ROOT / "core" / "webtensor" / "serving" / "static.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def build_site() -> Path:
    """Build into a fresh folder, then swap it in, so a server never sees half a site."""
    tmp = SITE.with_name(f"site.building-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    static = _static()
    version = vendor_pyodide(tmp / "pyodide")
    built = build_wheel(tmp / "wheels")
    wheel = static.hashed_name(built.replace(built.with_name("webtensor.whl")))  # webtensor-<hash>.whl
    copy_web(tmp)
    data = copy_data(tmp / "data")
    manifest = {"wheel": f"wheels/{wheel.name}", "pyodide": "pyodide/", "pyodideVersion": version,
                "wheelName": built.name, "data": data}
    (tmp / "webtensor.json").write_text(json.dumps(manifest, indent=1) + "\n")
    from make_snapshot import make_snapshot

    snap = make_snapshot(tmp, cache=CACHE)
    if snap:
        manifest["snapshot"] = f"pyodide/{static.hashed_name(snap).name}"
        (tmp / "webtensor.json").write_text(json.dumps(manifest, indent=1) + "\n")
    static.compress_tree(tmp, cache=CACHE / "compressed")
    old = SITE.with_name(f"site.old-{os.getpid()}")
    if SITE.exists():
        SITE.rename(old)
    tmp.rename(SITE)
    shutil.rmtree(old, ignore_errors=True)
    print(f"site: {SITE.relative_to(ROOT)} (Pyodide {version}, {wheel.name})")
    return SITE


def fetch_test_wheels() -> Path:
    """pytest and its pure-Python deps as py3-none-any wheels, for Python 3.14 in the page."""
    have = {p.name.split("-")[0].lower() for p in TEST_WHEELS.glob("*.whl")}
    if all(r.split("==")[0] in have for r in TEST_REQUIREMENTS):
        return TEST_WHEELS
    TEST_WHEELS.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.14", "--platform", "any", "--implementation", "py",
                    "--abi", "none", "-d", str(TEST_WHEELS), *TEST_REQUIREMENTS], check=True)
    return TEST_WHEELS


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "site"
    if what == "site":
        build_site()
    elif what == "test-wheels":
        print(f"site: {fetch_test_wheels().relative_to(ROOT)}")
    else:
        sys.exit(f"usage: {sys.argv[0]} [site|test-wheels]")

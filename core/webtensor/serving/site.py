"""Static sites that run models in the page: ``python -m webtensor site SOURCE OUT``.

A model file gives one page embedding it with ``<webtensor-model>``; a models/ directory
gives the whole web app with a gallery of its models. Either way OUT is self-contained
(runtime, wheel, loader, model files, pages) and works from any static host, with
nothing from a CDN.

This module is also the one site builder: ``build_site`` assembles the Pyodide runtime
site (``make web``; build/make_site.py is a shim to it) and the page builders add pages
and models to a copy of it. The pages come from the package (the wheel carries web/ as
``webtensor/web``, see page_runtime.web_dir); what only a source checkout has (the Pyodide
npm package, the snapshot maker, the data files, the demo module) is named in the error
when it is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from .page_runtime import CHECKOUT, IS_CHECKOUT, web_dir
from .repository import MODEL_FILE, parse_version, scan, valid_name
from .servable import load_servable
from . import static

ROOT = CHECKOUT  # the source checkout's root (when this is one): build/, node_modules/, tests/data/
DIST = ROOT / "build" / "dist"
SITE = DIST / "site"
TEST_WHEELS = DIST / "test-wheels"
CACHE = DIST / "cache"
PYODIDE_NPM = ROOT / "node_modules" / "pyodide"
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
    "package.json",
)
DATA_FILES = (ROOT / "tests" / "data" / "digits_split.bin",)
# pytest for Python 3.14 in the page: pure-Python wheels only, pinned for reproducible runs
TEST_REQUIREMENTS = ("pytest==9.2.0", "pluggy==1.7.0", "iniconfig==2.3.1", "packaging==26.3", "pygments==2.21.0")
RUNTIME_FILES = ("webtensor.mjs", "webtensor.json", "pyodide", "wheels")
COMPONENT = "webtensor-model.mjs"
APP_PYTHON = (ROOT / "demos" / "demo_data.py",)  # imported by web/app/py/webapp.py in the page


def _checkout_only(path: Path, what: str) -> Path:
    if not path.exists():
        raise ValueError(
            f"site: {path} is missing: {what} needs a webtensor source checkout; "
            f"elsewhere pass --runtime DIR, a site built there by `make web`"
        )
    return path


# -- the Pyodide runtime site (make web) ------------------------------------------------------


def vendor_pyodide(dest: Path) -> str:
    """Copy the runtime files of the npm package; returns its version."""
    if not (PYODIDE_NPM / "pyodide.asm.wasm").exists():
        raise ValueError(f"site: {PYODIDE_NPM} is missing; run `npm ci` first (make web does)")
    dest.mkdir(parents=True, exist_ok=True)
    for name in PYODIDE_FILES:
        shutil.copy2(PYODIDE_NPM / name, dest / name)
    return json.loads((PYODIDE_NPM / "package.json").read_text())["version"]


def build_wheel(dest: Path) -> Path:
    """The same wheel ``pip install .`` builds (hatchling; shaders and web/ force-included)."""
    _checkout_only(ROOT / "pyproject.toml", "building the wheel")
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("webtensor-*.whl"):
        old.unlink()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dest), str(ROOT)], check=True)
    (wheel,) = dest.glob("webtensor-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    if "webtensor/__init__.py" not in names:
        raise ValueError(f"site: {wheel.name} has no webtensor/__init__.py")
    return wheel


def copy_web(dest: Path) -> None:
    """The loader and the pages in web/ (web/app/ is the web app's, not the site's)."""
    for f in sorted(web_dir().iterdir()):
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
            print(f"site: {f} not built yet; demos that train on digits need it")
    return out


def _make_snapshot():
    """build/make_snapshot.py (it drives Chromium; checkout-only), loaded by path."""
    builder = _checkout_only(ROOT / "build" / "make_snapshot.py", "the Pyodide snapshot")
    sys.path.insert(0, str(builder.parent))  # it imports build/serve.py
    spec = importlib.util.spec_from_file_location("make_snapshot", builder)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.make_snapshot


def build_site() -> Path:
    """Build build/dist/site into a fresh folder, then swap it in, so a server never sees half a site."""
    tmp = SITE.with_name(f"site.building-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    version = vendor_pyodide(tmp / "pyodide")
    built = build_wheel(tmp / "wheels")
    wheel = static.hashed_name(built.replace(built.with_name("webtensor.whl")))  # webtensor-<hash>.whl
    copy_web(tmp)
    data = copy_data(tmp / "data")
    manifest = {
        "wheel": f"wheels/{wheel.name}",
        "pyodide": "pyodide/",
        "pyodideVersion": version,
        "wheelName": built.name,
        "data": data,
    }
    (tmp / "webtensor.json").write_text(json.dumps(manifest, indent=1) + "\n")
    snap = _make_snapshot()(tmp, cache=CACHE)
    manifest = json.loads((tmp / "webtensor.json").read_text())  # it adds the trimmed stdlib and sizes
    if snap:
        manifest["snapshot"] = f"pyodide/{static.hashed_name(snap).name}"
        (tmp / "webtensor.json").write_text(json.dumps(manifest, indent=1) + "\n")
    static.compress_tree(tmp, cache=CACHE / "compressed")
    old = SITE.with_name(f"site.old-{os.getpid()}")
    if SITE.exists():
        SITE.rename(old)
    tmp.rename(SITE)
    shutil.rmtree(old, ignore_errors=True)
    print(f"site: {SITE} (Pyodide {version}, {wheel.name})")
    return SITE


def fetch_test_wheels() -> Path:
    """pytest and its pure-Python deps as py3-none-any wheels, for Python 3.14 in the page."""
    have = {p.name.split("-")[0].lower() for p in TEST_WHEELS.glob("*.whl")}
    if all(r.split("==")[0] in have for r in TEST_REQUIREMENTS):
        return TEST_WHEELS
    _checkout_only(ROOT / "pyproject.toml", "fetching the in-page test wheels into build/dist/")
    TEST_WHEELS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            "3.14",
            "--platform",
            "any",
            "--implementation",
            "py",
            "--abi",
            "none",
            "-d",
            str(TEST_WHEELS),
            *TEST_REQUIREMENTS,
        ],
        check=True,
    )
    return TEST_WHEELS


def runtime_site(runtime=None) -> Path:
    """A built runtime site: ``runtime``, or this checkout's build/dist/site (built when missing)."""
    if runtime is not None:
        site = Path(runtime)
        if not (site / "webtensor.json").is_file():
            raise ValueError(
                f"site: {site} is not a built webtensor site (no webtensor.json); build one with `make web`"
            )
        return site
    if not IS_CHECKOUT:
        raise ValueError(
            "site: webtensor is installed, not run from a source checkout, so it cannot build "
            "the Pyodide runtime site; pass --runtime DIR, a site built by `make web`"
        )
    if not (SITE / "webtensor.json").is_file():
        _checkout_only(ROOT / "build" / "make_snapshot.py", "building the Pyodide runtime site")
        build_site()
    return SITE


# -- pages and models on a copy of the runtime site -----------------------------------------


def _fresh(out: Path) -> Path:
    out = Path(out)
    if out.exists():
        ours = (out / "webtensor.json").is_file() or (out / SITE_MANIFEST).is_file()
        if not ours and any(out.iterdir()):
            raise ValueError(f"site: {out} exists and is not a webtensor site; refusing to replace it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    return out


def _copy_runtime(site: Path, out: Path, extra: tuple = ()) -> None:
    for name in RUNTIME_FILES + extra:
        src = site / name
        if src.is_dir():
            shutil.copytree(src, out / name)
        elif src.is_file():
            shutil.copy2(src, out / name)


def _web_source(path: Path) -> Path:
    if not path.exists():
        raise ValueError(
            f"site: {path} is missing: the page files come from web/ of the package or of a source checkout"
        )
    return path


SITE_MANIFEST = "site-files.json"  # the server's --app serves exactly these files


def write_manifest(out: Path) -> Path:
    """List every file the build wrote (never a dotfile): what ``serve --app`` may serve."""
    from .static import compress_tree

    compress_tree(out)  # .br/.gz beside the pages and models the runtime's copy lacks
    files = sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts)
    )
    (out / SITE_MANIFEST).write_text(json.dumps({"files": files}, indent=0) + "\n")
    return out


def model_name(model_file: Path) -> str:
    """``digits`` for digits.safetensors, and for models/digits/3/model.safetensors."""
    if model_file.name == MODEL_FILE and parse_version(model_file.parent.name) is not None:
        return model_file.parent.parent.name
    return model_file.stem


def build_embed(model_file, out, runtime=None) -> Path:
    """One page (index.html) that loads ``model_file`` with ``<webtensor-model>``."""
    model_file = Path(model_file)
    name = model_name(model_file)
    if not valid_name(name):
        raise ValueError(f"site: rename {model_file.name}: a model name uses letters, digits, '_', '-', '.'")
    servable = load_servable(name, 1, str(model_file))  # refuse a bad file before publishing it
    site = runtime_site(runtime)
    page = _web_source(web_dir() / "components" / "embed.html").read_text()
    out = _fresh(out)
    _copy_runtime(site, out)
    shutil.copy2(_web_source(web_dir() / "components" / COMPONENT), out / COMPONENT)
    file = f"{name}.safetensors"
    shutil.copy2(model_file, out / file)
    info = {"name": name, "file": file, **servable.describe()}
    (out / "index.html").write_text(
        page.replace("MODEL_FILE", file)
        .replace("MODEL_NAME", name)
        .replace("MODEL_INFO", json.dumps(info).replace("<", "\\u003c"))
    )
    return write_manifest(out)


def build_app(models_dir, out, runtime=None) -> Path:
    """The web app with every version in ``models_dir`` ({name}/{version}/model.safetensors)."""
    found = scan(models_dir)
    site = runtime_site(runtime)
    out = _fresh(out)
    _copy_runtime(site, out, extra=("data",))
    shutil.copytree(
        _web_source(web_dir() / "app"), out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    shutil.copy2(_web_source(web_dir() / "components" / COMPONENT), out / COMPONENT)
    for f in APP_PYTHON:
        shutil.copy2(_checkout_only(f, "the web app's demo module"), out / "py" / f.name)
    models = []
    for name, versions in sorted(found.items()):
        rows = []
        for v, (path, _) in sorted(versions.items(), reverse=True):
            s = load_servable(name, v, path)
            dest = out / "models" / name / f"{v}.safetensors"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
            rows.append(dict(s.describe(), url=f"models/{name}/{v}.safetensors"))
        models.append({"name": name, "versions": rows})
    (out / "models.json").write_text(json.dumps({"server": False, "upload": False, "models": models}, indent=1) + "\n")
    return write_manifest(out)


def graph_preloads(model: str, runtime: str = "./runtime/", kernels: bool = True, weights: bool = True) -> str:
    """``<link>`` hints for a page whose ``<webtensor-model>`` runs SavedModel ``model`` (a folder
    URL ending in "/") on the page runtime at ``runtime``. Without them the browser finds the
    runtime only when the element's script runs, and the kernels and the model only when the
    runtime's does: three round trips in a row before the first prediction. With them all four
    files are fetched while the page is parsed (``as="fetch" crossorigin`` is what the runtime's
    own ``fetch`` asks for, so it takes the preloaded responses). ``kernels=False`` leaves out the
    .wasm, for a page that runs on WebGPU only; ``weights=False`` a SavedModel without variables."""
    links = [f'<link rel="modulepreload" href="{runtime}webtensor-runtime.mjs">']
    if kernels:
        links.append(f'<link rel="preload" href="{runtime}webtensor_kernels.wasm" as="fetch" crossorigin>')
    for f in ("saved_model.json", "variables.safetensors")[: 2 if weights else 1]:
        links.append(f'<link rel="preload" href="{model}{f}" as="fetch" crossorigin>')
    return "\n".join(links) + "\n"


def _graph_info(model_dir: Path, name: str) -> dict:
    """The embed page's INFO for a SavedModel: its serving signature, size and parameter count."""
    from ..saved_model.load import load

    load(str(model_dir))  # refuse a bad SavedModel before publishing it (ValueError with the location)
    doc = json.loads((model_dir / "saved_model.json").read_text())
    sigs = doc.get("signatures") or {}
    sig = sigs.get("serving_default") or next(iter(sigs.values()), None)
    if sig is None:
        raise ValueError(
            f"site: {model_dir} has no signature to run in the page; save it with "
            f"signatures= or export a Keras model (model.export)"
        )
    row = lambda n, t: {"name": n, "dtype": t["dtype"], "shape": t["shape"]}  # noqa: E731
    size = sum(f.stat().st_size for f in model_dir.rglob("*") if f.is_file())
    params = 0
    for v in doc.get("variables", {}).values() if isinstance(doc.get("variables"), dict) else ():
        params += _count(v.get("shape", []))
    if not params:
        params = _safetensors_params(model_dir / "variables.safetensors")
    return {
        "name": name,
        "file": f"{name}/",
        "version": "1",
        "size": size,
        "params": params,
        "inputs": [row(n, t) for n, t in sig["inputs"].items()],
        "outputs": [row(n, t) for n, t in sig["outputs"].items()],
    }


def _count(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _safetensors_params(path: Path) -> int:
    """Elements of every tensor in a .safetensors file (its JSON header only)."""
    if not path.is_file():
        return 0
    with open(path, "rb") as f:
        head = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    return sum(_count(t["shape"]) for k, t in head.items() if k != "__metadata__")


def build_graph(model_dir, out) -> Path:
    """A runtime-only folder for a SavedModel (or exported model): index.html, the page runtime
    (one ES module, WGSL, the wasm kernels), the element and the model's files. No Pyodide, no
    wheel: the model's graph runs on web/runtime, a few hundred KB in all."""
    from .page_runtime import build as build_runtime

    model_dir = Path(model_dir)
    name = model_dir.resolve().name
    if not valid_name(name):
        raise ValueError(f"site: rename {model_dir}: a model name uses letters, digits, '_', '-', '.'")
    info = _graph_info(model_dir, name)
    web = web_dir()
    page = _web_source(web / "components" / "embed.html").read_text()
    out = _fresh(out)
    build_runtime(out / "runtime")
    shutil.copy2(
        _web_source(web / "webtensor.mjs"), out / "webtensor.mjs"
    )  # the element imports it for a .safetensors src only (Pyodide)
    shutil.copy2(_web_source(web / "components" / COMPONENT), out / COMPONENT)
    shutil.copytree(model_dir, out / name, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    page = page.replace(
        '<script type="module" src="./webtensor-model.mjs"></script>',
        graph_preloads(info["file"], weights=(model_dir / "variables.safetensors").is_file())
        + '<script type="module" src="./webtensor-model.mjs"></script>',
        1,
    )
    (out / "index.html").write_text(
        page.replace("MODEL_FILE", info["file"])
        .replace("MODEL_NAME", name)
        .replace("MODEL_INFO", json.dumps(info).replace("<", "\\u003c"))
    )
    return write_manifest(out)


def build(source, out, runtime=None) -> Path:
    """``source`` a SavedModel folder: the runtime-only page; a .safetensors file: the embed page
    on Pyodide; another directory: the web app."""
    from ..saved_model.load import contains_saved_model

    source = Path(source)
    if source.is_dir() and contains_saved_model(source):
        return build_graph(source, out)
    if source.is_dir():
        return build_app(source, out, runtime)
    if not source.is_file():
        raise ValueError(f"site: {source} does not exist")
    return build_embed(source, out, runtime)

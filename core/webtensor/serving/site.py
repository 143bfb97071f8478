"""Static sites that run models in the page: ``python -m webtensor site SOURCE OUT``.

A model file gives one page embedding it with ``<webtensor-model>``; a models/ directory
gives the whole web app with a gallery of its models. Either way OUT is self-contained
(runtime, wheel, loader, model files, pages) and works from any static host, with
nothing from a CDN. The runtime is the site ``build/make_site.py`` assembles (``make
web``); this module adds pages and models to a copy of it, it does not rebuild it.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

from .repository import MODEL_FILE, parse_version, scan, valid_name
from .servable import load_servable

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "web"
RUNTIME_FILES = ("webtensor.mjs", "webtensor.json", "pyodide", "wheels")
COMPONENT = WEB / "components" / "webtensor-model.mjs"
EMBED_PAGE = WEB / "components" / "embed.html"
APP = WEB / "app"
APP_PYTHON = (ROOT / "demos" / "demo_data.py",)  # imported by web/app/py/webapp.py in the page


def runtime_site(runtime=None) -> Path:
    """A built runtime site: ``runtime``, or this checkout's build/dist/site (built by
    build/make_site.py when missing)."""
    if runtime is not None:
        site = Path(runtime)
        if not (site / "webtensor.json").is_file():
            raise ValueError(f"site: {site} is not a built webtensor site (no webtensor.json); "
                             f"build one with `make web`")
        return site
    builder = ROOT / "build" / "make_site.py"
    if not builder.is_file():
        raise ValueError("site: no runtime given and this is not a webtensor checkout; pass "
                         "--runtime DIR, a site built by `make web`")
    spec = importlib.util.spec_from_file_location("webtensor_make_site", builder)
    make_site = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_site)
    if not (make_site.SITE / "webtensor.json").is_file():
        make_site.build_site()
    return make_site.SITE


def _fresh(out: Path) -> Path:
    out = Path(out)
    if out.exists():
        if not (out / "webtensor.json").is_file() and any(out.iterdir()):
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
        raise ValueError(f"site: {path} is missing: `python -m webtensor site` runs from a webtensor "
                         f"source checkout (it copies the pages in web/)")
    return path


SITE_MANIFEST = "site-files.json"  # the server's --app serves exactly these files


def write_manifest(out: Path) -> Path:
    """List every file the build wrote (never a dotfile): what ``serve --app`` may serve."""
    from .static import compress_tree

    compress_tree(out)  # .br/.gz beside the pages and models the runtime's copy lacks
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts))
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
    page = _web_source(EMBED_PAGE).read_text()
    out = _fresh(out)
    _copy_runtime(site, out)
    shutil.copy2(_web_source(COMPONENT), out / COMPONENT.name)
    file = f"{name}.safetensors"
    shutil.copy2(model_file, out / file)
    info = {"name": name, "file": file, **servable.describe()}
    (out / "index.html").write_text(page.replace("MODEL_FILE", file).replace("MODEL_NAME", name)
                                        .replace("MODEL_INFO", json.dumps(info).replace("<", "\\u003c")))
    return write_manifest(out)


def build_app(models_dir, out, runtime=None) -> Path:
    """The web app with every version in ``models_dir`` ({name}/{version}/model.safetensors)."""
    found = scan(models_dir)
    site = runtime_site(runtime)
    out = _fresh(out)
    _copy_runtime(site, out, extra=("data",))
    shutil.copytree(_web_source(APP), out, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(_web_source(COMPONENT), out / COMPONENT.name)
    for f in APP_PYTHON:
        shutil.copy2(_web_source(f), out / "py" / f.name)
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
    (out / "models.json").write_text(json.dumps({"server": False, "upload": False, "models": models},
                                                indent=1) + "\n")
    return write_manifest(out)


def build(source, out, runtime=None) -> Path:
    """``source`` a .safetensors file: the embed page; a directory: the web app."""
    source = Path(source)
    if source.is_dir():
        return build_app(source, out, runtime)
    if not source.is_file():
        raise ValueError(f"site: {source} does not exist")
    return build_embed(source, out, runtime)

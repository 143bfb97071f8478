"""``python -m webtensor site``: what goes into the static folder (the in-browser run of
the result is tests/browser/test_app.py). A stand-in runtime folder keeps these fast:
the builder copies the runtime, it never rebuilds it."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from serving_util import write_version

pytestmark = pytest.mark.native


@pytest.fixture
def runtime(tmp_path):
    site = tmp_path / "runtime"
    for rel, text in {
        "webtensor.json": '{"wheel": "wheels/w.whl", "pyodide": "pyodide/"}',
        "webtensor.mjs": "export {}",
        "pyodide/pyodide.mjs": "x",
        "wheels/w.whl": "w",
        "data/digits_split.bin": "d",
        "index.html": "the runtime's own demo page",
    }.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)
    return site


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "webtensor", "site", *map(str, args)], capture_output=True, text=True, timeout=300
    )


def test_one_model_gives_one_embedding_page(tmp_path, runtime):
    src = write_version(tmp_path / "m", "digits", 1)
    model = tmp_path / "digits.safetensors"
    model.write_bytes(src.read_bytes())
    out = tmp_path / "out"
    r = run_cli(model, out, "--runtime", runtime)
    assert r.returncode == 0, r.stderr
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    plain = [n for n in names if not n.endswith((".br", ".gz"))]  # precompressed variants (serving/static.py)
    assert plain == [
        "digits.safetensors",
        "index.html",
        "pyodide/pyodide.mjs",
        "site-files.json",
        "webtensor-model.mjs",
        "webtensor.json",
        "webtensor.mjs",
        "wheels/w.whl",
    ]
    assert "index.html.gz" in names
    assert json.loads((out / "site-files.json").read_text())["files"] == [n for n in names if n != "site-files.json"]
    assert (out / "digits.safetensors").read_bytes() == src.read_bytes()
    page = (out / "index.html").read_text()
    assert '<webtensor-model id="model" src="digits.safetensors">' in page
    assert not re.search(r"MODEL_(FILE|NAME|INFO)", page)
    info = json.loads(re.search(r"const INFO = (\{.*?\});\n", page).group(1))
    assert info["inputs"] == [{"name": "pixels", "dtype": "float32", "shape": [None, 64]}]
    assert info["outputs"][0]["shape"] == [None, 10] and info["file"] == "digits.safetensors"


def test_a_models_directory_gives_the_app_with_its_gallery(tmp_path, runtime):
    models = tmp_path / "models"
    write_version(models, "digits", 1)
    write_version(models, "digits", 3)
    write_version(models, "other", 2)
    out = tmp_path / "app"
    r = run_cli(models, out, "--runtime", runtime)
    assert r.returncode == 0, r.stderr
    for rel in (
        "index.html",
        "app.mjs",
        "app.css",
        "py/webapp.py",
        "py/demo_data.py",
        "webtensor-model.mjs",
        "data/digits_split.bin",
        "models/digits/3.safetensors",
        "models/digits/1.safetensors",
        "models/other/2.safetensors",
    ):
        assert (out / rel).is_file(), rel
    assert "the runtime's own demo page" not in (out / "index.html").read_text()
    catalog = json.loads((out / "models.json").read_text())
    assert catalog["server"] is False and catalog["upload"] is False
    assert [(m["name"], [v["version"] for v in m["versions"]]) for m in catalog["models"]] == [
        ("digits", ["3", "1"]),
        ("other", ["2"]),
    ]
    assert catalog["models"][0]["versions"][0]["url"] == "models/digits/3.safetensors"
    assert catalog["models"][0]["versions"][0]["size"] == (models / "digits/3/model.safetensors").stat().st_size


def test_a_bad_model_file_is_refused_before_anything_is_written(tmp_path, runtime):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    out = tmp_path / "out"
    r = run_cli(bad, out, "--runtime", runtime)
    assert r.returncode == 1 and "invalid model file" in r.stderr
    assert not out.exists()


def test_an_unrelated_folder_is_never_replaced(tmp_path, runtime):
    src = write_version(tmp_path / "m", "digits", 1)
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    r = run_cli(src, out, "--runtime", runtime)
    assert r.returncode == 1 and "refusing" in r.stderr
    assert (out / "notes.txt").read_text() == "keep me"


def test_a_folder_that_is_not_a_runtime_is_refused(tmp_path):
    src = write_version(tmp_path / "m", "digits", 1)
    r = run_cli(src, tmp_path / "out", "--runtime", tmp_path)
    assert r.returncode == 1 and "not a built webtensor site" in r.stderr


def test_a_version_file_is_named_after_its_model(tmp_path, runtime):
    src = write_version(tmp_path / "models", "digits_mlp", 3)
    out = tmp_path / "out"
    r = run_cli(src, out, "--runtime", runtime)
    assert r.returncode == 0, r.stderr
    assert (out / "digits_mlp.safetensors").read_bytes() == src.read_bytes()
    assert "<title>digits_mlp · webtensor</title>" in (out / "index.html").read_text()

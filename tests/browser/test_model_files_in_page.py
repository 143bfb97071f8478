"""Model files in the page: safetensors fetched from a URL (streamed, sync through JSPI
and async), from bytes, validated with the same errors as natively; no numpy there."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

from conftest import boot, run_python

ROOT = Path(__file__).resolve().parents[2]


def write_weights(folder: Path) -> bytes:
    sys.path.insert(0, str(ROOT / "core"))
    import webtensor as tf
    from webtensor.saving import safetensors as st

    path = folder / "w.safetensors"
    st.save(
        path,
        {
            "a": tf.constant([[1.5, -2.0], [3.0, 4.25]]),
            "h": tf.constant([0.5, 8.0], tf.float16),
            "n": tf.constant([7, -9], tf.int64),
            "m": tf.constant([True, False]),
        },
        {"k": "v"},
    )
    blob = path.read_bytes()
    (folder / "cut.safetensors").write_bytes(blob[:-5])
    (folder / "huge.safetensors").write_bytes(struct.pack("<Q", 200 * 1024 * 1024) + b"{}")
    return blob


READ = """
import webtensor as tf
def show(meta, t):
    return [meta, t["a"].numpy().tolist(), t["h"].numpy().tolist(), t["h"].dtype.name in ("float16", "float32"),
            t["n"].numpy().tolist(), t["m"].numpy().tolist()]
"""
WANT = [{"k": "v"}, [[1.5, -2.0], [3.0, 4.25]], [0.5, 8.0], True, [7, -9], [True, False]]


LOADS = {
    "url-sync": 'show(*tf.saving.load_file("/_test/w.safetensors"))',
    "url-async": 'show(*(await tf.saving.load_file_async("/_test/w.safetensors")))',
    "bytes": """
from js import fetch
buf = (await (await fetch("/_test/w.safetensors")).arrayBuffer()).to_py()
show(*tf.saving.load_file(buf))
""",
}


def test_bad_files_fail_with_the_native_messages_in_page(page, test_files):
    write_weights(test_files)
    boot(page, backend="wasm")
    msgs = run_python(
        page,
        """
import webtensor as tf
out = []
for name in ("cut", "huge"):
    try:
        tf.saving.load_file(f"/_test/{name}.safetensors")
        out.append("loaded")
    except ValueError as e:
        out.append(str(e))
try:
    tf.saving.load_file("/_test/missing.safetensors")
except OSError as e:
    out.append("OSError: " + str(e))
out
""",
    )
    assert "truncated file: tensor" in msgs[0] and "byte offset" in msgs[0]
    assert "100 MB" in msgs[1]
    assert msgs[2].startswith("OSError") and "404" in msgs[2]


def write_model(folder: Path) -> list:
    """A small CNN saved natively (numpy backend); returns its predictions on X."""
    sys.path.insert(0, str(ROOT / "core"))
    import webtensor as tf

    L = tf.keras.layers
    tf.random.set_seed(3)
    m = tf.keras.Sequential(
        [
            tf.keras.Input((4, 4, 1)),
            L.Conv2D(3, 2, activation="relu"),
            L.Flatten(),
            L.Dense(5, activation="tanh"),
            L.Dense(2),
        ]
    )
    m.compile(optimizer="adam", loss="mse")
    m.save(str(folder / "m.safetensors"))
    tf.saving.save_model(m, str(folder / "m16.safetensors"), include_optimizer=False, weights_dtype="float16")
    return m.predict(tf.constant(X), verbose=0).tolist()


X = [[[[0.1 * (i + j + k)] for k in range(4)] for j in range(4)] for i in range(2)]
PREDICT = f"""
import webtensor as tf
X = tf.constant({X!r})
"""


@pytest.mark.parametrize("backend", ["wasm", "webgpu"])
def test_files_and_models_load_from_url_and_bytes(page, test_files, backend):
    """One boot per backend: plain files by URL (sync through JSPI, async) and from bytes,
    then models by URL (sync, async, float16) predicting as they do natively."""
    write_weights(test_files)
    want = write_model(test_files)
    r = boot(page, backend=backend)
    assert "error" not in r, r
    run_python(page, READ)
    for how, code in LOADS.items():
        assert run_python(page, code) == WANT, how
    run_python(page, PREDICT)
    sync = run_python(page, 'tf.keras.models.load_model("/_test/m.safetensors").predict(X, verbose=0).tolist()')
    later = run_python(
        page, '(await tf.saving.load_model_async("/_test/m.safetensors")).predict(X, verbose=0).tolist()'
    )
    half = run_python(page, 'tf.keras.models.load_model("/_test/m16.safetensors").predict(X, verbose=0).tolist()')
    for got, tol in ((sync, 1e-5), (later, 1e-5), (half, 1e-2)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert all(abs(a - b) <= tol * (1 + abs(b)) for a, b in zip(g, w)), (got, want)

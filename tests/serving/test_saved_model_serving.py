"""The server serves SavedModel versions beside model files: metadata lists every
signature_def (dtypes, shapes), predict takes signature_name, and a new SavedModel
version swaps in like a model file does."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

import webtensor as tf
from serving_util import Client, instances, make_model, start, write_version
from util import assert_close

pytestmark = [pytest.mark.native, pytest.mark.numpy]


class Head(tf.Module):
    """The model plus a second signature (a row sum), as a TF user would export it."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    @tf.function(input_signature=[tf.TensorSpec([None, 64], tf.float32, name="pixels")])
    def classify(self, pixels):
        return {"probabilities": self.model(pixels, training=False)}

    @tf.function(input_signature=[tf.TensorSpec([None, 64], tf.float32, name="pixels")])
    def ink(self, pixels):
        return {"total": tf.reduce_sum(pixels, axis=1)}


def write_saved_version(root: Path, name: str, version: int, seed: int, damage=None):
    """Save into a temp folder (and ``damage`` it there), then rename it into place."""
    model = make_model(seed)
    head = Head(model)
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".new-", dir=folder))
    tf.saved_model.save(head, str(tmp), signatures={"serving_default": head.classify, "ink": head.ink})
    if damage is not None:
        damage(tmp)
    os.rename(tmp, folder / str(version))
    return model


def _numpy_forward(model, x):
    import numpy as np

    (d1, d2) = model.layers
    h = np.maximum(np.asarray(x, np.float64) @ d1.kernel.numpy() + d1.bias.numpy(), 0)
    z = h @ d2.kernel.numpy() + d2.bias.numpy()
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).tolist()


@pytest.fixture
def setup(tmp_path):
    root = tmp_path / "models"
    write_version(root, "digits", 1)
    model = write_saved_version(root, "saved", 1, seed=3)
    srv = start(root)
    yield root, Client(srv.url), model
    srv.stop()


def test_metadata_lists_every_signature(setup):
    _, client, _ = setup
    status, meta = client.get("/v1/models/saved/metadata")
    assert status == 200, meta
    defs = meta["metadata"]["signature_def"]["signature_def"]
    assert sorted(defs) == ["ink", "serving_default"]
    sd = defs["serving_default"]
    assert sd["method_name"] == "tensorflow/serving/predict"
    assert sd["inputs"]["pixels"]["dtype"] == "DT_FLOAT"
    assert [d["size"] for d in sd["inputs"]["pixels"]["tensor_shape"]["dim"]] == ["-1", "64"]
    assert [d["size"] for d in sd["outputs"]["probabilities"]["tensor_shape"]["dim"]] == ["-1", "10"]
    assert [d["size"] for d in defs["ink"]["outputs"]["total"]["tensor_shape"]["dim"]] == ["-1"]
    assert defs["ink"]["inputs"]["pixels"]["name"] == "ink_pixels:0"


def test_predict_default_and_named_signatures(setup):
    _, client, model = setup
    x = instances(4)
    status, body = client.post("/v1/models/saved:predict", {"instances": x})
    assert status == 200, body
    assert_close(body["predictions"], _numpy_forward(model, x), rtol=1e-4, atol=1e-6)
    status, body = client.post("/v1/models/saved/versions/1:predict", {"signature_name": "ink", "inputs": x})
    assert status == 200, body
    assert_close(body["outputs"], [sum(r) for r in x], rtol=1e-5)
    status, body = client.post("/v1/models/saved:predict", {"signature_name": "nope", "instances": x})
    assert status == 400 and 'Serving signature name: "nope" not found' in body["error"]
    status, body = client.post("/v1/models/saved:predict", {"instances": [[0.0] * 63]})
    assert status == 400 and "expected shape (None, 64)" in body["error"]
    # a model file still has only serving_default
    status, body = client.post("/v1/models/digits:predict", {"signature_name": "ink", "instances": x})
    assert status == 400 and "not found in signature def" in body["error"]


def test_saved_model_files_and_gallery(setup):
    root, client, _ = setup
    status, body = client.get("/models/saved/1/saved_model.json")
    assert status == 200 and body["format"] == "webtensor-saved-model"
    status, raw = client.get("/models/saved/1/variables.safetensors")
    assert status == 200 and raw == (root / "saved/1/variables.safetensors").read_bytes()
    assert client.get("/models/saved/1/other.txt")[0] == 404
    assert client.get("/models/digits/1/saved_model.json")[0] == 404
    status, gallery = client.get("/models.json")
    (entry,) = [m for m in gallery["models"] if m["name"] == "saved"]
    assert entry["versions"][0]["url"] == "models/saved/1/saved_model.json"
    assert entry["versions"][0]["format"] == "saved_model"


def test_a_new_saved_model_version_swaps_in(setup):
    root, client, _ = setup
    model2 = write_saved_version(root, "saved", 2, seed=11)
    deadline = time.time() + 60
    while time.time() < deadline:
        rows = client.get("/v1/models/saved")[1]["model_version_status"]
        if {r["version"]: r["state"] for r in rows} == {"2": "AVAILABLE", "1": "END"}:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("version 2 was not served")
    x = instances(2, offset=3)
    status, body = client.post("/v1/models/saved:predict", {"instances": x})
    assert status == 200
    assert_close(body["predictions"], _numpy_forward(model2, x), rtol=1e-4, atol=1e-6)


def test_a_broken_saved_model_is_reported_not_served(setup):
    root, client, _ = setup

    def damage(folder):
        graph = folder / "saved_model.json"
        graph.write_text(graph.read_text().replace('"type":"matmul"', '"type":"launch"', 1))

    write_saved_version(root, "saved", 2, seed=5, damage=damage)
    deadline = time.time() + 60
    while time.time() < deadline:
        rows = {r["version"]: r for r in client.get("/v1/models/saved")[1]["model_version_status"]}
        if rows.get("2", {}).get("state") == "END":
            break
        time.sleep(0.05)
    assert "unknown node type 'launch'" in rows["2"]["status"]["error_message"]
    assert rows["1"]["state"] == "AVAILABLE"

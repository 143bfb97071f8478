"""Helpers for the server tests: small digits-shaped models written in TF Serving's
{name}/{version}/ layout, a reference forward pass in numpy from a file's weights (read
by the reference ``safetensors`` library), a plain HTTP client, and a live server on a
free 127.0.0.1 port."""

from __future__ import annotations

import http.client
import json
import os
import tempfile
from pathlib import Path

import pytest

import webtensor as tf


def make_model(seed: int, hidden: int = 8):
    """64 -> hidden (relu) -> 10 (softmax), weights from ``seed``."""
    tf.random.set_seed(seed)
    k = tf.keras
    return k.Sequential(
        [
            k.Input((64,), name="pixels"),
            k.layers.Dense(hidden, activation="relu"),
            k.layers.Dense(10, activation="softmax", name="probabilities"),
        ],
        name="digits",
    )


def write_version(root: Path, name: str, version: int, seed: int | None = None) -> Path:
    """Save a model into a temp folder and rename it into place, as a deployment would."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".new-", dir=folder))
    make_model(version if seed is None else seed).save(str(tmp / "model.safetensors"))
    os.rename(tmp, folder / str(version))
    return folder / str(version) / "model.safetensors"


def reference(path: Path, x) -> list:
    """softmax(relu(x W1 + b1) W2 + b2) in float64 numpy from the file's tensors."""
    np = pytest.importorskip("numpy")
    from safetensors.numpy import load_file

    ts = load_file(str(path))
    kernels = sorted((t for t in ts.values() if t.ndim == 2), key=lambda t: -t.shape[0])
    biases = {t.shape[0]: t for t in ts.values() if t.ndim == 1}
    (w1, w2) = kernels
    h = np.maximum(np.asarray(x, np.float64) @ w1 + biases[w1.shape[1]], 0)
    z = h @ w2 + biases[w2.shape[1]]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).tolist()


def instances(n: int, offset: int = 0) -> list:
    return [[((i * 7 + j * 3 + offset) % 17) / 16 for j in range(64)] for i in range(n)]


class Client:
    """Plain HTTP/1.1 over http.client: what any TF Serving client sends."""

    def __init__(self, url: str):
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)

    def call(self, method: str, path: str, body=None, headers: dict | None = None) -> tuple:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        ctype = resp.getheader("content-type", "")
        return resp.status, (json.loads(data) if ctype.startswith("application/json") else data)

    def get(self, path: str) -> tuple:
        return self.call("GET", path)

    def post(self, path: str, body) -> tuple:
        return self.call("POST", path, body, {"Content-Type": "application/json"})


def upload_headers(url: str) -> dict:
    """What the app's own page sends with "Send to server": its Origin, a binary type."""
    return {"Origin": url, "Content-Type": "application/octet-stream"}


def start(models: Path, **options):
    from webtensor.serving.app import BackgroundServer, create_app

    options.setdefault("poll_interval", 0.05)
    config = {k: options.pop(k) for k in ("header_timeout", "keep_alive", "max_connections") if k in options}
    return BackgroundServer(create_app(str(models), **options), **config)

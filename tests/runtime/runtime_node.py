"""Run web/runtime in Node from pytest: export with tf.saved_model, call node_runner.mjs.

Skips (with the true reason) where Node or the built WebAssembly kernels are missing."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

import webtensor as tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node_runner.mjs")
KERNELS = os.environ.get("WEBTENSOR_WASM_KERNELS") or os.path.join(
    ROOT, "core", "webtensor", "backends", "kernels", "webtensor_kernels.wasm"
)
NODE = shutil.which("node")


def require():
    if NODE is None:
        pytest.skip("node is not installed: these tests run web/runtime in Node")
    if not os.path.exists(KERNELS):
        pytest.skip(f"the WebAssembly kernels are not built ({KERNELS}); run `make wasm`")


def save(obj, path, signatures=None):
    tf.saved_model.save(obj, str(path), signatures=signatures)


def save_trainer(model, opt, loss, x_spec, y_spec, path):
    """Save ``model`` with a ``train`` signature: one optimizer step on (x, y), returning the loss.
    The optimizer's slots are an attribute so they are saved too. Shared by the Chromium test
    and benchmarks/page/bench_runtime.py. Returns the module (its ``train`` runs in Python)."""

    class Trainer(tf.Module):
        def __init__(self):
            super().__init__()
            self.model, self.opt, self.loss = model, opt, loss
            self.opt.build(model.trainable_variables)
            self.slots = list(self.opt.variables)

        @tf.function(input_signature=[x_spec, y_spec])
        def train(self, x, y):
            with tf.GradientTape() as tape:
                value = self.loss(y, self.model(x, training=True))
            grads = tape.gradient(value, self.model.trainable_variables)
            self.opt.apply_gradients(zip(grads, self.model.trainable_variables))
            return {"loss": value}

    t = Trainer()
    save(t, path, signatures={"train": t.train.get_concrete_function()})
    return t


def page_site(d, element: bool = False):
    """A folder a page runtime test or benchmark serves: ``runtime/`` as `make web` builds it
    (webtensor.serving.page_runtime), and with ``element`` the files `python -m webtensor site`
    puts beside it for ``<webtensor-model>``. Returns the folder."""
    from pathlib import Path

    from webtensor.serving.page_runtime import build, web_dir

    d = Path(d)
    build(d / "runtime")
    if element:
        for f in ("webtensor.mjs", "components/webtensor-model.mjs"):
            (d / Path(f).name).write_bytes((web_dir() / f).read_bytes())
    return d


def enc(x, dtype=None) -> dict:
    a = np.array(x, dtype=dtype, order="C")  # (ascontiguousarray makes a 0-d array 1-d)
    name = "bool" if a.dtype == np.bool_ else a.dtype.name
    return {"shape": list(a.shape), "dtype": name, "b64": base64.b64encode(a.tobytes()).decode()}


def dec(t: dict) -> np.ndarray:
    dt = np.bool_ if t["dtype"] == "bool" else np.dtype(t["dtype"])
    return np.frombuffer(base64.b64decode(t["b64"]), dtype=dt).reshape(t["shape"])


def run(model, calls=(), *, variables=False, options=None, weights=None, timeout=60) -> dict:
    """Load ``model`` (a SavedModel dir, a graph .json, or a document dict) in Node and run the
    calls ``[(signature, {name: array})]``; results decoded to numpy."""
    require()
    job = {
        "model": str(model) if not isinstance(model, dict) else model,
        "kernels": KERNELS,
        "calls": [{"signature": s, "inputs": {k: enc(v) for k, v in ins.items()}} for s, ins in calls],
        "variables": variables,
        "options": options or {},
        "weights": weights and str(weights),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(job, f)
    try:
        p = subprocess.run([NODE, RUNNER, f.name], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    finally:
        os.unlink(f.name)
    if p.returncode != 0 or not p.stdout.startswith("{"):
        raise AssertionError(f"node failed ({p.returncode}): {p.stderr[-2000:]}")
    out = json.loads(p.stdout)
    out["results"] = [{k: dec(v) for k, v in r.items()} for r in out["results"]]
    if "variables" in out:
        out["variables"] = {k: dec(v) for k, v in out["variables"].items()}
    return out

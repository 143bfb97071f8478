"""Seeded mutations of a SavedModel directory (saved_model.json + variables.safetensors).

Shared by tests/saving/test_saved_model.py (a bounded run) and
benchmarks/fuzz_model_files.py (10,000 mutations, ``make fuzz``). Most edits are JSON
tree edits, half of them aimed inside a graph node (so the shape rules and the
primitive checks are what reject them); the rest damage the JSON text or the weights.
"""

from __future__ import annotations

import json
import os
import random

import numpy as np
from mutate import _mutate_tree, mutate


def base_saved_model(folder) -> str:
    """A small SavedModel with matmul, conv, pooling, cond, while and an assign."""
    import webtensor as tf

    class Net(tf.Module):
        def __init__(self):
            super().__init__()
            rng = np.random.default_rng(0)
            self.k = tf.Variable(rng.standard_normal((3, 3, 1, 2)).astype("float32"), name="k")
            self.w = tf.Variable(rng.standard_normal((8, 3)).astype("float32"), name="w")
            self.steps = tf.Variable(0, name="steps")

        @tf.function(input_signature=[tf.TensorSpec([None, 6, 6, 1], tf.float32, name="image")])
        def __call__(self, x):
            h = tf.nn.relu(tf.nn.conv2d(x, self.k, 1, "VALID"))
            h = tf.nn.max_pool2d(h, 2, 2, "VALID")
            h = tf.reshape(h, [-1, 8])
            return tf.nn.softmax(tf.matmul(h, self.w))

        @tf.function(input_signature=[tf.TensorSpec([], tf.int32), tf.TensorSpec([3], tf.float32)])
        def loop(self, n, v):
            i = tf.constant(0)
            while i < n:
                v = v * 2.0 + tf.cast(i, tf.float32)
                i += 1
            if tf.reduce_sum(v) > 3.0:
                v = -v
            self.steps.assign_add(n)
            return v

    path = os.path.join(str(folder), "base_saved_model")
    net = Net()
    tf.saved_model.save(net, path, signatures={"serving_default": net.__call__, "loop": net.loop})
    return path


def _graph_paths(doc) -> list:
    out = []
    for i, f in enumerate(doc.get("functions", [])):
        stack = [(("functions", i, "graph"), f.get("graph"))]
        while stack:
            path, g = stack.pop()
            for j, n in enumerate(g.get("nodes", []) if isinstance(g, dict) else []):
                out.append(path + ("nodes", j))
                for k, sg in enumerate(n.get("subgraphs", []) if isinstance(n, dict) else []):
                    stack.append((path + ("nodes", j, "subgraphs", k), sg))
    return out


def _edit_json(doc, rng: random.Random):
    try:
        nodes = _graph_paths(doc) if isinstance(doc, dict) else []
    except (TypeError, AttributeError, KeyError):  # an earlier edit left odd shapes
        nodes = []
    if nodes and rng.random() < 0.5:
        path = rng.choice(nodes)
        parent = doc
        for p in path[:-1]:
            parent = parent[p]
        parent[path[-1]] = _mutate_tree(parent[path[-1]], rng)
        return doc
    return _mutate_tree(doc, rng)


def saved_model_mutations(json_bytes: bytes, weights: bytes, seed: int, count: int):
    """``count`` mutated (json bytes, weights bytes) pairs, reproducible from ``seed``."""
    rng = random.Random(seed)
    for _ in range(count):
        j, w = json_bytes, weights
        for _ in range(rng.choice((1, 1, 2, 3))):
            r = rng.random()
            if r < 0.7:
                try:
                    doc = json.loads(j)
                except ValueError:
                    doc = json.loads(json_bytes)
                j = json.dumps(_edit_json(doc, rng)).encode()
            elif r < 0.85:
                j = mutate(j, rng, binary=True)
            else:
                try:
                    w = mutate(w, rng)
                except (ValueError, KeyError, IndexError, UnicodeDecodeError):
                    w = mutate(weights, rng, binary=True)
        yield j, w


def write(path: str, json_bytes: bytes, weights: bytes) -> None:
    with open(os.path.join(path, "saved_model.json"), "wb") as f:
        f.write(json_bytes)
    with open(os.path.join(path, "variables.safetensors"), "wb") as f:
        f.write(weights)


def load_and_call(path: str) -> None:
    """Load, then call ``serving_default`` on zeros (None dims as 2), plainly and under a
    tape: a graph that validated must also run both ways (or raise ValueError). Not ``loop``: a mutated loop condition may never
    end, which is a valid program, not a loader bug."""
    import webtensor as tf

    m = tf.saved_model.load(path)
    sig = m.signatures.get("serving_default")
    if sig is not None:
        kwargs = {
            k: tf.zeros([2 if d is None else d for d in s.shape.as_list()], s.dtype)
            for k, s in sig.structured_input_signature[1].items()
        }
        sig(**kwargs)
        with tf.GradientTape():  # the differentiable replay (core ops) must agree with the checks
            sig(**kwargs)

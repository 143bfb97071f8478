"""web/runtime in Node on the wasm kernels: SavedModels exported here run with no Python and
give the outputs (and training losses) Python gives, within float32 tolerance."""

import json
import os

import numpy as np
import pytest

import webtensor as tf
from webtensor.backends.base import random_u32
from runtime_node import run, save

pytestmark = pytest.mark.numpy


def _mlp():
    tf.random.set_seed(3)
    return tf.keras.Sequential(
        [
            tf.keras.layers.Input((8,)),
            tf.keras.layers.Dense(16, activation="relu"),
            tf.keras.layers.Dense(3, activation="softmax"),
        ]
    )


def _cnn():
    tf.random.set_seed(4)
    L = tf.keras.layers
    return tf.keras.Sequential(
        [
            L.Input((8, 8, 1)),
            L.Conv2D(4, 3, padding="same", activation="relu"),
            L.MaxPooling2D(2),
            L.Conv2D(6, 3, activation="relu"),
            L.AveragePooling2D(2),
            L.Flatten(),
            L.Dense(10, activation="softmax"),
        ]
    )


@pytest.mark.parametrize("make, shape", [(_mlp, (8,)), (_cnn, (8, 8, 1))], ids=["mlp", "cnn"])
def test_keras_model_predicts_as_python(tmp_path, make, shape):
    model = make()
    save(model, tmp_path / "m")
    rs = np.random.RandomState(0)
    xs = [rs.randn(4, *shape).astype("float32"), rs.randn(7, *shape).astype("float32")]
    sig = json.loads((tmp_path / "m" / "saved_model.json").read_text())["signatures"]["serving_default"]
    (name,) = sig["inputs"]
    (out_name,) = sig["outputs"]
    out = run(tmp_path / "m", [("serving_default", {name: x}) for x in xs])
    assert "error" not in out, out.get("error")
    for x, r in zip(xs, out["results"]):
        want = model(x).numpy()
        assert r[out_name].shape == want.shape  # batch 4 and 7: the saved batch sites, not the traced size
        np.testing.assert_allclose(r[out_name], want, rtol=1e-5, atol=1e-6)
    assert out["signatures"]["serving_default"]["inputs"][0]["shape"] == [None, *shape]


class _Trainer(tf.Module):
    def __init__(self, model, opt, loss):
        super().__init__()
        self.model, self.opt, self.loss = model, opt, loss
        opt.build(model.trainable_variables)
        self.slots = list(opt.variables)  # the optimizer's state, saved beside the model's

    def step(self, x, y):
        with tf.GradientTape() as tape:
            loss = self.loss(y, self.model(x, training=True))
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.opt.apply_gradients(zip(grads, self.model.trainable_variables))
        return {"loss": loss}


@pytest.mark.parametrize(
    "make, shape, opt", [(_mlp, (8,), "adam"), (_cnn, (8, 8, 1), "sgd")], ids=["mlp-adam", "cnn-sgd"]
)
def test_training_signature_updates_state_as_python(tmp_path, make, shape, opt):
    model = make()
    optimizer = tf.keras.optimizers.Adam(0.01) if opt == "adam" else tf.keras.optimizers.SGD(0.1, momentum=0.9)
    t = _Trainer(model, optimizer, tf.keras.losses.SparseCategoricalCrossentropy())
    train = tf.function(t.step, input_signature=[tf.TensorSpec([6, *shape], tf.float32), tf.TensorSpec([6], tf.int32)])
    save(t, tmp_path / "m", signatures={"train": train.get_concrete_function()})
    rs = np.random.RandomState(1)
    batches = [(rs.randn(6, *shape).astype("float32"), rs.randint(0, 3, 6).astype("int32")) for _ in range(6)]
    out = run(tmp_path / "m", [("train", {"x": x, "y": y}) for x, y in batches], variables=True)
    assert "error" not in out, out.get("error")
    py = [float(train(x, y)["loss"].numpy()) for x, y in batches]  # after the save: same start
    js = [float(r["loss"]) for r in out["results"]]
    assert py[-1] != py[0]  # it trains
    np.testing.assert_allclose(js, py, rtol=1e-4)
    fewer = run(tmp_path / "m", [("train", {"x": x, "y": y}) for x, y in batches[:2]])
    assert fewer["memory"]["bytesInUse"] == out["memory"]["bytesInUse"]  # every step frees what it made
    for key, v in out["variables"].items():  # the runtime's state is Python's after the same steps
        obj = t
        for part in key.split("/"):
            obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
        np.testing.assert_allclose(v, obj.numpy(), rtol=1e-4, atol=1e-6, err_msg=key)


def test_control_flow_random_print_and_variables(tmp_path):
    class M(tf.Module):
        def __init__(self):
            super().__init__()
            self.count = tf.Variable(0.0)

        @tf.function(input_signature=[tf.TensorSpec([3], tf.float32)])
        def f(self, x):
            y = tf.cond(tf.reduce_sum(x) > 0, lambda: x * 2.0, lambda: -x)

            def body(i, acc):
                return i + 1, acc + tf.cast(i, tf.float32) * x

            _, acc = tf.while_loop(lambda i, acc: i < 4, body, (tf.constant(0), tf.zeros([3])))
            r = tf.random.uniform([2], seed=7)
            self.count.assign_add(1.0)
            tf.print("y:", y)
            return {"y": y, "acc": acc, "r": r, "count": self.count.read_value()}

    m = M()
    save(m, tmp_path / "m", signatures={"serving_default": m.f.get_concrete_function()})
    xs = [np.array([1.0, -2.0, 3.5], "float32"), np.array([-1.0, -2.0, 0.5], "float32")]
    out = run(tmp_path / "m", [("serving_default", {"x": x}) for x in xs])
    assert "error" not in out, out.get("error")
    doc = json.loads((tmp_path / "m" / "saved_model.json").read_text())
    graph = doc["functions"][doc["signatures"]["serving_default"]["function"]]["graph"]
    ((k0, k1),) = [n["attrs"]["key"] for n in graph["nodes"] if n["type"] == "random"]
    for c, (x, r) in enumerate(zip(xs, out["results"])):
        want = m.f(x)
        for k in ("y", "acc", "count"):
            np.testing.assert_allclose(r[k], want[k].numpy(), rtol=1e-6, err_msg=k)
        key = (k0, (k1 + 0x9E3779B9 * c) & 0xFFFFFFFF)  # call c's key (docs/tf-function.md)
        bits = [random_u32(i, key) for i in range(2)]
        np.testing.assert_array_equal(r["r"], np.array([(b >> 8) * 2.0**-24 for b in bits], "float32"))
    assert out["prints"] == ["y: [2 -4 7]\n", "y: [1 2 -0.5]\n"]
    once = run(tmp_path / "m", [("serving_default", {"x": xs[0]})])
    assert once["memory"]["bytesInUse"] == out["memory"]["bytesInUse"]  # cond/while free their values


def _graph_model(tmp_path, mutate):
    """A small SavedModel whose serving graph ``mutate`` damages; the runtime's error message."""
    model = _mlp()
    save(model, tmp_path / "m")
    p = tmp_path / "m" / "saved_model.json"
    doc = json.loads(p.read_text())
    mutate(doc["functions"][doc["signatures"]["serving_default"]["function"]]["graph"])
    p.write_text(json.dumps(doc))
    out = run(tmp_path / "m", [("serving_default", {"input_layer": np.zeros((2, 8), "float32")})])
    assert "error" in out
    assert "\n" not in out["error"] and out["errorName"] == "GraphError"
    return out["error"]


def _node(g, t):
    return next(n for n in g["nodes"] if n["type"] == t)


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda g: _node(g, "matmul").update(type="fft"), ["unknown node type"]),
        (lambda g: _node(g, "matmul")["outputs"][0].update(shape=[5, 17]), ["matmul", "declared", "[5,17]"]),
        (lambda g: _node(g, "matmul").update(inputs=["nowhere:0", _node(g, "matmul")["inputs"][1]]), ["nowhere:0"]),
        (lambda g: _node(g, "matmul")["outputs"][0].update(dtype="complex64"), ["unknown dtype"]),
        (lambda g: _node(g, "full")["attrs"].update(shape=[-1]), ["shape"]),
        (lambda g: _node(g, "read_variable")["attrs"].update(variable="nope"), ["nope"]),
        (lambda g: g.update(version=2), ["version"]),
    ],
    ids=["type", "shape", "input", "dtype", "negative-dim", "variable", "version"],
)
def test_bad_graph_is_a_one_line_error_naming_the_node(tmp_path, mutate, words):
    msg = _graph_model(tmp_path, mutate)
    for w in words:
        assert w in msg, msg


def test_a_loop_that_never_ends_is_an_error_not_a_hang(tmp_path):
    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)])
    def f(n):
        return tf.while_loop(lambda i: i >= 0, lambda i: i + n, [tf.constant(0)])

    mod = tf.Module()
    mod.f = f
    save(mod, tmp_path / "m", signatures={"serving_default": f.get_concrete_function()})
    out = run(tmp_path / "m", [("serving_default", {"n": np.array(0, "int32")})], options={"maxLoopIterations": 1000})
    assert "ran 1000 iterations" in out["error"] and "while" in out["error"] and "\n" not in out["error"]


def test_bad_weights_and_inputs_are_one_line_errors(tmp_path):
    model = _mlp()
    save(model, tmp_path / "m")
    out = run(tmp_path / "m", [("serving_default", {"input_layer": np.zeros((2, 5), "float32")})])
    assert "input_layer" in out["error"] and "\n" not in out["error"]
    w = tmp_path / "m" / "variables.safetensors"
    data = bytearray(w.read_bytes())
    data[-1] ^= 0xFF
    w.write_bytes(bytes(data))
    out = run(tmp_path / "m")
    assert "checksum" in out["error"]
    w.write_bytes(bytes(data[:40]))
    out = run(tmp_path / "m")
    assert "variables.safetensors" in out["error"] and "\n" not in out["error"]


def test_nesting_and_node_count_are_bounded(tmp_path):
    g = {"version": 1, "name": "deep", "inputs": [], "outputs": [], "nodes": []}
    inner = g
    for _ in range(40):
        sub = {"version": 1, "name": "b", "inputs": [], "outputs": [], "nodes": []}
        inner["nodes"] = [
            {
                "name": "p",
                "type": "full",
                "attrs": {"shape": [], "value": True, "dtype": "bool"},
                "inputs": [],
                "outputs": [{"shape": [], "dtype": "bool"}],
                "subgraphs": [],
            },
            {"name": "c", "type": "cond", "attrs": {}, "inputs": ["p:0"], "outputs": [], "subgraphs": [sub, dict(sub)]},
        ]
        inner = sub
    (tmp_path / "deep.json").write_text(json.dumps(g))
    out = run(tmp_path / "deep.json")
    assert "nesting deeper than 32" in out["error"]
    big = {
        "version": 1,
        "name": "big",
        "inputs": [],
        "outputs": ["n0:0"],
        "nodes": [
            {
                "name": f"n{i}",
                "type": "full",
                "attrs": {"shape": [], "value": 1.0, "dtype": "float32"},
                "inputs": [],
                "outputs": [{"shape": [], "dtype": "float32"}],
                "subgraphs": [],
            }
            for i in range(1001)
        ],
    }
    (tmp_path / "big.json").write_text(json.dumps(big))
    out = run(tmp_path / "big.json", options={"limits": {"nodes": 1000}})  # the default is 1,000,000
    assert "more than 1000 nodes" in out["error"]


def test_bare_traced_graph_runs(tmp_path):
    """graph.as_dict() of a concrete function, variables by name in a .safetensors of their own."""
    from webtensor.saving import safetensors

    w = tf.Variable(np.arange(6, dtype="float32").reshape(2, 3), name="w")

    @tf.function(input_signature=[tf.TensorSpec([4, 2], tf.float32)])
    def f(x):
        return tf.nn.relu(x @ w) + tf.reduce_max(x)

    (tmp_path / "graph.json").write_text(json.dumps(f.get_concrete_function().graph.as_dict()))
    safetensors.save(str(tmp_path / "w.safetensors"), {"w:0": w})
    x = np.random.RandomState(2).randn(4, 2).astype("float32")
    out = run(tmp_path / "graph.json", [("serving_default", {"x": x})], weights=tmp_path / "w.safetensors")
    assert "error" not in out, out.get("error")
    np.testing.assert_allclose(out["results"][0]["output_0"], f(x).numpy(), rtol=1e-6)


@pytest.mark.parametrize("kind", ["cnn-train", "control-flow"])
def test_mutated_graphs_give_results_or_one_line_errors(tmp_path, kind):
    """Seeded mutations of every part of the graphs (tests/runtime/fuzz_runner.mjs): each load
    and call ends in a result or a GraphError, never another exception or a hang."""
    import subprocess

    from runtime_node import KERNELS, NODE, require

    require()
    if kind == "cnn-train":
        t = _Trainer(_cnn(), tf.keras.optimizers.Adam(0.01), tf.keras.losses.SparseCategoricalCrossentropy())
        fn = tf.function(
            t.step, input_signature=[tf.TensorSpec([2, 8, 8, 1], tf.float32), tf.TensorSpec([2], tf.int32)]
        )
        save(t, tmp_path / "m", signatures={"train": fn.get_concrete_function()})
    else:

        class M(tf.Module):
            @tf.function(input_signature=[tf.TensorSpec([3], tf.float32)])
            def f(self, x):
                y = tf.cond(tf.reduce_sum(x) > 0, lambda: x * 2.0, lambda: -x)
                _, acc = tf.while_loop(
                    lambda i, a: i < 4,
                    lambda i, a: (i + 1, a + tf.cast(i, tf.float32) * x),
                    (tf.constant(0), tf.zeros([3])),
                )
                tf.print("y:", y)
                tf.debugging.assert_less(tf.reduce_sum(acc), 1e6)
                return {
                    "y": y + tf.random.uniform([3]),
                    "g": tf.gather(x, tf.constant([2, 0])),
                    "a": tf.argmax(x),
                    "c": tf.concat([x, acc], 0),
                    "p": tf.pad(x, [[1, 2]]),
                    "s": x[::-1],
                    "cs": tf.cumsum(x),
                }

        m = M()
        save(m, tmp_path / "m", signatures={"serving_default": m.f.get_concrete_function()})
    runner = os.path.join(os.path.dirname(__file__), "fuzz_runner.mjs")
    p = subprocess.run(
        [NODE, runner, str(tmp_path / "m"), KERNELS, "300", "17"], capture_output=True, text=True, timeout=300
    )
    out = json.loads(p.stdout)
    assert out["other"] == [], out["other"]
    assert out["graphError"] > 100  # the mutations do reach the checks


class Ops(tf.Module):
    """One function touching the primitives the Keras models do not (values checked vs Python)."""

    def __init__(self, int64=True):
        super().__init__()
        self.int64 = int64  # (the GPU stores int64 in 32 bits)
        self.table = tf.Variable(np.arange(12, dtype="float32").reshape(4, 3) / 4.0)

    @tf.function(input_signature=[tf.TensorSpec([2, 3], tf.float32), tf.TensorSpec([5], tf.int32)])
    def f(self, x, idx):
        with tf.GradientTape() as tape:
            rows = tf.gather(self.table, idx)  # its gradient is a scatter_add
            loss = tf.reduce_sum(rows * rows)
        g = tape.gradient(loss, self.table)
        out = {"i64": tf.cast(idx, tf.int64) * 3_000_000_000} if self.int64 else {}
        return {
            **out,
            "grad": g,
            "cumsum": tf.cumsum(x, axis=1, reverse=True),
            "cumprod": tf.math.cumprod(x, exclusive=True),
            "argmin": tf.argmin(x, axis=0),
            "pad": tf.pad(x, [[1, 0], [0, 2]], constant_values=-1.5),
            "concat": tf.concat([x, x * 2.0], axis=0),
            "rev": x[::-1, ::2],
            "t": tf.transpose(x),
            "where": tf.where(x > 0, x, tf.zeros_like(x)),
            "bcast": tf.broadcast_to(x[:1], [3, 2, 3]),
            "range": tf.range(2, 11, 3),
            "mask": tf.logical_and(x > -1.0, x < 1.0),
            "mean": tf.reduce_mean(x, axis=[0, 1]),
            "max": tf.reduce_max(x, axis=0, keepdims=True),
            "mod": tf.math.floormod(idx, 3),
            "erf": tf.math.erf(x),
            "pow": tf.pow(tf.abs(x), 1.5),
            "batch": tf.matmul(tf.reshape(tf.concat([x, x], 0), [2, 2, 3]), x, transpose_b=True),
            "up": tf.cast(tf.round(x * 10.0), tf.int32) // 3,
            "long_sum": tf.reduce_sum(tf.tile(x, [1, 200]), axis=1),  # GPU: partial sums, then their sum
            "long_k": tf.matmul(tf.tile(x, [1, 400]), tf.tile(x, [1, 400]), transpose_b=True),  # GPU: split-K
        }


def test_primitives_match_python(tmp_path):
    m = Ops()
    save(m, tmp_path / "m", signatures={"serving_default": m.f.get_concrete_function()})
    x = np.array([[0.5, -1.25, 2.0], [-0.75, 3.0, 0.125]], "float32")
    idx = np.array([3, 0, 3, 1, 2], "int32")
    out = run(tmp_path / "m", [("serving_default", {"x": x, "idx": idx})])
    assert "error" not in out, out.get("error")
    (r,) = out["results"]
    want = m.f(x, idx)
    assert set(r) == set(want)
    for k, v in want.items():
        v = v.numpy()
        assert r[k].dtype == v.dtype and r[k].shape == v.shape, k
        np.testing.assert_allclose(r[k], v, rtol=2e-6, atol=1e-7, err_msg=k)


def test_failed_assert_is_a_one_line_invalid_argument_error(tmp_path):
    class M(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([2], tf.float32)])
        def f(self, x):
            tf.debugging.assert_less(x, 1.0, message="x must stay below 1")
            return x * 2.0

    m = M()
    save(m, tmp_path / "m", signatures={"serving_default": m.f.get_concrete_function()})
    ok = run(tmp_path / "m", [("serving_default", {"x": np.array([0.5, -3.0], "float32")})])
    np.testing.assert_array_equal(ok["results"][0]["output_0"], [1.0, -6.0])
    bad = run(tmp_path / "m", [("serving_default", {"x": np.array([0.5, 3.0], "float32")})])
    assert "InvalidArgumentError" in bad["error"] and "x must stay below 1" in bad["error"]
    assert "[0.5 3]" in bad["error"] and "\n" not in bad["error"]


def test_keras_export_runs(tmp_path):
    """Keras 3's model.export(path) writes the same format."""
    model = _mlp()
    model.export(str(tmp_path / "m"))
    x = np.random.RandomState(5).randn(3, 8).astype("float32")
    sig = json.loads((tmp_path / "m" / "saved_model.json").read_text())["signatures"]["serving_default"]
    out = run(tmp_path / "m", [("serving_default", {next(iter(sig["inputs"])): x})])
    assert "error" not in out, out.get("error")
    (got,) = out["results"][0].values()
    np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-5, atol=1e-6)

"""tf.saved_model save/load (docs/saved-model.md): loaded functions and signatures give the
values numpy computes from the saved variables, without the Python class; bad files are
ValueErrors naming the problem and where."""

import gc
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import webtensor as tf

pytestmark = pytest.mark.numpy


def _dense_module():
    class Dense(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(np.arange(6, dtype="float32").reshape(3, 2) / 4 - 0.5, name="w")
            self.b = tf.Variable([0.5, -1.0], name="b")
            self.count = tf.Variable(0.0, trainable=False, name="count")
            self.layers = [tf.Variable([2.0], name="scale")]

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
        def __call__(self, x):
            return tf.nn.relu(tf.matmul(x, self.w) + self.b) * self.layers[0]

        @tf.function
        def bump(self, by):
            self.count.assign_add(by)
            return self.count.read_value()

        @tf.function
        def pair(self, x, mode="sum"):
            if mode == "sum":
                return {"total": tf.reduce_sum(x), "first": x[0]}
            return {"total": tf.reduce_max(x), "first": x[0]}

    return Dense


def _reference(x):
    w = np.arange(6, dtype="float32").reshape(3, 2) / 4 - 0.5
    return np.maximum(x @ w + np.array([0.5, -1.0], "float32"), 0) * 2.0


def _saved(tmp_path):
    Dense = _dense_module()
    m = Dense()
    m.bump(tf.constant(1.0))
    m.pair(tf.constant([1.0, 2.0, 3.0]))
    m.pair(tf.constant([1.0, 2.0, 3.0]), mode="max")
    path = str(tmp_path / "dense")
    tf.saved_model.save(m, path)
    return path


X = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0], [0.0, 0.0, 0.0], [3.0, -2.0, 1.0], [1, 1, 1]], "float32")


def test_directory_layout_and_contains(tmp_path):
    path = _saved(tmp_path)
    assert sorted(os.listdir(path)) == ["saved_model.json", "variables.safetensors"]
    assert tf.saved_model.contains_saved_model(path)
    assert not tf.saved_model.contains_saved_model(str(tmp_path))
    doc = json.load(open(os.path.join(path, "saved_model.json")))
    assert doc["format"] == "webtensor-saved-model" and doc["format_version"] == 1
    sig = doc["signatures"]["serving_default"]
    assert sig["inputs"] == {"x": {"index": 0, "dtype": "float32", "shape": [None, 3]}}
    assert sig["outputs"]["output_0"]["dtype"] == "float32"
    reads = [
        n["attrs"]["variable"] for f in doc["functions"] for n in f["graph"]["nodes"] if n["type"] == "read_variable"
    ]
    assert set(reads) >= {"w", "b", "layers/0"}  # variables by key, not by Python name


def test_load_without_the_class(tmp_path):
    path = _saved(tmp_path)
    gc.collect()
    loaded = tf.saved_model.load(path)
    for n in (5, 2, 1, 5, 9):  # other batch sizes than the traced one
        np.testing.assert_allclose(
            loaded(tf.constant(X[:n] if n <= 5 else np.tile(X, (2, 1))[:n])).numpy(),
            _reference(X[:n] if n <= 5 else np.tile(X, (2, 1))[:n]),
            rtol=1e-6,
        )
    out = loaded.signatures["serving_default"](x=tf.constant(X))
    assert list(out) == ["output_0"]
    np.testing.assert_allclose(out["output_0"].numpy(), _reference(X), rtol=1e-6)
    assert sorted(v.name for v in loaded.variables) == ["b:0", "count:0", "scale:0", "w:0"]
    np.testing.assert_array_equal(loaded.layers[0].numpy(), [2.0])


def test_subprocess_never_imports_the_class(tmp_path):
    path = _saved(tmp_path)
    code = (
        "import sys, numpy as np, webtensor as tf\n"
        "m = tf.saved_model.load(sys.argv[1])\n"
        "x = np.array([[1, 2, 3], [3, -2, 1]], 'float32')\n"
        "print(m(x).numpy().tolist(), float(m.bump(tf.constant(2.0))))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    got, count = r.stdout.strip().rsplit(" ", 1)
    np.testing.assert_allclose(json.loads(got), _reference(X[[0, 3]]), rtol=1e-6)
    assert float(count) == 3.0  # saved 1.0, plus 2.0: the assign ran on the loaded variable


def test_python_arguments_and_dispatch(tmp_path):
    loaded = tf.saved_model.load(_saved(tmp_path))
    x = tf.constant([1.0, 5.0, 3.0])
    s = loaded.pair(x)
    assert float(s["total"]) == 9.0 and float(s["first"]) == 1.0
    assert float(loaded.pair(x, mode="max")["total"]) == 5.0
    with pytest.raises(ValueError, match="Could not find matching concrete function"):
        loaded.pair(x, mode="min")
    with pytest.raises(ValueError, match="Could not find matching concrete function"):
        loaded.pair(tf.constant([1, 2, 3]))  # int32: no saved float32 signature
    assert float(loaded.bump(tf.constant(0.5))) == 1.5


def test_batch_polymorphic_with_a_scalar_argument(tmp_path):
    class Scale(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32), tf.TensorSpec([], tf.float32)])
        def f(self, x, k):
            return tf.reduce_mean(x, axis=0) * k

    tf.saved_model.save(Scale(), str(tmp_path / "s"))
    loaded = tf.saved_model.load(str(tmp_path / "s"))
    (out,) = loaded.signatures["serving_default"].structured_outputs.values()
    assert out.shape.as_list() == [2]  # a mean over the batch: its shape does not depend on it
    for n in (1, 3, 8):
        x = np.arange(2 * n, dtype="float32").reshape(n, 2)
        np.testing.assert_allclose(loaded.f(x, 2.0).numpy(), x.mean(0) * 2.0, rtol=1e-6)


def test_signatures_argument_and_errors(tmp_path):
    class Scaler(tf.Module):
        def __init__(self):
            super().__init__()
            self.k = tf.Variable(3.0)

        @tf.function(input_signature=[tf.TensorSpec([2], tf.float32)])
        def triple(self, x):
            return {"y": x * self.k, "s": tf.reduce_sum(x)}

    m = Scaler()
    path = str(tmp_path / "s")
    tf.saved_model.save(m, path, signatures={"tri": m.triple, "again": m.triple.get_concrete_function()})
    loaded = tf.saved_model.load(path)
    assert sorted(loaded.signatures) == ["again", "tri"]
    out = loaded.signatures["tri"](x=tf.constant([1.0, -2.0]))
    np.testing.assert_array_equal(out["y"].numpy(), [3.0, -6.0])
    assert float(out["s"]) == -1.0
    np.testing.assert_array_equal(loaded.signatures["tri"](tf.constant([1.0, 2.0]))["y"].numpy(), [3.0, 6.0])
    with pytest.raises(TypeError, match="positionally in that order"):
        loaded.signatures["tri"](tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="missing x"):
        loaded.signatures["tri"](y=tf.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match="expects x: float32"):
        loaded.signatures["tri"](x=tf.constant([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="input_signature"):
        tf.saved_model.save(m, str(tmp_path / "t"), signatures=tf.function(lambda x: x))


def test_untracked_variable_is_an_error(tmp_path):
    v = tf.Variable(1.0)

    class M(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
        def f(self, x):
            return x + v

    with pytest.raises(ValueError, match="not reachable from the saved object"):
        tf.saved_model.save(M(), str(tmp_path / "m"))


def test_control_flow_round_trip(tmp_path):
    class Loop(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([], tf.int32), tf.TensorSpec([3], tf.float32)])
        def f(self, n, x):
            i = tf.constant(0)
            acc = x
            while i < n:
                acc = acc * 2.0
                i += 1
            if tf.reduce_sum(acc) > 10.0:
                acc = acc - 1.0
            return acc

    path = str(tmp_path / "loop")
    tf.saved_model.save(Loop(), path)
    loaded = tf.saved_model.load(path)
    x = np.array([1.0, 0.5, -0.25], "float32")
    for n in (0, 1, 4):
        want = x * 2.0**n
        want = want - 1.0 if want.sum() > 10 else want
        np.testing.assert_allclose(loaded.f(tf.constant(n), tf.constant(x)).numpy(), want)
        xt = tf.constant(x)
        with tf.GradientTape() as tape:  # the loop and the branch replayed as core ops
            tape.watch(xt)
            y = tf.reduce_sum(loaded.f(tf.constant(n), xt) * tf.constant([1.0, 2.0, 3.0]))
        np.testing.assert_allclose(float(y), (want * [1, 2, 3]).sum(), rtol=1e-6)
        np.testing.assert_allclose(tape.gradient(y, xt).numpy(), np.array([1.0, 2.0, 3.0]) * 2.0**n)


def test_keras_export_and_save(tmp_path):
    keras = tf.keras
    inp = keras.Input((4,), name="pixels")
    out = keras.layers.Dense(3, activation="softmax", name="probabilities")(keras.layers.Dense(5)(inp))
    model = keras.Model(inp, out)
    x = np.random.default_rng(0).random((6, 4)).astype("float32")
    d0, d1 = model.layers[1], model.layers[2]
    h = x @ d0.kernel.numpy() + d0.bias.numpy()
    logits = h @ d1.kernel.numpy() + d1.bias.numpy()
    want = np.exp(logits - logits.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    model.export(str(tmp_path / "e"), verbose=False)
    del model, d0, d1
    gc.collect()
    loaded = tf.saved_model.load(str(tmp_path / "e"))
    np.testing.assert_allclose(loaded.serve(x).numpy(), want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(
        loaded.signatures["serving_default"](pixels=x)["output_0"].numpy(), want, rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(loaded.serve(x[:1]).numpy(), want[:1], rtol=1e-5, atol=1e-7)


def test_keras_cnn_default_signature(tmp_path):
    keras = tf.keras
    model = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Conv2D(2, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(3),
        ]
    )
    x = np.random.default_rng(1).random((4, 6, 6, 1)).astype("float32")
    want = model(x).numpy()  # recorded before saving; the loaded graph must reproduce it
    tf.saved_model.save(model, str(tmp_path / "cnn"))
    loaded = tf.saved_model.load(str(tmp_path / "cnn"))
    sig = loaded.signatures["serving_default"]
    (name,) = sig.structured_input_signature[1]
    (out_name,) = sig.structured_outputs
    np.testing.assert_allclose(sig(**{name: x})[out_name].numpy(), want, rtol=1e-5, atol=1e-6)


# -- bad files -------------------------------------------------------------------------------


def _mutated(tmp_path, edit):
    path = _saved(tmp_path)
    p = os.path.join(path, "saved_model.json")
    doc = json.load(open(p))
    edit(doc)
    with open(p, "w") as f:
        json.dump(doc, f)
    return path


def _graph(doc, k=0):
    return doc["functions"][k]["graph"]


def _node(doc, typ, k=0):
    return next(n for n in _graph(doc, k)["nodes"] if n["type"] == typ)


def _prepend_fills(graph, n):
    """``n`` unused 1 GB fills: each fits the per-tensor limit, together they do not."""
    graph["nodes"][:0] = [
        {
            "name": f"big{i}",
            "type": "full",
            "attrs": {"shape": [1 << 28], "value": 0.0, "dtype": "float32"},
            "inputs": [],
            "outputs": [{"shape": [1 << 28], "dtype": "float32"}],
            "subgraphs": [],
        }
        for i in range(n)
    ]


BAD = {
    "version": (lambda d: d.update(format_version=2), "format_version '2' is not supported"),
    "format": (lambda d: d.update(format="x"), "format is 'x'"),
    "extra key": (lambda d: d.update(code="import os"), "unknown key 'code'"),
    "cycle": (lambda d: d["objects"][0]["children"].append(["me", 0]), "a cycle"),
    "child id": (lambda d: d["objects"][0]["children"].append(["x", 999]), "objects[0].children"),
    "var shape": (
        lambda d: next(o for o in d["objects"] if o["kind"] == "variable").update(shape=[7]),
        "but variables.safetensors holds",
    ),
    "extra attr": (lambda d: _node(d, "matmul")["attrs"].update(precision="high"), "'precision' is not one of them"),
    "node type": (lambda d: _node(d, "matmul").update(type="exec"), "unknown node type 'exec'"),
    "op": (lambda d: _node(d, "binary").update(attrs={"op": "system"}), "unknown binary op 'system'"),
    "output shape": (
        lambda d: _node(d, "matmul")["outputs"][0].update(shape=[5, 3]),
        "declared outputs [[5, 3] float32] but its inputs and attrs give [[5, 2] float32]",
    ),
    "dtype": (lambda d: _node(d, "matmul")["outputs"][0].update(dtype="complex64"), "dtype 'complex64'"),
    "reference": (
        lambda d: _node(d, "matmul").update(inputs=["nowhere:0", "nowhere:1"]),
        "tensor 'nowhere:0' is not an output of an earlier node",
    ),
    "variable": (
        lambda d: _node(d, "read_variable")["attrs"].update(variable="../../etc/passwd"),
        "is not a variable of the file",
    ),
    "huge": (
        lambda d: _graph(d)["nodes"].insert(
            0,
            {
                "name": "big",
                "type": "full",
                "attrs": {"shape": [1 << 20, 1 << 20], "value": 0.0, "dtype": "float32"},
                "inputs": [],
                "outputs": [{"shape": [1 << 20, 1 << 20], "dtype": "float32"}],
                "subgraphs": [],
            },
        ),
        "over the 1073741824 byte limit",
    ),
    "many fills": (lambda d: _prepend_fills(_graph(d), 2), "need more than 1073741824 bytes in all"),
    "site": (lambda d: d["functions"][0]["batch"]["sites"].append([["nodes", 0, "name"], 1]), "batch.sites"),
    "deep": (lambda d: d["functions"][1].update(outputs=json.loads("[" * 10 + "]" * 10)), "not a structure"),
    "signature": (lambda d: d["signatures"]["serving_default"].update(function=99), "function 99"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_are_value_errors(tmp_path, case):
    edit, message = BAD[case]
    path = _mutated(tmp_path, edit)
    with pytest.raises(ValueError, match="invalid SavedModel") as e:
        tf.saved_model.load(path)
    assert message in str(e.value)


def test_nesting_bomb_and_truncated_weights(tmp_path):
    path = _saved(tmp_path)
    with open(os.path.join(path, "saved_model.json"), "w") as f:
        f.write(
            '{"format": "webtensor-saved-model", "format_version": 1, "objects": ' + "[" * 100000 + "]" * 100000 + "}"
        )
    with pytest.raises(ValueError, match="invalid SavedModel"):
        tf.saved_model.load(path)
    path = _saved(tmp_path / "b")
    w = os.path.join(path, "variables.safetensors")
    data = open(w, "rb").read()
    open(w, "wb").write(data[:-3])
    with pytest.raises(ValueError, match="variables.safetensors"):
        tf.saved_model.load(path)


def test_mutations_raise_only_value_error(tmp_path):
    """A bounded run of the `make fuzz` SavedModel target: every mutation loads (and its
    serving signature runs on zeros) or is a ValueError."""
    from mutate_saved_model import base_saved_model, load_and_call, saved_model_mutations, write

    base = base_saved_model(tmp_path)
    j = open(os.path.join(base, "saved_model.json"), "rb").read()
    w = open(os.path.join(base, "variables.safetensors"), "rb").read()
    load_and_call(base)
    outcomes = {"loaded": 0, "ValueError": 0}
    for mj, mw in saved_model_mutations(j, w, seed=5, count=300):
        write(base, mj, mw)
        try:
            load_and_call(base)
            outcomes["loaded"] += 1
        except ValueError:
            outcomes["ValueError"] += 1
    assert outcomes["ValueError"] > 200 and outcomes["loaded"] > 0, outcomes


def test_print_and_assert_round_trip(tmp_path, capsys):
    class P(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([2], tf.float32)])
        def f(self, x):
            tf.print("x is", x)
            tf.debugging.assert_positive(x)
            return x + 1.0

    tf.saved_model.save(P(), str(tmp_path / "p"))
    loaded = tf.saved_model.load(str(tmp_path / "p"))
    capsys.readouterr()
    np.testing.assert_array_equal(loaded.f(tf.constant([1.0, 2.0])).numpy(), [2.0, 3.0])
    assert capsys.readouterr().err == "x is [1 2]\n"
    with pytest.raises(tf.errors.InvalidArgumentError):
        loaded.f(tf.constant([1.0, -2.0]))


def test_inspect_shows_signatures(tmp_path, capsys):
    from webtensor.__main__ import main

    path = _saved(tmp_path)
    capsys.readouterr()
    assert main(["inspect", path]) == 0
    out = capsys.readouterr().out
    assert (
        "signature_def['serving_default']:\n  inputs:\n    x: float32 (None, 3)\n  outputs:\n"
        "    output_0: float32 (None, 2)" in out
    )
    assert "__call__(x): " in out and "any batch size" in out
    assert "  w: float32 (3, 2)" in out and "count: float32 () (not trainable)" in out
    with open(os.path.join(path, "saved_model.json"), "a") as f:
        f.write(" x")
    assert main(["inspect", path]) == 1
    assert "invalid SavedModel" in capsys.readouterr().err


def test_training_signature_updates_loaded_variables(tmp_path):
    """Forward, gradients and an SGD update traced as one signature (what the page runtime
    runs to fine-tune): each call equals the hand-derived step, at any batch size."""

    class Trainer(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(np.ones((3, 1), "float32"), name="w")
            self.b = tf.Variable([0.0], name="b")
            self.opt = tf.keras.optimizers.SGD(0.1)

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, 3], tf.float32, name="x"),
                tf.TensorSpec([None, 1], tf.float32, name="y"),
            ]
        )
        def train(self, x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(tf.matmul(x, self.w) + self.b - y))
            grads = tape.gradient(loss, [self.w, self.b])
            self.opt.apply_gradients(zip(grads, [self.w, self.b]))
            return {"loss": loss}

    t = Trainer()
    tf.saved_model.save(t, str(tmp_path / "t"), signatures={"train": t.train})
    del t, Trainer
    gc.collect()
    loaded = tf.saved_model.load(str(tmp_path / "t"))
    rng = np.random.default_rng(2)
    w, b = np.ones((3, 1)), np.zeros(1)
    for n in (4, 6, 1, 4):
        x, y = rng.random((n, 3)).astype("float32"), rng.random((n, 1)).astype("float32")
        out = loaded.signatures["train"](x=x, y=y)
        err = x @ w + b - y
        np.testing.assert_allclose(float(out["loss"]), (err**2).mean(), rtol=1e-5)
        w, b = w - 0.1 * 2 * x.T @ err / n, b - 0.1 * 2 * err.mean(0)
        np.testing.assert_allclose(loaded.w.numpy(), w, rtol=1e-5)
        np.testing.assert_allclose(loaded.b.numpy(), b, rtol=1e-5, atol=1e-7)


@pytest.mark.native
def test_load_from_a_url(tmp_path):
    """What the page does: the two files fetched over HTTP (here from a local server)."""
    import functools
    import http.server
    import threading

    path = _saved(tmp_path)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/{os.path.basename(path)}/"
        loaded = tf.saved_model.load(url)
        np.testing.assert_allclose(loaded(tf.constant(X)).numpy(), _reference(X), rtol=1e-6)
        with pytest.raises(OSError):
            tf.saved_model.load(f"http://127.0.0.1:{srv.server_address[1]}/nothing-here")
    finally:
        srv.shutdown()
        srv.server_close()


def test_only_trackable_objects_are_saved(tmp_path):
    with pytest.raises(ValueError, match="expected a trackable object"):
        tf.saved_model.save(tf.function(lambda x: x), str(tmp_path / "f"))
    assert not os.path.exists(tmp_path / "f")


def test_threads_calling_new_batch_sizes_at_once(tmp_path):
    """Server threads: each new batch size rebuilds the graph (one at a time), results stay right."""
    from concurrent.futures import ThreadPoolExecutor

    loaded = tf.saved_model.load(_saved(tmp_path))
    xs = [np.tile(X, (4, 1))[:n] for n in range(1, 17)]
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda x: loaded(x).numpy(), xs))
    for x, out in zip(xs, outs):
        np.testing.assert_allclose(out, _reference(x), rtol=1e-6)


def _dense_grad_w(x, w, b):
    """d/dw of sum(relu(x w + b) * 2) by hand."""
    mask = (x @ w + b > 0).astype("float32")
    return x.T @ (mask * 2.0)


def test_gradients_through_a_loaded_function(tmp_path):
    """TF's guide: "we can backprop through imported functions" (fine-tuning)."""
    loaded = tf.saved_model.load(_saved(tmp_path))
    w = loaded.w
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(loaded(tf.constant(X)))
    (g,) = tape.gradient(loss, [w])
    np.testing.assert_allclose(float(loss), _reference(X).sum(), rtol=1e-6)
    np.testing.assert_allclose(g.numpy(), _dense_grad_w(X, w.numpy(), np.array([0.5, -1.0], "float32")), rtol=1e-6)
    x = tf.constant(X[:2])
    with tf.GradientTape() as tape:  # and with respect to an input, at another batch size
        tape.watch(x)
        y = tf.reduce_sum(loaded(x))
    mask = (X[:2] @ w.numpy() + np.array([0.5, -1.0]) > 0).astype("float32")
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), (mask * 2.0) @ w.numpy().T, rtol=1e-6)


def test_a_tf_function_calling_a_loaded_function(tmp_path):
    """Traced into the caller's graph with its variables by reference (not frozen), and a
    tape inside the caller differentiates it: a fine-tuning step."""
    loaded = tf.saved_model.load(_saved(tmp_path))
    opt = tf.keras.optimizers.SGD(0.01)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(loaded(x))
        grads = tape.gradient(loss, [loaded.w])
        opt.apply_gradients(zip(grads, [loaded.w]))
        return loss

    b = np.array([0.5, -1.0], "float32")
    w = loaded.w.numpy().copy()
    for _ in range(3):
        loss = float(step(tf.constant(X)))
        np.testing.assert_allclose(loss, (np.maximum(X @ w + b, 0) * 2).sum(), rtol=1e-5)
        w = w - 0.01 * _dense_grad_w(X, w, b)
        np.testing.assert_allclose(loaded.w.numpy(), w, rtol=1e-5)


def test_differentiable_replay_equals_the_bound_graph(tmp_path):
    """Each primitive replayed as its core op (under a tape) gives what the bound graph gives."""
    rng = np.random.default_rng(4)

    class Many(tf.Module):
        def __init__(self):
            super().__init__()
            self.k = tf.Variable(rng.standard_normal((3, 3, 2, 4)).astype("float32"))

        @tf.function(input_signature=[tf.TensorSpec([2, 6, 6, 2], tf.float32), tf.TensorSpec([3], tf.int32)])
        def f(self, x, idx):
            h = tf.nn.conv2d(x, self.k, 2, "SAME")
            p = tf.nn.avg_pool2d(x, 3, 2, "SAME")
            m = tf.nn.max_pool2d(h, 2, 1, "VALID")
            flat = tf.reshape(h, [2, -1])
            g = tf.gather(flat, idx, axis=1)
            r = flat[:, ::-3]
            c = tf.concat([g, r, tf.pad(g, [[0, 0], [1, 2]], constant_values=0.5)], axis=1)
            s = tf.math.cumsum(c, axis=1, exclusive=True, reverse=True)
            w = tf.where(s > 0.0, s, tf.cast(tf.argmax(c, axis=1)[:, None], tf.float32))
            t = tf.transpose(tf.broadcast_to(tf.reduce_max(w, axis=1, keepdims=True), [2, 3]))
            return [tf.nn.softmax(w), t, tf.reduce_sum(p) + tf.reduce_mean(m), tf.math.sqrt(tf.abs(s) + 1.0)]

    tf.saved_model.save(Many(), str(tmp_path / "many"))
    loaded = tf.saved_model.load(str(tmp_path / "many"))
    x = tf.constant(rng.standard_normal((2, 6, 6, 2)).astype("float32"))
    idx = tf.constant([0, 5, 2])
    plain = loaded.f(x, idx)
    with tf.GradientTape() as tape:
        tape.watch(x)
        taped = loaded.f(x, idx)
        total = sum(tf.reduce_sum(v) for v in taped)
    for a, b in zip(plain, taped):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
    assert tape.gradient(total, x) is not None


def test_the_guides_custom_module(tmp_path):
    """TF's "Using the SavedModel format" guide, its custom-module part, step by step."""

    class CustomModule(tf.Module):
        def __init__(self):
            super().__init__()
            self.v = tf.Variable(1.0)

        @tf.function
        def __call__(self, x):
            return x * self.v

        @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
        def mutate(self, new_v):
            self.v.assign(new_v)

    module = CustomModule()
    module(tf.constant(0.0))
    tf.saved_model.save(module, str(tmp_path / "no_signatures"))
    imported = tf.saved_model.load(str(tmp_path / "no_signatures"))
    assert list(imported.signatures) == []  # mutate returns nothing: not a default signature (TF)
    assert imported(tf.constant(3.0)).numpy() == 3
    imported.mutate(tf.constant(2.0))
    assert imported(tf.constant(3.0)).numpy() == 6

    optimizer = tf.keras.optimizers.SGD(0.05)
    v = 2.0
    for _ in range(3):
        with tf.GradientTape() as tape:
            loss = (10.0 - imported(tf.constant(2.0))) ** 2
        variables = tape.watched_variables()
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        assert float(loss) == pytest.approx((10 - 2 * v) ** 2, rel=1e-6)
        v -= 0.05 * (-4 * (10 - 2 * v))  # d/dv (10 - 2v)^2
        assert float(imported.v.numpy()) == pytest.approx(v, rel=1e-6)

    call = module.__call__.get_concrete_function(tf.TensorSpec(None, tf.float32))
    tf.saved_model.save(module, str(tmp_path / "signature"), signatures=call)
    with_signature = tf.saved_model.load(str(tmp_path / "signature"))
    assert list(with_signature.signatures) == ["serving_default"]
    assert float(with_signature.signatures["serving_default"](x=tf.constant(3.0))["output_0"]) == 3.0

    class CustomModuleWithOutputName(tf.Module):
        def __init__(self):
            super().__init__()
            self.v = tf.Variable(1.0)

        @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
        def __call__(self, x):
            return {"custom_output_name": x * self.v}

    m = CustomModuleWithOutputName()
    tf.saved_model.save(
        m,
        str(tmp_path / "named"),
        signatures={"serving_default": m.__call__.get_concrete_function(tf.TensorSpec(None, tf.float32))},
    )
    named = tf.saved_model.load(str(tmp_path / "named"))
    assert list(named.signatures["serving_default"].structured_outputs) == ["custom_output_name"]


def test_a_train_step_with_a_keras_optimizer_saves_and_continues(tmp_path):
    """The optimizer's slots are its children in the object graph (TF tracks them), so a
    module holding a model, an Adam and a traced train step saves without listing the slot
    variables by hand, and the loaded step continues the original's losses exactly."""

    class Trainer(tf.Module):
        def __init__(self):
            super().__init__()
            self.model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
            self.opt = tf.keras.optimizers.Adam(0.1)

        @tf.function(input_signature=[tf.TensorSpec([None, 3]), tf.TensorSpec([None, 2])])
        def train(self, x, y):
            with tf.GradientTape() as t:
                loss = tf.reduce_mean((self.model(x) - y) ** 2)
            grads = t.gradient(loss, self.model.trainable_variables)
            self.opt.apply_gradients(zip(grads, self.model.trainable_variables))
            return loss

    m = Trainer()
    x, y = tf.ones([4, 3]), tf.zeros([4, 2])
    m.train(x, y)
    tf.saved_model.save(m, str(tmp_path / "t"))
    loaded = tf.saved_model.load(str(tmp_path / "t"))
    got = [float(loaded.train(x, y)) for _ in range(3)]
    want = [float(m.train(x, y)) for _ in range(3)]
    assert got == want and len(set(got)) == 3  # the loaded step updates its variables


def test_unary_dtype_rules_match_eager(tmp_path):
    """A saved graph may apply what eager ops allow to integers (reciprocal, round: TF's
    integer kernels), and nothing more: exp on int32 is refused where it is declared."""

    class M(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([3], tf.int32)])
        def f(self, k):
            return tf.math.round(k) + tf.math.reciprocal(k)

    path = str(tmp_path / "ints")
    tf.saved_model.save(M(), path)
    got = tf.saved_model.load(path).f(tf.constant([1, 2, -4]))
    np.testing.assert_array_equal(got.numpy(), [1 + 1, 2 + 0, -4 + 0])  # 1/2 and 1/-4 truncate to 0

    p = os.path.join(path, "saved_model.json")
    doc = json.load(open(p))
    next(n for n in _graph(doc)["nodes"] if n["type"] == "unary")["attrs"]["op"] = "exp"
    json.dump(doc, open(p, "w"))
    with pytest.raises(ValueError, match="unary exp needs a float input, got int32"):
        tf.saved_model.load(path)

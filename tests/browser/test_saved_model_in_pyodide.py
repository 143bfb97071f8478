"""A SavedModel saved natively, loaded with ``tf.saved_model.load`` by webtensor in Pyodide in
the page (fetched by URL), gives Python's outputs: the serving signature of a Keras MLP and a
tf.Module's function with an int32 input, on the wasm backend."""

import pytest

np = pytest.importorskip("numpy")
import webtensor as tf  # noqa: E402

from conftest import boot, run_python, serve  # noqa: E402

pytestmark = pytest.mark.numpy


class Scaler(tf.Module):
    def __init__(self):
        super().__init__()
        self.w = tf.Variable([[0.5, -1.0], [2.0, 0.25]])

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32), tf.TensorSpec([], tf.int32)])
    def f(self, x, k):
        return {"y": tf.matmul(x, self.w) * tf.cast(k, tf.float32)}


@pytest.fixture(scope="module")
def models(tmp_path_factory, site_dir, test_files):
    d = tmp_path_factory.mktemp("sm-pyodide")
    L = tf.keras.layers
    tf.random.set_seed(7)
    mlp = tf.keras.Sequential([L.Input((5,)), L.Dense(6, activation="tanh"), L.Dense(3, activation="softmax")])
    tf.saved_model.save(mlp, str(d / "mlp"))
    s = Scaler()
    tf.saved_model.save(s, str(d / "scaler"), signatures={"serving_default": s.f.get_concrete_function()})
    x = np.random.RandomState(4).randn(2, 5).astype("float32")
    xs = np.array([[1.0, 2.0], [-3.0, 0.5]], "float32")
    want = {"mlp": mlp(x).numpy(), "scaler": s.f(xs, 3)["y"].numpy()}
    srv = serve.serve({"/": site_dir, "/_test/": test_files, "/sm/": d})
    yield srv, x, xs, want
    srv.stop()


CODE = """
import webtensor as tf
m = tf.saved_model.load("/sm/mlp/")
sig = m.signatures["serving_default"]
(name,) = sig.structured_input_signature[1]
(mlp,) = sig(**{name: tf.constant(X, tf.float32)}).values()
s = tf.saved_model.load("/sm/scaler")
[mlp.numpy().tolist(), s.f(tf.constant(XS, tf.float32), tf.constant(3))["y"].numpy().tolist(),
 s.w.numpy().tolist()]
"""


def test_saved_model_loads_in_pyodide_with_python_outputs(browser, models):
    srv, x, xs, want = models
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(f"{srv.url}/_test/blank.html")
        booted = boot(page, backend="wasm")
        assert "error" not in booted, booted
        got = run_python(page, CODE.replace("XS", repr(xs.tolist())).replace("X", repr(x.tolist())))
    finally:
        ctx.close()
    np.testing.assert_allclose(np.array(got[0], "float32"), want["mlp"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.array(got[1], "float32"), want["scaler"], rtol=1e-6)
    np.testing.assert_array_equal(np.array(got[2], "float32"), [[0.5, -1.0], [2.0, 0.25]])

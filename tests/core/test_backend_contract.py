"""The backend contract of backends/base.py: the optional kernels a backend names exist,
and the one table of bool-valued ops is what every layer returns."""

import array
import math

import pytest

import webtensor as tf
from webtensor import dtypes as D
from webtensor import backends
from webtensor.backends import base

_BACKENDS = ("numpy", "wasm", "gpu")


def _open(name):
    try:
        return backends.get(name)
    except Exception as e:  # no numpy / wasmtime / adapter here
        pytest.skip(f"no {name} backend here: {e}")


@pytest.mark.parametrize("name", _BACKENDS)
def test_fused_names_are_declared_and_implemented(name):
    be = _open(name)
    known = set(base.FUSED_KERNELS) | set(base.OPTIONAL_KERNELS)
    assert set(be.fused) <= known, f"{name} names undeclared kernels {set(be.fused) - known}"
    for k in be.fused & set(base.FUSED_KERNELS):
        for method in base.FUSED_KERNELS[k]:
            assert callable(getattr(be, method, None)), f"{name} lists {k!r} but has no {method}()"


def test_every_declared_method_is_in_the_protocol():
    for methods in base.FUSED_KERNELS.values():
        for m in methods:
            assert getattr(base.FusedKernels, m).__doc__, m


@pytest.mark.parametrize("name", _BACKENDS)
def test_a_graph_binding_falls_back_for_nodes_it_does_not_bind(name):
    """``GraphBinding.bind_static`` answers None for a node it has no binding for, so the
    graph binds the generic method; a backend without it binds every node generically."""
    be = _open(name)
    if not hasattr(be, "bind_static"):
        pytest.skip(f"{name} binds every node generically")
    assert base.GraphBinding.bind_static.__doc__
    assert be.bind_static("no_such_node", {}, [((2,), D.float32)], [((2,), D.float32)]) is None


def test_bool_table_partitions_the_op_lists():
    assert base.BOOL_OPS == base.BOOL_UNARY | base.COMPARISONS
    assert base.BOOL_UNARY == {"logical_not", "isnan", "isfinite"}
    assert base.COMPARISONS == {
        "equal",
        "not_equal",
        "less",
        "less_equal",
        "greater",
        "greater_equal",
        "logical_and",
        "logical_or",
    }
    assert not set(base.UNARY_OPS) & set(base.BINARY_OPS)


_UNARY_PUBLIC = {
    "logical_not": tf.math.logical_not,
    "isnan": tf.math.is_nan,
    "isfinite": tf.math.is_finite,
    "neg": tf.math.negative,
    "floor": tf.math.floor,
}
_BINARY_PUBLIC = {
    "equal": tf.math.equal,
    "not_equal": tf.math.not_equal,
    "less": tf.math.less,
    "less_equal": tf.math.less_equal,
    "greater": tf.math.greater,
    "greater_equal": tf.math.greater_equal,
    "logical_and": tf.math.logical_and,
    "logical_or": tf.math.logical_or,
    "add": tf.math.add,
    "maximum": tf.math.maximum,
}


@pytest.mark.parametrize("op", sorted(_UNARY_PUBLIC))
def test_unary_result_dtype_follows_the_table(op):
    x = tf.constant([True, False]) if op == "logical_not" else tf.constant([1.5, -2.0])
    y = _UNARY_PUBLIC[op](x)
    assert (y.dtype == tf.bool) == (op in base.BOOL_OPS)
    g = tf.function(_UNARY_PUBLIC[op])(x)  # the tracer's rule
    assert g.dtype == y.dtype


@pytest.mark.parametrize("op", sorted(_BINARY_PUBLIC))
def test_binary_result_dtype_follows_the_table(op):
    if op.startswith("logical"):
        x, y = tf.constant([True, False]), tf.constant([True, True])
    else:
        x, y = tf.constant([1.0, 2.0]), tf.constant([2.0, 2.0])
    z = _BINARY_PUBLIC[op](x, y)
    assert (z.dtype == tf.bool) == (op in base.BOOL_OPS)
    assert tf.function(_BINARY_PUBLIC[op])(x, y).dtype == z.dtype


_ACT = {
    "linear": lambda v: v,
    "relu": lambda v: max(v, 0.0),
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "tanh": math.tanh,
}


@pytest.mark.parametrize("name", _BACKENDS)
@pytest.mark.parametrize("act", base.BIAS_ACTIVATIONS)
def test_bias_act_follows_the_activation_table(name, act):
    be = _open(name)
    if "bias_act" not in be.fused:
        pytest.skip(f"{name} composes bias_act")
    xs, bs = [-2.0, -0.5, 0.0, 0.25, 1.5, 3.0], [0.5, -1.0, 0.125]
    x = be.write(memoryview(array.array("f", xs)).cast("B"), (2, 3), D.float32)
    b = be.write(memoryview(array.array("f", bs)).cast("B"), (3,), D.float32)
    got = array.array("f", bytes(be.read(be.bias_act(x, b, act))))
    want = [_ACT[act](v + bs[i % 3]) for i, v in enumerate(xs)]
    assert all(abs(g - w) <= 1e-6 * max(1.0, abs(w)) for g, w in zip(got, want)), (list(got), want)

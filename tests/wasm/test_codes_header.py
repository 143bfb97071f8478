"""kernels/codes.h is generated from the Python tables (build/gen_codes.py); the committed
copy must be current, and a Python code without a C kernel must fail the build."""

import importlib.util
import os

import pytest

pytestmark = pytest.mark.native

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GEN = os.path.join(ROOT, "build", "gen_codes.py")


def _gen():
    if not os.path.isfile(GEN):
        pytest.skip("not a source checkout")
    spec = importlib.util.spec_from_file_location("gen_codes", GEN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_header_is_current():
    g = _gen()
    with open(os.path.join(ROOT, "kernels", "codes.h"), encoding="utf-8") as f:
        assert f.read() == g.header()
    assert g.missing_kernels() == []


def test_codes_are_the_python_indices():
    g = _gen()
    from webtensor import dtypes as D
    from webtensor.backends import base

    text = g.header()
    assert "enum { DT_F16, DT_F32, DT_F64, DT_I32, DT_I64, DT_U8, DT_U32, DT_BOOL, NDT };" in text
    assert [d.name for d in D.ALL][:2] == ["float16", "float32"]
    unary = text[text.index("enum { U_") : text.index("NUNARY")].replace("\n", " ")
    names = [n.strip() for n in unary[len("enum {") :].split(",") if n.strip()]
    assert names == [f"U_{op.upper()}" for op in base.UNARY_OPS]


def test_a_python_op_without_a_kernel_fails(monkeypatch):
    g = _gen()
    monkeypatch.setattr(g.base, "UNARY_OPS", g.base.UNARY_OPS + ("softplus",))
    monkeypatch.setattr(g.base, "BIAS_ACTIVATIONS", g.base.BIAS_ACTIVATIONS + ("gelu",))
    gaps = g.missing_kernels()
    assert any("'softplus'" in s and "elementwise.c" in s for s in gaps), gaps
    assert any("'gelu'" in s and "fused.c" in s for s in gaps), gaps
    assert g.main(["--check"]) == 1


def _js_list(text: str, name: str) -> list:
    import re

    m = re.search(rf"(?:export )?const {name} = (?:new Set\()?\[([^\]]*)\]", text)
    assert m, name
    return re.findall(r'"(\w+)"', m.group(1))


def test_the_js_runtime_uses_the_same_codes():
    # web/runtime calls the same .wasm with these indices: a copy that drifts breaks embedding
    path = os.path.join(ROOT, "web", "runtime", "graph.mjs")
    if not os.path.isfile(path):
        pytest.skip("no web/runtime here")
    from webtensor.backends import base

    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert _js_list(text, "UNARY_OPS") == list(base.UNARY_OPS)
    assert _js_list(text, "BINARY_OPS") == list(base.BINARY_OPS)
    assert _js_list(text, "REDUCE_OPS") == list(base.REDUCE_OPS)
    assert set(base.BINARY_OPS[9:]) == base.COMPARISONS  # the runtime's BINARY_OPS.slice(9)
    assert set(_js_list(text, "BOOL_UNARY")) == base.BOOL_UNARY
    assert set(_js_list(text, "FLOAT_ONLY")) == base.FLOAT_UNARY | {"div"}  # div: floats only (base.BINARY_OPS)

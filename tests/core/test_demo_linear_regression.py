"""The `make demo` fallback: linear regression from scratch recovers y = 3x + 2."""

import importlib.util
import os

import pytest


@pytest.mark.native
def test_linear_regression_demo_recovers_w_and_b(capsys):
    path = os.path.join(os.path.dirname(__file__), "..", "..", "demos", "linear_regression.py")
    spec = importlib.util.spec_from_file_location("linear_regression", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    w, b = mod.fit(steps=150)
    assert abs(w - 3.0) < 0.02 and abs(b - 2.0) < 0.02
    assert "loss" in capsys.readouterr().out

"""The regression lesson keeps its fit when a point is added (issue 18: it reset to 0)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from util import assert_close

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "demos"), str(ROOT / "web" / "app" / "py")]

import webapp  # noqa: E402

pytestmark = pytest.mark.native


def _least_squares(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    w = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return w, my - w * mx


def test_set_points_keeps_the_line_and_refits_from_it():
    xs = [-1.0, -0.5, 0.0, 0.5, 1.0]
    ys = [3 * x + 2 for x in xs]
    r = webapp.Regression(xs, ys, learning_rate=0.2)
    before = r.run(300)
    xs2, ys2 = xs + [0.8], ys + [0.0]  # a point well below the line
    after = r.set_points(xs2, ys2)
    assert after["step"] == 300
    assert (after["W"], after["b"]) == (before["W"], before["b"])
    # the loss is the old line's on the new points, by hand
    want = sum((before["W"] * x + before["b"] - y) ** 2 for x, y in zip(xs2, ys2)) / len(xs2)
    assert after["loss"] == pytest.approx(want, rel=1e-5)
    out = r.run(600)
    assert out["step"] == 900
    assert_close([out["W"], out["b"]], list(_least_squares(xs2, ys2)), rtol=1e-4, atol=1e-5)


def test_set_points_needs_matching_points():
    r = webapp.Regression([0.0, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="same number"):
        r.set_points([1.0, 2.0], [1.0])

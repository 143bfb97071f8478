"""model.summary(expand_nested=True) and keras.utils.plot_model / model_to_dot (DOT and SVG text)."""

import xml.etree.ElementTree as ET

import pytest

import webtensor as tf

K = tf.keras
L = K.layers


def _model():
    inner = K.Sequential([K.Input((4,)), L.Dense(3, name="d1"), L.Dense(2, name="d2")], name="inner")
    a = K.Input((4,), name="x")
    b = L.Dense(2, name="side")(a)
    out = L.Add(name="add")([inner(a), b])
    return K.Model(a, out, name="net")


def test_summary_expand_nested():
    lines = []
    _model().summary(expand_nested=True, print_fn=lines.append)
    text = "\n".join(lines)
    assert "└ d1 (Dense)" in text and "└ d2 (Dense)" in text  # Keras 3's prefix for nested layers
    assert text.index("inner (Sequential)") < text.index("└ d1") < text.index("└ d2") < text.index("add (Add)")
    plain = []
    _model().summary(print_fn=plain.append)
    assert "└ d1" not in "\n".join(plain)


def test_model_to_dot_nodes_and_edges():
    dot = K.utils.model_to_dot(_model(), show_shapes=True)
    assert dot.startswith('digraph "net"')
    for edge in ('"x" -> "inner"', '"x" -> "side"', '"inner" -> "add"', '"side" -> "add"'):
        assert edge in dot
    assert r"Output shape: (None, 2)" in dot
    nested = K.utils.model_to_dot(_model(), expand_nested=True)
    assert '"x" -> "inner/d1"' in nested and '"inner/d1" -> "inner/d2"' in nested and '"inner/d2" -> "add"' in nested


def test_plot_model_files(tmp_path):
    m = _model()
    svg = K.utils.plot_model(m, to_file=str(tmp_path / "m.svg"), show_shapes=True)
    root = ET.fromstring(svg)  # well-formed XML
    groups = [g for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert len(groups) == 4
    assert len(list(root.iter("{http://www.w3.org/2000/svg}line"))) == 4
    assert open(tmp_path / "m.svg").read() == svg
    K.utils.plot_model(m, to_file=str(tmp_path / "m.dot"), rankdir="LR")
    assert "rankdir=LR" in open(tmp_path / "m.dot").read()
    with pytest.raises(ValueError, match="graphviz.*svg"):
        K.utils.plot_model(m, to_file=str(tmp_path / "m.png"))
    with pytest.raises(ValueError, match="not yet been built"):
        K.utils.plot_model(K.Sequential([L.Dense(2)]), to_file=str(tmp_path / "u.dot"))

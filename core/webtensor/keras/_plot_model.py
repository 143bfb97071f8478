"""``keras.utils.plot_model`` / ``model_to_dot`` without graphviz: the layer graph as DOT text,
or as an SVG drawn here (layers in rows by depth, arrows between them). Raster formats need
graphviz, which is not used: ``to_file`` must end in ``.dot``/``.gv`` or ``.svg``."""

from __future__ import annotations

import html
import os


def _graph(model, expand_nested: bool, prefix: str = "") -> tuple:
    """``(nodes, edges)``: nodes are ``(id, layer)``; edges ``(from_id, to_id)``."""
    from .models.functional import Functional
    from .models.sequential import Sequential

    nodes, edges = [], []
    layers = list(model.layers)
    ids = {id(layer): f"{prefix}{layer.name}" for layer in layers}
    if isinstance(model, Functional):
        for layer in layers:
            for node in layer._inbound_nodes:
                for t in node.input_tensors:
                    src = t._keras_history[0] if t._keras_history else None
                    if src is not None and id(src) in ids:
                        edges.append((ids[id(src)], ids[id(layer)]))
    elif isinstance(model, Sequential):
        edges = [(ids[id(a)], ids[id(b)]) for a, b in zip(layers, layers[1:])]
    for layer in layers:
        nid = ids[id(layer)]
        if expand_nested and getattr(layer, "layers", None):
            sub_nodes, sub_edges = _graph(layer, True, nid + "/")
            nodes += sub_nodes
            edges += sub_edges
            first, last = sub_nodes[0][0], sub_nodes[-1][0]
            edges = [(last if a == nid else a, first if b == nid else b) for a, b in edges]
        else:
            nodes.append((nid, layer))
    edges = list(dict.fromkeys(edges))
    return nodes, edges


def _shape(layer, which: str) -> str:
    try:
        node = layer._inbound_nodes[-1]
        tensors = node.input_tensors if which == "input" else node.output_tensors
        shapes = [tuple(t.shape) for t in tensors]
    except (AttributeError, IndexError):
        return "?"
    fmt = [
        "(" + ", ".join("None" if d is None else str(d) for d in s) + ("," if len(s) == 1 else "") + ")" for s in shapes
    ]
    return fmt[0] if len(fmt) == 1 else "[" + ", ".join(fmt) + "]"


def _label_lines(layer, show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable) -> list:
    cls = type(layer).__name__
    lines = [f"{layer.name} ({cls})" if show_layer_names else cls]
    if show_layer_activations and getattr(layer, "activation", None) is not None:
        act = getattr(layer.activation, "__name__", str(layer.activation))
        lines.append(f"Activation: {act}")
    if show_dtype:
        lines.append(f"dtype: {layer.dtype.name}")
    if show_shapes:
        lines.append(f"Input shape: {_shape(layer, 'input')}")
        lines.append(f"Output shape: {_shape(layer, 'output')}")
    if show_trainable:
        lines.append(f"Trainable: {'Y' if layer.trainable else 'N'}")
    return lines


def model_to_dot(
    model,
    show_shapes=False,
    show_dtype=False,
    show_layer_names=True,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    subgraph=False,
    show_layer_activations=False,
    show_trainable=False,
    **kwargs,
) -> str:
    """The model's layer graph as Graphviz DOT text."""
    if not getattr(model, "built", False):
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` or by "
            "calling the model on a batch of data."
        )
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"plot_model: rankdir must be 'TB' or 'LR', got {rankdir!r}")
    nodes, edges = _graph(model, expand_nested)
    out = [
        f'digraph "{model.name}" {{',
        f"  graph [rankdir={rankdir}, dpi={int(dpi)}];",
        '  node [shape=record, fontname="Helvetica"];',
    ]
    for nid, layer in nodes:
        text = r"\n".join(
            _escape(s)
            for s in _label_lines(
                layer, show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable
            )
        )
        out.append(f'  "{nid}" [label="{text}"];')
    out += [f'  "{a}" -> "{b}";' for a, b in edges]
    out.append("}")
    return "\n".join(out) + "\n"


def _escape(s: str) -> str:
    return (
        s.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("{", "\\{")
        .replace("}", "\\}")
        .replace("<", "\\<")
        .replace(">", "\\>")
        .replace("|", "\\|")
    )


def model_to_svg(
    model,
    show_shapes=False,
    show_dtype=False,
    show_layer_names=True,
    rankdir="TB",
    expand_nested=False,
    show_layer_activations=False,
    show_trainable=False,
) -> str:
    """An SVG drawing of the layer graph: one row (TB) or column (LR) per depth from the inputs."""
    nodes, edges = _graph(model, expand_nested)
    labels = {
        nid: _label_lines(layer, show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable)
        for nid, layer in nodes
    }
    depth = {nid: 0 for nid, _ in nodes}
    for _ in range(len(nodes)):
        for a, b in edges:
            if a in depth and b in depth:
                depth[b] = max(depth[b], depth[a] + 1)
    levels: dict = {}
    for nid, _ in nodes:
        levels.setdefault(depth[nid], []).append(nid)
    char_w, line_h, pad, gap = 7.0, 16.0, 10.0, 40.0
    size = {n: (max(len(s) for s in labels[n]) * char_w + 2 * pad, len(labels[n]) * line_h + pad) for n in labels}
    pos, offset = {}, 20.0
    for d in sorted(levels):
        row = levels[d]
        thick = max(size[n][1] if rankdir == "TB" else size[n][0] for n in row)
        along = 20.0
        for n in row:
            w, h = size[n]
            pos[n] = (along, offset) if rankdir == "TB" else (offset, along)
            along += (w if rankdir == "TB" else h) + gap
        offset += thick + gap
    width = max(x + size[n][0] for n, (x, _) in pos.items()) + 20
    height = max(y + size[n][1] for n, (_, y) in pos.items()) + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'font-family="Helvetica, Arial, sans-serif" font-size="12">',
        '<defs><marker id="arrow" markerWidth="10" markerHeight="7" refX="10" refY="3.5" orient="auto">'
        '<polygon points="0 0, 10 3.5, 0 7"/></marker></defs>',
    ]
    for a, b in edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        (wa, ha), (wb, _) = size[a], size[b]
        if rankdir == "TB":
            x1, y1, x2, y2 = xa + wa / 2, ya + ha, xb + wb / 2, yb
        else:
            x1, y1, x2, y2 = xa + wa, ya + ha / 2, xb, yb + size[b][1] / 2
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="black" marker-end="url(#arrow)"/>'
        )
    for nid, _ in nodes:
        x, y = pos[nid]
        w, h = size[nid]
        parts.append(
            f'<g class="layer" id="{html.escape(nid)}"><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
            f'height="{h:.1f}" rx="4" fill="#eef3fb" stroke="#36c"/>'
        )
        for k, text in enumerate(labels[nid]):
            parts.append(
                f'<text x="{x + pad:.1f}" y="{y + pad + (k + 0.75) * line_h - 4:.1f}">{html.escape(text)}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def plot_model(
    model,
    to_file="model.png",
    show_shapes=False,
    show_dtype=False,
    show_layer_names=True,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    show_layer_activations=False,
    show_trainable=False,
    **kwargs,
) -> str:
    """Write the layer graph to ``to_file`` (``.dot``/``.gv``: DOT text; ``.svg``: a drawing) and
    return that text. Other extensions would need graphviz: an error says which to use."""
    ext = os.path.splitext(str(to_file))[1].lower()
    opts = dict(
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        rankdir=rankdir,
        expand_nested=expand_nested,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
    )
    if ext in (".dot", ".gv"):
        text = model_to_dot(model, dpi=dpi, **opts)
    elif ext == ".svg":
        model_to_dot(model, **opts)  # the same checks (built, rankdir)
        text = model_to_svg(model, **opts)
    else:
        raise ValueError(
            f"plot_model: cannot write {ext or 'an extension-less'} file {to_file!r}: rendering "
            f"images needs graphviz, which webtensor does not use. Use a '.svg' file (drawn here) or "
            f"'.dot' (Graphviz text: `dot -Tpng model.dot -o model.png`)."
        )
    with open(to_file, "w", encoding="utf-8") as f:
        f.write(text)
    return text

"""``Model.summary()``: Keras 3's table (layer, output shape, params; "Connected to" for graphs)."""
from __future__ import annotations



def _fmt_shape(s) -> str:
    if s is None:
        return "?"
    if isinstance(s, list):
        return ", ".join(_fmt_shape(x) for x in s)
    return "(" + ", ".join("None" if d is None else str(d) for d in s) + ("," if len(s) == 1 else "") + ")"


def _size_str(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024


def _count(weights) -> tuple:
    n = b = 0
    for w in weights:
        k = 1
        for d in w.shape:
            k *= d
        n += k
        b += k * w.dtype.size
    return n, b


def _wrap(text: str, width: int) -> list:
    """Split a cell on spaces/commas to fit ``width`` (Keras's rich tables wrap the same way)."""
    lines, cur = [], ""
    for word in text.replace(", ", ",\x00").replace(" (", "\x00(").split("\x00"):
        if cur and len(cur) + len(word) + (0 if cur.endswith(",") or word.startswith("(") else 1) > width:
            lines.append(cur.rstrip())
            cur = word
        else:
            sep = " " if cur and not cur.endswith(" ") else ""
            cur = cur + sep + word if cur else word
    if cur:
        lines.append(cur)
    return lines or [""]


def _rows(model):
    from .functional import Functional
    from .sequential import Sequential

    rows = []
    if isinstance(model, Functional):
        for layer in model.layers:
            shapes = [t.shape for n in layer._inbound_nodes if n.operation is layer for t in n.output_tensors
                      if _in_model(model, layer, n)]
            out = shapes[0] if len(shapes) == 1 else (shapes[0] if shapes else None)
            parents = []
            for i, node in enumerate(layer._inbound_nodes):
                if not _in_model(model, layer, node):
                    continue
                for t in node.input_tensors:
                    op, ni, ti = t._keras_history
                    parents.append(f"{op.name}[{ni}][{ti}]")
            rows.append((layer, out, ", ".join(parents) if parents else "-"))
        return rows, True
    if isinstance(model, Sequential):
        for layer in model.layers:
            rows.append((layer, model._output_shapes.get(id(layer)), None))
        return rows, False
    for layer in model.layers:
        out = None
        if layer._inbound_nodes:
            out = layer._inbound_nodes[-1].output_tensors[0].shape if layer._inbound_nodes[-1].output_tensors else None
        rows.append((layer, out, None))
    return rows, False


def _expand(rows, level) -> list:
    """Keras 3's ``expand_nested``: each nested model's (or layer's) sublayers follow it, indented."""
    out = []
    for layer, shape, parents in rows:
        out.append((layer, shape, parents, level))
        if getattr(layer, "layers", None):
            sub, graph = _rows(layer)
            out += _expand([(lyr, shp, par if graph else "-") for lyr, shp, par in sub], level + 1)
    return out


def _in_model(model, layer, node) -> bool:
    from .functional import _node_key

    return _node_key(layer, layer._inbound_nodes.index(node)) in model._node_keys


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False,
                  show_trainable=False):
    rows, graph = _rows(model)
    widths = [19, 17, 10, 17] if graph else [31, 22, 13]
    if line_length:
        scale = line_length / (sum(widths) + len(widths) * 3 + 1)
        widths = [max(8, int(w * scale)) for w in widths]
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if graph else [])
    emit = print_fn or print
    lines = [f'Model: "{model.name}"']

    def border(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def row(cells, sep, align_right=(2,)):
        wrapped = [_wrap(c, w) for c, w in zip(cells, widths)]
        height = max(len(c) for c in wrapped)
        out = []
        for i in range(height):
            parts = []
            for j, (c, w) in enumerate(zip(wrapped, widths)):
                text = c[i] if i < len(c) else ""
                parts.append(f" {text:>{w}} " if j in align_right else f" {text:<{w}} ")
            out.append(sep + sep.join(parts) + sep)
        return out

    lines.append(border("┏", "┳", "┓", "━"))
    lines += row(headers, "┃")
    lines.append(border("┡", "╇", "┩", "━"))
    rows = _expand(rows, 0) if expand_nested else [r + (0,) for r in rows]
    for i, (layer, shape, parents, level) in enumerate(rows):
        params = layer.count_params() if layer.built else 0
        prefix = "   " * level + "└ " if level else ""
        cells = [f"{prefix}{layer.name} ({type(layer).__name__})", _fmt_shape(shape), f"{params:,}"]
        if graph:
            cells.append(parents)
        lines += row(cells, "│")
        if i < len(rows) - 1:
            lines.append(border("├", "┼", "┤", "─"))
    lines.append(border("└", "┴", "┘", "─"))
    weights = model.weights if model.built else []
    trainable = model.trainable_weights if model.built else []
    total, total_b = _count(weights)
    tr, tr_b = _count(trainable)
    lines.append(f" Total params: {total:,} ({_size_str(total_b)})")
    lines.append(f" Trainable params: {tr:,} ({_size_str(tr_b)})")
    lines.append(f" Non-trainable params: {total - tr:,} ({_size_str(total_b - tr_b)})")
    if getattr(model, "optimizer", None) is not None and model.optimizer.built:
        n, b = _count(model.optimizer.variables)
        lines.append(f" Optimizer params: {n:,} ({_size_str(b)})")
    for line in lines:
        emit(line)



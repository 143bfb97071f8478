"""``python -m webtensor inspect DIR``: a SavedModel's signatures, functions and variables
(like TF's ``saved_model_cli show --all``), after the loader has validated it."""

from __future__ import annotations

import json
import os

from .save import JSON_FILE, WEIGHTS_FILE


def _shape(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _nodes(g) -> int:
    return sum(1 + sum(_nodes(sg) for sg in n["subgraphs"]) for n in g["nodes"])


def show(path: str, out=print) -> int:
    from .load import load

    load(path)  # every check first: nothing below reads an unvalidated file
    with open(os.path.join(path, JSON_FILE), "rb") as f:
        doc = json.loads(f.read())
    sizes = [os.path.getsize(os.path.join(path, n)) for n in (JSON_FILE, WEIGHTS_FILE)]
    out(
        f"{path}: SavedModel ({doc['format']} version {doc['format_version']}); {JSON_FILE} {sizes[0]:,} bytes, "
        f"{WEIGHTS_FILE} {sizes[1]:,} bytes"
    )
    for name, sig in sorted(doc["signatures"].items()):
        out(f"\nsignature_def['{name}']:")
        for part in ("inputs", "outputs"):
            out(f"  {part}:")
            for k, info in sig[part].items():
                out(f"    {k}: {info['dtype']} {_shape(info['shape'])}")
    paths = _function_paths(doc)
    out("\nfunctions:")
    for i, f in enumerate(doc["functions"]):
        args = ", ".join(f"{a}" for a, _ in f["args"])
        where = ", ".join(paths.get(i, [])) or "(a signature)"
        batch = "any batch size" if f["batch"] else "traced shapes only"
        out(f"  [{i}] {where}({args}): {_nodes(f['graph'])} nodes, {batch}")
    variables = [o for o in doc["objects"] if o["kind"] == "variable"]
    total = sum(_count(o["shape"]) for o in variables)
    out(f"\nvariables ({len(variables)}, {total:,} values):")
    for o in variables:
        out(f"  {o['key']}: {o['dtype']} {_shape(o['shape'])}{'' if o['trainable'] else ' (not trainable)'}")
    return 0


def _function_paths(doc) -> dict:
    """function id -> attribute paths of the tf.functions that hold it."""
    objects, out, queue, seen = doc["objects"], {}, [(0, "")], {0}
    while queue:
        i, path = queue.pop(0)
        o = objects[i]
        if o["kind"] == "function":
            for f in o["concrete_functions"]:
                out.setdefault(f, []).append(path)
        for name, c in o.get("children", []):
            if c not in seen:
                seen.add(c)
                queue.append((c, f"{path}.{name}" if path else name))
    return out


def _count(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n

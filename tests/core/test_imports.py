"""The package's import graph, read from the source with ast: no cycle crosses packages except
the one tensor.py documents, and the numeric core never reaches up into Keras.

Only module-level imports count (``if``/``try`` blocks included): an import inside a function is
the deliberate, lazy way to break a cycle and runs after both modules exist."""

import ast
import pathlib

import pytest

pytestmark = pytest.mark.native  # reads the checkout's core/ sources; the page has the installed wheel

ROOT = pathlib.Path(__file__).resolve().parents[2] / "core" / "webtensor"

KNOWN_CROSS_PACKAGE_CYCLE = {  # Tensor's operators need the ops and the ops need Tensor (tensor.py's tail)
    "webtensor.tensor",
    "webtensor.ops.dispatch",
    "webtensor.ops.array",
    "webtensor.ops.math",
    "webtensor.ops.linalg",
    "webtensor.ops.reduce",
}
CORE = ("backends", "ops", "tensor", "autodiff", "dtypes", "shape", "host", "placement", "errors")
"""Modules/packages below Keras: nothing in them may import webtensor.keras, at any depth."""


def module_name(path: pathlib.Path) -> str:
    parts = ("webtensor",) + path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def imported(name: str, path: pathlib.Path, module_level: bool = True):
    """The webtensor modules ``name`` imports (a from-import of a submodule names the submodule)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = (
        [
            n
            for top in tree.body
            if isinstance(top, (ast.Import, ast.ImportFrom, ast.If, ast.Try))
            for n in ast.walk(top)
        ]
        if module_level
        else list(ast.walk(tree))
    )
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for a in node.names:
                if f"{source}.{a.name}" in MODULES:
                    yield f"{source}.{a.name}"
                elif source in MODULES:
                    yield source


def strongly_connected(graph: dict) -> list:
    """Tarjan's algorithm, iterative (the graph has hundreds of modules)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(graph[w])))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = set()
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        component.add(w)
                        if w == v:
                            break
                    out.append(component)
    return out


def package_of(module: str) -> str:
    """webtensor.keras.layers.core -> keras; a top-level module (webtensor.tensor) is its own."""
    return module.split(".")[1] if module.count(".") else ""


GRAPH = {m: set(imported(m, p)) - {m} for m, p in MODULES.items()}


def test_the_graph_is_read():
    """The reader finds real edges (a reader that found none would pass everything below)."""
    assert "webtensor.ops.dispatch" in GRAPH["webtensor.ops.math"]
    assert "webtensor.tensor" in GRAPH["webtensor.ops.dispatch"]
    assert "webtensor.keras.saving" in GRAPH["webtensor.keras.layers.core"]


def test_the_cycle_finder_finds_a_cycle():
    found = strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert {"a", "b", "c"} in found and {"d"} in found


def test_no_import_cycle_crosses_packages():
    crossing = [c for c in strongly_connected(GRAPH) if len({package_of(m) for m in c}) > 1]
    unknown = [sorted(c) for c in crossing if c != KNOWN_CROSS_PACKAGE_CYCLE]
    assert not unknown, f"module-level import cycles across packages (import lazily inside a function): {unknown}"


def test_the_core_never_imports_keras():
    below = [m for m in MODULES if package_of(m) in CORE]
    bad = sorted(
        (m, t) for m in below for t in imported(m, MODULES[m], module_level=False) if t.startswith("webtensor.keras")
    )
    assert not bad, f"core modules importing Keras: {bad}"


def test_the_backends_never_import_the_page_glue():
    """webtensor.page sits above the backends (it registers the browser GPU backend); the WebGPU
    adapter blocks on promises through backends.jspi instead, so page can never be a backend's
    dependency, not even lazily inside a function."""
    lazy = set(imported("webtensor.page", MODULES["webtensor.page"], module_level=False))
    assert "webtensor.backends.gpu.webgpu_device" in lazy  # the reader sees function-level imports
    below = [m for m in MODULES if package_of(m) == "backends"]
    bad = sorted((m, t) for m in below for t in imported(m, MODULES[m], module_level=False) if t == "webtensor.page")
    assert not bad, f"backend modules importing webtensor.page (use webtensor.backends.jspi): {bad}"


SAVING_FORMAT = ("safetensors", "validate", "atomic", "sources", "budget")
"""The model-file format: bytes, checks, sources, allocation budgets. Keras builds models on it."""
SAVING_LAZY = ("webtensor.saving", "webtensor.saving.model_file")
"""The package and the old ``saving.model_file`` name: they re-export ``keras.model_file``
inside a module ``__getattr__``, never at import."""
ABOVE_THE_FORMAT = ("webtensor.keras", "webtensor.io")


def _reaches_up(module: str, module_level: bool) -> list:
    return sorted(
        t
        for t in imported(module, MODULES[module], module_level)
        if any(t == p or t.startswith(p + ".") for p in ABOVE_THE_FORMAT)
    )


def test_a_lazy_upward_import_is_seen(tmp_path):
    """The any-depth reader sees an import inside a function (the old model_file's shape)."""
    path = tmp_path / "model_file.py"
    path.write_text("def f():\n    from ..keras import saving as ks\n    from ..io import import_keras\n")
    found = set(imported("webtensor.saving.model_file", path, module_level=False))
    assert {"webtensor.keras.saving", "webtensor.io"} <= found
    assert not set(imported("webtensor.saving.model_file", path))


def test_the_saving_format_imports_nothing_from_keras_or_io():
    """saving/'s format modules never import Keras or io, not even lazily; the package and
    its re-export shim reach only ``keras.model_file``, and only inside a function."""
    saving = {m for m in MODULES if m == "webtensor.saving" or m.startswith("webtensor.saving.")}
    format_modules = {f"webtensor.saving.{n}" for n in SAVING_FORMAT}
    assert saving == format_modules | set(SAVING_LAZY), "classify the new saving module here"
    deep = {m: _reaches_up(m, module_level=False) for m in sorted(format_modules)}
    assert not any(deep.values()), f"saving's format modules importing keras/io: {deep}"
    top = {m: _reaches_up(m, module_level=True) for m in sorted(saving)}
    assert not any(top.values()), f"saving modules importing keras/io at import time: {top}"
    lazy = {m: _reaches_up(m, module_level=False) for m in SAVING_LAZY}
    assert all(v == ["webtensor.keras.model_file"] for v in lazy.values()), (
        f"saving's re-exports should reach only keras.model_file (Keras code lives there): {lazy}"
    )


TENSOR_INTERNALS = {"_h", "_be", "_dtype"}
"""A tensor's backend handle, backend and dtype slots: Keras reads ``.shape``, ``.dtype``,
``.backend``, ``.value_token`` and ``tensor.is_symbolic_tensor`` instead (issue 19)."""


def internal_reads(source: str) -> list:
    """(line, what) for each ``x._h``/``x._be``/``x._dtype`` and each getattr/hasattr/setattr
    naming one of them as a string."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in TENSOR_INTERNALS:
            out.append((node.lineno, "." + node.attr))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in TENSOR_INTERNALS
        ):
            out.append((node.lineno, f"{node.func.id}(..., {node.args[1].value!r})"))
    return out


def test_the_internals_scanner_sees_reads():
    src = "def f(x, layer):\n    a = x._h.shape\n    b = hasattr(x, '_be')\n    layer._dtype = 1\n    return x.dtype\n"
    assert sorted(internal_reads(src)) == [(2, "._h"), (3, "hasattr(..., '_be')"), (4, "._dtype")]


def test_keras_reads_no_tensor_internals():
    """Keras sits above the core and uses its public accessors; a backend change (a handle
    that is not an array, a new backend) must not need a Keras change."""
    found = {}
    for path in sorted((ROOT / "keras").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        reads = internal_reads(path.read_text(encoding="utf-8"))
        if reads:
            found[rel] = reads
    assert not found, f"keras/ reading tensor internals (use .shape/.dtype/.backend/.value_token): {found}"

"""``tf.saved_model.load``: rebuild the saved objects without their Python classes.

Everything is checked before an object is returned: the JSON by ``saving/validate.py``
(before anything is read from the weights file), the weights file by the one
safetensors reader (against the variables the JSON declares), then every graph by
re-emitting its nodes through the tracer (``graph_io.Decoder``). Loaded functions
replay the saved graphs.
"""

from __future__ import annotations

import math
import os

from .. import autodiff, backends, placement
from .. import module as _module
from .. import tensor as T
from ..function.graph import TRACER, Program
from ..saving import safetensors as st
from ..saving import sources
from ..saving import validate as V
from ..spec import TensorSpec
from . import differentiable, graph_io
from .save import JSON_FILE, WEIGHTS_FILE, site_value, substitute

MAX_BATCH_GRAPHS = 16  # graphs kept per function for other batch sizes


def contains_saved_model(export_dir) -> bool:
    """``tf.saved_model.contains_saved_model``: the directory has a SavedModel's graph file."""
    return os.path.isfile(os.path.join(os.fspath(export_dir), JSON_FILE))


def load(export_dir, tags=None, options=None):
    """``tf.saved_model.load(export_dir)``: the root object, with attributes, functions,
    variables and ``signatures`` as saved. ``export_dir`` may be a URL (in the page, a
    relative one): its two files are fetched, the weights streamed."""
    path = export_dir if sources.is_url(export_dir) else os.fspath(export_dir)
    if sources.is_url(path):
        path = path.rstrip("/")
        raw = _fetch(f"{path}/{JSON_FILE}", V.SM_MAX_JSON + 1)
    else:
        if not contains_saved_model(path):
            raise OSError(f"SavedModel file does not exist at: {path}{os.sep}{{{JSON_FILE}}}")
        with open(os.path.join(path, JSON_FILE), "rb") as f:
            raw = f.read(V.SM_MAX_JSON + 1)
    try:
        return _Loader(path, raw).root
    except ValueError as e:
        raise ValueError(f"invalid SavedModel {path}: {e}") from None
    except RecursionError:
        raise ValueError(f"invalid SavedModel {path}: nesting too deep") from None


def _fetch(url: str, limit: int) -> bytes:
    """At most ``limit`` bytes of a URL (the page's fetch, or urllib natively)."""
    if sources.IN_PAGE:
        return sources._Chunks(sources._fetch_sync(url).body.getReader()).read(limit)
    import urllib.request

    with urllib.request.urlopen(url) as resp:
        return resp.read(limit)


class _Loader:
    def __init__(self, path: str, raw: bytes):
        doc = V.sm_load_json(raw, JSON_FILE)
        objects, functions = doc["objects"], doc["functions"]
        var_ids = V.sm_check_objects(objects, len(functions))
        variables = self._variables(path, objects, var_ids)
        decoder = graph_io.Decoder(variables)
        self.functions = [RestoredConcrete(fd, f"functions[{i}]", decoder) for i, fd in enumerate(functions)]
        sigs = {}
        for name, sd in doc["signatures"].items():
            where = f"signatures[{name[:40]!r}]"
            V.sm_check_signature(name, sd, functions, where)
            sigs[name] = RestoredSignature(name, sd, self.functions[sd["function"]], where)
        built = []
        for i, o in enumerate(objects):
            if o["kind"] == "variable":
                built.append(variables[o["key"]])
            elif o["kind"] == "function":
                built.append(RestoredFunction(f"objects[{i}]", [self.functions[k] for k in o["concrete_functions"]]))
            else:
                built.append(_Restored())
        for i, o in enumerate(objects):
            if o["kind"] == "object":
                _set_children(built[i], [(n, built[c]) for n, c in o["children"]], f"objects[{i}]")
        self.root = built[0]
        if isinstance(self.root, _Restored):
            object.__setattr__(self.root, "signatures", sigs)

    @staticmethod
    def _variables(path, objects, var_ids) -> dict:
        data = {}
        where = WEIGHTS_FILE

        def on_header(header):
            meta = header.metadata
            if meta.get("format") != V.SM_VARIABLES_FORMAT or meta.get("format_version") != str(V.SM_VERSION):
                raise V.sm_fail(
                    where,
                    f"__metadata__ format is {str(meta.get('format'))[:40]!r} version "
                    f"{str(meta.get('format_version'))[:10]!r}, not {V.SM_VARIABLES_FORMAT!r} "
                    f"{V.SM_VERSION}",
                )
            extra = set(header.tensors) - set(var_ids)
            if extra:
                raise V.sm_fail(where, f"tensor {sorted(extra)[0][:60]!r} belongs to no variable of {JSON_FILE}")
            for key, i in var_ids.items():
                e, o = header.tensors.get(key), objects[i]
                if e is None:
                    raise V.sm_fail(f"objects[{i}]", f"variable {key[:60]!r} is not in {WEIGHTS_FILE}")
                if list(e.shape) != o["shape"] or e.dtype.name != o["dtype"]:
                    raise V.sm_fail(
                        f"objects[{i}]",
                        f"variable {key[:60]!r} is {o['dtype']} {o['shape']} but "
                        f"{WEIGHTS_FILE} holds {e.dtype.name} {list(e.shape)}",
                    )
            return lambda e, b: data.__setitem__(e.name, (e, bytes(b)))

        file = f"{path}/{WEIGHTS_FILE}" if sources.is_url(path) else os.path.join(path, WEIGHTS_FILE)
        try:
            sources.read(file, on_header)
        except ValueError as e:
            raise V.sm_fail(where, str(e)) from None
        out = {}
        for key, i in var_ids.items():
            e, b = data[key]
            o = objects[i]
            out[key] = T.Variable(st.to_tensor(e, b, e.dtype), trainable=o["trainable"], name=o["name"])
        return out


class _Restored(_module.Module):
    """A loaded object (TF's ``_UserObject``): its attributes are the saved children."""

    def __init__(self):
        object.__setattr__(self, "name", "restored")
        object.__setattr__(self, "_scope_name", "restored/")

    def __call__(self, *args, **kwargs):
        """A saved ``__call__`` (Python looks special methods up on the class, not the object)."""
        fn = self.__dict__.get("__call__")
        if fn is None:
            raise TypeError("this loaded object has no saved __call__ function")
        return fn(*args, **kwargs)


def _set_children(obj, edges, where) -> None:
    """Attributes from child paths: ``layers/0`` and ``layers/1`` make a list ``layers``."""
    tree: dict = {}
    for name, child in edges:
        parts = name.split("/")
        node = tree
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise V.sm_fail(where, f"child {name[:60]!r} is under another child")
        if parts[-1] in node:
            raise V.sm_fail(where, f"child {name[:60]!r} is also a container of other children")
        node[parts[-1]] = _Leaf(child)
    for key, value in tree.items():
        if isinstance(getattr(type(obj), key, None), property) or key in ("signatures", "__dict__", "__class__"):
            continue  # never shadow the loaded object's own API
        object.__setattr__(obj, key, _build(value))


class _Leaf:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _build(node):
    if isinstance(node, _Leaf):
        return node.value
    if all(k.isdigit() for k in node) and sorted(int(k) for k in node) == list(range(len(node))):
        return [_build(node[str(i)]) for i in range(len(node))]
    return {k: _build(v) for k, v in node.items()}


# -- functions -------------------------------------------------------------------------------------


class _NoMatch(Exception):
    pass


class RestoredConcrete:
    """One saved concrete function: its argument structure, graph(s) and output structure."""

    def __init__(self, fd, where: str, decoder):
        if not isinstance(fd, dict) or set(fd) != {"name", "args", "outputs", "graph", "batch"}:
            raise V.sm_fail(where, "a function is {name, args, outputs, graph, batch}")
        self.name = fd["name"] if isinstance(fd["name"], str) else "function"
        self.where, self.decoder = where, decoder
        args = fd["args"]
        if (
            not isinstance(args, list)
            or not all(isinstance(a, list) and len(a) == 2 and isinstance(a[0], str) for a in args)
            or len({a[0] for a in args}) != len(args)
        ):
            raise V.sm_fail(where, "args is not a list of [unique parameter name, structure]")
        self.args = args
        self.leaves = []
        for name, s in args:
            V.sm_structure(s, f"{where}.args[{name[:30]!r}]", self.leaves)
        self.tensor_leaves = [s for s in self.leaves if "tensor" in s]
        if [s["tensor"] for s in self.tensor_leaves] != list(range(len(self.tensor_leaves))):
            raise V.sm_fail(where, "argument tensors must be numbered 0, 1, ... in flat order")
        out_leaves = []
        V.sm_structure(fd["outputs"], f"{where}.outputs", out_leaves)
        self.outputs = fd["outputs"]
        self.graph_dict = fd["graph"]
        self.graph = decoder.graph(fd["graph"], f"{where}.graph")
        g = self.graph
        if len(g.inputs) != len(self.tensor_leaves):
            raise V.sm_fail(
                where, f"{len(self.tensor_leaves)} argument tensors but the graph has {len(g.inputs)} inputs"
            )
        for leaf, ph in zip(self.tensor_leaves, g.inputs):
            spec = leaf["shape"]
            if (
                leaf["dtype"] != ph.dtype.name
                or len(spec) != len(ph.shape)
                or any(d is not None and d != p for d, p in zip(spec, ph.shape))
            ):
                raise V.sm_fail(
                    where,
                    f"argument {leaf.get('name', '')[:30]!r} {leaf['dtype']} {spec} does not "
                    f"fit graph input {ph.dtype.name} {list(ph.shape)}",
                )
        used = set()
        for leaf in out_leaves:
            if "tensor" in leaf:
                k = leaf["tensor"]
                if k >= len(g.outputs) or g.outputs[k].dtype.name != leaf["dtype"]:
                    raise V.sm_fail(where, f"output leaf {k} is not a graph output of dtype {leaf['dtype']}")
                used.add(k)
        if used != set(range(len(g.outputs))):
            raise V.sm_fail(where, "every graph output must be used by the output structure")
        self.batch = self._check_batch(fd["batch"], where)
        self.graphs = {}
        self.programs = {}
        self.randoms = {}  # random nodes' draw counts on the differentiable path

    def _check_batch(self, b, where):
        if b is None:
            return None
        if (
            not isinstance(b, dict)
            or set(b) != {"traced", "sites"}
            or type(b["traced"]) is not int
            or not 1 <= b["traced"] <= V.SM_MAX_DIM
            or not isinstance(b["sites"], list)
            or len(b["sites"]) > V.SM_MAX_NODES
        ):
            raise V.sm_fail(where + ".batch", "batch is null or {traced: int >= 1, sites: [[path, k(, power)]]}")
        n = b["traced"]
        for k, site in enumerate(b["sites"]):
            w = f"{where}.batch.sites[{k}]"
            if not (
                isinstance(site, list)
                and len(site) in (2, 3)
                and isinstance(site[0], list)
                and site[0]
                and len(site[0]) <= 4 * V.SM_MAX_DEPTH
                and (
                    (len(site) == 2 and type(site[1]) is int and 1 <= site[1] <= V.SM_MAX_DIM)
                    or (
                        len(site) == 3
                        and type(site[1]) is float
                        and math.isfinite(site[1])
                        and site[2] in (1, -1)
                        and type(site[2]) is int
                    )
                )
            ):
                raise V.sm_fail(w, "a site is [non-empty path, int k >= 1] or [path, float k, 1 | -1]")
            node = self.graph_dict
            for p in site[0]:
                ok = (isinstance(node, dict) and isinstance(p, str) and p in node) or (
                    isinstance(node, list) and type(p) is int and 0 <= p < len(node)
                )
                if not ok:
                    raise V.sm_fail(w, f"path {str(site[0])[:80]} is not in the graph")
                node = node[p]
            want = site_value(site, n)
            if type(node) is not type(want) or not (
                node == want or (type(node) is float and abs(node - want) <= 1e-9 * abs(want))
            ):
                raise V.sm_fail(w, f"the value at the path is {str(node)[:20]}, not {want} (the site at batch {n})")
        if not any(s["shape"] and s["shape"][0] is None for s in self.tensor_leaves):
            raise V.sm_fail(where + ".batch", "a batch-polymorphic function needs an argument of unknown batch")
        return b

    # matching a call
    def bind(self, args, kwargs) -> list:
        """The flat argument tensors for a call, or raise _NoMatch."""
        if len(args) > len(self.args):
            raise _NoMatch
        flat = []
        given = dict(zip([a[0] for a in self.args], args))
        for k in kwargs:
            if k in given or k not in {a[0] for a in self.args}:
                raise _NoMatch
        given.update(kwargs)
        for name, s in self.args:
            if name not in given:
                if "value" not in s:
                    raise _NoMatch
                continue
            _match(given[name], s, flat)
        return flat

    def batch_of(self, flat) -> int | None:
        n = None
        for leaf, t in zip(self.tensor_leaves, flat):
            ph = self.graph.inputs[leaf["tensor"]].shape
            shape = tuple(t.shape)
            if len(shape) != len(ph):
                raise _NoMatch
            free = self.batch is not None and bool(leaf["shape"]) and leaf["shape"][0] is None
            if free:
                if n is not None and shape[0] != n:
                    raise _NoMatch
                n = shape[0]
            if any(a != b for i, (a, b) in enumerate(zip(shape, ph)) if not (free and i == 0)):
                raise _NoMatch
        return n

    def run(self, flat, n):
        g = self._graph_for(n)
        if autodiff.tapes or TRACER.stack:  # recorded by tapes, or traced into a caller's graph
            return _unpack(self.outputs, differentiable.run(g, flat, self.randoms))
        be = placement._scope[-1] or (flat[0]._be if flat else backends.default())
        key = (n, id(be))
        prog = self.programs.get(key)
        if prog is None:
            if len(self.programs) > 4 * MAX_BATCH_GRAPHS:
                self.programs.clear()
            prog = self.programs[key] = Program(g, be)
        outs = prog.run([(t if t._be is be else T.to_backend(t, be))._h for t in flat])
        tensors = [T.wrap(h, s.dtype, home) for h, s, home in zip(outs, g.outputs, prog.out_homes)]
        return _unpack(self.outputs, tensors)

    def _graph_for(self, n):
        if n is None or n == self.batch["traced"]:
            return self.graph
        g = self.graphs.get(n)
        if g is None:
            with graph_io._LOCK:  # serving threads: one decode (and one node count) at a time
                if len(self.graphs) >= MAX_BATCH_GRAPHS:
                    self.graphs.clear()
                d = substitute(self.graph_dict, self.batch["sites"], n)
                self.decoder.nodes = self.decoder.source_bytes = 0
                g = self.graphs[n] = self.decoder.graph(d, f"{self.where}.graph (batch {n})")
        return g

    def describe(self) -> str:
        parts = []
        for name, s in self.args:
            leaves = []
            V.sm_structure(s, "", leaves)
            parts.append(
                f"{name}: "
                + ", ".join(
                    f"TensorSpec(shape={tuple(x['shape'])}, dtype=tf.{x['dtype']})"
                    if "tensor" in x
                    else repr(x["value"])
                    for x in leaves
                )
            )
        return f"{self.name}({'; '.join(parts)})"


def _match(v, s, flat) -> None:
    if "tensor" in s:
        from ..dtypes import as_dtype

        dt = as_dtype(s["dtype"])
        if isinstance(v, T.Variable):
            v = v.value()
        if isinstance(v, T.Tensor):
            if v.dtype is not dt:
                raise _NoMatch
        else:
            try:
                v = T.convert(v, dt)
            except (TypeError, ValueError):
                raise _NoMatch from None
        flat.append(v)
    elif "value" in s:
        want = s["value"]
        numbers = type(v) in (int, float) and type(want) in (int, float)  # 2 == 2.0, as TF's trace key
        if (type(v) is not type(want) and not numbers) or v != want:
            raise _NoMatch
    elif "dict" in s:
        if not isinstance(v, dict) or set(v) != {k for k, _ in s["dict"]}:
            raise _NoMatch
        for k, sub in s["dict"]:
            _match(v[k], sub, flat)
    else:
        items = s.get("list", s.get("tuple"))
        if not isinstance(v, (list, tuple)) or len(v) != len(items):
            raise _NoMatch
        for x, sub in zip(v, items):
            _match(x, sub, flat)


def _unpack(s, tensors):
    if "tensor" in s:
        return tensors[s["tensor"]]
    if "value" in s:
        return s["value"]
    if "dict" in s:
        return {k: _unpack(sub, tensors) for k, sub in s["dict"]}
    if "tuple" in s:
        return tuple(_unpack(sub, tensors) for sub in s["tuple"])
    return [_unpack(sub, tensors) for sub in s["list"]]


class RestoredFunction:
    """A loaded ``tf.function``: dispatches a call to the first saved concrete function
    whose arguments fit; no retracing (the Python is not there)."""

    def __init__(self, where: str, concretes: list):
        self._where, self.concrete_functions = where, concretes

    def __call__(self, *args, **kwargs):
        for cf in self.concrete_functions:
            try:
                flat = cf.bind(args, kwargs)
                n = cf.batch_of(flat)
            except _NoMatch:
                continue
            return cf.run(flat, n)
        options = "\n".join(f"  Option {i + 1}: {cf.describe()}" for i, cf in enumerate(self.concrete_functions))
        got = ", ".join([_describe(a) for a in args] + [f"{k}={_describe(v)}" for k, v in kwargs.items()])
        raise ValueError(
            f"Could not find matching concrete function to call loaded from the SavedModel. "
            f"Got: ({got})\nExpected these arguments to match one of the following "
            f"{len(self.concrete_functions)} option(s):\n{options}"
        )

    def __repr__(self):
        return f"<RestoredFunction with {len(self.concrete_functions)} concrete function(s)>"


def _describe(v) -> str:
    if isinstance(v, (T.Tensor, T.Variable)):
        return f"Tensor(shape={tuple(v.shape)}, dtype={v.dtype.name})"
    return repr(v)[:60]


class RestoredSignature:
    """``loaded.signatures[name]``: called with keyword tensors, returns a dict."""

    def __init__(self, name: str, sd: dict, cf: RestoredConcrete, where: str):
        self.name, self._cf = name, cf
        if [a[0] for a in cf.args] != list(sd["inputs"]) or any("tensor" not in s for _, s in cf.args):
            raise V.sm_fail(where, "the signature's inputs must be its function's parameters, in order")
        for k, info in sd["inputs"].items():
            leaf = dict(cf.args)[k]
            if info["index"] != leaf["tensor"] or info["dtype"] != leaf["dtype"]:
                raise V.sm_fail(where, f"input {k[:40]!r} does not match its function's argument")
        if "dict" not in cf.outputs:
            raise V.sm_fail(where, "a signature's function returns a dict")
        outs = dict(cf.outputs["dict"])
        if set(outs) != set(sd["outputs"]) or any(
            "tensor" not in outs[k] or outs[k]["tensor"] != info["index"] or outs[k]["dtype"] != info["dtype"]
            for k, info in sd["outputs"].items()
        ):
            raise V.sm_fail(where, "the signature's outputs must be its function's outputs")
        self.inputs_info, self.outputs_info = sd["inputs"], sd["outputs"]

    @property
    def structured_input_signature(self):
        return (), {k: TensorSpec(v["shape"], v["dtype"], k) for k, v in self.inputs_info.items()}

    @property
    def structured_outputs(self):
        return {k: TensorSpec(v["shape"], v["dtype"], k) for k, v in self.outputs_info.items()}

    def __call__(self, *args, **kwargs):
        names = list(self.inputs_info)
        if len(args) > len(names) or any(k in kwargs for k in names[: len(args)]):
            raise TypeError(
                f"signature {self.name!r} takes {', '.join(names)} (positionally in that order, "
                f"or by name), got {len(args)} positional and {sorted(kwargs)}"
            )
        kwargs = {**dict(zip(names, args)), **kwargs}  # TF's guide: infer(tf.constant(x))
        missing = [k for k in self.inputs_info if k not in kwargs]
        extra = [k for k in kwargs if k not in self.inputs_info]
        if missing or extra:
            raise TypeError(
                f"signature {self.name!r} takes {', '.join(self.inputs_info)}; "
                f"{'missing ' + ', '.join(missing) if missing else ''}"
                f"{' unexpected ' + ', '.join(extra) if extra else ''}"
            )
        cf = self._cf
        try:
            flat = cf.bind((), kwargs)
            n = cf.batch_of(flat)
        except _NoMatch:
            want = ", ".join(f"{k}: {v['dtype']} {v['shape']}" for k, v in self.inputs_info.items())
            got = ", ".join(f"{k}={_describe(v)}" for k, v in kwargs.items())
            raise ValueError(f"signature {self.name!r} expects {want}; got {got}") from None
        return cf.run(flat, n)

    def __repr__(self):
        return f"<ConcreteFunction signature_wrapper {self.name}>"

"""``tf.saved_model.save``: the object graph, every traced concrete function and the
signatures, as ``saved_model.json`` + ``variables.safetensors`` (docs/saved-model.md)."""

from __future__ import annotations

import inspect
import json
import os

from .. import module as _module
from .. import nest
from .. import tensor as T
from ..function.trace import ConcreteFunction, Function, _InstanceCall
from ..saving import safetensors as st
from ..saving import validate as V
from ..saving.atomic import atomic_write
from ..spec import TensorSpec
from ..train.checkpoint import _is_optimizer, slots as _optimizer_slots
from ..train.checkpoint import children as _trackable_children
from . import graph_io

JSON_FILE = "saved_model.json"
WEIGHTS_FILE = "variables.safetensors"
BATCH_PROBES = (5, 7, 3)  # traced batch sizes: two find the sites, the third checks them


def _function_of(x):
    """The ``Function`` behind an attribute value (a tf.function or a bound tf.function method)."""
    if isinstance(x, _InstanceCall):
        return x._fn
    return x if isinstance(x, Function) else None


KERAS_STEP_FUNCTIONS = frozenset(("train_function", "test_function", "predict_function"))
"""A compiled Keras model's step functions: not saved (as in TF/Keras; they read the
loss and metric trackers, which are not part of the model)."""


def _functions(obj) -> list:
    """``[(name, Function)]`` held by ``obj``: attributes (nested in lists/dicts) and
    tf.function methods of its class."""
    found = []
    if isinstance(obj, _module.Module):
        skip = KERAS_STEP_FUNCTIONS if hasattr(obj, "compile") and hasattr(obj, "fit") else ()
        found = [
            ("/".join(map(str, p)), _function_of(f))
            for p, f in _module.flatten_module(
                obj, lambda v: _function_of(v) is not None, recursive=False, with_path=True, attributes_to_ignore=skip
            )
        ]
    seen = {n for n, _ in found}
    for name in dir(type(obj)):
        if name in seen or not isinstance(inspect.getattr_static(type(obj), name, None), Function):
            continue
        f = _function_of(getattr(obj, name))
        if f is not None:
            found.append((name, f))
    return sorted(found)


class _Writer:
    def __init__(self, root, extra: dict):
        self.objects, self.functions = [], []
        self.ids, self.var_keys, self.variables = {}, {}, []
        self.fn_ids = {}
        self._walk(root, extra)

    # -- the object graph (breadth first, each object once; a variable's key is its first path)
    def _walk(self, root, extra):
        queue = [(root, "")]
        self.ids[id(root)] = 0
        self.objects.append(None)
        pending = []
        while queue:
            obj, path = queue.pop(0)
            oid = self.ids[id(obj)]
            if isinstance(obj, T.Variable):
                key = path or "variable"
                self.var_keys[id(obj)] = key
                self.variables.append((key, obj))
                self.objects[oid] = {
                    "kind": "variable",
                    "key": key,
                    "name": obj.name,
                    "shape": list(obj.shape),
                    "dtype": obj.dtype.name,
                    "trainable": bool(obj.trainable),
                }
                continue
            if isinstance(obj, Function):
                self.objects[oid] = {"kind": "function", "concrete_functions": []}
                pending.append((oid, obj, path))
                continue
            kids = list(_trackable_children(obj)) + _functions(obj)
            if _is_optimizer(obj):  # slots (momentum, Adam's m and v) are the optimizer's children
                kids += [(f"slots/{name}/{i}", sv) for i, (_, name, sv) in enumerate(_optimizer_slots(obj))]
            if oid == 0:
                kids += sorted(extra.items())
            edges, names = [], set()
            for name, child in kids:
                if name in names or not name:
                    continue
                names.add(name)
                if id(child) not in self.ids:
                    self.ids[id(child)] = len(self.objects)
                    self.objects.append(None)
                    queue.append((child, f"{path}/{name}" if path else name))
                edges.append([name, self.ids[id(child)]])
            self.objects[oid] = {"kind": "object", "children": edges}
        for oid, fn, path in pending:
            if fn.input_signature is not None and not any(cf._first is not None for cf in fn._visible):
                fn.get_concrete_function()  # TF saves a function with an input_signature traced
            self.objects[oid]["concrete_functions"] = [
                self.add_concrete(cf, path or "function") for cf in fn._visible if cf._first is not None
            ]

    def var_key(self, var) -> str:
        key = self.var_keys.get(id(var))
        if key is None:
            raise ValueError(
                f"tf.saved_model.save: a saved function uses variable {var.name!r}, which is "
                f"not reachable from the saved object; assign it to an attribute of a "
                f"tf.Module (TF: an 'untracked' resource)"
            )
        return key

    # -- concrete functions
    def add_concrete(self, cf: ConcreteFunction, where: str) -> int:
        if id(cf) in self.fn_ids:
            return self.fn_ids[id(cf)][1]
        args, examples = _args(cf, where)
        tr, batch = cf._first, None
        graph = graph_io.encode(tr.graph, self.var_key)
        found = self._batch(cf, args, examples, where)
        if found is not None:
            tr, graph, batch = found
        outputs = _outputs(tr, where)
        if batch is not None:
            _unknown_batch_dims(outputs, graph, batch["sites"])
        entry = {"name": cf.name, "args": args, "outputs": outputs, "graph": graph, "batch": batch}
        self.functions.append(entry)
        self.fn_ids[id(cf)] = (cf, len(self.functions) - 1)  # holding cf: its id is not reused
        return len(self.functions) - 1

    def _batch(self, cf, args, examples, where):
        """Graphs traced at batch sizes 5 and 7 give the batch sites; a trace at 3 must equal
        the graph they predict. (trace, graph, batch) at 5, or None when the function is
        not batch polymorphic."""
        leaves = [s for s in _leaves(args) if "tensor" in s]
        polymorphic = [s for s in leaves if s["shape"] and s["shape"][0] is None]
        if (
            not polymorphic
            or any(None in s["shape"][1:] for s in leaves)
            or any(None in s["shape"] for s in leaves if s not in polymorphic)
        ):
            return None
        graphs, traces = [], []
        for b in BATCH_PROBES:
            try:
                traces.append(_trace_at(cf, examples, b))
                graphs.append(graph_io.encode(traces[-1].graph, self.var_key))
            except (TypeError, ValueError):
                return None
        sites = []
        if not _diff(graphs[0], graphs[1], [], sites, BATCH_PROBES[:2]):
            return None
        if not _same(substitute(graphs[0], sites, BATCH_PROBES[2]), graphs[2]):
            return None
        return traces[0], graphs[0], {"traced": BATCH_PROBES[0], "sites": sites}

    def weights(self) -> list:
        return [(key, v.dtype, tuple(v.shape), st.tensor_bytes(v)) for key, v in self.variables]


def _unknown_batch_dims(outputs, graph, sites) -> None:
    """Output leaves' dims that are batch sites become None (what a signature reports)."""
    where = {n["name"]: j for j, n in enumerate(graph["nodes"])}
    at = {tuple(site[0]) for site in sites}
    leaves = []
    V.sm_structure(outputs, "outputs", leaves)
    for leaf in leaves:
        if "tensor" in leaf:
            node, k = graph["outputs"][leaf["tensor"]].rsplit(":", 1)
            j = where[node]
            leaf["shape"] = [
                None if ("nodes", j, "outputs", int(k), "shape", d) in at else v for d, v in enumerate(leaf["shape"])
            ]


def _diff(a, b, path, sites, probes) -> bool:
    """Collect the sites where ``a`` (traced at batch ``probes[0]``) and ``b`` (at
    ``probes[1]``) differ as ``k * n`` (an int, ``[path, k]``) or as a float ``k * n`` or
    ``k / n`` (``[path, k, 1]``, ``[path, k, -1]``: a mean's ``1/n``); False when they
    differ in any other way."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        if list(a) != list(b):
            return False
        return all(_diff(a[k], b[k], path + [k], sites, probes) for k in a)
    if isinstance(a, list):
        if len(a) != len(b):
            return False
        return all(_diff(x, y, path + [i], sites, probes) for i, (x, y) in enumerate(zip(a, b)))
    if a == b:
        return True
    p, q = probes
    if type(a) is int and a % p == 0 and b % q == 0 and a // p == b // q > 0:
        sites.append([path, a // p])
        return True
    if type(a) is float:
        if _close(a / p, b / q):
            sites.append([path, a / p, 1])
            return True
        if _close(a * p, b * q):
            sites.append([path, a * p, -1])
            return True
    return False


def _close(x: float, y: float) -> bool:
    return abs(x - y) <= 1e-12 * max(abs(x), abs(y))


def site_value(site: list, n: int):
    """The value of a batch site at batch size ``n``."""
    k, power = site[1], site[2] if len(site) > 2 else 1
    return k * n if power == 1 else k / n


def substitute(graph: dict, sites: list, n: int) -> dict:
    """A copy of ``graph`` with each batch site set to its value at batch size ``n``."""
    g = json.loads(json.dumps(graph))
    for site in sites:
        node = g
        for p in site[0][:-1]:
            node = node[p]
        node[site[0][-1]] = site_value(site, n)
    return g


def _same(a, b) -> bool:
    """Graph dicts equal, floats to 1e-12 relative (a substituted 1/n against a traced one)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if type(a) is float and type(b) is float:
        return a == b or _close(a, b)
    return type(a) is type(b) and a == b


def _trace_at(cf, examples, b):
    flat = [_zeros(v, b) if isinstance(v, TensorSpec) else v for v in examples]
    owner = cf._owner
    arguments = _pack_arguments(cf, flat)
    key = owner._key_of(arguments, flat)
    return owner._trace(cf, key, arguments, flat, loud=False)


def _zeros(spec, b):
    from ..ops import array

    return array.zeros([b if d is None else d for d in spec.shape.as_list()], spec.dtype)


def _pack_arguments(cf, flat):
    it = iter(flat)
    return {name: _pack(struct, it) for name, struct in cf._names}


def _pack(struct, it):
    if struct == "*":
        return next(it)
    typ, items = struct
    if typ is dict or issubclass(typ, dict):
        return {k: _pack(s, it) for k, s in items}
    vals = [_pack(s, it) for s in items]
    return typ(*vals) if hasattr(typ, "_fields") else typ(vals)


def _leaves(args) -> list:
    out = []
    for _, s in args:
        V.sm_structure(s, "args", out)
    return out


def _args(cf, where):
    """The ``args`` structure of a concrete function, and the flat examples (TensorSpecs
    for tensors, values for Python arguments) to trace it again."""
    leaves = iter(cf._key[1])
    placeholders = cf._first.graph.inputs
    counter = [0]
    examples = []

    def enc(struct, name):
        if struct == "*":
            k = next(leaves)
            if k[0] == "T":
                # unknown rank (TensorSpec(None)): the graph is static, so the traced shape
                shape = k[1] if k[1] is not None else tuple(placeholders[counter[0]].shape)
                examples.append(TensorSpec(shape, k[2]))
                counter[0] += 1
                return {"tensor": counter[0] - 1, "dtype": k[2].name, "shape": list(shape), "name": name}
            if k[0] == "P" and (k[2] is None or type(k[2]) in (bool, int, float, str)):
                examples.append(k[2])
                return {"value": k[2]}
            raise ValueError(
                f"tf.saved_model.save: {where}: argument {name!r} is a "
                f"{'variable' if k[0] == 'V' else type(k[-1]).__name__}; saved functions take "
                f"tensors and Python numbers, strings, bools or None"
            )
        typ, items = struct
        if typ is dict or issubclass(typ, dict):
            if not all(isinstance(k, str) for k, _ in items):
                raise ValueError(f"tf.saved_model.save: {where}: argument {name!r} has non-string dict keys")
            return {"dict": [[k, enc(s, f"{name}_{k}")] for k, s in items]}
        return {"tuple" if issubclass(typ, tuple) else "list": [enc(s, f"{name}_{i}") for i, s in enumerate(items)]}

    args = [[name, enc(struct, name)] for name, struct in cf._names]
    return args, examples


def _outputs(tr, where):
    """The ``outputs`` structure of a trace: graph outputs in order, Python values as values."""
    outs = iter(enumerate(tr.graph.outputs))
    flat = []
    for kind in tr.out_kinds:
        if kind[0] == "sym":
            i, s = next(outs)
            flat.append({"tensor": i, "dtype": s.dtype.name, "shape": list(s.shape), "name": ""})
        elif kind[1] is None or type(kind[1]) in (bool, int, float, str):
            flat.append({"value": kind[1]})
        else:
            raise ValueError(
                f"tf.saved_model.save: {where} returns a {type(kind[1]).__name__}; saved "
                f"functions return tensors and Python numbers, strings, bools or None"
            )
    if tr.template is None:
        return flat[0]
    fit = iter(flat)
    return _enc_template(tr.template, fit, where)


def _enc_template(x, it, where):
    if isinstance(x, dict):
        keys = nest._sorted_keys(x)
        if not all(isinstance(k, str) for k in keys):
            raise ValueError(f"tf.saved_model.save: {where} returns a dict with non-string keys")
        return {"dict": [[k, _enc_template(x[k], it, where)] for k in keys]}
    if isinstance(x, (list, tuple)):
        return {"tuple" if isinstance(x, tuple) else "list": [_enc_template(v, it, where) for v in x]}
    return next(it)


# -- signatures ----------------------------------------------------------------------------


def _is_keras_model(obj) -> bool:
    return (
        hasattr(obj, "inputs")
        and hasattr(obj, "outputs")
        and hasattr(obj, "count_params")
        and getattr(obj, "inputs", None)
    )


def keras_serving(model):
    """(call Function taking the model's inputs positionally, input names, output names)."""
    from ..serving.servable import _infos

    ins, outs = _infos(model.inputs, None), _infos(model.outputs, None)
    specs = [TensorSpec(i.shape, i.dtype, i.name) for i in ins]

    def serve(*xs):
        return model(xs[0] if len(xs) == 1 else list(xs), training=False)

    serve.__signature__ = inspect.Signature(
        [inspect.Parameter(i.name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for i in ins]
    )
    return Function(serve, input_signature=specs, name="serve"), [i.name for i in ins], [o.name for o in outs]


def _signature_function(target, name):
    """A signature: a Function taking named tensors and returning a dict of named outputs."""
    if isinstance(target, tuple):  # (Keras serve Function, input names, output names)
        fn, in_names, out_names = target
        specs = list(fn.input_signature)
        call = fn
    else:
        cf = target if isinstance(target, ConcreteFunction) else None
        fn = _function_of(target)
        if cf is None and (fn is None or fn.input_signature is None):
            raise ValueError(
                f"tf.saved_model.save: signature {name!r} must be a tf.function with an "
                f"input_signature or a concrete function, got {target!r}"
            )
        if cf is None:
            cf = fn.get_concrete_function() if not isinstance(target, _InstanceCall) else target.get_concrete_function()
        (args, kwargs) = cf.structured_input_signature
        specs = nest.flatten(args)
        if not all(isinstance(s, TensorSpec) for s in specs) or any(nest.is_nested(a) for a in args):
            raise ValueError(
                f"tf.saved_model.save: signature {name!r}: its function must take only tensors (flat), got {args}"
            )
        in_names = [s.name or p for s, (p, _) in zip(specs, cf._names)]
        call, out_names = cf._owner, None
    params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in in_names]

    def signature(*xs):
        # the autograph-converted Python: a tf.function called inside a trace is inlined
        # unconverted (trace.py), which would break `if tensor:` in the saved function
        out = call._converted()(*xs)
        if isinstance(out, dict):
            return dict(out)
        flat = list(out) if isinstance(out, (list, tuple)) else [out]
        names = out_names or [f"output_{i}" for i in range(len(flat))]
        return dict(zip(names, flat))

    signature.__signature__ = inspect.Signature(params)
    f = Function(
        signature, input_signature=[TensorSpec(s.shape, s.dtype, n) for s, n in zip(specs, in_names)], name=name
    )
    return f.get_concrete_function(), in_names


def _valid_signature(fn) -> bool:
    """TF's rule for the default signature: a function that returns tensors (a dict, a
    list or one), not nothing (``mutate(v)`` that only assigns) or Python values."""
    tr = fn.get_concrete_function()._first
    return bool(tr.graph.outputs) and all(k[0] == "sym" for k in tr.out_kinds)


def _signatures(obj, signatures) -> dict:
    if signatures is None:
        if _is_keras_model(obj):
            return {"serving_default": keras_serving(obj)}
        found = [f for _, f in _functions(obj) if f.input_signature is not None and _valid_signature(f)]
        return {"serving_default": found[0]} if len(found) == 1 else {}
    if isinstance(signatures, dict):
        return dict(signatures)
    return {"serving_default": signatures}


def save(obj, export_dir, signatures=None, options=None, _extra=None) -> None:
    """``tf.saved_model.save(obj, export_dir, signatures=None)``."""
    from ..train.checkpoint import Checkpoint

    if not isinstance(obj, (_module.Module, Checkpoint)):
        raise ValueError(
            f"tf.saved_model.save: expected a trackable object (a tf.Module, Keras layer or model, "
            f"or tf.train.Checkpoint) to save, got {type(obj).__name__}"
        )
    export_dir = os.fspath(export_dir)
    targets = _signatures(obj, signatures)
    w = _Writer(obj, dict(_extra or {}))
    sigs = {}
    for name, target in sorted(targets.items()):
        if not isinstance(name, str) or not name:
            raise ValueError(f"tf.saved_model.save: signature names are non-empty strings, got {name!r}")
        cf, in_names = _signature_function(target, name)
        fid = w.add_concrete(cf, f"signature {name!r}")
        entry = w.functions[fid]
        placeholders = entry["graph"]["inputs"]
        ins = {}
        for i, (n, leaf) in enumerate(zip(in_names, _leaves(entry["args"]))):
            ins[n] = {"index": i, "dtype": leaf["dtype"], "shape": leaf["shape"]}
        assert len(ins) == len(placeholders)
        outs = {}
        for k, leaf in entry["outputs"]["dict"]:
            if "tensor" not in leaf:
                raise ValueError(f"tf.saved_model.save: signature {name!r} output {k!r} is not a tensor")
            outs[k] = {"index": leaf["tensor"], "dtype": leaf["dtype"], "shape": list(leaf["shape"])}
        sigs[name] = {"function": fid, "inputs": ins, "outputs": outs}
    doc = {
        "format": V.SM_FORMAT,
        "format_version": V.SM_VERSION,
        "objects": w.objects,
        "functions": w.functions,
        "signatures": sigs,
    }
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False).encode("utf-8")
    os.makedirs(export_dir, exist_ok=True)
    meta = {"format": V.SM_VARIABLES_FORMAT, "format_version": str(V.SM_VERSION)}
    weights = w.weights()
    atomic_write(os.path.join(export_dir, WEIGHTS_FILE), lambda f: st.write(f, weights, meta))
    atomic_write(os.path.join(export_dir, JSON_FILE), lambda f: f.write(text))

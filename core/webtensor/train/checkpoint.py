"""``tf.train.Checkpoint``: save the variables reachable from some objects, and restore
them into objects of the same structure by object path, not by variable name.

One file per checkpoint, ``<prefix>.safetensors``: each variable a tensor named
``<first path>/.ATTRIBUTES/VARIABLE_VALUE``, and the object graph (nodes, named
edges, optimizer slots keyed by the variable they belong to) as JSON in the
header's metadata. Files are written by the atomic writer and read by the one
validating loader; the graph is checked before any variable is touched.

A saved value whose object does not exist yet (a layer not built, an optimizer
without its slots) waits on its parent and is assigned when the parent notifies
(``webtensor.module.notify``: on attribute assignment and on building).
"""

from __future__ import annotations

import json
import logging
import os
import weakref

from .. import module as _module
from ..saving import safetensors as st
from ..saving import sources
from ..saving.atomic import atomic_write
from ..tensor import Variable

FORMAT = "webtensor-checkpoint"
FORMAT_VERSION = 1
SUFFIX = ".safetensors"
MAX_NODES = 1_000_000
VALUE = ".ATTRIBUTES/VARIABLE_VALUE"


# -- the live object graph ---------------------------------------------------------------


def _is_optimizer(obj) -> bool:
    return hasattr(obj, "_iterations") and hasattr(obj, "slot_names") and hasattr(obj, "apply_gradients")


def _trackable(x) -> bool:
    return isinstance(x, (Variable, _module.Module, Checkpoint)) or _is_optimizer(x)


def children(obj) -> list:
    """Named dependencies of ``obj``: ``[(name, child)]`` in a stable order."""
    if isinstance(obj, Checkpoint):
        counter = obj.__dict__.get("_save_counter")
        named = sorted((k, v) for k, v in obj._objects.items() if k != "root" or obj._root is None)
        own = children(obj._root) if obj._root is not None else []
        return own + named + ([("save_counter", counter)] if counter is not None else [])
    if _is_optimizer(obj):
        out = [("iterations", obj._iterations)]
        if isinstance(obj._learning_rate, Variable):
            out.append(("learning_rate", obj._learning_rate))
        return out
    if isinstance(obj, _module.Module):
        found = [
            ("/".join(map(str, path)), leaf)
            for path, leaf in _module.flatten_module(obj, _trackable, recursive=False, with_path=True)
        ]
        # public attributes first: a layer's ``kernel`` names its variable, not the
        # ``_trainable_variables/0`` list that holds it too (file keys read as TF's)
        return sorted(found, key=lambda kv: kv[0].startswith("_"))
    return []


def slots(opt) -> list:
    """``[(model variable, slot name, slot variable)]`` of a built optimizer."""
    if not getattr(opt, "built", False):
        return []
    opt._sync_slots()
    var_list = opt._trainable_variables
    out = [(v, name, sv) for name, lst in opt._slots.items() for v, sv in zip(var_list, lst)]
    for attr, name in (("_ema", "average"), ("_accumulated", "gradient_accumulator")):
        out.extend((v, name, sv) for v, sv in zip(var_list, getattr(opt, attr, None) or ()))
    return out


def object_graph(root) -> tuple:
    """(nodes, objects, paths): breadth first from ``root``, each object once; slots last."""
    ids, objects, paths, nodes = {id(root): 0}, [root], [""], [{"children": []}]
    i = 0
    while i < len(objects):
        for name, child in children(objects[i]):
            if id(child) not in ids:
                ids[id(child)] = len(objects)
                objects.append(child)
                paths.append(f"{paths[i]}/{name}" if paths[i] else name)
                nodes.append({"children": []})
            nodes[i]["children"].append([name, ids[id(child)]])
        i += 1
    for i in range(len(objects)):
        if _is_optimizer(objects[i]):
            for v, name, sv in slots(objects[i]):
                if id(v) not in ids or id(sv) in ids:
                    continue
                ids[id(sv)] = len(objects)
                objects.append(sv)
                paths.append(f"{paths[i]}/.OPTIMIZER_SLOT/{paths[ids[id(v)]]}/{name}")
                nodes.append({"children": []})
                nodes[i].setdefault("slots", []).append([ids[id(v)], name, ids[id(sv)]])
    for node, obj, path in zip(nodes, objects, paths):
        if isinstance(obj, Variable):
            node["tensor"] = f"{path}/{VALUE}"
    return nodes, objects, paths


def write_file(root, path: str) -> None:
    nodes, objects, _ = object_graph(root)
    tensors = [
        (n["tensor"], o.dtype, tuple(o.shape), st.tensor_bytes(o)) for n, o in zip(nodes, objects) if "tensor" in n
    ]
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "object_graph": json.dumps({"nodes": nodes}, separators=(",", ":")),
    }
    atomic_write(path, lambda f: st.write(f, tensors, meta))


# -- reading and checking a file ----------------------------------------------------------


def _bad(path, problem: str) -> ValueError:
    return ValueError(f"invalid checkpoint {path}: {problem}")


def _check_graph(path, header) -> list:
    """The object graph of a validated header, checked: ids in range, tensors present."""
    meta = header.metadata
    if meta.get("format") != FORMAT:
        raise _bad(
            path, f"__metadata__['format'] is {meta.get('format')!r}, not {FORMAT!r} (not a webtensor checkpoint)"
        )
    if meta.get("format_version") != str(FORMAT_VERSION):
        raise _bad(
            path, f"format_version {meta.get('format_version')!r} is not supported (this reader knows {FORMAT_VERSION})"
        )
    try:
        graph = json.loads(meta.get("object_graph", ""))
    except (ValueError, RecursionError) as e:
        raise _bad(path, f"__metadata__['object_graph'] is not valid JSON ({e})") from None
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    if not isinstance(nodes, list) or not nodes or len(nodes) > MAX_NODES:
        raise _bad(path, f"object_graph.nodes must be a list of 1..{MAX_NODES} nodes")
    used = set()
    for i, node in enumerate(nodes):
        _check_node(path, i, node, len(nodes), header, used)
    extra = set(header.tensors) - used
    if extra:
        raise _bad(path, f"tensor {min(extra)!r} belongs to no node of the object graph")
    return nodes


def _is_id(x, n: int) -> bool:
    return type(x) is int and 0 <= x < n


def _check_node(path, i: int, node, n: int, header, used: set) -> None:
    where = f"object_graph node {i}"
    if not isinstance(node, dict):
        raise _bad(path, f"{where} is a {type(node).__name__}, not an object")
    kids = node.get("children", [])
    if not isinstance(kids, list):
        raise _bad(path, f"{where}: children is not a list")
    for k, edge in enumerate(kids):
        if not (isinstance(edge, list) and len(edge) == 2 and isinstance(edge[0], str) and _is_id(edge[1], n)):
            raise _bad(path, f"{where}: child {k} is {str(edge)[:60]}, not [name, node id < {n}]")
    if not isinstance(node.get("slots", []), list):
        raise _bad(path, f"{where}: slots is not a list")
    for k, s in enumerate(node.get("slots", [])):
        if not (isinstance(s, list) and len(s) == 3 and _is_id(s[0], n) and isinstance(s[1], str) and _is_id(s[2], n)):
            raise _bad(path, f"{where}: slot {k} is {str(s)[:60]}, not [variable id, name, slot id]")
    key = node.get("tensor")
    if key is not None:
        if not isinstance(key, str) or key not in header.tensors:
            raise _bad(path, f"{where}: its tensor {str(key)[:80]!r} is not in the file")
        if key in used:
            raise _bad(path, f"{where}: tensor {key!r} is claimed by two nodes")
        used.add(key)


def read_file(path: str) -> tuple:
    """(checked nodes, {tensor name: (entry, bytes)}) of a checkpoint file."""
    data, graph = {}, []

    def on_header(header):
        graph.append(_check_graph(path, header))
        return lambda e, b: data.__setitem__(e.name, (e, bytes(b)))

    sources.read(path, on_header)
    return graph[0], data


# -- restoring ------------------------------------------------------------------------------


class _Restorer:
    """The matching of one restore; values whose objects do not exist yet wait for them.

    Objects it waits on hold it (through ``module.wait_for``); it holds them and the
    root only weakly, so an unfinished restore never keeps a model alive."""

    def __init__(self, root, path: str, nodes: list, data: dict):
        self._path, self._nodes, self._data = path, nodes, data
        self._live = {}  # node id -> weakref to the matched object
        self._matched_ids = set()  # id() of matched live objects
        self._waiting = {}  # node id -> weakref(obj) with unmatched children or slots
        self.partial = True  # no warning from a restore that failed while matching
        self._staged = []  # (variable, value) found by the first match, assigned together
        self._match(0, root)
        for var, value in self._staged:
            var.assign(value)
        self._staged = None
        self.partial = False  # True again after expect_partial(): no warning for unused values

    # matching
    def _match(self, nid: int, obj) -> None:
        """Match node ``nid`` to ``obj`` and everything below it, breadth first; then retry
        optimizer slots, whose variables may have been matched after the optimizer."""
        queue = [(nid, obj)]
        while queue:
            while queue:
                nid, obj = queue.pop(0)
                if nid in self._live:
                    continue
                self._live[nid] = weakref.ref(obj)
                self._matched_ids.add(id(obj))
                self._assign(nid, obj)
                queue.extend(self._expand(nid, obj))
            for wid, ref in list(self._waiting.items()):
                if self._nodes[wid].get("slots") and ref() is not None:
                    queue.extend(self._expand(wid, ref()))

    def _assign(self, nid: int, obj) -> None:
        key = self._nodes[nid].get("tensor")
        if key is None or key not in self._data:
            return
        if not isinstance(obj, Variable):
            raise ValueError(
                f"restore from {self._path}: {key!r} holds a tensor but the object at that "  # noqa: TRY004
                f"path is a {type(obj).__name__}, not a variable"
            )
        e, raw = self._data[key]
        if tuple(e.shape) != tuple(obj.shape):
            raise ValueError(
                f"restore from {self._path}: {key!r} has shape {list(e.shape)} in the "
                f"checkpoint but the variable {obj.name!r} has shape {list(obj.shape)}"
            )
        if e.dtype.kind != obj.dtype.kind and not (e.dtype.is_floating and obj.dtype.is_floating):
            raise ValueError(
                f"restore from {self._path}: {key!r} is {e.dtype.name} in the checkpoint "
                f"but the variable {obj.name!r} is {obj.dtype.name}"
            )
        value = st.to_tensor(e, raw, obj.dtype)
        if self._staged is None:
            obj.assign(value)
        else:  # a bad value found later leaves every variable as it was
            self._staged.append((obj, value))
        del self._data[key]

    def _expand(self, nid: int, obj) -> list:
        """Children of node ``nid`` found in ``obj`` now; waits on ``obj`` for the others."""
        node, found, missing = self._nodes[nid], [], False
        live = {}
        for name, child in children(obj):
            live.setdefault(name, child)
        for name, cid in node.get("children", ()):
            if cid in self._live:
                continue
            if name in live:
                found.append((cid, live[name]))
            else:
                missing = True
        if node.get("slots"):
            missing |= self._slots(node["slots"], obj, found)
        self._wait(nid, obj, missing)
        return found

    def _slots(self, saved: list, opt, found: list) -> bool:
        have = {(id(v), name): sv for v, name, sv in slots(opt)} if _is_optimizer(opt) else {}
        missing = False
        for vid, name, sid in saved:
            if sid in self._live:
                continue
            ref = self._live.get(vid)
            sv = have.get((id(ref()), name)) if ref is not None and ref() is not None else None
            if sv is None:
                missing = True
            else:
                found.append((sid, sv))
        return missing

    def _wait(self, nid: int, obj, missing: bool) -> None:
        if missing and nid not in self._waiting:
            self._waiting[nid] = weakref.ref(obj)
            _module.wait_for(obj, self._on_notify)
        elif not missing and nid in self._waiting:
            del self._waiting[nid]
            _module.unwait(obj, self._on_notify)

    def _on_notify(self, obj) -> None:
        for nid, ref in list(self._waiting.items()):
            if ref() is obj:
                for cid, child in self._expand(nid, obj):
                    self._match(cid, child)

    def unmatched_nodes(self) -> list:
        return [i for i in range(len(self._nodes)) if i not in self._live]

    def __del__(self):
        """Gone means nothing it waits on is alive: what is unmatched now never will be."""
        try:
            missing = self.unmatched_nodes()
            if missing and not self.partial:
                paths = _paths(self._nodes)
                logging.getLogger("webtensor").warning(
                    "checkpoint %s: %d saved values were never restored, e.g. %r (call "
                    "expect_partial() on the restore status if that is intended)",
                    self._path,
                    len(missing),
                    paths.get(missing[0], missing[0]),
                )
        except Exception:  # noqa: BLE001, S110 - interpreter shutdown: logging may be gone
            pass


class CheckpointLoadStatus:
    """What ``restore`` returns: assertions about what matched (values still waiting for
    their objects are assigned later whether or not this object is kept)."""

    def __init__(self, root, restorer: _Restorer):
        self._root, self._r, self._path = root, restorer, restorer._path

    def assert_consumed(self):
        """Every saved object found a live one, and every live object a saved value."""
        missing = self._r.unmatched_nodes()
        if missing:
            paths = _paths(self._r._nodes)
            raise AssertionError(
                f"Unresolved object in checkpoint {self._path}: "
                f"{paths.get(missing[0], missing[0])!r} ({len(missing)} unresolved)"
            )
        return self.assert_existing_objects_matched()

    def assert_existing_objects_matched(self):
        """Every object reachable from the root now has a value in the checkpoint."""
        _, objects, paths = object_graph(self._root)
        for obj, path in zip(objects, paths):
            if id(obj) not in self._r._matched_ids and (isinstance(obj, Variable) or children(obj)):
                raise AssertionError(
                    f"Object {path or 'root'!r} ({type(obj).__name__}) has no value in checkpoint {self._path}"
                )
        return self

    def assert_nontrivial_match(self):
        if len(self._r._live) <= 1:
            raise AssertionError(f"Nothing except the root object matched checkpoint {self._path}")
        return self

    def expect_partial(self):
        """Silence the warning about checkpoint values left unused."""
        self._r.partial = True
        return self

    def run_restore_ops(self, session=None) -> None:
        """Eager: values are assigned as they are matched; nothing to run."""

    def initialize_or_restore(self, session=None) -> None:
        """Eager: values are assigned as they are matched; nothing to run."""


def _paths(nodes: list) -> dict:
    out, queue = {0: "root"}, [0]
    while queue:
        i = queue.pop(0)
        for name, cid in nodes[i].get("children", ()):
            if cid not in out:
                out[cid] = name if i == 0 else f"{out[i]}/{name}"
                queue.append(cid)
    for i, node in enumerate(nodes):
        if i not in out and isinstance(node.get("tensor"), str):
            out[i] = node["tensor"][: -len(VALUE) - 1]
    return out


class InitializationOnlyStatus:
    """``restore(None)``: nothing restored, objects keep their initial values."""

    def assert_consumed(self):
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being restored.")

    assert_existing_objects_matched = assert_nontrivial_match = assert_consumed

    def expect_partial(self):
        return self

    def run_restore_ops(self, session=None) -> None:
        pass

    initialize_or_restore = run_restore_ops


# -- the public class ------------------------------------------------------------------------


def _file(path) -> str:
    path = os.fspath(path)
    return path if path.endswith(SUFFIX) else path + SUFFIX


class Checkpoint:
    """``tf.train.Checkpoint(root=None, **objects)``: groups trackable objects to save and
    restore together; each keyword becomes an attribute and a named dependency, and a
    ``root``'s own dependencies are the checkpoint's (``l1/kernel``, not ``root/l1/kernel``)."""

    def __init__(self, root=None, **kwargs):
        objects = dict(kwargs)
        if root is not None:  # root's own dependencies become the checkpoint's (TF's rule)
            objects["root"] = root
        object.__setattr__(self, "_root", root)
        for name, obj in objects.items():
            if type(obj).__name__ == "Iterator" and hasattr(obj, "element_spec"):
                raise ValueError(
                    f"Checkpoint: {name!r} is a tf.data iterator; saving an iterator's "
                    f"position is not supported yet (checkpoint the model and optimizer, "
                    f"and restart the dataset)"
                )
            if not _trackable(obj):
                raise ValueError(
                    f"`Checkpoint` was expecting a trackable object (a variable, module, "
                    f"layer, model, optimizer or checkpoint) for {name!r}, got {obj!r}"
                )
        object.__setattr__(self, "_objects", objects)

    @property
    def save_counter(self) -> Variable:
        """How many times ``save`` ran; created on first use (as in TF), so a Checkpoint
        used only to read matches checkpoints by its named objects alone."""
        counter = self.__dict__.get("_save_counter")
        if counter is None:
            counter = Variable(0, dtype="int64", trainable=False, name="save_counter")
            object.__setattr__(self, "_save_counter", counter)
            _module.notify(self)  # a restore waiting for it assigns it now
        return counter

    def __setattr__(self, name, value):
        """A trackable assigned to a public attribute becomes a dependency, as in TF."""
        if not name.startswith("_") and _trackable(value):
            self._objects[name] = value
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        objects = self.__dict__.get("_objects", {})
        if name in objects:
            return objects[name]
        raise AttributeError(f"'Checkpoint' object has no attribute {name!r}")

    def write(self, file_prefix, options=None) -> str:
        """Write a checkpoint to exactly ``file_prefix`` (no counter, no state file)."""
        file_prefix = os.fspath(file_prefix)
        folder = os.path.dirname(file_prefix)
        if folder:
            os.makedirs(folder, exist_ok=True)
        write_file(self, _file(file_prefix))
        return file_prefix

    def save(self, file_prefix, options=None) -> str:
        """Write ``<file_prefix>-<n>`` (n counts saves) and record it as the directory's latest."""
        from .manager import update_checkpoint_state

        self.save_counter.assign_add(1)
        path = self.write(f"{os.fspath(file_prefix)}-{int(self.save_counter.numpy())}")
        update_checkpoint_state(os.path.dirname(path) or ".", path)
        return path

    def read(self, save_path, options=None) -> CheckpointLoadStatus:
        """Restore values from ``save_path`` (a prefix ``save`` or ``write`` returned)."""
        save_path = os.fspath(save_path)
        path = _file(save_path)
        if not os.path.exists(path):
            from ..errors import NotFoundError

            raise NotFoundError(None, None, f"Failed to restore: no checkpoint file {path!r} (prefix {save_path!r})")
        nodes, data = read_file(path)
        return CheckpointLoadStatus(self, _Restorer(self, path, nodes, data))

    def restore(self, save_path, options=None):
        """Like ``read``, and the save counter takes the saved count; ``None`` restores
        nothing (start from scratch)."""
        if save_path is None:
            return InitializationOnlyStatus()
        status = self.read(save_path, options)
        self.save_counter  # noqa: B018 - created now (as TF does), so it takes the saved count
        return status


# -- inspecting a checkpoint -------------------------------------------------------------


def _resolve(ckpt_dir_or_file) -> str:
    """A checkpoint file from a directory (its latest checkpoint), a prefix or a file name."""
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        from .manager import latest_checkpoint

        latest = latest_checkpoint(path)
        if latest is None:
            from ..errors import NotFoundError

            raise NotFoundError(None, None, f"no checkpoint recorded in directory {path!r}")
        path = latest
    return _file(path)


class CheckpointReader:
    """``tf.train.load_checkpoint``: the saved tensors by key, without any objects."""

    def __init__(self, ckpt_dir_or_file):
        self._path = _resolve(ckpt_dir_or_file)
        _, self._data = read_file(self._path)

    def get_variable_to_shape_map(self) -> dict:
        return {k: list(e.shape) for k, (e, _) in self._data.items()}

    def get_variable_to_dtype_map(self) -> dict:
        return {k: e.dtype for k, (e, _) in self._data.items()}

    def has_tensor(self, key: str) -> bool:
        return key in self._data

    def get_tensor(self, key: str):
        """The saved value of ``key`` (a numpy array where numpy exists, as in TF)."""
        if key not in self._data:
            from ..errors import NotFoundError

            raise NotFoundError(None, None, f"Key {key!r} not found in checkpoint {self._path}")
        e, raw = self._data[key]
        return st.to_tensor(e, raw, e.dtype if e.dtype.name != "float16" else None).numpy()


def load_checkpoint(ckpt_dir_or_file) -> CheckpointReader:
    return CheckpointReader(ckpt_dir_or_file)


def list_variables(ckpt_dir_or_file) -> list:
    """``[(key, shape)]`` of a checkpoint's tensors, sorted by key."""
    return sorted(CheckpointReader(ckpt_dir_or_file).get_variable_to_shape_map().items())

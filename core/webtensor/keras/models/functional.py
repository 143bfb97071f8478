"""Functional models: a graph of layer calls from ``Input``s to outputs, run in depth order.

Construction and configs follow Keras 3 (layer order, node indices, ``inbound_nodes``),
so a Keras 3 config rebuilds the same graph and the same weight order.
"""
from __future__ import annotations

import collections

from ... import nest
from ...ops import math as M
from ...ops import array as A
from ...tensor import Tensor, convert
from .. import backend
from ..layers.input_layer import KerasTensor
from ..layers.ragged_support import check_input, standardize_input
from ..saving import deserialize_keras_object, register, serialize_keras_object
from .model import Model


def _node_key(op, index):
    return f"{op.name}_ib-{index}"


def map_graph(inputs, outputs):
    """(nodes by decreasing depth, operations in Keras's order, the set of node keys) for the graph."""
    flat_in = nest.flatten(inputs)
    input_ids = {id(t) for t in flat_in}
    finished, in_progress, nodes_desc, op_index = set(), set(), [], {}

    def visit(t):
        op, node_index, _ = t._keras_history
        node = op._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f"Tensor {t} from operation '{op.name}' is part of a cycle.")
        op_index.setdefault(op, len(op_index))
        in_progress.add(id(node))
        if not node.is_input and id(t) not in input_ids:
            for parent in node.input_tensors:
                visit(parent)
        finished.add(id(node))
        in_progress.discard(id(node))
        nodes_desc.append(node)

    for t in nest.flatten(outputs):
        if not isinstance(t, KerasTensor) or t._keras_history is None:
            raise ValueError(f"All `outputs` of a functional model must be KerasTensors from layer calls, got {t!r}")
        visit(t)
    node_depth, op_depth = {}, {}
    by_id = {}
    for node in reversed(nodes_desc):
        by_id[id(node)] = node
        depth = max(node_depth.get(id(node), 0), op_depth.get(node.operation, 0))
        op_depth[node.operation] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
            by_id[id(parent)] = parent
    for t in flat_in:
        op = t._keras_history[0]
        if op not in op_depth:
            op_depth[op] = 0
            op_index[op] = -1
            node_depth[id(op._inbound_nodes[0])] = 0
            by_id[id(op._inbound_nodes[0])] = op._inbound_nodes[0]
    ops_by_depth = collections.defaultdict(list)
    for op, d in op_depth.items():
        ops_by_depth[d].append(op)
    operations = []
    for d in sorted(ops_by_depth, reverse=True):
        operations.extend(sorted(ops_by_depth[d], key=lambda o: op_index[o]))
    nodes_by_depth = collections.defaultdict(list)
    for nid, d in node_depth.items():
        nodes_by_depth[d].append(by_id[nid])
    ordered = [n for d in sorted(nodes_by_depth, reverse=True) for n in nodes_by_depth[d]]
    computable = set(input_ids)
    for node in ordered:
        if node.is_input:
            computable.update(id(t) for t in node.output_tensors if id(t) in input_ids)
            if not any(id(t) in input_ids for t in node.output_tensors):
                raise ValueError(f"Graph disconnected: cannot find parent for tensor {node.output_tensors[0]} at "
                                 f"layer '{node.operation.name}'. The model's inputs are "
                                 f"{[t.name for t in flat_in]}.")
            continue
        for t in node.input_tensors:
            if id(t) not in computable:
                raise ValueError(f"Graph disconnected: cannot obtain value for tensor {t} at layer "
                                 f"'{node.operation.name}'. The model's inputs are {[x.name for x in flat_in]}.")
        computable.update(id(t) for t in node.output_tensors)
    keys = set()
    for node in ordered:
        keys.add(_node_key(node.operation, node.operation._inbound_nodes.index(node)))
    return ordered, operations, keys


@register("models")
class Functional(Model):
    _keras_module = "keras.src.models.functional"

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Model.__init__(self, name=name or backend.unique_name("functional"), trainable=trainable,
                       **{k: v for k, v in kwargs.items() if k == "dtype"})
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self.inputs = nest.flatten(inputs)
        self.outputs = nest.flatten(outputs)
        for t in self.inputs:
            if not isinstance(t, KerasTensor) or t._keras_history is None or \
                    not t._keras_history[0]._inbound_nodes[t._keras_history[1]].is_input:
                raise ValueError(f"All `inputs` values must be KerasTensors made by `tf.keras.Input`; got {t!r}")
        nodes, operations, keys = map_graph(inputs, outputs)
        self._operations = operations
        self._node_keys = keys
        self._run_nodes = [n for n in nodes if not n.is_input]
        for op in operations:
            self._track_layer(op)
        self.input_names = [t._keras_history[0].name for t in self.inputs]
        self.output_names = [t._keras_history[0].name for t in self.outputs]
        self._input_specs = [t._keras_history[0] for t in self.inputs]
        self.built = True

    @property
    def layers(self) -> list:
        return list(self._operations)

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    input_shape = property(lambda self: nest.map_structure(lambda t: t.shape, self._inputs_struct))
    output_shape = property(lambda self: nest.map_structure(lambda t: t.shape, self._outputs_struct))

    def _standardize_inputs(self, inputs) -> list:
        if isinstance(inputs, dict) and not isinstance(self._inputs_struct, dict):
            missing = [n for n in self.input_names if n not in inputs]
            if missing:
                raise ValueError(f"Missing data for input(s) {missing}. You passed a dict with keys "
                                 f"{sorted(inputs)}; expected keys {self.input_names}")
            flat = [inputs[n] for n in self.input_names]
        elif isinstance(self._inputs_struct, dict):
            flat = [inputs[k] for k in sorted(self._inputs_struct)] if isinstance(inputs, dict) else \
                nest.flatten(inputs)
        else:
            flat = nest.flatten(inputs) if len(self.inputs) > 1 or isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != len(self.inputs):
            raise ValueError(f'Layer "{self.name}" expects {len(self.inputs)} input(s), but it received {len(flat)} '
                             f"input tensors.")
        out, composite = [], []
        for i, (spec, x) in enumerate(zip(self.inputs, flat)):
            c = standardize_input(spec, x) if type(x) is not Tensor or spec.ragged or spec.sparse else None
            if c is not None and type(c) is not Tensor:  # ragged / sparse: layers/ragged_support.py
                check_input(spec, c, self.name, i)
                composite.append(i)
                out.append(c)
                continue
            t = c if c is not None else x if type(x) is Tensor else convert(x)
            want = spec.shape
            r = len(t.shape)
            if r == len(want) - 1 and want[-1] == 1:
                t = A.expand_dims(t, -1)
            elif r == len(want) + 1 and t.shape[-1] == 1:
                t = A.squeeze(t, -1)
            if t.dtype is not spec.dtype and t.dtype.kind == "f" and spec.dtype.kind == "f":
                t = M.cast(t, spec.dtype)
            out.append(t)
        dense = [i for i in range(len(out)) if i not in composite]
        self._check_inputs([self.inputs[i] for i in dense], [out[i] for i in dense])
        return out

    def call(self, inputs, training=None, mask=None):
        values = {id(kt): x for kt, x in zip(self.inputs, self._standardize_inputs(inputs))}

        def get(v):
            return values[id(v)] if isinstance(v, KerasTensor) else v

        for node in self._run_nodes:
            args = node.call_args
            if len(args) == 1 and not node.call_kwargs and isinstance(args[0], KerasTensor):
                out = node.operation(values[id(args[0])])
            else:
                out = node.operation(*[nest.map_structure(get, a) for a in args],
                                     **{k: nest.map_structure(get, v) for k, v in node.call_kwargs.items()})
            outs = node.output_tensors
            if len(outs) == 1 and not isinstance(out, (list, tuple, dict)):
                values[id(outs[0])] = out
            else:
                for kt, o in zip(outs, nest.flatten(out)):
                    values[id(kt)] = o
        return nest.pack_sequence_as(self._outputs_struct, [values[id(t)] for t in self.outputs])

    def compute_output_spec(self, inputs, training=None, mask=None):
        return nest.map_structure(lambda t: KerasTensor(t.shape, t.dtype), self._outputs_struct)

    def get_config(self) -> dict:
        reindex = {}
        for op in self._operations:
            kept = 1 if isinstance(op, Functional) else 0
            for i, node in enumerate(op._inbound_nodes):
                if _node_key(op, i) in self._node_keys:
                    reindex[_node_key(op, i)] = kept
                    kept += 1
        layers = []
        for op in self._operations:
            nodes = []
            for i, node in enumerate(op._inbound_nodes):
                if _node_key(op, i) in self._node_keys and node.input_tensors:
                    nodes.append(self._serialize_node(node))
            cfg = serialize_keras_object(op)
            cfg["name"] = op.name
            cfg["inbound_nodes"] = nodes
            layers.append(cfg)

        def tensor_config(t):
            op, index, tindex = t._keras_history
            return [op.name, reindex[_node_key(op, index)], tindex]

        return {"name": self.name, "trainable": self.trainable, "layers": layers,
                "input_layers": _map_tensors(self._inputs_struct, tensor_config),
                "output_layers": _map_tensors(self._outputs_struct, tensor_config)}

    def _serialize_node(self, node):
        def ser(x):
            if isinstance(x, KerasTensor):
                op, index, tindex = x._keras_history
                skipped = sum(1 for i in range(index) if _node_key(op, i) not in self._node_keys)
                return {"class_name": "__keras_tensor__",
                        "config": {"shape": list(x.shape), "dtype": x.dtype.name,
                                   "keras_history": [op.name, index - skipped, tindex]}}
            return serialize_keras_object(x)

        return {"args": [nest.map_structure(ser, a) if isinstance(a, (list, tuple, dict)) else ser(a)
                         for a in node.call_args],
                "kwargs": {k: nest.map_structure(ser, v) if isinstance(v, (list, tuple, dict)) else ser(v)
                           for k, v in node.call_kwargs.items()}}


def _map_tensors(structure, fn):
    if isinstance(structure, KerasTensor):
        return [fn(structure)]
    if isinstance(structure, dict):
        return {k: _map_tensors(v, fn)[0] if isinstance(v, KerasTensor) else _map_tensors(v, fn)
                for k, v in structure.items()}
    return [fn(t) if isinstance(t, KerasTensor) else _map_tensors(t, fn) for t in structure]


def functional_from_config(cls, config, custom_objects=None):
    """Rebuild the graph: create every layer, then replay the layer calls once their inputs exist."""
    created, pending = {}, {}

    for layer_data in config["layers"]:
        name = layer_data["name"]
        layer = deserialize_keras_object(layer_data, custom_objects, kind="layers")
        created[name] = layer
        pending[name] = list(layer_data.get("inbound_nodes", []))

    def resolve(x):
        if isinstance(x, KerasTensor) and x._pre_history is not None:
            lname, node_index, tindex = x._pre_history[:3]
            if lname not in created:
                raise ValueError(f"Unknown layer: {lname} (referenced by a node in the model config)")
            layer = created[lname]
            if len(layer._inbound_nodes) <= node_index:
                raise IndexError(lname)
            return layer._inbound_nodes[node_index].output_tensors[tindex]
        return x

    def process(layer, node_data):
        if isinstance(node_data, list):  # legacy Keras 2 format: [[name, node, tensor, kwargs], ...]
            ins = []
            kwargs = {}
            for entry in node_data:
                lname, ni, ti = entry[:3]
                if lname not in created:
                    raise ValueError(f"Invalid Functional model configuration. Missing node: {lname}")
                src = created[lname]
                if len(src._inbound_nodes) <= ni:
                    raise IndexError(lname)
                ins.append(src._inbound_nodes[ni].output_tensors[ti])
                if len(entry) > 3:
                    kwargs = entry[3]
            layer(ins[0] if len(ins) == 1 else ins, **kwargs)
            return
        args = deserialize_keras_object(node_data.get("args", []), custom_objects)
        kwargs = deserialize_keras_object(node_data.get("kwargs", {}), custom_objects)
        args = [nest.map_structure(resolve, a) if isinstance(a, (list, tuple, dict)) else resolve(a) for a in args]
        kwargs = {k: nest.map_structure(resolve, v) if isinstance(v, (list, tuple, dict)) else resolve(v)
                  for k, v in kwargs.items()}
        layer(*args, **kwargs)

    while any(pending.values()):
        progressed = False
        for layer_data in config["layers"]:
            name = layer_data["name"]
            queue = pending[name]
            while queue:
                try:
                    process(created[name], queue[0])
                except IndexError:
                    break
                queue.pop(0)
                progressed = True
        if not progressed:
            raise ValueError("Invalid Functional model configuration. The graph of the Functional model either "
                             "has loops or disconnected nodes. The following nodes failed to be resolved: "
                             f"{ {k: len(v) for k, v in pending.items() if v} }")

    def get_tensor(lname, node_index, tindex):
        if lname not in created:
            raise ValueError(f"Unknown layer in input_layers/output_layers: {lname}")
        layer = created[lname]
        if isinstance(layer, Functional):
            node_index -= 1
        return layer._inbound_nodes[node_index].output_tensors[tindex]

    def map_tensors(t):
        if isinstance(t, list) and len(t) == 3 and isinstance(t[0], str):
            return get_tensor(*t)
        if isinstance(t, dict):
            return {k: map_tensors(v) for k, v in t.items()}
        return [map_tensors(v) for v in t]

    inputs = map_tensors(config["input_layers"])
    outputs = map_tensors(config["output_layers"])
    if isinstance(inputs, list) and len(inputs) == 1 and not isinstance(config["input_layers"][0][0], list):
        inputs = inputs[0]
    if isinstance(outputs, list) and len(outputs) == 1 and not isinstance(config["output_layers"][0][0], list):
        outputs = outputs[0]
    target = Functional if cls is Model else cls
    return target(inputs=inputs, outputs=outputs, name=config.get("name"), trainable=config.get("trainable", True))



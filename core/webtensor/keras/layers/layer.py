"""``Layer``: weights, building from the first input shape, the call context
(``training``, masks, added losses), symbolic calls for functional models, configs.

A layer is called eagerly on tensors, or symbolically on ``KerasTensor``s to wire
a functional graph; the symbolic output shapes come from ``compute_output_shape``
when a layer defines one, else from running the layer on small zero inputs.
"""

from __future__ import annotations

import functools
import inspect
import weakref

from ... import autodiff, nest
from ... import dtypes as D
from ...ops import array as A
from ...ops import math as M
from ...composite import CompositeTensor
from ...module import Module
from ...saving import budget
from ...tensor import Tensor, Variable, convert, is_tensor
from .. import backend, constraints, initializers, regularizers
from .. import saving as _saving
from ..saving import register

_CTX: list = [None]  # training flag of the enclosing layer calls
_LOSSES: list = []  # (layer, loss) added by calls since the outermost call began
_SCOPE: list = []  # names of the layers being built (variable paths)
_MASKS: dict = {}  # id(tensor) -> (weakref(tensor), mask): Keras's _keras_mask


def get_keras_mask(x):
    entry = _MASKS.get(id(x))
    return entry[1] if entry is not None and entry[0]() is x else None


def set_keras_mask(x, mask) -> None:
    if mask is None or not isinstance(x, Tensor):
        return
    key = id(x)
    _MASKS[key] = (weakref.ref(x, lambda _, k=key: _MASKS.pop(k, None)), mask)


class KerasVariable(Variable):
    """A layer weight: a ``tf.Variable`` with Keras 3's ``name``/``path``, regularizer
    and constraint. Trainable variables are watched by tapes automatically."""

    __slots__ = ("_kname", "_path", "regularizer", "constraint")

    def __init__(self, value, trainable: bool, name: str, path: str, dtype, regularizer=None, constraint=None):
        super().__init__(value, trainable=trainable, name=path, dtype=dtype)
        self._kname, self._path = name, path
        self.regularizer, self.constraint = regularizer, constraint

    name = property(lambda self: self._kname)
    path = property(lambda self: self._path)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)

    def __repr__(self):
        return f"<KerasVariable shape={tuple(self.shape)}, dtype={self.dtype.name}, path={self._path}>"


def _policy_dtype(dtype) -> D.DType:
    if dtype is None:
        return backend.float_dtype()
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name", dtype.get("name"))
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        raise ValueError(f"dtype policy {dtype!r} is not supported; use float16, float32 or float64")
    if hasattr(dtype, "name") and not isinstance(dtype, D.DType) and hasattr(dtype, "compute_dtype"):
        dtype = dtype.name
    return D.as_dtype(dtype)


def _policy_config(dt: D.DType) -> dict:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dt.name}, "registered_name": None}


class InputSpec:
    """What a built layer accepts: rank bounds and known axis sizes (checked per call)."""

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim=None,
        max_ndim=None,
        min_ndim=None,
        axes=None,
        allow_last_axis_squeeze=False,
        name=None,
        optional=False,
    ):
        self.dtype, self.ndim, self.max_ndim, self.min_ndim = dtype, ndim, max_ndim, min_ndim
        self.shape = tuple(shape) if shape is not None else None
        if self.shape is not None:
            self.ndim = len(self.shape)
        self.axes = dict(axes or {})
        self.name, self.optional = name, optional


def _check_input_spec(layer, spec: InputSpec, shape: tuple, index: int = 0) -> None:
    def fail(what):
        raise ValueError(
            f'Input {index} of layer "{layer.name}" is incompatible with the layer: {what}, '
            f"but received input with shape {_shape_str(shape)}"
        )

    rank = len(shape)
    if spec.ndim is not None and rank != spec.ndim:
        fail(f"expected ndim={spec.ndim}, found ndim={rank}. Full shape received: {_shape_str(shape)}")
    if spec.min_ndim is not None and rank < spec.min_ndim:
        fail(f"expected min_ndim={spec.min_ndim}, found ndim={rank}")
    if spec.max_ndim is not None and rank > spec.max_ndim:
        fail(f"expected max_ndim={spec.max_ndim}, found ndim={rank}")
    for axis, value in spec.axes.items():
        if value is not None and -rank <= axis < rank and shape[axis] not in (value, None):
            fail(f"expected axis {axis} of input shape to have value {value}")
    if spec.shape is not None:
        for want, got in zip(spec.shape, shape):
            if want is not None and got is not None and want != got:
                fail(f"expected shape={_shape_str(spec.shape)}, found shape={_shape_str(shape)}")


def _shape_str(shape) -> str:
    shape = tuple(shape)
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _is_symbolic(args, kwargs) -> bool:
    from .input_layer import KerasTensor

    for x in args:
        if isinstance(x, KerasTensor):
            return True
        if isinstance(x, (list, tuple, dict)) and any(isinstance(v, KerasTensor) for v in nest.flatten(x)):
            return True
    for x in kwargs.values():
        if isinstance(x, KerasTensor) or (
            isinstance(x, (list, tuple, dict)) and any(isinstance(v, KerasTensor) for v in nest.flatten(x))
        ):
            return True
    return False


def _shape_of(x):
    return tuple(x.shape) if hasattr(x, "shape") and not isinstance(x, (list, tuple, dict)) else x


def _signature_info(cls) -> tuple:
    """(call accepts training, call accepts mask, call parameter names, build parameter names)."""
    info = cls.__dict__.get("_sig_cache")
    if info is None:
        call = inspect.signature(cls.call).parameters
        build = inspect.signature(cls.build).parameters
        varkw = any(p.kind is p.VAR_KEYWORD for p in call.values())
        info = (
            "training" in call or varkw,
            "mask" in call,
            [n for n in call if n != "self"],
            [n for n in build if n != "self"],
        )
        cls._sig_cache = info
    return info


def _scoped_build(build):
    """Wrap a layer's ``build``: weights get paths under the layer's name, nothing is taped,
    and the layer is marked built with its build shapes recorded (as Keras does)."""

    @functools.wraps(build)
    def wrapper(self, *args, **kwargs):
        push = not _SCOPE or _SCOPE[-1] != self.name
        if push:
            _SCOPE.append(self.name)
        try:
            with autodiff.no_record():
                out = build(self, *args, **kwargs)
        finally:
            if push:
                _SCOPE.pop()
        self.built = True
        if self.__dict__.get("_build_shapes") is None:
            if len(args) == 1 and not kwargs:
                self._build_shapes = {"input_shape": args[0]}
            elif kwargs and not args:
                self._build_shapes = {"shapes_dict": dict(kwargs)}
        return out

    wrapper._scoped = True
    return wrapper


class Layer(Module):
    """Base layer: override ``build(input_shape)``, ``call(inputs, ...)`` and ``get_config``."""

    _keras_module = "keras.layers"

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        if not _saving.is_public_class(cls):  # a user class: remember its arguments for get_config
            obj.__dict__["_auto_config"] = _saving.capture_auto_config(cls, args, kwargs)
        return obj

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_scoped", False):
            cls.build = _scoped_build(build)

    def __init__(
        self,
        *,
        activity_regularizer=None,
        trainable: bool = True,
        dtype=None,
        autocast: bool = True,
        name: str | None = None,
        input_shape=None,
        batch_input_shape=None,
        input_dim=None,
        batch_size=None,
        **kwargs,
    ):
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        d = self.__dict__
        d.setdefault("_tracked_layers", [])
        d.setdefault("_trainable_variables", [])
        d.setdefault("_non_trainable_variables", [])
        self.name = name or backend.unique_name(backend.to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self._layer_dtype = _policy_dtype(dtype)
        self.autocast = autocast
        self.built = False
        self._inbound_nodes: list = []
        self._build_shapes = None
        self.input_spec = None
        self.supports_masking = getattr(self, "supports_masking", False)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is None and input_shape is not None:
            batch_input_shape = (batch_size,) + tuple(input_shape)
        self._batch_input_shape = tuple(batch_input_shape) if batch_input_shape is not None else None

    # -- attribute tracking --------------------------------------------------------------
    def __setattr__(self, name, value):
        if isinstance(value, Layer) and value is not self:
            self._track_layer(value)
        elif isinstance(value, (list, tuple, dict)) and value and not name.startswith("__"):
            for v in value.values() if isinstance(value, dict) else value:
                if isinstance(v, Layer):
                    self._track_layer(v)
        elif isinstance(value, Variable) and not isinstance(value, KerasVariable):
            lst = "_trainable_variables" if value.trainable else "_non_trainable_variables"
            own = self.__dict__.setdefault(lst, [])
            if not any(v is value for v in own):
                own.append(value)
        Module.__setattr__(self, name, value)

    def _track_layer(self, layer):
        tracked = self.__dict__.setdefault("_tracked_layers", [])
        if not any(t is layer for t in tracked):
            tracked.append(layer)

    # -- properties --------------------------------------------------------------------------
    dtype = property(lambda self: self._layer_dtype)
    compute_dtype = dtype
    variable_dtype = dtype
    dtype_policy = property(lambda self: _policy_config(self._layer_dtype))

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        self._trainable = value
        for v in self._trainable_variables:
            v.trainable = value
        for layer in self._tracked_layers:
            layer.trainable = value

    @property
    def layers(self) -> list:
        return list(self._tracked_layers)

    def _flatten_layers(self, include_self: bool = True) -> list:
        out, seen = ([self] if include_self else []), {id(self)}
        stack = list(reversed(self._tracked_layers))
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            stack.extend(reversed(layer._tracked_layers))
        return out

    @property
    def weights(self) -> list:
        """Own weights (trainable first), then each sublayer's, without duplicates (Keras 3 order)."""
        out, seen = [], set()
        for v in self._trainable_variables + self._non_trainable_variables:
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        for layer in self._tracked_layers:
            for v in layer.weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    variables = weights

    @property
    def trainable_weights(self) -> list:
        return [v for v in self.weights if v.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self) -> list:
        return [v for v in self.weights if not v.trainable] if self.trainable else self.weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def get_weights(self) -> list:
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights) -> None:
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(
                f"Layer {self.name} weight shape mismatch: you called `set_weights(weights)` on "
                f"layer '{self.name}' with a weight list of length {len(weights)}, but the layer "
                f"was expecting {len(params)} weights."
            )
        for v, w in zip(params, weights):
            shape = tuple(w.shape) if hasattr(w, "shape") else None
            if shape is not None and shape != tuple(v.shape):
                raise ValueError(
                    f"Layer {self.name} weight shape {tuple(v.shape)} is not compatible with "
                    f"provided weight shape {shape} (variable {v.path})."
                )
            if is_tensor(w):
                w = w if w.dtype is v.dtype else M.cast(w, v.dtype)
            v.assign(w if is_tensor(w) else convert(w, v.dtype))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't "
                f"built. You can build it manually via: `layer.build(input_shape)`."
            )
        n = 0
        for v in self.weights:
            k = 1
            for d in v.shape:
                k *= d
            n += k
        return n

    @property
    def losses(self) -> list:
        """Losses added during the last call (``add_loss``, activity regularizers) plus the
        weight regularization penalties, for this layer and its sublayers."""
        return self._losses_from(self._loss_sources())

    def _loss_sources(self):
        """(ids of this layer and its sublayers, [(variable, regularizer)]): what ``losses`` reads."""
        layers = self._flatten_layers()
        regs = [
            (v, v.regularizer)
            for layer in layers
            for v in layer._trainable_variables + layer._non_trainable_variables
            if getattr(v, "regularizer", None) is not None
        ]
        return {id(layer) for layer in layers}, regs

    @staticmethod
    def _losses_from(sources) -> list:
        ids, regs = sources
        out = [loss for owner, loss in _LOSSES if id(owner) in ids] if _LOSSES else []
        out.extend(reg(v) for v, reg in regs if v.trainable)
        return out

    def add_loss(self, loss) -> None:
        _LOSSES.append((self, loss))

    # -- weights -------------------------------------------------------------------------------
    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable: bool = True,
        autocast: bool = True,
        regularizer=None,
        constraint=None,
        aggregation="none",
        overwrite_with_gradient=False,
        name: str | None = None,
    ) -> KerasVariable:
        dt = D.as_dtype(dtype) if dtype is not None else self._layer_dtype
        if initializer is None:
            initializer = "glorot_uniform" if dt.kind == "f" else "zeros"
        init = initializers.get(initializer)
        shape = tuple(int(d) for d in (shape or ()))
        name = name or f"variable_{len(self._trainable_variables) + len(self._non_trainable_variables)}"
        scope = _SCOPE if _SCOPE and _SCOPE[-1] == self.name else _SCOPE + [self.name]
        path = "/".join(scope + [name])
        budget.charge(shape, dt)  # a model rebuilt from a file allocates only what the file justifies
        with autodiff.no_record():
            value = init(shape, dt) if callable(init) else init
        v = KerasVariable(value, trainable, name, path, dt, regularizers.get(regularizer), constraints.get(constraint))
        (self._trainable_variables if trainable else self._non_trainable_variables).append(v)
        return v

    def add_variable(
        self,
        shape,
        initializer,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        name=None,
    ):
        return self.add_weight(shape, initializer, dtype, trainable, autocast, regularizer, constraint, name=name)

    # -- build / call ----------------------------------------------------------------------------
    def build(self, input_shape=None) -> None:
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def _maybe_build(self, args, kwargs) -> None:
        if self.built:
            return
        _, _, call_names, build_names = _signature_info(type(self))
        if len(build_names) <= 1:
            shapes = (
                nest.map_structure(_shape_of, args[0]) if args else nest.map_structure(_shape_of, kwargs[call_names[0]])
            )
            self._build_shapes = {"input_shape": shapes}
            call = lambda: self.build(shapes)  # noqa: E731
        else:
            bound = dict(zip(call_names, args))
            bound.update({k: v for k, v in kwargs.items() if k in call_names})
            shapes = {
                f"{k}_shape": nest.map_structure(_shape_of, v)
                for k, v in bound.items()
                if f"{k}_shape" in build_names and v is not None
            }
            self._build_shapes = {"shapes_dict": shapes}
            call = lambda: self.build(**shapes)  # noqa: E731
        _SCOPE.append(self.name)
        try:
            with autodiff.no_record():
                call()
        finally:
            _SCOPE.pop()
        self.built = True

    def __call__(self, *args, **kwargs):
        x = args[0] if args else None
        if type(x) is not Tensor:
            if _is_symbolic(args, kwargs):
                return self._symbolic_call(args, kwargs)
            if args:
                args = (self._convert_input(x),) + args[1:]
        elif x.dtype is not self._layer_dtype and x.dtype.kind == "f" and self.autocast:
            args = (M.cast(x, self._layer_dtype),) + args[1:]
        if not self.built:
            self._maybe_build(args, kwargs)
        if self.input_spec is not None and args and type(args[0]) is Tensor:
            _check_input_spec(self, self.input_spec, tuple(args[0].shape))
        has_training, has_mask, _, _ = _signature_info(type(self))
        training = kwargs.get("training")
        outer = _CTX[-1]
        if training is None:
            training = outer
            if has_training and training is not None:
                kwargs["training"] = training
        elif not has_training:
            del kwargs["training"]
        if len(_CTX) == 1:
            _LOSSES.clear()
        prev_mask = get_keras_mask(args[0]) if args and _MASKS else None
        if has_mask and prev_mask is not None and kwargs.get("mask") is None:
            kwargs["mask"] = prev_mask
        _CTX.append(training)
        try:
            outputs = self.call(*args, **kwargs)
        finally:
            _CTX.pop()
        if self.activity_regularizer is not None:
            for o in nest.flatten(outputs):
                if isinstance(o, Tensor):
                    loss = self.activity_regularizer(o)
                    self.add_loss(loss / float(o.shape[0]) if o.shape.rank else loss)
        if self.supports_masking and (prev_mask is not None or type(self).compute_mask is not Layer.compute_mask):
            m = self.compute_mask(args[0], kwargs.get("mask", prev_mask))
            if m is not None:
                for o in nest.flatten(outputs):
                    set_keras_mask(o, m)
        return outputs

    def _convert_input(self, x):
        def conv(v):
            if isinstance(v, Tensor):
                t = v
            elif isinstance(v, CompositeTensor):  # RaggedTensor / SparseTensor: layers that take them
                from .ragged_support import autocast

                return autocast(v, self)
            elif isinstance(v, Variable):
                t = v.value()
            elif v is None or isinstance(v, (str, bool)):
                return v
            else:
                t = convert(v)
            if self.autocast and t.dtype.kind == "f" and t.dtype is not self._layer_dtype:
                t = M.cast(t, self._layer_dtype)
            return t

        if isinstance(x, (list, tuple, dict)):
            return nest.map_structure(conv, x)
        return conv(x)

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask if self.supports_masking else None

    # -- symbolic calls (functional API) ------------------------------------------------------------
    def _symbolic_call(self, args, kwargs):
        from .input_layer import Node

        if not self.built:
            self._maybe_build(args, kwargs)
        from .ragged_support import output_spec

        outputs = output_spec(self, args, kwargs)  # ragged/sparse KerasTensors in: probe stand-ins
        if outputs is None:
            outputs = self.compute_output_spec(*args, **kwargs)
        Node(self, args, kwargs, outputs)
        return outputs

    def compute_output_shape(self, input_shape, *args, **kwargs):
        """Output shape(s) for ``input_shape`` (None = unknown); layers that can say it
        directly override this, the default runs the layer on zeros (``compute_output_spec``)."""
        from .input_layer import KerasTensor

        inputs = _map_shapes(lambda s: KerasTensor(s, self.dtype), input_shape)
        if not self.built:
            self._maybe_build((inputs,), {})
        return nest.map_structure(lambda kt: kt.shape, self.compute_output_spec(inputs))

    def compute_output_spec(self, *args, **kwargs):
        """KerasTensors for the outputs: from ``compute_output_shape`` if the layer has one, else
        from running the layer on zeros twice (dims that follow unknown input dims become None)."""
        from .input_layer import KerasTensor

        if type(self).compute_output_shape is not Layer.compute_output_shape:
            shapes = self.compute_output_shape(nest.map_structure(_shape_of, args[0]))
            dt = self._layer_dtype
            if _is_shape(shapes):
                return KerasTensor(shapes, dt)
            return _map_shapes(lambda s: KerasTensor(s, dt), shapes)  # a list of shapes: one each
        flat = [x for x in nest.flatten((args, kwargs)) if isinstance(x, KerasTensor)]
        unknown = any(d is None for kt in flat for d in kt.shape)
        first = _probe(self, args, kwargs, 2)
        second = _probe(self, args, kwargs, 3) if unknown else first

        def spec(a, b):
            if not is_tensor(a):
                return a
            shape = tuple(x if x == y else None for x, y in zip(a.shape, b.shape))
            return KerasTensor(shape, a.dtype)

        return nest.map_structure(spec, first, second)

    # -- configs ------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": _policy_config(self._layer_dtype)}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return _saving.default_config(self, config) if _saving.uses_default_config(self) else config

    get_config._keras_default = True

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if "batch_shape" in config and cls.__name__ != "InputLayer":
            config["batch_input_shape"] = config.pop("batch_shape")
        return cls(**config)

    def get_build_config(self):
        if self._build_shapes is None:
            return None
        if "input_shape" in self._build_shapes:
            return {"input_shape": _shapes_to_lists(self._build_shapes["input_shape"])}
        return {"shapes_dict": _shapes_to_lists(self._build_shapes["shapes_dict"])}

    def build_from_config(self, config) -> None:
        if not config:
            return
        _SCOPE.append(self.name)
        try:
            with autodiff.no_record():
                if "input_shape" in config:
                    self.build(_lists_to_shapes(config["input_shape"]))
                    self._build_shapes = {"input_shape": _lists_to_shapes(config["input_shape"])}
                elif "shapes_dict" in config:
                    shapes = {k: _lists_to_shapes(v) for k, v in config["shapes_dict"].items()}
                    self.build(**shapes)
                    self._build_shapes = {"shapes_dict": shapes}
        finally:
            _SCOPE.pop()
        self.built = True

    # -- Keras 3 weight store (used by model files) ----------------------------------------------------
    def save_own_variables(self, store: dict) -> None:
        for i, v in enumerate(self._trainable_variables + self._non_trainable_variables):
            store[str(i)] = v

    def load_own_variables(self, store) -> None:
        own = self._trainable_variables + self._non_trainable_variables
        if len(store) != len(own):
            raise ValueError(
                f"Layer '{self.name}' expected {len(own)} variables, but received {len(store)} "
                f"variables during loading. Expected: {[v.name for v in own]}"
            )
        for i, v in enumerate(own):
            v.assign(store[str(i)])

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _probe(layer, args, kwargs, fill):
    """Run ``layer`` on zeros shaped like the KerasTensors (unknown dims = fill), untaped."""
    from .input_layer import KerasTensor

    def concrete(x):
        if isinstance(x, KerasTensor):
            budget.charge_probe(tuple(fill if d is None else d for d in x.shape), x.dtype)
            return A.zeros(tuple(fill if d is None else d for d in x.shape), x.dtype)
        return x

    cargs = nest.map_structure(concrete, list(args))
    ckw = {k: nest.map_structure(concrete, v) for k, v in kwargs.items()}
    if _signature_info(type(layer))[0]:
        ckw.setdefault("training", False)
    n = len(_LOSSES)
    with autodiff.no_record():
        _CTX.append(False)
        try:
            out = layer.call(*cargs, **ckw)
        finally:
            _CTX.pop()
    del _LOSSES[n:]
    return out


def _map_shapes(fn, s):
    """Apply fn to each shape in a structure of shapes (a shape is a tuple/list of ints/None)."""
    if _is_shape(s):
        return fn(tuple(s))
    if isinstance(s, dict):
        return {k: _map_shapes(fn, v) for k, v in s.items()}
    return [_map_shapes(fn, v) for v in s]


def _is_shape(s) -> bool:
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)


def _shapes_to_lists(s):
    if _is_shape(s):
        return list(s)
    if isinstance(s, dict):
        return {k: _shapes_to_lists(v) for k, v in s.items()}
    if isinstance(s, (list, tuple)):
        return [_shapes_to_lists(v) for v in s]
    return s


def _lists_to_shapes(s):
    if _is_shape(s):
        return tuple(s)
    if isinstance(s, dict):
        return {k: _lists_to_shapes(v) for k, v in s.items()}
    if isinstance(s, (list, tuple)):
        return [_lists_to_shapes(v) for v in s]
    return s


register("layers")(Layer)

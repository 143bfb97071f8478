"""Keras 3's object (de)serialization: ``{"module", "class_name", "config", "registered_name"}``.

One registry holds every public Keras class and function by kind ("layers",
"losses", ...); ``get``-style lookups by string, config dicts and model files all
go through it. Nothing here executes code from a config: lambdas are refused.
``save_model``/``load_model`` delegate to ``webtensor.saving`` (the model file).
"""

from __future__ import annotations

import types

from ..tensor import is_tensor

_REGISTRY: dict = {}  # kind -> {name: object}
_CUSTOM: dict = {}  # "package>Name" -> object
_CUSTOM_NAMES: dict = {}  # object -> "package>Name"
_SCOPE: list = [{}]  # custom_objects of the deserializations in progress

KIND_MODULES = {
    "layers": "keras.layers",
    "losses": "keras.losses",
    "metrics": "keras.metrics",
    "optimizers": "keras.optimizers",
    "schedules": "keras.optimizers.schedules",
    "initializers": "keras.initializers",
    "regularizers": "keras.regularizers",
    "constraints": "keras.constraints",
    "activations": "keras.activations",
    "models": "keras",
}
_MODULE_KINDS = {v: k for k, v in KIND_MODULES.items()}
_MODULE_KINDS.update(
    {"keras.src.models.functional": "models", "keras.models": "models", "keras.src.models.sequential": "models"}
)


def register(kind: str, *aliases: str):
    """Class/function decorator: make ``obj`` findable by name (and aliases) for ``kind``."""

    def deco(obj):
        table = _REGISTRY.setdefault(kind, {})
        table[obj.__name__] = obj
        for a in aliases:
            table[a] = obj
        if isinstance(obj, type):
            obj._keras_module = KIND_MODULES[kind]
        return obj

    return deco


def names(kind: str) -> list:
    return sorted(_REGISTRY.get(kind, {}))


def lookup(kind: str, name: str, what: str | None = None):
    """The registered object called ``name``, or an error listing the valid names."""
    obj = _SCOPE[-1].get(name) or _CUSTOM.get(name) or _REGISTRY.get(kind, {}).get(name)
    if obj is None:
        label = what or kind.rstrip("s")
        raise ValueError(
            f"Unknown {label}: '{name}'. Valid names: {', '.join(names(kind))}. Custom "
            f"objects must be passed via `custom_objects` or registered with "
            f"`tf.keras.saving.register_keras_serializable()`."
        )
    return obj


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Register a user class/function so configs naming ``package>name`` can rebuild it."""

    def deco(obj):
        key = f"{package}>{name or obj.__name__}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        _CUSTOM[key] = obj
        _CUSTOM_NAMES[obj] = key
        return obj

    return deco


def get_registered_name(obj) -> str:
    return _CUSTOM_NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name: str, custom_objects=None, module_objects=None):
    for table in (custom_objects or {}, _SCOPE[-1], _CUSTOM, module_objects or {}):
        if name in table:
            return table[name]
    return None


def is_known_class(name: str, custom_objects=None) -> bool:
    """Whether a config's ``class_name`` can be rebuilt here: built in, passed in ``custom_objects``,
    in a scope, or registered (under ``package>name`` too: a config names the bare class)."""
    if get_registered_object(name, custom_objects) is not None or any(
        name in _REGISTRY.get(kind, {}) for kind in ("layers", "models")
    ):
        return True
    return any(key.rsplit(">", 1)[-1] == name for key in _CUSTOM)


def known_layer(custom_objects=None):
    """``is_known_class`` with ``custom_objects`` bound: the predicate a config check
    (``saving.validate.check_layers``) is given, so the file format never imports Keras."""
    return lambda name: is_known_class(name, custom_objects)


def is_public_class(cls) -> bool:
    """A built-in Keras class (registered under its own module's kind), not a user's subclass."""
    return _REGISTRY.get(_MODULE_KINDS.get(getattr(cls, "_keras_module", ""), ""), {}).get(cls.__name__) is cls


def sublayer_segments(layer) -> list:
    """``(segment, sublayer)`` naming each tracked sublayer of ``layer`` in weight paths.

    Built-in layers and functional/sequential models name a sublayer by its layer name (the
    config keeps those). A user's subclassed layer or model names it by the attribute that
    holds it (``l_1``, ``blocks/0``), Keras 3's object path: auto-generated layer names
    (``linear_3``) differ between two instances, attribute names do not."""
    from .models.functional import Functional
    from .models.sequential import Sequential

    subs = list(getattr(layer, "layers", None) or [])
    if is_public_class(type(layer)) or isinstance(layer, (Functional, Sequential)):
        return [(s.name, s) for s in subs]
    found: dict = {}
    for attr, value in vars(layer).items():
        if attr in _INTERNAL_ATTRS:
            continue
        if isinstance(value, dict):
            items = [(f"{attr}/{k}", v) for k, v in value.items()]
        elif isinstance(value, (list, tuple)):
            items = [(f"{attr}/{i}", v) for i, v in enumerate(value)]
        else:
            items = [(attr, value)]
        for seg, v in items:
            found.setdefault(id(v), seg)
    return [(found.get(id(s), s.name), s) for s in subs]


# -- Keras 3's default get_config for user classes -------------------------------------------------

_AUTO_TYPES = (str, int, float, bool, type(None))


def capture_auto_config(cls, args: tuple, kwargs: dict):
    """The constructor arguments of a new ``cls(...)``, by name, when all are plain JSON
    values (Keras 3's ``_auto_config``), else None. numpy scalars count as their values."""
    import inspect

    try:
        names = inspect.getfullargspec(cls.__init__).args[1:]
    except TypeError:
        return None
    config = dict(kwargs)
    config.update(zip(names, args))
    flat = []
    stack = list(config.values())
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
        else:
            flat.append(v)
    if not all(
        isinstance(v, _AUTO_TYPES) or (type(v).__module__ == "numpy" and getattr(v, "ndim", 1) == 0) for v in flat
    ):
        return None
    return {k: (v.item() if type(v).__module__ == "numpy" else v) for k, v in config.items()}


def default_config(obj, base: dict) -> dict:
    """``get_config`` of a user layer/model that does not override it: ``base`` plus the captured
    constructor arguments; base keys ``__init__`` cannot take are dropped (Keras 3's rule)."""
    import inspect

    auto = obj.__dict__.get("_auto_config")
    if auto is None:
        cls = type(obj).__name__
        raise NotImplementedError(
            f"Object {cls} was created by passing non-serializable argument values in `__init__()`, and "
            f"therefore the object must override `get_config()` in order to be serializable. Please "
            f"implement `get_config()`."
        )
    config = {**base, **auto}
    spec = inspect.getfullargspec(type(obj).__init__)
    if spec.varkw is None:
        for key in set(base) - set(spec.args[1:]) - set(spec.kwonlyargs):
            config.pop(key, None)
    return config


def uses_default_config(obj) -> bool:
    """A user class (not a built-in) whose ``get_config`` is the base one."""
    return not is_public_class(type(obj)) and getattr(type(obj).get_config, "_keras_default", False)


_INTERNAL_ATTRS = frozenset({"_tracked_layers", "_inbound_nodes", "_outbound_nodes", "_layers"})


class CustomObjectScope:
    """``with custom_object_scope({"MyLayer": MyLayer}):`` while deserializing."""

    def __init__(self, custom_objects=None):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        _SCOPE.append({**_SCOPE[-1], **self.custom_objects})
        return self

    def __exit__(self, *exc):
        _SCOPE.pop()
        return False


custom_object_scope = CustomObjectScope


# -- serialize -----------------------------------------------------------------------------------


def serialize_keras_object(obj):
    """A JSON-ready description of ``obj`` in Keras 3's layout."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return serialize_dict(obj)
    from .layers.input_layer import KerasTensor

    if isinstance(obj, KerasTensor):
        hist = obj._keras_history
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": list(obj.shape),
                "dtype": obj.dtype.name,
                "keras_history": [hist[0].name, hist[1], hist[2]] if hist else None,
            },
        }
    if is_tensor(obj):
        return {"class_name": "__tensor__", "config": {"value": obj.numpy().tolist(), "dtype": obj.dtype.name}}
    if hasattr(obj, "as_list") and hasattr(obj, "rank"):  # TensorShape
        return obj.as_list() if obj.rank is not None else None
    if hasattr(obj, "is_floating") and hasattr(obj, "size"):  # DType
        return obj.name
    if type(obj).__module__ == "numpy":
        return obj.tolist()
    if isinstance(obj, types.FunctionType):
        return _serialize_function(obj)
    return _serialize_object(obj)


def serialize_dict(d: dict) -> dict:
    return {k: serialize_keras_object(v) for k, v in d.items()}


def _serialize_function(fn):
    if fn.__name__ == "<lambda>":
        return serialize_lambda(fn)
    custom = _CUSTOM_NAMES.get(fn)
    for kind, table in _REGISTRY.items():
        if custom is None and table.get(fn.__name__) is fn:
            return {
                "module": KIND_MODULES[kind],
                "class_name": "function",
                "config": fn.__name__,
                "registered_name": fn.__name__,
            }
    return {
        "module": fn.__module__,
        "class_name": "function",
        "config": custom or fn.__name__,
        "registered_name": custom or fn.__name__,
    }


def _serialize_object(obj):
    if not hasattr(obj, "get_config"):
        raise TypeError(
            f"Cannot serialize object {obj!r} of type {type(obj).__name__}: to be "
            f"serializable, a class must implement get_config()"
        )
    cls = type(obj)
    custom = _CUSTOM_NAMES.get(cls)
    public = (
        custom is None
        and _REGISTRY.get(_MODULE_KINDS.get(getattr(cls, "_keras_module", ""), ""), {}).get(cls.__name__) is cls
    )
    out = {
        "module": cls._keras_module if public else cls.__module__,
        "class_name": getattr(cls, "_keras_class_name", cls.__name__),
        "config": serialize_dict(obj.get_config()),
        "registered_name": None if public else (custom or cls.__name__),
    }
    build = getattr(obj, "get_build_config", None)
    build = build() if build else None
    if build is not None:
        out["build_config"] = serialize_dict(build)
    compile_cfg = getattr(obj, "get_compile_config", None)
    compile_cfg = compile_cfg() if compile_cfg else None
    if compile_cfg is not None:
        out["compile_config"] = serialize_dict(compile_cfg)
    return out


# -- deserialize ---------------------------------------------------------------------------------


def deserialize_keras_object(config, custom_objects=None, safe_mode: bool = True, kind: str | None = None, **kwargs):
    """Rebuild an object from ``serialize_keras_object``'s output (or a registered name)."""
    with CustomObjectScope(custom_objects), SafeModeScope(safe_mode and _SAFE[-1]):
        return _deserialize(config, kind)


def _deserialize(config, kind):
    if config is None or isinstance(config, (int, float, bool)):
        return config
    if isinstance(config, str):
        return lookup(kind, config) if kind else config
    if isinstance(config, (list, tuple)):
        return [_deserialize(x, None) for x in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {k: _deserialize(v, None) for k, v in config.items()}
    name, inner = config["class_name"], config["config"] if config["config"] is not None else {}
    special = _SPECIAL.get(name)
    if special is not None:
        return special(inner)
    module = config.get("module")
    kind = _MODULE_KINDS.get(module, kind)
    registered = config.get("registered_name")
    if name == "function":
        key = registered if isinstance(registered, str) and ">" in registered else inner
        return lookup(kind or "activations", key, "function")
    scope = _SCOPE[-1]
    cls = (
        scope.get(name)
        or (scope.get(registered) if registered else None)
        or (_CUSTOM.get(registered) if registered else None)
    )
    if cls is None:
        cls = lookup(kind, name, "class") if kind else _find_any(name)
    if isinstance(cls, types.FunctionType):
        return cls
    if not isinstance(inner, dict):
        raise TypeError(f"Expected 'config' to be a dict for {name}, got {type(inner).__name__}")
    obj = cls.from_config(inner)
    build = config.get("build_config")
    if build and not getattr(obj, "built", True):
        obj.build_from_config(build)
    comp = config.get("compile_config")
    if comp and hasattr(obj, "compile_from_config"):
        obj.compile_from_config(comp)
    return obj


def _find_any(name):
    for table in _REGISTRY.values():
        if name in table:
            return table[name]
    raise ValueError(
        f"Unknown class: '{name}'. Custom objects must be passed via `custom_objects` or "
        f"registered with `tf.keras.saving.register_keras_serializable()`."
    )


def _keras_tensor(inner):
    from .layers.input_layer import KerasTensor

    kt = KerasTensor(inner["shape"], inner["dtype"])
    kt._pre_history = inner.get("keras_history")
    return kt


def _tensor(inner):
    from ..tensor import constant

    return constant(inner["value"], dtype=inner["dtype"])


# -- code in configs: only with safe_mode=False ---------------------------------------------------

_SAFE: list = [True]  # safe mode of the (de)serializations in progress


class SafeModeScope:
    """``with SafeModeScope(False):`` lets the enclosed (de)serialization carry Python code."""

    def __init__(self, safe_mode=True):
        self.safe_mode = _SAFE[-1] if safe_mode is None else bool(safe_mode)

    def __enter__(self):
        _SAFE.append(self.safe_mode)
        return self

    def __exit__(self, *exc):
        _SAFE.pop()
        return False


def in_safe_mode() -> bool:
    return _SAFE[-1]


def enable_unsafe_deserialization() -> None:
    """``keras.config.enable_unsafe_deserialization()``: allow code in configs from now on."""
    _SAFE[0] = False


def serialize_lambda(fn) -> dict:
    """A lambda as Keras 3's ``__lambda__`` config (marshalled bytecode, base64): only with
    ``safe_mode=False``, since loading it runs that code. The Python version is recorded
    because bytecode is only readable by the same minor version."""
    if _SAFE[-1]:
        raise ValueError(
            "Cannot serialize a Python lambda in safe mode: the config would carry code that "
            "runs when loaded. Pass safe_mode=False (e.g. keras.saving.save_model(model, path, "
            "safe_mode=False)) if you trust whoever loads it, or use a named function registered "
            "with tf.keras.saving.register_keras_serializable()."
        )
    import base64
    import marshal
    import sys

    closure = None if not fn.__closure__ else [serialize_keras_object(c.cell_contents) for c in fn.__closure__]
    return {
        "class_name": "__lambda__",
        "config": {
            "code": base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii"),
            "defaults": serialize_keras_object(list(fn.__defaults__ or ())) or None,
            "closure": closure,
            "python": "%d.%d" % sys.version_info[:2],
        },
    }


def _refuse_lambda(inner):
    if _SAFE[-1]:
        raise ValueError(
            "Requested the deserialization of a Python lambda: loading it executes code from the "
            "file, so it is disallowed by default. If you trust the source, pass safe_mode=False "
            "to load_model / deserialize_keras_object (or call "
            "keras.config.enable_unsafe_deserialization())."
        )
    import base64
    import marshal
    import sys

    here = "%d.%d" % sys.version_info[:2]
    if inner.get("python") not in (None, here):
        raise ValueError(
            f"This lambda was saved by Python {inner['python']}; its bytecode cannot be loaded by "
            f"Python {here}. Rebuild the model in Python instead."
        )
    try:
        code = marshal.loads(base64.b64decode(inner["code"]))
    except (ValueError, EOFError, TypeError, KeyError) as e:
        raise ValueError(
            f"Could not load the lambda's code ({e}): it was saved by another Python version or is corrupt"
        ) from None
    defaults = tuple(_deserialize(d, None) for d in (inner.get("defaults") or ())) or None
    closure = inner.get("closure")
    cells = None if not closure else tuple(types.CellType(_deserialize(c, None)) for c in closure)
    return types.FunctionType(code, _lambda_globals(), "<lambda>", defaults, cells)


def _lambda_globals() -> dict:
    """What a loaded lambda sees as globals: builtins and ``tf`` (Keras gives it its module's)."""
    import builtins

    import webtensor

    return {"__builtins__": builtins, "tf": webtensor, "keras": webtensor.keras}


_SPECIAL = {
    "__keras_tensor__": _keras_tensor,
    "__tensor__": _tensor,
    "__numpy__": _tensor,
    "__bytes__": lambda inner: inner["value"].encode("utf-8"),
    "__ellipsis__": lambda inner: Ellipsis,
    "__slice__": lambda inner: slice(inner["start"], inner["stop"], inner["step"]),
    "__lambda__": _refuse_lambda,
    "__tuple__": lambda inner: tuple(_deserialize(v, None) for v in inner["value"]),
}


# -- model files: delegated to webtensor.saving --------------------------------------------------


def save_model(
    model, filepath, overwrite: bool = True, include_optimizer: bool = True, safe_mode=None, **kwargs
) -> None:
    """``safe_mode=False`` lets the file carry a Lambda layer's code (loading it needs the same)."""
    from .. import saving

    with SafeModeScope(safe_mode):
        saving.save_model(model, filepath, include_optimizer=include_optimizer)


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    from .. import saving

    with SafeModeScope(safe_mode and _SAFE[-1]):
        return saving.load_model(filepath, custom_objects=custom_objects, compile=compile)


def save_weights(model, filepath, overwrite: bool = True) -> None:
    from .. import saving

    saving.save_weights(model, filepath)


def load_weights(model, filepath, skip_mismatch: bool = False) -> None:
    from .. import saving

    saving.load_weights(model, filepath)

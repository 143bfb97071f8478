"""``tf.Module``: a named container whose variables, submodules and functions are found
by walking its attributes (and the lists, tuples and dicts in them), as TF does.

Nothing is registered on assignment: ``variables`` and friends walk ``vars(self)``
in sorted attribute order each time, so what a module holds is always what its
attributes hold. The one hook on assignment is for checkpoints: a restore that
found no object for a saved value yet waits for it (``notify``).
"""

from __future__ import annotations

import functools
import re
import threading

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOCAL = threading.local()  # .scopes: this thread's entered name scopes, outermost first
_PENDING: dict = {}  # id(object) -> [callback(obj)]: checkpoint values waiting for it


class name_scope:
    """``tf.name_scope(name)``: a context manager naming a scope ``outer/name/``."""

    def __init__(self, name: str):
        if not isinstance(name, str):
            raise TypeError(f"name_scope: name must be a string, got {type(name).__name__}")
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def __enter__(self) -> str:
        full = self._name if self._name.endswith("/") else current_name_scope() + self._name + "/"
        _scopes().append(full)
        return full

    def __exit__(self, *exc) -> None:
        _scopes().pop()


def _scopes() -> list:
    scopes = getattr(_LOCAL, "scopes", None)
    if scopes is None:
        scopes = _LOCAL.scopes = []
    return scopes


def current_name_scope() -> str:
    """The enclosing name scopes as a prefix (``"outer/inner/"``, or ``""``)."""
    scopes = _scopes()
    return scopes[-1] if scopes else ""


def _camel_to_snake(name: str) -> str:
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def _is_variable(x) -> bool:
    from .tensor import Variable

    return isinstance(x, Variable)


def _is_module(x) -> bool:
    return isinstance(x, Module)


def _leaves(value, path: tuple, depth: int = 0):
    """(path, leaf) for each leaf of nested lists, tuples and dicts (dict keys sorted)."""
    if depth > 100:
        raise ValueError(f"tf.Module: attribute {'/'.join(map(str, path))!r} is nested more than 100 deep")
    if isinstance(value, dict):
        try:
            keys = sorted(value)
        except TypeError:
            keys = list(value)
        for k in keys:
            yield from _leaves(value[k], path + (k,), depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _leaves(v, path + (i,), depth + 1)
    else:
        yield path, value


def flatten_module(
    module,
    predicate,
    recursive: bool = True,
    with_path: bool = False,
    attributes_to_ignore=(),
    key_fn=None,
    _path: tuple = (),
    _seen=None,
    _stack=None,
):
    """TF's walk: this module's attributes in sorted order first, then each submodule's
    (depth first); each object once unless ``with_path`` (then once per path)."""
    seen = {id(module)} if _seen is None else _seen
    stack = [] if _stack is None else _stack
    if id(module) in stack:
        recursive = False
    subs = []
    ignore = set(attributes_to_ignore) | set(getattr(module, "_TF_MODULE_IGNORED_PROPERTIES", ()))
    for key in sorted(vars(module), key=key_fn):
        if key in ignore:
            continue
        for leaf_path, leaf in _leaves(vars(module)[key], (key,)):
            if not with_path:
                if id(leaf) in seen:
                    continue
                seen.add(id(leaf))
            if predicate(leaf):
                yield (_path + leaf_path, leaf) if with_path else leaf
            if recursive and _is_module(leaf):
                subs.append((_path + leaf_path, leaf))
    stack.append(id(module))
    for sub_path, sub in subs:
        yield from flatten_module(
            sub, predicate, recursive, with_path, attributes_to_ignore, key_fn, sub_path, seen, stack
        )
    stack.pop()


class Module:
    """Base class of models and layers: ``name``, ``name_scope``, and the variables and
    submodules found in its attributes."""

    _TF_MODULE_IGNORED_PROPERTIES = frozenset(("_inbound_nodes", "_outbound_nodes"))

    def __init__(self, name: str | None = None):
        if name is None:
            name = _camel_to_snake(type(self).__name__)
        elif not _IDENTIFIER.match(name):
            raise ValueError(f"{name!r} is not a valid module name. Module names must be valid Python 3 identifiers.")
        self.name = name
        with name_scope(name) as scope:
            self._scope_name = scope

    @property
    def name_scope(self) -> name_scope:
        """A ``tf.name_scope`` for this module (inside the scope it was created in)."""
        scope = self.__dict__.get("_scope_name") or (str(getattr(self, "name", "module")) + "/")
        return name_scope(scope)

    @property
    def variables(self) -> tuple:
        """Variables of this module and its submodules (each once, attribute order)."""
        return tuple(self._flatten(predicate=_is_variable))

    @property
    def trainable_variables(self) -> tuple:
        return tuple(self._flatten(predicate=lambda v: _is_variable(v) and v.trainable))

    @property
    def non_trainable_variables(self) -> tuple:
        return tuple(self._flatten(predicate=lambda v: _is_variable(v) and not v.trainable))

    @property
    def submodules(self) -> tuple:
        """Modules in attributes, and theirs in turn (each once)."""
        return tuple(self._flatten(predicate=_is_module))

    def _flatten(
        self,
        recursive: bool = True,
        predicate=None,
        attribute_traversal_key=None,
        with_path: bool = False,
        expand_composites: bool = False,
    ):
        """Everything ``predicate`` accepts in this module's attributes (and submodules')."""
        return flatten_module(self, predicate or (lambda _: True), recursive, with_path, key_fn=attribute_traversal_key)

    @classmethod
    def with_name_scope(cls, method):
        """Decorator: run ``method`` inside the module's name scope."""

        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)

        return wrapper

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if _PENDING and id(self) in _PENDING:
            notify(self)


def notify(obj) -> None:
    """Tell checkpoint restores waiting on ``obj`` that it may now hold what they wait for
    (a variable assigned, a layer or optimizer built)."""
    for callback in list(_PENDING.get(id(obj), ())):
        callback(obj)


def wait_for(obj, callback) -> None:
    """Call ``callback(obj)`` on each ``notify(obj)`` until ``unwait``; forgotten when
    ``obj`` dies (the registry keeps no strong reference to it)."""
    import weakref

    key = id(obj)
    if key not in _PENDING:
        _PENDING[key] = []
        weakref.finalize(obj, _PENDING.pop, key, None)
    _PENDING[key].append(callback)


def unwait(obj, callback) -> None:
    lst = _PENDING.get(id(obj))
    if lst and callback in lst:
        lst.remove(callback)
    if not lst:
        _PENDING.pop(id(obj), None)  # assignments stop calling notify

"""``tf.nest``: flatten and rebuild nested lists, tuples, namedtuples and dicts.

Dicts flatten in sorted-key order, as TensorFlow does; None is a leaf.
"""

from __future__ import annotations


def is_nested(x) -> bool:
    return isinstance(x, (list, tuple, dict))


is_sequence = is_nested


def _children(x):
    if isinstance(x, dict):
        return [x[k] for k in _sorted_keys(x)]
    return list(x)


def _sorted_keys(d):
    try:
        return sorted(d)
    except TypeError:
        return list(d)


def flatten(structure, expand_composites: bool = False) -> list:
    if not is_nested(structure):
        return [structure]
    out = []
    for c in _children(structure):
        out.extend(flatten(c))
    return out


def _rebuild(template, values):
    if isinstance(template, dict):
        keys = _sorted_keys(template)
        vals = dict(zip(keys, values))
        return (
            type(template)((k, vals[k]) for k in template)
            if type(template) is not dict
            else {k: vals[k] for k in template}
        )
    if isinstance(template, tuple) and hasattr(template, "_fields"):
        return type(template)(*values)
    return type(template)(values)


def pack_sequence_as(structure, flat_sequence, expand_composites: bool = False):
    flat_sequence = list(flat_sequence)
    n = len(flatten(structure))
    if n != len(flat_sequence):
        raise ValueError(
            f"Could not pack sequence: structure has {n} elements, but flat_sequence has {len(flat_sequence)}"
        )
    return _build(structure, iter(flat_sequence))


def _build(s, values):
    # module level, not a closure: a recursive closure is a reference cycle that would keep
    # the values (tensors, GPU buffers) alive until the cycle collector runs
    if not is_nested(s):
        return next(values)
    return _rebuild(s, [_build(c, values) for c in _children(s)])


def assert_same_structure(a, b, check_types: bool = True, expand_composites: bool = False) -> None:
    _same_structure(a, b, a, b, check_types)


def _same_structure(x, y, a, b, check_types):
    if is_nested(x) != is_nested(y):
        raise ValueError(f"The two structures don't have the same nested structure: {a!r} vs {b!r}")
    if not is_nested(x):
        return
    if check_types and type(x) is not type(y) and not (isinstance(x, list) and isinstance(y, list)):
        raise TypeError(f"The two structures don't have the same sequence type: {type(x)} vs {type(y)}")
    if isinstance(x, dict) and set(x) != set(y):
        raise ValueError(f"The two dictionaries don't have the same keys: {sorted(x)} vs {sorted(y)}")
    cx, cy = _children(x), _children(y)
    if len(cx) != len(cy):
        raise ValueError(f"The two structures don't have the same number of elements: {a!r} vs {b!r}")
    for u, v in zip(cx, cy):
        _same_structure(u, v, a, b, check_types)


def map_structure(func, *structures, check_types: bool = True, expand_composites: bool = False):
    if not structures:
        raise ValueError("Must provide at least one structure")
    for s in structures[1:]:
        assert_same_structure(structures[0], s, check_types=check_types)
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [func(*xs) for xs in zip(*flats)])

"""Reading Keras files: Keras 3 ``.keras`` archives and legacy HDF5 (``.h5``) files.

Both become a ``KerasFile``: the model config (Keras 3's JSON layout) and a tree of
weight arrays per layer. Nothing here builds a model; ``keras_import`` does.
h5py (the ``keras-import`` extra) is needed only here, only natively.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

from ..saving import validate

MAX_WEIGHTS_BYTES = 1 << 34  # 16 GiB: refuse archives declaring more before reading any
EXPANSION = 64  # arrays may hold at most this many times the HDF5 file's bytes (compression)
ZIP_EXPANSION = 16  # a .keras may unpack to this many times its size (+1 MiB); more is a bomb
MAX_METADATA = 1 << 20  # metadata.json bytes
MAX_OBJECTS = 100_000  # groups + datasets in one HDF5 file
# HDF5 filters built into the library (no plugins); Keras itself writes none
ALLOWED_FILTERS = {1: "deflate", 2: "shuffle", 3: "fletcher32"}


class _Reader:
    """Reads HDF5 datasets as arrays, refusing any whose declared size the file cannot
    justify (an HDF5 header can declare a terabyte dataset in a kilobyte)."""

    def __init__(self, file_bytes: int, source: str):
        self.left, self.source = EXPANSION * file_bytes + (1 << 20), source

    def __call__(self, ds):
        kind = getattr(ds.dtype, "kind", "")
        if kind not in "fiub":
            raise ValueError(f"{self.source}: dataset {ds.name} has dtype {ds.dtype}, not numbers")
        n = int(ds.size) * ds.dtype.itemsize
        self.left -= n
        if self.left < 0:
            raise ValueError(f"{self.source}: dataset {ds.name} declares {n} bytes, more than the file can hold")
        return ds[()]


class LayerWeights:
    """One layer's saved variables (in Keras's ``layer.weights`` order for its own
    variables) and its sublayers' by attribute name (``cell``, ``forward_layer``...).

    ``legacy``: the arrays of a legacy ``.h5`` file, which lists a layer's trainable
    weights first, then its non-trainable ones (a nested model's BatchNormalization
    statistics come after every kernel)."""

    __slots__ = ("name", "own", "children", "legacy")

    def __init__(self, name: str, own: list, children: dict, legacy: bool = False):
        self.name, self.own, self.children, self.legacy = name, own, children, legacy

    def flat(self) -> list:
        out = list(self.own)
        for child in self.children.values():
            out.extend(child.flat())
        return out

    def __repr__(self):
        return f"LayerWeights({self.name!r}, {[tuple(a.shape) for a in self.own]}, {list(self.children)})"


class KerasFile:
    __slots__ = ("config", "layers", "training_config", "keras_version", "source")

    def __init__(self, config: dict, layers: dict, training_config, keras_version, source: str):
        self.config, self.layers = config, layers
        self.training_config, self.keras_version, self.source = training_config, keras_version, source


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("reading Keras .keras/.h5 files needs h5py: pip install 'webtensor[keras-import]'") from None
    return h5py


def _json(text, what: str) -> dict:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{what} is not UTF-8 (byte {e.start})") from None
    if len(text) > validate.MAX_HEADER:
        raise ValueError(f"{what} is over the {validate.MAX_HEADER} byte limit")
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"{what} is not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{what} is not a JSON object")
    return obj


def _as_value_error(fn):
    """Malformed files fail as ValueError naming the file, whatever h5py/zipfile raised
    (RuntimeError, NotImplementedError, EOFError, UnicodeDecodeError, RecursionError...)."""

    def wrapper(path, *args):
        name = os.fspath(path)
        try:
            return fn(path, *args)
        except (ImportError, FileNotFoundError):
            raise
        except ValueError as e:
            if type(e) is not ValueError:  # UnicodeDecodeError, JSONDecodeError...: say which
                raise ValueError(f"{name}: not a readable Keras file: {type(e).__name__}: {e}") from None
            if str(e).startswith(str(name)):
                raise
            raise ValueError(f"{name}: {e}") from None
        except (Exception, RecursionError) as e:  # noqa: BLE001 - a damaged file, whatever broke
            raise ValueError(f"{name}: not a readable Keras file: {type(e).__name__}: {e}") from None

    wrapper.__doc__, wrapper.__name__ = fn.__doc__, fn.__name__
    return wrapper


@_as_value_error
def read(path) -> KerasFile:
    """A ``.keras`` archive or a legacy ``.h5`` model file, told apart by content."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic.startswith(b"PK"):
        return read_archive(path)
    if magic == b"\x89HDF\r\n\x1a\n":
        return read_legacy_h5(path)
    raise ValueError(f"{path}: neither a Keras 3 .keras archive (zip) nor an HDF5 .h5 file")


# -- Keras 3 archives ---------------------------------------------------------------------


@_as_value_error
def read_archive(path) -> KerasFile:
    """``config.json`` + ``model.weights.h5`` from a Keras 3 ``.keras`` zip archive."""
    h5py = _h5py()
    with zipfile.ZipFile(path) as z:
        members = {i.filename: i for i in z.infolist()}
        for need in ("config.json", "model.weights.h5"):
            if need not in members:
                raise ValueError(f"{path}: not a Keras 3 archive, {need} is missing (members: {sorted(members)[:10]})")
        _check_sizes(path, members)
        config = _json(_member(z, members["config.json"]), f"{path}: config.json")
        meta = (
            _json(_member(z, members["metadata.json"]), f"{path}: metadata.json") if "metadata.json" in members else {}
        )
        size = members["model.weights.h5"].file_size
        weights = io.BytesIO(_member(z, members["model.weights.h5"]))
    with h5py.File(weights, "r") as h5:
        reader = _Reader(size, str(path))
        check_h5(h5, str(path), reader)
        layers = weights_tree(h5, reader)
    return KerasFile(config, layers, config.get("compile_config"), meta.get("keras_version"), path)


def _check_sizes(path, members: dict) -> None:
    """Declared sizes against the budget, before a byte is decompressed: the members we
    read, each under its own limit, and all together under ZIP_EXPANSION x the archive."""
    limits = {"config.json": validate.MAX_HEADER, "metadata.json": MAX_METADATA, "model.weights.h5": MAX_WEIGHTS_BYTES}
    for name, limit in limits.items():
        if name in members and members[name].file_size > limit:
            raise ValueError(f"{path}: {name} declares {members[name].file_size} bytes, over the {limit} byte limit")
    total = sum(members[n].file_size for n in limits if n in members)
    budget = ZIP_EXPANSION * os.path.getsize(path) + (1 << 20)
    if total > budget:
        raise ValueError(
            f"{path}: the archive's members declare {total} bytes uncompressed, more "
            f"than {ZIP_EXPANSION}x its {os.path.getsize(path)} bytes allow (a zip bomb?)"
        )


def _member(z, info) -> bytes:
    """A member's bytes, streamed: never more than its declared size is decompressed."""
    out = bytearray()
    with z.open(info) as f:
        while True:
            part = f.read(min(1 << 20, info.file_size + 1 - len(out)))
            if not part:
                break
            out += part
            if len(out) > info.file_size:
                raise ValueError(f"{info.filename} unpacks to more than its declared {info.file_size} bytes")
    return bytes(out)


# -- HDF5 checks, before any dataset is read ------------------------------------------


def check_h5(h5, source: str, reader=None) -> None:
    """Refuse what makes HDF5 read outside the file or run plugins: external storage,
    external and soft links, virtual datasets, filters Keras does not write; and
    datasets whose declared sizes the file cannot justify. Reads no dataset data."""
    h5py = _h5py()
    seen = set()
    budget = [reader.left if reader is not None else None]

    def visit(g, path):
        for name in g:
            link = g.get(name, getlink=True)
            where = f"{path}/{name}"
            if isinstance(link, h5py.ExternalLink):
                raise ValueError(
                    f"{source}: {where} is an external link to {link.filename!r}; links out of the file are refused"
                )
            if isinstance(link, h5py.SoftLink):
                raise ValueError(f"{source}: {where} is a soft link; Keras files have none")
            obj = g[name]
            addr = h5py.h5o.get_info(obj.id).addr
            if addr in seen:
                continue
            seen.add(addr)
            if len(seen) > MAX_OBJECTS:
                raise ValueError(f"{source}: more than {MAX_OBJECTS} HDF5 objects")
            if isinstance(obj, h5py.Dataset):
                _check_dataset(obj, where, source, budget)
            elif isinstance(obj, h5py.Group):
                visit(obj, where)

    visit(h5, "")


def _check_dataset(ds, where: str, source: str, budget: list) -> None:
    if ds.external:
        raise ValueError(
            f"{source}: dataset {where} keeps its data in external files "
            f"{[e[0] for e in ds.external][:3]}; external storage is refused"
        )
    if ds.is_virtual:
        raise ValueError(f"{source}: dataset {where} is a virtual dataset; refused")
    dcpl = ds.id.get_create_plist()
    for i in range(dcpl.get_nfilters()):
        code = dcpl.get_filter(i)[0]
        if code not in ALLOWED_FILTERS:
            raise ValueError(
                f"{source}: dataset {where} uses HDF5 filter {code}; only {sorted(ALLOWED_FILTERS.values())} are read"
            )
    kind = getattr(ds.dtype, "kind", "")
    if kind not in "fiub":
        raise ValueError(f"{source}: dataset {where} has dtype {ds.dtype}, not numbers")
    if budget[0] is not None:
        n = int(ds.size) * ds.dtype.itemsize
        budget[0] -= n
        if budget[0] < 0:
            raise ValueError(f"{source}: dataset {where} declares {n} bytes, more than the file can hold")


def weights_tree(h5, read) -> dict:
    """Keras 3 weights (``layers/<key>/vars/<i>``): layer name -> LayerWeights."""
    group = h5.get("layers")
    out = {}
    if group is None:
        return out
    for key in group:
        lw = _layer_group(group[key], key, read)
        out[lw.name] = lw
    return out


def _layer_group(g, key: str, read) -> LayerWeights:
    vars_ = g.get("vars")
    name = key
    own = []
    if vars_ is not None:
        name = _attr_str(vars_.attrs.get("name", key))
        count = len(vars_)
        for i in range(count):
            if str(i) not in vars_:
                raise ValueError(f"weights of layer {name!r}: vars/{i} is missing")
            own.append(read(vars_[str(i)]))
    children = {}
    for sub in g:
        if sub == "vars":
            continue
        child = g[sub]
        if hasattr(child, "keys"):
            children[sub] = _layer_group(child, sub, read)
    return LayerWeights(name, own, {k: v for k, v in children.items() if v.flat()})


def _attr_str(v) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


@_as_value_error
def read_weights(path) -> dict:
    """Layer name -> LayerWeights from any Keras HDF5 weights file: Keras 3
    ``.weights.h5``, legacy ``save_weights`` output, or a legacy full model."""
    h5py = _h5py()
    read = _Reader(os.path.getsize(path), str(path))
    with h5py.File(path, "r") as h5:
        check_h5(h5, str(path), read)
        if "layer_names" in h5.attrs:
            return legacy_weights(h5, read)
        if "model_weights" in h5:
            return legacy_weights(h5["model_weights"], read)
        if "layers" in h5:
            return weights_tree(h5, read)
    raise ValueError(f"{path}: not a Keras weights file (no layers group or layer_names attribute)")


# -- legacy HDF5 ------------------------------------------------------------------------


@_as_value_error
def read_legacy_h5(path) -> KerasFile:
    """A Keras 2 / ``model.save('x.h5')`` file: ``model_config`` attribute + weights."""
    h5py = _h5py()
    read = _Reader(os.path.getsize(path), str(path))
    with h5py.File(path, "r") as h5:
        check_h5(h5, str(path), read)
        if "model_config" not in h5.attrs:
            layers = legacy_weights(h5, read)
            return KerasFile(None, layers, None, _attr_str(h5.attrs.get("keras_version", "")), path)
        config = _json(h5.attrs["model_config"], f"{path}: model_config")
        training = h5.attrs.get("training_config")
        training = _json(training, f"{path}: training_config") if training is not None else None
        layers = legacy_weights(h5["model_weights"], read)
        version = _attr_str(h5["model_weights"].attrs.get("keras_version", ""))
    return KerasFile(config, layers, training, version, path)


def legacy_weights(g, read) -> dict:
    """Legacy layout: ``layer_names`` attribute, each layer's ``weight_names`` in order."""
    if "layer_names" not in g.attrs:
        raise ValueError("not a Keras HDF5 weights file: no layer_names attribute")
    out = {}
    for lname in g.attrs["layer_names"]:
        lname = _attr_str(lname)
        lg = g[lname]
        arrays = [read(lg[_attr_str(w)]) for w in lg.attrs.get("weight_names", [])]
        out[lname] = LayerWeights(lname, arrays, {}, legacy=True)
    return out

"""The page's trimmed standard library: ``SITE/pyodide/python_stdlib-<hash>.zip``.

Pyodide's python_stdlib.zip is 2.5 MB compressed and webtensor imports a fraction of it.
make_snapshot.py boots Pyodide in Chromium with the full zip, imports every webtensor
module and every stdlib name webtensor's source imports anywhere (function-level imports
included, read with ast), and ``trim`` keeps exactly the stdlib files that were loaded.
The loader boots on the trimmed zip (``stdLibURL``) and installs a finder that fetches the
full zip once, synchronously, the first time code imports a module the trim dropped
(DROPPED_LIST inside the trimmed zip names them), so nothing stops working; it only costs
that one download.

The trimmed zip is stored, not deflated: the server's brotli then compresses across files,
which a zip's per-file deflate cannot.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

DROPPED_LIST = "_webtensor_dropped.txt"  # one module name a line: in the full zip, not in this one
# Always kept, though a trace may not load them: what the loader's own Python and common
# text handling need before the finder could fetch anything.
ALWAYS = ("pyodide/", "_pyodide/", "zipimport.py", "site.py", "sitecustomize.py")

# Runs in the page with the full stdlib and the wheel installed (make_snapshot.py's trace
# step). Returns the zip members that were imported.
TRACE_PY = """
import ast, importlib, os, sys
import webtensor
names = set(_extra)
root = os.path.dirname(webtensor.__file__)
for dirpath, _, files in os.walk(root):
    for f in files:
        if f.endswith(".py"):
            path = os.path.join(dirpath, f)
            mod = os.path.relpath(path, os.path.dirname(root))[:-3].replace(os.sep, ".")
            names.add(mod.removesuffix(".__init__"))
            tree = ast.parse(open(path, encoding="utf-8").read())
            for n in ast.walk(tree):
                if isinstance(n, ast.Import):
                    names.update(a.name for a in n.names)
                elif isinstance(n, ast.ImportFrom) and not n.level and n.module:
                    names.add(n.module)
                    names.update(f"{n.module}.{a.name}" for a in n.names)
for name in sorted(names):
    if name.endswith("__main__"):  # importing a CLI runs it
        continue
    try:
        importlib.import_module(name)
    except BaseException:  # optional dependencies (numpy, h5py ...) and page-only modules
        pass
zips = [p for p in sys.path if p.endswith(".zip")]
used = set()
for m in list(sys.modules.values()):
    origin = getattr(getattr(m, "__spec__", None), "origin", None) or ""
    for z in zips:
        if origin.startswith(z + "/"):
            used.add(origin[len(z) + 1:])
sorted(used)
"""


def module_name(member: str) -> str | None:
    """``email/mime/text.py`` -> ``email.mime.text``; ``json/__init__.py`` -> ``json``."""
    if not member.endswith(".py"):
        return None
    parts = member[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or None


def trim(full: Path, used: list, out: Path) -> Path:
    """Write the stored zip of ``used`` members (and ALWAYS, and each package's __init__)."""
    with zipfile.ZipFile(full) as src:
        members = src.namelist()
        keep = set(used)
        for m in used:  # a package's submodule needs the package
            parts = m.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                keep.add("/".join(parts[:i]) + "/__init__.py")
        keep.update(m for m in members if m.startswith(ALWAYS))
        keep &= set(members)
        dropped = sorted({n for m in members if m not in keep and (n := module_name(m))})
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
            for m in members:
                if m in keep:
                    dst.writestr(zipfile.ZipInfo(m, src.getinfo(m).date_time), src.read(m))
            dst.writestr(DROPPED_LIST, "\n".join(dropped) + "\n")
    return out


# Run in the snapshot's Python after its imports: the zip members already imported.
IMPORTED_PY = """
import sys
_z = [p for p in sys.path if p.endswith(".zip")]
_used = sorted({o[len(z) + 1:] for m in list(sys.modules.values())
                for o in [getattr(getattr(m, "__spec__", None), "origin", None) or ""]
                for z in _z if o.startswith(z + "/")})
"""


def hollow(trimmed: Path, imported: list, out: Path) -> list:
    """The snapshot's stdlib: ``trimmed`` with the bytes of every member the snapshot already
    imported zeroed (header and data), so it compresses to little more than its directory.
    Its central directory is unchanged, so the zipimport table the snapshot holds stays
    right; the loader's finder imports a zeroed module from the full zip if ever asked
    (a reload). Returns the module names zeroed."""
    data = bytearray(trimmed.read_bytes())
    names = []
    with zipfile.ZipFile(trimmed) as z:
        for m in imported:
            if m == DROPPED_LIST or (name := module_name(m)) is None:
                continue
            info = z.getinfo(m)
            at = info.header_offset
            end = at + 30 + int.from_bytes(data[at + 26 : at + 28], "little")
            end += int.from_bytes(data[at + 28 : at + 30], "little") + info.compress_size
            data[at:end] = bytes(end - at)
            names.append(name)
    out.write_bytes(data)
    return names

"""Lines of code per layer of the design (a gauge, as tinygrad's sz.py, not a gate).

Counts non-blank, non-comment lines of Python, C, WGSL and JavaScript under each folder
that is one layer of DESIGN.md, largest files first within each layer.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PKG = "core/webtensor"
TOP = ["kernels", "shaders", "web", "build", "tests", "benchmarks", "demos"]
SUFFIXES = {".py": "#", ".c": "//", ".h": "//", ".wgsl": "//", ".js": "//", ".mjs": "//", ".html": None}


def tracked() -> list[pathlib.Path]:
    """The files git tracks (build outputs and vendored files are not ours to count)."""
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True).stdout
    return [ROOT / f for f in out.splitlines() if pathlib.Path(f).suffix in SUFFIXES and (ROOT / f).is_file()]


def layer_of(path: pathlib.Path) -> str | None:
    """A subpackage of webtensor is a layer (its modules at top level are "core"); so is each top folder."""
    rel = path.relative_to(ROOT).parts
    if rel[:2] == ("core", "webtensor"):
        return "core (tensor, autodiff, dtypes)" if len(rel) == 3 else rel[2]
    return rel[0] if rel[0] in TOP else None


def count(path: pathlib.Path) -> int:
    mark = SUFFIXES[path.suffix]
    lines = (ln.strip() for ln in path.read_text(errors="replace").splitlines())
    return sum(1 for ln in lines if ln and not (mark and ln.startswith(mark)))


def main() -> None:
    layers: dict[str, list] = {}
    for f in tracked():
        if (name := layer_of(f)) is not None:
            layers.setdefault(name, []).append((count(f), f))
    total = 0
    print(f"{'layer':34} {'files':>5} {'lines':>7}  largest")
    for layer, counts in sorted(layers.items(), key=lambda kv: -sum(c for c, _ in kv[1])):
        counts.sort(key=lambda cf: -cf[0])
        n = sum(c for c, _ in counts)
        total += n
        top = ", ".join(f"{_short(f)} {c}" for c, f in counts[:3])
        print(f"{layer:34} {len(counts):5} {n:7}  {top}")
    print(f"{'all':34} {'':5} {total:7}")


def _short(f: pathlib.Path) -> str:
    return f"{f.parent.name}/{f.name}" if f.name == "__init__.py" else f.name


if __name__ == "__main__":
    sys.exit(main())

"""Lines of code per layer of the design (a gauge, as tinygrad's sz.py, not a gate).

Counts non-blank, non-comment lines of Python, C, WGSL and JavaScript under each folder
that is one layer of DESIGN.md, largest files first within each layer.
"""
from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
LAYERS = {
    "core (tensor, autodiff, dtypes)": ["core/webtensor/*.py"],
    "ops": ["core/webtensor/ops"],
    "tf.function (tracing, graphs)": ["core/webtensor/function"],
    "train (checkpoints)": ["core/webtensor/train"],
    "backends": ["core/webtensor/backends"],
    "keras": ["core/webtensor/keras"],
    "data": ["core/webtensor/data"],
    "saving + io": ["core/webtensor/saving", "core/webtensor/io"],
    "serving": ["core/webtensor/serving"],
    "summary": ["core/webtensor/summary"],
    "kernels (C)": ["kernels"],
    "shaders (WGSL)": ["shaders"],
    "web (JS, HTML)": ["web"],
    "build": ["build"],
    "tests": ["tests"],
    "benchmarks": ["benchmarks"],
}
SUFFIXES = {".py": "#", ".c": "//", ".h": "//", ".wgsl": "//", ".js": "//", ".mjs": "//", ".html": None}


def count(path: pathlib.Path) -> int:
    mark = SUFFIXES[path.suffix]
    lines = (ln.strip() for ln in path.read_text(errors="replace").splitlines())
    return sum(1 for ln in lines if ln and not (mark and ln.startswith(mark)))


def files(spec: str) -> list[pathlib.Path]:
    p = ROOT / spec
    found = p.parent.glob(p.name) if "*" in spec else p.rglob("*")
    return sorted(f for f in found if f.is_file() and f.suffix in SUFFIXES and "dist" not in f.parts)


def main() -> None:
    total = 0
    print(f"{'layer':34} {'files':>5} {'lines':>7}  largest")
    for layer, specs in LAYERS.items():
        fs = [f for s in specs for f in files(s)]
        counts = sorted(((count(f), f) for f in fs), reverse=True)
        n = sum(c for c, _ in counts)
        total += n
        top = ", ".join(f"{f.name} {c}" for c, f in counts[:3])
        print(f"{layer:34} {len(fs):5} {n:7}  {top}")
    print(f"{'all':34} {'':5} {total:7}")


if __name__ == "__main__":
    sys.exit(main())

"""``python -m webtensor``: command-line tools, one subcommand each.

python -m webtensor export model.keras out.safetensors [--float16]
python -m webtensor inspect out.safetensors      (or a SavedModel directory)
python -m webtensor serve [--host 127.0.0.1] [--port 8000] [--models models/]
python -m webtensor site models/digits.safetensors out/
python -m webtensor test --browser [--backend wasm|webgpu] tests/test_x.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _export(args) -> int:
    from . import io, saving

    src = args.source
    if src.endswith(".safetensors"):
        model = saving.load_model(src, compile=True)
    else:
        model = io.import_keras(src)
    saving.save_model(
        model, args.output, include_optimizer=not args.no_optimizer, weights_dtype="float16" if args.float16 else None
    )
    header = saving.safetensors.read_header(args.output)
    n = sum(_count(e.shape) for e in header.tensors.values())
    print(
        f"wrote {args.output}: {header.total_size:,} bytes, {len(header.tensors)} tensors, "
        f"{n:,} values" + (" (float16 weights)" if args.float16 else "")
    )
    return 0


def _count(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _inspect(args) -> int:
    from .saving import safetensors, validate

    if os.path.isdir(args.file) or os.path.basename(args.file) == "saved_model.json":
        from .saved_model.inspect import show  # a SavedModel: its signatures, functions, variables

        return show(args.file if os.path.isdir(args.file) else os.path.dirname(args.file) or ".")
    header = safetensors.read_header(args.file)
    meta = validate.model_metadata(header)
    fmt = header.metadata.get("format", "safetensors")
    print(
        f"{args.file}: {header.total_size:,} bytes; header {header.data_start - 8:,} bytes; "
        f"format {fmt}" + (f" version {meta['format_version']}" if meta["format_version"] else "")
    )
    config = meta["model_config"]
    if config is not None:
        inner = config.get("config", {})
        print(f"\nmodel: {config.get('class_name')} {inner.get('name', '')!r}")
        rows = [
            (p.rsplit(".", 1)[-1] if p != "model_config" else "", c, cfg.get("name", ""))
            for p, c, cfg in validate.layer_configs(config)
        ][1:]
        _table(["layer", "class"], [[name, cls] for _, cls, name in rows])
    if meta["training_config"]:
        print("\ntraining: " + _training_summary(meta["training_config"]))
    print()
    rows, total, params, slots = [], 0, 0, 0
    for e in header.in_data_order():
        rows.append([e.name, e.dtype.name, str(list(e.shape)), f"{e.nbytes:,}"])
        total += e.nbytes
        if e.name.startswith("optimizer/"):
            slots += 1
        else:
            params += _count(e.shape)
    _table(["tensor", "dtype", "shape", "bytes"], rows)
    print(f"\n{len(rows)} tensors, {total:,} bytes of data; {params:,} weight values; {slots} optimizer tensors")
    other = {k: v for k, v in header.metadata.items() if k not in ("model_config", "training_config")}
    if other:
        print("\nmetadata:")
        for k, v in sorted(other.items()):
            print(f"  {k}: {v[:200]}")
    return 0


def _training_summary(tc: dict) -> str:
    opt = tc.get("optimizer")
    if isinstance(opt, dict):
        cfg = opt.get("config") if isinstance(opt.get("config"), dict) else {}
        lr = cfg.get("learning_rate")
        opt = f"{opt.get('class_name')}" + (f" (learning_rate {lr:.6g})" if isinstance(lr, (int, float)) else "")
    parts = [f"optimizer {opt}", f"loss {json.dumps(tc.get('loss'))[:120]}"]
    if tc.get("metrics"):
        parts.append(f"metrics {json.dumps(tc['metrics'])[:120]}")
    return ", ".join(parts)


def _table(cols: list, rows: list) -> None:
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip())
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m webtensor", description=__doc__.split("\n")[0].replace("``", "")
    )  # no reST in --help
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser(
        "export", help="convert a Keras .keras/.h5 model (or a webtensor file) to one .safetensors model file"
    )
    e.add_argument("source", help="model.keras, model.h5 or model.safetensors")
    e.add_argument("output", help="the .safetensors file to write (atomically)")
    e.add_argument("--float16", action="store_true", help="store weights as float16 (half the size)")
    e.add_argument("--no-optimizer", action="store_true", help="leave out optimizer state")
    e.set_defaults(run=_export)
    i = sub.add_parser(
        "inspect",
        help="layers, tensors, shapes, sizes and metadata of a file; a "
        "SavedModel directory's signatures, functions and variables",
    )
    i.add_argument("file")
    i.set_defaults(run=_inspect)
    from .serving.cli import add_commands  # serve, site

    add_commands(sub)
    from .testing.browser import add_commands as add_test  # test --browser

    add_test(sub)
    return p


def main(argv: list | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # `... | head` stopped reading: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except (ValueError, OSError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""``python -m webtensor serve`` and ``python -m webtensor site``: their arguments and
what they run (added to the CLI's subcommands by ``add_commands``)."""

from __future__ import annotations

import argparse


def _serve(args) -> int:
    try:
        from .app import serve
    except ImportError as e:
        raise ImportError(f"{e}: the server needs the serve extra: pip install 'webtensor[serve]'") from None
    if args.app:
        print(f"webtensor: the web app and the REST API at http://{args.host}:{args.port}/", flush=True)
    else:
        print(
            f"webtensor: the REST API at http://{args.host}:{args.port}/v1/models/<name> (no --app folder: no web app)",
            flush=True,
        )
    if args.read_only and args.allow_uploads:
        raise ValueError("serve: --read-only and --allow-uploads contradict each other")
    serve(
        args.models,
        args.host,
        args.port,
        args.app,
        keep=args.keep,
        poll_interval=args.poll,
        max_body=int(args.max_body_mb * 1024 * 1024),
        allow_upload=args.allow_uploads,
        upload_token=args.upload_token,
        max_batch=args.max_batch,
        max_rows=args.max_rows,
        workers=args.workers,
        allowed_hosts=tuple(args.allowed_host),
        header_timeout=args.header_timeout,
        keep_alive=args.keep_alive,
        max_connections=args.max_connections,
    )
    return 0


def _site(args) -> int:
    from . import site

    out = site.build(args.source, args.out, runtime=args.runtime)
    print(f"wrote {out}: serve it from any static host, e.g. `python -m http.server -b 127.0.0.1 -d {out}`")
    return 0


def add_commands(sub) -> None:
    """Add ``serve`` and ``site`` to an argparse subparsers object."""
    s = sub.add_parser(
        "serve",
        help="serve models over TensorFlow Serving's REST API (and the web app)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    s.add_argument("--host", default="127.0.0.1", help="interface to bind (0.0.0.0 exposes it to the network)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--models", default="models", help="model directory: {name}/{version}/model.safetensors")
    s.add_argument(
        "--app", default=None, help="static folder served at / (the web app: make demo builds build/dist/app)"
    )
    s.add_argument("--keep", type=int, default=1, help="newest versions of each model kept loaded")
    s.add_argument("--poll", type=float, default=1.0, help="seconds between scans of the model directory")
    s.add_argument("--max-body-mb", type=float, default=32, help="request bodies over this get 413")
    s.add_argument(
        "--max-batch", type=int, default=256, help="rows of queued requests run as one model call (1: no batching)"
    )
    s.add_argument("--max-rows", type=int, default=4096, help="instances one predict request may carry (400 above)")
    s.add_argument("--workers", type=int, default=4, help="predict worker threads (a slow request holds only one)")
    s.add_argument(
        "--allow-uploads",
        action="store_true",
        help="accept new versions (POST /models/{name}) from the app's own pages (same Origin, "
        "non-simple Content-Type) or with --upload-token",
    )
    s.add_argument(
        "--upload-token",
        default=None,
        help="with --allow-uploads: also accept uploads carrying 'Authorization: Bearer TOKEN' (scripts)",
    )
    s.add_argument("--read-only", action="store_true", help="refuse uploads (the default; kept for old scripts)")
    s.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name to answer besides the bind address and localhost (repeatable)",
    )
    s.add_argument(
        "--header-timeout",
        type=float,
        default=10.0,
        help="seconds a connection has to send a request's headers before it is closed",
    )
    s.add_argument("--keep-alive", type=float, default=5.0, help="seconds an idle keep-alive connection stays open")
    s.add_argument("--max-connections", type=int, default=1000, help="open connections; more are closed at once")
    s.set_defaults(run=_serve)
    t = sub.add_parser("site", help="a self-contained static folder that runs a model in the page")
    t.add_argument(
        "source",
        help="a model .safetensors file (one page with <webtensor-model>), or a "
        "models/ directory (the whole web app with a gallery of its models)",
    )
    t.add_argument("out", help="the folder to write (replaced if it exists)")
    t.add_argument(
        "--runtime",
        default=None,
        help="a built runtime site (default: build/dist/site of this "
        "checkout, built with build/make_site.py if missing)",
    )
    t.set_defaults(run=_site)

"""The server: TensorFlow Serving's REST API, model files for the page, and the web app.

    GET  /v1/models/{name}[/versions/{v}]             version status
    GET  /v1/models/{name}[/versions/{v}]/metadata    signature (inputs, outputs)
    POST /v1/models/{name}[/versions/{v}]:predict     {"instances": [...]} or {"inputs": ...}
    GET  /models.json                                 the gallery (what the page lists)
    GET  /models/{name}/{v}.safetensors               a version's file, for in-page inference
    GET  /models/{name}/{v}/saved_model.json          a SavedModel version's graph (and its
         /models/{name}/{v}/variables.safetensors     weights), for the page runtime
    POST /models/{name}                               a new version (body: the file); 201, only
                                                      with --allow-uploads (see ``check_upload``)
    GET  /...                                         the files the site build wrote into --app

Every error is TF Serving's ``{"error": "..."}`` with a 4xx/5xx status. Every request's
``Host`` must be an allowed name (DNS rebinding); responses are strict JSON (no bare
``NaN``); request JSON nests at most ``MAX_JSON_DEPTH`` deep.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import math
import re
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from .repository import Repository, parse_version
from .servable import RequestError
from .site import SITE_MANIFEST
from .static import starlette_response
from .worker import MAX_BATCH_ROWS, Worker

MAX_BODY = 32 * 1024 * 1024
MAX_ROWS = 4096  # instances in one predict request (--max-rows)
MAX_JSON_DEPTH = 64  # nesting of a request's JSON; a rank-8 batch needs 10
WORKERS = 4  # predict worker threads (--workers)
SIMPLE_TYPES = ("", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def error(message: str, status: int) -> Response:
    return _json({"error": message}, status)


def _json(obj, status: int = 200) -> Response:
    try:
        body = json.dumps(obj, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a NaN or infinity in an output: proto3 JSON's strings, not bare tokens
        body = json.dumps(_finite(obj), separators=(",", ":"), allow_nan=False)
    return Response(body, status, media_type="application/json")


def _finite(obj):
    """``obj`` with NaN/inf floats as proto3 JSON spells them: "NaN", "Infinity", "-Infinity"."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else NON_FINITE.get(obj, "NaN")
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    return obj


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_PAIR = re.compile(rb"\[\]|\{\}")


def check_depth(body: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """400 when ``body``'s arrays/objects nest deeper than ``limit`` (Python's parser
    recurses per level: deep nesting is a RecursionError, a 500). Linear: strings are
    cut out, then innermost pairs removed ``limit`` times, each pass in C."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    too_deep = re.search(rb"[\[{]{%d}" % (limit + 1), brackets) is not None
    for _ in range(limit):
        if too_deep or not brackets:
            break
        brackets, n = _PAIR.subn(b"", brackets)
        if n == 0:
            break  # unbalanced: the parser reports it
    else:
        too_deep = _PAIR.search(brackets) is not None
    if too_deep:
        raise RequestError(f"JSON Parse error: the request nests arrays/objects more than {limit} deep")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(f"request body of {int(declared)} bytes is over the {limit} byte limit", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(f"request body is over the {limit} byte limit", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def _version(request: Request) -> int | None:
    text = request.path_params.get("version")
    if text is None:
        return None
    v = parse_version(text)
    if v is None:
        raise RequestError(f"Malformed request: version {text!r} is not an integer", 400)
    return v


def parse_predict(body: bytes, servable, max_rows: int = MAX_ROWS) -> tuple:
    """A predict body -> (columns: input name -> batch-first nested lists, row format?).

    ``NaN``, ``Infinity`` and ``-Infinity`` are accepted as numbers, as TF Serving's
    REST API accepts them (its "JSON conformance" note); nesting is bounded."""
    check_depth(body)
    try:
        req = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise RequestError(f"JSON Parse error: {e}") from None
    servable = _signature(req, servable)
    columns, rows = _columns(req, servable)
    for name, col in columns.items():
        if isinstance(col, list) and len(col) > max_rows:
            raise RequestError(
                f"input {name!r}: {len(col)} instances are over this server's limit of "
                f"{max_rows} per request (--max-rows); split the request"
            )
    return columns, rows, servable


def _signature(req, servable):
    """The servable of the request's ``signature_name`` (a SavedModel has several)."""
    sig = req.get("signature_name", "serving_default") if isinstance(req, dict) else "serving_default"
    if not isinstance(sig, str):
        raise RequestError("signature_name must be a string")
    return servable.signature(sig)


def _columns(req, servable) -> tuple:
    if not isinstance(req, dict):
        raise RequestError('the request body must be a JSON object with "instances" or "inputs"')
    if ("instances" in req) == ("inputs" in req):
        raise RequestError(
            'the request must have exactly one of "instances" (row format) or "inputs" (columnar format)'
        )
    names = [i.name for i in servable.inputs]
    if "instances" in req:
        rows = req["instances"]
        if not isinstance(rows, list) or not rows:
            raise RequestError('"instances" must be a non-empty list')
        if all(isinstance(r, dict) for r in rows):
            try:
                return {n: [r[n] for r in rows] for n in {k for r in rows for k in r}}, True
            except KeyError as e:
                raise RequestError(f"every instance must name the same inputs; one lacks {e}") from None
        if len(names) > 1:
            raise RequestError(
                f"this model has {len(names)} inputs ({', '.join(names)}): each instance must be an object naming them"
            )
        return {names[0]: rows}, True
    cols = req["inputs"]
    if isinstance(cols, dict):
        return cols, False
    if len(names) > 1:
        raise RequestError(
            f'this model has {len(names)} inputs ({", ".join(names)}): "inputs" must be an object naming them'
        )
    return {names[0]: cols}, False


def shape_predict(out: dict, servable, row_format: bool) -> dict:
    names = servable.output_names
    if not row_format:
        return {"outputs": out[names[0]] if len(names) == 1 else out}
    if len(names) == 1:
        return {"predictions": out[names[0]]}
    n = len(out[names[0]])
    return {"predictions": [{k: out[k][i] for k in names} for i in range(n)]}


def hostname(host: str) -> str:
    """The name in a ``Host`` header, without its port: ``[::1]:80`` -> ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    name, _, port = host.rpartition(":")
    return name if name and port.isdigit() else host


class HostCheck:
    """ASGI middleware: a request whose ``Host`` is not an allowed name gets 400 before
    any route runs, so a page on evil.example that rebinds its DNS to this server's
    address cannot read the API through the victim's browser."""

    def __init__(self, app, allowed: tuple):
        self.app, self.allowed = app, frozenset(hostname(h) for h in allowed)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            raw = dict(scope.get("headers") or ()).get(b"host", b"").decode("latin-1")
            if hostname(raw) not in self.allowed:
                names = ", ".join(sorted(self.allowed))
                await error(f"Host {raw!r} is not served here (allowed: {names}; add one with --allowed-host)", 400)(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)


def check_upload(request: Request, allowed: bool, token: str | None) -> None:
    """An upload replaces what ``latest`` serves, so a cross-site page must not be able
    to send one: off unless --allow-uploads; an ``Origin``, when sent, must be this
    server's; and the request must carry the --upload-token (``Authorization: Bearer``)
    or be what no cross-site form can send without a CORS preflight (which this server
    never grants): an ``Origin`` and a non-simple ``Content-Type``."""
    if not allowed:
        raise RequestError("this server does not accept new versions (start it with --allow-uploads)", 403)
    origin = request.headers.get("origin")
    mine = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin is not None and origin != mine:
        raise RequestError(f"upload refused: Origin {origin!r} is not this server ({mine!r})", 403)
    given = request.headers.get("authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return
    if given and token:
        raise RequestError("upload refused: wrong upload token", 403)
    if origin is None:
        raise RequestError(
            "upload refused: send it from the app (same Origin) or with the upload token "
            "(Authorization: Bearer ..., --upload-token)",
            403,
        )
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in SIMPLE_TYPES:
        raise RequestError(
            f"upload refused: Content-Type {ctype or '(none)'!r} is one a cross-site form can "
            f"send; use application/octet-stream",
            403,
        )


class SiteFiles:
    """The static files of an --app folder: exactly those its manifest lists (what
    ``python -m webtensor site`` wrote), never a dotfile or anything added later."""

    def __init__(self, root):
        self.root = Path(root).resolve()
        manifest = self.root / SITE_MANIFEST
        try:
            names = json.loads(manifest.read_text())["files"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(
                f"--app {root}: not a site built by `python -m webtensor site` (no readable {SITE_MANIFEST}: {e})"
            ) from None
        self.files = {}
        for rel in names:
            parts = rel.split("/") if isinstance(rel, str) else [""]
            if any(not p or p.startswith(".") for p in parts):
                continue
            path = self.root.joinpath(*parts)
            if path.resolve().is_relative_to(self.root):
                self.files[rel] = path

    def listed(self, path: Path) -> bool:
        """A precompressed variant is served only when the manifest lists it too."""
        return path.is_file() and self.files.get(path.relative_to(self.root).as_posix()) == path

    def lookup(self, url_path: str) -> Path | None:
        rel = url_path.lstrip("/")
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        path = self.files.get(rel) or self.files.get(rel + "/index.html")
        return path if path is not None and path.is_file() else None


def create_app(
    models: str,
    app_dir: str | None = None,
    *,
    keep: int = 1,
    poll_interval: float = 1.0,
    max_body: int = MAX_BODY,
    allow_upload: bool = False,
    upload_token: str | None = None,
    max_batch: int = MAX_BATCH_ROWS,
    max_rows: int = MAX_ROWS,
    workers: int = WORKERS,
    allowed_hosts: tuple = ("127.0.0.1", "localhost"),
    loader=None,
) -> Starlette:
    """The ASGI app; its lifespan starts the predict workers and the model poller and
    stops them. ``loader(name, version, path) -> Servable`` loads versions (tests)."""
    state: dict = {}
    site = SiteFiles(app_dir) if app_dir is not None else None

    def repo() -> Repository:
        return state["repository"]

    async def status(request: Request) -> Response:
        rows = repo().status(request.path_params["name"], _version(request))
        return _json({"model_version_status": rows})

    async def metadata(request: Request) -> Response:
        s = repo().get(request.path_params["name"], _version(request))
        return _json(
            {
                "model_spec": {"name": s.name, "signature_name": "", "version": str(s.version)},
                "metadata": {"signature_def": {"signature_def": s.signature_def()}},
            }
        )

    async def predict(request: Request) -> Response:
        s = repo().get(request.path_params["name"], _version(request))
        body = await read_body(request, max_body)
        columns, rows, s = await run_in_threadpool(parse_predict, body, s, max_rows)
        out = await asyncio.wrap_future(state["worker"].predict(s, columns))
        return _json(shape_predict(out, s, rows))

    async def gallery(request: Request) -> Response:
        return _json({"server": True, "upload": allow_upload, "models": repo().models()})

    async def model_file(request: Request) -> Response:
        v = parse_version(request.path_params["version"])
        path = repo().file(request.path_params["name"], v) if v is not None else None
        if path is None:
            raise RequestError(f"no model file {request.path_params['name']}/{request.path_params['version']}", 404)
        return starlette_response(request, path, immutable=False, media_type="application/octet-stream")

    async def saved_model_file(request: Request) -> Response:
        v = parse_version(request.path_params["version"])
        path = (
            repo().saved_model_file(request.path_params["name"], v, request.path_params["file"])
            if v is not None
            else None
        )
        if path is None:
            raise RequestError(
                f"no SavedModel file {request.path_params['name']}/{request.path_params['version']}/"
                f"{request.path_params['file']}",
                404,
            )
        kind = "application/json" if path.suffix == ".json" else "application/octet-stream"
        return starlette_response(request, path, immutable=False, media_type=kind)

    async def upload(request: Request) -> Response:
        check_upload(request, allow_upload, upload_token)
        body = await read_body(request, max_body)
        name = request.path_params["name"]
        version = await run_in_threadpool(repo().add_version, name, body)
        return _json({"name": name, "version": str(version), "url": f"models/{name}/{version}.safetensors"}, 201)

    async def static(request: Request) -> Response:
        path = site.lookup(request.path_params["path"])
        page = site.lookup("404.html") if path is None and "text/html" in request.headers.get("accept", "") else None
        if page is not None:  # a browser gets the site's page, an API client the JSON error
            return FileResponse(
                page, status_code=404, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
            )
        if path is None:
            raise RequestError(f"not found: /{request.path_params['path']}", 404)
        return starlette_response(request, path, has_variant=site.listed)

    routes = [
        Route("/v1/models/{name}:predict", predict, methods=["POST"]),
        Route("/v1/models/{name}/versions/{version}:predict", predict, methods=["POST"]),
        Route("/v1/models/{name}/metadata", metadata, methods=["GET"]),
        Route("/v1/models/{name}/versions/{version}/metadata", metadata, methods=["GET"]),
        Route("/v1/models/{name}", status, methods=["GET"]),
        Route("/v1/models/{name}/versions/{version}", status, methods=["GET"]),
        Route("/models.json", gallery, methods=["GET"]),
        Route("/models/{name}/{version}.safetensors", model_file, methods=["GET"]),
        Route("/models/{name}/{version}/{file}", saved_model_file, methods=["GET"]),
        Route("/models/{name}", upload, methods=["POST"]),
    ]
    if site is not None:
        routes.append(Route("/{path:path}", static, methods=["GET", "HEAD"]))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        worker = Worker(max_batch, threads=workers)
        repository = Repository(
            models, worker, keep=keep, poll_interval=poll_interval, **({"loader": loader} if loader is not None else {})
        )
        await run_in_threadpool(repository.start)
        state.update(worker=worker, repository=repository)
        app.state.repository = repository
        try:
            yield
        finally:
            repository.stop()
            worker.close()

    async def on_request_error(request: Request, exc: RequestError) -> Response:
        return error(str(exc), exc.status)

    async def on_http_error(request: Request, exc: HTTPException) -> Response:
        return error(exc.detail if isinstance(exc.detail, str) else "error", exc.status_code)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        return error(f"{type(exc).__name__}: {exc}", 500)

    from starlette.middleware import Middleware

    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(HostCheck, allowed=tuple(allowed_hosts))],
        exception_handlers={RequestError: on_request_error, HTTPException: on_http_error, Exception: on_unexpected},
    )


HEADER_TIMEOUT = 10.0  # seconds a connection may take to send a request's headers
KEEP_ALIVE = 5.0  # seconds an idle keep-alive connection stays open
MAX_CONNECTIONS = 1000  # open connections; more are closed at once


def protocol(
    header_timeout: float = HEADER_TIMEOUT, max_connections: int = MAX_CONNECTIONS, keep_alive: float = KEEP_ALIVE
):
    """uvicorn's h11 protocol with a header-read timeout and a connection cap: uvicorn's
    own keep-alive timer starts only after a response and stops at the first byte, so a
    socket that never sends a request, or sends half its headers, would stay open for
    ever. Here each request's headers must be in within ``header_timeout`` of the
    connection opening (or of the previous response plus ``keep_alive``)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class Protocol(H11Protocol):
        _header_timer = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                self.transport.close()
                return
            self._arm(header_timeout)

        def _arm(self, delay: float) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(delay, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.close()

        def handle_events(self) -> None:
            cycle = self.cycle
            super().handle_events()
            if self.cycle is not cycle:  # a request's headers are complete
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm(keep_alive + header_timeout)

        def connection_lost(self, exc) -> None:
            self._disarm()
            super().connection_lost(exc)

    return Protocol


def server_config(
    app,
    header_timeout: float = HEADER_TIMEOUT,
    keep_alive: float = KEEP_ALIVE,
    max_connections: int = MAX_CONNECTIONS,
    **kw,
):
    """The uvicorn Config every server here runs with (timeouts, connection cap)."""
    import uvicorn

    return uvicorn.Config(
        app, http=protocol(header_timeout, max_connections, keep_alive), timeout_keep_alive=keep_alive, **kw
    )


def serve(
    models: str = "models",
    host: str = "127.0.0.1",
    port: int = 8000,
    app_dir: str | None = None,
    allowed_hosts: tuple = (),
    header_timeout: float = HEADER_TIMEOUT,
    keep_alive: float = KEEP_ALIVE,
    max_connections: int = MAX_CONNECTIONS,
    **options,
) -> None:
    """Run the server until interrupted (uvicorn, one process, a pool of predict workers).
    Allowed ``Host`` names: the bind address, ``localhost`` and ``allowed_hosts``."""
    import uvicorn

    hosts = (host, "localhost", *allowed_hosts)
    config = server_config(
        create_app(models, app_dir, allowed_hosts=hosts, **options),
        header_timeout,
        keep_alive,
        max_connections,
        host=host,
        port=port,
        log_level="info",
    )
    uvicorn.Server(config).run()


class BackgroundServer:
    """The app under uvicorn in a thread, on a free 127.0.0.1 port (tests, benchmarks).

    ``url`` is its origin and ``app.state.repository`` its model repository once
    started; ``stop()`` shuts it down and waits for the thread."""

    def __init__(self, app: Starlette, host: str = "127.0.0.1", **config):
        import socket
        import threading
        import time

        import uvicorn

        self.app = app
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self.url = f"http://{host}:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(
            server_config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5, **config)
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="webtensor-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server at {self.url} did not start")
            time.sleep(0.02)

    @property
    def repository(self) -> Repository:
        return self.app.state.repository

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

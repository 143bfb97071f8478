"""The server: TensorFlow Serving's REST API, model files for the page, and the web app.

    GET  /v1/models/{name}[/versions/{v}]             version status
    GET  /v1/models/{name}[/versions/{v}]/metadata    signature (inputs, outputs)
    POST /v1/models/{name}[/versions/{v}]:predict     {"instances": [...]} or {"inputs": ...}
    GET  /models.json                                 the gallery (what the page lists)
    GET  /models/{name}/{v}.safetensors               a version's file, for in-page inference
    POST /models/{name}                               a new version (body: the file); 201
    GET  /...                                         the web app's static files

Every error is TF Serving's ``{"error": "..."}`` with a 4xx/5xx status.
"""
from __future__ import annotations

import asyncio
import contextlib
import json

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .repository import Repository, parse_version
from .servable import RequestError
from .worker import MAX_BATCH_ROWS, Worker

MAX_BODY = 32 * 1024 * 1024


def error(message: str, status: int) -> Response:
    return _json({"error": message}, status)


def _json(obj, status: int = 200) -> Response:
    body = json.dumps(obj, separators=(",", ":"), allow_nan=True)
    return Response(body, status, media_type="application/json")


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


def parse_predict(body: bytes, servable) -> tuple:
    """A predict body -> (columns: input name -> batch-first nested lists, row format?)."""
    try:
        req = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise RequestError(f"JSON Parse error: {e}") from None
    if not isinstance(req, dict):
        raise RequestError("the request body must be a JSON object with \"instances\" or \"inputs\"")
    sig = req.get("signature_name", "serving_default")
    if sig not in ("serving_default", ""):
        raise RequestError(f"Serving signature name: \"{sig}\" not found in signature def")
    if ("instances" in req) == ("inputs" in req):
        raise RequestError("the request must have exactly one of \"instances\" (row format) or "
                           "\"inputs\" (columnar format)")
    names = [i.name for i in servable.inputs]
    if "instances" in req:
        rows = req["instances"]
        if not isinstance(rows, list) or not rows:
            raise RequestError("\"instances\" must be a non-empty list")
        if all(isinstance(r, dict) for r in rows):
            try:
                return {n: [r[n] for r in rows] for n in {k for r in rows for k in r}}, True
            except KeyError as e:
                raise RequestError(f"every instance must name the same inputs; one lacks {e}") from None
        if len(names) > 1:
            raise RequestError(f"this model has {len(names)} inputs ({', '.join(names)}): each instance "
                               f"must be an object naming them")
        return {names[0]: rows}, True
    cols = req["inputs"]
    if isinstance(cols, dict):
        return cols, False
    if len(names) > 1:
        raise RequestError(f"this model has {len(names)} inputs ({', '.join(names)}): \"inputs\" must "
                           f"be an object naming them")
    return {names[0]: cols}, False


def shape_predict(out: dict, servable, row_format: bool) -> dict:
    names = servable.output_names
    if not row_format:
        return {"outputs": out[names[0]] if len(names) == 1 else out}
    if len(names) == 1:
        return {"predictions": out[names[0]]}
    n = len(out[names[0]])
    return {"predictions": [{k: out[k][i] for k in names} for i in range(n)]}


def create_app(models: str, app_dir: str | None = None, *, keep: int = 1, poll_interval: float = 1.0,
               max_body: int = MAX_BODY, allow_upload: bool = True, max_batch: int = MAX_BATCH_ROWS) -> Starlette:
    """The ASGI app; its lifespan starts the worker and the model poller and stops them."""
    state: dict = {}

    def repo() -> Repository:
        return state["repository"]

    async def status(request: Request) -> Response:
        rows = repo().status(request.path_params["name"], _version(request))
        return _json({"model_version_status": rows})

    async def metadata(request: Request) -> Response:
        s = repo().get(request.path_params["name"], _version(request))
        return _json({"model_spec": {"name": s.name, "signature_name": "", "version": str(s.version)},
                      "metadata": {"signature_def": {"signature_def": s.signature_def()}}})

    async def predict(request: Request) -> Response:
        s = repo().get(request.path_params["name"], _version(request))
        body = await read_body(request, max_body)
        columns, rows = parse_predict(body, s)
        out = await asyncio.wrap_future(state["worker"].predict(s, columns))
        return _json(shape_predict(out, s, rows))

    async def gallery(request: Request) -> Response:
        return _json({"server": True, "upload": allow_upload, "models": repo().models()})

    async def model_file(request: Request) -> Response:
        v = parse_version(request.path_params["version"])
        path = repo().file(request.path_params["name"], v) if v is not None else None
        if path is None:
            raise RequestError(f"no model file {request.path_params['name']}/{request.path_params['version']}", 404)
        return FileResponse(path, media_type="application/octet-stream",
                            headers={"Cache-Control": "no-cache"})

    async def upload(request: Request) -> Response:
        if not allow_upload:
            raise RequestError("this server does not accept new versions (started with --read-only)", 403)
        body = await read_body(request, max_body)
        name = request.path_params["name"]
        version = await run_in_threadpool(repo().add_version, name, body)
        return _json({"name": name, "version": str(version),
                      "url": f"models/{name}/{version}.safetensors"}, 201)

    routes = [
        Route("/v1/models/{name}:predict", predict, methods=["POST"]),
        Route("/v1/models/{name}/versions/{version}:predict", predict, methods=["POST"]),
        Route("/v1/models/{name}/metadata", metadata, methods=["GET"]),
        Route("/v1/models/{name}/versions/{version}/metadata", metadata, methods=["GET"]),
        Route("/v1/models/{name}", status, methods=["GET"]),
        Route("/v1/models/{name}/versions/{version}", status, methods=["GET"]),
        Route("/models.json", gallery, methods=["GET"]),
        Route("/models/{name}/{version}.safetensors", model_file, methods=["GET"]),
        Route("/models/{name}", upload, methods=["POST"]),
    ]
    if app_dir is not None:
        routes.append(Mount("/", StaticFiles(directory=app_dir, html=True)))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        worker = Worker(max_batch)
        repository = Repository(models, worker, keep=keep, poll_interval=poll_interval)
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

    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        RequestError: on_request_error, HTTPException: on_http_error, Exception: on_unexpected})


def serve(models: str = "models", host: str = "127.0.0.1", port: int = 8000, app_dir: str | None = None,
          **options) -> None:
    """Run the server until interrupted (uvicorn; one process, one webtensor worker)."""
    import uvicorn

    uvicorn.run(create_app(models, app_dir, **options), host=host, port=port, log_level="info")



class BackgroundServer:
    """The app under uvicorn in a thread, on a free 127.0.0.1 port (tests, benchmarks).

    ``url`` is its origin and ``app.state.repository`` its model repository once
    started; ``stop()`` shuts it down and waits for the thread."""

    def __init__(self, app: Starlette, host: str = "127.0.0.1"):
        import socket
        import threading
        import time

        import uvicorn

        self.app = app
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self.url = f"http://{host}:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="webtensor-server", daemon=True)
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

    def __enter__(self) -> "BackgroundServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

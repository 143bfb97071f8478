"""A static file server for the built site, on 127.0.0.1 only.

    python build/serve.py [PORT]      # serves build/dist/site; open http://127.0.0.1:PORT/

Browser tests and page benchmarks start it in a thread on a free port (``serve``) and
stop it themselves. ``mounts`` maps URL prefixes to folders, so they can serve test or
benchmark files beside the site from the same origin. Files are answered as the
webtensor server answers them (core/webtensor/serving/static.py): the ``.br``/``.gz``
variant the browser accepts, strong ETags and 304s, ``immutable`` on content-hashed names.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import io
import os
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

_spec = importlib.util.spec_from_file_location(
    "webtensor_static", Path(__file__).resolve().parent.parent / "core" / "webtensor" / "serving" / "static.py"
)
static = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(static)


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **static.TYPES}
    protocol_version = "HTTP/1.1"  # Chromium revalidates (If-None-Match) only what an HTTP/1.1 server sent

    def __init__(self, *args, mounts: dict, **kwargs):
        self.mounts = mounts
        super().__init__(*args, directory=str(mounts["/"]), **kwargs)

    def translate_path(self, path: str) -> str:
        path = unquote(urlsplit(path).path)
        for prefix in sorted(self.mounts, key=len, reverse=True):
            if path.startswith(prefix):
                rel = path[len(prefix) :].lstrip("/")
                root = Path(self.mounts[prefix]).resolve()
                full = (root / rel).resolve()
                return str(full) if full == root or root in full.parents else str(root / "__outside__")
        return super().translate_path(path)

    def send_head(self):
        """A file as static.plan says (variant, ETag, 304, caching); folders as before."""
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            index = path / "index.html"
            if not index.is_file() or not self.path.split("?")[0].endswith("/"):
                return super().send_head()
            path = index
        if not path.is_file():
            page = Path(self.mounts["/"]) / "404.html"  # the site's own page, as static hosts serve it
            if not (page.is_file() and "text/html" in self.headers.get("Accept", "")):
                self.send_error(404, "File not found")
                return None
            body = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        status, headers, body = static.plan(path, {k.lower(): v for k, v in self.headers.items()})
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if body is None:
            self.end_headers()
            return None
        f = open(body, "rb")
        self.send_header("Content-Length", str(os.fstat(f.fileno()).st_size))
        self.end_headers()
        return f

    def copyfile(self, source, outputfile):
        shutil.copyfileobj(source, outputfile, 1 << 20)

    def log_message(self, *args):
        pass


class Server:
    """A running server: ``url`` is its origin; ``stop()`` shuts it down."""

    def __init__(self, mounts: dict, port: int = 0):
        handler = functools.partial(_Handler, mounts={k: Path(v) for k, v in mounts.items()})
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def serve(mounts: dict | str | os.PathLike, port: int = 0) -> Server:
    if not isinstance(mounts, dict):
        mounts = {"/": mounts}
    return Server(mounts, port)


if __name__ == "__main__":
    site = Path(__file__).resolve().parent / "dist" / "site"
    srv = serve(site, int(sys.argv[1]) if len(sys.argv) > 1 else 8000)
    print(f"serving {site} at {srv.url}/  (Ctrl-C stops)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        srv.stop()

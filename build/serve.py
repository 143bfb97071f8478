"""A static file server for the built site, on 127.0.0.1 only.

    python build/serve.py [PORT]      # serves build/dist/site; open http://127.0.0.1:PORT/

Browser tests and page benchmarks start it in a thread on a free port (``serve``) and
stop it themselves. ``mounts`` maps URL prefixes to folders, so they can serve test or
benchmark files beside the site from the same origin.
"""
from __future__ import annotations

import functools
import http.server
import os
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
         ".json": "application/json", ".whl": "application/zip", ".zip": "application/zip",
         ".bin": "application/octet-stream", ".html": "text/html", ".css": "text/css"}


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES}

    def __init__(self, *args, mounts: dict, **kwargs):
        self.mounts = mounts
        super().__init__(*args, directory=str(mounts["/"]), **kwargs)

    def translate_path(self, path: str) -> str:
        path = unquote(urlsplit(path).path)
        for prefix in sorted(self.mounts, key=len, reverse=True):
            if path.startswith(prefix):
                rel = path[len(prefix):].lstrip("/")
                root = Path(self.mounts[prefix]).resolve()
                full = (root / rel).resolve()
                return str(full) if full == root or root in full.parents else str(root / "__outside__")
        return super().translate_path(path)

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

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

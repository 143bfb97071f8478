"""Precompressed static files with HTTP caching: one mechanism for every server here.

The site builders write ``NAME.br`` and ``NAME.gz`` beside each big, compressible file
(``compress_tree``). A server asks ``plan(path, headers)`` what to answer: the variant
the client's ``Accept-Encoding`` prefers, a strong ETag per representation (a 304 when
``If-None-Match`` matches), and the caching policy:

- a content-hashed name (``-`` and 12 hex digits before the extension, e.g.
  ``webtensor-3fa9c01b22de.snapshot``) never changes: ``public, max-age=31536000, immutable``;
- anything else (pages, the manifest, model files) is revalidated on each use:
  ``no-cache`` with its ETag, so an unchanged file costs a 304 and no body.

Pure standard library (the build scripts load it by path, and so does build/serve.py);
brotli is used where the optional ``brotli`` module is installed, gzip otherwise.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import threading
from pathlib import Path

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
HASHED = re.compile(r"-[0-9a-f]{12}\.[A-Za-z0-9.]+$")
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))  # preference order
COMPRESSIBLE = (
    ".mjs",
    ".js",
    ".json",
    ".html",
    ".css",
    ".wasm",
    ".snapshot",
    ".bin",
    ".safetensors",
    ".svg",
    ".txt",
    ".py",
    ".zip",
    ".whl",
    ".tar",
)
MIN_SIZE = 1024  # smaller files are not worth a variant
MIN_SAVING = 0.9  # a variant is kept only when at most 90% of the original
TYPES = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".bin": "application/octet-stream",
    ".snapshot": "application/octet-stream",
    ".safetensors": "application/octet-stream",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".py": "text/x-python",
    ".txt": "text/plain; charset=utf-8",
    ".ico": "image/x-icon",
}

try:  # optional: `pip install brotli` (the "web" extra); gzip alone otherwise
    import brotli as _brotli
except ImportError:  # pragma: no cover - depends on the environment
    _brotli = None


def content_hash(data: bytes) -> str:
    """The 12 hex digits a content-hashed name carries."""
    return hashlib.sha256(data).hexdigest()[:12]


def hashed_name(path: Path) -> Path:
    """Rename ``path`` to ``stem-<hash>.ext`` (its content's hash); returns the new path."""
    path = Path(path)
    new = path.with_name(f"{path.stem}-{content_hash(path.read_bytes())}{path.suffix}")
    path.replace(new)
    return new


def _compress(data: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return _brotli.compress(data, quality=11 if len(data) < (1 << 20) else 9)
    return gzip.compress(data, 9, mtime=0)


def compress_file(path: Path, cache: Path | None = None) -> list:
    """Write ``path.br`` / ``path.gz`` where they save at least 10%; returns the written
    paths. ``cache`` (a folder) keeps variants by content hash, so a rebuild of an
    unchanged 30 MB snapshot costs a copy, not a minute of brotli."""
    path = Path(path)
    data = path.read_bytes()
    key = hashlib.sha256(data).hexdigest()
    out = []
    for enc, ext in ENCODINGS:
        dest = path.with_name(path.name + ext)
        dest.unlink(missing_ok=True)
        if enc == "br" and _brotli is None:
            continue
        cached = cache / f"{key}{ext}" if cache is not None else None
        skip = cache / f"{key}{ext}.none" if cache is not None else None
        if skip is not None and skip.exists():
            continue
        if cached is not None and cached.exists():
            shutil.copyfile(cached, dest)
            out.append(dest)
            continue
        body = _compress(data, enc)
        if len(body) > MIN_SAVING * len(data):
            if skip is not None:
                skip.parent.mkdir(parents=True, exist_ok=True)
                skip.touch()
            continue
        dest.write_bytes(body)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(dest, cached)
        out.append(dest)
    return out


def compress_tree(root: Path, cache: Path | None = None) -> list:
    """Variants for every compressible file of at least ``MIN_SIZE`` bytes under ``root``
    that has none yet (a copied runtime keeps the ones the site build made)."""
    written = []
    for p in sorted(Path(root).rglob("*")):
        if (
            p.is_file()
            and p.suffix in COMPRESSIBLE
            and p.stat().st_size >= MIN_SIZE
            and not any(p.with_name(p.name + ext).exists() for _, ext in ENCODINGS)
        ):
            written += compress_file(p, cache)
    return written


def accepted(header: str | None) -> list:
    """The encodings of an ``Accept-Encoding`` header we have variants for, best first
    (q=0 refuses one; ``*`` stands for any not named)."""
    q = {}
    for part in (header or "").split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        weight = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k.strip().lower() == "q":
                try:
                    weight = float(v)
                except ValueError:
                    weight = 0.0
        q[name] = weight
    ranked = [(q.get(enc, q.get("*", 0.0)), -i, enc) for i, (enc, _) in enumerate(ENCODINGS)]
    return [enc for w, _, enc in sorted(ranked, reverse=True) if w > 0]


_HASHES: dict = {}
_LOCK = threading.Lock()


def etag_of(path: Path) -> str:
    """A strong ETag: the content's sha256 (cached by path, size, mtime and inode)."""
    st = os.stat(path)
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    with _LOCK:
        tag = _HASHES.get(key)
    if tag is None:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        tag = h.hexdigest()[:32]
        with _LOCK:
            if len(_HASHES) > 4096:
                _HASHES.clear()
            _HASHES[key] = tag
    return tag


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


def plan(
    path: Path, headers, *, has_variant=None, immutable: bool | None = None, media_type: str | None = None
) -> tuple:
    """What to answer for the file ``path``: ``(status, headers, body_path)``;
    ``body_path`` is None for a 304. ``headers`` are the request's (a mapping with
    lower-case ``get``); ``has_variant(p)`` says whether a variant file may be served
    (default: it exists); ``immutable`` defaults to "the name is content-hashed"."""
    path = Path(path)
    exists = has_variant or (lambda p: p.is_file())
    variants = {enc: path.with_name(path.name + ext) for enc, ext in ENCODINGS}
    variants = {enc: p for enc, p in variants.items() if exists(p)}
    body, encoding = path, None
    for enc in accepted(headers.get("accept-encoding")):
        if enc in variants:
            body, encoding = variants[enc], enc
            break
    tag = etag_of(path)
    etag = f'"{tag}-{encoding}"' if encoding else f'"{tag}"'
    if immutable is None:
        immutable = HASHED.search(path.name) is not None
    out = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE if immutable else REVALIDATE,
        "Content-Type": media_type or TYPES.get(path.suffix, "application/octet-stream"),
    }
    if variants:
        out["Vary"] = "Accept-Encoding"
    if _matches(headers.get("if-none-match"), etag):
        del out["Content-Type"]
        return 304, out, None
    if encoding:
        out["Content-Encoding"] = encoding
    return 200, out, body


def starlette_response(request, path: Path, **kw):
    """``plan`` as a Starlette response (FileResponse streams the chosen body)."""
    from starlette.responses import FileResponse, Response

    status, headers, body = plan(path, request.headers, **kw)
    if body is None:
        return Response(status_code=304, headers=headers)
    media = headers.pop("Content-Type")
    return FileResponse(body, media_type=media, headers=headers)

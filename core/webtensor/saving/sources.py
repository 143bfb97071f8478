"""Where model files come from: paths, bytes, and URLs (natively and in the page).

Every source feeds the one parser in ``safetensors``; tensors go to their sink as
their bytes arrive, so a file fetched in the page is never held whole in Python.
"""

from __future__ import annotations

import os
import sys

from . import safetensors as st

IN_PAGE = sys.platform == "emscripten"
URL_SCHEMES = ("http://", "https://", "blob:", "data:")


def is_url(source) -> bool:
    """A string with a URL scheme; in the page also a relative URL that names no file."""
    if not isinstance(source, str):
        return False
    if source.startswith(URL_SCHEMES):
        return True
    return IN_PAGE and not os.path.exists(source)


def read(source, on_header):
    """Parse ``source`` (path, bytes-like, binary file object or URL); returns the Header."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return st.read_bytes(source, on_header)
    if hasattr(source, "read"):
        return st.read_file(source, on_header)
    if is_url(source):
        return _read_url_page_sync(source, on_header) if IN_PAGE else _read_url_native(source, on_header)
    path = os.fspath(source)
    with open(path, "rb") as f:
        try:
            return st.read_file(f, on_header)
        except ValueError as e:
            if str(e).startswith(path):
                raise
            raise ValueError(f"{path}: {e}") from None


async def read_async(source, on_header):
    """Like ``read`` without blocking: the browser's fetch streamed chunk by chunk."""
    if not is_url(source):
        return read(source, on_header)
    if IN_PAGE:
        return await _read_url_page(source, on_header)
    return await _read_url_native_async(source, on_header)


def _tensor_collector(out: dict):
    def on_header(header):
        return lambda e, data: out.__setitem__(e.name, st.to_tensor(e, data))

    return on_header


def _user_metadata(header) -> dict:
    """The metadata a caller saved: the data checksum is verified here, not handed back."""
    return {k: v for k, v in header.metadata.items() if k != st.CHECKSUM_KEY}


def load_file(source) -> tuple:
    """``(metadata, {name: Tensor})`` from any safetensors file: path, bytes or URL."""
    out = {}
    header = read(source, _tensor_collector(out))
    return _user_metadata(header), out


async def load_file_async(source) -> tuple:
    out = {}
    header = await read_async(source, _tensor_collector(out))
    return _user_metadata(header), out


def _read_url_native(url: str, on_header):
    import urllib.request

    with urllib.request.urlopen(url) as resp:
        return st.read_stream(resp.read, on_header)


async def _read_url_native_async(url: str, on_header):
    """Network reads in a worker thread; parsing and the sinks (backend writes) stay on
    the caller's thread, a chunk at a time."""
    import asyncio
    import urllib.request

    resp = await asyncio.to_thread(urllib.request.urlopen, url)

    async def read(n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            part = await asyncio.to_thread(resp.read, min(st.CHUNK, n - len(buf)))
            if not part:
                break
            buf += part
        return bytes(buf)

    try:
        return await st.read_stream_async(read, on_header)
    finally:
        resp.close()


class _Chunks:
    """Bytes from a JS ReadableStream reader handed out in the sizes the parser asks for.

    ``read`` blocks on each chunk's promise with JSPI (only JS promises are awaited
    synchronously, so the parser and the backends run on the ordinary stack);
    ``read_async`` awaits them."""

    def __init__(self, reader):
        self.reader, self.parts, self.have = reader, [], 0

    def _take(self, n: int) -> bytes:
        joined = b"".join(self.parts) if len(self.parts) != 1 else self.parts[0]
        out, rest = joined[:n], joined[n:]
        self.parts, self.have = ([rest] if rest else []), len(rest)
        return out

    def _add(self, got) -> bool:
        if got.done:
            return False
        chunk = got.value.to_bytes()
        self.parts.append(chunk)
        self.have += len(chunk)
        return True

    def read(self, n: int) -> bytes:
        from .. import page

        while self.have < n and self._add(page.run_sync(self.reader.read(), "load_model(url)")):
            pass
        return self._take(n)

    async def read_async(self, n: int) -> bytes:
        while self.have < n and self._add(await self.reader.read()):
            pass
        return self._take(n)


def _fetch_sync(url: str):
    from js import fetch  # Pyodide's JS FFI
    from .. import page

    return _checked(page.run_sync(fetch(url), f"load_model({url!r})"), url)


def _checked(resp, url: str):
    if not resp.ok:
        raise OSError(f"fetching {url} failed: HTTP {resp.status} {resp.statusText}")
    return resp


def _read_url_page_sync(url: str, on_header):
    return st.read_stream(_Chunks(_fetch_sync(url).body.getReader()).read, on_header)


async def _read_url_page(url: str, on_header):
    from js import fetch  # Pyodide's JS FFI

    resp = _checked(await fetch(url), url)
    return await st.read_stream_async(_Chunks(resp.body.getReader()).read_async, on_header)

"""Precompressed static files with strong ETags (serving/static.py), through build/serve.py's
server and the app's --app route, over real HTTP (http.client)."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import sys
from pathlib import Path

import pytest

from webtensor.serving import static

pytestmark = pytest.mark.native
ROOT = Path(__file__).resolve().parents[2]
BODY = ("export const x = " + json.dumps(list(range(2000))) + ";\n").encode()


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "pyodide").mkdir(parents=True)
    (site / "app.mjs").write_bytes(BODY)
    (site / "tiny.json").write_bytes(b"{}")
    snap = site / "pyodide" / "webtensor.snapshot"
    snap.write_bytes(bytes(range(256)) * 64 + b"\0" * 50000)
    static.hashed_name(snap)
    static.compress_tree(site, cache=tmp_path / "cache")
    return site


def _get(url: str, path: str, **headers) -> tuple:
    host = url.split("//")[1]
    c = http.client.HTTPConnection(host, timeout=30)
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def test_accept_encoding_ranking():
    assert static.accepted("gzip, deflate, br, zstd") == ["br", "gzip"]
    assert static.accepted("gzip;q=1, br;q=0.5") == ["gzip", "br"]
    assert static.accepted("br;q=0, gzip") == ["gzip"]
    assert static.accepted("identity") == []
    assert static.accepted("*;q=0.3, gzip;q=0") == ["br"]
    assert static.accepted(None) == []


def test_compress_tree_writes_smaller_variants_and_skips_tiny(tmp_path):
    site = _site(tmp_path)
    assert gzip.decompress((site / "app.mjs.gz").read_bytes()) == BODY
    assert not (site / "tiny.json.gz").exists()  # under MIN_SIZE
    (snap,) = (site / "pyodide").glob("webtensor-*.snapshot")
    assert snap.name == f"webtensor-{hashlib.sha256(snap.read_bytes()).hexdigest()[:12]}.snapshot"
    if static._brotli is not None:
        import brotli

        assert brotli.decompress((site / "app.mjs.br").read_bytes()) == BODY
    # the cache gives the same variants without compressing again
    (site / "app.mjs.gz").unlink()
    before = sorted(p.name for p in (tmp_path / "cache").iterdir())
    static.compress_file(site / "app.mjs", cache=tmp_path / "cache")
    assert gzip.decompress((site / "app.mjs.gz").read_bytes()) == BODY
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == before


def test_incompressible_file_gets_no_variant(tmp_path):
    f = tmp_path / "noise.bin"
    f.write_bytes(os.urandom(20000))
    assert static.compress_file(f) == []
    assert not (tmp_path / "noise.bin.gz").exists()


@pytest.fixture
def dev_server(tmp_path):
    sys.path.insert(0, str(ROOT / "build"))
    import serve

    site = _site(tmp_path)
    srv = serve.serve(site)
    yield srv, site
    srv.stop()


def _check_caching(url: str, site: Path, prefix: str = "/"):
    etag = f'"{hashlib.sha256(BODY).hexdigest()[:32]}'
    status, h, body = _get(url, prefix + "app.mjs", **{"Accept-Encoding": "gzip"})
    assert status == 200 and h["content-encoding"] == "gzip" and gzip.decompress(body) == BODY
    assert h["etag"] == etag + '-gzip"' and h["cache-control"] == "no-cache" and h["vary"] == "Accept-Encoding"
    assert h["content-type"].startswith("text/javascript")
    status, h, body = _get(url, prefix + "app.mjs", **{"Accept-Encoding": "gzip", "If-None-Match": etag + '-gzip"'})
    assert status == 304 and body == b"" and h["etag"] == etag + '-gzip"'
    status, h, body = _get(url, prefix + "app.mjs", **{"If-None-Match": etag + '-gzip"'})  # other representation
    assert status == 200 and body == BODY and "content-encoding" not in h and h["etag"] == etag + '"'
    if static._brotli is not None:
        status, h, body = _get(url, prefix + "app.mjs", **{"Accept-Encoding": "gzip, deflate, br"})
        import brotli

        assert h["content-encoding"] == "br" and brotli.decompress(body) == BODY
    (snap,) = (site / "pyodide").glob("webtensor-*.snapshot")
    status, h, body = _get(url, f"{prefix}pyodide/{snap.name}", **{"Accept-Encoding": "gzip"})
    assert status == 200 and h["cache-control"] == "public, max-age=31536000, immutable"
    assert gzip.decompress(body) == snap.read_bytes()


def test_dev_server_serves_variants_etags_and_304(dev_server):
    srv, site = dev_server
    _check_caching(srv.url, site)
    status, h, body = _get(srv.url, "/missing.js")
    assert status == 404


def test_app_static_route_serves_variants_etags_and_304(tmp_path):
    pytest.importorskip("starlette")
    from webtensor.serving.app import BackgroundServer, create_app
    from webtensor.serving.site import write_manifest

    site = _site(tmp_path)
    write_manifest(site)
    (tmp_path / "models").mkdir()
    with BackgroundServer(create_app(str(tmp_path / "models"), str(site))) as srv:
        _check_caching(srv.url, site)
        # a variant the manifest does not list is not served
        (site / "tiny.json.gz").write_bytes(gzip.compress(b"{}"))
        status, h, body = _get(srv.url, "/tiny.json", **{"Accept-Encoding": "gzip"})
        assert status == 200 and body == b"{}" and "content-encoding" not in h


def test_model_file_revalidates_with_etag(tmp_path):
    pytest.importorskip("starlette")
    from serving_util import write_version

    from webtensor.serving.app import BackgroundServer, create_app

    path = write_version(tmp_path / "models", "digits", 1)
    etag = f'"{hashlib.sha256(path.read_bytes()).hexdigest()[:32]}"'
    with BackgroundServer(create_app(str(tmp_path / "models"))) as srv:
        status, h, body = _get(srv.url, "/models/digits/1.safetensors")
        assert status == 200 and body == path.read_bytes()
        assert h["etag"] == etag and h["cache-control"] == "no-cache"
        status, h, body = _get(srv.url, "/models/digits/1.safetensors", **{"If-None-Match": etag})
        assert status == 304 and body == b""

"""Issue 12's server items, each driven the way an attacker or a bad client would:
uploads (off by default; Origin, content type, token), the Host allow-list (DNS
rebinding), dotfiles and stray files under --app, idle and half-sent sockets, the
connection cap, deep JSON, NaN in requests and responses, the per-request row cap, a
slow predict or a slow load beside fast predicts, an upload parsed once, and a
polyglot or HDF5 file never reaching the Keras importer."""

from __future__ import annotations

import concurrent.futures as cf
import json
import socket
import struct
import threading
import time

import pytest
from serving_util import Client, instances, start, upload_headers, write_version
from webtensor.serving.servable import RequestError, load_servable

pytestmark = pytest.mark.native


def _wait(pred, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _versions(models, name="digits") -> list:
    return sorted(p.name for p in (models / name).iterdir())


# -- uploads, Origin, Host ---------------------------------------------------------------


def test_upload_rules(models, tmp_path):
    srv = start(models, allow_upload=True, upload_token="s3cret")
    try:
        c, url = Client(srv.url), srv.url
        data = write_version(tmp_path / "new", "digits", 5, seed=5).read_bytes()
        refused = [
            {"Origin": url, "Content-Type": "text/plain"},  # a cross-site form's type
            {"Origin": url},  # no type: a simple request
            {"Origin": url, "Content-Type": "multipart/form-data; boundary=x"},
            {"Origin": "http://evil.example", "Content-Type": "application/octet-stream"},
            {"Content-Type": "application/octet-stream"},  # no Origin, no token
            {"Content-Type": "application/octet-stream", "Authorization": "Bearer wrong"},
            {"Origin": "http://evil.example", "Authorization": "Bearer s3cret"},
        ]
        for headers in refused:
            status, body = c.call("POST", "/models/digits", data, headers)
            assert status == 403 and "upload" in body["error"], (headers, status, body)
        assert _versions(models) == ["1"]
        assert c.call("POST", "/models/digits", data, upload_headers(url))[0] == 201
        assert c.call("POST", "/models/digits", data, {"Authorization": "Bearer s3cret"})[0] == 201
        assert _versions(models) == ["1", "2", "3"]
    finally:
        srv.stop()


def test_host_header_must_be_allowed(models):
    srv = start(models, allowed_hosts=("127.0.0.1", "localhost", "models.example"))
    try:
        c = Client(srv.url)
        port = srv.url.rsplit(":", 1)[1]
        for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", "localhost.", ""):
            status, body = c.call("GET", "/v1/models/digits", headers={"Host": host})
            assert status == 400 and "Host" in body["error"], (host, status, body)
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "LOCALHOST", "models.example"):
            assert c.call("GET", "/v1/models/digits", headers={"Host": host})[0] == 200, host
    finally:
        srv.stop()


# -- --app ---------------------------------------------------------------------------------


@pytest.fixture
def app_dir(tmp_path, models):
    from webtensor.serving.site import build_app

    runtime = tmp_path / "runtime"
    for rel, text in {
        "webtensor.json": "{}",
        "webtensor.mjs": "export {}",
        "pyodide/pyodide.mjs": "x",
        "wheels/w.whl": "w",
        "data/digits_split.bin": "d",
    }.items():
        (runtime / rel).parent.mkdir(parents=True, exist_ok=True)
        (runtime / rel).write_text(text)
    return build_app(models, tmp_path / "app", runtime=runtime)


def test_app_serves_only_what_the_site_build_wrote(models, app_dir, tmp_path):
    (app_dir / ".env").write_text("SECRET=1")
    (app_dir / ".git").mkdir()
    (app_dir / ".git" / "config").write_text("[core]")
    (app_dir / "later.txt").write_text("added after the build")
    srv = start(models, app_dir=str(app_dir))
    try:
        c = Client(srv.url)
        status, page = c.get("/")
        assert status == 200 and page == (app_dir / "index.html").read_bytes()
        assert c.get("/app.mjs") == (200, (app_dir / "app.mjs").read_bytes())
        assert c.get("/models.json")[1]["server"] is True  # the live gallery, not the built one
        for path in ("/.env", "/.git/config", "/later.txt", "/%2Eenv", "/py/../.env", "/nope.html"):
            status, body = c.get(path)
            assert status == 404, (path, status, body)
    finally:
        srv.stop()
    with pytest.raises(ValueError, match="not a site built by"):
        from webtensor.serving.app import create_app

        create_app(str(models), str(tmp_path))


# -- sockets -------------------------------------------------------------------------------


def _closed_by_server(sock: socket.socket, limit: float = 15.0) -> bool:
    """True once the server closes ``sock`` (reads drain to EOF); False if it stays open."""
    sock.settimeout(limit)
    try:
        while sock.recv(65536):
            pass
        return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def _addr(srv) -> tuple:
    host, port = srv.url.removeprefix("http://").split(":")
    return host, int(port)


def test_idle_and_half_sent_sockets_are_closed(models):
    srv = start(models, header_timeout=0.5, keep_alive=0.5)
    try:
        host, port = _addr(srv)
        silent = socket.create_connection((host, port))
        half = socket.create_connection((host, port))
        half.sendall(f"GET /v1/models/digits HTTP/1.1\r\nHost: {host}\r\n".encode())  # never ends its headers
        kept = socket.create_connection((host, port))
        kept.sendall(f"GET /v1/models/digits HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        kept.settimeout(15)
        assert kept.recv(12).startswith(b"HTTP/1.1 200")
        for s in (silent, half, kept):
            with s:
                assert _closed_by_server(s)
        assert Client(srv.url).get("/v1/models/digits")[0] == 200
    finally:
        srv.stop()


def test_connections_over_the_cap_are_closed(models):
    srv = start(models, header_timeout=30, max_connections=3)
    try:
        addr = _addr(srv)
        held = [socket.create_connection(addr) for _ in range(3)]
        time.sleep(0.3)
        with socket.create_connection(addr) as extra:
            assert _closed_by_server(extra, limit=10)
        for s in held:
            s.close()
        _wait(lambda: Client(srv.url).get("/v1/models/digits")[0] == 200, "a request after the cap cleared")
    finally:
        srv.stop()


# -- JSON ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000,
        b'{"instances": ' + b"[" * 70 + b"0" + b"]" * 70 + b"}",
        b'{"instances": [' + b'{"a": [' * 40 + b"1" + b"]}" * 40 + b"]}",
        b'{"instances": ' + b"[1, " * 70 + b"1" + b"]" * 70 + b"}",
    ],
)
def test_deep_json_is_a_400(client, body):
    status, answer = client.call("POST", "/v1/models/digits:predict", body, {"Content-Type": "application/json"})
    assert status == 400 and "deep" in answer["error"], (status, answer)


def test_depth_check_counts_only_structure():
    from webtensor.serving.app import check_depth

    check_depth(b'{"s": "' + b"[" * 500 + b'", "t": "\\"[[[["}')  # brackets inside strings
    check_depth(b"[" + b"[1,2]," * 10_000 + b"[3]]")  # wide, depth 2
    check_depth(b"[" * 64 + b"]" * 64)
    with pytest.raises(RequestError, match="64 deep"):
        check_depth(b"[" * 65 + b"]" * 65)
    with pytest.raises(RequestError, match="64 deep"):
        check_depth(b"[0," * 65 + b"0" + b"]" * 65)


def _strict(data) -> object:
    """Parse as RFC 8259 JSON: NaN/Infinity tokens are an error."""

    def refuse(token):
        raise ValueError(f"bare {token} is not JSON")

    return json.loads(data, parse_constant=refuse)


def test_nan_and_infinity_in_requests_and_responses(client):
    x = instances(3)
    x[0][0], x[1][0], x[2][0] = float("nan"), float("inf"), float("-inf")
    body = json.dumps({"instances": x}).encode()  # Python writes NaN, Infinity, -Infinity
    assert b"NaN" in body and b"-Infinity" in body
    conn_status, raw = _raw_post(client, "/v1/models/digits:predict", body)
    assert conn_status == 200, raw
    rows = _strict(raw)["predictions"]  # strict JSON: no bare NaN
    assert rows[0] == ["NaN"] * 10  # NaN in: NaN out, spelled as proto3 JSON does
    for row in rows[1:]:
        assert all(isinstance(v, (float, int, str)) for v in row) and len(row) == 10
    assert all(v in ("NaN", "Infinity", "-Infinity") or 0 <= v <= 1 for row in rows for v in row)


def _raw_post(client, path: str, body: bytes) -> tuple:
    import http.client

    conn = http.client.HTTPConnection(client.host, client.port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_rows_per_request_are_capped(models):
    srv = start(models, max_rows=4)
    try:
        c = Client(srv.url)
        status, body = c.post("/v1/models/digits:predict", {"instances": instances(5)})
        assert status == 400 and "limit of 4" in body["error"]
        status, body = c.post("/v1/models/digits:predict", {"inputs": {"pixels": instances(5)}})
        assert status == 400 and "limit of 4" in body["error"]
        assert c.post("/v1/models/digits:predict", {"instances": instances(4)})[0] == 200
    finally:
        srv.stop()


# -- workers -------------------------------------------------------------------------------


def test_a_slow_predict_holds_one_worker_while_fast_ones_complete(models):
    """While one request's model call is held, many fast ones (another model) all finish:
    the property behind a low p99 for them, with no wall-clock threshold."""
    write_version(models, "slow", 1)
    started, release = threading.Event(), threading.Event()

    def loader(name, version, path):
        s = load_servable(name, version, path)
        if name == "slow":
            run = s.run_columns
            s.run_columns = lambda tensors: (started.set(), release.wait(60), run(tensors))[2]
        return s

    srv = start(models, loader=loader, workers=3)
    pool = cf.ThreadPoolExecutor(6)
    try:
        c = Client(srv.url)
        slow = pool.submit(c.post, "/v1/models/slow:predict", {"instances": instances(2)})
        assert started.wait(20), "the slow request never reached its model call"
        t0 = time.monotonic()
        fast = [
            pool.submit(c.post, "/v1/models/digits:predict", {"instances": instances(1, offset=i)}) for i in range(30)
        ]
        _, pending = cf.wait(fast, timeout=30)
        held_for = time.monotonic() - t0
        assert not pending, f"{len(pending)} fast requests were stuck behind the slow one"
        assert not slow.done(), "the slow request must still be running while the fast ones complete"
        assert all(f.result()[0] == 200 for f in fast)
        release.set()
        assert slow.result(timeout=30)[0] == 200
        assert held_for < 30
    finally:
        release.set()
        pool.shutdown(wait=True)
        srv.stop()


def test_a_slow_load_does_not_stall_predicts(models):
    entered, release = threading.Event(), threading.Event()

    def loader(name, version, path):
        if version == 2:
            entered.set()
            release.wait(60)
        return load_servable(name, version, path)

    srv = start(models, loader=loader)
    pool = cf.ThreadPoolExecutor(4)
    try:
        c = Client(srv.url)
        write_version(models, "digits", 2)
        assert entered.wait(20)
        fast = [pool.submit(c.post, "/v1/models/digits:predict", {"instances": instances(1)}) for _ in range(8)]
        _, pending = cf.wait(fast, timeout=30)
        assert not pending and all(f.result()[0] == 200 for f in fast), "predicts waited for a model load"
        release.set()
        _wait(
            lambda: (
                {r["version"]: r["state"] for r in c.get("/v1/models/digits")[1]["model_version_status"]}.get("2")
                == "AVAILABLE"
            ),
            "version 2",
        )
    finally:
        release.set()
        pool.shutdown(wait=True)
        srv.stop()


def test_an_upload_is_parsed_once_and_served_as_validated(models, tmp_path):
    loads = []

    def loader(name, version, path):
        loads.append((name, version))
        return load_servable(name, version, path)

    srv = start(models, loader=loader, allow_upload=True)
    try:
        c = Client(srv.url)
        data = write_version(tmp_path / "new", "digits", 9, seed=9).read_bytes()
        status, body = c.call("POST", "/models/digits", data, upload_headers(srv.url))
        assert (status, body["version"]) == (201, "2")
        rows = c.get("/v1/models/digits")[1]["model_version_status"]
        assert rows[0] == {"version": "2", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
        time.sleep(0.5)  # ten polls
        assert ("digits", 2) not in loads and loads == [("digits", 1)]
        assert c.post("/v1/models/digits:predict", {"instances": instances(1)})[0] == 200
    finally:
        srv.stop()


# -- formats -------------------------------------------------------------------------------


@pytest.fixture
def no_keras_import(monkeypatch):
    import webtensor.io as wio

    def refuse(*a, **k):
        raise AssertionError("the server handed a file to the Keras importer")

    monkeypatch.setattr(wio, "import_keras", refuse)


def _polyglot(src, dest) -> None:
    """``src``'s model with its header padded so the file's first 4 bytes are ``PK\\x03\\x04``
    (a zip's magic): still a valid safetensors file, which must load as one."""
    raw = src.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    want = struct.unpack("<Q", b"PK\x03\x04\x00\x00\x00\x00")[0]
    header = raw[8 : 8 + n].rstrip() + b" " * (want - len(raw[8 : 8 + n].rstrip()))
    dest.parent.mkdir(parents=True)
    dest.write_bytes(struct.pack("<Q", want) + header + raw[8 + n :])


def test_a_polyglot_file_loads_as_the_format_that_validated_it(models, tmp_path, no_keras_import):
    dest = tmp_path / "poly" / "1" / "model.safetensors"
    _polyglot(models / "digits/1/model.safetensors", dest)
    assert dest.read_bytes()[:4] == b"PK\x03\x04"
    s = load_servable("poly", 1, str(dest))
    assert s.params == load_servable("digits", 1, str(models / "digits/1/model.safetensors")).params


def test_an_hdf5_file_in_the_models_folder_is_refused_by_the_safetensors_validator(tmp_path, no_keras_import):
    path = tmp_path / "h5" / "1" / "model.safetensors"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 2048)
    with pytest.raises(ValueError, match="invalid model file"):
        load_servable("h5", 1, str(path))

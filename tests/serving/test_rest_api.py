"""TF Serving's REST API: status, metadata, predict in row and columnar formats, and
the errors (4xx with ``{"error": ...}``) for bad JSON, wrong shapes, unknown models or
versions, oversized bodies and path traversal."""

from __future__ import annotations

import json
import socket

import pytest

from serving_util import Client, instances, reference, start, upload_headers, write_version
from util import assert_close

pytestmark = pytest.mark.native


def test_status_of_a_loaded_model(client):
    assert client.get("/v1/models/digits") == (
        200,
        {
            "model_version_status": [
                {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
            ]
        },
    )
    assert client.get("/v1/models/digits/versions/1")[0] == 200


def test_metadata_is_the_serving_default_signature(client):
    status, meta = client.get("/v1/models/digits/metadata")
    assert status == 200
    assert meta["model_spec"] == {"name": "digits", "signature_name": "", "version": "1"}
    sig = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert sig["method_name"] == "tensorflow/serving/predict"
    (inp,) = sig["inputs"].values()
    (out,) = sig["outputs"].values()
    assert list(sig["inputs"]) == ["pixels"]
    assert inp["dtype"] == out["dtype"] == "DT_FLOAT"
    assert [d["size"] for d in inp["tensor_shape"]["dim"]] == ["-1", "64"]
    assert [d["size"] for d in out["tensor_shape"]["dim"]] == ["-1", "10"]


def test_predict_row_format_matches_a_numpy_forward_pass(client, models):
    x = instances(5)
    status, body = client.post("/v1/models/digits:predict", {"instances": x})
    assert status == 200, body
    assert_close(body["predictions"], reference(models / "digits/1/model.safetensors", x), rtol=1e-4, atol=1e-6)


def test_predict_named_instances_and_columnar_format(client, models):
    x = instances(3, offset=5)
    want = reference(models / "digits/1/model.safetensors", x)
    status, rows = client.post("/v1/models/digits:predict", {"instances": [{"pixels": r} for r in x]})
    assert status == 200
    assert_close(rows["predictions"], want, rtol=1e-4, atol=1e-6)
    status, cols = client.post("/v1/models/digits:predict", {"inputs": x})
    assert status == 200 and set(cols) == {"outputs"}
    assert_close(cols["outputs"], want, rtol=1e-4, atol=1e-6)
    status, named = client.post(
        "/v1/models/digits/versions/1:predict", {"signature_name": "serving_default", "inputs": {"pixels": x}}
    )
    assert status == 200
    assert_close(named["outputs"], want, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "path, message",
    [
        ("/v1/models/nope:predict", "Servable not found for request: Latest(nope)"),
        ("/v1/models/digits/versions/2:predict", "Servable not found for request: Specific(digits, 2)"),
    ],
)
def test_unknown_model_or_version_is_404(client, path, message):
    assert client.post(path, {"instances": instances(1)}) == (404, {"error": message})


def test_unknown_model_status_and_metadata_are_404(client):
    for path in (
        "/v1/models/nope",
        "/v1/models/nope/metadata",
        "/v1/models/digits/versions/9",
        "/v1/models/digits/versions/9/metadata",
        "/models/digits/9.safetensors",
    ):
        status, body = client.get(path)
        assert status == 404 and isinstance(body.get("error"), str) and body["error"], path


@pytest.mark.parametrize(
    "body, needle",
    [
        (b"{not json", "JSON Parse error"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({}).encode(), "exactly one of"),
        (json.dumps({"instances": [[0.0] * 64], "inputs": [[0.0] * 64]}).encode(), "exactly one of"),
        (json.dumps({"instances": []}).encode(), "non-empty"),
        (json.dumps({"instances": [[0.0] * 63]}).encode(), "expected shape (None, 64)"),
        (json.dumps({"instances": [[[0.0] * 64]]}).encode(), "expected shape (None, 64)"),
        (json.dumps({"instances": [[0.0] * 64, [0.0] * 3]}).encode(), "non-rectangular"),
        (json.dumps({"instances": [["a"] * 64]}).encode(), "'pixels'"),
        (json.dumps({"inputs": {"pixel": [[0.0] * 64]}}).encode(), "missing input 'pixels'"),
        (json.dumps({"instances": [{"pixels": [0.0] * 64, "extra": 1}]}).encode(), "unknown input"),
        (json.dumps({"signature_name": "other", "instances": [[0.0] * 64]}).encode(), "signature"),
    ],
)
def test_bad_requests_are_400_with_an_error_message(client, body, needle):
    status, answer = client.call("POST", "/v1/models/digits:predict", body, {"Content-Type": "application/json"})
    assert status == 400, answer
    assert set(answer) == {"error"} and needle in answer["error"], answer


def test_non_integer_version_is_a_400(client):
    status, body = client.post("/v1/models/digits/versions/abc:predict", {"instances": instances(1)})
    assert status == 400 and "version" in body["error"]


def test_bodies_over_the_limit_are_413(models):
    srv = start(models, max_body=2000)
    try:
        c = Client(srv.url)
        big = {"instances": instances(8)}
        assert len(json.dumps(big)) > 2000
        status, body = c.post("/v1/models/digits:predict", big)
        assert status == 413 and "limit" in body["error"]
        # without a Content-Length (chunked), the limit holds while the body streams in
        chunks = [json.dumps(big).encode()[i : i + 500] for i in range(0, len(json.dumps(big)), 500)]
        status, body = c.call("POST", "/v1/models/digits:predict", iter(chunks), {"Content-Type": "application/json"})
        assert status == 413
        assert c.post("/v1/models/digits:predict", {"instances": instances(1)})[0] == 200
    finally:
        srv.stop()


@pytest.mark.parametrize(
    "path",
    [
        "/v1/models/..%2F..%2Fetc%2Fpasswd",
        "/v1/models/..",
        "/v1/models/%2E%2E/metadata",
        "/models/..%2Fdigits/1.safetensors",
        "/models/../digits/1.safetensors",
        "/models/digits/..%2F1.safetensors",
        "/models/.digits/1.safetensors",
    ],
)
def test_path_traversal_in_names_is_404(client, path):
    for method in ("GET", "POST"):
        status, body = client.call(
            method,
            path + (":predict" if method == "POST" and path.startswith("/v1") else ""),
            json.dumps({"instances": instances(1)}).encode(),
        )
        assert status in (404, 405), (method, path, status, body)
        assert isinstance(body, dict) and "error" in body
    assert client.get(path)[0] == 404


def test_model_file_for_the_page(client, models):
    status, data = client.get("/models/digits/1.safetensors")
    assert status == 200
    assert data == (models / "digits/1/model.safetensors").read_bytes()


def test_gallery_lists_serving_versions(client, models):
    status, g = client.get("/models.json")
    assert status == 200 and g["server"] is True
    (m,) = g["models"]
    (v,) = m["versions"]
    assert m["name"] == "digits" and v["version"] == "1" and v["url"] == "models/digits/1.safetensors"
    assert v["size"] == (models / "digits/1/model.safetensors").stat().st_size
    assert v["params"] == 64 * 8 + 8 + 8 * 10 + 10
    assert v["inputs"] == [{"name": "pixels", "dtype": "float32", "shape": [None, 64]}]
    assert v["outputs"][0]["shape"] == [None, 10]


def _listening_addresses(port: int) -> set:
    """Local addresses of listening TCP sockets on ``port`` (Linux /proc/net/tcp{,6})."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if int(p, 16) == port and state == "0A":
                found.add(socket.inet_ntoa(bytes.fromhex(addr)[::-1]) if len(addr) == 8 else addr)
    return found


def test_cli_serves_on_127_0_0_1_by_default(models, tmp_path):
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    if not os.path.exists("/proc/net/tcp"):
        pytest.skip("needs Linux /proc/net/tcp to read listening addresses")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "webtensor", "serve", "--port", str(port), "--models", str(models)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models/digits", timeout=2) as r:
                    assert json.load(r)["model_version_status"][0]["state"] == "AVAILABLE"
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()
                time.sleep(0.2)
        assert _listening_addresses(port) == {"127.0.0.1"}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()


def test_uploads_are_off_by_default(models):
    srv = start(models)
    try:
        data = (models / "digits/1/model.safetensors").read_bytes()
        status, body = Client(srv.url).call("POST", "/models/digits", data, upload_headers(srv.url))
        assert status == 403 and "--allow-uploads" in body["error"]
        assert not (models / "digits/2").exists()
    finally:
        srv.stop()


@pytest.fixture
def uploads(models):
    srv = start(models, allow_upload=True)
    yield srv
    srv.stop()


def test_upload_adds_the_next_version(uploads, models, tmp_path):
    client = Client(uploads.url)
    new = write_version(tmp_path / "elsewhere", "digits", 7, seed=99)
    status, body = client.call("POST", "/models/digits", new.read_bytes(), upload_headers(uploads.url))
    assert (status, body["version"]) == (201, "2")
    assert (models / "digits/2/model.safetensors").read_bytes() == new.read_bytes()
    statuses = {s["version"]: s["state"] for s in client.get("/v1/models/digits")[1]["model_version_status"]}
    assert statuses == {"2": "AVAILABLE", "1": "END"}
    x = instances(2)
    assert_close(
        client.post("/v1/models/digits:predict", {"instances": x})[1]["predictions"],
        reference(new, x),
        rtol=1e-4,
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "name, data, code",
    [
        ("digits", b"not a model", 400),
        ("digits", b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ", 400),
        ("..", None, 404),
        ("a%2F..%2F..%2Fescape", None, 404),
    ],
)
def test_bad_uploads_are_refused_and_write_nothing(uploads, models, name, data, code):
    if data is None:
        data = (models / "digits/1/model.safetensors").read_bytes()
    status, body = Client(uploads.url).call("POST", f"/models/{name}", data, upload_headers(uploads.url))
    assert status == code and "error" in body
    assert sorted(p.name for p in (models / "digits").iterdir()) == ["1"]
    assert sorted(p.name for p in models.iterdir()) == ["digits"]
    assert not (models.parent / "escape").exists()

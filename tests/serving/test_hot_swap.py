"""Hot swap: versions appearing under {name}/{version}/ are loaded in the background and
published atomically; in-flight requests finish on the version they started on; no
request fails; a broken version never replaces a working one."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time

import pytest

from serving_util import Client, instances, reference, start, write_version
from util import assert_close

pytestmark = pytest.mark.native


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def states(client) -> dict:
    status, body = client.get("/v1/models/digits")
    return {s["version"]: s["state"] for s in body["model_version_status"]} if status == 200 else {}


def test_a_new_version_is_swapped_in(server, client, models):
    x = instances(4)
    write_version(models, "digits", 2)
    wait_for(lambda: states(client) == {"2": "AVAILABLE", "1": "END"}, what="version 2")
    status, body = client.post("/v1/models/digits:predict", {"instances": x})
    assert status == 200
    assert_close(body["predictions"], reference(models / "digits/2/model.safetensors", x), rtol=1e-4, atol=1e-6)
    assert client.post("/v1/models/digits/versions/1:predict", {"instances": x})[0] == 404


def test_no_request_fails_while_versions_swap(server, models):
    """Clients with different batch sizes hammer the server while three new versions land;
    every answer is some version's exact output for that client's rows, and a client
    never goes back to an older version once it has seen a newer one."""
    refs = {1: models / "digits/1/model.safetensors"}
    inputs = {c: instances(1 + c % 3, offset=c) for c in range(6)}
    answers = {c: [] for c in inputs}
    failures = []
    stop = threading.Event()

    def hammer(c):
        cl = Client(server.url)
        while not stop.is_set():
            status, body = cl.post("/v1/models/digits:predict", {"instances": inputs[c]})
            if status != 200:
                failures.append((status, body))
            else:
                answers[c].append(body["predictions"])

    threads = [threading.Thread(target=hammer, args=(c,)) for c in inputs]
    for t in threads:
        t.start()
    try:
        for v in (2, 3, 4):
            time.sleep(0.3)
            refs[v] = write_version(models, "digits", v)
            wait_for(lambda: states(Client(server.url)).get(str(v)) == "AVAILABLE", what=f"version {v}")
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not failures, failures[:3]
    import numpy as np

    for c, got in answers.items():
        assert len(got) > 3
        want = {v: np.asarray(reference(p, inputs[c])) for v, p in refs.items()}
        seen = []
        for a in got:
            match = [v for v, w in want.items() if np.allclose(a, w, rtol=1e-4, atol=1e-6)]
            assert len(match) == 1, f"client {c}: an answer matching no version: {a}"
            seen.append(match[0])
        assert seen == sorted(seen), f"client {c} went back to an older version: {seen}"
        assert seen[-1] == 4


def test_an_in_flight_request_finishes_on_its_version(server, client, models):
    """The version is chosen when the request arrives: a slow client whose body is still
    in flight while a new version is published gets the old version's answer."""
    x = instances(2)
    body = json.dumps({"instances": x}).encode()
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as s:
        s.sendall(
            f"POST /v1/models/digits:predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:10]
        )
        time.sleep(1.0)  # the request has started: its handler has picked version 1
        write_version(models, "digits", 2)
        wait_for(lambda: states(client).get("2") == "AVAILABLE", what="version 2")
        s.sendall(body[10:])
        resp = s.makefile("rb")
        status_line = resp.readline()
        length = 0
        while (line := resp.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        payload = resp.read(length)
    assert status_line.startswith(b"HTTP/1.1 200"), status_line
    old = reference(models / "digits/1/model.safetensors", x)
    new = reference(models / "digits/2/model.safetensors", x)
    assert_close(json.loads(payload)["predictions"], old, rtol=1e-4, atol=1e-6)
    assert_close(
        client.post("/v1/models/digits:predict", {"instances": x})[1]["predictions"], new, rtol=1e-4, atol=1e-6
    )


def test_a_broken_version_never_replaces_a_working_one(server, client, models):
    bad = models / "digits" / "2"
    bad.mkdir()
    good = (models / "digits/1/model.safetensors").read_bytes()
    (bad / "model.safetensors").write_bytes(good[: len(good) // 2])  # truncated
    wait_for(lambda: states(client).get("2") == "END", what="version 2's failure")
    status, body = client.get("/v1/models/digits/versions/2")
    (row,) = body["model_version_status"]
    assert row["status"]["error_code"] == "UNKNOWN" and "invalid model file" in row["status"]["error_message"]
    assert states(client)["1"] == "AVAILABLE"
    assert client.post("/v1/models/digits:predict", {"instances": instances(1)})[0] == 200
    # fixing the file (a new stamp) retries it
    tmp = models / "digits" / ".fix"
    write_version(models.parent / "src", "digits", 2)
    shutil.copy(models.parent / "src/digits/2/model.safetensors", tmp)
    tmp.replace(bad / "model.safetensors")
    wait_for(lambda: states(client) == {"2": "AVAILABLE", "1": "END"}, what="the fixed version 2")


def test_a_replaced_file_in_the_same_version_is_reloaded(server, client, models, tmp_path):
    x = instances(2)
    src = write_version(tmp_path / "src", "digits", 1, seed=77)
    tmp = models / "digits" / "1" / ".swap"
    shutil.copy(src, tmp)
    tmp.replace(models / "digits/1/model.safetensors")
    want = reference(src, x)

    def swapped():
        got = client.post("/v1/models/digits:predict", {"instances": x})[1]["predictions"]
        try:
            assert_close(got, want, rtol=1e-4, atol=1e-6)
            return True
        except AssertionError:
            return False

    wait_for(swapped, what="the replaced file")


def test_keep_two_versions(models):
    write_version(models, "digits", 2)
    srv = start(models, keep=2)
    try:
        c = Client(srv.url)
        assert states(c) == {"2": "AVAILABLE", "1": "AVAILABLE"}
        x = instances(1)
        for v in (1, 2):
            status, body = c.post(f"/v1/models/digits/versions/{v}:predict", {"instances": x})
            assert status == 200
            assert_close(
                body["predictions"], reference(models / f"digits/{v}/model.safetensors", x), rtol=1e-4, atol=1e-6
            )
        write_version(models, "digits", 3)
        wait_for(lambda: states(c) == {"3": "AVAILABLE", "2": "AVAILABLE", "1": "END"}, what="version 3")
    finally:
        srv.stop()


def test_a_removed_model_stops_serving_and_a_new_one_appears(server, client, models):
    write_version(models, "other", 5)
    wait_for(lambda: client.get("/v1/models/other")[0] == 200, what="model 'other'")
    shutil.rmtree(models / "digits")
    wait_for(lambda: client.get("/v1/models/digits")[0] == 404, what="digits to go")
    assert client.post("/v1/models/digits:predict", {"instances": instances(1)})[0] == 404
    assert [m["name"] for m in client.get("/models.json")[1]["models"]] == ["other"]

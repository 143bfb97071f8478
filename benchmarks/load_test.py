"""Bounded load test of the server with hot swaps: ``make loadtest``.

N concurrent keep-alive clients send digits predict requests (TF Serving row format,
one instance each) for a fixed time while 10 new versions of the model are dropped
into the model directory (each written to a temporary folder and renamed in, as
``make demo`` and the app do). The server runs in its own process (uvicorn, one
webtensor worker). Reports requests/s, p50/p99 latency, failures (target: 0), and how
many distinct model versions answered; twice, side by side: with the worker's batching
(the default) and without it (``--max-batch 1``), and their ratio.

    python benchmarks/load_test.py [--clients 16] [--seconds 20] [--versions 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "core"))

import webtensor as tf  # noqa: E402


def make_model(kind: str, seed: int):
    """The demo digits models' shapes, weights from ``seed`` (each version differs):
    "mlp" 64 -> 64 -> 10; "cnn" 8x8x1 -> conv 16 -> pool -> conv 32 -> 10."""
    tf.random.set_seed(seed)
    k = tf.keras
    if kind == "mlp":
        layers = [k.Input((64,), name="pixels"), k.layers.Dense(64, activation="relu")]
    else:
        layers = [
            k.Input((64,), name="pixels"),
            k.layers.Reshape((8, 8, 1)),
            k.layers.Conv2D(16, 3, padding="same", activation="relu"),
            k.layers.MaxPooling2D(2),
            k.layers.Conv2D(32, 3, padding="same", activation="relu"),
            k.layers.Flatten(),
        ]
    return k.Sequential(layers + [k.layers.Dense(10, activation="softmax", name="probabilities")], name="digits")


def drop_version(root: Path, kind: str, version: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=".drop-", dir=root))
    make_model(kind, version).save(str(tmp / "model.safetensors"))
    os.rename(tmp, root / str(version))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def request(reader, writer, path: str, body: bytes) -> tuple:
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def client(port: int, body: bytes, until: float, out: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            try:
                status, data = await request(reader, writer, "/v1/models/digits:predict", body)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
                out["failures"].append(f"connection: {e!r}")
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            out["latency"].append(time.perf_counter() - t0)
            if status != 200:
                out["failures"].append(f"HTTP {status}: {data[:200]!r}")
            else:
                out["answers"].add(tuple(round(v, 4) for v in json.loads(data)["predictions"][0]))
    finally:
        writer.close()


async def dropper(root: Path, kind: str, versions: int, seconds: float, out: dict) -> None:
    for v in range(2, versions + 2):
        await asyncio.sleep(seconds / (versions + 1))
        await asyncio.to_thread(drop_version, root, kind, v)
        out["dropped"] += 1


async def run(port: int, root: Path, kind: str, clients: int, seconds: float, versions: int) -> dict:
    out = {"latency": [], "failures": [], "answers": set(), "dropped": 0}
    body = json.dumps({"instances": [[(i % 17) / 16 for i in range(64)]]}).encode()
    until = time.perf_counter() + seconds
    t0 = time.perf_counter()
    await asyncio.gather(
        dropper(root, kind, versions, seconds, out), *(client(port, body, until, out) for _ in range(clients))
    )
    out["wall"] = time.perf_counter() - t0
    return out


def percentile(xs: list, q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def serving(port: int, want: str, timeout: float = 15) -> list:
    """The AVAILABLE versions once ``want`` is among them (or ``timeout`` passes): the
    last version may land just as the clients stop."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models/digits") as r:
            live = [s["version"] for s in json.load(r)["model_version_status"] if s["state"] == "AVAILABLE"]
        if want in live or time.monotonic() > deadline:
            return live
        time.sleep(0.1)


def wait_up(port: int, proc, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"load test: the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models/digits", timeout=2) as r:
                if json.load(r)["model_version_status"][0]["state"] == "AVAILABLE":
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit("load test: the server did not start")


def phase(args, max_batch: int) -> dict:
    """One server (batching up to ``max_batch`` rows) under the full load; its numbers."""
    tmp = Path(tempfile.mkdtemp(prefix="webtensor-load-"))
    root = tmp / "digits"
    root.mkdir()
    drop_version(root, args.model, 1)
    port = free_port()
    # one BLAS thread: clients and server share this machine's cores, and OpenBLAS's
    # threads on a busy 2-core host turn a 0.03 ms GEMM into milliseconds
    env = dict(os.environ, PYTHONPATH=str(ROOT / "core"), OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "webtensor",
            "serve",
            "--port",
            str(port),
            "--models",
            str(tmp),
            "--poll",
            "0.2",
            "--max-batch",
            str(max_batch),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_up(port, proc)
        out = asyncio.run(run(port, root, args.model, args.clients, args.seconds, args.versions))
        out["serving"] = serving(port, str(args.versions + 1))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    n = len(out["latency"])
    out["rps"] = n / out["wall"]
    print(
        f"max batch {max_batch:>3}: requests {n}  ({out['rps']:.0f}/s)  p50 {percentile(out['latency'], 0.5) * 1e3:.1f} ms  "
        f"p99 {percentile(out['latency'], 0.99) * 1e3:.1f} ms  failures {len(out['failures'])}  "
        f"versions dropped {out['dropped']}, serving {','.join(out['serving'])} at the end, "
        f"distinct answers {len(out['answers'])}",
        flush=True,
    )
    for f in out["failures"][:10]:
        print("  failure:", f)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--versions", type=int, default=10)
    p.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    args = p.parse_args(argv)
    print(
        f"digits {args.model}: {args.clients} clients, {args.seconds:.0f} s per server, {args.versions} new "
        f"versions dropped in each run"
    )
    batched, single = phase(args, 256), phase(args, 1)
    print(f"batching: {batched['rps'] / single['rps']:.2f}x the requests/s of one model call per request")
    ok = all(not o["failures"] and o["serving"] == [str(args.versions + 1)] for o in (batched, single))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

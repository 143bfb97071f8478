"""Reading Keras HDF5 files in a child process: untrusted HDF5 can crash (a segfault in
the HDF5 library) or spin forever in h5py, out of reach of any in-process guard.

The child (``python -m webtensor.io.isolated``) runs under CPU-time, memory and
file-size rlimits and a wall-clock timeout; it reads the file with ``keras_files``
(every HDF5 check included) and writes what it found as a safetensors file. The
parent reads that back through the validated safetensors reader, so what comes
back is the same checked data, never a pickle. Any failure is a ``ValueError``
naming the file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from . import keras_files

TIMEOUT = 120  # wall-clock seconds for one file
CPU_SECONDS = 120  # RLIMIT_CPU of the child
MEMORY = 8 << 30  # RLIMIT_AS of the child (address space, bytes)
OUTPUT_LIMIT = 17 << 30  # RLIMIT_FSIZE: the child writes at most this much
# "exec": a fresh interpreter per file (safe anywhere). "fork": fork this process (no
# interpreter start) - only for single-threaded callers such as the fuzzer:
# forking a process with other threads can deadlock the child on a lock they held.
START_METHOD = "exec"


def _limits(cpu: int, memory: int):
    def apply():
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_LIMIT, OUTPUT_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def read(
    path, kind: str = "model", timeout: float = TIMEOUT, cpu_seconds: int = CPU_SECONDS, memory: int = MEMORY
) -> keras_files.KerasFile:
    """A ``KerasFile`` read in a child process. ``kind``: ``"model"`` (a ``.keras``
    archive or legacy ``.h5`` model) or ``"weights"`` (any Keras HDF5 weights file)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(path)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(
        os.environ,
        WEBTENSOR_BACKEND="numpy",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        PYTHONPATH=os.pathsep.join([root] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
    )
    fd, out = tempfile.mkstemp(suffix=".safetensors")
    os.close(fd)
    try:
        try:
            if START_METHOD == "fork":
                r = _run_forked(kind, os.path.abspath(path), out, timeout, _limits(cpu_seconds, memory))
            else:
                env["WEBTENSOR_IMPORT_LIMITS"] = f"{int(cpu_seconds)},{int(memory)}"
                r = subprocess.run(
                    _command(kind, os.path.abspath(path), out),
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    timeout=timeout,
                )
        except subprocess.TimeoutExpired:
            raise ValueError(f"{path}: reading the Keras file ran past {timeout:g} s; refused") from None
        if r.returncode != 0:
            why = _why(r)
            raise ValueError(why if why.startswith(path) else f"{path}: {why}")
        return _read_result(out, path)
    finally:
        os.unlink(out)


def _run_forked(kind: str, path: str, out: str, timeout: float, limits):
    """``main`` in a forked child under ``limits``; a CompletedProcess-like result."""
    import signal
    import time

    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 4
        try:
            os.close(rd)
            limits()
            os.dup2(wr, 2)
            sys.stderr = os.fdopen(2, "w", closefd=False)
            code = main([kind, path, out])
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(wr)
    os.set_blocking(rd, False)
    err, deadline = bytearray(), time.monotonic() + timeout
    try:
        while True:
            try:
                err += os.read(rd, 1 << 16)[: max(0, (1 << 20) - len(err))]
            except BlockingIOError:
                pass
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise subprocess.TimeoutExpired(kind, timeout)
            time.sleep(0.002)
        try:
            err += os.read(rd, 1 << 16)
        except BlockingIOError:
            pass
    finally:
        os.close(rd)
    return subprocess.CompletedProcess(kind, os.waitstatus_to_exitcode(status), b"", bytes(err))


def _command(kind: str, path: str, out: str) -> list:
    return [sys.executable, "-m", "webtensor.io.isolated", kind, path, out]


def _why(r) -> str:
    """The child's ValueError message, or what killed it."""
    last = r.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    if r.returncode == 3 and last[0].startswith("ValueError: "):
        return last[0][len("ValueError: ") :]
    if r.returncode < 0:
        return (
            f"the Keras file importer died from signal {-r.returncode} (a damaged HDF5 file "
            f"crashes the HDF5 library; it ran in a child process, so only it died)"
        )
    return f"the Keras file importer failed (exit {r.returncode}): {last[0][:300]}"


# -- the result file: arrays as tensors, the tree and the configs as metadata ----------------


def _tree(layers: dict, arrays: list) -> dict:
    def node(lw):
        own = []
        for a in lw.own:
            own.append(len(arrays))
            arrays.append(a)
        return {
            "name": lw.name,
            "own": own,
            "legacy": lw.legacy,
            "children": {k: node(v) for k, v in lw.children.items()},
        }

    return {k: node(v) for k, v in layers.items()}


def _write_result(kf: keras_files.KerasFile, out: str) -> None:
    import numpy as np

    from .. import dtypes as D
    from ..saving import safetensors as st
    from ..saving.atomic import atomic_write

    arrays: list = []
    tree = _tree(kf.layers, arrays)
    tensors = []
    for i, a in enumerate(arrays):
        a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        tensors.append((str(i), D.as_dtype(a.dtype.name), tuple(a.shape), a.tobytes()))
    meta = {
        "keras_file": json.dumps(
            {
                "config": kf.config,
                "training_config": kf.training_config,
                "keras_version": kf.keras_version,
                "layers": tree,
            }
        )
    }
    atomic_write(out, lambda f: st.write(f, tensors, meta))


def _read_result(out: str, path: str) -> keras_files.KerasFile:
    import numpy as np

    from ..saving import safetensors as st

    arrays = {}

    def on_header(header):
        def sink(e, data):
            dt = np.dtype(e.dtype.name).newbyteorder("<")
            arrays[e.name] = np.frombuffer(bytes(data), dtype=dt).reshape(e.shape)

        return sink

    with open(out, "rb") as f:
        header = st.read_file(f, on_header)
    info = json.loads(header.metadata["keras_file"])

    def node(d):
        return keras_files.LayerWeights(
            d["name"], [arrays[str(i)] for i in d["own"]], {k: node(v) for k, v in d["children"].items()}, d["legacy"]
        )

    layers = {k: node(v) for k, v in info["layers"].items()}
    return keras_files.KerasFile(info["config"], layers, info["training_config"], info["keras_version"], path)


def apply_env_limits() -> None:
    """The limits the parent passed in ``WEBTENSOR_IMPORT_LIMITS`` ("cpu_s,bytes")."""
    limits = os.environ.get("WEBTENSOR_IMPORT_LIMITS")
    if limits and os.name == "posix":
        cpu, memory = (int(v) for v in limits.split(","))
        _limits(cpu, memory)()


def main(argv) -> int:
    """The child: set its own limits (before the file is opened; no preexec_fn, which is
    unsafe in a threaded parent), read the file, write the result."""
    kind, path, out = argv
    apply_env_limits()
    try:
        kf = (
            keras_files.read(path)
            if kind == "model"
            else keras_files.KerasFile(None, keras_files.read_weights(path), None, None, path)
        )
        _write_result(kf, out)
    except ValueError as e:
        print("ValueError: " + str(e).replace("\n", " "), file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

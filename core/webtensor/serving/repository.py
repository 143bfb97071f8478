"""The model directory and hot swap.

Layout (TF Serving's): ``{root}/{name}/{version}/model.safetensors`` or a SavedModel
``{root}/{name}/{version}/saved_model.json`` + ``variables.safetensors``; versions are
integers, the highest ``keep`` loadable versions of each model are served, and requests
without a version get the highest. A poller rescans the directory; a new or changed
version is loaded on the poller's thread (never on a predict worker, so a slow load
stalls no predict), then published by replacing one dict
(``snapshot``): a request reads the snapshot once, so it finishes on the version it
started with, and no request ever sees a half-loaded model. A version that fails to
load is reported in its status and retried only when its file changes; the versions
already serving keep serving.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
from pathlib import Path

from .saved import SAVED_MODEL_FILE, WEIGHTS_FILE
from .saved import stamp as saved_stamp
from .servable import RequestError, Servable, load_servable, load_webtensor

MODEL_FILE = "model.safetensors"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}\Z")
VERSION = re.compile(r"[0-9]{1,18}\Z")
log = logging.getLogger("webtensor.serving")


def valid_name(name: str) -> bool:
    """A model name is one path component of safe characters: never ``..``, ``/`` or ``\\``."""
    return bool(NAME.match(name)) and ".." not in name


def parse_version(text: str) -> int | None:
    return int(text) if VERSION.match(text) else None


def scan(root) -> dict:
    """``{name: {version: (path, stamp)}}`` of the version files under ``root`` now; the
    stamp (size, mtime, inode) changes when a file is replaced."""
    found = {}
    for model in _listdir(Path(root)):
        if not valid_name(model.name) or not model.is_dir():
            continue
        versions = {}
        for vdir in _listdir(model):
            v = parse_version(vdir.name)
            if v is None:
                continue
            try:
                st = (vdir / MODEL_FILE).stat()
            except OSError:
                sm = saved_stamp(vdir)  # a SavedModel version: the folder is the SavedModel
                if sm is not None:
                    versions[v] = (str(vdir / SAVED_MODEL_FILE), sm)
                continue
            versions[v] = (str(vdir / MODEL_FILE), (st.st_size, st.st_mtime_ns, st.st_ino))
        if versions:
            found[model.name] = versions
    return found


class ModelState:
    """One model at one moment: the servables by version, and versions that stopped
    serving or failed to load (for the status API). Never mutated once published."""

    __slots__ = ("name", "serving", "ended")

    def __init__(self, name: str, serving: dict, ended: dict):
        self.name, self.serving, self.ended = name, serving, ended

    def latest(self) -> Servable | None:
        return self.serving[max(self.serving)] if self.serving else None


class Repository:
    """Scans ``root``, loads versions through ``worker`` and publishes them atomically."""

    def __init__(self, root, worker, keep: int = 1, poll_interval: float = 1.0, loader=load_servable):
        if keep < 1:
            raise ValueError(f"keep must be >= 1 (versions served per model), got {keep}")
        self.root = Path(root)
        self.worker, self.keep, self.poll_interval, self.loader = worker, keep, poll_interval, loader
        self.snapshot: dict = {}
        self._failed: dict = {}  # (name, version) -> (file signature, error message)
        self._uploaded: dict = {}  # (name, version) -> (file signature, Servable): validated once
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None

    # -- lookups (any thread) ---------------------------------------------------------

    def get(self, name: str, version: int | None = None) -> Servable:
        """The servable a request should use; a TF Serving-style 404 otherwise."""
        state = self.snapshot.get(name) if valid_name(name) else None
        s = None
        if state is not None:
            s = state.latest() if version is None else state.serving.get(version)
        if s is None:
            what = f"Latest({name})" if version is None else f"Specific({name}, {version})"
            raise RequestError(f"Servable not found for request: {what}", 404)
        return s

    def status(self, name: str, version: int | None = None) -> list:
        """TF Serving's ``model_version_status`` list."""
        state = self.snapshot.get(name) if valid_name(name) else None
        if state is None:
            raise RequestError(f"Could not find any versions of model {name}", 404)
        rows = {v: ("AVAILABLE", "OK", "") for v in state.serving}
        rows.update({v: ("END", code, msg) for v, (code, msg) in state.ended.items() if v not in rows})
        if version is not None:
            if version not in rows:
                raise RequestError(f"Could not find version {version} of model {name}", 404)
            rows = {version: rows[version]}
        return [
            {"version": str(v), "state": st, "status": {"error_code": code, "error_message": msg}}
            for v, (st, code, msg) in sorted(rows.items(), reverse=True)
        ]

    def file(self, name: str, version: int) -> Path | None:
        """The model file of a version on disk (served or not), or None."""
        if not valid_name(name):
            return None
        p = self.root / name / str(version) / MODEL_FILE
        return p if p.is_file() else None

    def saved_model_file(self, name: str, version: int, file: str) -> Path | None:
        """One of the two files of a SavedModel version on disk, or None."""
        if not valid_name(name) or file not in (SAVED_MODEL_FILE, WEIGHTS_FILE):
            return None
        p = self.root / name / str(version) / file
        return p if p.is_file() and saved_stamp(p.parent) is not None else None

    def models(self) -> list:
        """The gallery: every model with its serving versions described, newest first,
        then the other versions on disk (number, size, file URL)."""
        out, disk = [], scan(self.root)
        for name, state in sorted(self.snapshot.items()):
            versions = [
                dict(s.describe(), url=_url(name, v, s.path)) for v, s in sorted(state.serving.items(), reverse=True)
            ]
            versions += [
                {"version": str(v), "size": stamp[0], "url": _url(name, v, path)}
                for v, (path, stamp) in sorted(disk.get(name, {}).items(), reverse=True)
                if v not in state.serving
            ]
            if state.serving:
                out.append({"name": name, "versions": versions})
        return out

    # -- the poller ---------------------------------------------------------------------

    def refresh(self) -> None:
        """One poll: load what is new or changed, publish each model as soon as it is ready."""
        with self._lock:
            disk = scan(self.root)
            for name, versions in disk.items():
                old = self.snapshot.get(name)
                state = self._update(name, versions, old)
                if state is not old:
                    self.snapshot = {**self.snapshot, name: state}
            gone = set(self.snapshot) - set(disk)
            if gone:
                self.snapshot = {k: v for k, v in self.snapshot.items() if k not in gone}
                for key in [k for k in self._failed if k[0] in gone]:
                    del self._failed[key]

    def _update(self, name: str, versions: dict, old: ModelState | None) -> ModelState:
        old_serving = old.serving if old else {}
        serving = {}
        for v in sorted(versions, reverse=True):
            if len(serving) == self.keep:
                break
            path, sig = versions[v]
            prev = old_serving.get(v)
            if prev is not None and prev.stamp == sig:
                serving[v] = prev
                continue
            failed = self._failed.get((name, v))
            if failed is not None and failed[0] == sig:
                continue
            pre = self._uploaded.pop((name, v), None)
            try:
                s = pre[1] if pre is not None and pre[0] == sig else self.loader(name, v, path)
            except Exception as e:  # noqa: BLE001 - any load failure is reported, not raised
                self._failed[(name, v)] = (sig, f"{type(e).__name__}: {e}")
                log.warning("model %s version %d failed to load: %s", name, v, e)
                continue
            s.stamp = sig
            self._failed.pop((name, v), None)
            serving[v] = s
            log.info("model %s version %d is serving", name, v)
        ended = dict(old.ended) if old else {}
        ended.update({v: ("OK", "") for v in old_serving if v not in serving})
        ended.update({v: ("UNKNOWN", msg) for (n, v), (_, msg) in self._failed.items() if n == name})
        for v in serving:
            ended.pop(v, None)
        if old is not None and serving == old_serving and ended == old.ended:
            return old
        return ModelState(name, serving, ended)

    def start(self) -> "Repository":
        """Load what is there now, then poll in a daemon thread until ``stop``."""
        self.refresh()
        self._thread = threading.Thread(target=self._poll, name="webtensor-model-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_interval):
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 - a bad poll must not end polling
                log.exception("model directory poll failed")

    # -- new versions from the app ------------------------------------------------------

    def add_version(self, name: str, data: bytes) -> int:
        """Validate ``data`` as a servable model, write it as the next version (a directory
        renamed into place, so the poller never sees a partial file) and publish the
        model that validated: an upload is parsed once, by the loader that serves it."""
        if not valid_name(name):
            raise RequestError(f"invalid model name {name!r}: use letters, digits, '_', '-', '.'", 404)
        try:
            model = load_webtensor(bytes(data))
            Servable(name, 0, "", model)  # its signature must be servable
        except RequestError:
            raise
        except Exception as e:  # noqa: BLE001 - a bad upload is the client's to fix
            raise RequestError(f"not a servable model file: {e}") from None
        from ..saving.atomic import atomic_write

        with self._lock:
            folder = self.root / name
            folder.mkdir(parents=True, exist_ok=True)
            taken = [parse_version(p.name) for p in _listdir(folder)]
            version = max([v for v in taken if v is not None], default=0) + 1
            tmp = folder / f".upload-{secrets.token_hex(6)}"
            tmp.mkdir()
            try:
                atomic_write(tmp / MODEL_FILE, lambda f: f.write(data))
                os.rename(tmp, folder / str(version))
            except BaseException:
                _remove_tree(tmp)
                raise
            path = folder / str(version) / MODEL_FILE
            st = path.stat()
            self._uploaded[(name, version)] = (
                (st.st_size, st.st_mtime_ns, st.st_ino),
                Servable(name, version, str(path), model),
            )
        self.refresh()
        return version


def _url(name: str, version: int, path: str) -> str:
    """Where the page fetches a version: its model file, or a SavedModel's graph file."""
    if str(path).endswith(SAVED_MODEL_FILE):
        return f"models/{name}/{version}/{SAVED_MODEL_FILE}"
    return f"models/{name}/{version}.safetensors"


def _listdir(folder: Path) -> list:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def _remove_tree(folder: Path) -> None:
    for p in _listdir(folder):
        p.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        pass

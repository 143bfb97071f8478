"""``keras.utils.get_file``: Keras 3's cache layout (``$KERAS_HOME`` or ``~/.keras``, then
``cache_subdir``), hash checks and archive extraction -- but no downloads (webtensor has no
network access): a file missing from the cache is an error saying where to put it. A local
``origin`` (a path or ``file://`` URL) is copied into the cache."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import urllib.parse
import zipfile


def keras_home() -> str:
    return os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))


def _hasher(algorithm: str, file_hash):
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None and len(file_hash) == 64):
        return hashlib.sha256()
    return hashlib.md5()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535) -> bool:
    h = _hasher(algorithm, file_hash)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            h.update(chunk)
    return h.hexdigest() == str(file_hash)


def extract_archive(file_path, path=".", archive_format="auto") -> bool:
    """Extract a tar (gz/bz2/xz) or zip archive into ``path``, refusing members that escape it."""
    if archive_format is None:
        return False
    formats = (
        ["tar", "zip"]
        if archive_format == "auto"
        else [archive_format]
        if isinstance(archive_format, str)
        else list(archive_format)
    )
    root = os.path.realpath(path)
    for kind in formats:
        if kind == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                members = archive.getmembers()
                _check_members(root, [m.name for m in members])
                archive.extractall(path, members=[m for m in members if m.isfile() or m.isdir()])
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                _check_members(root, archive.namelist())
                archive.extractall(path)
            return True
        if kind not in ("tar", "zip"):
            raise ValueError(f"extract_archive: unknown archive_format {kind!r}; expected 'tar', 'zip' or 'auto'")
    return False


def _check_members(root: str, names) -> None:
    for name in names:
        target = os.path.realpath(os.path.join(root, name))
        if target != root and not target.startswith(root + os.sep):
            raise ValueError(f"extract_archive: member {name!r} would be written outside {root}")


def _local_origin(origin: str):
    parts = urllib.parse.urlsplit(origin)
    if parts.scheme == "file":
        return urllib.parse.unquote(parts.path)
    if parts.scheme == "" and os.path.exists(origin):
        return origin
    return None


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
):
    """The cached file's path (or the extraction directory with ``extract``), as Keras 3."""
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    datadir = os.path.join(os.path.expanduser(cache_dir or keras_home()), cache_subdir)
    provided = fname
    fname = os.fspath(fname) if fname is not None else ""
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"Can't parse the file name from the origin provided: '{origin}'. Please specify the `fname` argument."
            )
    elif os.sep in fname:
        raise ValueError(
            f"Paths are no longer accepted as the `fname` argument. To specify the file's parent "
            f"directory, use the `cache_dir` argument. Received: fname={fname}"
        )
    extract = extract or untar
    extraction_dir = None
    if extract:
        if provided and "." in fname:
            target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, f"{fname[: fname.find('.')]}_extracted")
        else:
            extraction_dir = os.path.join(datadir, fname)
            target = os.path.join(datadir, f"{fname}_archive")
    else:
        target = os.path.join(datadir, fname)
    have = os.path.exists(target) and not force_download
    if have and file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
        have = False
        bad = f"{target} is in the cache but its {hash_algorithm} hash is not {file_hash} (incomplete or outdated)"
    else:
        bad = None
    if not have:
        local = _local_origin(origin)
        if local is not None and not os.path.isdir(local):
            os.makedirs(datadir, exist_ok=True)
            shutil.copyfile(local, target)
            if file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
                os.remove(target)
                raise ValueError(
                    f"Incomplete or corrupted file detected. The {hash_algorithm} file hash does not "
                    f"match the provided value of {file_hash}."
                )
        elif extraction_dir is not None and os.path.isdir(extraction_dir) and bad is None and not force_download:
            return extraction_dir  # extracted earlier; the archive itself is not needed
        else:
            raise FileNotFoundError(
                f"get_file: {bad or target + ' is not in the cache'}, and downloads are not available in webtensor "
                f"(no network access). Download {origin} yourself and save it as {target}"
                + (f" (or extract it into {extraction_dir})" if extraction_dir else "")
                + "."
            )
    if extract:
        if not extract_archive(target, extraction_dir, "tar" if untar else archive_format):
            raise ValueError(f"get_file: could not extract {target}: not a {'tar' if untar else 'tar or zip'} archive")
        return extraction_dir
    return target

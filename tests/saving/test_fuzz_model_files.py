"""Fuzzing the loader: mutated valid files raise ValueError or load, nothing else.

A bounded seeded run here (seconds); ``benchmarks/fuzz_model_files.py`` runs
10,000 mutations. A hang is caught by a per-file alarm where signals exist.
"""

import struct

import pytest

import webtensor as tf
from mutate import model_file, mutations, run_fuzz, weights_file
from webtensor.saving import load_file, safetensors as st

pytestmark = pytest.mark.filterwarnings("ignore")


def test_mutated_weight_files_raise_only_value_error(tmp_path):
    blob = weights_file(tmp_path)
    out = run_fuzz(blob, load_file, seed=9, count=3000)
    assert out["ValueError"] > 2000, out  # the mutator really damages files...
    assert out["loaded"] > 0, out  # ...and some damage is harmless (data bytes)


def test_mutated_files_from_disk_and_streams_agree(tmp_path):
    """The path, bytes and stream readers reach the same verdict on each mutation."""
    import io

    blob = weights_file(tmp_path)
    path = tmp_path / "m.safetensors"
    for bad in mutations(blob, seed=3, count=300):
        path.write_bytes(bad)
        verdicts = []
        for load in (lambda: load_file(bad), lambda: load_file(path), lambda: st.read_stream(io.BytesIO(bad).read)):
            try:
                load()
                verdicts.append("ok")
            except ValueError:
                verdicts.append("bad")
        assert len(set(verdicts)) == 1, (verdicts, bad[:120])


def test_mutator_is_reproducible(tmp_path):
    blob = weights_file(tmp_path)
    assert list(mutations(blob, 5, 50)) == list(mutations(blob, 5, 50))
    assert struct.unpack("<Q", blob[:8])[0] < len(blob)


def test_mutated_model_files_raise_only_value_error(tmp_path):
    blob = model_file(tmp_path)
    tf.keras.models.load_model(blob)  # the unmutated file loads
    out = run_fuzz(blob, tf.keras.models.load_model, seed=11, count=400, config_bias=0.5)
    assert out["ValueError"] > 250 and out["loaded"] > 0, out


def _keras_fuzz(tmp_path, monkeypatch, files, suffix):
    pytest.importorskip("h5py")
    from mutate import run_file_fuzz
    from webtensor.io import import_keras, isolated

    monkeypatch.setattr(isolated, "START_METHOD", "fork")  # this test process is single-threaded
    return run_file_fuzz(files, import_keras, suffix, tmp_path)


def test_mutated_keras_archives_raise_only_value_error(tmp_path, monkeypatch):
    """Through the child-process importer: a crash or hang there is a ValueError here."""
    from mutate import keras_archive, keras_mutations

    blob = keras_archive(tmp_path / "base.keras")
    out = _keras_fuzz(tmp_path, monkeypatch, keras_mutations(blob, seed=4, count=60), ".keras")
    assert out["ValueError"] > 20 and out["loaded"] > 0, out


def test_mutated_legacy_h5_files_raise_only_value_error(tmp_path, monkeypatch):
    from mutate import h5_mutations, legacy_h5

    blob = legacy_h5(tmp_path / "base.h5")
    out = _keras_fuzz(tmp_path, monkeypatch, h5_mutations(blob, seed=4, count=60), ".h5")
    assert out["ValueError"] > 20 and out["loaded"] > 0, out

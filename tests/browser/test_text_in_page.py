"""A text classifier in the page: a TextVectorization model trained and saved natively is
loaded from a URL in Pyodide (wasm backend, no numpy) and classifies raw strings as it does
natively; its vocabulary is adapted again in the page to the same tokens."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import boot, run_python

ROOT = Path(__file__).resolve().parents[2]
SENTENCES = ["the music was wonderful and charming", "honestly the plot was boring", "a waste of time"]


def _train_and_save(folder: Path) -> tuple:
    sys.path.insert(0, str(ROOT / "core"))
    import webtensor as tf

    L = tf.keras.layers
    rows = [line.split("\t") for line in (ROOT / "tests" / "data" / "sentiment.tsv").read_text().splitlines()]
    texts, labels = [r[1] for r in rows], [float(r[0]) for r in rows]
    tf.random.set_seed(1)
    tv = L.TextVectorization(max_tokens=100, output_sequence_length=16)
    tv.adapt(texts)
    inp = tf.keras.Input(shape=(1,), dtype="string")
    out = L.Dense(1, activation="sigmoid")(L.GlobalAveragePooling1D()(L.Embedding(tv.vocabulary_size(), 8)(tv(inp))))
    model = tf.keras.Model(inp, out)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    model.fit(tf.reshape(tf.constant(texts), (-1, 1)), tf.constant(labels), epochs=10, batch_size=32, verbose=0)
    model.save(str(folder / "text.safetensors"))
    (folder / "sentiment.tsv").write_bytes((ROOT / "tests" / "data" / "sentiment.tsv").read_bytes())
    want = model.predict(tf.constant([[s] for s in SENTENCES]), verbose=0).tolist()
    return want, tv.get_vocabulary()


def test_text_classifier_loads_and_classifies_in_page(page, test_files):
    want, vocab = _train_and_save(test_files)
    r = boot(page, backend="wasm")
    assert "error" not in r, r
    got = run_python(
        page,
        f"""
import webtensor as tf
m = tf.keras.models.load_model("/_test/text.safetensors")
m.predict(tf.constant({[[s] for s in SENTENCES]!r}), verbose=0).tolist()
""",
    )
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert abs(g[0] - w[0]) <= 1e-5, (got, want)
    assert got[0][0] > 0.5 > got[1][0] and got[2][0] < 0.5
    page_vocab = run_python(
        page,
        """
from pyodide.http import open_url
rows = [line.split("\\t") for line in open_url("/_test/sentiment.tsv").read().splitlines()]
tv = tf.keras.layers.TextVectorization(max_tokens=100)
tv.adapt([r[1] for r in rows])
tv.get_vocabulary()
""",
    )
    assert page_vocab == vocab

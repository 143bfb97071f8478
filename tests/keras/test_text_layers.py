"""Keras text and categorical preprocessing layers: TextVectorization, StringLookup,
IntegerLookup, Hashing, CategoryEncoding.

Expected values are Keras 3's documented outputs (its docstrings' printed results, produced by
TensorFlow's kernels), TF 2.21's hash fixtures, values derived by hand, and Keras 3 on torch
for CategoryEncoding (the only one of these layers Keras runs without TensorFlow)."""

import json
import os
from pathlib import Path

import pytest
import webtensor as tf

L = tf.keras.layers
DATA = Path(__file__).resolve().parents[1] / "data" / "sentiment.tsv"
FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "tf_values" / "tf_reference_values.json"


def _l(t):
    return t.numpy().tolist()


def _close(got, want, tol=1e-5):
    flat_g, flat_w = _flat(got), _flat(want)
    assert len(flat_g) == len(flat_w) and all(abs(a - b) <= tol for a, b in zip(flat_g, flat_w)), (got, want)


def _flat(x):
    return [v for e in x for v in _flat(e)] if isinstance(x, list) else [x]


# -- StringLookup / IntegerLookup: Keras 3's docstring examples ------------------------------------

VOCAB = ["a", "b", "c", "d"]


def test_string_lookup_docs():
    data = [["a", "c", "d"], ["d", "z", "b"]]
    out = L.StringLookup(vocabulary=VOCAB)(data)
    assert _l(out) == [[1, 3, 4], [4, 0, 2]] and out.dtype == tf.int64
    layer = L.StringLookup()
    layer.adapt(data)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]  # by count, ties high to low
    assert _l(layer(data)) == [[5, 3, 1], [1, 2, 4]]
    # two OOV buckets: "m" and "z" hash (FarmHash) to buckets 0 and 1
    assert _l(L.StringLookup(vocabulary=VOCAB, num_oov_indices=2)([["a", "c", "d"], ["m", "z", "b"]])) == [
        [2, 4, 5],
        [0, 1, 3],
    ]
    inv = L.StringLookup(vocabulary=VOCAB, invert=True)(tf.constant([[1, 3, 4], [4, 0, 2]]))
    assert _l(inv) == [[b"a", b"c", b"d"], [b"d", b"[UNK]", b"b"]] and inv.dtype == tf.string


def test_string_lookup_encodings_docs():
    data = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
    one = L.StringLookup(vocabulary=VOCAB, output_mode="one_hot")(["a", "b", "c", "d", "z"])
    assert _l(one) == [[0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [1, 0, 0, 0, 0]]
    assert _l(L.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(data)) == [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    assert _l(L.StringLookup(vocabulary=VOCAB, output_mode="count")(data)) == [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]
    layer = L.StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    _close(_l(layer(data)), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]])  # OOV weight: the mean, 0.5
    layer.set_vocabulary(["[UNK]"] + VOCAB, idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    _close(_l(layer(data)), [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]])


def test_integer_lookup_docs():
    data = [[12, 1138, 42], [42, 1000, 36]]
    assert _l(L.IntegerLookup(vocabulary=[12, 36, 1138, 42])(data)) == [[1, 3, 4], [4, 0, 2]]
    layer = L.IntegerLookup()
    layer.adapt(tf.constant(data))
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    assert _l(layer(data)) == [[5, 2, 1], [1, 3, 4]]
    # floormod OOV buckets: 37 % 2 = 1, 1000 % 2 = 0
    assert _l(L.IntegerLookup(vocabulary=[12, 36, 1138, 42], num_oov_indices=2)([[12, 1138, 42], [37, 1000, 36]])) == [
        [2, 4, 5],
        [1, 0, 3],
    ]
    oov = [100, 300, 700, 1100, 1700, 2000]
    assert _l(L.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="floormod")(oov)) == [0] * 6
    assert _l(L.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="farmhash")(oov)) == [
        3,
        3,
        2,
        2,
        0,
        1,
    ]
    assert _l(L.IntegerLookup(vocabulary=[12, 36, 1138, 42], invert=True)([[1, 3, 4], [4, 0, 2]])) == [
        [12, 1138, 42],
        [42, -1, 36],
    ]
    assert _l(
        L.IntegerLookup(vocabulary=[12, 36, 1138, 42], output_mode="count")([[12, 1138, 42, 42], [42, 7, 36, 7]])
    ) == [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]


def test_lookup_mask_token_and_max_tokens():
    layer = L.StringLookup(vocabulary=VOCAB, mask_token="")
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b", "c", "d"]
    assert _l(layer([["a", "", "q"]])) == [[2, 0, 1]]
    assert _l(L.StringLookup(vocabulary=VOCAB, mask_token="", invert=True)([[0, 1, 5]])) == [[b"", b"[UNK]", b"d"]]
    # outside "int" mode the mask token has no index and is dropped
    assert _l(L.StringLookup(vocabulary=VOCAB, mask_token="", output_mode="multi_hot")([["a", ""]])) == [
        [0, 1, 0, 0, 0]
    ]
    layer = L.StringLookup(max_tokens=3)
    layer.adapt([["x", "x", "y", "y", "y", "z"]])
    assert layer.get_vocabulary() == ["[UNK]", "y", "x"]  # max_tokens counts the OOV index
    padded = L.StringLookup(vocabulary=["a"], output_mode="multi_hot", max_tokens=4, pad_to_max_tokens=True)
    assert _l(padded(["a", "q"])) == [1, 1, 0, 0]  # a rank-1 input is one sample


def test_lookup_vocabulary_file(tmp_path):
    f = tmp_path / "vocab.txt"
    f.write_text("a\nb\nc\nd\n")
    layer = L.StringLookup(vocabulary=str(f))
    assert layer.get_vocabulary() == ["[UNK]"] + VOCAB
    assert _l(layer([["d", "a", "x"]])) == [[4, 1, 0]]
    g = tmp_path / "ints.txt"
    g.write_text("7\n9\n")
    assert _l(L.IntegerLookup(vocabulary=str(g))([9, 8, 7])) == [2, 0, 1]


def test_lookup_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_oov_indices=0"):
        L.StringLookup(vocabulary=VOCAB, num_oov_indices=0)(["a", "zz"])
    with pytest.raises(ValueError, match="repeated"):
        L.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="max_tokens"):
        L.StringLookup(vocabulary=VOCAB, max_tokens=3)
    with pytest.raises(ValueError, match="output_mode"):
        L.StringLookup(output_mode="bogus")
    with pytest.raises(ValueError, match="invert"):
        L.StringLookup(vocabulary=VOCAB, invert=True, output_mode="count")
    with pytest.raises(ValueError, match="idf_weights"):
        L.StringLookup(vocabulary=VOCAB, output_mode="tf_idf")
    with pytest.raises(RuntimeError, match="vocabulary"):
        L.StringLookup(output_mode="multi_hot")(["a"])
    with pytest.raises(ValueError, match="static vocabulary"):
        L.StringLookup(vocabulary=VOCAB).adapt(["a"])
    with pytest.raises(TypeError, match="string"):
        L.StringLookup(vocabulary=VOCAB)(tf.constant([1, 2]))
    with pytest.raises(ValueError, match="salt"):
        L.IntegerLookup(vocabulary=[1], num_oov_indices=2, salt=3)


# -- Hashing ------------------------------------------------------------------------------------


def test_hashing_docs():
    inp = [["A"], ["B"], ["C"], ["D"], ["E"]]
    out = L.Hashing(num_bins=3)(inp)
    assert _l(out) == [[1], [0], [1], [1], [2]] and out.dtype == tf.int64
    assert _l(L.Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]])) == [[1], [1], [0], [2], [2]]
    assert _l(L.Hashing(num_bins=3, salt=[133, 137])(inp)) == [[1], [2], [1], [0], [2]]
    assert _l(L.Hashing(num_bins=3, salt=133)(inp)) == [[0], [0], [2], [1], [0]]


def test_hashing_matches_tf_fixtures():
    if not FIXTURES.exists():
        pytest.skip("needs ../shared/fixtures/tf_values")
    ref = json.loads(FIXTURES.read_text())
    fast, strong = ref["to_hash_bucket_fast_1000"], ref["to_hash_bucket_strong_1000_key_1_2"]
    assert _l(L.Hashing(num_bins=1000)(fast["inputs"])) == fast["outputs"]
    assert _l(L.Hashing(num_bins=1000, salt=[1, 2])(strong["inputs"])) == strong["outputs"]


def test_hashing_integers_and_encodings():
    # integers hash as their decimal strings (as Keras's as_string); mask 0 takes bin 0
    ints = L.Hashing(num_bins=1000)(tf.constant([[7, 42]]))
    assert _l(ints) == [[int(x) for x in _l(tf.strings.to_hash_bucket_fast(["7", "42"], 1000))]]
    assert _l(L.Hashing(num_bins=5, mask_value=0)([0, 3]))[0] == 0
    mh = L.Hashing(num_bins=3, output_mode="multi_hot")([["A", "B"], ["C", "C"]])  # bins 1,0 and 1,1
    assert _l(mh) == [[1, 1, 0], [0, 1, 0]] and mh.dtype == tf.float32
    assert _l(L.Hashing(num_bins=3, output_mode="count")([["C", "C", "E"]])) == [[0, 2, 1]]
    with pytest.raises(ValueError, match="num_bins"):
        L.Hashing(num_bins=0)


# -- CategoryEncoding ------------------------------------------------------------------------------


def test_category_encoding_docs():
    assert _l(L.CategoryEncoding(num_tokens=4, output_mode="one_hot")([3, 2, 0, 1])) == [
        [0, 0, 0, 1],
        [0, 0, 1, 0],
        [1, 0, 0, 0],
        [0, 1, 0, 0],
    ]
    assert _l(L.CategoryEncoding(num_tokens=4, output_mode="multi_hot")([[0, 1], [0, 0], [1, 2], [3, 1]])) == [
        [1, 1, 0, 0],
        [1, 0, 0, 0],
        [0, 1, 1, 0],
        [0, 1, 0, 1],
    ]
    w = [[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]]
    out = L.CategoryEncoding(num_tokens=4, output_mode="count")([[0, 1], [0, 0], [1, 2], [3, 1]], count_weights=w)
    _close(_l(out), [[0.1, 0.2, 0, 0], [0.2, 0, 0, 0], [0, 0.2, 0.3, 0], [0, 0.2, 0, 0.4]], 1e-6)
    assert _l(L.CategoryEncoding(num_tokens=3, output_mode="count")([1, 1, 2])) == [0, 2, 1]  # rank 1: one sample


def test_category_encoding_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"out of range.*\[0, 4\)"):
        L.CategoryEncoding(num_tokens=4)([[1, 4]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
        L.CategoryEncoding(num_tokens=4)([[-1, 0]])
    with pytest.raises(ValueError, match="count_weights"):
        L.CategoryEncoding(num_tokens=4, output_mode="multi_hot")([[1]], count_weights=[[1.0]])
    with pytest.raises(ValueError, match="rank is 2"):
        L.CategoryEncoding(num_tokens=4)(tf.zeros((2, 2, 2), tf.int32))
    with pytest.raises(ValueError, match="num_tokens"):
        L.CategoryEncoding()


KERAS_SCRIPT = """
import json, os
os.environ["KERAS_BACKEND"] = "torch"
import numpy as np
import keras
L = keras.layers
c = keras.ops.convert_to_numpy
x = np.array([[0, 3, 3], [2, 1, 0]])
w = np.array([[0.5, 1.0, 2.0], [0.25, 0.0, 3.0]], dtype="float32")
print(json.dumps({
    "one_hot": c(L.CategoryEncoding(5, "one_hot")(np.array([[4], [0], [2]]))).tolist(),
    "multi_hot": c(L.CategoryEncoding(5, "multi_hot")(x)).tolist(),
    "count": c(L.CategoryEncoding(5, "count")(x)).tolist(),
    "weighted": c(L.CategoryEncoding(5, "count")(x, count_weights=w)).tolist(),
    "rank1": c(L.CategoryEncoding(5, "multi_hot")(np.array([1, 1, 4]))).tolist()}))
"""


def test_category_encoding_matches_keras3_on_torch():
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None:
        pytest.skip("needs keras and torch (the test extra) for the reference run")
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    r = subprocess.run([sys.executable, "-c", KERAS_SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    ref = json.loads(r.stdout.strip().splitlines()[-1])
    x = [[0, 3, 3], [2, 1, 0]]
    assert _l(L.CategoryEncoding(5, "one_hot")([[4], [0], [2]])) == ref["one_hot"]
    assert _l(L.CategoryEncoding(5, "multi_hot")(x)) == ref["multi_hot"]
    assert _l(L.CategoryEncoding(5, "count")(x)) == ref["count"]
    _close(_l(L.CategoryEncoding(5, "count")(x, count_weights=[[0.5, 1.0, 2.0], [0.25, 0.0, 3.0]])), ref["weighted"])
    assert _l(L.CategoryEncoding(5, "multi_hot")([1, 1, 4])) == ref["rank1"]


# -- TextVectorization ------------------------------------------------------------------------------

TEXTS = ["The cat sat.", "the DOG sat!", "a cat, a dog"]


def test_text_vectorization_int_by_hand():
    tv = L.TextVectorization()
    tv.adapt(TEXTS)
    # lowercased, punctuation gone; every token appears twice, so ties go high to low
    assert tv.get_vocabulary() == ["", "[UNK]", "the", "sat", "dog", "cat", "a"]
    assert tv.get_vocabulary(include_special_tokens=False) == ["the", "sat", "dog", "cat", "a"]
    assert tv.vocabulary_size() == 7
    out = tv(["the cat", "A bird sat on the dog"])
    assert out.dtype == tf.int64 and _l(out) == [[2, 5, 0, 0, 0, 0], [6, 1, 3, 1, 2, 4]]  # padded to the longest
    fixed = L.TextVectorization(output_sequence_length=3, vocabulary=["the", "sat", "dog", "cat", "a"])
    assert _l(fixed(tf.constant([["the cat"], ["a bird sat on"]]))) == [[2, 5, 0], [6, 1, 3]]


def test_text_vectorization_standardize_and_split_options():
    assert L.TextVectorization(standardize="lower").__class__ is L.TextVectorization
    tv = L.TextVectorization(standardize="lower", vocabulary=["cat.", "cat"])
    assert _l(tv(["CAT. cat"])) == [[2, 3]]
    tv = L.TextVectorization(standardize="strip_punctuation", vocabulary=["Cat", "cat"])
    assert _l(tv(["Cat! cat?"])) == [[2, 3]]
    tv = L.TextVectorization(standardize=None, vocabulary=["Cat!"])
    assert _l(tv(["Cat! cat!"])) == [[2, 1]]
    tv = L.TextVectorization(standardize=lambda t: tf.strings.regex_replace(t, "x", "y"), vocabulary=["y"])
    assert _l(tv(["x z"])) == [[2, 1]]
    tv = L.TextVectorization(split="character", standardize=None, vocabulary=["a", "ü"])
    assert _l(tv(["aüb"])) == [[2, 3, 1]]
    tv = L.TextVectorization(split=None, vocabulary=["new york", "paris"])
    assert _l(tv(["new york", "Paris", "rome"])) == [[2], [3], [1]]
    tv = L.TextVectorization(
        split=lambda t: [s.split(b"-") for s in t.numpy().tolist()], standardize=None, vocabulary=["a", "b"]
    )
    assert _l(tv(["a-b-c"])) == [[2, 3, 1]]
    with pytest.raises(ValueError, match="standardize"):
        L.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="last shape dimension must be 1"):
        L.TextVectorization(vocabulary=["a"])(tf.constant([["a", "b"]]))


def test_text_vectorization_ngrams_and_vector_modes_by_hand():
    docs = ["a b", "a c", "b c c"]
    tv = L.TextVectorization(output_mode="count", ngrams=2)
    tv.adapt(docs)
    # counts: c 3; a, b 2; the bigrams 1 each (ties high to low)
    assert tv.get_vocabulary() == ["[UNK]", "c", "b", "a", "c c", "b c", "a c", "a b"]
    assert _l(tv(["a b c d"])) == [[2, 1, 1, 1, 0, 1, 0, 1]]  # unigrams a b c [UNK]; bigrams a b, b c, c d->UNK
    mh = L.TextVectorization(output_mode="multi_hot", vocabulary=["x", "y"])
    assert _l(mh(["x x q", "y"])) == [[1, 1, 0], [0, 0, 1]]
    tfidf = L.TextVectorization(output_mode="tf_idf")
    tfidf.adapt(docs)
    import math

    idf = {t: math.log(1 + 3 / (1 + df)) for t, df in {"c": 2, "b": 2, "a": 2}.items()}
    oov = sum(idf.values()) / 3
    _close(_l(tfidf(["c c a zz"])), [[oov, 2 * idf["c"], 0.0, idf["a"]]])
    padded = L.TextVectorization(output_mode="multi_hot", max_tokens=6, pad_to_max_tokens=True, vocabulary=["x"])
    assert _l(padded(["x"])) == [[0, 1, 0, 0, 0, 0]]
    with pytest.raises(ValueError, match="output_sequence_length"):
        L.TextVectorization(output_mode="count", output_sequence_length=3)


def test_text_vectorization_max_tokens_set_vocabulary_and_dataset_adapt():
    ds = tf.data.Dataset.from_tensor_slices(["b a", "a c", "a"]).batch(2)
    tv = L.TextVectorization(max_tokens=4)
    tv.adapt(ds)
    assert tv.get_vocabulary() == ["", "[UNK]", "a", "c"]  # a 3, then c > b among the ties
    tv.set_vocabulary(["q", "r"])
    assert tv.get_vocabulary() == ["", "[UNK]", "q", "r"] and _l(tv(["r q a"])) == [[3, 2, 1]]
    pairs = tf.data.Dataset.from_tensor_slices((["x y", "y"], [0, 1])).batch(2)
    tv2 = L.TextVectorization()
    tv2.adapt(pairs)  # a dataset of (text, label) contributes its text
    assert tv2.get_vocabulary() == ["", "[UNK]", "y", "x"]


def _roundtrip(layer, x):
    clone = type(layer).from_config(json.loads(json.dumps(layer.get_config())))
    assert _l(clone(x)) == _l(layer(x))
    return clone


def test_configs_round_trip_with_vocabularies():
    tv = L.TextVectorization(max_tokens=10, output_sequence_length=5, ngrams=(1, 2))
    tv.adapt(TEXTS)
    clone = _roundtrip(tv, ["the cat sat", "a dog"])
    assert clone.get_vocabulary() == tv.get_vocabulary()
    tfidf = L.TextVectorization(output_mode="tf_idf")
    tfidf.adapt(TEXTS)
    _roundtrip(tfidf, ["the the cat zz"])
    lk = L.StringLookup(num_oov_indices=2, mask_token="")
    lk.adapt([["x", "y", "y"]])
    _roundtrip(lk, [["x", "y", "", "q"]])
    _roundtrip(L.IntegerLookup(vocabulary=[5, 6], output_mode="multi_hot"), [[5, 9]])
    _roundtrip(L.Hashing(num_bins=7, salt=[3, 4], mask_value="m"), [["m", "n"]])
    _roundtrip(L.CategoryEncoding(num_tokens=3, output_mode="count"), [[0, 2, 2]])


# -- the must-hold: a text classifier trains, saves, reloads --------------------------------------


def _sentiment():
    rows = [line.split("\t") for line in DATA.read_text().splitlines()]
    return [r[1] for r in rows], [float(r[0]) for r in rows]


def test_text_classifier_trains_saves_and_reloads(tmp_path):
    texts, labels = _sentiment()
    assert len(texts) == 200 and 0.4 < sum(labels) / len(labels) < 0.6
    train_x, train_y, test_x, test_y = texts[:160], labels[:160], texts[160:], labels[160:]
    tf.random.set_seed(1)
    tv = L.TextVectorization(max_tokens=100, output_sequence_length=16)
    tv.adapt(train_x)
    inp = tf.keras.Input(shape=(1,), dtype="string")
    x = L.Embedding(tv.vocabulary_size(), 8)(tv(inp))
    out = L.Dense(1, activation="sigmoid")(L.GlobalAveragePooling1D()(x))
    model = tf.keras.Model(inp, out)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    tx = tf.reshape(tf.constant(train_x), (-1, 1))
    ex = tf.reshape(tf.constant(test_x), (-1, 1))
    model.fit(tx, tf.constant(train_y), epochs=15, batch_size=32, verbose=0)
    _, acc = model.evaluate(ex, tf.constant(test_y), verbose=0)
    assert acc >= 0.85, acc  # chance is 0.5 on these 40 held-out sentences
    path = tmp_path / "text.safetensors"
    model.save(str(path))
    loaded = tf.keras.models.load_model(str(path))
    assert loaded.layers[1].get_vocabulary() == tv.get_vocabulary()
    before, after = model.predict(ex, verbose=0), loaded.predict(ex, verbose=0)
    assert before.tolist() == after.tolist()  # predict gives arrays
    raw = loaded.predict(tf.constant([["a wonderful, brilliant film"], ["boring and awful"]]), verbose=0)
    assert raw.tolist()[0][0] > 0.5 > raw.tolist()[1][0]


@tf.keras.saving.register_keras_serializable(package="text_test")
def _strip_br(x):
    return tf.strings.regex_replace(tf.strings.lower(x), "<br />", " ")


def test_registered_standardize_saved_in_model_file(tmp_path):
    tv = L.TextVectorization(standardize=_strip_br, output_sequence_length=4, ngrams=2)
    tv.adapt(["A<br />b", "b c"])
    inp = tf.keras.Input(shape=(1,), dtype="string")
    model = tf.keras.Model(inp, tv(inp))
    model.summary(print_fn=lambda *a, **k: None)
    model.save(str(tmp_path / "tv.safetensors"))
    loaded = tf.keras.models.load_model(str(tmp_path / "tv.safetensors"))
    # b 2, c 1, then the ties high to low: "b c", "a b", "a"
    assert loaded.layers[1].get_vocabulary() == ["", "[UNK]", "b", "c", "b c", "a b", "a"]
    assert loaded.predict(tf.constant([["a<br />B c"]]), verbose=0).tolist() == [[6, 2, 3, 5]]  # a b c, a b


def test_ragged_inputs_and_outputs():
    r = tf.ragged.constant([["a", "c", "d"], ["z"]])
    out = L.StringLookup(vocabulary=VOCAB)(r)
    assert isinstance(out, tf.RaggedTensor) and out.to_list() == [[1, 3, 4], [0]]
    assert _l(L.StringLookup(vocabulary=VOCAB, output_mode="count")(r)) == [[0, 1, 0, 1, 1], [1, 0, 0, 0, 0]]
    assert L.IntegerLookup(vocabulary=[5, 6])(tf.ragged.constant([[5], [6, 7]])).to_list() == [[1], [2, 0]]
    assert L.Hashing(3)(tf.ragged.constant([["A", "B"], ["C"]])).to_list() == [[1, 0], [1]]  # the docs' bins
    assert _l(L.CategoryEncoding(3, "count")(tf.ragged.constant([[0, 2, 2], [1]]))) == [[1, 0, 2], [0, 1, 0]]
    tv = L.TextVectorization(ragged=True, vocabulary=["a", "b"])
    got = tv(["a b c", "b"])
    assert isinstance(got, tf.RaggedTensor) and got.to_list() == [[2, 3, 1], [3]]
    layer = L.StringLookup()
    layer.adapt(r)
    assert layer.get_vocabulary() == ["[UNK]", "z", "d", "c", "a"]
    split = L.TextVectorization(split=tf.strings.split, vocabulary=["a", "b"])  # a split giving ragged rows
    assert _l(split(["a b c", "b"])) == [[2, 3, 1], [3, 0, 0]]
    with pytest.raises(ValueError, match="ragged"):
        L.TextVectorization(ragged=True, output_mode="count")


def test_integer_mask_and_custom_oov_token():
    layer = L.IntegerLookup(vocabulary=[12, 36], mask_token=0)
    assert layer.get_vocabulary() == [0, -1, 12, 36] and _l(layer([12, 0, 7])) == [2, 0, 1]
    assert _l(L.IntegerLookup(vocabulary=[12, 36], mask_token=0, invert=True)([0, 1, 2, 3])) == [0, -1, 12, 36]
    assert L.StringLookup(vocabulary=["a"], oov_token="<oov>").get_vocabulary() == ["<oov>", "a"]
    assert _l(L.StringLookup(vocabulary=["a"], oov_token="<oov>", invert=True)([0, 1, 5])) == [b"<oov>", b"a", b"<oov>"]

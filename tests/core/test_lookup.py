"""tf.lookup tables against the values in TensorFlow's documentation and hand-derived ones."""

import pytest
import webtensor as tf
from webtensor.strings.hashing import fingerprint64


def _l(t):
    return t.numpy().tolist()


def _kv(keys, values, **kw):
    return tf.lookup.KeyValueTensorInitializer(tf.constant(keys), tf.constant(values, **kw))


def test_static_hash_table_tf_docs():
    # tf.lookup.StaticHashTable docstring
    table = tf.lookup.StaticHashTable(_kv(["a", "b", "c"], [7, 8, 9]), default_value=-1)
    out = table.lookup(tf.constant(["a", "f"]))
    assert _l(out) == [7, -1] and out.dtype == tf.int32
    assert _l(table[tf.constant([["a", "b"], ["c", "d"]])]) == [[7, 8], [9, -1]]
    assert int(table.size()) == 3 and table.size().dtype == tf.int64
    keys, vals = table.export()
    assert sorted(zip(_l(keys), _l(vals))) == [(b"a", 7), (b"b", 8), (b"c", 9)]
    assert table.key_dtype == tf.string and table.value_dtype == tf.int32


def test_static_hash_table_int_keys_string_values():
    table = tf.lookup.StaticHashTable(_kv([3, 1], ["three", "one"], dtype=tf.string), default_value="?")
    assert _l(table.lookup(tf.constant([1, 2, 3]))) == [b"one", b"?", b"three"]


def test_static_hash_table_errors():
    table = tf.lookup.StaticHashTable(_kv(["a"], [1]), -1)
    with pytest.raises(TypeError, match="string"):
        table.lookup(tf.constant([1, 2]))  # TF: dtype of `keys` must match the table's
    with pytest.raises(tf.errors.FailedPreconditionError, match="different value for same key"):
        tf.lookup.StaticHashTable(_kv(["a", "a"], [1, 2]), -1)
    tf.lookup.StaticHashTable(_kv(["a", "a"], [1, 1]), -1)  # the same value twice is allowed, as in TF
    with pytest.raises(tf.errors.InvalidArgumentError, match="same size"):
        tf.lookup.KeyValueTensorInitializer(tf.constant(["a", "b"]), tf.constant([1]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="vector"):
        tf.lookup.KeyValueTensorInitializer(tf.constant([["a"]]), tf.constant([[1]]))
    with pytest.raises(ValueError, match="scalar"):
        tf.lookup.StaticHashTable(_kv(["a"], [1]), [0, 0])


def test_static_vocabulary_table_tf_docs():
    # tf.lookup.StaticVocabularyTable docstring: emerson, lake, palmer + 5 OOV buckets
    init = tf.lookup.KeyValueTensorInitializer(
        tf.constant(["emerson", "lake", "palmer"]), tf.constant([0, 1, 2], dtype=tf.int64)
    )
    table = tf.lookup.StaticVocabularyTable(init, num_oov_buckets=5)
    out = table[tf.constant(["emerson", "lake", "palmer", "king", "crimson"])]
    assert _l(out) == [0, 1, 2, 6, 7] and out.dtype == tf.int64
    assert int(table.size()) == 8
    # the formula: size + Fingerprint64(key) % buckets
    assert _l(out)[3] == 3 + fingerprint64(b"king") % 5
    # the collision example: values 1..3 and one bucket at size 3
    init = tf.lookup.KeyValueTensorInitializer(
        tf.constant(["emerson", "lake", "palmer"]), tf.constant([1, 2, 3], dtype=tf.int64)
    )
    table = tf.lookup.StaticVocabularyTable(init, num_oov_buckets=1)
    assert _l(table[tf.constant(["emerson", "lake", "palmer", "king"])]) == [1, 2, 3, 3]


def test_static_vocabulary_table_int_keys_hash_decimal():
    init = tf.lookup.KeyValueTensorInitializer(
        tf.constant([10, 20], dtype=tf.int64), tf.constant([0, 1], dtype=tf.int64)
    )
    table = tf.lookup.StaticVocabularyTable(init, 4)
    got = _l(table.lookup(tf.constant([20, 100, 7], dtype=tf.int64)))
    assert got == [1, 2 + fingerprint64(b"100") % 4, 2 + fingerprint64(b"7") % 4]
    with pytest.raises(ValueError, match="num_oov_buckets"):
        tf.lookup.StaticVocabularyTable(init, 0)
    with pytest.raises(TypeError, match="value_dtype"):
        tf.lookup.StaticVocabularyTable(_kv(["a"], [1]), 1)  # int32 values


def test_text_file_initializer(tmp_path):
    # tf.lookup.TextFileInitializer docstring: "emerson 10", "lake 20", "palmer 30"
    f = tmp_path / "vocab.txt"
    f.write_text("emerson 10\nlake 20\npalmer 30\n")
    init = tf.lookup.TextFileInitializer(
        str(f), key_dtype=tf.string, key_index=0, value_dtype=tf.int64, value_index=1, delimiter=" "
    )
    table = tf.lookup.StaticHashTable(init, default_value=-1)
    assert _l(table.lookup(tf.constant(["palmer", "lake", "tarkus"]))) == [30, 20, -1]
    init = tf.lookup.TextFileInitializer(
        str(f),
        key_dtype=tf.string,
        key_index=tf.lookup.TextFileIndex.WHOLE_LINE,
        value_dtype=tf.int64,
        value_index=tf.lookup.TextFileIndex.LINE_NUMBER,
    )
    table = tf.lookup.StaticHashTable(init, -1)
    assert int(table.lookup(tf.constant("palmer 30"))) == 2
    # line number -> column, with an offset and vocab_size
    init = tf.lookup.TextFileInitializer(
        str(f), tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER, tf.string, 0, vocab_size=2, delimiter=" "
    )
    table = tf.lookup.StaticHashTable(init, "")
    assert _l(table.lookup(tf.constant([0, 1, 2], dtype=tf.int64))) == [b"emerson", b"lake", b""]


def test_text_file_initializer_vocabulary_table_tf_docs(tmp_path):
    f = tmp_path / "v.txt"
    f.write_bytes(b"emerson\nlake\npalmer\ncrimnson")
    init = tf.lookup.TextFileInitializer(
        str(f),
        key_dtype=tf.string,
        key_index=tf.lookup.TextFileIndex.WHOLE_LINE,
        value_dtype=tf.int64,
        value_index=tf.lookup.TextFileIndex.LINE_NUMBER,
    )
    table = tf.lookup.StaticVocabularyTable(init, 3)
    got = table.lookup(tf.constant(["palmer", "crimnson", "king", "tarkus", "black", "moon"]))
    assert _l(got) == [2, 3, 5, 6, 6, 4]


def test_text_file_initializer_errors(tmp_path):
    f = tmp_path / "v.txt"
    f.write_text("a\tx\nb\n")
    with pytest.raises(tf.errors.InvalidArgumentError, match="columns"):
        tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(str(f), tf.string, 0, tf.string, 1), "")
    with pytest.raises(tf.errors.InvalidArgumentError, match="vocab_size"):
        tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(str(f), tf.string, -2, tf.int64, -1, vocab_size=5), -1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="int64"):
        tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(str(f), tf.int64, -2, tf.int64, -1), -1)
    with pytest.raises(ValueError, match="int64"):
        tf.lookup.TextFileInitializer(str(f), tf.string, -2, tf.int32, -1)
    with pytest.raises(tf.errors.NotFoundError):
        tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(str(tmp_path / "no"), tf.string, -2, tf.int64, -1), -1)


def test_mutable_hash_table_insert_lookup_remove_export():
    m = tf.lookup.experimental.MutableHashTable(key_dtype=tf.string, value_dtype=tf.int64, default_value=-1)
    m.insert(tf.constant(["a", "b", "c"]), tf.constant([0, 1, 2], dtype=tf.int64))
    m.remove(tf.constant(["c", "zz"]))
    assert _l(m.lookup(tf.constant(["a", "b", "c", "d"]))) == [0, 1, -1, -1]
    m.insert(tf.constant(["a"]), tf.constant([5], dtype=tf.int64))  # a later value wins
    assert int(m.size()) == 2 and _l(m[tf.constant(["a"])]) == [5]
    keys, vals = m.export()
    assert dict(zip(_l(keys), _l(vals))) == {b"a": 5, b"b": 1}
    got = m.lookup(tf.constant(["a", "q"]), dynamic_default_values=tf.constant([7, 8], dtype=tf.int64))
    assert _l(got) == [5, 8]
    assert tf.lookup.MutableHashTable is tf.lookup.experimental.MutableHashTable


def test_mutable_hash_table_vector_values_and_errors():
    m = tf.lookup.MutableHashTable(tf.int64, tf.float32, default_value=[0.0, -1.0])
    m.insert(tf.constant([1, 2], dtype=tf.int64), tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    got = m.lookup(tf.constant([[2], [9]], dtype=tf.int64))
    assert got.shape == (2, 1, 2) and _l(got) == [[[3.0, 4.0]], [[0.0, -1.0]]]
    assert m.export()[1].shape == (2, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"expected shape \[2, 2\]"):
        m.insert(tf.constant([1, 2], dtype=tf.int64), tf.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="int64"):
        m.lookup(tf.constant([1, 2]))  # int32 keys for an int64 table


def test_lookup_under_tf_function_is_a_clear_error():
    table = tf.lookup.StaticHashTable(_kv(["a"], [1]), -1)
    f = tf.function(lambda x: table.lookup(x))
    with pytest.raises(tf.errors.UnimplementedError, match="eager-only"):
        f(tf.constant(["a"]))


def test_ragged_keys_keep_their_rows():
    table = tf.lookup.StaticHashTable(_kv(["a", "b"], [1, 2]), -1)
    out = table.lookup(tf.ragged.constant([["a", "x"], ["b"]]))
    assert isinstance(out, tf.RaggedTensor) and out.to_list() == [[1, -1], [2]]
    init = tf.lookup.KeyValueTensorInitializer(tf.constant(["emerson"]), tf.constant([0], dtype=tf.int64))
    vocab = tf.lookup.StaticVocabularyTable(init, 5)
    assert vocab.lookup(tf.ragged.constant([["emerson"], ["king", "crimson"]])).to_list() == [
        [0],
        [1 + fingerprint64(b"king") % 5, 1 + fingerprint64(b"crimson") % 5],
    ]

"""tf.string tensors and tf.strings ops: hand-derived values and TF 2.21's own outputs."""

import json
import os

import pytest
import webtensor as tf

FIXTURES = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "fixtures", "tf_values", "tf_reference_values.json"
)


def _fixtures():
    path = os.path.normpath(FIXTURES)
    if not os.path.exists(path):
        pytest.skip(f"TF reference fixtures not found at {path}")
    with open(path) as f:
        return json.load(f)


def vals(t):
    return t.numpy().tolist() if t.shape.rank else t.numpy()


# -- the dtype and conversion ------------------------------------------------------------------


def test_constant_from_str_bytes_and_nested_lists():
    a = tf.constant(["a", "b"])
    assert a.dtype is tf.string and a.shape == (2,)
    assert vals(a) == [b"a", b"b"]
    assert tf.constant(b"x").numpy() == b"x"
    n = tf.constant([["ab", b"c"], ["", "\u00fc"]])
    assert n.shape == (2, 2) and vals(n) == [[b"ab", b"c"], [b"", b"\xc3\xbc"]]
    assert tf.constant("s", dtype=tf.string).dtype is tf.string
    assert tf.as_dtype("string") is tf.string and tf.as_dtype(str) is tf.string


def test_numpy_is_object_array_of_bytes():
    np = pytest.importorskip("numpy")
    v = tf.constant(["a", "bc"]).numpy()
    assert v.dtype == object and list(v) == [b"a", b"bc"]
    back = tf.constant(np.array(["x", "yz"]))  # numpy unicode array -> tf.string
    assert back.dtype is tf.string and vals(back) == [b"x", b"yz"]
    assert vals(tf.constant(v)) == [b"a", b"bc"]


def test_repr_like_tf():
    pytest.importorskip("numpy")
    assert (
        repr(tf.constant(["a", "b"]))
        == "<tf.Tensor: shape=(2,), dtype=string, numpy=array([b'a', b'b'], dtype=object)>"
    )
    assert repr(tf.constant("a")) == "<tf.Tensor: shape=(), dtype=string, numpy=b'a'>"


def test_strings_live_on_the_host_cpu():
    t = tf.constant(["a"])
    assert t.device.endswith("CPU:0")


def test_string_where_a_number_is_expected_is_an_error():
    with pytest.raises(TypeError):
        tf.constant("1", dtype=tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.constant(["a"]) + tf.constant(["b"])


# -- shape-moving ops through the ordinary ops --------------------------------------------------


def test_indexing_reshape_concat_stack():
    t = tf.constant([["a", "b", "c"], ["d", "e", "f"]])
    assert t[0, 1].numpy() == b"b"
    assert vals(t[1]) == [b"d", b"e", b"f"]
    assert vals(t[:, ::2]) == [[b"a", b"c"], [b"d", b"f"]]
    assert vals(tf.reshape(t, [3, 2])) == [[b"a", b"b"], [b"c", b"d"], [b"e", b"f"]]
    assert vals(tf.transpose(t)) == [[b"a", b"d"], [b"b", b"e"], [b"c", b"f"]]
    assert vals(tf.concat([t, t[:1]], axis=0))[2] == [b"a", b"b", b"c"]
    assert vals(tf.concat([t, t], axis=1))[0] == [b"a", b"b", b"c", b"a", b"b", b"c"]
    assert vals(tf.stack([t[0], t[1]], axis=1)) == [[b"a", b"d"], [b"b", b"e"], [b"c", b"f"]]


def test_gather_where_and_equality():
    t = tf.constant(["x", "y", "z"])
    assert vals(tf.gather(t, [2, 0, 2])) == [b"z", b"x", b"z"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
        tf.gather(t, [3])
    other = tf.constant(["p", "q", "r"])
    assert vals(tf.where([True, False, True], t, other)) == [b"x", b"q", b"z"]
    eq = t == tf.constant(["x", "b", "z"])
    assert eq.dtype is tf.bool and vals(eq) == [True, False, True]
    assert vals(t != "y") == [True, False, True]
    assert vals(tf.equal(t, "z")) == [False, False, True]
    assert bool(tf.reduce_any(t == "y"))  # a bool result feeds numeric ops
    assert vals(tf.tile(tf.constant(["a", "b"]), [2])) == [b"a", b"b", b"a", b"b"]


# -- tf.strings ----------------------------------------------------------------------------------


def test_length_units():
    t = tf.constant(["abc", "", "\u00fc\u00df"])
    assert vals(tf.strings.length(t)) == [3, 0, 4]
    assert vals(tf.strings.length(t, unit="UTF8_CHAR")) == [3, 0, 2]
    assert tf.strings.length(t).dtype is tf.int32
    with pytest.raises(tf.errors.InvalidArgumentError, match="UTF-8"):
        tf.strings.length(tf.constant([b"\xff"]), unit="UTF8_CHAR")


def test_case_and_strip():
    t = tf.constant(["Hello World", " \t pad \n", "\u00dcber"])
    assert vals(tf.strings.lower(t)) == [b"hello world", b" \t pad \n", "\u00dcber".encode()]
    assert vals(tf.strings.lower(t, encoding="utf-8"))[2] == "\u00fcber".encode()
    assert vals(tf.strings.upper(t))[0] == b"HELLO WORLD"
    assert vals(tf.strings.strip(t)) == [b"Hello World", b"pad", "\u00dcber".encode()]


def test_join_and_reduce_join():
    a, b = tf.constant(["a", "b"]), tf.constant(["1", "2"])
    assert vals(tf.strings.join([a, b], separator="-")) == [b"a-1", b"b-2"]
    assert vals(tf.strings.join([a, "!"])) == [b"a!", b"b!"]
    m = tf.constant([["a", "b", "c"], ["d", "e", "f"]])
    assert tf.strings.reduce_join(m).numpy() == b"abcdef"
    assert vals(tf.strings.reduce_join(m, axis=1, separator=",")) == [b"a,b,c", b"d,e,f"]
    assert vals(tf.strings.reduce_join(m, axis=0)) == [b"ad", b"be", b"cf"]
    assert vals(tf.strings.reduce_join(m, axis=-1, keepdims=True)) == [[b"abc"], [b"def"]]


def test_substr():
    t = tf.constant(["Hello", "World"])
    assert vals(tf.strings.substr(t, 1, 3)) == [b"ell", b"orl"]
    assert vals(tf.strings.substr(t, -2, 5)) == [b"lo", b"ld"]
    assert vals(tf.strings.substr(t, [0, 2], [1, 10])) == [b"H", b"rld"]
    u = tf.constant(["\u00fcber"])
    assert vals(tf.strings.substr(u, 0, 2, unit="UTF8_CHAR")) == ["\u00fcb".encode()]
    with pytest.raises(tf.errors.InvalidArgumentError, match="pos 9 out of range"):
        tf.strings.substr(t, 9, 1)


def test_regex_ops():
    t = tf.constant(["abc123", "xyz", "123"])
    assert vals(tf.strings.regex_full_match(t, r"[a-z]+\d+")) == [True, False, False]
    assert vals(tf.strings.regex_replace(t, r"\d", "#")) == [b"abc###", b"xyz", b"###"]
    assert vals(tf.strings.regex_replace(t, r"\d", "#", replace_global=False))[0] == b"abc#23"
    assert tf.strings.regex_replace("ab", r"(a)(b)", r"\2\1<\0>").numpy() == b"ba<ab>"


def test_to_number_and_as_string():
    n = tf.strings.to_number(["1.5", "-2", "1e3"])
    assert n.dtype is tf.float32 and vals(n) == [1.5, -2.0, 1000.0]
    i = tf.strings.to_number(["7", "-12"], out_type=tf.int64)
    assert i.dtype is tf.int64 and vals(i) == [7, -12]
    with pytest.raises(tf.errors.InvalidArgumentError, match="could not correctly convert string: abc"):
        tf.strings.to_number(["abc"])
    assert vals(tf.strings.as_string([1.5, 2.0])) == [b"1.500000", b"2.000000"]
    assert tf.strings.as_string(3.14159, precision=2).numpy() == b"3.14"
    assert vals(tf.strings.as_string([3, 14], width=4, fill="0")) == [b"0003", b"0014"]
    assert vals(tf.strings.as_string([True, False])) == [b"true", b"false"]
    assert tf.strings.as_string(1234.5, scientific=True, precision=1).numpy() == b"1.2e+03"


def test_hash_buckets_match_tensorflow():
    fx = _fixtures()
    for key in ("to_hash_bucket_fast_1000", "to_hash_bucket_fast_2_63"):
        case = fx[key]
        out = tf.strings.to_hash_bucket_fast(case["inputs"], case.get("num_buckets", 1000))
        assert out.dtype is tf.int64 and vals(out) == case["outputs"], key
    case = fx["to_hash_bucket_strong_1000_key_1_2"]
    out = tf.strings.to_hash_bucket_strong(case["inputs"], 1000, case["key"])
    assert vals(out) == case["outputs"]


def test_hash_bucket_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_buckets"):
        tf.strings.to_hash_bucket_fast(["a"], 0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="key must have 2"):
        tf.strings.to_hash_bucket_strong(["a"], 10, [1])


def test_pad_and_unstack():
    a = tf.constant(["a", "b"])
    assert vals(tf.pad(a, [[1, 0]])) == [b"", b"a", b"b"]  # TF pads strings with ""
    assert vals(tf.pad(a, [[0, 1]], constant_values="z")) == [b"a", b"b", b"z"]
    assert [x.numpy() for x in tf.unstack(a)] == [b"a", b"b"]


def test_tf_function_traces_string_ops_as_host_calls():
    g = tf.function(lambda s: tf.reshape(s, [1]))
    assert vals(g(tf.constant("ab"))) == [b"ab"]
    f = tf.function(lambda s: tf.strings.join([tf.strings.upper(s), s], separator="-"))
    assert vals(f(tf.constant(["ab", "c"]))) == [b"AB-ab", b"C-c"]
    assert vals(f(tf.constant(["xy", "z"]))) == [b"XY-xy", b"Z-z"]  # replayed, not retraced
    assert f.experimental_get_tracing_count() == 1
    n = tf.function(lambda s: tf.strings.to_number(s, tf.int32) * 2 + tf.strings.length(s))
    assert vals(n(tf.constant(["3", "41"]))) == [7, 84]
    ops = [o.type for o in f.get_concrete_function(tf.constant(["ab", "c"])).graph.get_operations()]
    assert ops.count("py_function") == 2


def test_dataset_of_strings():
    ds = tf.data.Dataset.from_tensor_slices(["a", "bb"]).map(tf.strings.upper)
    assert [x.numpy() for x in ds] == [b"A", b"BB"]


def test_zeros_like_is_empty_strings_and_numeric_ops_refuse():
    a = tf.constant(["a", "b"])
    assert vals(tf.zeros_like(a)) == [b"", b""]
    assert vals(tf.fill([2], "k")) == [b"k", b"k"]
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.ones_like(a)
    with pytest.raises(tf.errors.InvalidArgumentError, match="cast"):
        tf.cast(a, tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="less"):
        tf.less(a, tf.constant(["c", "d"]))

"""tf.strings with ragged results and the unicode ops: values from TF's "Unicode strings" guide and
the op docs, worked by hand (code points from Python's own ord())."""

import pytest
import webtensor as tf

TEXT = "语言处理"
CPS = [ord(c) for c in TEXT]  # [35821, 35328, 22788, 29702]


def lst(t):
    return t.to_list() if isinstance(t, tf.RaggedTensor) else t.numpy().tolist() if t.shape.rank else t.numpy()


def test_decode_encode_transcode():
    assert lst(tf.strings.unicode_decode(tf.constant(TEXT), input_encoding="UTF-8")) == CPS
    assert lst(tf.strings.unicode_encode(tf.constant(CPS), output_encoding="UTF-8")) == TEXT.encode()
    assert lst(
        tf.strings.unicode_transcode(tf.constant(TEXT), input_encoding="UTF8", output_encoding="UTF-16-BE")
    ) == TEXT.encode("utf-16-be")
    assert lst(tf.strings.unicode_decode(TEXT.encode("utf-16-be"), "UTF-16-BE")) == CPS
    batch = [s.encode() for s in ["hÃllo", "What is the weather tomorrow", "Göödnight", "😊"]]
    ragged = tf.strings.unicode_decode(batch, input_encoding="UTF-8")
    assert ragged.to_list()[0] == [104, 195, 108, 108, 111] and ragged.to_list()[3] == [128522]
    padded = ragged.to_tensor(default_value=-1)
    assert padded.shape == (4, 28) and lst(padded)[3][:2] == [128522, -1]
    assert lst(tf.strings.unicode_encode(ragged, output_encoding="UTF-8")) == batch
    assert lst(tf.strings.unicode_encode(tf.RaggedTensor.from_tensor(padded, padding=-1), "UTF-8")) == batch
    assert lst(tf.strings.unicode_encode(tf.RaggedTensor.from_sparse(ragged.to_sparse()), "UTF-8")) == batch
    assert lst(tf.strings.unicode_encode([[99, 97, 116], [100, 111, 103], [99, 111, 119]], "UTF-8")) == [
        b"cat",
        b"dog",
        b"cow",
    ]


def test_lengths_substr_split_offsets():
    thanks = "Thanks 😊".encode()
    assert tf.strings.length(thanks).numpy() == 11
    assert tf.strings.length(thanks, unit="UTF8_CHAR").numpy() == 8
    assert tf.strings.substr(thanks, pos=7, len=1).numpy() == b"\xf0"
    assert tf.strings.substr(thanks, pos=7, len=1, unit="UTF8_CHAR").numpy() == "😊".encode()
    assert lst(tf.strings.unicode_split(thanks, "UTF-8")) == [c.encode() for c in "Thanks 😊"]
    cps, offs = tf.strings.unicode_decode_with_offsets("🎈🎉🎊", "UTF-8")
    assert lst(cps) == [127880, 127881, 127882] and lst(offs) == [0, 4, 8] and offs.dtype is tf.int64
    chars, offs2 = tf.strings.unicode_split_with_offsets(["añb"], "UTF-8")
    assert chars.to_list() == [[b"a", "ñ".encode(), b"b"]] and offs2.to_list() == [[0, 1, 3]]


def test_invalid_utf8_errors_modes():
    bad = b"a\xffb\xc3"  # a stray byte and a truncated two-byte sequence
    with pytest.raises(tf.errors.InvalidArgumentError, match="unicode_decode.*strict"):
        tf.strings.unicode_decode(bad, "UTF-8", errors="strict")
    assert lst(tf.strings.unicode_decode(bad, "UTF-8", errors="replace")) == [97, 65533, 98, 65533]
    assert lst(tf.strings.unicode_decode(bad, "UTF-8", errors="replace", replacement_char=63)) == [97, 63, 98, 63]
    assert lst(tf.strings.unicode_decode(bad, "UTF-8", errors="ignore")) == [97, 98]
    assert lst(tf.strings.unicode_transcode(bad, "UTF-8", "UTF-8", errors="replace")) == "a\ufffdb\ufffd".encode()
    with pytest.raises(tf.errors.InvalidArgumentError, match="errors must be"):
        tf.strings.unicode_decode(bad, "UTF-8", errors="bogus")
    assert lst(tf.strings.unicode_decode("a\x01", "UTF-8", replace_control_characters=True)) == [97, 65533]
    with pytest.raises(tf.errors.InvalidArgumentError, match="not a valid Unicode"):
        tf.strings.unicode_encode([0x110000], "UTF-8", errors="strict")
    assert lst(tf.strings.unicode_encode([104, 0x110000, 105], "UTF-8", errors="ignore")) == b"hi"
    assert lst(tf.strings.unicode_encode([104, -1], "UTF-8")) == "h\ufffd".encode()
    with pytest.raises(tf.errors.InvalidArgumentError, match="output_encoding"):
        tf.strings.unicode_encode([104], "latin-1")


def test_split_bytes_split_and_ragged_string_ops():
    s = tf.strings.split(tf.constant(["hello world", "  a  b c "]))
    assert s.to_list() == [[b"hello", b"world"], [b"a", b"b", b"c"]]
    assert lst(tf.strings.split("a,b,,c", ",")) == [b"a", b"b", b"", b"c"]
    assert tf.strings.split(["a,b,c"], ",", maxsplit=1).to_list() == [[b"a", b"b,c"]]
    two_d = tf.strings.split(tf.constant([["a b", "c"], ["", "d e f"]]))
    assert two_d.to_list() == [[[b"a", b"b"], [b"c"]], [[], [b"d", b"e", b"f"]]]
    assert lst(tf.strings.bytes_split("hello")) == [b"h", b"e", b"l", b"l", b"o"]
    assert tf.strings.bytes_split(["ab", "c"]).to_list() == [[b"a", b"b"], [b"c"]]
    words = tf.strings.split(tf.constant(["What makes you think", "A newt?"]), " ")
    hashed = tf.strings.to_hash_bucket_fast(words, 1000)
    assert isinstance(hashed, tf.RaggedTensor) and hashed.row_lengths().numpy().tolist() == [4, 2]
    assert hashed.dtype is tf.int64
    assert tf.strings.upper(words).to_list()[1] == [b"A", b"NEWT?"]
    assert tf.strings.length(words).to_list() == [[4, 5, 3, 5], [1, 5]]
    assert lst(tf.strings.reduce_join(words, axis=-1, separator="_")) == [b"What_makes_you_think", b"A_newt?"]


def test_ngrams():
    data = tf.constant(["A", "B", "C", "D"])
    assert lst(tf.strings.ngrams(data, 2)) == [b"A B", b"B C", b"C D"]
    assert lst(tf.strings.ngrams(data, [1, 3], separator="-")) == [b"A", b"B", b"C", b"D", b"A-B-C", b"B-C-D"]
    r = tf.ragged.constant([["a", "b", "c"], ["d"]])
    assert tf.strings.ngrams(r, 2).to_list() == [[b"a b", b"b c"], []]
    assert tf.strings.ngrams(r, 2, pad_values="#").to_list() == [[b"# a", b"a b", b"b c", b"c #"], [b"# d", b"d #"]]
    assert tf.strings.ngrams(r, 3, pad_values=("<", ">"), padding_width=1).to_list() == [
        [b"< a b", b"a b c", b"b c >"],
        [b"< d >"],
    ]
    assert tf.strings.ngrams(r, 3, preserve_short_sequences=True).to_list() == [[b"a b c"], [b"d"]]
    assert lst(tf.strings.ngrams(tf.constant([["a", "b", "c"], ["d", "e", "f"]]), 2)) == [
        [b"a b", b"b c"],
        [b"d e", b"e f"],
    ]


def test_format():
    assert lst(tf.strings.format("hello {}", tf.constant([1, 2, 3]))) == b"hello [1 2 3]"
    assert lst(tf.strings.format("{} and {}", [tf.constant(2.5), tf.constant(["a", "b"])])) == b'2.5 and ["a" "b"]'
    assert lst(tf.strings.format("x={}", tf.range(10), summarize=2)) == b"x=[0 1 ... 8 9]"
    assert lst(tf.strings.format("{}", tf.constant([[1, 2], [3, 4]]))) == b"[[1 2]\n [3 4]]"
    with pytest.raises(tf.errors.InvalidArgumentError, match="placeholders"):
        tf.strings.format("{} {}", [tf.constant(1)])


def test_a_string_where_a_number_is_expected():
    with pytest.raises(TypeError, match="to_number"):
        tf.constant("1.5", dtype=tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="StringToNumberOp"):
        tf.strings.to_number(tf.ragged.constant([["1", "x"]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="integer code points"):
        tf.strings.unicode_encode(tf.constant(["a"]), "UTF-8")


def test_unsorted_segment_join_doc_examples():
    out = tf.strings.unsorted_segment_join(["this", "is", "a", "test"], [0, 0, 1, 1], 2, separator=" ")
    assert lst(out) == [b"this is", b"a test"]
    grid = tf.strings.unsorted_segment_join(
        [["Y", "q", "c"], ["Y", "6", "6"], ["p", "G", "a"]], [1, 0, 1], 2, separator=":"
    )
    assert lst(grid) == [[b"Y", b"6", b"6"], [b"Y:p", b"q:G", b"c:a"]]
    assert lst(tf.strings.unsorted_segment_join(["a"], [0], 2)) == [b"a", b""]

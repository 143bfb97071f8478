"""Keras over ragged, sparse and masked input (issue 14): Input(ragged=True / sparse=True),
Embedding / RNNs / global pooling / Dense on RaggedTensor and SparseTensor values, fit / evaluate /
predict batching them by rows, and the TF guides' flows.

Expected values: each ragged row run alone as a dense batch of one (what TF's padded + masked
ragged RNN gives), sums and means taken by hand, and Keras 3 on torch for masked layers
(tests/keras/reference/keras3_masked.py, recorded by make_keras3_masked.py)."""

import runpy
from pathlib import Path

import pytest
import webtensor as tf

K = tf.keras
L = K.layers
REF = runpy.run_path(str(Path(__file__).parent / "reference" / "keras3_masked.py"))["REF"]


def _l(t):
    if isinstance(t, tf.RaggedTensor):
        return t.to_list()
    if hasattr(t, "numpy"):
        t = t.numpy()
    return t.tolist() if hasattr(t, "tolist") else t


def _flat(x):
    return [v for e in x for v in _flat(e)] if isinstance(x, (list, tuple)) else [x]


def _close(got, want, tol=2e-5):
    g, w = _flat(_l(got)), _flat(_l(want))
    assert len(g) == len(w), (len(g), len(w))
    worst = max((abs(a - b) for a, b in zip(g, w)), default=0.0)
    assert worst <= tol, f"max |diff| {worst}: {got} vs {want}"


ROWS = [[[0.5, -1.0], [0.25, 2.0], [1.5, 0.0]], [[-0.5, 1.0]], [[1.0, 1.0], [0.0, -2.0]]]


def _ragged_batch():
    return tf.ragged.constant(ROWS, ragged_rank=1)


# -- Input and symbolic calls ---------------------------------------------------------------------


def test_input_flags_and_config():
    x = K.Input(shape=[None], dtype=tf.int64, ragged=True)
    assert x.ragged and not x.sparse and x.shape == (None, None) and x.ragged_rank == 1
    s = K.Input(shape=(5,), sparse=True)
    assert s.sparse and not s.ragged
    layer = x._keras_history[0]
    assert layer.get_config()["ragged"] is True
    assert L.InputLayer.from_config(layer.get_config()).output.ragged
    with pytest.raises(ValueError, match="only one of `ragged` and `sparse`"):
        K.Input(shape=[None], ragged=True, sparse=True)
    with pytest.raises(ValueError, match="ragged .None. dimensions must come before"):
        K.Input(shape=[4, None], ragged=True)


def test_symbolic_outputs_follow_the_layers():
    x = K.Input(shape=[None], dtype="int64", ragged=True)
    e = L.Embedding(10, 4)(x)
    assert e.ragged and e.shape == (None, None, 4) and e.dtype == tf.float32
    seq = L.GRU(3, return_sequences=True)(e)
    assert seq.ragged and seq.shape == (None, None, 3)
    last = L.LSTM(5)(e)
    assert not last.ragged and last.shape == (None, 5)
    pooled = L.GlobalAveragePooling1D()(e)
    assert not pooled.ragged and pooled.shape == (None, 4)
    d = L.Dense(2)(e)
    assert d.ragged and d.shape == (None, None, 2)
    sp = K.Input(shape=(6,), sparse=True)
    y = L.Dense(3)(sp)
    assert not y.sparse and y.shape == (None, 3)
    with pytest.raises(ValueError, match=r'"conv1d.*" \(Conv1D\) cannot take its input \(ragged \(None, None, 4\)\)'):
        L.Conv1D(2, 2)(e)  # a layer that cannot take a RaggedTensor fails when the model is built
    assert L.Activation("relu")(d).ragged and L.Dropout(0.5)(d).ragged


# -- layers on RaggedTensor values -----------------------------------------------------------------


def test_embedding_maps_the_flat_values():
    ids = tf.ragged.constant([[3, 1, 4], [], [1, 5]], dtype=tf.int64)
    layer = L.Embedding(6, 2)
    out = layer(ids)
    table = layer.get_weights()[0].tolist()
    assert isinstance(out, tf.RaggedTensor) and _l(out.row_lengths()) == [3, 0, 2]
    _close(out.flat_values, [table[i] for i in (3, 1, 4, 1, 5)])


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_rnn_over_ragged_equals_each_sequence_alone(cls, go_backwards):
    tf.random.set_seed(3)
    last = getattr(L, cls)(3, go_backwards=go_backwards)
    seqs = getattr(L, cls)(3, go_backwards=go_backwards, return_sequences=True)
    rt = _ragged_batch()
    got_last, got_seqs = last(rt), seqs(rt)
    assert not isinstance(got_last, tf.RaggedTensor) and tuple(got_last.shape) == (3, 3)
    assert isinstance(got_seqs, tf.RaggedTensor) and _l(got_seqs.row_lengths()) == [3, 1, 2]
    for i, row in enumerate(ROWS):
        alone = tf.constant([row])
        _close(got_last[i], last(alone)[0])
        _close(got_seqs[i], seqs(alone)[0])


def test_rnn_over_ragged_gradients_reach_the_values():
    rt = _ragged_batch()
    layer = L.LSTM(2)
    with tf.GradientTape() as tape:
        tape.watch(rt.flat_values)
        y = tf.reduce_sum(layer(rt))
    g = tape.gradient(y, [rt.flat_values] + layer.trainable_variables)
    assert all(v is not None for v in g) and tuple(g[0].shape) == (6, 2)


def test_global_pooling_over_ragged():
    rt = _ragged_batch()
    avg = L.GlobalAveragePooling1D()(rt)
    mx = L.GlobalMaxPooling1D()(rt)
    want_avg = [[sum(c) / len(r) for c in zip(*r)] for r in ROWS]
    want_max = [[max(c) for c in zip(*r)] for r in ROWS]
    _close(avg, want_avg)
    _close(mx, want_max)


def test_activation_and_dropout_on_ragged():
    rt = tf.ragged.constant([[-1.0, 2.0], [3.0], [-4.0, 0.5, -0.5]])
    assert L.Activation("relu")(rt).to_list() == [[0.0, 2.0], [3.0], [0.0, 0.5, 0.0]]
    out = L.Dropout(0.5)(rt, training=True)
    assert _l(out.row_lengths()) == [2, 1, 3]
    assert all(v in (0.0, 2 * w) for v, w in zip(_l(out.flat_values), _l(rt.flat_values)))
    assert L.Dropout(0.5)(rt).to_list() == rt.to_list()


def test_dense_on_ragged_maps_rows():
    layer = L.Dense(2, kernel_initializer="ones", bias_initializer="ones")
    out = layer(_ragged_batch())
    assert isinstance(out, tf.RaggedTensor)
    _close(out, [[[a + b + 1.0] * 2 for a, b in r] for r in ROWS])


# -- masked (padded) input against Keras 3 ----------------------------------------------------------


@pytest.mark.parametrize("case", [c for c in REF["cases"] if c["layer"].startswith("L.")], ids=lambda c: c["layer"])
def test_masked_layers_match_keras3(case):
    layer = eval(case["layer"])
    x, mask = tf.constant(REF["x"]), tf.constant(REF["mask"])
    layer.build(tuple(x.shape))
    layer.set_weights([tf.constant(w) for w in case["weights"]])
    takes_mask = "mask" in layer.call.__code__.co_varnames
    _close(layer(x, mask=mask) if takes_mask else layer(x), case["output"], tol=1e-4)


@pytest.mark.parametrize(
    "case", [c for c in REF["cases"] if c["layer"].startswith("embedding_")], ids=lambda c: c["layer"]
)
def test_embedding_mask_zero_models_match_keras3(case):
    last = L.LSTM(3) if case["layer"] == "embedding_lstm" else L.GlobalMaxPooling1D()
    model = K.Sequential([K.Input((None,), dtype="int32"), L.Embedding(10, 4, mask_zero=True), last])
    model.set_weights([tf.constant(w) for w in case["weights"]])
    _close(model(tf.constant(case["ids"], tf.int32)), case["output"], tol=1e-4)


def test_masking_layer_matches_keras3():
    (case,) = [c for c in REF["cases"] if c["layer"] == "masking_lstm"]
    masking = L.Masking(0.0)
    model = K.Sequential([K.Input((5, 4)), masking, L.LSTM(3, return_sequences=True)])
    model.set_weights([tf.constant(w) for w in case["weights"]])
    x = tf.constant(case["x"])
    _close(model(x), case["output"], tol=1e-4)
    assert _l(masking.compute_mask(x)) == case["mask"]
    config = masking.get_config()
    assert config["mask_value"] == case["config"]["mask_value"] and set(config) == set(case["config"])
    assert L.Masking.from_config(config).mask_value == 0.0


def test_masked_and_ragged_give_the_same_rnn_result():
    """Padded ids with mask_zero and the same ids as ragged rows: one result."""
    rows = [[4, 2, 7], [1, 3], [5, 6, 2, 8, 1]]
    emb = L.Embedding(10, 4, mask_zero=True)
    rnn = L.GRU(3)
    padded = tf.constant([r + [0] * (5 - len(r)) for r in rows])
    _close(rnn(emb(padded)), rnn(emb(tf.ragged.constant(rows))))


# -- models, fit / evaluate / predict --------------------------------------------------------------


def _guide_model(buckets, relu=tf.nn.relu):
    return K.Sequential(
        [
            K.layers.Input(shape=[None], dtype=tf.int64, ragged=True),
            K.layers.Embedding(buckets, 16),
            K.layers.LSTM(32, use_bias=False),
            K.layers.Dense(32),
            K.layers.Activation(relu),
            K.layers.Dense(1),
        ]
    )


def test_ragged_tensor_guide_keras_example_trains():
    """The "Ragged tensors" guide's Keras section, unchanged."""
    tf.random.set_seed(0)
    sentences = tf.constant(
        ["What makes you think she is a witch?", "She turned me into a newt.", "A newt?", "Well, I got better."]
    )
    is_question = tf.constant([True, False, True, False])
    hash_buckets = 1000
    words = tf.strings.split(sentences, " ")
    hashed_words = tf.strings.to_hash_bucket_fast(words, hash_buckets)
    keras_model = _guide_model(hash_buckets)
    keras_model.compile(loss="binary_crossentropy", optimizer="rmsprop")
    history = keras_model.fit(hashed_words, is_question, epochs=5, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 5 and losses[-1] < losses[0]
    pred = keras_model.predict(hashed_words, verbose=0)
    assert tuple(pred.shape) == (4, 1)
    _close(pred, keras_model(hashed_words), tol=1e-5)


def test_predict_and_evaluate_batch_ragged_rows():
    tf.random.set_seed(1)
    inp = K.Input(shape=[None], dtype="int32", ragged=True)
    out = L.Dense(1)(L.GlobalAveragePooling1D()(L.Embedding(8, 3)(inp)))
    model = K.Model(inp, out)
    model.compile("sgd", "mse")
    ids = tf.ragged.constant([[1, 2, 3], [4], [5, 6], [7, 1, 1, 2], [3, 3]])
    whole = model(ids)
    _close(model.predict(ids, batch_size=2, verbose=0), whole)
    y = tf.constant([[0.5], [1.0], [0.0], [2.0], [1.5]])
    want = sum((a[0] - b[0]) ** 2 for a, b in zip(_l(whole), _l(y))) / 5
    _close(model.evaluate(ids, y, batch_size=2, verbose=0), want, tol=1e-5)
    first = model.get_weights()
    model.fit(ids, y, batch_size=2, epochs=2, shuffle=True, verbose=0)
    assert any(_flat(a.tolist()) != _flat(b.tolist()) for a, b in zip(first, model.get_weights()))


def test_data_adapter_rows_of_composites():
    from webtensor.keras.layers.ragged_support import gather_rows, slice_rows

    rt = tf.ragged.constant([[1], [2, 3], [], [4, 5, 6]])
    assert slice_rows(rt, 1, 3).to_list() == [[2, 3], []]
    assert gather_rows(rt, tf.constant([3, 0])).to_list() == [[4, 5, 6], [1]]
    st = tf.SparseTensor([[0, 1], [2, 0], [2, 3]], [1.0, 2.0, 3.0], [3, 4])
    got = gather_rows(st, tf.constant([2, 0]))
    assert _l(tf.sparse.to_dense(got)) == [[2.0, 0, 0, 3.0], [0, 1.0, 0, 0]]
    assert _l(tf.sparse.to_dense(slice_rows(st, 1, 3))) == [[0, 0, 0, 0], [2.0, 0, 0, 3.0]]


def test_dense_on_sparse_input_model():
    tf.random.set_seed(2)
    inp = K.Input(shape=(4,), sparse=True)
    model = K.Model(inp, L.Dense(2, kernel_initializer="ones", bias_initializer="zeros")(inp))
    st = tf.SparseTensor([[0, 1], [1, 0], [1, 3]], [2.0, 1.0, 5.0], [2, 4])
    _close(model(st), [[2.0, 2.0], [6.0, 6.0]])
    model.compile("sgd", "mse")
    y = tf.constant([[1.0, 1.0], [0.0, 0.0]])
    loss0 = model.evaluate(st, y, verbose=0)
    model.fit(st, y, epochs=3, batch_size=1, verbose=0)
    assert model.evaluate(st, y, verbose=0) < loss0
    _close(model.predict(st, batch_size=1, verbose=0), model(st))
    with pytest.raises(Exception, match="2-D"):
        L.Dense(2)(tf.SparseTensor([[0, 0, 0]], [1.0], [1, 2, 2]))
    seq = K.Sequential([K.Input((4,), sparse=True), L.Dense(1, kernel_initializer="ones")])
    _close(seq(st), [[2.0], [6.0]])
    _close(seq(tf.constant([[0.0, 1.0, 0.0, 3.0]])), [[4.0]])  # a dense batch to a sparse Input


def test_composites_given_to_dense_inputs_are_densified():
    """TF's rule: a dense Input densifies a RaggedTensor / SparseTensor with 0."""
    inp = K.Input(shape=(3,))
    model = K.Model(inp, L.Dense(1, kernel_initializer="ones", use_bias=False)(inp))
    _close(model(tf.ragged.constant([[1.0, 2.0], [3.0, 4.0, 5.0]])), [[3.0], [12.0]])
    _close(model(tf.SparseTensor([[0, 2]], [7.0], [2, 3])), [[7.0], [0.0]])
    rin = K.Input(shape=[None], dtype="int32", ragged=True)  # and a dense batch to a ragged Input: full rows
    pooled = K.Model(rin, L.GlobalAveragePooling1D()(L.Embedding(9, 2)(rin)))
    _close(pooled(tf.constant([[1, 2], [3, 4]])), pooled(tf.ragged.constant([[1, 2], [3, 4]])))


def test_ragged_model_saved_and_loaded(tmp_path):
    tf.random.set_seed(4)
    model = _guide_model(50, "relu")
    ids = tf.ragged.constant([[1, 2, 3], [4], [5, 6]], dtype=tf.int64)
    want = model(ids)
    path = str(tmp_path / "ragged.safetensors")
    model.save(path)
    loaded = K.models.load_model(path)
    assert loaded._input_layer.ragged and loaded.get_config()["layers"][0]["config"]["ragged"] is True
    _close(loaded(ids), want)


# -- the "Text classification" tutorial flow -------------------------------------------------------


def test_text_classification_flow_with_mask_zero():
    texts = tf.constant(["good great fun", "bad awful", "great good", "awful bad boring", "fun good", "boring bad"])
    labels = tf.constant([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    vectorize = L.TextVectorization(max_tokens=20, output_mode="int", output_sequence_length=8)
    vectorize.adapt(texts)
    tf.random.set_seed(5)
    model = K.Sequential(
        [
            K.Input((None,), dtype="int64"),
            L.Embedding(20, 8, mask_zero=True),
            L.Dropout(0.2),
            L.GlobalAveragePooling1D(),
            L.Dropout(0.2),
            L.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    ids = vectorize(texts)
    hist = model.fit(ids, labels, epochs=30, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    # the mask: padding to 8 or to 3 tokens gives the same prediction
    short = L.TextVectorization(vocabulary=vectorize.get_vocabulary()[2:], output_sequence_length=3)
    _close(model.predict(ids[:2], verbose=0), model.predict(short(texts[:2]), verbose=0), tol=1e-5)
    export = K.Sequential([vectorize, model, L.Activation("linear")])
    _close(export(tf.constant(["good great fun"])), model(ids[:1]), tol=1e-5)


def test_sequential_without_input_runs_ragged_rows():
    """A Sequential built from its first (ragged) batch runs the layers on the RaggedTensor."""
    tf.random.set_seed(6)
    ids = tf.ragged.constant([[1, 2, 3], [4], [5, 6]])
    model = K.Sequential([L.Embedding(8, 3), L.LSTM(2)])
    got = model(ids)
    for i, row in enumerate(ids.to_list()):
        _close(got[i], model.layers[1](model.layers[0](tf.constant([row])))[0])


def test_bidirectional_over_ragged_equals_each_sequence_alone():
    tf.random.set_seed(7)
    layer = L.Bidirectional(L.LSTM(2, return_sequences=True))
    rt = _ragged_batch()
    got = layer(rt)
    assert isinstance(got, tf.RaggedTensor)
    for i, row in enumerate(ROWS):
        _close(got[i], layer(tf.constant([row]))[0])


def test_fit_on_a_dataset_of_ragged_batches_and_validation_split():
    tf.random.set_seed(8)
    ids = tf.ragged.constant([[1, 2, 3], [4], [5, 6], [7, 1, 1, 2], [3, 3], [2]])
    y = tf.constant([[0.5], [1.0], [0.0], [2.0], [1.5], [1.0]])
    inp = K.Input(shape=[None], dtype="int32", ragged=True)
    model = K.Model(inp, L.Dense(1)(L.SimpleRNN(3)(L.Embedding(8, 3)(inp))))
    model.compile("sgd", "mse")
    ds = tf.data.Dataset.from_tensor_slices((ids, y)).batch(4)
    hist = model.fit(ds, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2
    _close(model.predict(ds, verbose=0), model(ids), tol=1e-5)
    hist = model.fit(ids, y, validation_split=0.5, epochs=1, batch_size=2, verbose=0)
    assert "val_loss" in hist.history


def test_bad_ragged_inputs_name_the_shapes():
    inp = K.Input(shape=[None, 4], ragged=True)
    model = K.Model(inp, L.GlobalAveragePooling1D()(inp))
    bad = tf.RaggedTensor.from_row_lengths(tf.zeros((3, 3)), [1, 2])
    with pytest.raises(ValueError, match=r"expected shape=\(None, None, 4\), found shape=\(2, None, 3\)"):
        model(bad)
    nested = tf.RaggedTensor.from_row_lengths(tf.RaggedTensor.from_row_lengths(tf.zeros((3, 2)), [1, 2]), [1, 1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="ragged_rank 1"):
        L.LSTM(2)(nested)


def test_mixed_ragged_and_dense_inputs_and_ragged_predictions():
    tf.random.set_seed(9)
    ids = K.Input(shape=[None], dtype="int32", ragged=True, name="ids")
    feats = K.Input(shape=(2,), name="feats")
    pooled = L.GlobalAveragePooling1D()(L.Embedding(8, 3)(ids))
    model = K.Model([ids, feats], L.Dense(1)(L.Concatenate()([pooled, feats])))
    rt = tf.ragged.constant([[1, 2], [3], [4, 5, 6]])
    f = tf.constant([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    whole = model([rt, f])
    _close(model.predict({"ids": rt, "feats": f}, batch_size=2, verbose=0), whole)
    for i, row in enumerate(rt.to_list()):
        _close(whole[i], model([tf.ragged.constant([row]), f[i : i + 1]])[0])
    seq = K.Model(ids, L.SimpleRNN(2, return_sequences=True)(L.Embedding(8, 3)(ids)))
    out = seq.predict(rt, batch_size=2, verbose=0)
    assert isinstance(out, tf.RaggedTensor) and _l(out.row_lengths()) == [2, 1, 3]  # TF 2 keeps it ragged
    _close(out, seq(rt))


def test_masking_makes_padding_irrelevant_in_compiled_predict():
    tf.random.set_seed(10)
    model = K.Sequential([K.Input((None, 2)), L.Masking(0.0), L.GRU(2), L.Dense(1)])
    model.compile("sgd", "mse")
    padded = tf.constant([[r[i] if i < len(r) else [0.0, 0.0] for i in range(3)] for r in ROWS])
    got = model.predict(padded, verbose=0)
    for i, row in enumerate(ROWS):
        _close(got[i], model.predict(tf.constant([row]), verbose=0)[0])
    model.fit(padded, tf.constant([[1.0], [0.0], [0.5]]), epochs=2, verbose=0)

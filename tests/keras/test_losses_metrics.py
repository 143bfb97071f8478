"""Losses and metrics against values worked out by hand (Keras 3's formulas, epsilon 1e-7)."""

import math

import pytest

import webtensor as tf
from util import assert_close

K = tf.keras
EPS = 1e-7


def test_regression_losses():
    yt, yp = [[1.0, 2.0], [0.0, -1.0]], [[1.5, 1.0], [0.0, 1.0]]
    assert_close(K.losses.MeanSquaredError()(yt, yp), ((0.25 + 1) / 2 + (0 + 4) / 2) / 2)
    assert_close(K.losses.mean_squared_error(yt, yp), [0.625, 2.0])
    assert_close(K.losses.MeanAbsoluteError()(yt, yp), ((0.5 + 1) / 2 + 2 / 2) / 2)
    # Huber(delta=1): |e| <= 1 -> e^2/2, else |e| - 1/2
    assert_close(K.losses.Huber()(yt, yp), ((0.125 + 0.5) / 2 + (0 + 1.5) / 2) / 2)
    assert_close(K.losses.Huber(delta=2.0)(yt, yp), ((0.125 + 0.5) / 2 + (0 + 2.0) / 2) / 2)
    # (N,) labels against (N, 1) predictions are expanded, as Keras does
    assert_close(K.losses.MeanSquaredError()([1.0, 2.0], [[2.0], [2.0]]), 0.5)


def test_reductions_and_sample_weight():
    yt, yp = [[1.0], [2.0], [3.0]], [[0.0], [0.0], [0.0]]
    assert_close(K.losses.MeanSquaredError(reduction="none")(yt, yp), [1.0, 4.0, 9.0])
    assert_close(K.losses.MeanSquaredError(reduction="sum")(yt, yp), 14.0)
    assert_close(K.losses.MeanSquaredError()(yt, yp, sample_weight=[1.0, 0.0, 2.0]), (1 + 18) / 3)
    with pytest.raises(ValueError, match="reduction"):
        K.losses.MeanSquaredError(reduction="avg")


def test_crossentropies_probabilities_and_logits():
    p = [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]
    labels = [0, 2]
    want = -(math.log(0.7) + math.log(0.8)) / 2
    assert_close(K.losses.SparseCategoricalCrossentropy()(labels, p), want, rtol=1e-6)
    assert_close(K.losses.CategoricalCrossentropy()([[1, 0, 0], [0, 0, 1]], p), want, rtol=1e-6)
    logits = [[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]]

    def lsm(row, i):
        return row[i] - math.log(sum(math.exp(v) for v in row))

    want_l = -(lsm(logits[0], 0) + lsm(logits[1], 2)) / 2
    assert_close(K.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits), want_l, rtol=1e-6)
    assert_close(K.losses.CategoricalCrossentropy(from_logits=True)([[1, 0, 0], [0, 0, 1]], logits), want_l, rtol=1e-6)
    # softmax outputs are scored from their logits, as Keras's TF backend does
    probs = K.activations.softmax(tf.constant(logits))
    assert_close(
        K.losses.sparse_categorical_crossentropy(labels, probs), [-lsm(logits[0], 0), -lsm(logits[1], 2)], rtol=1e-6
    )
    # label smoothing: targets (1 - s) onehot + s / C
    s = 0.1
    t = [[(1 - s) * (i == 0) + s / 3 for i in range(3)]]
    assert_close(
        K.losses.CategoricalCrossentropy(label_smoothing=s)([[1, 0, 0]], [p[0]]),
        -sum(ti * math.log(pi) for ti, pi in zip(t[0], p[0])),
        rtol=1e-6,
    )
    # ignore_class drops those samples from the sum (the divisor stays the batch size)
    assert_close(K.losses.SparseCategoricalCrossentropy(ignore_class=2)(labels, p), -math.log(0.7) / 2, rtol=1e-6)


def test_binary_crossentropy():
    yt, yp = [[1.0, 0.0]], [[0.9, 0.2]]
    per = [-math.log(0.9 + EPS), -math.log(1 - 0.2 + EPS)]
    assert_close(K.losses.BinaryCrossentropy()(yt, yp), sum(per) / 2, rtol=1e-6)
    z = [[2.0, -1.0]]
    sp = [math.log1p(math.exp(-2.0)), math.log1p(math.exp(-1.0))]  # -log sigmoid(2), -log(1 - sigmoid(-1))
    assert_close(K.losses.BinaryCrossentropy(from_logits=True)(yt, z), sum(sp) / 2, rtol=1e-6)
    sm = 0.2
    ts = [1 * (1 - sm) + 0.5 * sm, 0.1]
    want = sum(-(t * math.log(p + EPS) + (1 - t) * math.log(1 - p + EPS)) for t, p in zip(ts, [0.9, 0.2])) / 2
    assert_close(K.losses.BinaryCrossentropy(label_smoothing=sm)(yt, yp), want, rtol=1e-6)


def test_kl_divergence_and_cosine_similarity():
    yt, yp = [[0.2, 0.8]], [[0.5, 0.5]]
    assert_close(K.losses.KLDivergence()(yt, yp), 0.2 * math.log(0.4) + 0.8 * math.log(1.6), rtol=1e-6)
    a, b = [[1.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [2.0, 2.0]]
    assert_close(K.losses.CosineSimilarity()(a, b), (0.0 - 1.0) / 2, atol=1e-6)


def test_loss_strings_and_configs():
    for name, fn in (
        ("mse", K.losses.mean_squared_error),
        ("mae", K.losses.mean_absolute_error),
        ("kld", K.losses.kl_divergence),
        ("binary_crossentropy", K.losses.binary_crossentropy),
        ("cosine_similarity", K.losses.cosine_similarity),
        ("huber", K.losses.huber),
    ):
        assert K.losses.get(name) is fn
    assert isinstance(K.losses.get("SparseCategoricalCrossentropy"), K.losses.SparseCategoricalCrossentropy)
    for loss in (
        K.losses.SparseCategoricalCrossentropy(from_logits=True),
        K.losses.BinaryCrossentropy(0.1),
        K.losses.CategoricalCrossentropy(label_smoothing=0.2),
        K.losses.Huber(2.0),
    ):
        ser = K.losses.serialize(loss)
        again = K.losses.deserialize(ser)
        assert type(again) is type(loss) and K.losses.serialize(again) == ser
    assert K.losses.serialize(K.losses.SparseCategoricalCrossentropy())["config"] == {
        "name": "sparse_categorical_crossentropy",
        "reduction": "sum_over_batch_size",
        "from_logits": False,
        "ignore_class": None,
    }
    with pytest.raises(ValueError, match="Unknown loss function: 'nope'"):
        K.losses.get("nope")


# -- metrics --------------------------------------------------------------------------------------


def test_accuracy_metrics_accumulate_and_reset():
    m = K.metrics.SparseCategoricalAccuracy()
    m.update_state([0, 1, 2], [[0.9, 0.1, 0.0], [0.8, 0.1, 0.1], [0.0, 0.2, 0.8]])
    assert_close(m.result(), 2 / 3)
    m.update_state([[1]], [[0.1, 0.9, 0.0]], sample_weight=[3.0])
    assert_close(m.result(), (2 + 3) / (3 + 3))
    m.reset_state()
    assert_close(m.result(), 0.0)
    assert_close(K.metrics.CategoricalAccuracy()([[0, 1], [1, 0]], [[0.3, 0.7], [0.2, 0.8]]), 0.5)
    assert_close(K.metrics.BinaryAccuracy()([[1.0], [0.0], [1.0]], [[0.6], [0.4], [0.3]]), 2 / 3)
    assert_close(K.metrics.BinaryAccuracy(threshold=0.2)([[1.0], [0.0], [1.0]], [[0.6], [0.4], [0.3]]), 2 / 3)
    assert_close(K.metrics.Accuracy()([1, 2, 3, 4], [1, 2, 0, 4]), 0.75)
    top = K.metrics.TopKCategoricalAccuracy(k=2)
    assert_close(top([[0, 0, 1], [1, 0, 0]], [[0.1, 0.5, 0.4], [0.1, 0.5, 0.4]]), 0.5)


def test_mean_and_mse_metrics():
    m = K.metrics.Mean()
    m.update_state([1.0, 2.0, 3.0])
    m.update_state(10.0, sample_weight=2.0)
    assert_close(m.result(), (6 + 20) / 5)
    mse = K.metrics.MeanSquaredError()
    mse.update_state([[1.0, 2.0]], [[2.0, 2.0]])
    mse.update_state([[0.0, 0.0]], [[3.0, 1.0]])
    assert_close(mse.result(), (0.5 + 5.0) / 2)


def test_precision_recall():
    yt = [0, 1, 1, 1, 0, 1]
    yp = [0.1, 0.6, 0.4, 0.9, 0.7, 0.55]
    p, r = K.metrics.Precision(), K.metrics.Recall()
    p.update_state(yt, yp)
    r.update_state(yt, yp)
    # predicted positive (> 0.5): idx 1, 3, 4, 5 -> tp 3, fp 1; positives 4 -> fn 1
    assert_close(p.result(), 3 / 4)
    assert_close(r.result(), 3 / 4)
    multi = K.metrics.Precision(thresholds=[0.3, 0.8])
    multi.update_state(yt, yp)
    assert_close(multi.result(), [4 / 5, 1.0])
    cls = K.metrics.Recall(class_id=1)
    cls.update_state([[0, 1], [1, 0], [0, 1]], [[0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    assert_close(cls.result(), 0.5)


def test_auc_matches_exact_area_when_thresholds_separate_scores():
    yt = [0, 0, 1, 1, 0, 1]
    yp = [0.1, 0.35, 0.4, 0.8, 0.65, 0.9]
    # exact ROC AUC: fraction of (pos, neg) pairs ranked correctly = (2 + 3 + 3) / 9
    auc = K.metrics.AUC(num_thresholds=1001)
    auc.update_state(yt, yp)
    assert_close(auc.result(), 8 / 9, rtol=1e-4)
    pr = K.metrics.AUC(curve="PR", num_thresholds=1001)
    pr.update_state(yt, yp)
    assert 0.7 < float(pr.result()) < 1.0
    logits = K.metrics.AUC(num_thresholds=1001, from_logits=True)
    logits.update_state(yt, [math.log(p / (1 - p)) for p in yp])
    assert_close(logits.result(), 8 / 9, rtol=1e-4)


@pytest.mark.numpy
def test_auc_against_scikit_learn():
    sk = pytest.importorskip("sklearn.metrics")
    import random

    rng = random.Random(0)
    yt = [rng.random() < 0.4 for _ in range(300)]
    yp = [min(1.0, max(0.0, 0.3 * t + rng.random() * 0.7)) for t in yt]
    auc = K.metrics.AUC(num_thresholds=2000)
    auc.update_state([float(t) for t in yt], yp)
    assert abs(float(auc.result()) - sk.roc_auc_score(yt, yp)) < 2e-3
    pr = K.metrics.AUC(curve="PR", num_thresholds=2000)
    pr.update_state([float(t) for t in yt], yp)
    assert abs(float(pr.result()) - sk.average_precision_score(yt, yp)) < 0.03


def test_metric_configs_and_unknown_names():
    for m in (
        K.metrics.AUC(num_thresholds=50, curve="PR"),
        K.metrics.Precision(top_k=2),
        K.metrics.BinaryAccuracy(threshold=0.3),
        K.metrics.TopKCategoricalAccuracy(k=3),
        K.metrics.SparseCategoricalAccuracy(name="acc"),
        K.metrics.Mean(name="m"),
    ):
        ser = K.metrics.serialize(m)
        again = K.metrics.deserialize(ser)
        assert type(again) is type(m) and K.metrics.serialize(again) == ser
    assert K.metrics.serialize(K.metrics.AUC())["config"] == {
        "name": "auc",
        "dtype": "float32",
        "num_thresholds": 200,
        "curve": "ROC",
        "summation_method": "interpolation",
        "multi_label": False,
        "num_labels": None,
        "label_weights": None,
        "from_logits": False,
    }
    with pytest.raises(ValueError, match="Unknown metric: 'F1'. Valid names"):
        K.metrics.get("F1")

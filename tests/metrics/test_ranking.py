"""ROC AUC and average precision against scikit-learn (ties, weights, one-vs-rest)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st
from metric_strategies import binary_scored, close, probability_matrix, scores, weights

from modelmon import metrics as M
from modelmon.exceptions import ParameterError, UndefinedMetricWarning, ValidationError


@given(binary_scored())
def test_binary_roc_auc_and_average_precision_match_sklearn(case) -> None:
    y, s, w = case
    assert close(M.roc_auc_score(y, s, sample_weight=w), skm.roc_auc_score(y, s, sample_weight=w))
    assert close(
        M.average_precision_score(y, s, sample_weight=w),
        skm.average_precision_score(y, s, sample_weight=w),
    )


@given(data=st.data())
def test_decision_values_and_label_types(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 40))
    y = np.array(
        data.draw(st.lists(st.sampled_from(["ham", "spam"]), min_size=n, max_size=n)), dtype="<U4"
    )
    y[0], y[-1] = "ham", "spam"
    s = data.draw(scores(n, probability=False))
    # the greater label ("spam") is the positive class, as in scikit-learn
    assert close(M.roc_auc_score(y, s), skm.roc_auc_score(y, s))
    assert close(
        M.average_precision_score(y, s, pos_label="spam"),
        skm.average_precision_score(y, s, pos_label="spam"),
    )


@given(data=st.data(), average=st.sampled_from(["macro", "weighted", "micro"]))
def test_multiclass_one_vs_rest_matches_sklearn(data: st.DataObject, average: str) -> None:
    k = data.draw(st.integers(3, 4))
    n = data.draw(st.integers(2 * k, 40))
    y = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    y[:k] = np.arange(k)  # every class present
    y[k : 2 * k] = np.arange(k)
    p = data.draw(probability_matrix(n, k))
    w = data.draw(weights(n))
    if w is not None:
        w[: 2 * k] = 1.0
    ours = M.roc_auc_score(y, p, average=average, sample_weight=w)
    theirs = skm.roc_auc_score(y, p, average=average, multi_class="ovr", sample_weight=w)
    assert close(ours, theirs)
    ours = M.average_precision_score(y, p, average=average, sample_weight=w)
    theirs = skm.average_precision_score(y, p, average=average, sample_weight=w)
    assert close(ours, theirs)


def test_multiclass_labels_name_the_columns() -> None:
    y = np.array(["b", "a", "c", "a", "b", "c"])
    p = np.array(
        [
            [0.2, 0.7, 0.1],
            [0.6, 0.3, 0.1],
            [0.1, 0.2, 0.7],
            [0.5, 0.4, 0.1],
            [0.3, 0.4, 0.3],
            [0.2, 0.2, 0.6],
        ]
    )
    expected = skm.roc_auc_score(y, p, multi_class="ovr")
    assert close(M.roc_auc_score(y, p, labels=["a", "b", "c"]), expected)
    # columns given in another order
    perm = [2, 0, 1]
    assert close(M.roc_auc_score(y, p[:, perm], labels=["c", "a", "b"]), expected)


def test_two_column_probabilities_for_a_binary_target() -> None:
    y = np.array([0, 1, 1, 0, 1])
    s = np.array([0.2, 0.8, 0.4, 0.5, 0.9])
    p = np.column_stack([1 - s, s])
    assert close(M.roc_auc_score(y, p), skm.roc_auc_score(y, s))
    assert close(M.average_precision_score(y, p), skm.average_precision_score(y, s))


def test_hand_computed_auc_with_ties() -> None:
    # pairs (pos, neg): (0.5,0.5) tie -> 1/2, (0.5,0.1) win, (0.9,0.5) win, (0.9,0.1) win
    assert M.roc_auc_score([1, 0, 1, 0], [0.5, 0.5, 0.9, 0.1]) == pytest.approx(3.5 / 4)


def test_one_class_is_undefined() -> None:
    with pytest.warns(UndefinedMetricWarning, match="only one class"):
        assert math.isnan(M.roc_auc_score([1, 1, 1], [0.2, 0.4, 0.9]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(skm.roc_auc_score([1, 1, 1], [0.2, 0.4, 0.9]))
    # all positive weight on one class
    with pytest.warns(UndefinedMetricWarning, match="no negative samples"):
        assert math.isnan(M.roc_auc_score([0, 1, 1], [0.2, 0.4, 0.9], sample_weight=[0, 1, 1]))
    # AP without positives: NaN (scikit-learn returns 0.0)
    with pytest.warns(UndefinedMetricWarning, match="no positive samples"):
        assert math.isnan(M.average_precision_score([0, 0, 0], [0.2, 0.4, 0.9]))
    # AP without negatives is 1
    assert M.average_precision_score([1, 1], [0.2, 0.4]) == 1.0


def test_constant_scores() -> None:
    y = [0, 1, 0, 1, 1]
    assert M.roc_auc_score(y, [0.3] * 5) == 0.5
    assert close(M.average_precision_score(y, [0.3] * 5), skm.average_precision_score(y, [0.3] * 5))


def test_empty_and_invalid_inputs() -> None:
    with pytest.warns(UndefinedMetricWarning, match="empty input"):
        assert math.isnan(M.roc_auc_score([], []))
    with pytest.warns(UndefinedMetricWarning, match="empty input"):
        assert math.isnan(M.average_precision_score([], []))
    with pytest.raises(ValidationError, match="contains NaN"):
        M.roc_auc_score([0, 1], [0.5, np.nan])
    with pytest.raises(ValidationError, match="infinity"):
        M.roc_auc_score([0, 1], [0.5, np.inf])
    with pytest.raises(ValidationError, match="inconsistent lengths"):
        M.roc_auc_score([0, 1, 1], [0.5, 0.2])
    with pytest.raises(ValidationError, match="1-dimensional"):
        M.roc_auc_score([0, 1, 2], [0.5, 0.2, 0.3])
    with pytest.raises(ValidationError, match="sum to 1"):
        M.roc_auc_score([0, 1, 2], np.full((3, 3), 0.5))
    with pytest.raises(ValidationError, match="Number of classes"):
        M.roc_auc_score([0, 1, 2, 1], np.full((4, 4), 0.25))
    with pytest.raises(ValidationError, match="not in parameter 'labels'"):
        M.roc_auc_score([0, 1, 3], np.full((3, 3), 1 / 3), labels=[0, 1, 2])
    with pytest.raises(ParameterError, match="pos_label=3 is not a valid label"):
        M.average_precision_score([0, 1], [0.2, 0.3], pos_label=3)
    with pytest.raises(ParameterError, match="multi_class"):
        M.roc_auc_score([0, 1], [0.2, 0.3], multi_class="ovo")
    with pytest.raises(ValidationError, match="negative"):
        M.roc_auc_score([0, 1], [0.2, 0.3], sample_weight=[1, -2])

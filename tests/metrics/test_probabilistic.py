"""Log loss, Brier score and expected calibration error."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st
from metric_strategies import binary_scored, close, probability_matrix, weights
from sklearn.calibration import calibration_curve

from modelmon import metrics as M
from modelmon.exceptions import DataQualityWarning, UndefinedMetricWarning, ValidationError


@given(binary_scored())
def test_binary_log_loss_and_brier_match_sklearn(case) -> None:
    y, p, w = case
    assert close(M.log_loss(y, p, sample_weight=w), skm.log_loss(y, p, sample_weight=w))
    assert close(
        M.log_loss(y, p, sample_weight=w, normalize=False),
        skm.log_loss(y, p, sample_weight=w, normalize=False),
    )
    assert close(
        M.brier_score_loss(y, p, sample_weight=w), skm.brier_score_loss(y, p, sample_weight=w)
    )
    assert close(
        M.brier_score_loss(y, p, sample_weight=w, scale_by_half=False),
        skm.brier_score_loss(y, p, sample_weight=w, scale_by_half=False),
    )


@given(data=st.data())
def test_multiclass_log_loss_and_brier_match_sklearn(data: st.DataObject) -> None:
    k = data.draw(st.integers(2, 4))
    n = data.draw(st.integers(k, 30))
    y = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    y[:k] = np.arange(k)
    p = data.draw(probability_matrix(n, k))
    w = data.draw(weights(n))
    assert close(M.log_loss(y, p, sample_weight=w), skm.log_loss(y, p, sample_weight=w))
    assert close(
        M.brier_score_loss(y, p, sample_weight=w), skm.brier_score_loss(y, p, sample_weight=w)
    )
    # labels naming more classes than y_true holds
    labels = list(range(k + 1))
    p_extra = np.column_stack([p, np.zeros(n)])
    assert close(
        M.log_loss(y[:-1], p_extra[:-1], labels=labels),
        skm.log_loss(y[:-1], p_extra[:-1], labels=labels),
    )


def test_log_loss_single_class_zero_one_target_is_accepted() -> None:
    # scikit-learn needs labels=[0, 1] here; modelmon knows 1 is the positive class
    expected = skm.log_loss([1, 1], [0.9, 0.6], labels=[0, 1])
    assert close(M.log_loss([1, 1], [0.9, 0.6]), expected)
    assert close(M.log_loss([0, 0], [0.1, 0.3]), skm.log_loss([0, 0], [0.1, 0.3], labels=[0, 1]))
    with pytest.raises(ValidationError, match="only one label"):
        M.log_loss(["a", "a"], [0.1, 0.3])
    assert close(
        M.log_loss(["a", "a"], [0.1, 0.3], labels=["a", "b"]),
        skm.log_loss(["a", "a"], [0.1, 0.3], labels=["a", "b"]),
    )


def test_log_loss_clips_extreme_probabilities() -> None:
    value = M.log_loss([1, 0], [0.0, 1.0])
    assert math.isfinite(value)
    assert close(value, skm.log_loss([1, 0], [0.0, 1.0]))


def test_brier_positive_label_rules_follow_sklearn() -> None:
    assert close(
        M.brier_score_loss([2, 2, 2], [0.2, 0.3, 0.4]),
        skm.brier_score_loss([2, 2, 2], [0.2, 0.3, 0.4]),
    )
    assert close(M.brier_score_loss([-1, 1], [0.2, 0.7]), skm.brier_score_loss([-1, 1], [0.2, 0.7]))
    assert close(
        M.brier_score_loss(["n", "y"], [0.2, 0.7], pos_label="y"),
        skm.brier_score_loss(["n", "y"], [0.2, 0.7], pos_label="y"),
    )
    with pytest.raises(ValueError, match="pos_label"):
        M.brier_score_loss(["n", "y"], [0.2, 0.7])


def _ece_reference(conf, outcome, n_bins, strategy, w=None):
    """Straight from the definition, bin by bin: bin b holds e_b < c <= e_(b+1), outer edges open."""
    conf, outcome = np.asarray(conf, float), np.asarray(outcome, float)
    w = np.ones(conf.size) if w is None else np.asarray(w, float)
    if strategy == "uniform":
        edges = np.linspace(0, 1, n_bins + 1)
    else:
        edges = np.percentile(conf, np.linspace(0, 1, n_bins + 1) * 100)
    bounds = [-np.inf, *edges[1:-1].tolist(), np.inf]
    total = 0.0
    for lo, hi in itertools.pairwise(bounds):
        inside = (conf > lo) & (conf <= hi)
        wb = w[inside]
        if wb.sum() > 0:
            gap = np.average(outcome[inside], weights=wb) - np.average(conf[inside], weights=wb)
            total += wb.sum() * abs(gap)
    return total / w.sum()


@given(
    binary_scored(both_classes=False), st.integers(1, 12), st.sampled_from(["uniform", "quantile"])
)
def test_binary_ece_matches_calibration_curve_and_definition(case, n_bins, strategy) -> None:
    y, p, w = case
    ours = M.expected_calibration_error(y, p, n_bins=n_bins, strategy=strategy, pos_label=1)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy=strategy, pos_label=1)
    # calibration_curve drops empty bins; recover bin shares by the same binning
    if strategy == "uniform":
        edges = np.linspace(0, 1, n_bins + 1)
    else:
        edges = np.percentile(p, np.linspace(0, 1, n_bins + 1) * 100)
    ids = np.searchsorted(edges[1:-1], p)
    counts = np.bincount(ids, minlength=n_bins)
    shares = counts[counts > 0] / p.size
    assert close(ours, float(np.sum(shares * np.abs(prob_true - prob_pred))))
    if strategy == "uniform" and w is not None and w.sum() > 0:
        expected = _ece_reference(p, y == 1, n_bins, strategy, w)
        assert close(M.expected_calibration_error(y, p, n_bins=n_bins, sample_weight=w), expected)


@given(data=st.data())
def test_multiclass_ece_is_top_label_calibration(data: st.DataObject) -> None:
    k = data.draw(st.integers(2, 4))
    n = data.draw(st.integers(k, 30))
    y = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    y[:k] = np.arange(k)
    p = data.draw(probability_matrix(n, k))
    top = p.argmax(axis=1)
    expected = _ece_reference(p.max(axis=1), top == y, 10, "uniform")
    assert close(M.expected_calibration_error(y, p), expected)


def test_ece_hand_computed_and_perfect_calibration() -> None:
    # bins (0, .5], (.5, 1]: |0 - .25| * 1/2 + |1 - .8| * 1/2
    assert M.expected_calibration_error(
        [0, 0, 1, 1], [0.2, 0.3, 0.7, 0.9], n_bins=2
    ) == pytest.approx(0.225)
    assert M.expected_calibration_error([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.0


def test_edge_cases() -> None:
    for fn in (M.log_loss, M.brier_score_loss, M.expected_calibration_error):
        with pytest.warns(UndefinedMetricWarning, match="empty input"):
            assert math.isnan(fn([], []))
        with pytest.raises(ValidationError, match=r"probabilities in \[0, 1\]"):
            fn([0, 1], [0.2, 1.2])
        with pytest.raises(ValidationError, match=r"probabilities in \[0, 1\]"):
            fn([0, 1], [-0.1, 0.5])
        with pytest.raises(ValidationError, match="contains NaN"):
            fn([0, 1], [np.nan, 0.5])
        with pytest.raises(ValidationError, match="inconsistent lengths"):
            fn([0, 1, 0], [0.1, 0.5])
    assert M.log_loss([], [], normalize=False) == 0.0
    unnormalised = np.array([[0.5, 0.2, 0.1], [0.1, 0.6, 0.1], [0.2, 0.2, 0.5]])
    for fn in (M.log_loss, M.brier_score_loss, M.expected_calibration_error):
        with pytest.warns(DataQualityWarning, match="do not sum to one"):
            fn([0, 1, 2], unnormalised)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert close(M.log_loss([0, 1, 2], unnormalised), skm.log_loss([0, 1, 2], unnormalised))
    with pytest.raises(ValidationError, match="different numbers of classes"):
        M.log_loss([0, 1, 1], np.full((3, 3), 1 / 3))
    with pytest.raises(ValidationError, match="1-dimensional"):
        M.log_loss([0, 1, 2], [0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="n_bins"):
        M.expected_calibration_error([0, 1], [0.2, 0.3], n_bins=0)
    with pytest.warns(UndefinedMetricWarning, match="sum to zero"):
        assert math.isnan(M.log_loss([0, 1], [0.2, 0.3], sample_weight=[0, 0]))

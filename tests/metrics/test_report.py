"""The one-pass binary report against the separate scikit-learn and modelmon calls."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st
from metric_strategies import binary_scored, close

from modelmon import metrics as M
from modelmon.exceptions import UndefinedMetricWarning, ValidationError


def _sklearn_report(y, s, w, threshold):
    yp = (s >= threshold).astype(int)
    kw = {"sample_weight": w}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "accuracy": skm.accuracy_score(y, yp, **kw),
            "balanced_accuracy": skm.balanced_accuracy_score(y, yp, **kw),
            "precision": skm.precision_score(y, yp, zero_division=np.nan, **kw),
            "recall": skm.recall_score(y, yp, zero_division=np.nan, **kw),
            "f1": skm.f1_score(y, yp, zero_division=np.nan, **kw),
            "roc_auc": skm.roc_auc_score(y, s, **kw),
            "average_precision": skm.average_precision_score(y, s, **kw),
            "log_loss": skm.log_loss(y, s, **kw),
            "brier_score": skm.brier_score_loss(y, s, **kw),
            "confusion": skm.confusion_matrix(y, yp, labels=[0, 1], **kw),
        }


@given(binary_scored(), st.sampled_from([0.0, 0.25, 0.5, 0.9, 1.0]))
def test_report_matches_sklearn_calls(case, threshold) -> None:
    y, s, w = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = M.binary_classification_report(y, s, threshold=threshold, sample_weight=w)
    ref = _sklearn_report(y, s, w, threshold)
    for name, value in ref.items():
        if name == "confusion":
            np.testing.assert_allclose(r.confusion_matrix, value, rtol=1e-9, atol=1e-9)
        else:
            assert close(getattr(r, name), value), (name, getattr(r, name), value)


@given(binary_scored(both_classes=False), st.sampled_from([0.3, 0.5]))
def test_report_matches_modelmon_functions(case, threshold) -> None:
    y, s, w = case
    yp = (s >= threshold).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = M.binary_classification_report(y, s, threshold=threshold, sample_weight=w)
        expected = {
            "accuracy": M.accuracy_score(y, yp, sample_weight=w),
            "balanced_accuracy": M.balanced_accuracy_score(y, yp, sample_weight=w),
            "precision": M.precision_score(y, yp, sample_weight=w),
            "recall": M.recall_score(y, yp, sample_weight=w),
            "f1": M.f1_score(y, yp, sample_weight=w),
            "specificity": M.specificity_score(y, yp, sample_weight=w),
            "false_positive_rate": M.false_positive_rate(y, yp, sample_weight=w),
            "matthews_corrcoef": M.matthews_corrcoef(y, yp, sample_weight=w),
            "positive_rate": M.positive_rate(y, yp, sample_weight=w),
            "roc_auc": M.roc_auc_score(y, s, sample_weight=w),
            "average_precision": M.average_precision_score(y, s, sample_weight=w),
            "log_loss": M.log_loss(y, s, sample_weight=w),
            "brier_score": M.brier_score_loss(y, s, sample_weight=w),
        }
    for name, value in expected.items():
        assert close(getattr(r, name), value), (name, getattr(r, name), value)
    total = r.tp + r.fp + r.tn + r.fn
    assert close(total, r.total_weight)
    assert close(r.prevalence, (r.tp + r.fn) / total)


def test_report_hand_computed() -> None:
    r = M.binary_classification_report([0, 0, 1, 1], [0.1, 0.6, 0.35, 0.8])
    assert (r.tn, r.fp, r.fn, r.tp) == (1.0, 1.0, 1.0, 1.0)
    assert r.accuracy == 0.5
    assert r.roc_auc == 0.75
    assert r.n_samples == 4
    assert r.to_dict()["roc_auc"] == 0.75


def test_report_label_types_and_two_columns() -> None:
    y = np.array(["no", "yes", "yes", "no"])
    s = np.array([0.2, 0.7, 0.4, 0.6])
    r = M.binary_classification_report(y, s, pos_label="yes")
    assert r.tp == 1.0
    assert r.fp == 1.0
    with pytest.raises(ValueError, match="pos_label"):
        M.binary_classification_report(y, s)
    r2 = M.binary_classification_report([0, 1, 1, 0], np.column_stack([1 - s, s]))
    assert close(r2.roc_auc, skm.roc_auc_score([0, 1, 1, 0], s))
    rb = M.binary_classification_report(np.array([False, True, True, False]), s)
    assert close(rb.roc_auc, r2.roc_auc)


def test_report_edge_cases() -> None:
    with pytest.warns(UndefinedMetricWarning, match="empty input"):
        r = M.binary_classification_report([], [])
    assert r.n_samples == 0
    assert math.isnan(r.accuracy)
    assert math.isnan(r.roc_auc)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        r = M.binary_classification_report([1, 1, 1], [0.9, 0.2, 0.6])
    messages = [str(x.message) for x in rec if x.category is UndefinedMetricWarning]
    assert any("no negative samples" in m for m in messages)
    assert any("Matthews" in m and "zero_division=" in m for m in messages)
    assert math.isnan(r.roc_auc)
    assert r.average_precision == 1.0
    assert r.recall == pytest.approx(2 / 3)
    with pytest.warns(UndefinedMetricWarning, match="sum to zero"):
        r = M.binary_classification_report([0, 1], [0.2, 0.8], sample_weight=[0, 0])
    assert math.isnan(r.accuracy)
    with pytest.raises(ValidationError, match="binary targets only"):
        M.binary_classification_report([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValidationError, match=r"probabilities in \[0, 1\]"):
        M.binary_classification_report([0, 1], [0.1, 1.3])
    with pytest.raises(ValidationError, match="contains NaN"):
        M.binary_classification_report([0, 1], [0.1, np.nan])
    with pytest.raises(ValidationError, match="inconsistent lengths"):
        M.binary_classification_report([0, 1], [0.1])
    with pytest.raises(ValidationError, match="two columns"):
        M.binary_classification_report([0, 1], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="threshold"):
        M.binary_classification_report([0, 1], [0.1, 0.2], threshold=float("nan"))

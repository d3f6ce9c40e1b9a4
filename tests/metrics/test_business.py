"""Business metrics: conversion and revenue."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st
from metric_strategies import close, weights

from modelmon import metrics as M
from modelmon.exceptions import UndefinedMetricWarning, ValidationError


@given(data=st.data())
def test_conversion_metrics_match_definitions(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 40))
    y = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    p = np.array(
        data.draw(st.lists(st.sampled_from([0.0, 0.2, 0.5, 0.7, 1.0]), min_size=n, max_size=n))
    )
    w = data.draw(weights(n))
    assert close(M.conversion_rate(y, sample_weight=w), np.average(y, weights=w))
    pred = (p >= 0.5).astype(int)
    assert close(
        M.conversion_prediction_accuracy(y, p, sample_weight=w),
        skm.accuracy_score(y, pred, sample_weight=w),
    )
    ww = np.ones(n) if w is None else w
    if ww[y == 1].sum() > 0:
        assert close(
            M.conversion_prediction_accuracy(y, p, on="converted", sample_weight=w),
            skm.recall_score(y, pred, sample_weight=w),
        )
    if ww[y == 0].sum() > 0:
        assert close(
            M.conversion_prediction_accuracy(y, p, on="non_converted", sample_weight=w),
            skm.recall_score(1 - y, 1 - pred, sample_weight=w),
        )


@given(data=st.data())
def test_revenue_totals_and_accuracy(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 30))
    money = st.floats(0, 1e4, allow_nan=False, allow_infinity=False)
    y = np.array(data.draw(st.lists(money, min_size=n, max_size=n)))
    p = np.array(data.draw(st.lists(money, min_size=n, max_size=n)))
    w = data.draw(weights(n))
    ww = np.ones(n) if w is None else w
    real, pred = float(np.dot(y, ww)), float(np.dot(p, ww))
    assert close(M.realised_revenue(y, sample_weight=w), real)
    assert close(M.predicted_revenue(y, p, sample_weight=w), pred)
    assert close(M.predicted_revenue(None, p, sample_weight=w), pred)
    if real != 0:
        assert close(M.revenue_accuracy(y, p, sample_weight=w), 1 - abs(pred - real) / abs(real))


def test_revenue_accuracy_zero_policy_and_hand_values() -> None:
    assert M.revenue_accuracy([100.0, 50.0], [90.0, 75.0]) == pytest.approx(0.9)
    assert M.revenue_accuracy([100.0], [300.0]) == pytest.approx(-1.0)  # not clipped
    assert M.revenue_accuracy([0.0, 0.0], [0.0, 0.0]) == 1.0
    with pytest.warns(UndefinedMetricWarning, match="realised revenue is 0"):
        assert math.isnan(M.revenue_accuracy([0.0], [5.0]))
    # refunds: a negative realised total is measured on its magnitude
    assert M.revenue_accuracy([-100.0], [-80.0]) == pytest.approx(0.8)


def test_business_edge_cases() -> None:
    with pytest.warns(UndefinedMetricWarning, match="empty input"):
        assert math.isnan(M.conversion_rate([]))
    with pytest.warns(UndefinedMetricWarning, match="empty input"):
        assert math.isnan(M.conversion_prediction_accuracy([], []))
    with pytest.warns(UndefinedMetricWarning, match="empty input"):
        assert math.isnan(M.revenue_accuracy([], []))
    assert M.predicted_revenue([], []) == 0.0
    assert M.realised_revenue([]) == 0.0
    with pytest.warns(UndefinedMetricWarning, match="no such row"):
        assert math.isnan(M.conversion_prediction_accuracy([0, 0], [0.1, 0.9], on="converted"))
    with pytest.raises(ValidationError, match="0/1"):
        M.conversion_rate([0, 2])
    with pytest.raises(ValidationError, match="inconsistent lengths"):
        M.conversion_rate([0, 1], [0.5])
    with pytest.raises(ValidationError, match="contains NaN"):
        M.revenue_accuracy([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="'on' parameter"):
        M.conversion_prediction_accuracy([0, 1], [0.1, 0.9], on="both")

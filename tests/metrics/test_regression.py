"""Regression metrics against scikit-learn, NumPy and SciPy, and their edge cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.stats
import sklearn.metrics as skm
from hypothesis import assume, given
from hypothesis import strategies as st
from metric_strategies import close, regression_pairs, weights

from modelmon import metrics as M
from modelmon.exceptions import UndefinedMetricWarning, ValidationError


@given(data=st.data())
def test_errors_match_sklearn(data: st.DataObject) -> None:
    yt, yp = data.draw(regression_pairs())
    w = data.draw(weights(yt.size))
    kw = {"sample_weight": w}
    assert close(M.mean_squared_error(yt, yp, **kw), skm.mean_squared_error(yt, yp, **kw))
    assert close(M.root_mean_squared_error(yt, yp, **kw), skm.root_mean_squared_error(yt, yp, **kw))
    assert close(M.mean_absolute_error(yt, yp, **kw), skm.mean_absolute_error(yt, yp, **kw))
    assert close(M.max_error(yt, yp), skm.max_error(yt, yp))
    assert close(
        M.mean_absolute_percentage_error(yt, yp, zero_policy="epsilon", **kw),
        skm.mean_absolute_percentage_error(yt, yp, **kw),
    )


@given(data=st.data())
def test_median_absolute_error_matches_sklearn(data: st.DataObject) -> None:
    yt, yp = data.draw(regression_pairs())
    # dyadic weights keep cumulative sums exact, so the "exactly half" rule is not decided by
    # the order in which two implementations add
    w = data.draw(
        st.none()
        | st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 4.0]), min_size=yt.size, max_size=yt.size)
        .map(np.array)
        .filter(lambda a: a.sum() > 0)
    )
    assert close(
        M.median_absolute_error(yt, yp, sample_weight=w),
        skm.median_absolute_error(yt, yp, sample_weight=w),
    )


@given(data=st.data())
def test_r2_matches_sklearn(data: st.DataObject) -> None:
    yt, yp = data.draw(regression_pairs(min_size=2))
    w = data.draw(weights(yt.size))
    theirs = skm.r2_score(yt, yp, sample_weight=w)
    weighted = yt if w is None else yt[w > 0]
    if weighted.min() == weighted.max():
        # y_true constant where it counts: the total sum of squares is 0, though scikit-learn's
        # weighted mean may round off the value and leave 1e-36 (R2 = -6e31)
        theirs = 1.0 if np.array_equal(yt[w > 0] if w is not None else yt,
                                       yp[w > 0] if w is not None else yp) else 0.0
    assert close(M.r2_score(yt, yp, sample_weight=w, force_finite=True), theirs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = M.r2_score(yt, yp, sample_weight=w)
    if math.isnan(ours):
        ww = np.ones(yt.size) if w is None else w
        mean = np.average(yt, weights=ww)
        assert np.sum(ww * (yt - mean) ** 2) == 0.0
    else:
        assert close(ours, theirs)


@given(data=st.data())
def test_mape_exclude_policy_is_the_mean_over_non_zero_actuals(data: st.DataObject) -> None:
    yt, yp = data.draw(regression_pairs())
    yt[: data.draw(st.integers(0, yt.size))] = 0.0
    n_zero = int((yt == 0).sum())
    w = data.draw(weights(yt.size))
    keep = yt != 0
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        ours = M.mean_absolute_percentage_error(yt, yp, sample_weight=w)
    warned = [str(r.message) for r in rec if issubclass(r.category, UndefinedMetricWarning)]
    ww = np.ones(yt.size) if w is None else w
    if not keep.any() or ww[keep].sum() == 0:
        assert math.isnan(ours)
        assert warned
        return
    with np.errstate(over="ignore", invalid="ignore"):
        expected = np.average(np.abs(yp[keep] - yt[keep]) / np.abs(yt[keep]), weights=ww[keep])
    if not np.isfinite(expected):
        # a subnormal actual: the ratio leaves the float range -> NaN with a warning, never inf
        assert math.isnan(ours)
        assert any("overflowed" in m for m in warned)
        return
    assert close(ours, expected)
    if n_zero:
        assert any(f"{n_zero} of {yt.size} rows have y_true == 0" in m for m in warned)
        assert any("zero_policy=" in m for m in warned)
    else:
        assert not warned


@given(data=st.data())
def test_smape_matches_definition(data: st.DataObject) -> None:
    yt, yp = data.draw(regression_pairs())
    w = data.draw(weights(yt.size))
    terms = []
    for a, f in zip(yt, yp, strict=True):
        terms.append(0.0 if a == f == 0 else 2 * abs(f - a) / (abs(a) + abs(f)))
    expected = np.average(terms, weights=w)
    assert close(M.symmetric_mean_absolute_percentage_error(yt, yp, sample_weight=w), expected)
    assert 0.0 <= M.symmetric_mean_absolute_percentage_error(yt, yp) <= 2.0


@given(data=st.data())
def test_bias_and_residual_statistics(data: st.DataObject) -> None:
    yt, yp = data.draw(regression_pairs(min_size=2))
    w = data.draw(weights(yt.size))
    r = yt - yp
    assert close(M.mean_error(yt, yp, sample_weight=w), np.average(yp - yt, weights=w))
    assert close(M.residual_mean(yt, yp, sample_weight=w), -M.mean_error(yt, yp, sample_weight=w))
    for ddof in (0, 1):
        assert close(M.residual_std(yt, yp, ddof=ddof), np.std(r, ddof=ddof))
    fw = data.draw(st.lists(st.integers(0, 4), min_size=yt.size, max_size=yt.size).map(np.array))
    assume(fw.sum() > 1)
    expected = math.sqrt(np.cov(r, fweights=fw, ddof=1))
    assert close(M.residual_std(yt, yp, sample_weight=fw.astype(float)), expected)


@given(data=st.data())
def test_skewness_and_kurtosis_match_scipy(data: st.DataObject) -> None:
    yt, yp = data.draw(regression_pairs(min_size=4))
    r = yt - yp
    # well-conditioned residuals: the comparison is about the estimator, not cancellation
    assume(np.std(r) > 1e-3 * max(1.0, float(np.max(np.abs(r)))))
    for bias in (True, False):
        assert close(M.residual_skewness(yt, yp, bias=bias), scipy.stats.skew(r, bias=bias))
        for fisher in (True, False):
            assert close(
                M.residual_kurtosis(yt, yp, fisher=fisher, bias=bias),
                scipy.stats.kurtosis(r, fisher=fisher, bias=bias),
            )


REGRESSION = [
    M.mean_squared_error,
    M.root_mean_squared_error,
    M.mean_absolute_error,
    M.median_absolute_error,
    M.max_error,
    M.r2_score,
    M.mean_absolute_percentage_error,
    M.symmetric_mean_absolute_percentage_error,
    M.mean_error,
    M.residual_mean,
    M.residual_std,
    M.residual_skewness,
    M.residual_kurtosis,
]


@pytest.mark.parametrize("fn", REGRESSION)
def test_edge_cases_for_every_regression_metric(fn) -> None:
    with pytest.warns(UndefinedMetricWarning, match="empty input"):
        assert math.isnan(fn([], []))
    with pytest.raises(ValidationError, match="inconsistent lengths"):
        fn([1.0, 2.0], [1.0])
    with pytest.raises(ValidationError, match="contains NaN"):
        fn([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValidationError, match="infinity"):
        fn([1.0, 2.0], [np.inf, 2.0])
    with pytest.raises(ValidationError, match="numeric"):
        fn(["a", "b"], [1.0, 2.0])


def test_constant_and_tiny_inputs() -> None:
    with pytest.warns(UndefinedMetricWarning, match="less than two samples"):
        assert math.isnan(M.r2_score([1.0], [2.0]))
    with pytest.warns(UndefinedMetricWarning, match="force_finite=True"):
        assert math.isnan(M.r2_score([3.0, 3.0, 3.0], [3.0, 2.0, 4.0]))
    assert M.r2_score([3.0, 3.0], [3.0, 2.0], force_finite=True) == skm.r2_score(
        [3.0, 3.0], [3.0, 2.0]
    )
    assert M.r2_score([3.0, 3.0], [3.0, 3.0], force_finite=True) == 1.0
    with pytest.warns(UndefinedMetricWarning, match="ddof"):
        assert math.isnan(M.residual_std([1.0], [0.0]))
    with pytest.warns(UndefinedMetricWarning, match="constant"):
        assert math.isnan(M.residual_skewness([1.0, 2.0, 3.0], [0.0, 1.0, 2.0]))
    with pytest.warns(UndefinedMetricWarning, match="constant"):
        assert math.isnan(M.residual_kurtosis([5.0, 5.0], [1.0, 1.0]))
    with pytest.warns(UndefinedMetricWarning, match="bias=True"):
        assert math.isnan(M.residual_skewness([1.0, 5.0], [0.0, 0.0], bias=False))
    assert M.mean_absolute_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    with pytest.warns(UndefinedMetricWarning, match="sum to zero"):
        assert math.isnan(M.median_absolute_error([1.0, 2.0], [0.0, 0.0], sample_weight=[0, 0]))


def test_mape_zero_policies() -> None:
    yt, yp = [0.0, 100.0, 50.0], [5.0, 90.0, 50.0]
    with pytest.warns(UndefinedMetricWarning, match="1 of 3 rows have y_true == 0"):
        assert M.mean_absolute_percentage_error(yt, yp) == pytest.approx(0.05)
    eps_value = M.mean_absolute_percentage_error(yt, yp, zero_policy="epsilon")
    assert math.isfinite(eps_value)
    assert eps_value > 1e15
    assert eps_value == skm.mean_absolute_percentage_error(yt, yp)
    with pytest.raises(ValidationError, match="zero_policy="):
        M.mean_absolute_percentage_error(yt, yp, zero_policy="raise")
    with pytest.warns(UndefinedMetricWarning, match="every value of y_true is 0"):
        assert math.isnan(M.mean_absolute_percentage_error([0.0, 0.0], [1.0, 0.0]))
    with pytest.raises(ValueError, match="zero_policy"):
        M.mean_absolute_percentage_error(yt, yp, zero_policy="ignore")


def test_mape_overflow_is_undefined_not_inf() -> None:
    with pytest.warns(UndefinedMetricWarning, match="overflowed"):
        assert math.isnan(M.mean_absolute_percentage_error([5e-324, 1.0], [1.0, 1.0]))
    agg = M.MeanAbsolutePercentageError().update(5e-324, 1.0)
    with pytest.warns(UndefinedMetricWarning, match="overflowed"):
        assert math.isnan(agg.get())


def test_smape_zero_handling() -> None:
    assert M.symmetric_mean_absolute_percentage_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert M.symmetric_mean_absolute_percentage_error([0.0], [3.0]) == 2.0

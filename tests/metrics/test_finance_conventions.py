"""Finance statistics against empyrical-reloaded and quantstats on random returns; the IPO
metrics as the valuation platform defines them; the threshold parser."""

from __future__ import annotations

import math
import warnings

import empyrical as ep
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from modelmon import metrics as M
from modelmon.exceptions import ParameterError, UndefinedMetricWarning

warnings.filterwarnings("ignore", module="quantstats")
qs = pytest.importorskip("quantstats")

# returns below 1e-12 in size are 0: squares of far smaller ones underflow, and the reference
# libraries then disagree on what an all-zero downside deviation gives (inf or NaN)
returns_ = st.lists(
    st.floats(-0.3, 0.3, allow_nan=False, allow_infinity=False).map(
        lambda x: 0.0 if abs(x) < 1e-12 else x), min_size=5, max_size=60
).map(np.array)
periods_ = st.sampled_from([12, 52, 252])


def _series(r: np.ndarray) -> pd.Series:
    return pd.Series(r, index=pd.bdate_range("2020-01-01", periods=r.size))


@settings(max_examples=60, deadline=None)
@given(returns_, periods_, st.sampled_from([0.0, 0.03]))
def test_ratios_equal_empyrical(r, q, rf) -> None:
    assume(np.std(r, ddof=1) > 1e-6)
    rf_period = (1 + rf) ** (1 / q) - 1
    s = _series(r)
    assert M.sharpe_ratio(r, risk_free_rate=rf, periods_per_year=q) == pytest.approx(
        ep.sharpe_ratio(s, risk_free=rf_period, period="daily", annualization=q), rel=1e-9)
    assume((r - rf_period < 0).any())
    assert M.sortino_ratio(r, risk_free_rate=rf, periods_per_year=q) == pytest.approx(
        ep.sortino_ratio(s, required_return=rf_period, annualization=q), rel=1e-9)
    assert M.annual_volatility(r, periods_per_year=q) == pytest.approx(
        ep.annual_volatility(s, annualization=q), rel=1e-9)
    assert M.annual_return(r, periods_per_year=q) == pytest.approx(
        ep.annual_return(s, annualization=q), rel=1e-9, abs=1e-12)
    # empyrical does not count the starting value as a peak: a leading zero return makes it one
    padded = _series(np.r_[0.0, r])
    assert M.max_drawdown_signed(r) == pytest.approx(ep.max_drawdown(padded), abs=1e-12)
    assert M.max_drawdown(r) == pytest.approx(-ep.max_drawdown(padded), abs=1e-12)
    assume(M.max_drawdown(r) > 1e-9)
    expected_calmar = ep.annual_return(s, annualization=q) / -ep.max_drawdown(padded)
    assert M.calmar_ratio(r, periods_per_year=q) == pytest.approx(expected_calmar, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(returns_, returns_, periods_)
def test_information_ratio_equals_empyrical_excess_sharpe(r, b, q) -> None:
    n = min(r.size, b.size)
    r, b = r[:n], b[:n]
    assume(np.std(r - b, ddof=1) > 1e-6)
    expected = ep.excess_sharpe(r, b) * math.sqrt(q)
    assert M.information_ratio(r, benchmark=b, periods_per_year=q) == pytest.approx(
        expected, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(returns_)
def test_statistics_equal_quantstats(r) -> None:
    assume(np.std(r, ddof=1) > 1e-6)
    s = _series(r)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert M.sharpe_ratio(r) == pytest.approx(qs.stats.sharpe(s), rel=1e-9)
        assert M.max_drawdown_signed(r) == pytest.approx(qs.stats.max_drawdown(s), abs=1e-12)
        assert M.annual_volatility(r) == pytest.approx(qs.stats.volatility(s), rel=1e-9)
        if (r < 0).any():
            assert M.sortino_ratio(r) == pytest.approx(qs.stats.sortino(s), rel=1e-9)
        nonzero = r[r != 0]
        if nonzero.size:
            # quantstats' win rate is modelmon's per-period hit rate of a return series
            assert M.hit_rate(nonzero) == pytest.approx(qs.stats.win_rate(s), abs=1e-12)


def test_sortino_and_calmar_undefined_cases() -> None:
    with pytest.warns(UndefinedMetricWarning, match="downside"):
        assert math.isnan(M.sortino_ratio([0.01, 0.02]))
    with pytest.warns(UndefinedMetricWarning, match="no drawdown"):
        assert math.isnan(M.calmar_ratio([0.01, 0.02]))
    assert M.annual_return([-1.0, 0.5]) == -1.0


def test_trade_hit_rate_counts_round_trips() -> None:
    r = np.array([0.02, -0.01, 0.01, -0.03, 0.01, 0.05])
    p = np.array([1, 1, -1, -1, 0, 1])
    # trades: long (1.02 * 0.99), short (0.99 * 1.03), flat, long (1.05)
    assert M.trade_hit_rate(r, p) == 1.0
    r2 = np.array([0.05, -0.06, 0.0])
    assert M.trade_hit_rate(r2, [1, 1, 1]) == 0.0  # 1.05 * 0.94 < 1: one losing trade
    assert M.hit_rate(r2, [1, 1, 1]) == pytest.approx(1 / 3)
    # long only: two trades, +5 % and 0 % (not a hit)
    assert M.trade_hit_rate(r2, [1, -1, 1], position="long_only") == 0.5


def test_ipo_metrics_as_the_platform_defines_them() -> None:
    actual = np.array([10.0, 12.0, 8.0, 20.0])
    valued = np.array([11.0, 11.0, 9.0, 20.0])
    assert M.overvaluation_rate(actual, valued) == 0.5
    assert M.overvaluation_rate(actual, valued, sample_weight=[1, 0, 1, 0]) == 1.0
    mape = M.mean_absolute_percentage_error(actual, valued)
    assert M.valuation_mape(actual, valued) == pytest.approx(100 * mape)
    with pytest.warns(UndefinedMetricWarning, match="excluded from valuation_mape"):
        assert M.valuation_mape([0.0, 10.0], [1.0, 11.0]) == pytest.approx(10.0)
    u_true, u_pred = [0.15, -0.05, 0.0, 0.30], [0.12, 0.02, 0.0, 0.20]
    assert M.first_day_return_accuracy(u_true, u_pred) == 0.5
    assert M.first_day_return_accuracy(u_true, u_pred, tolerance="10%") == 1.0
    assert M.first_day_return_accuracy(u_true, u_pred, tolerance=0.0) == 0.25
    with pytest.raises(ParameterError, match="tolerance"):
        M.first_day_return_accuracy(u_true, u_pred, tolerance="-1%")
    # the registry knows each new name with its direction
    assert M.get_metric("overvaluation_rate").target == 0.5
    assert M.get_metric("max_drawdown_signed").direction is M.Direction.HIGHER
    assert M.get_metric("valuation_mape").direction is M.Direction.LOWER


@pytest.mark.parametrize(("text", "unit", "expected"), [
    ("15%", "fraction", 0.15), ("15 %", "fraction", 0.15), (0.15, "fraction", 0.15),
    ("0.15", "fraction", 0.15), ("15%", "percent", 15.0), (0.15, "percent", 15.0),
    ("10bp", "fraction", 0.001), ("10 bps", "percent", 0.1), ("-2.5%", "fraction", -0.025),
    (1, "fraction", 1.0), ("1e-2", "fraction", 0.01), (".5%", "fraction", 0.005),
])
def test_parse_threshold(text, unit, expected) -> None:
    assert M.parse_threshold(text, unit=unit) == expected


@pytest.mark.parametrize("bad", ["15", "fifteen", "15%%", "", True, float("nan"), "%15"])
def test_parse_threshold_rejects(bad) -> None:
    if bad == "15":  # a numeric string is a fraction, not a mistake
        assert M.parse_threshold(bad) == 15.0
        return
    with pytest.raises(ParameterError, match="threshold"):
        M.parse_threshold(bad)


def test_metric_units() -> None:
    assert M.metric_unit("valuation_mape") == "percent"
    assert M.parse_threshold("15%", unit=M.metric_unit("valuation_mape")) == 15.0
    assert M.parse_threshold("15%", unit=M.metric_unit("mape")) == 0.15

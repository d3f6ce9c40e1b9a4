"""Finance metrics against straightforward NumPy formulations and hand-computed cases."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from metric_strategies import close

from modelmon import metrics as M
from modelmon.exceptions import ParameterError, UndefinedMetricWarning, ValidationError

returns_ = st.lists(
    st.one_of(
        st.sampled_from([0.0, 0.01, -0.01, 0.02]),
        st.floats(-0.5, 0.5, allow_nan=False, allow_infinity=False),
    ),
    min_size=3,
    max_size=40,
).map(np.array)


@st.composite
def paired_returns(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    r = draw(returns_)
    p = np.array(
        draw(st.lists(st.sampled_from([-0.02, 0.0, 0.01, 0.03]), min_size=r.size, max_size=r.size))
    )
    return r, p


def _loop_strategy(r: np.ndarray, p: np.ndarray, position: str) -> np.ndarray:
    out = []
    for realised, predicted in zip(r, p, strict=True):
        if position == "sign":
            pos = 1.0 if predicted > 0 else -1.0 if predicted < 0 else 0.0
        else:
            pos = 1.0 if predicted > 0 else 0.0
        out.append(pos * realised)
    return np.array(out)


@given(paired_returns(), st.sampled_from(["sign", "long_only"]))
def test_strategy_returns_match_a_loop(case, position) -> None:
    r, p = case
    np.testing.assert_allclose(
        M.strategy_returns(r, p, position=position), _loop_strategy(r, p, position)
    )
    np.testing.assert_array_equal(M.strategy_returns(r), r)


@given(paired_returns(), st.sampled_from([1, 12, 52, 252]), st.sampled_from([0.0, 0.02, 0.05]))
def test_sharpe_and_information_ratio_match_numpy(case, periods, rf) -> None:
    r, p = case
    strat = _loop_strategy(r, p, "sign")
    excess = strat - ((1 + rf) ** (1 / periods) - 1)
    assume(np.std(excess, ddof=1) > 1e-9)
    expected = np.mean(excess) / np.std(excess, ddof=1) * np.sqrt(periods)
    got = M.sharpe_ratio(r, p, risk_free_rate=rf, periods_per_year=periods)
    assert close(got, expected)
    assume(np.std(r, ddof=0) > 1e-9)
    plain = (np.mean(r) - ((1 + rf) ** (1 / periods) - 1)) / np.std(r, ddof=0) * np.sqrt(periods)
    assert close(M.sharpe_ratio(r, risk_free_rate=rf, periods_per_year=periods, ddof=0), plain)
    active = strat - r
    assume(np.std(active, ddof=1) > 1e-9)
    expected_ir = np.mean(active) / np.std(active, ddof=1) * np.sqrt(periods)
    assert close(M.information_ratio(r, p, periods_per_year=periods), expected_ir)
    assert close(M.information_ratio(strat, benchmark=r, periods_per_year=periods), expected_ir)


@given(returns_)
def test_max_drawdown_matches_a_loop(r) -> None:
    r = np.maximum(r, -1.0)
    equity, peak, worst = 1.0, 1.0, 0.0
    for x in r:
        equity *= 1 + x
        peak = max(peak, equity)
        worst = max(worst, 1 - equity / peak)
    assert close(M.max_drawdown(r), worst)
    assert 0.0 <= M.max_drawdown(r) <= 1.0


def test_max_drawdown_hand_computed() -> None:
    # equity 1.1, 0.88, 0.924, 0.8316, 1.08108: trough 0.8316 under the peak 1.1
    assert M.max_drawdown([0.1, -0.2, 0.05, -0.1, 0.3]) == pytest.approx(1 - 0.8316 / 1.1)
    assert M.max_drawdown([-0.5]) == pytest.approx(0.5)  # the start counts as a peak
    assert M.max_drawdown([0.1, 0.2]) == 0.0
    assert M.max_drawdown([-1.0, 0.5]) == 1.0
    with pytest.raises(ValidationError, match=">= -1"):
        M.max_drawdown([-1.5])


@given(paired_returns())
def test_hit_rate_profit_loss_and_direction_match_loops(case) -> None:
    r, p = case
    strat = _loop_strategy(r, p, "sign")
    traded = strat[p != 0]
    if traded.size:
        assert close(M.hit_rate(r, p), np.mean(traded > 0))
    gains, losses = traded[traded > 0], traded[traded < 0]
    if losses.size and gains.size:
        with np.errstate(over="ignore"):
            expected = gains.mean() / -losses.mean()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            got = M.profit_loss_ratio(r, p)
        assert close(got, expected) if np.isfinite(expected) else math.isnan(got)
    same = [np.sign(a) == np.sign(b) for a, b in zip(r, p, strict=True)]
    assert close(M.directional_accuracy(r, p), np.mean(same))
    assert close(M.first_day_return_sign_accuracy(r, p), np.mean(same))


def test_directional_accuracy_levels_and_weights() -> None:
    y = [100.0, 102.0, 101.0, 103.0]
    f = [0.0, 101.0, 103.0, 104.0]
    assert M.directional_accuracy(y, f, kind="level") == pytest.approx(2 / 3)
    assert M.directional_accuracy(y, f, kind="level", sample_weight=[9, 1, 2, 1]) == pytest.approx(
        2 / 4
    )
    assert M.directional_accuracy([0.1, -0.1], [0.2, 0.3], sample_weight=[3, 1]) == 0.75
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(M.directional_accuracy([1.0], [1.0], kind="level"))


def test_hit_rate_and_profit_loss_edge_cases() -> None:
    assert M.hit_rate([0.01, -0.02, 0.03, 0.01], [1, -1, -1, 0]) == pytest.approx(2 / 3)
    assert M.hit_rate([0.01, -0.02, 0.0], position="sign") == pytest.approx(1 / 3)
    with pytest.warns(UndefinedMetricWarning, match="no trades"):
        assert math.isnan(M.hit_rate([0.01, 0.02], [0.0, 0.0]))
    assert M.profit_loss_ratio([0.02, -0.01, 0.04, -0.03]) == pytest.approx(1.5)
    assert M.profit_loss_ratio([-0.02, -0.01]) == 0.0
    with pytest.warns(UndefinedMetricWarning, match="no losing trades"):
        assert math.isnan(M.profit_loss_ratio([0.02, 0.01]))
    assert M.hit_rate([0.01, -0.02], [1, 1], position="long_only") == 0.5


def _exact_var_es(loss: np.ndarray, w: np.ndarray, level: float) -> tuple[float, float]:
    """Quantile function of the weighted empirical distribution, integrated exactly."""
    order = np.argsort(loss, kind="stable")
    ls, ws = loss[order], [Fraction(int(x)) for x in w[order]]
    total = sum(ws)
    # the decimal the caller meant (0.8 is 4/5, not the binary double just above it)
    alpha = Fraction(level).limit_denominator(10**6)
    cum = Fraction(0)
    var = None
    es = Fraction(0)
    for value, weight in zip(ls, ws, strict=True):
        lo, hi = cum / total, (cum + weight) / total
        cum += weight
        if var is None and hi >= alpha and weight > 0:
            var = float(value)
        # share of this atom above the level
        overlap = max(Fraction(0), hi - max(lo, alpha))
        es += overlap * Fraction(float(value))
    return float(var), float(es / (1 - alpha))


@given(
    st.lists(st.integers(-30, 30), min_size=1, max_size=30).map(lambda v: np.array(v, float)),
    st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.975, 0.99]),
    st.booleans(),
    st.data(),
)
def test_var_and_es_match_exact_quantile_integration(loss, level, weighted, data) -> None:
    w = (
        np.array(
            data.draw(st.lists(st.integers(0, 4), min_size=loss.size, max_size=loss.size)), float
        )
        if weighted
        else np.ones(loss.size)
    )
    assume(w.sum() > 0)
    var, es = _exact_var_es(loss, w, level)
    zeros = np.zeros(loss.size)
    kw = {"level": level, "sample_weight": w if weighted else None}
    assert close(M.value_at_risk(zeros, loss, **kw), var)
    assert close(M.expected_shortfall(zeros, loss, **kw), es)
    assert M.expected_shortfall(zeros, loss, **kw) >= M.value_at_risk(zeros, loss, **kw) - 1e-12
    if not weighted:
        expected = np.quantile(loss, level, method="inverted_cdf")
        assert close(M.value_at_risk(zeros, loss, level=level), expected)


def test_var_es_sides_and_hand_values() -> None:
    y = np.zeros(10)
    f = np.arange(10.0)
    assert M.value_at_risk(y, f, level=0.8) == 7.0
    assert M.expected_shortfall(y, f, level=0.8) == 8.5  # mean of the two largest
    assert M.value_at_risk(y, -f, level=0.8, side="under") == 7.0
    assert M.value_at_risk(y, -f, level=0.8, side="absolute") == 7.0
    assert M.value_at_risk(y, -f, level=0.8) == -2.0  # over-valuation side: losses are -f
    with pytest.raises(ParameterError, match="level"):
        M.value_at_risk(y, f, level=1.0)
    with pytest.raises(ParameterError, match="side"):
        M.value_at_risk(y, f, side="both")
    with pytest.warns(UndefinedMetricWarning, match="sum to zero"):
        assert math.isnan(M.value_at_risk([1.0], [2.0], sample_weight=[0.0]))


def test_ipo_metrics() -> None:
    # underpricing (12-10)/10 = .2 vs (11-10)/10 = .1 ; (18-20)/20 = -.1 vs (21-20)/20 = .05
    assert M.underpricing_error(
        [12.0, 18.0], [11.0, 21.0], offer_price=[10.0, 20.0]
    ) == pytest.approx(0.125)
    assert M.underpricing_error([0.2, -0.1], [0.1, 0.05]) == pytest.approx(0.125)
    with pytest.raises(ValidationError, match="offer_price"):
        M.underpricing_error([1.0], [1.0], offer_price=[0.0])
    assert (
        M.first_day_return_sign_accuracy([0.15, -0.05, 0.0, 0.30], [0.10, 0.02, 0.0, 0.05]) == 0.75
    )
    assert M.over_allocation_rate([1, 0, 1, 1]) == 0.75
    assert M.over_allocation_rate([True, False], sample_weight=[3, 1]) == 0.75
    assert M.over_allocation_rate_error([1, 0, 1, 1], [0.9, 0.2, 0.4, 0.5]) == pytest.approx(-0.25)
    assert M.over_allocation_rate_error([1, 0], [1, 0]) == 0.0
    with pytest.raises(ValidationError, match="0/1"):
        M.over_allocation_rate([2, 0])
    with pytest.raises(ValidationError, match="probabilities"):
        M.over_allocation_rate_error([1, 0], [1.5, 0])


def test_ratio_edge_cases() -> None:
    with pytest.warns(UndefinedMetricWarning, match="constant"):
        assert math.isnan(M.sharpe_ratio([0.01, 0.01, 0.01]))
    with pytest.warns(UndefinedMetricWarning, match="period"):
        assert math.isnan(M.sharpe_ratio([0.01]))
    with pytest.warns(UndefinedMetricWarning, match="constant"):
        # strategy equal to the benchmark: no active return
        assert math.isnan(M.information_ratio([0.01, -0.02, 0.03], [1.0, 1.0, 1.0]))
    with pytest.raises(ParameterError, match="benchmark"):
        M.information_ratio([0.01, 0.02])
    with pytest.raises(ParameterError, match="periods_per_year"):
        M.sharpe_ratio([0.01, 0.02], periods_per_year=0)
    with pytest.raises(ParameterError, match="risk_free_rate"):
        M.sharpe_ratio([0.01, 0.02], risk_free_rate=-1.0)
    with pytest.raises(ParameterError, match="position"):
        M.sharpe_ratio([0.01, 0.02], [1, 1], position="short_only")
    with pytest.raises(ValidationError, match="inconsistent lengths"):
        M.sharpe_ratio([0.01, 0.02], [1.0])
    with pytest.raises(ValidationError, match="contains NaN"):
        M.max_drawdown([0.01, np.nan])

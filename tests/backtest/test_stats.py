"""A backtest's statistics equal empyrical-reloaded's and quantstats' on its own returns;
drawdown dates; bootstrap intervals; compare and walk-forward."""

from __future__ import annotations

import math
import warnings

import empyrical as ep
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmon import backtest as bt

warnings.filterwarnings("ignore", module="quantstats")
qs = pytest.importorskip("quantstats")


def _panel(seed: int, n_dates: int = 300, n_symbols: int = 8, skill: float = 1.0) -> bt.Panel:
    rng = np.random.default_rng(seed)
    truth = rng.normal(0.0003, 0.015, (n_dates, n_symbols))
    pred = skill * truth + rng.normal(0, 0.02, truth.shape)
    bench = truth.mean(axis=1)
    return bt.Panel(pred, truth, dates=pd.bdate_range("2020-01-01", periods=n_dates).to_numpy(),
                    benchmark=bench)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.0, 0.02]), st.sampled_from(["0bp", "10bp"]),
       st.sampled_from([252, 52]))
def test_backtest_statistics_equal_empyrical_and_quantstats(seed, rf, fees, q) -> None:
    panel = _panel(seed)
    res = bt.backtest(panel, bt.TopK(k=3, long_short=True), costs=bt.Costs(fees=fees),
                      rebalance="every_period", periods_per_year=q, risk_free_rate=rf)
    r = pd.Series(res.returns, index=pd.DatetimeIndex(panel.dates))
    rf_p = (1 + rf) ** (1 / q) - 1
    s = res.stats
    assert s.total_return == pytest.approx(ep.cum_returns_final(r), rel=1e-9)
    assert s.annual_return == pytest.approx(ep.annual_return(r, annualization=q), rel=1e-9)
    assert s.annual_volatility == pytest.approx(ep.annual_volatility(r, annualization=q),
                                                rel=1e-9)
    assert s.sharpe == pytest.approx(ep.sharpe_ratio(r, risk_free=rf_p, annualization=q),
                                     rel=1e-9)
    assert s.sortino == pytest.approx(ep.sortino_ratio(r, required_return=rf_p,
                                                       annualization=q), rel=1e-9)
    assert -s.max_drawdown.depth == pytest.approx(ep.max_drawdown(r), abs=1e-12)
    assert s.calmar == pytest.approx(ep.calmar_ratio(r, annualization=q), rel=1e-9)
    bench = pd.Series(panel.benchmark, index=r.index)
    assert s.information_ratio == pytest.approx(ep.excess_sharpe(r, bench) * math.sqrt(q),
                                                rel=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert -s.max_drawdown.depth == pytest.approx(qs.stats.max_drawdown(r), abs=1e-12)
        if q == 252 and rf == 0:
            assert s.sharpe == pytest.approx(qs.stats.sharpe(r), rel=1e-9)
            assert s.sortino == pytest.approx(qs.stats.sortino(r), rel=1e-9)
    # the equity curve is the compounded returns
    np.testing.assert_allclose(res.equity, 1e6 * np.cumprod(1 + res.returns), rtol=1e-12)


def test_drawdown_details_and_trade_statistics() -> None:
    d = bt.max_drawdown_details([110, 88, 92.4, 83.16, 120], start=100,
                                dates=["a", "b", "c", "d", "e"])
    assert (d.peak, d.trough, d.recovery, d.duration) == (0, 3, 4, 4)
    assert (d.peak_date, d.trough_date, d.recovery_date) == ("a", "d", "e")
    d = bt.max_drawdown_details([90, 95], start=100)  # the start is the peak; not recovered
    assert (d.peak, d.trough, d.recovery, d.duration, d.depth) == (None, 0, None, 2,
                                                                   pytest.approx(0.1))
    assert bt.max_drawdown_details([100, 110]).depth == 0.0
    res = bt.backtest(_panel(0), bt.Threshold(long_above="1%"))
    tr = res.trades.returns
    assert res.stats.trades == len(res.trades) == tr.size > 0
    assert res.stats.hit_rate == pytest.approx(np.mean(tr > 0))
    assert res.stats.best_trade_return == tr.max() and res.stats.worst_trade_return == tr.min()
    row = res.to_dict(trades=True)
    assert set(row) >= {"stats", "series", "trades", "settings"}
    assert row["stats"]["max_drawdown"] == res.stats.max_drawdown.depth


def test_bootstrap_sharpe_covers_the_truth_and_is_seeded() -> None:
    rng = np.random.default_rng(5)
    r = rng.normal(0.0005, 0.01, 2000)
    a = bt.bootstrap_sharpe(r, n_resamples=400, random_state=1)
    b = bt.bootstrap_sharpe(r, n_resamples=400, random_state=1)
    assert a == b
    assert a.low < 0.0005 / 0.01 * math.sqrt(252) < a.high
    assert a.estimate == pytest.approx(ep.sharpe_ratio(r))
    assert a.block_length == round(2000 ** (1 / 3))
    # a wider interval at a higher level
    wide = bt.bootstrap_sharpe(r, n_resamples=400, level=0.99, random_state=1)
    assert wide.low <= a.low and wide.high >= a.high


def test_compare_versions_finds_a_real_edge_and_no_false_one() -> None:
    rng = np.random.default_rng(7)
    truth = rng.normal(0.0, 0.01, (750, 10))
    v1 = bt.Panel(truth + rng.normal(0, 0.03, truth.shape), truth)
    v2 = bt.Panel(truth + rng.normal(0, 0.01, truth.shape), truth)
    v2b = bt.Panel(truth + rng.normal(0, 0.03, truth.shape), truth)
    rule = bt.TopK(k=3)
    c = bt.compare({"v1": bt.backtest(v1, rule), "v2": bt.backtest(v2, rule),
                    "v1_again": bt.backtest(v2b, rule)}, n_resamples=500)
    assert c.baseline == "v1"
    assert c.differences["v2"].excludes_zero and c.differences["v2"].p_value < 0.01
    assert not c.differences["v1_again"].excludes_zero
    table = c.table()
    assert [row["name"] for row in table] == ["v1", "v2", "v1_again"]
    assert table[0]["sharpe_vs_baseline"] is None
    with pytest.raises(ValueError, match="same periods"):
        bt.compare([bt.backtest(v1, rule, name="a"), bt.backtest(v1.slice(0, 10), rule)])


def test_walk_forward_uses_only_test_periods() -> None:
    panel = _panel(3, n_dates=500)
    wf = bt.walk_forward(panel, {"top3": bt.TopK(k=3), "top1": bt.TopK(k=1)}, train=200,
                         test=100, costs=bt.Costs(fees="5bp"))
    assert [f["test_start"] for f in wf.folds] == [200, 300, 400]
    assert wf.returns.size == 300
    assert wf.dates[0] == panel.dates[200]
    for f in wf.folds:
        best = max(f["train_scores"], key=f["train_scores"].get)
        assert f["chosen"] == best
    # one candidate: the same as backtesting each test window from the last equity
    one = bt.walk_forward(panel, [bt.TopK(k=3)], train=200, test=300)
    direct = bt.backtest(panel.slice(200, 500), bt.TopK(k=3))
    np.testing.assert_allclose(one.returns, direct.returns)

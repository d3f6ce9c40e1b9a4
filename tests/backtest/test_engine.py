"""The compiled backtest equals a plain pandas loop on random strategies, costs and limits;
its trade ledger adds up to the equity; hand-checked cases for each rule."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmon import backtest as bt
from modelmon.exceptions import UndefinedMetricWarning, ValidationError
from tests.backtest.reference import reference_backtest

SIGNALS = [-1.0, -0.5, 0.0, 0.0, 0.5, 1.0, 1.0, math.nan]
RETURNS = [-1.0, -0.3, -0.05, -0.01, 0.0, 0.01, 0.02, 0.05, 0.2, 0.2, math.nan]


@st.composite
def cases(draw: st.DrawFn) -> dict:
    n_dates = draw(st.integers(1, 25))
    n_symbols = draw(st.integers(1, 5))
    cells = n_dates * n_symbols
    signals = np.array(draw(st.lists(st.sampled_from(SIGNALS), min_size=cells,
                                     max_size=cells))).reshape(n_dates, n_symbols)
    returns = np.array(draw(st.lists(st.sampled_from(RETURNS), min_size=cells,
                                     max_size=cells))).reshape(n_dates, n_symbols)
    kind = draw(st.sampled_from(["fraction", "equal", "amount"]))
    size = {"fraction": draw(st.sampled_from([0.1, 0.3, 0.7])),
            "equal": draw(st.sampled_from([0.5, 1.0, 2.0])),
            "amount": draw(st.sampled_from([100.0, 400.0, 2000.0]))}[kind]
    return {
        "signals": signals, "returns": returns, "sizing": (kind, size),
        "rate": draw(st.sampled_from([0.0, 0.001, 0.02])),
        "fixed": draw(st.sampled_from([0.0, 0.0, 1.0])),
        "max_position": draw(st.sampled_from([None, 0.2, 0.5])),
        "max_gross": draw(st.sampled_from([None, 1.0, 1.5])),
        "borrow": draw(st.booleans()),
        "rebalance": draw(st.sampled_from(["on_change", "every_period"])),
    }


def _sizer(kind: str, size: float) -> bt.Sizer:
    return {"fraction": bt.FractionOfEquity, "equal": bt.EqualWeight,
            "amount": bt.FixedAmount}[kind](size)


def _run(case: dict) -> bt.BacktestResult:
    panel = bt.Panel(np.zeros_like(case["signals"]), case["returns"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return bt.backtest(
            panel, lambda p: case["signals"], sizing=_sizer(*case["sizing"]), capital=1000.0,
            costs=bt.Costs(fees=case["rate"], fixed=case["fixed"]),
            limits=bt.Limits(max_position=case["max_position"], max_gross=case["max_gross"],
                             borrow=case["borrow"]),
            rebalance=case["rebalance"])


@settings(max_examples=300, deadline=None)
@given(cases())
def test_equity_equals_a_plain_pandas_loop(case: dict) -> None:
    res = _run(case)
    inf = math.inf
    equity, held = reference_backtest(
        pd.DataFrame(case["signals"]), pd.DataFrame(case["returns"]), sizing=case["sizing"],
        capital=1000.0, rate=case["rate"], fixed=case["fixed"],
        max_position=inf if case["max_position"] is None else case["max_position"],
        max_gross=inf if case["max_gross"] is None else case["max_gross"],
        borrow=case["borrow"], rebalance=case["rebalance"])
    np.testing.assert_allclose(res.equity, equity.to_numpy(), rtol=1e-9, atol=1e-9)
    if not res.ruined:
        np.testing.assert_allclose(res.positions, held.to_numpy(), rtol=1e-9, atol=1e-9)
        # every cent of profit is in some trade; costs included
        assert res.trades.pnl.sum() == pytest.approx(res.equity[-1] - 1000.0, abs=1e-7)
        assert np.isfinite(res.trades.returns).all()


@settings(max_examples=100, deadline=None)
@given(cases())
def test_limits_hold(case: dict) -> None:
    res = _run(case)
    if res.ruined:
        return
    before = np.r_[1000.0, res.equity[:-1]]
    gross = np.abs(res.positions).sum(axis=1)
    if case["max_position"] is not None:
        assert (np.abs(res.positions) <= case["max_position"] * before[:, None] * (1 + 1e-9)
                + 1e-9).all() or case["rebalance"] == "on_change"
    if not case["borrow"] and case["fixed"] == 0.0:
        cash = res.equity - (res.positions * (1 + np.nan_to_num(case["returns"]))).sum(axis=1)
        assert (cash >= -1e-7).all()
    assert np.isfinite(gross).all()


def test_hand_computed_long_position_with_costs() -> None:
    # one symbol, long 50 % of equity, 1 % fees: buy 500, pay 5; +10 % on 500 -> 1045
    panel = bt.Panel(np.zeros((2, 1)), np.array([[0.10], [0.0]]))
    res = bt.backtest(panel, lambda p: np.array([[1.0], [0.0]]),
                      sizing=bt.FractionOfEquity("50%"), capital=1000.0,
                      costs=bt.Costs(fees="1%"))
    assert res.equity[0] == pytest.approx(1045.0)
    # sell 550 at 1 %: 5.5 -> 1039.5
    assert res.equity[1] == pytest.approx(1039.5)
    assert len(res.trades) == 1
    assert res.trades.pnl[0] == pytest.approx(39.5)
    assert res.trades.returns[0] == pytest.approx(39.5 / 500)
    assert res.trades.exit[0] == 1 and res.trades.entry[0] == 0
    assert res.stats.costs == pytest.approx(10.5)


def test_cash_limit_scales_buys_and_borrowing_does_not() -> None:
    panel = bt.Panel(np.zeros((1, 3)), np.zeros((1, 3)))
    ones = lambda p: np.ones((1, 3))  # noqa: E731
    capped = bt.backtest(panel, ones, sizing=bt.FixedAmount(500), capital=1000.0)
    np.testing.assert_allclose(capped.positions, [[1000 / 3] * 3])
    lent = bt.backtest(panel, ones, sizing=bt.FixedAmount(500), capital=1000.0,
                       limits=bt.Limits(borrow=True))
    np.testing.assert_allclose(lent.positions, [[500.0] * 3])
    gross = bt.backtest(panel, ones, sizing=bt.FixedAmount(500), capital=1000.0,
                        limits=bt.Limits(borrow=True, max_gross="120%", max_position=0.3))
    np.testing.assert_allclose(gross.positions, [[300.0] * 3])


def test_untradeable_symbols_can_only_be_closed() -> None:
    # an IPO trades one day: bought on its first day, sold at that day's close the next
    r = np.array([[0.25, np.nan], [np.nan, np.nan], [np.nan, 0.1]])
    sig = np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 1.0]])
    res = bt.backtest(bt.Panel(np.zeros_like(r), r), lambda p: sig,
                      sizing=bt.FractionOfEquity(0.5), capital=100.0)
    np.testing.assert_allclose(res.positions, [[50.0, 0.0], [0.0, 0.0], [0.0, 56.25]])
    np.testing.assert_allclose(res.equity, [112.5, 112.5, 118.125])
    assert res.trades.returns.tolist() == pytest.approx([0.25, 0.1])
    assert res.trades.exit.tolist() == [1, -1]


def test_flip_splits_costs_between_trades() -> None:
    r = np.array([[0.1], [0.0], [0.0]])
    sig = np.array([[1.0], [-1.0], [0.0]])
    res = bt.backtest(bt.Panel(np.zeros_like(r), r), lambda p: sig,
                      sizing=bt.FractionOfEquity(1.0), capital=100.0,
                      costs=bt.Costs(fees="1%"), limits=bt.Limits(borrow=True))
    assert len(res.trades) == 2
    assert res.trades.direction.tolist() == [1, -1]
    assert res.trades.pnl.sum() == pytest.approx(res.equity[-1] - 100.0)
    # the long: +10 on 100, 1 to open, 1.1 to close
    assert res.trades.pnl[0] == pytest.approx(10 - 1 - 1.1)


def test_ruin_stops_the_run() -> None:
    r = np.array([[1.5], [0.0]])
    with pytest.warns(UndefinedMetricWarning, match="lost all its equity"):
        res = bt.backtest(bt.Panel(np.zeros_like(r), r), lambda p: -np.ones_like(r),
                          sizing=bt.FractionOfEquity(1.0), capital=100.0)
    assert res.ruined and res.equity.tolist() == [0.0, 0.0]
    assert res.returns.tolist() == [-1.0, 0.0]


def test_threshold_on_valuation_gap_and_top_k() -> None:
    pred = np.array([[12.0, 9.0, 11.0]])
    prices = np.array([[10.0, 10.0, 10.0]])
    panel = bt.Panel(pred, np.zeros((1, 3)), prices=prices)
    assert bt.Threshold(long_above="15%", on="gap").signals(panel).tolist() == [[1, 0, 0]]
    assert bt.Threshold(long_above=0.05, short_below="-5%", on="gap").signals(
        panel).tolist() == [[1, -1, 1]]
    with pytest.raises(ValidationError, match="prices"):
        bt.Threshold(on="gap").signals(bt.Panel(pred, np.zeros((1, 3))))
    scores = np.array([[0.3, np.nan, 0.1, -0.2], [np.nan, np.nan, np.nan, 0.5]])
    top = bt.TopK(k=2, long_short=True).signals(bt.Panel(scores, np.zeros((2, 4))))
    assert top.tolist() == [[1, 0, 1, -1], [0, 0, 0, 1]]
    assert bt.TopK(k=2, min_score="0%").signals(
        bt.Panel(np.array([[0.3, -0.1, -0.2]]), np.zeros((1, 3)))).tolist() == [[1, 0, 0]]


def test_panel_from_long_and_validation() -> None:
    p = bt.Panel.from_long(dates=["2024-01-02", "2024-01-01", "2024-01-02"],
                           symbols=["b", "a", "a"], predictions=[1.0, 2.0, 3.0],
                           returns=[0.1, 0.2, 0.3], benchmark={"2024-01-01": 0.01})
    assert p.dates.tolist() == ["2024-01-01", "2024-01-02"]
    assert np.isnan(p.predictions[0, 1]) and p.predictions[1].tolist() == [3.0, 1.0]
    assert p.benchmark.tolist() == [0.01, 0.0]
    with pytest.raises(ValidationError, match="more than once"):
        bt.Panel.from_long(dates=[1, 1], symbols=["a", "a"], predictions=[1, 2], returns=[0, 0])
    with pytest.raises(ValidationError, match=">= -1"):
        bt.Panel(np.zeros((1, 1)), np.array([[-1.5]]))
    with pytest.raises(ValidationError, match="strictly increasing"):
        bt.Panel(np.zeros((2, 1)), np.zeros((2, 1)), dates=[2, 1])
    frame = pd.DataFrame({"date": [1, 2], "symbol": ["x", "x"], "prediction": [0.1, 0.2],
                          "realised": [0.0, 0.01]})
    assert bt.Panel.from_frame(frame).shape == (2, 1)


def test_empty_panel() -> None:
    res = bt.backtest(bt.Panel(np.zeros((0, 2)), np.zeros((0, 2))), bt.Threshold())
    assert res.equity.size == 0 and math.isnan(res.stats.total_return)
    assert len(res.trades) == 0

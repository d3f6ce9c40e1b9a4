"""Backtests of trading strategies on a model's predictions.

A :class:`Panel` holds predictions and realised returns by date and symbol; a strategy (a rule
such as :class:`Threshold` or :class:`TopK`, or a small function) turns predictions into
signals; a sizer turns signals into positions; :func:`backtest` runs the portfolio one date at
a time in compiled code (costs, slippage, cash and position limits) and returns a
:class:`BacktestResult`: equity curve, returns, trades and :class:`Performance` statistics.
:func:`compare` sets strategies or model versions side by side with bootstrap intervals for
the difference of their Sharpe ratios; :func:`walk_forward` picks a strategy on each training
window and trades it on the next.

>>> import numpy as np
>>> from modelmon import backtest as bt
>>> rng = np.random.default_rng(0)
>>> truth = rng.normal(0.0, 0.01, (250, 10))
>>> panel = bt.Panel(truth + rng.normal(0, 0.01, truth.shape), truth)
>>> res = bt.backtest(panel, bt.TopK(k=3), costs=bt.Costs(fees="10bp"))
>>> res.stats.total_return > 0
True
"""

from __future__ import annotations

from modelmon.backtest.compare import Comparison, WalkForwardResult, compare, walk_forward
from modelmon.backtest.engine import BacktestResult, Costs, Limits, Trades, backtest
from modelmon.backtest.panel import Panel
from modelmon.backtest.rules import (
    EqualWeight,
    FixedAmount,
    FractionOfEquity,
    FunctionStrategy,
    Sizer,
    Strategy,
    Threshold,
    TopK,
    VolatilityTarget,
    as_strategy,
    sizer_from_spec,
    strategy_from_spec,
)
from modelmon.backtest.stats import (
    BootstrapInterval,
    Drawdown,
    Performance,
    bootstrap_sharpe,
    bootstrap_sharpe_difference,
    max_drawdown_details,
    performance,
)

__all__ = [
    "BacktestResult",
    "BootstrapInterval",
    "Comparison",
    "Costs",
    "Drawdown",
    "EqualWeight",
    "FixedAmount",
    "FractionOfEquity",
    "FunctionStrategy",
    "Limits",
    "Panel",
    "Performance",
    "Sizer",
    "Strategy",
    "Threshold",
    "TopK",
    "Trades",
    "VolatilityTarget",
    "WalkForwardResult",
    "as_strategy",
    "backtest",
    "bootstrap_sharpe",
    "bootstrap_sharpe_difference",
    "compare",
    "max_drawdown_details",
    "performance",
    "sizer_from_spec",
    "strategy_from_spec",
    "walk_forward",
]

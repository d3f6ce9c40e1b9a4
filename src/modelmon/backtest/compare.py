"""Strategies and model versions side by side, and walk-forward selection."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_int, check_option
from modelmon.backtest.engine import BacktestResult, backtest
from modelmon.backtest.panel import Panel
from modelmon.backtest.rules import Strategy, as_strategy
from modelmon.backtest.stats import (
    BootstrapInterval,
    Performance,
    bootstrap_sharpe,
    bootstrap_sharpe_difference,
    performance,
)
from modelmon.exceptions import ParameterError, ValidationError

__all__ = ["Comparison", "WalkForwardResult", "compare", "walk_forward"]

#: Statistics shown side by side, in this order.
TABLE_FIELDS = ("total_return", "annual_return", "annual_volatility", "sharpe", "sortino",
                "calmar", "max_drawdown", "hit_rate", "trades", "avg_trade_return",
                "best_trade_return", "worst_trade_return", "turnover", "exposure",
                "information_ratio", "costs")
SELECT = ("sharpe", "sortino", "calmar", "total_return", "annual_return")


@dataclass(frozen=True)
class Comparison:
    """Backtests over the same periods, side by side.

    Attributes
    ----------
    results : tuple of BacktestResult
        The runs, the baseline first.
    baseline : str
        The name every other run is compared with.
    sharpe : dict of str to BootstrapInterval
        Each run's Sharpe ratio with its interval.
    differences : dict of str to BootstrapInterval
        ``Sharpe(run) - Sharpe(baseline)`` for every other run, by a paired block bootstrap;
        its ``p_value`` is the share of resamples where the run is not better.
    """

    results: tuple[BacktestResult, ...]
    baseline: str
    sharpe: dict[str, BootstrapInterval]
    differences: dict[str, BootstrapInterval]

    def table(self) -> list[dict[str, Any]]:
        """One row per run: its name, the key statistics and the Sharpe intervals."""
        rows = []
        for res in self.results:
            stats = res.stats.to_dict()
            row: dict[str, Any] = {"name": res.name}
            row.update({k: stats[k] for k in TABLE_FIELDS})
            ci = self.sharpe[res.name]
            row["sharpe_low"], row["sharpe_high"] = ci.low, ci.high
            diff = self.differences.get(res.name)
            row["sharpe_vs_baseline"] = None if diff is None else diff.estimate
            row["sharpe_vs_baseline_low"] = None if diff is None else diff.low
            row["sharpe_vs_baseline_high"] = None if diff is None else diff.high
            row["sharpe_vs_baseline_p"] = None if diff is None else diff.p_value
            rows.append(row)
        return rows

    def to_dict(self, *, series: bool = True) -> dict[str, Any]:
        """The table, the intervals and (with ``series``) each run's curves."""
        return {
            "baseline": self.baseline,
            "table": self.table(),
            "sharpe": {k: v.to_dict() for k, v in self.sharpe.items()},
            "differences": {k: v.to_dict() for k, v in self.differences.items()},
            "runs": [r.to_dict(series=series) for r in self.results],
        }


def compare(
    results: Sequence[BacktestResult] | Mapping[str, BacktestResult],
    *,
    baseline: str | None = None,
    n_resamples: int = 2000,
    level: float = 0.95,
    block_length: int | None = None,
    random_state: int | None = 0,
) -> Comparison:
    """Set backtests over the same periods side by side: is one's edge real?

    Runs of different strategies on one panel, or of one strategy on the predictions of two
    model versions over the same dates. Each run's Sharpe ratio gets a circular block bootstrap
    interval, and each run other than the baseline an interval for its Sharpe ratio minus the
    baseline's (:func:`~modelmon.backtest.bootstrap_sharpe_difference`, resampled in pairs).

    Parameters
    ----------
    results : sequence of BacktestResult, or mapping of name to BacktestResult
        The runs (names must be unique; a mapping renames them).
    baseline : str, optional
        The run to compare with (default: the first).
    n_resamples, level, block_length, random_state
        Bootstrap settings, as in :func:`~modelmon.backtest.bootstrap_sharpe`.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from modelmon.backtest import Panel, Threshold, backtest
    >>> rng = np.random.default_rng(3)
    >>> truth = rng.normal(0.0, 0.01, (500, 10))
    >>> good = Panel(truth + rng.normal(0, 0.01, truth.shape), truth)
    >>> noise = Panel(rng.normal(0, 0.01, truth.shape), truth)
    >>> c = compare({"v1": backtest(noise, Threshold()), "v2": backtest(good, Threshold())},
    ...             n_resamples=300)
    >>> c.differences["v2"].excludes_zero, c.differences["v2"].p_value < 0.05
    (True, True)
    """
    if isinstance(results, Mapping):
        runs = [_renamed(r, name) for name, r in results.items()]
    else:
        runs = list(results)
    if not runs:
        raise ValidationError("compare needs at least one backtest.", code="empty_input",
                              loc=("results",))
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise ValidationError(f"compare needs distinct names; got {names}. Pass a mapping of "
                              "name to result to rename them.", code="conflict", loc=("results",))
    base = names[0] if baseline is None else baseline
    check_option(base, "baseline", "compare", names)
    first = runs[0]
    for r in runs[1:]:
        if r.returns.size != first.returns.size or not np.array_equal(
                np.asarray(r.dates).astype(str), np.asarray(first.dates).astype(str)):
            raise ValidationError(
                f"compare needs runs over the same periods; {r.name!r} and {first.name!r} "
                "differ.", code="length_mismatch", loc=("results",))
    runs.sort(key=lambda r: r.name != base)
    boot: dict[str, Any] = {"n_resamples": n_resamples, "level": level,
                            "block_length": block_length, "random_state": random_state}
    q = first.stats.periods_per_year
    sharpe = {r.name: bootstrap_sharpe(r.returns, periods_per_year=q,
                                       risk_free_rate=r.stats.risk_free_rate, **boot)
              for r in runs}
    base_run = runs[0]
    diffs = {r.name: bootstrap_sharpe_difference(r.returns, base_run.returns, periods_per_year=q,
                                                 **boot)
             for r in runs[1:]}
    return Comparison(tuple(runs), base, sharpe, diffs)


def _renamed(result: BacktestResult, name: str) -> BacktestResult:
    from dataclasses import replace

    return replace(result, name=name)


@dataclass(frozen=True)
class WalkForwardResult:
    """Out-of-sample results stitched over the test windows.

    Attributes
    ----------
    folds : list of dict
        Per fold: the train and test periods (indices and dates), the chosen strategy, its
        training score and its test statistics.
    dates : ndarray
        Labels of the test periods.
    returns, equity : ndarray
        Stitched out-of-sample returns and equity (each fold starts flat with the equity the
        previous one ended with).
    stats : Performance
        Statistics of the stitched returns.
    """

    folds: list[dict[str, Any]]
    dates: NDArray[Any]
    returns: NDArray[np.float64]
    equity: NDArray[np.float64]
    stats: Performance

    def to_dict(self) -> dict[str, Any]:
        """Folds, statistics and the stitched series."""
        return {"folds": self.folds, "stats": self.stats.to_dict(),
                "series": {"date": [str(d) for d in self.dates],
                           "equity": self.equity.tolist(), "returns": self.returns.tolist()}}


def walk_forward(
    panel: Panel,
    candidates: Mapping[str, Strategy | Callable[[Panel], Any]] | Sequence[Any],
    *,
    train: int,
    test: int,
    select: str = "sharpe",
    capital: float = 1_000_000.0,
    **options: Any,
) -> WalkForwardResult:
    """Walk forward: on each training window pick the best candidate, trade it on the next.

    Windows roll by ``test`` periods: fold ``i`` trains on periods
    ``[i*test, i*test + train)`` and tests on the ``test`` periods after. Only the test periods
    enter the result, so every reported return was earned by a choice made without seeing it.
    With one candidate this is a plain out-of-sample evaluation fold by fold.

    Parameters
    ----------
    panel : Panel
        The whole history.
    candidates : mapping of name to strategy, or sequence of strategies
        The strategies to choose from.
    train, test : int
        Window lengths in periods.
    select : {"sharpe", "sortino", "calmar", "total_return", "annual_return"}, default="sharpe"
        The training statistic to maximise (NaN scores lose; ties go to the first).
    capital : float, default=1_000_000
        Starting equity of the first fold.
    **options
        Passed to :func:`~modelmon.backtest.backtest` (sizing, costs, limits, rebalance ...).

    Returns
    -------
    WalkForwardResult

    Examples
    --------
    >>> from modelmon.backtest import Panel, Threshold
    >>> rng = np.random.default_rng(4)
    >>> truth = rng.normal(0.0, 0.01, (400, 5))
    >>> panel = Panel(truth + rng.normal(0, 0.01, truth.shape), truth)
    >>> wf = walk_forward(panel, {"long": Threshold(), "long_short": Threshold(short_below=0)},
    ...                   train=100, test=100)
    >>> [f["chosen"] for f in wf.folds], wf.returns.size
    (['long_short', 'long_short', 'long_short'], 300)
    """
    owner = "walk_forward"
    train = check_int(train, "train", owner, low=2)
    test = check_int(test, "test", owner, low=1)
    check_option(select, "select", owner, SELECT)
    if isinstance(candidates, Mapping):
        named = {name: as_strategy(s) for name, s in candidates.items()}
    else:
        named = {}
        for s in candidates:
            st = as_strategy(s)
            named[st.name] = st
    if not named:
        raise ParameterError(f"{owner} needs at least one candidate strategy.",
                             loc=("candidates",))
    n = panel.shape[0]
    if n < train + test:
        raise ValidationError(f"{owner} needs at least train + test = {train + test} periods; "
                              f"the panel has {n}.", code="empty_input", loc=("train",))
    folds: list[dict[str, Any]] = []
    returns: list[NDArray[np.float64]] = []
    trade_returns: list[NDArray[np.float64]] = []
    turnover: list[NDArray[np.float64]] = []
    exposure: list[NDArray[np.float64]] = []
    costs = 0.0
    equity_now = capital
    start = 0
    while start + train < n:
        stop = min(start + train + test, n)
        train_panel = panel.slice(start, start + train)
        scores = {}
        for name, strat in named.items():
            res = backtest(train_panel, strat, capital=capital, name=name, **options)
            scores[name] = float(getattr(res.stats, select))
        finite = {k: v for k, v in scores.items() if not math.isnan(v)}
        chosen = max(finite, key=lambda k: finite[k]) if finite else next(iter(named))
        out = backtest(panel.slice(start + train, stop), named[chosen], capital=equity_now,
                       name=chosen, **options)
        folds.append({
            "fold": len(folds), "train_start": start, "train_end": start + train,
            "test_start": start + train, "test_end": stop,
            "test_first_date": str(panel.dates[start + train]),
            "test_last_date": str(panel.dates[stop - 1]), "chosen": chosen,
            "train_scores": scores, "test_stats": out.stats.to_dict()})
        returns.append(out.returns)
        trade_returns.append(out.trades.returns)
        turnover.append(out.turnover)
        exposure.append(out.exposure)
        costs += out.stats.costs
        equity_now = float(out.equity[-1]) if out.equity.size else equity_now
        start += test
    r = np.concatenate(returns)
    equity = np.asarray(capital * np.cumprod(1.0 + r), dtype=np.float64)
    first = folds[0]["test_start"]
    dates = panel.dates[first:first + r.size]
    bench = None if panel.benchmark is None else panel.benchmark[first:first + r.size]
    q = float(options.get("periods_per_year", 252))
    rf = float(options.get("risk_free_rate", 0.0))
    stats = performance(r, trade_returns=np.concatenate(trade_returns), benchmark=bench,
                        equity=equity, start=capital, dates=dates,
                        turnover=np.concatenate(turnover), exposure=np.concatenate(exposure),
                        costs=costs, periods_per_year=q, risk_free_rate=rf)
    return WalkForwardResult(folds, dates, r, equity, stats)

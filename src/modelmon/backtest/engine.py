"""Run a strategy over a panel: ``backtest(panel, strategy) -> BacktestResult``."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_bool, check_option, check_real
from modelmon.backtest import _kernel
from modelmon.backtest.panel import Panel
from modelmon.backtest.rules import EqualWeight, Sizer, Strategy, as_strategy
from modelmon.backtest.stats import Performance, performance
from modelmon.exceptions import ParameterError, UndefinedMetricWarning
from modelmon.metrics.finance import parse_threshold

__all__ = ["BacktestResult", "Costs", "Limits", "Trades", "backtest"]

REBALANCE = ("on_change", "every_period")


@dataclass(frozen=True)
class Costs:
    """Transaction costs, each a fraction of the traded notional (``0.001``, ``"10bp"``,
    ``"0.1%"``) except ``fixed``, money per executed trade.

    Parameters
    ----------
    fees : float or str, default=0.0
        Commission on every trade.
    slippage : float or str, default=0.0
        The execution price's distance from the quoted one, paid on every trade.
    fixed : float, default=0.0
        A flat fee per trade (per symbol and date with a non-zero trade).

    Examples
    --------
    >>> Costs(fees="10bp", slippage="0.05%").rate
    0.0015
    """

    fees: float | str = 0.0
    slippage: float | str = 0.0
    fixed: float = 0.0

    @property
    def rate(self) -> float:
        """Fees plus slippage, as one fraction of the notional."""
        fees = parse_threshold(self.fees, name="fees", owner="Costs")
        slip = parse_threshold(self.slippage, name="slippage", owner="Costs")
        for name, v in (("fees", fees), ("slippage", slip)):
            check_real(v, name, "Costs", low=0.0, high=1.0, closed="left")
        return fees + slip

    def to_dict(self) -> dict[str, Any]:
        """The parameters as given."""
        return asdict(self)


@dataclass(frozen=True)
class Limits:
    """Cash and position limits.

    Parameters
    ----------
    max_position : float or str or None, default=None
        Largest position, as a fraction of equity (``0.1``, ``"10%"``); None: no limit.
    max_gross : float or str or None, default=None
        Largest gross exposure (longs + |shorts|) as a fraction of equity; ``1.0`` forbids
        leverage, None: no limit.
    borrow : bool, default=False
        Whether cash may go below 0 to pay for buys; without it buys are scaled down to the
        cash there is.
    """

    max_position: float | str | None = None
    max_gross: float | str | None = None
    borrow: bool = False

    def resolved(self) -> tuple[float, float, bool]:
        """``(max_position, max_gross, borrow)`` as numbers (inf for no limit)."""
        out = []
        for name in ("max_position", "max_gross"):
            v = getattr(self, name)
            x = math.inf if v is None else parse_threshold(v, name=name, owner="Limits")
            if x < 0:
                raise ParameterError(
                    f"The {name!r} parameter of Limits must be >= 0. Got {v!r} instead.",
                    loc=(name,))
            out.append(x)
        return out[0], out[1], check_bool(self.borrow, "borrow", "Limits")

    def to_dict(self) -> dict[str, Any]:
        """The parameters as given."""
        return asdict(self)


@dataclass(frozen=True)
class Trades:
    """The trade ledger: one row per round trip of one symbol (a run of a position with one
    sign; a flip from long to short closes one trade and opens another).

    Attributes
    ----------
    symbol : ndarray of str
        The symbol traded.
    entry, exit : ndarray of int
        Period index of the opening and of the closing order (``exit = -1``: still open at the
        end, valued at the last price).
    direction : ndarray of int
        +1 long, -1 short.
    invested : ndarray of float
        Notional put in: the opening trade plus every later addition, in money.
    pnl : ndarray of float
        Profit after the costs of its trades, in money.
    returns : ndarray of float
        ``pnl / invested``.
    entry_date, exit_date : ndarray of str
        The same as date labels (``""`` for an open trade's exit).
    """

    symbol: NDArray[Any]
    entry: NDArray[np.int64]
    exit: NDArray[np.int64]
    direction: NDArray[np.int64]
    invested: NDArray[np.float64]
    pnl: NDArray[np.float64]
    returns: NDArray[np.float64]
    entry_date: NDArray[Any]
    exit_date: NDArray[Any]

    def __len__(self) -> int:
        return int(self.entry.size)

    def to_dict(self) -> dict[str, list[Any]]:
        """Columns as lists (a data frame: ``pandas.DataFrame(trades.to_dict())``)."""
        return {k: np.asarray(v).tolist() for k, v in asdict(self).items()}


@dataclass(frozen=True)
class BacktestResult:
    """What a backtest produced.

    Attributes
    ----------
    name : str
        The strategy's label.
    dates : ndarray
        Period labels.
    equity : ndarray of shape (n_periods,)
        Equity at the end of each period.
    returns : ndarray of shape (n_periods,)
        Per-period returns of the equity.
    positions : ndarray of shape (n_periods, n_symbols)
        Money held in each symbol after each date's trades (negative: short).
    turnover, exposure : ndarray of shape (n_periods,)
        Traded notional and gross exposure per period, as fractions of the equity before trading.
    trades : Trades
        The trade ledger.
    stats : Performance
        Statistics.
    capital : float
        Starting equity.
    benchmark : ndarray or None
        Benchmark returns, when the panel has them.
    ruined : bool
        True when the equity reached 0 and the run stopped.
    settings : dict
        The strategy, sizing, costs and limits used.
    """

    name: str
    dates: NDArray[Any]
    symbols: NDArray[Any]
    equity: NDArray[np.float64]
    returns: NDArray[np.float64]
    positions: NDArray[np.float64]
    turnover: NDArray[np.float64]
    exposure: NDArray[np.float64]
    trades: Trades
    stats: Performance
    capital: float
    benchmark: NDArray[np.float64] | None = None
    ruined: bool = False
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def drawdown(self) -> NDArray[np.float64]:
        """Drawdown at the end of each period: ``1 - E_t / max(capital, E_0..E_t)``."""
        peak = np.maximum(np.maximum.accumulate(self.equity), self.capital)
        out: NDArray[np.float64] = 1.0 - self.equity / peak
        return out

    def to_dict(self, *, series: bool = True, trades: bool = False) -> dict[str, Any]:
        """Statistics and settings; with ``series`` the equity, returns and drawdown per date,
        with ``trades`` the ledger."""
        out: dict[str, Any] = {"name": self.name, "capital": self.capital,
                               "ruined": self.ruined, "settings": self.settings,
                               "stats": self.stats.to_dict()}
        if series:
            out["series"] = {"date": [str(d) for d in self.dates],
                             "equity": self.equity.tolist(), "returns": self.returns.tolist(),
                             "drawdown": self.drawdown.tolist()}
            if self.benchmark is not None:
                out["series"]["benchmark"] = self.benchmark.tolist()
        if trades:
            out["trades"] = self.trades.to_dict()
        return out


def _describe(obj: Any) -> Any:
    to_dict = getattr(obj, "to_dict", None)
    return to_dict() if callable(to_dict) else repr(obj)


def orders_from_signals(signals: NDArray[np.float64], rebalance: str) -> NDArray[np.bool_]:
    """Where orders go: every cell with a signal in force (``every_period``) or where the
    signal in force changed (``on_change``; at the first date, every non-zero signal)."""
    held = _carry_forward(signals)
    if rebalance == "every_period":
        out: NDArray[np.bool_] = ~np.isnan(held)
        return out
    prev = np.vstack([np.zeros((1, held.shape[1])), held[:-1]])
    prev = np.nan_to_num(prev)
    now = np.nan_to_num(held)
    return now != prev


def _carry_forward(signals: NDArray[np.float64]) -> NDArray[np.float64]:
    """NaN signals replaced by the last signal of the symbol (NaN before the first)."""
    n_dates = signals.shape[0]
    valid = ~np.isnan(signals)
    idx = np.where(valid, np.arange(n_dates)[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    out = signals[idx, np.arange(signals.shape[1])[None, :]]
    seen = np.maximum.accumulate(valid, axis=0)
    result: NDArray[np.float64] = np.where(seen, out, np.nan)
    return result


def backtest(
    panel: Panel,
    strategy: Strategy | Callable[[Panel], Any],
    *,
    sizing: Sizer | None = None,
    capital: float = 1_000_000.0,
    costs: Costs | None = None,
    limits: Limits | None = None,
    rebalance: str = "on_change",
    periods_per_year: float = 252,
    risk_free_rate: float = 0.0,
    name: str | None = None,
) -> BacktestResult:
    """Backtest ``strategy`` on ``panel``: signals, sizing, costs and limits, one date at a time.

    The strategy's signals (:mod:`modelmon.backtest.rules`) become orders — where the signal
    changes (``rebalance="on_change"``: a held position drifts with its returns) or at every
    date (``"every_period"``: positions are reset to their target size each period). The
    sizer turns each order into a target position; the compiled loop then applies the limits,
    trades, pays the costs and lets the positions earn the period's returns. The order of
    operations within a date:

    1. ``E``, the equity before trading (cash plus positions valued at the previous close);
    2. each ordered symbol's target, ``weight * E`` or an amount, clipped to
       ``limits.max_position * E``; a symbol without a return this period cannot be bought,
       only reduced or closed at its last value;
    3. if the gross exposure would exceed ``limits.max_gross * E``, the ordered targets are
       scaled down together;
    4. sells execute first; unless ``limits.borrow``, buys are scaled down together to the
       cash available after costs;
    5. costs ``costs.rate * |trade| + costs.fixed`` per trade are paid from cash;
    6. positions earn the period's returns; the end-of-period equity is cash plus positions.
       An equity at or below 0 ends the run (the book is closed and stays at 0).

    Parameters
    ----------
    panel : Panel
        Predictions and realised returns by date and symbol.
    strategy : Strategy or callable
        A rule (:class:`~modelmon.backtest.Threshold`, :class:`~modelmon.backtest.TopK`) or a
        function ``f(panel) -> signals``.
    sizing : Sizer, optional
        Position sizing; default :class:`~modelmon.backtest.EqualWeight` (all equity split
        over the positions held).
    capital : float, default=1_000_000
        Starting cash.
    costs : Costs, optional
        Fees, slippage, fixed fees; default none.
    limits : Limits, optional
        Position, gross-exposure and cash limits; default: no borrowing, no other limit.
    rebalance : {"on_change", "every_period"}, default="on_change"
        When signals become orders.
    periods_per_year : float, default=252
        Annualisation of the statistics.
    risk_free_rate : float, default=0.0
        Annual risk-free rate for Sharpe and Sortino.
    name : str, optional
        Label (default: the strategy's name).

    Returns
    -------
    BacktestResult

    Examples
    --------
    >>> from modelmon.backtest import Panel, Threshold
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.normal(0.0003, 0.01, (500, 20))
    >>> panel = Panel(truth + rng.normal(0, 0.02, truth.shape), truth)
    >>> res = backtest(panel, Threshold(long_above="0.5%"), costs=Costs(fees="5bp"))
    >>> round(res.stats.sharpe, 2), res.stats.trades > 0
    (16.85, True)
    """
    owner = "backtest"
    strat = as_strategy(strategy)
    sizer = sizing if sizing is not None else EqualWeight()
    costs = costs if costs is not None else Costs()
    limits = limits if limits is not None else Limits()
    cap = check_real(capital, "capital", owner, low=0.0, closed="neither")
    check_option(rebalance, "rebalance", owner, REBALANCE)
    q = check_real(periods_per_year, "periods_per_year", owner, low=0.0, closed="neither")
    rf = check_real(risk_free_rate, "risk_free_rate", owner, low=-1.0, closed="neither")
    rate = costs.rate
    fixed = check_real(costs.fixed, "fixed", "Costs", low=0.0)
    max_position, max_gross, borrow = limits.resolved()

    signals = strat.signals(panel)
    held_signals = _carry_forward(signals)
    sizes, kind = sizer.sizes(held_signals, panel)
    where = orders_from_signals(signals, rebalance)
    orders = np.where(where, np.nan_to_num(sizes), np.nan)

    n_dates, n_symbols = panel.shape
    equity = np.empty(n_dates)
    cash = np.empty(n_dates)
    held = np.empty((n_dates, n_symbols))
    flows = np.empty((n_dates, n_symbols))
    paid = np.empty((n_dates, n_symbols))
    ruined = bool(_kernel.run_portfolio(
        np.ascontiguousarray(orders), kind == "amount", panel.returns, cap, rate, fixed,
        max_position, max_gross, borrow, equity, cash, held, flows, paid))
    if ruined:
        warnings.warn(f"The backtest {name or strat.name!r} lost all its equity; the book was "
                      "closed and the rest of the run stays at 0.", UndefinedMetricWarning,
                      stacklevel=2)
    before = np.r_[cap, equity[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = np.where(before > 0, equity / before - 1.0, 0.0)
        turnover = np.where(before > 0, np.abs(flows).sum(axis=1) / before, 0.0)
        exposure = np.where(before > 0, np.abs(held).sum(axis=1) / before, 0.0)
    trades = _ledger(held, flows, paid, panel)
    stats = performance(returns, trade_returns=trades.returns, benchmark=panel.benchmark,
                        equity=equity, start=cap, dates=panel.dates, turnover=turnover,
                        exposure=exposure, costs=float(paid.sum()), periods_per_year=q,
                        risk_free_rate=rf)
    settings = {"strategy": _describe(strat), "sizing": _describe(sizer),
                "costs": costs.to_dict(), "limits": limits.to_dict(), "rebalance": rebalance,
                "capital": cap, "periods_per_year": q, "risk_free_rate": rf}
    return BacktestResult(name or strat.name, panel.dates, panel.symbols, equity, returns, held,
                          turnover, exposure, trades, stats, cap, panel.benchmark, ruined,
                          settings)


def _ledger(held: NDArray[np.float64], flows: NDArray[np.float64],
            paid: NDArray[np.float64], panel: Panel) -> Trades:
    n = int(_kernel.count_trades(held, flows))
    symbol = np.empty(n, dtype=np.int64)
    entry = np.empty(n, dtype=np.int64)
    exit_ = np.empty(n, dtype=np.int64)
    direction = np.empty(n, dtype=np.int64)
    invested = np.empty(n)
    pnl = np.empty(n)
    _kernel.fill_trades(held, flows, paid, panel.returns, symbol, entry, exit_, direction,
                        invested, pnl)
    with np.errstate(divide="ignore", invalid="ignore"):
        rets = np.where(invested > 0, pnl / invested, 0.0)
    labels = np.asarray([str(d) for d in panel.dates]) if n else np.empty(0, dtype=str)
    exit_dates = (np.where(exit_ >= 0, labels[np.maximum(exit_, 0)], "") if n
                  else np.empty(0, dtype=str))
    return Trades(panel.symbols[symbol], entry, exit_, direction, invested, pnl, rets,
                  labels[entry] if n else np.empty(0, dtype=str), exit_dates)

"""Performance statistics of a return series, its drawdowns, and bootstrap intervals.

Conventions (the same as :mod:`modelmon.metrics.finance`, which computes each ratio; checked
against empyrical-reloaded and quantstats in the tests):

* returns are simple per-period returns; ``periods_per_year`` (252) annualises;
* ``risk_free_rate`` is **annual** and de-compounded per period, ``(1 + rf)^(1/q) - 1``;
* Sharpe: ``sqrt(q) mean(r - rf) / sd(r - rf)``, ``ddof=1``; Sortino: downside deviation over
  all periods with the risk-free return as target; information ratio: ``sqrt(q) mean(r - b) /
  sd(r - b)`` against the benchmark ``b``;
* annual return: compound (CAGR) ``prod(1 + r)^(q/n) - 1``; volatility ``sd(r) sqrt(q)``;
* max drawdown: a positive fraction of the previous peak, the starting capital counting as a
  peak; Calmar = annual return / max drawdown.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._validation import as_1d_float, check_int, check_probability, check_real
from modelmon.exceptions import ModelmonWarning, ValidationError
from modelmon.metrics import finance as F

__all__ = [
    "BootstrapInterval",
    "Drawdown",
    "Performance",
    "bootstrap_sharpe",
    "bootstrap_sharpe_difference",
    "max_drawdown_details",
    "performance",
]


def _quiet(func: Callable[..., float], *args: Any, **kwargs: Any) -> float:
    """A statistic, NaN (without a warning) where it is undefined: a table of a backtest
    without trades would otherwise warn once per ratio."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelmonWarning)
        return float(func(*args, **kwargs))


@dataclass(frozen=True)
class Drawdown:
    """The deepest fall of an equity curve below a previous peak.

    Attributes
    ----------
    depth : float
        ``1 - trough / peak``, a positive fraction (0 when the equity never fell).
    peak, trough, recovery : int or None
        Period indices of the peak (None: the starting capital), the trough, and the first
        period back at the peak's level (None: not recovered by the end).
    duration : int
        Periods from the peak to the recovery (or to the end when not recovered).
    peak_date, trough_date, recovery_date : str or None
        The same as date labels.
    """

    depth: float
    peak: int | None
    trough: int | None
    recovery: int | None
    duration: int
    peak_date: str | None = None
    trough_date: str | None = None
    recovery_date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict."""
        return asdict(self)


def max_drawdown_details(
    equity: ArrayLike, *, start: float = 1.0, dates: ArrayLike | None = None
) -> Drawdown:
    """The maximum drawdown of an equity curve with its dates and duration.

    Parameters
    ----------
    equity : array-like of shape (n_periods,)
        Equity at the end of each period.
    start : float, default=1.0
        Equity before the first period (it counts as a peak).
    dates : array-like of shape (n_periods,), optional
        Labels of the periods.

    Returns
    -------
    Drawdown

    Examples
    --------
    >>> d = max_drawdown_details([110, 88, 92.4, 83.16, 120], start=100)
    >>> round(d.depth, 4), d.peak, d.trough, d.recovery, d.duration
    (0.244, 0, 3, 4, 4)
    """
    e = as_1d_float(equity, "equity", "max_drawdown_details")
    labels = None if dates is None else np.asarray(dates)
    if e.size == 0:
        return Drawdown(0.0, None, None, None, 0)
    curve = np.r_[start, e]
    peak = np.maximum.accumulate(curve)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, 1.0 - curve / peak, 0.0)
    trough = int(np.argmax(dd))
    depth = float(dd[trough])
    if depth <= 0.0:
        return Drawdown(0.0, None, None, None, 0)
    peak_at = int(np.flatnonzero(curve[: trough + 1] == peak[trough])[-1])
    after = np.flatnonzero(curve[trough:] >= peak[trough])
    recovery = None if after.size == 0 else trough + int(after[0])
    end = recovery if recovery is not None else curve.size - 1
    # curve index i is period i - 1 (index 0 is the start)

    def period(i: int | None) -> int | None:
        return None if i is None or i == 0 else i - 1

    def label(i: int | None) -> str | None:
        p = period(i)
        return None if p is None or labels is None else str(labels[p])

    return Drawdown(depth, period(peak_at), period(trough), period(recovery), end - peak_at,
                    label(peak_at), label(trough), label(recovery))


@dataclass(frozen=True)
class Performance:
    """Statistics of a backtest (or of any return series). Fractions unless stated.

    Attributes
    ----------
    periods : int
        Number of periods.
    total_return, annual_return, annual_volatility : float
        Compound total and annual return; annualised volatility.
    sharpe, sortino, calmar : float
        Ratios as in the module docstring (NaN where undefined).
    max_drawdown : Drawdown
        The deepest drawdown with its dates.
    trades, hit_rate, avg_trade_return, best_trade_return, worst_trade_return : float
        Trade statistics (trades still open at the end valued at the last price); NaN without
        trades.
    turnover : float
        One-way annual turnover: ``q * mean_t(sum_s |trade| / E_t) / 2`` (2.0: the book is
        replaced twice a year).
    exposure : float
        Mean gross exposure as a fraction of equity.
    time_in_market : float
        Share of periods holding any position.
    costs : float
        Total fees, slippage and fixed fees paid, in money.
    information_ratio, benchmark_annual_return : float
        Against the benchmark (NaN without one).
    periods_per_year, risk_free_rate : float
        The conventions used.
    """

    periods: int
    total_return: float
    annual_return: float
    annual_volatility: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: Drawdown
    trades: int
    hit_rate: float
    avg_trade_return: float
    best_trade_return: float
    worst_trade_return: float
    turnover: float
    exposure: float
    time_in_market: float
    costs: float
    information_ratio: float
    benchmark_annual_return: float
    periods_per_year: float
    risk_free_rate: float

    def to_dict(self) -> dict[str, Any]:
        """A flat dict (the drawdown's fields prefixed ``max_drawdown_``)."""
        out = asdict(self)
        dd = out.pop("max_drawdown")
        out["max_drawdown"] = dd.pop("depth")
        out.update({f"max_drawdown_{k}": v for k, v in dd.items()})
        return out


def performance(
    returns: ArrayLike,
    *,
    trade_returns: ArrayLike | None = None,
    benchmark: ArrayLike | None = None,
    equity: ArrayLike | None = None,
    start: float = 1.0,
    dates: ArrayLike | None = None,
    turnover: ArrayLike | None = None,
    exposure: ArrayLike | None = None,
    costs: float = 0.0,
    periods_per_year: float = 252,
    risk_free_rate: float = 0.0,
) -> Performance:
    """Compute :class:`Performance` from per-period returns (and a backtest's extras).

    Parameters
    ----------
    returns : array-like of shape (n_periods,)
        Simple returns of the portfolio per period.
    trade_returns : array-like, optional
        Return of each trade.
    benchmark : array-like of shape (n_periods,), optional
        Benchmark returns over the same periods.
    equity : array-like of shape (n_periods,), optional
        The equity curve (default: compounded from ``start``).
    start : float, default=1.0
        Equity before the first period.
    dates : array-like, optional
        Period labels, for the drawdown's dates.
    turnover, exposure : array-like of shape (n_periods,), optional
        Traded notional and gross exposure per period, as fractions of equity.
    costs : float, default=0.0
        Costs paid.
    periods_per_year : float, default=252
        Periods per year.
    risk_free_rate : float, default=0.0
        Annual risk-free rate.

    Returns
    -------
    Performance

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = performance(rng.normal(0.0005, 0.01, 504))
    >>> round(p.sharpe, 3), round(p.max_drawdown.depth, 3)
    (0.344, 0.174)
    """
    owner = "performance"
    r = as_1d_float(returns, "returns", owner)
    q = check_real(periods_per_year, "periods_per_year", owner, low=0.0, closed="neither")
    rf = check_real(risk_free_rate, "risk_free_rate", owner, low=-1.0, closed="neither")
    eq = (start * np.cumprod(1.0 + r)) if equity is None else as_1d_float(equity, "equity", owner)
    trades = (np.empty(0) if trade_returns is None
              else as_1d_float(trade_returns, "trade_returns", owner))
    n = r.size
    total = float(eq[-1] / start - 1.0) if n else math.nan
    ir = bench_annual = math.nan
    if benchmark is not None:
        b = as_1d_float(benchmark, "benchmark", owner)
        if b.size != n:
            raise ValidationError(f"The benchmark has {b.size} periods; the returns have {n}.",
                                  code="length_mismatch", loc=("benchmark",))
        ir = _quiet(F.information_ratio, r, benchmark=b, periods_per_year=q)
        bench_annual = _quiet(F.annual_return, b, periods_per_year=q)
    turn = (math.nan if turnover is None or n == 0
            else float(np.mean(as_1d_float(turnover, "turnover", owner))) * q / 2.0)
    expo = as_1d_float(exposure, "exposure", owner) if exposure is not None else None
    return Performance(
        periods=n,
        total_return=total,
        annual_return=_quiet(F.annual_return, r, periods_per_year=q),
        annual_volatility=_quiet(F.annual_volatility, r, periods_per_year=q),
        sharpe=_quiet(F.sharpe_ratio, r, risk_free_rate=rf, periods_per_year=q),
        sortino=_quiet(F.sortino_ratio, r, risk_free_rate=rf, periods_per_year=q),
        calmar=_quiet(F.calmar_ratio, r, periods_per_year=q),
        max_drawdown=max_drawdown_details(eq, start=start, dates=dates),
        trades=int(trades.size),
        hit_rate=float(np.mean(trades > 0)) if trades.size else math.nan,
        avg_trade_return=float(np.mean(trades)) if trades.size else math.nan,
        best_trade_return=float(np.max(trades)) if trades.size else math.nan,
        worst_trade_return=float(np.min(trades)) if trades.size else math.nan,
        turnover=turn,
        exposure=math.nan if expo is None or n == 0 else float(np.mean(expo)),
        time_in_market=math.nan if expo is None or n == 0 else float(np.mean(expo > 0)),
        costs=float(costs),
        information_ratio=ir,
        benchmark_annual_return=bench_annual,
        periods_per_year=q,
        risk_free_rate=rf,
    )


# --- bootstrap ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BootstrapInterval:
    """A bootstrap confidence interval.

    Attributes
    ----------
    statistic : str
        What was resampled (``"sharpe"``, ``"sharpe_difference"``).
    estimate : float
        The statistic on the original series.
    low, high : float
        Percentile interval at ``level``.
    level : float
        Confidence level.
    p_value : float
        One-sided bootstrap p-value of "the statistic is <= 0": the share of resamples at or
        below 0.
    n_resamples, block_length : int
        Resamples drawn and the block length of the circular block bootstrap.
    """

    statistic: str
    estimate: float
    low: float
    high: float
    level: float
    p_value: float
    n_resamples: int
    block_length: int

    @property
    def excludes_zero(self) -> bool:
        """True when the interval lies entirely above or below 0."""
        return bool(self.low > 0 or self.high < 0)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict."""
        return {**asdict(self), "excludes_zero": self.excludes_zero}


def _block_indices(
    n: int, n_resamples: int, block_length: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Indices of circular block bootstrap resamples, shape (n_resamples, n)."""
    n_blocks = -(-n // block_length)
    starts = rng.integers(0, n, size=(n_resamples, n_blocks))
    idx = (starts[:, :, None] + np.arange(block_length)[None, None, :]) % n
    out: NDArray[np.int64] = idx.reshape(n_resamples, -1)[:, :n]
    return out


def _resampled(
    stat: Callable[[NDArray[np.int64]], NDArray[np.float64]], n: int, n_resamples: int,
    block_length: int, rng: np.random.Generator,
) -> NDArray[np.float64]:
    """``stat`` over resample indices, in chunks that keep memory to a few MB."""
    chunk = max(1, 2_000_000 // max(n, 1))
    parts = []
    for done in range(0, n_resamples, chunk):
        parts.append(stat(_block_indices(n, min(chunk, n_resamples - done), block_length, rng)))
    return np.concatenate(parts)


def _sharpe_rows(x: NDArray[np.float64], q: float) -> NDArray[np.float64]:
    sd = np.std(x, axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: NDArray[np.float64] = np.where(sd > 0, np.mean(x, axis=-1) / sd * math.sqrt(q),
                                            np.nan)
    return out


def _check_boot(
    n: int, n_resamples: int, block_length: int | None, level: float, owner: str
) -> tuple[int, int, float]:
    n_resamples = check_int(n_resamples, "n_resamples", owner, low=10)
    level = check_probability(level, "level", owner)
    if n < 3:
        raise ValidationError(f"{owner} needs at least 3 periods. Got {n}.",
                              code="empty_input", loc=("returns",))
    if block_length is None:
        block_length = max(1, round(n ** (1 / 3)))
    block_length = check_int(block_length, "block_length", owner, low=1, high=n)
    return n_resamples, block_length, level


def _interval(
    name: str, estimate: float, draws: NDArray[np.float64], level: float, n_resamples: int,
    block_length: int,
) -> BootstrapInterval:
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return BootstrapInterval(name, estimate, math.nan, math.nan, level, math.nan,
                                 n_resamples, block_length)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(draws, [alpha, 1.0 - alpha])
    return BootstrapInterval(name, estimate, float(low), float(high), level,
                             float(np.mean(draws <= 0.0)), n_resamples, block_length)


def bootstrap_sharpe(
    returns: ArrayLike,
    *,
    n_resamples: int = 2000,
    level: float = 0.95,
    block_length: int | None = None,
    periods_per_year: float = 252,
    risk_free_rate: float = 0.0,
    random_state: int | np.random.Generator | None = 0,
) -> BootstrapInterval:
    """Percentile interval for the annualised Sharpe ratio by the circular block bootstrap.

    Blocks of ``block_length`` consecutive periods (default ``round(n^(1/3))``) keep short-range
    autocorrelation and volatility clustering that resampling single days would destroy
    (Politis & Romano, 1992).

    Parameters
    ----------
    returns : array-like of shape (n_periods,)
        Per-period returns.
    n_resamples : int, default=2000
        Bootstrap resamples.
    level : float, default=0.95
        Confidence level.
    block_length : int, optional
        Block length in periods.
    periods_per_year : float, default=252
        Annualisation.
    risk_free_rate : float, default=0.0
        Annual risk-free rate.
    random_state : int or Generator or None, default=0
        Seed.

    Returns
    -------
    BootstrapInterval
        ``p_value`` is the share of resamples with a Sharpe ratio <= 0.

    References
    ----------
    Politis, D. N., Romano, J. P. (1992). A circular block-resampling procedure for stationary
    data. In Exploring the Limits of Bootstrap, Wiley.

    Examples
    --------
    >>> r = np.random.default_rng(1).normal(0.001, 0.01, 750)
    >>> ci = bootstrap_sharpe(r, n_resamples=500)
    >>> ci.low < ci.estimate < ci.high
    True
    """
    owner = "bootstrap_sharpe"
    r = as_1d_float(returns, "returns", owner)
    n_resamples, block_length, level = _check_boot(r.size, n_resamples, block_length, level,
                                                   owner)
    q = check_real(periods_per_year, "periods_per_year", owner, low=0.0, closed="neither")
    rf = check_real(risk_free_rate, "risk_free_rate", owner, low=-1.0, closed="neither")
    excess = r - ((1.0 + rf) ** (1.0 / q) - 1.0)
    rng = np.random.default_rng(random_state)
    draws = _resampled(lambda idx: _sharpe_rows(excess[idx], q), r.size, n_resamples,
                       block_length, rng)
    estimate = float(_sharpe_rows(excess, q))
    return _interval("sharpe", estimate, draws, level, n_resamples, block_length)


def bootstrap_sharpe_difference(
    returns_a: ArrayLike,
    returns_b: ArrayLike,
    *,
    n_resamples: int = 2000,
    level: float = 0.95,
    block_length: int | None = None,
    periods_per_year: float = 252,
    random_state: int | np.random.Generator | None = 0,
) -> BootstrapInterval:
    """Interval for ``Sharpe(a) - Sharpe(b)`` of two strategies (or model versions) run over
    the **same periods**, by a paired circular block bootstrap.

    Both series are resampled with the same blocks, which keeps their correlation: two
    strategies on one market move together, and resampling them apart would exaggerate the
    noise in their difference (Ledoit & Wolf, 2008, who also use a block bootstrap for this
    test). ``p_value`` is the share of resamples where ``a`` is not better (difference <= 0):
    a small value says that ``a``'s edge is unlikely to be luck.

    Parameters
    ----------
    returns_a, returns_b : array-like of shape (n_periods,)
        Per-period returns of the two strategies over the same periods.
    n_resamples, level, block_length, periods_per_year, random_state
        As in :func:`bootstrap_sharpe`.

    Returns
    -------
    BootstrapInterval

    References
    ----------
    Ledoit, O., Wolf, M. (2008). Robust performance hypothesis testing with the Sharpe ratio.
    Journal of Empirical Finance 15(5).

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> market = rng.normal(0.0, 0.01, 1000)
    >>> a, b = market + 0.001, market
    >>> d = bootstrap_sharpe_difference(a, b, n_resamples=500)
    >>> d.estimate > 0, d.excludes_zero
    (True, True)
    """
    owner = "bootstrap_sharpe_difference"
    a = as_1d_float(returns_a, "returns_a", owner)
    b = as_1d_float(returns_b, "returns_b", owner)
    if a.size != b.size:
        raise ValidationError(
            f"Found input variables of inconsistent lengths in {owner}: returns_a={a.size}, "
            f"returns_b={b.size}.", code="length_mismatch", loc=("returns_b",))
    n_resamples, block_length, level = _check_boot(a.size, n_resamples, block_length, level,
                                                   owner)
    q = check_real(periods_per_year, "periods_per_year", owner, low=0.0, closed="neither")
    rng = np.random.default_rng(random_state)
    draws = _resampled(lambda idx: _sharpe_rows(a[idx], q) - _sharpe_rows(b[idx], q), a.size,
                       n_resamples, block_length, rng)
    estimate = float(_sharpe_rows(a, q) - _sharpe_rows(b, q))
    return _interval("sharpe_difference", estimate, draws, level, n_resamples, block_length)

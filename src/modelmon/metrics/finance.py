"""Finance metrics for return forecasters (trading) and IPO valuation models.

Trading metrics take ``y_true``, the realised simple returns of an asset per period (in time
order), and ``y_pred``, the model's predicted returns for the same periods. Where a metric is
about money made rather than forecasts hit, it is computed on the **strategy returns** of trading
the signal::

    position_t = sign(y_pred_t)            (position="sign": long, short or flat)
    position_t = 1 if y_pred_t > 0 else 0  (position="long_only")
    r_t        = position_t * y_true_t

With ``y_pred=None`` those metrics take ``y_true`` itself as the return series to judge (e.g. a
portfolio's realised returns), so they double as plain performance statistics. Order matters
for :func:`max_drawdown`; the others are order-free.

IPO metrics take one row per IPO: realised and predicted first-day returns or prices, offer
prices, and whether the over-allotment (greenshoe) option was exercised.

Units and conventions. Every metric here returns a **fraction** (0.15 = 15 %) except
:func:`valuation_mape`, which is in **percent** (15 = 15 %), the way IPO analysts write it.
Where users' conventions differ from modelmon's older definition, both exist under distinct
names: :func:`max_drawdown` (a positive fraction) and :func:`max_drawdown_signed` (<= 0, the
empyrical/quantstats sign); :func:`hit_rate` (per period with a position) and
:func:`trade_hit_rate` (per round-trip trade, as a backtest counts them);
:func:`over_allocation_rate` (greenshoe exercise share) and :func:`overvaluation_rate` (share of
valuations above the actual, which the IPO platform calls "over-allocation"); ``mape`` (a
fraction) and :func:`valuation_mape` (percent). :func:`parse_threshold` reads a rule threshold
given as ``"15%"``, ``"10bp"`` or ``0.15`` into the unit of the metric it is compared with.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._validation import (
    as_1d_float,
    check_consistent_length,
    check_int,
    check_option,
    check_probability,
    check_real,
    check_sample_weight,
    undefined,
)
from modelmon.exceptions import ParameterError, ValidationError
from modelmon.metrics._checks import check_reg_targets, empty_input, weighted_mean
from modelmon.metrics.registry import Direction, register_metric
from modelmon.metrics.regression import (
    ZERO_POLICIES,
    _ape_terms,
    _mape_value,
    _warn_excluded_zeros,
)

__all__ = [
    "PERCENT_METRICS",
    "annual_return",
    "annual_volatility",
    "calmar_ratio",
    "directional_accuracy",
    "expected_shortfall",
    "first_day_return_accuracy",
    "first_day_return_sign_accuracy",
    "hit_rate",
    "information_ratio",
    "max_drawdown",
    "max_drawdown_signed",
    "metric_unit",
    "over_allocation_rate",
    "over_allocation_rate_error",
    "overvaluation_rate",
    "parse_threshold",
    "profit_loss_ratio",
    "sharpe_ratio",
    "sortino_ratio",
    "strategy_returns",
    "trade_hit_rate",
    "underpricing_error",
    "valuation_mape",
    "value_at_risk",
]

_TASKS = ("finance",)
POSITIONS = ("sign", "long_only")
LOSS_SIDES = ("over", "under", "absolute")


def strategy_returns(
    y_true: ArrayLike, y_pred: ArrayLike | None = None, *, position: str = "sign"
) -> NDArray[np.float64]:
    """Returns earned by trading on the predictions: ``position(y_pred) * y_true``.

    Parameters
    ----------
    y_true : array-like of shape (n_periods,)
        Realised simple returns of the asset.
    y_pred : array-like of shape (n_periods,), optional
        Predicted returns. If None, ``y_true`` is returned unchanged (it is the series to judge).
    position : {"sign", "long_only"}, default="sign"
        ``"sign"``: +1 when a rise is predicted, -1 for a fall, 0 for no change.
        ``"long_only"``: 1 when a rise is predicted, else 0.

    Returns
    -------
    ndarray of shape (n_periods,)

    Examples
    --------
    >>> strategy_returns([0.01, -0.02, 0.03], [0.5, -0.1, -0.2])
    array([ 0.01,  0.02, -0.03])
    """
    return _strategy(y_true, y_pred, position, "strategy_returns")


def _strategy(
    y_true: ArrayLike, y_pred: ArrayLike | None, position: str, owner: str
) -> NDArray[np.float64]:
    check_option(position, "position", owner, POSITIONS)
    yt = as_1d_float(y_true, "y_true", owner)
    if y_pred is None:
        return yt
    yp = as_1d_float(y_pred, "y_pred", owner)
    check_consistent_length([yt, yp], ["y_true", "y_pred"], owner)
    pos = np.sign(yp) if position == "sign" else (yp > 0).astype(np.float64)
    out: NDArray[np.float64] = pos * yt
    return out


def _sign_accuracy(
    yt: NDArray[np.float64],
    yp: NDArray[np.float64],
    w: NDArray[np.float64] | None,
    owner: str,
) -> float:
    hits = (np.sign(yt) == np.sign(yp)).astype(np.float64)
    return weighted_mean(hits, w, owner)


@register_metric(
    "directional_accuracy",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="Share of periods whose predicted direction of change was right.",
)
def directional_accuracy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    kind: str = "change",
    sample_weight: ArrayLike | None = None,
) -> float:
    """Mean directional accuracy: how often the predicted direction of change is right.

    * ``kind="change"``: ``y_true`` and ``y_pred`` are changes (returns);
      ``DA = mean(sign(y_pred) == sign(y_true))``.
    * ``kind="level"``: they are levels (prices) in time order, and each prediction is judged
      against the last realised level: ``DA = mean(sign(y_pred[t] - y_true[t-1]) ==
      sign(y_true[t] - y_true[t-1]))`` over ``t = 1 .. n-1`` (the first row has no previous
      level; its weight is unused).

    ``sign(0) = 0``: a predicted "no change" is right only when nothing changed.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_periods,)
        Realised and predicted changes (or levels).
    kind : {"change", "level"}, default="change"
        What the arrays hold.
    sample_weight : array-like of shape (n_periods,), optional
        Non-negative weights.

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning for empty input (fewer than two rows for
        ``kind="level"``).

    References
    ----------
    Pesaran, M. H., Timmermann, A. (1992). A simple nonparametric test of predictive
    performance. Journal of Business & Economic Statistics 10(4).

    Examples
    --------
    >>> directional_accuracy([0.02, -0.01, 0.0, 0.03], [0.01, 0.02, 0.0, 0.01])
    0.75
    >>> directional_accuracy([100, 102, 101, 103], [0, 101, 103, 104], kind="level")
    0.6666...
    """
    owner = "directional_accuracy"
    check_option(kind, "kind", owner, ("change", "level"))
    yt, yp, w = check_reg_targets(y_true, y_pred, owner, sample_weight)
    if kind == "level":
        if yt.size < 2:
            return empty_input(owner)
        prev = yt[:-1]
        return _sign_accuracy(yt[1:] - prev, yp[1:] - prev, None if w is None else w[1:], owner)
    return _sign_accuracy(yt, yp, w, owner)


def _annualised_ratio(
    x: NDArray[np.float64], periods_per_year: float, ddof: int, owner: str, what: str
) -> float:
    if x.size == 0:
        return empty_input(owner)
    if x.size - ddof <= 0:
        return undefined(
            f"{owner} is undefined with {x.size} period(s) and ddof={ddof}. Returning NaN; use "
            "more periods or a smaller ddof=.",
            stacklevel=3,
        )
    sd = float(np.std(x, ddof=ddof))
    if sd == 0.0:
        return undefined(
            f"{owner} is undefined: the {what} are constant (zero standard deviation). "
            "Returning NaN.",
            stacklevel=3,
        )
    return float(np.mean(x)) / sd * math.sqrt(periods_per_year)


@register_metric(
    "sharpe_ratio",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="Annualised mean excess return over its standard deviation.",
)
def sharpe_ratio(
    y_true: ArrayLike,
    y_pred: ArrayLike | None = None,
    *,
    risk_free_rate: float = 0.0,
    periods_per_year: float = 252,
    ddof: int = 1,
    position: str = "sign",
) -> float:
    """Annualised Sharpe ratio of the strategy returns (or of ``y_true`` when ``y_pred`` is None).

    .. math:: \\mathrm{SR} = \\sqrt{q}\\,\\frac{\\overline{r - r_f}}{s(r - r_f)}

    with ``q = periods_per_year``, ``s`` the standard deviation with ``ddof`` and ``r_f`` the
    per-period risk-free return de-compounded from the annual rate,
    ``r_f = (1 + risk_free_rate)^(1/q) - 1``. Scaling by ``sqrt(q)`` assumes independent
    returns (Lo, 2002).

    Parameters
    ----------
    y_true : array-like of shape (n_periods,)
        Realised simple returns per period.
    y_pred : array-like of shape (n_periods,), optional
        Predicted returns; the ratio is then that of the strategy returns (module docstring).
    risk_free_rate : float, default=0.0
        Annual risk-free rate, e.g. 0.03 for 3 %.
    periods_per_year : float, default=252
        Periods per year: 252 trading days, 52 weeks, 12 months; 1 for no annualisation.
    ddof : int, default=1
        Delta degrees of freedom of the standard deviation (1: sample standard deviation, as
        most performance libraries use).
    position : {"sign", "long_only"}, default="sign"
        How predictions become positions.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for constant returns, too few periods or empty input.

    References
    ----------
    Sharpe, W. F. (1994). The Sharpe ratio. Journal of Portfolio Management 21(1).
    Lo, A. W. (2002). The statistics of Sharpe ratios. Financial Analysts Journal 58(4).

    Examples
    --------
    >>> round(sharpe_ratio([0.01, -0.005, 0.007, 0.002], periods_per_year=12), 4)
    1.8489
    """
    owner = "sharpe_ratio"
    rf = check_real(risk_free_rate, "risk_free_rate", owner, low=-1.0, closed="neither")
    q = check_real(periods_per_year, "periods_per_year", owner, low=0.0, closed="neither")
    ddof = check_int(ddof, "ddof", owner, low=0)
    r = _strategy(y_true, y_pred, position, owner)
    rf_period = (1.0 + rf) ** (1.0 / q) - 1.0
    return _annualised_ratio(r - rf_period, q, ddof, owner, "excess returns")


@register_metric(
    "information_ratio",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="Annualised mean active return over tracking error.",
)
def information_ratio(
    y_true: ArrayLike,
    y_pred: ArrayLike | None = None,
    *,
    benchmark: ArrayLike | None = None,
    periods_per_year: float = 252,
    ddof: int = 1,
    position: str = "sign",
) -> float:
    """Annualised information ratio: mean active return over its standard deviation.

    .. math:: \\mathrm{IR} = \\sqrt{q}\\,\\frac{\\overline{r - b}}{s(r - b)}

    ``r`` are the strategy returns (or ``y_true`` when ``y_pred`` is None) and ``b`` the
    benchmark returns: ``benchmark`` when given, else — with predictions — ``y_true`` itself,
    i.e. the signal is judged against simply holding the asset. ``s(r - b)`` is the tracking
    error (Grinold & Kahn, 2000). There is no ``risk_free_rate``: it cancels in ``r - b``.

    Parameters
    ----------
    y_true : array-like of shape (n_periods,)
        Realised simple returns per period.
    y_pred : array-like of shape (n_periods,), optional
        Predicted returns.
    benchmark : array-like of shape (n_periods,), optional
        Benchmark returns; required when ``y_pred`` is None.
    periods_per_year : float, default=252
        Periods per year (1 for no annualisation).
    ddof : int, default=1
        Delta degrees of freedom of the tracking error.
    position : {"sign", "long_only"}, default="sign"
        How predictions become positions.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for a constant active return (e.g. strategy equal
        to the benchmark), too few periods or empty input.

    References
    ----------
    Grinold, R. C., Kahn, R. N. (2000). Active Portfolio Management, 2nd ed. McGraw-Hill.

    Examples
    --------
    >>> round(information_ratio([0.01, -0.02, 0.015, -0.01], [1, -1, 1, 1], periods_per_year=1), 4)
    0.5
    """
    owner = "information_ratio"
    q = check_real(periods_per_year, "periods_per_year", owner, low=0.0, closed="neither")
    ddof = check_int(ddof, "ddof", owner, low=0)
    r = _strategy(y_true, y_pred, position, owner)
    if benchmark is None:
        if y_pred is None:
            raise ParameterError(
                f"The 'benchmark' parameter of {owner} is required when y_pred is None.",
                loc=("benchmark",),
            )
        b = as_1d_float(y_true, "y_true", owner)
    else:
        b = as_1d_float(benchmark, "benchmark", owner)
        check_consistent_length([r, b], ["y_true", "benchmark"], owner)
    return _annualised_ratio(r - b, q, ddof, owner, "active returns")


@register_metric(
    "max_drawdown",
    Direction.LOWER,
    _TASKS,
    input="value",
    description="Largest peak-to-trough fall of the compounded equity curve (fraction).",
)
def max_drawdown(
    y_true: ArrayLike, y_pred: ArrayLike | None = None, *, position: str = "sign"
) -> float:
    """Maximum drawdown of the equity curve compounded from a **return** series.

    The equity curve starts at 1 and compounds simple returns, ``E_t = prod_{s<=t} (1 + r_s)``;
    the drawdown at ``t`` is ``1 - E_t / max_{s<=t} E_s`` (the starting value 1 counts as a
    peak), and the maximum drawdown is its largest value: 0.25 means the equity fell 25 % below
    a previous peak. To measure an equity (price/value) series ``V``, pass its returns
    ``V[1:] / V[:-1] - 1``.

    Parameters
    ----------
    y_true : array-like of shape (n_periods,)
        Realised simple returns, in time order; each must be >= -1.
    y_pred : array-like of shape (n_periods,), optional
        Predicted returns; the drawdown is then that of the strategy returns.
    position : {"sign", "long_only"}, default="sign"
        How predictions become positions.

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning for empty input.

    References
    ----------
    Magdon-Ismail, M., Atiya, A. F. (2004). Maximum drawdown. Risk 17(10).

    Examples
    --------
    >>> round(max_drawdown([0.1, -0.2, 0.05, -0.1, 0.3]), 4)
    0.244
    """
    owner = "max_drawdown"
    r = _strategy(y_true, y_pred, position, owner)
    if r.size == 0:
        return empty_input(owner)
    if float(r.min()) < -1.0:
        raise ValidationError(
            f"The returns given to {owner} must be >= -1 (a loss cannot exceed 100 %). Got "
            f"{float(r.min())!r}.",
            loc=("y_true",),
        )
    return _max_drawdown(r)


def _traded(
    y_true: ArrayLike, y_pred: ArrayLike | None, position: str, owner: str
) -> NDArray[np.float64]:
    """Strategy returns of the periods with a position (every period when y_pred is None)."""
    r = _strategy(y_true, y_pred, position, owner)
    if y_pred is None:
        return r
    yp = as_1d_float(y_pred, "y_pred", owner)
    held = yp != 0 if position == "sign" else yp > 0
    return r[held]


@register_metric(
    "hit_rate",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="Share of trades (periods with a position) that made money.",
)
def hit_rate(
    y_true: ArrayLike, y_pred: ArrayLike | None = None, *, position: str = "sign"
) -> float:
    """Share of trades with a positive return.

    With predictions, a trade is a period with a non-zero position and a hit is a trade whose
    strategy return is > 0 (a trade returning exactly 0 is not a hit). Without predictions,
    every period counts and a hit is ``y_true > 0``. Unlike :func:`directional_accuracy`, flat
    periods (no position) are not counted.

    Parameters
    ----------
    y_true : array-like of shape (n_periods,)
        Realised returns.
    y_pred : array-like of shape (n_periods,), optional
        Predicted returns.
    position : {"sign", "long_only"}, default="sign"
        How predictions become positions.

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning when there is no trade.

    Examples
    --------
    >>> hit_rate([0.01, -0.02, 0.03, 0.01], [1, -1, -1, 0])
    0.6666...
    """
    owner = "hit_rate"
    r = _traded(y_true, y_pred, position, owner)
    if r.size == 0:
        return undefined(f"{owner} is undefined: there are no trades. Returning NaN.")
    return float(np.mean(r > 0))


@register_metric(
    "profit_loss_ratio",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="Mean gain of winning trades over mean loss of losing trades.",
)
def profit_loss_ratio(
    y_true: ArrayLike, y_pred: ArrayLike | None = None, *, position: str = "sign"
) -> float:
    """Profit/loss (payoff) ratio: mean gain of winning trades over mean loss of losing trades.

    .. math:: \\mathrm{PLR} = \\frac{\\operatorname{mean}\\{r_t : r_t > 0\\}}
              {|\\operatorname{mean}\\{r_t : r_t < 0\\}|}

    over the trades of :func:`hit_rate`; zero returns are in neither set. With ``hit_rate`` it
    gives the expectancy ``hit_rate * PLR - (1 - hit_rate)`` per unit of average loss.

    Parameters
    ----------
    y_true : array-like of shape (n_periods,)
        Realised returns.
    y_pred : array-like of shape (n_periods,), optional
        Predicted returns.
    position : {"sign", "long_only"}, default="sign"
        How predictions become positions.

    Returns
    -------
    float
        0.0 when there are losing but no winning trades; NaN with an UndefinedMetricWarning when
        there is no losing trade (the ratio is unbounded) or the ratio overflows.

    Examples
    --------
    >>> profit_loss_ratio([0.02, -0.01, 0.04, -0.03])
    1.5
    """
    owner = "profit_loss_ratio"
    r = _traded(y_true, y_pred, position, owner)
    losses = r[r < 0]
    if losses.size == 0:
        return undefined(
            f"{owner} is undefined: there are no losing trades (or no trades). Returning NaN."
        )
    gains = r[r > 0]
    if gains.size == 0:
        return 0.0
    with np.errstate(over="ignore"):
        ratio = float(np.mean(gains) / -np.mean(losses))
    if not math.isfinite(ratio):
        return undefined(
            f"{owner} overflowed: the mean loss is vanishingly small next to the mean gain. "
            "Returning NaN."
        )
    return ratio


def _losses(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    side: str,
    sample_weight: ArrayLike | None,
    owner: str,
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    check_option(side, "side", owner, LOSS_SIDES)
    yt, yp, w = check_reg_targets(y_true, y_pred, owner, sample_weight)
    err = yp - yt
    if side == "under":
        err = -err
    elif side == "absolute":
        err = np.abs(err)
    if w is not None:
        keep = w > 0
        if not keep.all():
            err, w = err[keep], w[keep]
    return err, w


def _var_es(
    loss: NDArray[np.float64], w: NDArray[np.float64] | None, level: float
) -> tuple[float, float]:
    """Historical VaR (lower empirical quantile) and Acerbi–Tasche expected shortfall."""
    order = np.argsort(loss)
    ls = loss[order]
    ws = np.ones(ls.size) if w is None else w[order]
    total = float(ws.sum())
    cdf = np.cumsum(ws)
    # first loss whose cumulative share reaches the level; relative tolerance absorbs the
    # rounding of level * total (so 19 of 20 equal weights reach 0.95)
    k = int(np.searchsorted(cdf, level * total * (1.0 - 8 * np.finfo(float).eps), side="left"))
    k = min(k, ls.size - 1)
    var = float(ls[k])
    above = ls > var
    tail_weight = float(ws[above].sum()) / total
    tail_mean = float(np.dot(ws[above], ls[above])) / total
    es = (tail_mean + var * ((1.0 - level) - tail_weight)) / (1.0 - level)
    return var, es


@register_metric(
    "value_at_risk",
    Direction.LOWER,
    _TASKS,
    input="value",
    description="Historical VaR of prediction errors at a confidence level.",
)
def value_at_risk(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    level: float = 0.95,
    side: str = "over",
    sample_weight: ArrayLike | None = None,
) -> float:
    """Historical value at risk of the prediction errors at confidence ``level``.

    The loss of a row is its prediction error seen from the side that costs money:
    ``side="over"`` (default) takes ``y_pred - y_true`` — an over-valuation, which costs a buyer
    who trusts the model; ``"under"`` takes ``y_true - y_pred``; ``"absolute"`` takes
    ``|y_pred - y_true|``. The VaR is the lower empirical ``level``-quantile of the losses
    (historical simulation, no interpolation — NumPy's ``method="inverted_cdf"``): the smallest
    loss ``l`` with ``P(loss <= l) >= level``, weights counting as frequencies.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Realised and predicted values.
    level : float, default=0.95
        Confidence level in (0, 1).
    side : {"over", "under", "absolute"}, default="over"
        Which errors are losses.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights.

    Returns
    -------
    float
        In the units of ``y``. NaN with an UndefinedMetricWarning for empty input or zero total
        weight.

    References
    ----------
    Jorion, P. (2006). Value at Risk: The New Benchmark for Managing Financial Risk, 3rd ed.

    Examples
    --------
    >>> value_at_risk(np.zeros(10), np.arange(10.0), level=0.8)
    7.0
    """
    owner = "value_at_risk"
    level = check_probability(level, "level", owner)
    loss, w = _losses(y_true, y_pred, side, sample_weight, owner)
    if loss.size == 0:
        return _empty_or_zero_weight(sample_weight, owner)
    return _var_es(loss, w, level)[0]


def _empty_or_zero_weight(sample_weight: Any, owner: str) -> float:
    if sample_weight is not None and np.asarray(sample_weight).size:
        return undefined(f"{owner} is undefined: the sample weights sum to zero.", stacklevel=4)
    return empty_input(owner)


@register_metric(
    "expected_shortfall",
    Direction.LOWER,
    _TASKS,
    input="value",
    description="Mean of the worst (1 - level) share of prediction-error losses.",
)
def expected_shortfall(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    level: float = 0.95,
    side: str = "over",
    sample_weight: ArrayLike | None = None,
) -> float:
    """Expected shortfall (CVaR) of the prediction errors: the mean of the worst ``1 - level``.

    With losses as in :func:`value_at_risk` and ``VaR`` its value, the historical expected
    shortfall of Acerbi & Tasche (2002), which stays coherent when the empirical distribution
    has atoms, is

    .. math:: \\mathrm{ES}_\\alpha = \\frac{1}{1-\\alpha}\\Big(E[L\\,1\\{L > \\mathrm{VaR}\\}]
              + \\mathrm{VaR}\\,\\big(1 - \\alpha - P(L > \\mathrm{VaR})\\big)\\Big)

    the average of the quantile function over ``[level, 1]``. When ``n (1 - level)`` is a whole
    number ``k`` of equally weighted rows, it is the mean of the ``k`` largest losses.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Realised and predicted values.
    level : float, default=0.95
        Confidence level in (0, 1).
    side : {"over", "under", "absolute"}, default="over"
        Which errors are losses.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights (frequencies).

    Returns
    -------
    float
        At least the VaR. NaN with an UndefinedMetricWarning for empty input or zero weight.

    References
    ----------
    Acerbi, C., Tasche, D. (2002). On the coherence of expected shortfall. Journal of Banking &
    Finance 26(7).

    Examples
    --------
    >>> expected_shortfall(np.zeros(10), np.arange(10.0), level=0.8)
    8.5
    """
    owner = "expected_shortfall"
    level = check_probability(level, "level", owner)
    loss, w = _losses(y_true, y_pred, side, sample_weight, owner)
    if loss.size == 0:
        return _empty_or_zero_weight(sample_weight, owner)
    return _var_es(loss, w, level)[1]


@register_metric(
    "first_day_return_sign_accuracy",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="IPO: share of deals whose first-day return sign was predicted right.",
)
def first_day_return_sign_accuracy(
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    """IPO: share of deals whose first-day return had the predicted sign.

    The first-day return of an IPO is ``close_1 / offer_price - 1``. A deal is counted right
    when ``sign(predicted) == sign(realised)``; a flat first day (return exactly 0, common for
    stabilised deals) is right only if a flat day was predicted.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_ipos,)
        Realised and predicted first-day returns.
    sample_weight : array-like of shape (n_ipos,), optional
        Non-negative weights (e.g. deal size).

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning for empty input.

    Examples
    --------
    >>> first_day_return_sign_accuracy([0.15, -0.05, 0.0, 0.30], [0.10, 0.02, 0.0, 0.05])
    0.75
    """
    owner = "first_day_return_sign_accuracy"
    yt, yp, w = check_reg_targets(y_true, y_pred, owner, sample_weight)
    return _sign_accuracy(yt, yp, w, owner)


@register_metric(
    "underpricing_error",
    Direction.LOWER,
    _TASKS,
    input="value",
    description="IPO: mean absolute error of predicted vs realised underpricing.",
)
def underpricing_error(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    offer_price: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> float:
    """IPO: mean absolute error between predicted and realised underpricing.

    Underpricing (initial return) is ``U = (P_1 - P_0) / P_0`` with ``P_0`` the offer price and
    ``P_1`` the first-day closing price (Ritter & Welch, 2002). With ``offer_price`` given,
    ``y_true`` and ``y_pred`` are the realised and predicted first-day closing prices and are
    converted; without it they are underpricing values already. The metric is
    ``mean_w |U_pred - U_true|``, a fraction of the offer price (0.05 = 5 points).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_ipos,)
        Realised and predicted first-day close (with ``offer_price``) or underpricing.
    offer_price : array-like of shape (n_ipos,), optional
        Offer prices, all > 0.
    sample_weight : array-like of shape (n_ipos,), optional
        Non-negative weights.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for empty input or zero total weight.

    References
    ----------
    Ritter, J. R., Welch, I. (2002). A review of IPO activity, pricing, and allocations. Journal
    of Finance 57(4).

    Examples
    --------
    >>> round(underpricing_error([12.0, 18.0], [11.0, 21.0], offer_price=[10.0, 20.0]), 4)
    0.125
    """
    owner = "underpricing_error"
    yt, yp, w = check_reg_targets(y_true, y_pred, owner, sample_weight)
    if offer_price is not None:
        p0 = as_1d_float(offer_price, "offer_price", owner)
        check_consistent_length([yt, p0], ["y_true", "offer_price"], owner)
        if p0.size and float(p0.min()) <= 0.0:
            raise ValidationError(
                f"The 'offer_price' argument of {owner} must be > 0. Got {float(p0.min())!r}.",
                loc=("offer_price",),
            )
        yt = (yt - p0) / p0
        yp = (yp - p0) / p0
    return weighted_mean(np.abs(yp - yt), w, owner)


def _binary_outcome(y: ArrayLike, name: str, owner: str) -> NDArray[np.float64]:
    arr = as_1d_float(y, name, owner)
    if arr.size and not np.isin(arr, (0.0, 1.0)).all():
        raise ValidationError(
            f"The {name!r} argument of {owner} must hold 0/1 (or boolean) outcomes.", loc=(name,)
        )
    return arr


@register_metric(
    "over_allocation_rate",
    Direction.UNKNOWN,
    _TASKS,
    input="label",
    description="IPO: realised share of deals whose over-allotment option was exercised.",
)
def over_allocation_rate(
    y_true: ArrayLike,
    y_pred: ArrayLike | None = None,
    *,
    sample_weight: ArrayLike | None = None,
) -> float:
    """IPO: realised share of deals whose over-allotment (greenshoe) option was exercised.

    In a book-built IPO the underwriters usually allocate up to 15 % more shares than offered
    and cover the short position either by exercising the over-allotment option (when the
    price rises) or by buying in the market (stabilisation). ``y_true`` is 1 for deals where the
    option was exercised (fully or partly) and 0 otherwise; the rate is their weighted share.
    ``y_pred`` is only checked for length (it is accepted so the metric fits the registry's
    ``func(y_true, y_pred)`` call); compare predictions with :func:`over_allocation_rate_error`.

    Parameters
    ----------
    y_true : array-like of shape (n_ipos,)
        1 if the option was exercised, else 0.
    y_pred : array-like of shape (n_ipos,), optional
        Ignored except for its length.
    sample_weight : array-like of shape (n_ipos,), optional
        Non-negative weights (e.g. deal size).

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning for empty input.

    References
    ----------
    Aggarwal, R. (2000). Stabilization activities by underwriters after initial public
    offerings. Journal of Finance 55(3).

    Examples
    --------
    >>> over_allocation_rate([1, 0, 1, 1])
    0.75
    """
    owner = "over_allocation_rate"
    yt = _binary_outcome(y_true, "y_true", owner)
    if y_pred is not None:
        yp = as_1d_float(y_pred, "y_pred", owner)
        check_consistent_length([yt, yp], ["y_true", "y_pred"], owner)
    w = check_sample_weight(sample_weight, yt.size, owner)
    return weighted_mean(yt, w, owner)


@register_metric(
    "over_allocation_rate_error",
    Direction.TARGET,
    _TASKS,
    input="score",
    target=0.0,
    description="IPO: predicted minus realised over-allotment exercise rate.",
)
def over_allocation_rate_error(
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    """IPO: predicted minus realised rate of over-allotment exercise (best at 0).

    ``y_pred`` holds, per deal, the predicted exercise as 0/1 or a probability in [0, 1]; the
    predicted rate is its weighted mean (for probabilities: the expected share of exercised
    deals). Positive values mean the model expects more greenshoe exercises than happen.

    Parameters
    ----------
    y_true : array-like of shape (n_ipos,)
        1 if the option was exercised, else 0.
    y_pred : array-like of shape (n_ipos,)
        Predicted exercise (0/1) or its probability.
    sample_weight : array-like of shape (n_ipos,), optional
        Non-negative weights.

    Returns
    -------
    float
        In [-1, 1]. NaN with an UndefinedMetricWarning for empty input.

    Examples
    --------
    >>> over_allocation_rate_error([1, 0, 1, 1], [0.9, 0.2, 0.4, 0.5])
    -0.25
    """
    owner = "over_allocation_rate_error"
    yt = _binary_outcome(y_true, "y_true", owner)
    yp = as_1d_float(y_pred, "y_pred", owner)
    check_consistent_length([yt, yp], ["y_true", "y_pred"], owner)
    if yp.size and (float(yp.min()) < 0.0 or float(yp.max()) > 1.0):
        raise ValidationError(
            f"The 'y_pred' argument of {owner} must hold 0/1 predictions or probabilities in "
            "[0, 1].",
            loc=("y_pred",),
        )
    w = check_sample_weight(sample_weight, yt.size, owner)
    return weighted_mean(yp - yt, w, owner)


# --- performance statistics as the reference libraries define them -----------------------------


def _nonruinous(r: NDArray[np.float64], owner: str) -> NDArray[np.float64]:
    """Check that simple returns are >= -1 (a long position cannot lose more than it holds)."""
    if r.size and float(r.min()) < -1.0:
        raise ValidationError(
            f"The returns given to {owner} must be >= -1 (a loss cannot exceed 100 %). Got "
            f"{float(r.min())!r}.",
            loc=("y_true",),
        )
    return r


def _per_period_rate(annual: float, q: float) -> float:
    """The per-period rate that compounds to ``annual`` over ``q`` periods."""
    return float((1.0 + annual) ** (1.0 / q) - 1.0)


@register_metric(
    "sortino_ratio",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="Annualised mean excess return over the downside deviation.",
)
def sortino_ratio(
    y_true: ArrayLike,
    y_pred: ArrayLike | None = None,
    *,
    risk_free_rate: float = 0.0,
    periods_per_year: float = 252,
    position: str = "sign",
) -> float:
    """Annualised Sortino ratio of the strategy returns (or of ``y_true``).

    .. math:: \\mathrm{SoR} = \\sqrt{q}\\,\\frac{\\overline{r - r_f}}
              {\\sqrt{\\overline{\\min(r - r_f, 0)^2}}}

    The denominator is the target downside deviation with the per-period risk-free return as
    the target, averaged over **all** periods (Sortino & Price, 1994), as empyrical and
    quantstats compute it; ``r_f`` is de-compounded from the annual rate as in
    :func:`sharpe_ratio`.

    Parameters
    ----------
    y_true : array-like of shape (n_periods,)
        Realised simple returns per period.
    y_pred : array-like of shape (n_periods,), optional
        Predicted returns; the ratio is then that of the strategy returns.
    risk_free_rate : float, default=0.0
        Annual risk-free rate (the target return), e.g. 0.03 for 3 %.
    periods_per_year : float, default=252
        Periods per year (1 for no annualisation).
    position : {"sign", "long_only"}, default="sign"
        How predictions become positions.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for empty input or when no period falls below the
        target (empyrical returns +inf there).

    References
    ----------
    Sortino, F. A., Price, L. N. (1994). Performance measurement in a downside risk framework.
    Journal of Investing 3(3).

    Examples
    --------
    >>> round(sortino_ratio([0.01, -0.005, 0.007, 0.002], periods_per_year=12), 4)
    4.8497
    """
    owner = "sortino_ratio"
    rf = check_real(risk_free_rate, "risk_free_rate", owner, low=-1.0, closed="neither")
    q = check_real(periods_per_year, "periods_per_year", owner, low=0.0, closed="neither")
    r = _strategy(y_true, y_pred, position, owner)
    if r.size == 0:
        return empty_input(owner)
    excess = r - _per_period_rate(rf, q)
    downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
    if downside == 0.0:
        return undefined(
            f"{owner} is undefined: no period's return is below the target (zero downside "
            "deviation). Returning NaN."
        )
    return float(np.mean(excess)) / downside * math.sqrt(q)


@register_metric(
    "annual_return",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="Compound annual growth rate of the returns (fraction).",
)
def annual_return(
    y_true: ArrayLike,
    y_pred: ArrayLike | None = None,
    *,
    periods_per_year: float = 252,
    position: str = "sign",
) -> float:
    """Compound annual growth rate: ``prod(1 + r) ** (q / n) - 1``.

    The geometric annualisation of empyrical's ``annual_return`` and quantstats' ``cagr`` with
    periods (not calendar days) as the clock: ``n`` periods are ``n / q`` years.

    Parameters
    ----------
    y_true : array-like of shape (n_periods,)
        Realised simple returns per period, each >= -1.
    y_pred : array-like of shape (n_periods,), optional
        Predicted returns; the growth is then that of the strategy returns.
    periods_per_year : float, default=252
        Periods per year.
    position : {"sign", "long_only"}, default="sign"
        How predictions become positions.

    Returns
    -------
    float
        A fraction (0.08 = 8 % a year), -1 after a total loss. NaN with an
        UndefinedMetricWarning for empty input.

    Examples
    --------
    >>> round(annual_return([0.01, 0.02, -0.01], periods_per_year=12), 4)
    0.082
    """
    owner = "annual_return"
    q = check_real(periods_per_year, "periods_per_year", owner, low=0.0, closed="neither")
    r = _nonruinous(_strategy(y_true, y_pred, position, owner), owner)
    if r.size == 0:
        return empty_input(owner)
    growth = float(np.prod(1.0 + r))
    return growth ** (q / r.size) - 1.0


@register_metric(
    "annual_volatility",
    Direction.LOWER,
    _TASKS,
    input="value",
    description="Annualised standard deviation of the returns.",
)
def annual_volatility(
    y_true: ArrayLike,
    y_pred: ArrayLike | None = None,
    *,
    periods_per_year: float = 252,
    ddof: int = 1,
    position: str = "sign",
) -> float:
    """Annualised volatility ``s(r) * sqrt(q)`` (``ddof=1``, as empyrical and quantstats).

    Parameters
    ----------
    y_true : array-like of shape (n_periods,)
        Realised simple returns per period.
    y_pred : array-like of shape (n_periods,), optional
        Predicted returns; the volatility is then that of the strategy returns.
    periods_per_year : float, default=252
        Periods per year.
    ddof : int, default=1
        Delta degrees of freedom of the standard deviation.
    position : {"sign", "long_only"}, default="sign"
        How predictions become positions.

    Returns
    -------
    float
        A fraction per year. NaN with an UndefinedMetricWarning for empty input or too few
        periods for ``ddof``.

    Examples
    --------
    >>> round(annual_volatility([0.01, -0.01, 0.02, 0.0], periods_per_year=252), 4)
    0.2049
    """
    owner = "annual_volatility"
    q = check_real(periods_per_year, "periods_per_year", owner, low=0.0, closed="neither")
    ddof = check_int(ddof, "ddof", owner, low=0)
    r = _strategy(y_true, y_pred, position, owner)
    if r.size == 0:
        return empty_input(owner)
    if r.size - ddof <= 0:
        return undefined(
            f"{owner} is undefined with {r.size} period(s) and ddof={ddof}. Returning NaN."
        )
    return float(np.std(r, ddof=ddof)) * math.sqrt(q)


@register_metric(
    "calmar_ratio",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="Annual return over the maximum drawdown.",
)
def calmar_ratio(
    y_true: ArrayLike,
    y_pred: ArrayLike | None = None,
    *,
    periods_per_year: float = 252,
    position: str = "sign",
) -> float:
    """Calmar ratio: :func:`annual_return` over :func:`max_drawdown` (a positive fraction).

    Over the whole series given, as empyrical computes it (Young's original used 36 months).

    Parameters
    ----------
    y_true : array-like of shape (n_periods,)
        Realised simple returns per period, each >= -1.
    y_pred : array-like of shape (n_periods,), optional
        Predicted returns; the ratio is then that of the strategy returns.
    periods_per_year : float, default=252
        Periods per year.
    position : {"sign", "long_only"}, default="sign"
        How predictions become positions.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for empty input or no drawdown at all.

    References
    ----------
    Young, T. W. (1991). Calmar ratio: a smoother tool. Futures 20(1).

    Examples
    --------
    >>> round(calmar_ratio([0.02, -0.01, 0.03, -0.02], periods_per_year=12), 4)
    2.95
    """
    owner = "calmar_ratio"
    q = check_real(periods_per_year, "periods_per_year", owner, low=0.0, closed="neither")
    r = _nonruinous(_strategy(y_true, y_pred, position, owner), owner)
    if r.size == 0:
        return empty_input(owner)
    mdd = _max_drawdown(r)
    if mdd == 0.0:
        return undefined(f"{owner} is undefined: the equity never fell (no drawdown). "
                         "Returning NaN.")
    return (float(np.prod(1.0 + r)) ** (q / r.size) - 1.0) / mdd


def _max_drawdown(r: NDArray[np.float64]) -> float:
    equity = np.cumprod(1.0 + r)
    peak = np.maximum(np.maximum.accumulate(equity), 1.0)
    return float(np.max(1.0 - equity / peak, initial=0.0))


@register_metric(
    "max_drawdown_signed",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="Maximum drawdown as a negative fraction (empyrical/quantstats sign).",
)
def max_drawdown_signed(
    y_true: ArrayLike, y_pred: ArrayLike | None = None, *, position: str = "sign"
) -> float:
    """Maximum drawdown with the sign of empyrical, quantstats and most pandas code: <= 0.

    ``min_t (E_t / max_{s<=t} E_s - 1)`` over the equity compounded from the returns, the
    starting value counting as a peak: exactly ``-max_drawdown(...)``. -0.25 means the equity
    fell 25 % below a previous peak. Higher (closer to 0) is better.

    Parameters
    ----------
    y_true : array-like of shape (n_periods,)
        Realised simple returns, in time order; each must be >= -1.
    y_pred : array-like of shape (n_periods,), optional
        Predicted returns; the drawdown is then that of the strategy returns.
    position : {"sign", "long_only"}, default="sign"
        How predictions become positions.

    Returns
    -------
    float
        In [-1, 0]. NaN with an UndefinedMetricWarning for empty input.

    Examples
    --------
    >>> round(max_drawdown_signed([0.1, -0.2, 0.05, -0.1, 0.3]), 4)
    -0.244
    """
    owner = "max_drawdown_signed"
    r = _nonruinous(_strategy(y_true, y_pred, position, owner), owner)
    if r.size == 0:
        return empty_input(owner)
    return -_max_drawdown(r) + 0.0  # + 0.0: no negative zero


def _round_trip_returns(
    r: NDArray[np.float64], positions: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Compounded return of each run of an unchanged non-zero position (a round-trip trade)."""
    held = positions != 0
    if not held.any():
        return np.empty(0)
    prev = np.r_[0.0, positions[:-1]]
    starts = held & (positions != prev)
    start_at = np.flatnonzero(starts[held])
    growth = np.multiply.reduceat(1.0 + r[held], start_at)
    out: NDArray[np.float64] = growth - 1.0
    return out


@register_metric(
    "trade_hit_rate",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="Share of round-trip trades (runs of one position) that made money.",
)
def trade_hit_rate(
    y_true: ArrayLike, y_pred: ArrayLike | None = None, *, position: str = "sign"
) -> float:
    """Share of round-trip trades with a positive compounded return (a backtest's hit rate).

    A trade is a run of consecutive periods holding the same non-zero position (+1 or -1); it
    ends when the position changes or goes flat. Its return is ``prod(1 + r_t) - 1`` over the
    run's strategy returns and it is a hit when that is > 0. :func:`hit_rate` counts every
    period with a position instead; the two agree when every trade lasts one period. Without
    ``y_pred`` each period of ``y_true`` is one trade.

    Parameters
    ----------
    y_true : array-like of shape (n_periods,)
        Realised returns, in time order.
    y_pred : array-like of shape (n_periods,), optional
        Predicted returns.
    position : {"sign", "long_only"}, default="sign"
        How predictions become positions.

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning when there is no trade.

    Examples
    --------
    >>> trade_hit_rate([0.02, -0.01, 0.01, -0.03, 0.01], [1, 1, -1, -1, 1])
    1.0
    >>> hit_rate([0.02, -0.01, 0.01, -0.03, 0.01], [1, 1, -1, -1, 1])
    0.6
    """
    owner = "trade_hit_rate"
    r = _strategy(y_true, y_pred, position, owner)
    if y_pred is None:
        trades = r
    else:
        yp = as_1d_float(y_pred, "y_pred", owner)
        pos = np.sign(yp) if position == "sign" else (yp > 0).astype(np.float64)
        trades = _round_trip_returns(r, pos)
    if trades.size == 0:
        return undefined(f"{owner} is undefined: there are no trades. Returning NaN.")
    return float(np.mean(trades > 0))


# --- IPO metrics as the valuation platform defines them -----------------------------------------


@register_metric(
    "first_day_return_accuracy",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="IPO: share of deals whose first-day return was predicted within a tolerance.",
)
def first_day_return_accuracy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    tolerance: float | str = 0.05,
    offer_price: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> float:
    """IPO: share of deals whose predicted first-day return is within ``tolerance`` of the real.

    A deal is a hit when ``|U_pred - U_true| <= tolerance``, with ``U = P_1 / P_0 - 1`` the
    first-day return (underpricing) as in :func:`underpricing_error`. ``tolerance`` is in
    return points: ``0.05`` or ``"5%"`` means within 5 points. Compare
    :func:`first_day_return_sign_accuracy`, which judges only the sign.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_ipos,)
        Realised and predicted first-day returns (or first-day closing prices with
        ``offer_price``).
    tolerance : float or str, default=0.05
        Largest miss that still counts as accurate, a fraction or a string read by
        :func:`parse_threshold` (``"5%"``).
    offer_price : array-like of shape (n_ipos,), optional
        Offer prices, all > 0; the inputs are then prices.
    sample_weight : array-like of shape (n_ipos,), optional
        Non-negative weights.

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning for empty input.

    Examples
    --------
    >>> first_day_return_accuracy([0.15, -0.05, 0.0, 0.30], [0.12, 0.02, 0.0, 0.20])
    0.5
    >>> first_day_return_accuracy([12.0, 18.0], [11.0, 21.0], offer_price=[10.0, 20.0],
    ...                           tolerance="15%")
    1.0
    """
    owner = "first_day_return_accuracy"
    tol = parse_threshold(tolerance, name="tolerance", owner=owner)
    if tol < 0:
        raise ParameterError(
            f"The 'tolerance' parameter of {owner} must be >= 0. Got {tolerance!r} instead.",
            loc=("tolerance",),
        )
    yt, yp, w = _first_day_returns(y_true, y_pred, offer_price, sample_weight, owner)
    # a small relative slack so that a miss of exactly the tolerance counts despite rounding
    hits = (np.abs(yp - yt) <= tol * (1 + 1e-12) + 1e-15).astype(np.float64)
    return weighted_mean(hits, w, owner)


def _first_day_returns(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    offer_price: ArrayLike | None,
    sample_weight: ArrayLike | None,
    owner: str,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64] | None]:
    yt, yp, w = check_reg_targets(y_true, y_pred, owner, sample_weight)
    if offer_price is not None:
        p0 = as_1d_float(offer_price, "offer_price", owner)
        check_consistent_length([yt, p0], ["y_true", "offer_price"], owner)
        if p0.size and float(p0.min()) <= 0.0:
            raise ValidationError(
                f"The 'offer_price' argument of {owner} must be > 0. Got {float(p0.min())!r}.",
                loc=("offer_price",),
            )
        yt = (yt - p0) / p0
        yp = (yp - p0) / p0
    return yt, yp, w


@register_metric(
    "overvaluation_rate",
    Direction.TARGET,
    _TASKS,
    input="value",
    target=0.5,
    description="IPO: share of valuations above the actual price (the platform's "
    "'over-allocation').",
)
def overvaluation_rate(
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    """IPO: share of predictions above the actual value — what the IPO platform calls
    "over-allocation".

    ``mean_w(y_pred > y_true)``: for a valuation model, the share of deals valued above the
    price the market set. An unbiased model sits near 0.5 (the target); a higher share means
    systematic over-valuation, which costs a buyer who trusts the model. Not to be confused
    with :func:`over_allocation_rate`, the share of deals whose greenshoe was exercised.
    Exact ties count as not above.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_ipos,)
        Actual and predicted values (prices, valuations or first-day returns).
    sample_weight : array-like of shape (n_ipos,), optional
        Non-negative weights (e.g. deal size).

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning for empty input.

    Examples
    --------
    >>> overvaluation_rate([10.0, 12.0, 8.0, 20.0], [11.0, 11.0, 9.0, 20.0])
    0.5
    """
    owner = "overvaluation_rate"
    yt, yp, w = check_reg_targets(y_true, y_pred, owner, sample_weight)
    return weighted_mean((yp > yt).astype(np.float64), w, owner)


@register_metric(
    "valuation_mape",
    Direction.LOWER,
    _TASKS,
    input="value",
    description="IPO: mean absolute percentage error of valuations, in percent (15 = 15 %).",
)
def valuation_mape(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    zero_policy: str = "exclude",
) -> float:
    """IPO: MAPE of valuations **in percent**, ``100 * mean(|y_pred - y_true| / |y_true|)``.

    The same statistic as the regression metric ``mape``
    (:func:`~modelmon.metrics.mean_absolute_percentage_error`), which is a fraction; this one is
    in percent because that is how valuation analysts state it and their thresholds ("MAPE
    > 15 %" is ``valuation_mape > 15``, or ``mape > 0.15``). Zero actuals follow
    ``zero_policy`` exactly as in ``mape``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_ipos,)
        Actual and predicted valuations (or prices).
    sample_weight : array-like of shape (n_ipos,), optional
        Non-negative weights.
    zero_policy : {"exclude", "epsilon", "raise"}, default="exclude"
        Handling of zero actuals (see ``mape``).

    Returns
    -------
    float
        Percent. NaN with an UndefinedMetricWarning for empty input, zero total weight or only
        zero actuals.

    Examples
    --------
    >>> valuation_mape([100.0, 200.0, 50.0], [110.0, 180.0, 50.0])
    6.666...
    """
    owner = "valuation_mape"
    policy = str(check_option(zero_policy, "zero_policy", owner, ZERO_POLICIES))
    yt, yp, w = check_reg_targets(y_true, y_pred, owner, sample_weight)
    if yt.size == 0:
        return empty_input(owner)
    terms, keep = _ape_terms(yt, yp, policy, owner)
    if keep is not None:
        if terms.size == 0:
            return undefined(
                f"{owner} is undefined: every value of y_true is 0. Returning NaN; use "
                "zero_policy='epsilon' to divide by machine epsilon instead."
            )
        _warn_excluded_zeros(yt.size - int(keep.sum()), yt.size, owner)
        if w is not None:
            w = w[keep]
    if w is None:
        value = _mape_value(float(terms.sum()), float(terms.size), owner)
    else:
        with np.errstate(invalid="ignore"):
            value = _mape_value(float(np.dot(terms, w)), float(w.sum()), owner)
    return 100.0 * value


# --- thresholds -----------------------------------------------------------------------------------

#: Finance metrics whose values are in percent (15 = 15 %); every other metric is a fraction.
PERCENT_METRICS = frozenset({"valuation_mape"})
UNITS = ("fraction", "percent")
_THRESHOLD = re.compile(
    r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(%|bps?|bp|)\s*$", re.IGNORECASE
)
_SCALE = {"": Fraction(1), "%": Fraction(1, 100), "bp": Fraction(1, 10_000),
          "bps": Fraction(1, 10_000)}


def metric_unit(name: str) -> str:
    """The unit a metric's values are in: ``"percent"`` or ``"fraction"``.

    Examples
    --------
    >>> metric_unit("valuation_mape"), metric_unit("mape"), metric_unit("max_drawdown")
    ('percent', 'fraction', 'fraction')
    """
    return "percent" if name in PERCENT_METRICS else "fraction"


def parse_threshold(
    value: float | str,
    *,
    unit: str = "fraction",
    name: str = "threshold",
    owner: str = "parse_threshold",
) -> float:
    """Read a threshold written as a percentage, basis points or a fraction.

    One rule, everywhere a threshold or rate is read (alert rules, backtest rules and costs,
    metric tolerances):

    * a string ending in ``%`` is **percent**: ``"15%"``, ``"15 %"``, ``"-2.5%"``;
    * a string ending in ``bp``/``bps`` is **basis points**: ``"10bp"`` = 0.1 %;
    * a bare number, or a string holding only a number, is a **fraction**: ``0.15`` = 15 %.

    The value is returned in ``unit``, the unit of the metric it will be compared with (see
    :func:`metric_unit`): ``"15%"`` is 0.15 against ``mape`` (a fraction) and 15.0 against
    ``valuation_mape`` (percent). A bare number is never taken as percent, so ``15`` means
    1500 % — write ``"15%"``.

    Parameters
    ----------
    value : float or str
        The threshold as written.
    unit : {"fraction", "percent"}, default="fraction"
        The unit to return it in.
    name, owner : str
        The parameter and the function it belongs to, for error messages.

    Returns
    -------
    float

    Examples
    --------
    >>> parse_threshold("15%"), parse_threshold(0.15), parse_threshold("10bp")
    (0.15, 0.15, 0.001)
    >>> parse_threshold("15%", unit="percent"), parse_threshold(0.15, unit="percent")
    (15.0, 15.0)
    """
    check_option(unit, "unit", owner, UNITS)
    if isinstance(value, str):
        match = _THRESHOLD.match(value)
        if match is None:
            raise ParameterError(
                f"The {name!r} parameter of {owner} must be a number (a fraction: 0.15) or a "
                f"string such as '15%' or '10bp'. Got {value!r} instead.",
                loc=(name,),
            )
        number = Fraction(match.group(1)) * _SCALE[match.group(2).lower()]
    else:
        real = check_real(value, name, owner)
        number = Fraction(repr(real)) if isinstance(real, float) else Fraction(real)
    if unit == "percent":
        number *= 100
    return float(number)

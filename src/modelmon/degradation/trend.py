"""Trend tests: is a metric drifting steadily up or down over time?

* :func:`linear_trend` — ordinary least-squares slope and the t-test of zero slope (the same
  numbers as :func:`scipy.stats.linregress`).
* :func:`mann_kendall_test` — the rank-based Mann–Kendall test (Mann 1945; Kendall 1975) with the
  tie correction of the variance, reporting Sen's (1968) slope as the robust size of the trend.
* :func:`sens_slope` — Sen's slope alone: the median of all pairwise slopes.

The time axis is the timestamps when given (``datetime64`` in seconds, so slopes are per second),
otherwise the positions of the values in the series as given (so a NaN dropped from the middle
does not shift the later points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from modelmon._results import Result
from modelmon._validation import check_bool, undefined
from modelmon.degradation._series import as_series

__all__ = [
    "LinearTrendResult",
    "MannKendallResult",
    "linear_trend",
    "mann_kendall_test",
    "sens_slope",
]

# Histogram resolution and collection limit of the exact slope selection (see _kernels).
_SLOPE_BINS = 1 << 16
_SLOPE_CAP = 1 << 20
# Up to this many pairs Sen's slope is a plain NumPy median; beyond it a compiled selection.
_DIRECT_PAIRS = 1 << 20
_SAMPLE_PAIRS = 200_000
_SAMPLE_SEED = 20240601


@dataclass(frozen=True)
class LinearTrendResult(Result):
    """Least-squares trend of a series.

    Attributes
    ----------
    slope, intercept : float
        Fitted line ``value = intercept + slope * time``.
    r : float
        Pearson correlation between time and value.
    p_value : float
        Two-sided p-value of the t-test of zero slope (``n - 2`` degrees of freedom).
    stderr : float
        Standard error of the slope.
    n : int
        Number of values used.

    Examples
    --------
    >>> res = linear_trend([0.90, 0.89, 0.87, 0.86, 0.84])
    >>> round(res.slope, 3), res.p_value < 0.01
    (-0.015, True)
    """

    slope: float
    intercept: float
    r: float
    p_value: float
    stderr: float
    n: int


@dataclass(frozen=True)
class MannKendallResult(Result):
    """Mann–Kendall trend test of a series.

    Attributes
    ----------
    s : int
        Kendall's S: number of later values above an earlier one minus the number below.
    var_s : float
        Variance of S under no trend, corrected for ties.
    z : float
        Standardised S (with the continuity correction when requested).
    p_value : float
        Two-sided p-value from the normal approximation.
    tau : float
        Kendall's tau-b between time and value (NaN for a constant series).
    sens_slope : float
        Median of pairwise slopes (Sen 1968), per unit of the time axis.
    n : int
        Number of values used.

    Examples
    --------
    >>> res = mann_kendall_test([0.90, 0.89, 0.87, 0.86, 0.84])
    >>> res.s, res.tau, round(res.sens_slope, 4)
    (-10, -1.0, -0.015)
    """

    s: int
    var_s: float
    z: float
    p_value: float
    tau: float
    sens_slope: float
    n: int


def _t_two_sided(t: float, df: float) -> float:
    return float(min(1.0, 2.0 * special.stdtr(df, -abs(t))))


def linear_trend(
    values: ArrayLike,
    *,
    timestamps: ArrayLike | None = None,
    nan_policy: str = "omit",
) -> LinearTrendResult:
    """Ordinary least-squares slope of a metric over time, with its t-test.

    Parameters
    ----------
    values : array-like of shape (n,)
        Metric values in time order.
    timestamps : array-like of float or datetime64, optional
        Strictly increasing time of each value; default the positions ``0, 1, ...``.
    nan_policy : {"omit", "raise"}, default "omit"
        NaN values are dropped with a :class:`~modelmon.exceptions.DataQualityWarning`, or
        rejected.

    Returns
    -------
    LinearTrendResult

    Notes
    -----
    The statistic is ``t = r sqrt((n-2) / (1-r^2))`` with Student's t distribution on ``n - 2``
    degrees of freedom, as :func:`scipy.stats.linregress`. With fewer than 3 values, or a
    constant series (no variation to correlate), the slope is reported where it is defined and
    ``p_value`` (and ``r``, ``stderr`` for a constant series) is NaN with an
    :class:`~modelmon.exceptions.UndefinedMetricWarning`. Fewer than 2 values leave the slope
    undefined as well.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.degradation import linear_trend
    >>> rng = np.random.default_rng(0)
    >>> y = 0.9 - 0.002 * np.arange(50) + 0.01 * rng.standard_normal(50)
    >>> res = linear_trend(y)
    >>> round(res.slope, 4), res.p_value < 1e-6
    (-0.0018, True)
    """
    owner = "linear_trend"
    s = as_series(values, "values", owner, timestamps=timestamps, nan_policy=nan_policy)
    n = s.n
    if n < 2:
        nan = undefined(
            f"linear_trend is undefined for {n} value(s); it needs at least 3 for a p-value.",
        )
        return LinearTrendResult(nan, nan, nan, nan, nan, n)
    x, y = s.axis, s.values
    xm, ym = float(np.mean(x)), float(np.mean(y))
    dx, dy = x - xm, y - ym
    sxx = float(np.dot(dx, dx)) / n
    sxy = float(np.dot(dx, dy)) / n
    syy = float(np.dot(dy, dy)) / n
    slope = sxy / sxx
    intercept = ym - slope * xm
    if n == 2:
        p = undefined("The p-value of linear_trend needs at least 3 values; got 2.")
        return LinearTrendResult(slope, intercept, float(np.sign(sxy)), p, p, n)
    if np.ptp(y) == 0.0:
        p = undefined(
            "The p-value of linear_trend is undefined for a constant series (zero variance)."
        )
        return LinearTrendResult(slope, intercept, p, p, p, n)
    r = float(np.clip(sxy / np.sqrt(sxx * syy), -1.0, 1.0))
    df = n - 2
    if abs(r) == 1.0:  # a perfect line: the slope has no error
        t = math.copysign(math.inf, r)
    else:
        t = r * math.sqrt(df / ((1.0 - r) * (1.0 + r)))
    stderr = math.sqrt(max(0.0, 1.0 - r * r) * syy / sxx / df)
    return LinearTrendResult(slope, intercept, r, _t_two_sided(t, df), stderr, n)


def _tie_counts(x: NDArray[np.float64]) -> NDArray[np.float64]:
    _, counts = np.unique(x, return_counts=True)
    return counts[counts > 1].astype(np.float64)


def _sens_slope(x: NDArray[np.float64], t: NDArray[np.float64]) -> float:
    n = x.size
    if n < 2:
        return float("nan")
    pairs = n * (n - 1) // 2
    k1, k2 = (pairs - 1) // 2, pairs // 2
    if pairs <= _DIRECT_PAIRS:
        i, j = np.triu_indices(n, 1)
        return float(np.median((x[j] - x[i]) / (t[j] - t[i])))
    from modelmon.degradation import _kernels

    # Floyd–Rivest style: bracket the median with quantiles of a fixed random sample of pairs,
    # then one exact pass counts the slopes below the bracket and collects those inside.
    rng = np.random.default_rng(_SAMPLE_SEED)
    i = rng.integers(0, n, _SAMPLE_PAIRS)
    j = rng.integers(0, n, _SAMPLE_PAIRS)
    ok = i != j
    i, j = np.minimum(i[ok], j[ok]), np.maximum(i[ok], j[ok])
    sample = (x[j] - x[i]) / (t[j] - t[i])
    margin = 4.0 * np.sqrt(0.25 / sample.size) + 1.0 / sample.size
    lo, hi = np.quantile(sample, [max(0.0, k1 / pairs - margin), min(1.0, k2 / pairs + margin)])
    below, m, inside = _kernels.pairwise_slopes_between(x, t, float(lo), float(hi), _SLOPE_CAP)
    if below <= k1 and k2 < below + m and lo == hi:
        return float(lo)
    if below <= k1 and k2 < below + m <= below + _SLOPE_CAP:
        return float(0.5 * (inside[k1 - below] + inside[k2 - below]))
    v1 = _kernels.pairwise_slope_order_stat(x, t, k1, _SLOPE_BINS, _SLOPE_CAP)
    v2 = v1 if k2 == k1 else _kernels.pairwise_slope_order_stat(x, t, k2, _SLOPE_BINS, _SLOPE_CAP)
    return float(0.5 * (v1 + v2))


def sens_slope(
    values: ArrayLike,
    *,
    timestamps: ArrayLike | None = None,
    nan_policy: str = "omit",
) -> float:
    """Sen's slope: the median of the slopes between every pair of points (Sen 1968).

    A robust size of a trend: one outlying window moves it little, unlike the least-squares
    slope. Exact for any length, in O(n^2) time and little memory (a compiled selection over the
    pairwise slopes; the same value as :func:`scipy.stats.theilslopes`).

    Parameters
    ----------
    values : array-like of shape (n,)
        Metric values in time order.
    timestamps : array-like of float or datetime64, optional
        Strictly increasing times; default the positions.
    nan_policy : {"omit", "raise"}, default "omit"
        How NaN values are handled.

    Returns
    -------
    float
        The slope per unit of the time axis; NaN with an
        :class:`~modelmon.exceptions.UndefinedMetricWarning` for fewer than 2 values.

    References
    ----------
    P. K. Sen, "Estimates of the regression coefficient based on Kendall's tau", Journal of the
    American Statistical Association 63(324), 1379–1389, 1968.

    Examples
    --------
    >>> from modelmon.degradation import sens_slope
    >>> sens_slope([1.0, 2.0, 3.0, 10.0, 5.0])  # the least-squares slope is 1.9
    1.0
    """
    s = as_series(values, "values", "sens_slope", timestamps=timestamps, nan_policy=nan_policy)
    if s.n < 2:
        return undefined(f"sens_slope is undefined for {s.n} value(s); it needs at least 2.")
    return _sens_slope(s.values, s.axis)


def mann_kendall_test(
    values: ArrayLike,
    *,
    timestamps: ArrayLike | None = None,
    continuity: bool = True,
    nan_policy: str = "omit",
) -> MannKendallResult:
    """Mann–Kendall test for a monotonic trend, with tie correction and Sen's slope.

    Parameters
    ----------
    values : array-like of shape (n,)
        Metric values in time order.
    timestamps : array-like of float or datetime64, optional
        Strictly increasing times. They do not change S (only the order matters) but set the
        unit of Sen's slope.
    continuity : bool, default True
        Subtract 1 from ``|S|`` before standardising (the usual correction for a discrete
        statistic). ``False`` gives the p-value of ``scipy.stats.kendalltau(time, values,
        method="asymptotic")``.
    nan_policy : {"omit", "raise"}, default "omit"
        How NaN values are handled.

    Returns
    -------
    MannKendallResult

    Notes
    -----
    ``S = sum_{i<j} sign(x_j - x_i)``; under no trend ``E[S] = 0`` and
    ``Var S = [n(n-1)(2n+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18`` where ``t_g`` are the sizes of the
    groups of tied values (Kendall 1975). The two-sided p-value uses the normal approximation.
    Fewer than 3 values, or an all-equal series (``Var S = 0``), give ``z`` and ``p_value`` NaN
    with an :class:`~modelmon.exceptions.UndefinedMetricWarning`; S is then 0 for an all-equal
    series. S is computed exactly in O(n^2) compiled time (10,000 values take well under a
    second).

    References
    ----------
    H. B. Mann, "Nonparametric tests against trend", Econometrica 13(3), 245–259, 1945.
    M. G. Kendall, Rank Correlation Methods, 4th ed., Charles Griffin, London, 1975.
    P. K. Sen, "Estimates of the regression coefficient based on Kendall's tau", JASA 63, 1968.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.degradation import mann_kendall_test
    >>> rng = np.random.default_rng(1)
    >>> y = 0.9 - 0.001 * np.arange(40) + 0.005 * rng.standard_normal(40)
    >>> res = mann_kendall_test(y)
    >>> res.s < 0, res.p_value < 0.001, round(res.sens_slope, 4)
    (True, True, -0.001)
    """
    owner = "mann_kendall_test"
    check_bool(continuity, "continuity", owner)
    s = as_series(values, "values", owner, timestamps=timestamps, nan_policy=nan_policy)
    n = s.n
    x = s.values
    if n < 2:
        nan = undefined(f"mann_kendall_test is undefined for {n} value(s); it needs at least 3.")
        return MannKendallResult(0, nan, nan, nan, nan, nan, n)
    from modelmon.degradation import _kernels

    stat = int(_kernels.mann_kendall_s(x))
    ties = _tie_counts(x)
    var_s = float(
        (n * (n - 1.0) * (2.0 * n + 5.0) - np.sum(ties * (ties - 1.0) * (2.0 * ties + 5.0))) / 18.0
    )
    n0 = n * (n - 1) / 2.0
    n1 = float(np.sum(ties * (ties - 1.0) / 2.0))
    tau = stat / np.sqrt(n0 * (n0 - n1)) if n0 > n1 else float("nan")
    slope = _sens_slope(x, s.axis)
    if n < 3 or var_s <= 0.0:
        why = "an all-equal series" if var_s <= 0.0 else f"{n} values"
        nan = undefined(
            f"The p-value of mann_kendall_test is undefined for {why}; it needs at least 3 "
            "values that are not all equal."
        )
        return MannKendallResult(stat, var_s, nan, nan, float(tau), slope, n)
    num = stat - np.sign(stat) if continuity else stat
    z = float(num / np.sqrt(var_s))
    p = float(min(1.0, 2.0 * special.ndtr(-abs(z))))
    return MannKendallResult(stat, var_s, z, p, float(tau), slope, n)

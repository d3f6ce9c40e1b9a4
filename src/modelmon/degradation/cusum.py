"""Retrospective CUSUM test for one change in the mean of a metric series.

The cumulative sum of deviations from the overall mean, ``S_k = sum_{i<k} (x_i - mean)``, drifts
away from zero when the level changes and returns to zero at the end. Its largest excursion
locates the change (Hinkley 1971) and, scaled by ``sigma * sqrt(n)``, is asymptotically the
supremum of a Brownian bridge under no change, whose tail is Kolmogorov's distribution
(Csörgő & Horváth 1997). This is the offline, two-sided form of Page's (1954) CUSUM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from modelmon._results import Result
from modelmon._validation import check_real, undefined
from modelmon.degradation._series import as_series

__all__ = ["CusumResult", "cusum_change_point", "successive_difference_sigma"]


@dataclass(frozen=True)
class CusumResult(Result):
    """Outcome of :func:`cusum_change_point`.

    Attributes
    ----------
    statistic : float
        ``max_k |S_k| / (sigma sqrt(n))``.
    p_value : float
        Asymptotic p-value, ``P(sup |Brownian bridge| > statistic)``.
    position : int or None
        Index (in the series as given) of the first value after the estimated change; None when
        the series is constant or too short.
    mean_before, mean_after : float
        Means of the values before and from ``position``.
    sigma : float
        Noise standard deviation used for scaling.
    n : int
        Number of values used.

    Examples
    --------
    >>> res = cusum_change_point([0.9, 0.91, 0.9, 0.91, 0.8, 0.81, 0.8, 0.81])
    >>> res.position, round(res.mean_before, 3), round(res.mean_after, 3)
    (4, 0.905, 0.805)
    """

    statistic: float
    p_value: float
    position: int | None
    mean_before: float
    mean_after: float
    sigma: float
    n: int


def successive_difference_sigma(x: NDArray[np.float64]) -> float:
    """Noise standard deviation from successive differences: ``sqrt(sum(diff^2) / (2(n-1)))``.

    Von Neumann et al. (1941). A change in level adds a single large difference, so the estimate
    stays close to the within-segment noise, unlike the overall standard deviation.

    >>> round(successive_difference_sigma(np.array([0.0, 1.0, 0.0, 1.0, 5.0, 6.0, 5.0])), 3)
    1.323
    """
    if x.size < 2:
        return float("nan")
    d = np.diff(x)
    return float(np.sqrt(np.dot(d, d) / (2.0 * d.size)))


def cusum_change_point(
    values: ArrayLike,
    *,
    sigma: float | None = None,
    nan_policy: str = "omit",
) -> CusumResult:
    """Test a series for one change in mean and locate it (retrospective CUSUM).

    Parameters
    ----------
    values : array-like of shape (n,)
        Metric values in time order.
    sigma : float, optional
        Known noise standard deviation. Default: estimated from successive differences
        (:func:`successive_difference_sigma`), which a change in level barely inflates.
    nan_policy : {"omit", "raise"}, default "omit"
        NaN values are dropped with a :class:`~modelmon.exceptions.DataQualityWarning`, or
        rejected. ``position`` refers to the series as given.

    Returns
    -------
    CusumResult

    Notes
    -----
    The p-value is asymptotic; for short series the discrete maximum is below the Brownian
    bridge's supremum, so the test errs on the conservative side. Edge cases: fewer than 3
    values give NaN statistic and p-value with an
    :class:`~modelmon.exceptions.UndefinedMetricWarning`; a constant series has no change
    (statistic 0, p-value 1, position None); a piecewise-constant series with zero noise gives
    an infinite statistic and p-value 0 at the step.

    References
    ----------
    E. S. Page, "Continuous inspection schemes", Biometrika 41(1/2), 100–115, 1954.
    D. V. Hinkley, "Inference about the change-point from cumulative sum tests", Biometrika
    58(3), 509–523, 1971.
    M. Csörgő and L. Horváth, Limit Theorems in Change-Point Analysis, Wiley, 1997.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.degradation import cusum_change_point
    >>> rng = np.random.default_rng(0)
    >>> x = np.r_[0.86 + 0.01 * rng.standard_normal(60), 0.80 + 0.01 * rng.standard_normal(40)]
    >>> res = cusum_change_point(x)
    >>> res.position, res.p_value < 1e-6
    (60, True)
    """
    owner = "cusum_change_point"
    if sigma is not None:
        sigma = check_real(sigma, "sigma", owner, low=0.0, closed="neither")
    s = as_series(values, "values", owner, nan_policy=nan_policy)
    x, n = s.values, s.n
    if n < 3:
        nan = undefined(f"cusum_change_point is undefined for {n} value(s); it needs at least 3.")
        return CusumResult(nan, nan, None, nan, nan, nan if sigma is None else sigma, n)
    sd = successive_difference_sigma(x) if sigma is None else sigma
    if x.min() == x.max():
        m = float(x[0])
        return CusumResult(0.0, 1.0, None, m, m, sd, n)
    cs = np.cumsum(x - x.mean())[:-1]  # S_1 .. S_{n-1}
    k = int(np.argmax(np.abs(cs)))
    peak = float(abs(cs[k]))
    stat = peak / (sd * np.sqrt(n)) if sd > 0 else float("inf")
    split = k + 1
    return CusumResult(
        statistic=float(stat),
        p_value=float(special.kolmogorov(stat)),
        position=int(s.positions[split]),
        mean_before=float(x[:split].mean()),
        mean_after=float(x[split:].mean()),
        sigma=sd,
        n=n,
    )

"""Standardised distance of the current level from the baseline (z-score).

Without sample sizes the z-score of the current mean of ``m`` values against a baseline of ``k``
values with mean ``mu`` and standard deviation ``s`` is::

    z = (mean_c - mu) / (s * sqrt(1/m + 1/k))

For a single current value and a long baseline this is the familiar ``(x - mu) / s``; the
``1/k`` term accounts for the baseline mean being an estimate. Under a stable normal metric
``z`` follows Student's t with ``k - 1`` degrees of freedom exactly (it is the prediction-interval
statistic), which gives the p-value.

With sample sizes (the number of predictions behind each window's metric), a window's value is
treated as having variance ``sigma^2 / n_i``: means are weighted by the sizes and the dispersion
is estimated per sample, ``s^2 = sum n_i (x_i - mu_w)^2 / (k - 1)`` (inverse-variance weighting
with an estimated scale, as in quasi-likelihood), so that::

    z = (mean_w,c - mu_w) / (s * sqrt(1/N_c + 1/N_b))

where ``N`` are the total sample sizes. A current window computed on few predictions is then
judged against the larger noise it really has; the p-value again uses ``k - 1`` degrees of
freedom and is exact for normal window values with variance proportional to ``1/n_i``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from modelmon._results import Result
from modelmon._validation import check_real, undefined
from modelmon.degradation._series import as_series
from modelmon.degradation.baseline import Baseline
from modelmon.exceptions import ValidationError

__all__ = ["ZScoreResult", "z_score"]


@dataclass(frozen=True)
class ZScoreResult(Result):
    """Outcome of :func:`z_score`.

    Attributes
    ----------
    z : float
        Standardised difference of the current mean from the baseline mean.
    p_value : float
        Two-sided p-value from Student's t with ``df`` degrees of freedom.
    current_mean, baseline_mean : float
        Means compared (weighted by sample sizes when sizes are used).
    std : float
        Baseline standard deviation per value, or per sample when sizes are used.
    standard_error : float
        Denominator of ``z``.
    df : float
        ``n_baseline - 1``.
    n_current, n_baseline : int
        Number of values.
    weighted : bool
        Whether sample sizes were used.

    Examples
    --------
    >>> res = z_score(0.80, [0.85, 0.86, 0.87])
    >>> round(res.z, 2), res.df, res.weighted
    (-5.2, 2.0, False)
    """

    z: float
    p_value: float
    current_mean: float
    baseline_mean: float
    std: float
    standard_error: float
    df: float
    n_current: int
    n_baseline: int
    weighted: bool


def z_score(
    current: ArrayLike,
    baseline: ArrayLike | Baseline,
    *,
    current_sample_sizes: ArrayLike | None = None,
    baseline_sample_sizes: ArrayLike | None = None,
    min_std: float = 0.0,
    nan_policy: str = "omit",
) -> ZScoreResult:
    """Z-score of the current metric level against the baseline (see the module docstring).

    Parameters
    ----------
    current : float or array-like of shape (m,)
        Current value(s).
    baseline : array-like of shape (k,) or Baseline
        Baseline values. A :class:`Baseline` with ``sample_sizes`` supplies
        ``baseline_sample_sizes`` unless given.
    current_sample_sizes, baseline_sample_sizes : array-like, optional
        Positive number of samples behind each value. Used only when both sides have them
        (giving only one side is an error).
    min_std : float, default 0.0
        Floor on the baseline standard deviation (per value, or per sample when weighted). A
        baseline with zero spread makes the z-score undefined unless this is positive.
    nan_policy : {"omit", "raise"}, default "omit"
        NaN values (with their sample sizes) are dropped with a
        :class:`~modelmon.exceptions.DataQualityWarning`, or rejected.

    Returns
    -------
    ZScoreResult

    Notes
    -----
    Undefined (``z`` and ``p_value`` NaN with an
    :class:`~modelmon.exceptions.UndefinedMetricWarning`) when there is no current value, fewer
    than 2 baseline values, or zero baseline spread with ``min_std=0``.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.degradation import Baseline, z_score
    >>> rng = np.random.default_rng(0)
    >>> base = Baseline.from_values(rng.normal(0.86, 0.01, 60))
    >>> res = z_score(0.83, base)
    >>> round(res.z, 1), res.p_value < 0.01
    (-3.4, True)
    """
    owner = "z_score"
    min_std = check_real(min_std, "min_std", owner, low=0.0)
    c = as_series(
        np.atleast_1d(np.asarray(current)),
        "current",
        owner,
        sample_sizes=current_sample_sizes,
        nan_policy=nan_policy,
        sample_sizes_name="current_sample_sizes",
    )
    if isinstance(baseline, Baseline):
        sizes = baseline.sample_sizes if baseline_sample_sizes is None else baseline_sample_sizes
        b = as_series(
            baseline.array(),
            "baseline",
            owner,
            sample_sizes=sizes,
            nan_policy=nan_policy,
            sample_sizes_name="baseline_sample_sizes",
        )
    else:
        b = as_series(
            baseline,
            "baseline",
            owner,
            sample_sizes=baseline_sample_sizes,
            nan_policy=nan_policy,
            sample_sizes_name="baseline_sample_sizes",
        )
    if current_sample_sizes is not None and b.sizes is None:
        raise ValidationError(
            "z_score got 'current_sample_sizes' but no baseline sample sizes; give both or "
            "neither.",
            loc=("baseline_sample_sizes",),
        )
    m, k = c.n, b.n
    weighted = c.sizes is not None and b.sizes is not None
    if c.sizes is not None and b.sizes is not None:
        wc, wb = c.sizes, b.sizes
    else:
        wc, wb = np.ones(m), np.ones(k)
    mc = float(np.dot(wc, c.values) / wc.sum()) if m else float("nan")
    mb = float(np.dot(wb, b.values) / wb.sum()) if k else float("nan")
    df = float(k - 1)

    def result(z: float, p: float, sd: float, se: float) -> ZScoreResult:
        return ZScoreResult(z, p, mc, mb, sd, se, df, m, k, weighted)

    if m == 0 or k < 2:
        nan = undefined(
            f"z_score is undefined with {m} current and {k} baseline value(s); it needs at "
            "least 1 current and 2 baseline values."
        )
        return result(nan, nan, nan, nan)
    dev = b.values - mb
    # A constant baseline has exactly zero spread, not the rounding residue of its mean.
    sd = float(np.sqrt(np.dot(wb, dev * dev) / (k - 1))) if np.ptp(b.values) > 0 else 0.0
    sd_used = max(sd, min_std)
    se = sd_used * float(np.sqrt(1.0 / wc.sum() + 1.0 / wb.sum()))
    if se == 0.0:
        nan = undefined(
            "z_score is undefined: the baseline has zero spread. Use min_std= to set a floor "
            "on the baseline standard deviation."
        )
        return result(nan, nan, sd, 0.0)
    z = (mc - mb) / se
    p = float(min(1.0, 2.0 * special.stdtr(df, -abs(z))))
    return result(float(z), p, sd, se)

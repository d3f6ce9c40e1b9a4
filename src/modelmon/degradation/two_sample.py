"""Two-sample tests of the current metric values against the baseline values.

* :func:`welch_t_test` — Welch's t-test of equal means without assuming equal variances
  (Welch 1947), the numbers of ``scipy.stats.ttest_ind(current, baseline, equal_var=False)``.
* :func:`mann_whitney_u_test` — the Mann–Whitney U rank test (Mann & Whitney 1947), the numbers
  of ``scipy.stats.mannwhitneyu(current, baseline)``, including its exact null distribution for
  small samples without ties and the tie-corrected normal approximation otherwise.

Statistics are computed in NumPy; SciPy supplies only the distribution functions. The current
sample comes first, so a positive t (or U above ``n_current * n_baseline / 2``) means the metric
is now higher than in the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from modelmon._results import Result
from modelmon._validation import check_bool, check_option, undefined
from modelmon.degradation._series import as_series
from modelmon.degradation.baseline import Baseline

__all__ = [
    "ALTERNATIVES",
    "TwoSampleResult",
    "mann_whitney_u_test",
    "welch_t_test",
]

ALTERNATIVES = ("two-sided", "less", "greater")


@dataclass(frozen=True)
class TwoSampleResult(Result):
    """Outcome of a two-sample test of current against baseline values.

    Attributes
    ----------
    test : str
        ``"welch_t"`` or ``"mann_whitney_u"``.
    statistic : float
        Welch's t, or U of the current sample.
    p_value : float
        P-value for ``alternative``.
    alternative : str
        ``"two-sided"``, ``"less"`` (current lower) or ``"greater"`` (current higher).
    n_current, n_baseline : int
        Sample sizes used.
    current_mean, baseline_mean : float
        Sample means.
    df : float or None
        Welch–Satterthwaite degrees of freedom (Welch only).
    method : str or None
        ``"exact"`` or ``"asymptotic"`` (Mann–Whitney only).

    Examples
    --------
    >>> res = welch_t_test([0.80, 0.82, 0.81], [0.86, 0.85, 0.87, 0.86])
    >>> res.test, res.n_current, res.n_baseline, res.p_value < 0.01
    ('welch_t', 3, 4, True)
    """

    test: str
    statistic: float
    p_value: float
    alternative: str
    n_current: int
    n_baseline: int
    current_mean: float
    baseline_mean: float
    df: float | None = None
    method: str | None = None


def _samples(
    current: ArrayLike, baseline: ArrayLike | Baseline, owner: str, nan_policy: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    c = as_series(current, "current", owner, nan_policy=nan_policy, stacklevel=4).values
    if isinstance(baseline, Baseline):
        return c, baseline.array()
    return c, as_series(baseline, "baseline", owner, nan_policy=nan_policy, stacklevel=4).values


def _mean(x: NDArray[np.float64]) -> float:
    return float(x.mean()) if x.size else float("nan")


def _p_from_t(t: float, df: float, alternative: str) -> float:
    if alternative == "less":
        p = special.stdtr(df, t)
    elif alternative == "greater":
        p = special.stdtr(df, -t)
    else:
        p = 2.0 * special.stdtr(df, -abs(t))
    return float(np.clip(p, 0.0, 1.0))


def welch_t_test(
    current: ArrayLike,
    baseline: ArrayLike | Baseline,
    *,
    alternative: str = "two-sided",
    nan_policy: str = "omit",
) -> TwoSampleResult:
    """Welch's unequal-variance t-test of the current mean against the baseline mean.

    Parameters
    ----------
    current : array-like of shape (m,)
        Current metric values (for example the last day of hourly windows).
    baseline : array-like of shape (k,) or Baseline
        Baseline values.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        ``"less"``: the current mean is lower; ``"greater"``: higher.
    nan_policy : {"omit", "raise"}, default "omit"
        NaN values are dropped with a :class:`~modelmon.exceptions.DataQualityWarning`, or
        rejected.

    Returns
    -------
    TwoSampleResult
        ``statistic`` is t, ``df`` the Welch–Satterthwaite degrees of freedom.

    Notes
    -----
    ``t = (mean_c - mean_b) / sqrt(v_c/m + v_b/k)`` with sample variances ``v``. Fewer than 2
    values in either sample, or zero variance in both, make the test undefined: statistic and
    p-value are NaN with an :class:`~modelmon.exceptions.UndefinedMetricWarning`
    (:func:`mann_whitney_u_test` still applies to constant samples).

    References
    ----------
    B. L. Welch, "The generalization of 'Student's' problem when several different population
    variances are involved", Biometrika 34(1–2), 28–35, 1947.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.degradation import welch_t_test
    >>> rng = np.random.default_rng(0)
    >>> res = welch_t_test(rng.normal(0.80, 0.02, 24), rng.normal(0.86, 0.02, 60))
    >>> res.statistic < 0, res.p_value < 1e-6
    (True, True)
    """
    owner = "welch_t_test"
    check_option(alternative, "alternative", owner, ALTERNATIVES)
    c, b = _samples(current, baseline, owner, nan_policy)
    m, k = c.size, b.size
    mc, mb = _mean(c), _mean(b)

    def result(t: float, p: float, df: float) -> TwoSampleResult:
        return TwoSampleResult("welch_t", t, p, alternative, m, k, mc, mb, df=df)

    if m < 2 or k < 2:
        nan = undefined(
            f"welch_t_test is undefined with {m} current and {k} baseline value(s); "
            "it needs at least 2 in each."
        )
        return result(nan, nan, nan)
    # A constant sample's variance is exactly 0, not the rounding residue of its mean.
    vc = float(np.var(c, ddof=1)) / m if np.ptp(c) > 0 else 0.0
    vb = float(np.var(b, ddof=1)) / k if np.ptp(b) > 0 else 0.0
    if vc + vb == 0.0:
        nan = undefined(
            "welch_t_test is undefined when both samples have zero variance; "
            "use mann_whitney_u_test for constant samples."
        )
        return result(nan, nan, nan)
    df = (vc + vb) ** 2 / (vc**2 / (m - 1) + vb**2 / (k - 1))
    t = (mc - mb) / float(np.sqrt(vc + vb))
    return result(t, _p_from_t(t, df, alternative), float(df))


def _average_ranks(xy: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Average ranks (1-based) of ``xy`` and the sizes of its groups of tied values."""
    n = xy.size
    order = np.argsort(xy, kind="stable")
    sorted_ = xy[order]
    first = np.r_[True, sorted_[1:] != sorted_[:-1]]
    starts = np.flatnonzero(first)
    sizes = np.diff(np.r_[starts, n]).astype(np.float64)
    group_rank = starts + (sizes + 1.0) / 2.0
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = group_rank[np.cumsum(first) - 1]
    return ranks, sizes


def _u_counts(m: int, n: int) -> NDArray[np.float64]:
    """Number of arrangements giving each U = 0 .. m*n under the null (m <= n).

    The generating function of U is the Gaussian binomial coefficient
    ``prod_{i=1}^{m} (1 - q^(n+i)) / (1 - q^i)``; each factor is a strided cumulative sum
    (division by ``1 - q^i``) followed by a shifted subtraction.
    """
    size = m * n + 1
    c = np.zeros(size)
    c[0] = 1.0
    for i in range(1, m + 1):
        padded = np.zeros(-(-size // i) * i)
        padded[:size] = c
        c = padded.reshape(-1, i).cumsum(axis=0).ravel()[:size]
        d = n + i
        if d < size:
            c[d:] = c[d:] - c[:-d].copy()
    return c


def _exact_sf(u: int, m: int, n: int) -> float:
    """P(U >= u) under the null, using the symmetry of U about m*n/2 like SciPy."""
    a, b = min(m, n), max(m, n)
    counts = _u_counts(a, b)
    pmf = counts / counts.sum()
    uc = a * b - u
    if u < uc:
        return float(1.0 - pmf[: u + 1].sum() + pmf[u])
    return float(pmf[: uc + 1].sum())


def mann_whitney_u_test(
    current: ArrayLike,
    baseline: ArrayLike | Baseline,
    *,
    alternative: str = "two-sided",
    method: str = "auto",
    use_continuity: bool = True,
    nan_policy: str = "omit",
) -> TwoSampleResult:
    """Mann–Whitney U rank test of current against baseline values.

    Parameters
    ----------
    current : array-like of shape (m,)
        Current metric values.
    baseline : array-like of shape (k,) or Baseline
        Baseline values.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        ``"less"``: current values tend to be lower; ``"greater"``: higher.
    method : {"auto", "exact", "asymptotic"}, default "auto"
        ``"auto"`` uses the exact null distribution when a sample has at most 8 values and there
        are no ties, the tie-corrected normal approximation otherwise (SciPy's rule).
    use_continuity : bool, default True
        Continuity correction of the normal approximation.
    nan_policy : {"omit", "raise"}, default "omit"
        NaN values are dropped with a :class:`~modelmon.exceptions.DataQualityWarning`, or
        rejected.

    Returns
    -------
    TwoSampleResult
        ``statistic`` is U of the current sample (``R_c - m(m+1)/2`` with average ranks).

    Notes
    -----
    Robust to outlying windows and to non-normal metric distributions. An empty sample makes the
    test undefined (NaN with an :class:`~modelmon.exceptions.UndefinedMetricWarning`); when every
    value is tied the p-value is 1 (no evidence of a shift). The exact method ignores ties, as
    SciPy's does.

    References
    ----------
    H. B. Mann and D. R. Whitney, "On a test of whether one of two random variables is
    stochastically larger than the other", Annals of Mathematical Statistics 18(1), 50–60, 1947.

    Examples
    --------
    >>> from modelmon.degradation import mann_whitney_u_test
    >>> res = mann_whitney_u_test([19, 22, 16, 29, 24], [20, 11, 17, 12])
    >>> res.statistic, round(res.p_value, 4), res.method
    (17.0, 0.1111, 'exact')
    """
    owner = "mann_whitney_u_test"
    check_option(alternative, "alternative", owner, ALTERNATIVES)
    check_option(method, "method", owner, ("auto", "exact", "asymptotic"))
    check_bool(use_continuity, "use_continuity", owner)
    c, b = _samples(current, baseline, owner, nan_policy)
    m, k = c.size, b.size
    mc, mb = _mean(c), _mean(b)
    if m == 0 or k == 0:
        nan = undefined(
            f"mann_whitney_u_test is undefined with {m} current and {k} baseline value(s); "
            "it needs at least 1 in each."
        )
        return TwoSampleResult("mann_whitney_u", nan, nan, alternative, m, k, mc, mb)
    ranks, ties = _average_ranks(np.concatenate((c, b)))
    u1 = float(ranks[:m].sum() - m * (m + 1) / 2.0)
    u2 = m * k - u1
    if alternative == "greater":
        u, factor = u1, 1.0
    elif alternative == "less":
        u, factor = u2, 1.0
    else:
        u, factor = max(u1, u2), 2.0
    if method == "auto":
        method = "asymptotic" if (m > 8 and k > 8) or bool((ties > 1).any()) else "exact"
    if method == "exact":
        p = _exact_sf(int(u), m, k)
    else:
        n = m + k
        tie_term = float(np.sum(ties**3 - ties))
        sd = np.sqrt(m * k / 12.0 * ((n + 1) - tie_term / (n * (n - 1))))
        num = u - m * k / 2.0 - (0.5 if use_continuity else 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = num / sd
        p = float(special.ndtr(-z)) if sd > 0 else 1.0
    p = float(np.clip(p * factor, 0.0, 1.0))
    return TwoSampleResult("mann_whitney_u", u1, p, alternative, m, k, mc, mb, method=method)

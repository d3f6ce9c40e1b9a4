"""Two-sample tests with p-values for numeric features.

Each test takes two samples — arrays (summarised exactly) or
:class:`~modelmon.drift.NumericSummary` objects such as a fitted reference's columns — and
returns a :class:`~modelmon.drift.TestResult`. Missing values (NaN; ±inf with a
:class:`~modelmon.exceptions.DataQualityWarning`) are left out. The statistics come from one
compiled pass over the two sorted samples; p-values follow SciPy's choices exactly, and the
property tests check agreement with SciPy to 1e-9.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np

from modelmon._validation import check_option
from modelmon.drift._common import (
    Outcome,
    empty_sample_message,
    finish,
    pair_numeric,
    to_test_result,
    undefined_outcome,
    with_notes,
)
from modelmon.drift.results import TestResult
from modelmon.drift.summaries import NumericSummary
from modelmon.exceptions import ParameterError

__all__ = [
    "anderson_darling_test",
    "cramer_von_mises_test",
    "ks_test",
    "mean_shift_z_test",
    "variance_f_test",
]

#: Largest sample for which ``method="auto"`` gives the exact KS p-value (as SciPy).
KS_EXACT_MAX_N = 10_000
#: Largest sample for which ``method="auto"`` gives the exact Cramér–von Mises p-value (as SciPy).
CVM_EXACT_MAX_N = 20


def _walk(ref: NumericSummary, cur: NumericSummary) -> tuple[Any, ...]:
    from modelmon.drift import _kernels

    result: tuple[Any, ...] = _kernels.cdf_walk(ref.values, ref.weights, cur.values, cur.weights)
    return result


def ks_statistic(ref: NumericSummary, cur: NumericSummary) -> float:
    """Two-sided KS statistic ``sup |F_ref - F_cur|``, computed as SciPy does."""
    ta, tb, ca_hi, cb_hi, ca_lo, cb_lo, _ = _walk(ref, cur)
    max_s = ca_hi / ta - cb_hi / tb
    min_s = min(max(-(ca_lo / ta - cb_lo / tb), 0.0), 1.0)
    return float(min_s if min_s > max_s else max_s)


def _require_exact(ref: NumericSummary, cur: NumericSummary, owner: str, what: str) -> None:
    if not (ref.exact and cur.exact):
        raise ParameterError(
            f"{owner}: {what} needs the exact samples, but the reference is a quantile sketch. "
            "Fit the reference with a larger max_exact= or use the asymptotic method=.",
            loc=("method",),
        )


def _ks(ref: NumericSummary, cur: NumericSummary, *, method: str = "auto") -> Outcome:
    from scipy import stats

    msg = empty_sample_message("ks_test", ref.n, cur.n)
    if msg:
        return undefined_outcome(msg, p_value=True)
    d = ks_statistic(ref, cur)
    n1, n2 = ref.n, cur.n
    mode = method
    if mode == "auto":
        mode = "exact" if max(n1, n2) <= KS_EXACT_MAX_N else "asymp"
    if mode == "exact":
        _require_exact(ref, cur, "ks_test", "the exact p-value")
        # SciPy's own exact small-sample distribution, on the (small) raw samples.
        p = float(stats.ks_2samp(ref.to_array(), cur.to_array(), method=method).pvalue)
        return Outcome(d, p)
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    p = float(np.clip(stats.kstwo.sf(d, np.round(en)), 0, 1))
    return Outcome(d, p)


def ks_test(reference: Any, current: Any, *, method: str = "auto") -> TestResult:
    """Two-sample Kolmogorov–Smirnov test (two-sided).

    The statistic is ``D = sup_x |F_ref(x) - F_cur(x)|`` over the pooled values. The p-value
    follows :func:`scipy.stats.ks_2samp`: with ``method="auto"`` it is exact when both samples
    have at most 10 000 values (SciPy's own exact distribution) and otherwise Smirnov's
    asymptotic distribution ``kstwo.sf(D, round(n*m/(n+m)))``.

    Parameters
    ----------
    reference, current : array-like or NumericSummary
        The samples. NaN (and ±inf, with a warning) are treated as missing and left out.
    method : {"auto", "exact", "asymp"}, default "auto"
        How the p-value is computed, as in SciPy.

    Returns
    -------
    TestResult
        ``statistic`` = D, ``p_value``. Both NaN, with an
        :class:`~modelmon.exceptions.UndefinedMetricWarning`, when a sample is empty.

    References
    ----------
    Kolmogorov, A. (1933). Sulla determinazione empirica di una legge di distribuzione.
    Smirnov, N. (1948). Table for estimating the goodness of fit of empirical distributions.
    Annals of Mathematical Statistics 19(2), 279–281.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> r = ks_test(rng.normal(size=500), rng.normal(0.3, 1, size=400))
    >>> round(r.statistic, 4), r.p_value < 0.05
    (0.1575, True)
    """
    check_option(method, "method", "ks_test", ["auto", "exact", "asymp"])
    ref, cur, notes = pair_numeric(reference, current, "ks_test")
    out = finish(with_notes(_ks(ref, cur, method=method), notes))
    return to_test_result("ks", out)


def _cdf_cvm_inf(x: float) -> float:
    """Limiting CDF of the one-sample Cramér–von Mises statistic (Csörgő & Faraway 1996, 1.2).

    The series SciPy sums (from the R package goftest), term by term until a term < 1e-7.
    """
    from scipy import special

    total = 0.0
    k = 0
    while True:
        u = math.exp(special.gammaln(k + 0.5) - special.gammaln(k + 1)) / (
            np.pi**1.5 * math.sqrt(x)
        )
        y = 4 * k + 1
        q = y**2 / (16 * x)
        z = u * math.sqrt(y) * math.exp(-q) * special.kv(0.25, q)
        total += z
        if abs(z) < 1e-7:
            return total
        k += 1


def _cvm(ref: NumericSummary, cur: NumericSummary, *, method: str = "auto") -> Outcome:
    from scipy import stats

    from modelmon.drift import _kernels

    nx, ny = ref.n, cur.n
    if nx < 2 or ny < 2:
        return undefined_outcome(
            "cramer_von_mises_test is undefined: each sample needs at least two non-missing "
            f"values (reference: {nx}, current: {ny}).",
            p_value=True,
        )
    sa, sb, _, _ = _kernels.rank_walk(ref.values, ref.weights, cur.values, cur.weights)
    u = nx * sa + ny * sb
    k, big_n = nx * ny, nx + ny
    t = u / (k * big_n) - (4 * k - 1) / (6 * big_n)
    mode = method
    if mode == "auto":
        mode = "exact" if max(nx, ny) <= CVM_EXACT_MAX_N else "asymptotic"
    if mode == "exact":
        _require_exact(ref, cur, "cramer_von_mises_test", "the exact p-value")
        p = float(stats.cramervonmises_2samp(ref.to_array(), cur.to_array(), method="exact").pvalue)
        return Outcome(float(t), p)
    # Anderson (1962), eqs. 11, 14 and 15, as in SciPy
    et = (1 + 1 / big_n) / 6
    vt_num = (big_n + 1) * (4 * k * big_n - 3 * (nx**2 + ny**2) - 2 * k)
    vt = vt_num / (45 * big_n**2 * 4 * k)
    tn = 1 / 6 + (t - et) / math.sqrt(45 * vt)
    p = 1.0 if tn < 0.003 else max(1.0 - _cdf_cvm_inf(tn), 0.0)
    return Outcome(float(t), float(p))


def cramer_von_mises_test(reference: Any, current: Any, *, method: str = "auto") -> TestResult:
    """Two-sample Cramér–von Mises test.

    ``T = U / (n m N) - (4 n m - 1) / (6 N)`` with ``U = n sum_i (r_i - i)^2 + m sum_j
    (s_j - j)^2`` over the pooled midranks ``r`` (reference) and ``s`` (current), ``N = n + m``.
    As in :func:`scipy.stats.cramervonmises_2samp` the p-value is exact when both samples have at
    most 20 values (``method="auto"``) and otherwise from Anderson's normalisation of ``T`` and
    the limiting distribution.

    Parameters
    ----------
    reference, current : array-like or NumericSummary
        The samples (missing values left out).
    method : {"auto", "exact", "asymptotic"}, default "auto"
        How the p-value is computed, as in SciPy.

    Returns
    -------
    TestResult
        NaN (with an UndefinedMetricWarning) when a sample has fewer than two values.

    References
    ----------
    Anderson, T. W. (1962). On the distribution of the two-sample Cramér–von Mises criterion.
    Annals of Mathematical Statistics 33(3), 1148–1159.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> r = cramer_von_mises_test(rng.normal(size=300), rng.normal(0.5, 1, size=300))
    >>> r.p_value < 0.001
    True
    """
    check_option(method, "method", "cramer_von_mises_test", ["auto", "exact", "asymptotic"])
    ref, cur, notes = pair_numeric(reference, current, "cramer_von_mises_test")
    out = finish(with_notes(_cvm(ref, cur, method=method), notes))
    return to_test_result("cramer_von_mises", out)


_AD_SIG = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])


@cache
def _ad_interpolation() -> tuple[np.ndarray, np.ndarray]:
    """Critical values for k = 2 (Scholz & Stephens 1987, Table 2) and SciPy's quadratic fit."""
    b0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
    b1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
    b2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
    m = 1
    critical = b0 + b1 / math.sqrt(m) + b2 / m
    return critical, np.polyfit(critical, np.log(_AD_SIG), 2)


def _ad(ref: NumericSummary, cur: NumericSummary) -> Outcome:
    from modelmon.drift import _kernels

    n1, n2 = ref.n, cur.n
    big_n = n1 + n2
    if n1 == 0 or n2 == 0 or big_n < 4:
        return undefined_outcome(
            "anderson_darling_test is undefined: it needs a non-empty sample on each side and "
            f"at least four values in all (reference: {n1}, current: {n2}).",
            p_value=True,
        )
    _, _, a2kn, n_distinct = _kernels.rank_walk(ref.values, ref.weights, cur.values, cur.weights)
    if n_distinct < 2:
        return undefined_outcome(
            "anderson_darling_test is undefined: all values are equal.", p_value=True
        )
    k = 2
    h_big = 1.0 / n1 + 1.0 / n2
    hs_cs = (1.0 / np.arange(big_n - 1, 1, -1)).cumsum()
    h = hs_cs[-1] + 1
    g = (hs_cs / np.arange(2, big_n)).sum()
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * h_big
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * h_big - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * h_big + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    sigmasq = (a * big_n**3 + b * big_n**2 + c * big_n + d) / (
        (big_n - 1.0) * (big_n - 2.0) * (big_n - 3.0)
    )
    m = k - 1
    a2 = (a2kn - m) / math.sqrt(sigmasq)
    critical, fit = _ad_interpolation()
    if a2 < critical.min():
        p = float(_AD_SIG.max())
    elif a2 > critical.max():
        p = float(_AD_SIG.min())
    else:
        p = math.exp(np.polyval(fit, a2))
    return Outcome(float(a2), p)


def anderson_darling_test(reference: Any, current: Any) -> TestResult:
    """Two-sample Anderson–Darling test (k-sample midrank version of Scholz & Stephens).

    The statistic is the standardised ``(A2akN - 1) / sigma_N`` of Scholz & Stephens (1987,
    eq. 7, midranks, valid with ties), as :func:`scipy.stats.anderson_ksamp` with
    ``variant="midrank"`` (SciPy's default; since SciPy 1.17 it warns unless ``variant`` is
    given). The p-value is interpolated from the paper's critical values exactly as SciPy does
    and is **capped to [0.001, 0.25]**: 0.25 means "0.25 or more", 0.001 "0.001 or less"
    (SciPy also warns then; this function does not).

    Parameters
    ----------
    reference, current : array-like or NumericSummary
        The samples (missing values left out).

    Returns
    -------
    TestResult
        NaN (with an UndefinedMetricWarning) when a sample is empty, there are fewer than four
        values in all, or every value is equal (SciPy raises or returns NaN there).

    References
    ----------
    Scholz, F. W. and Stephens, M. A. (1987). K-sample Anderson–Darling tests. Journal of the
    American Statistical Association 82(399), 918–924.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> r = anderson_darling_test(rng.normal(size=200), rng.normal(size=200))
    >>> round(r.statistic, 4), round(r.p_value, 4)
    (0.5132, 0.2038)
    """
    ref, cur, notes = pair_numeric(reference, current, "anderson_darling_test")
    out = finish(with_notes(_ad(ref, cur), notes))
    return to_test_result("anderson_darling", out)


def _sample_variance(s: NumericSummary) -> float:
    return s.variance * s.n / (s.n - 1)


def _mean_z(ref: NumericSummary, cur: NumericSummary) -> Outcome:
    from scipy import stats

    if ref.n < 2 or cur.n < 2:
        return undefined_outcome(
            "mean_shift_z_test is undefined: each sample needs at least two non-missing values "
            f"(reference: {ref.n}, current: {cur.n}).",
            p_value=True,
        )
    diff = cur.mean - ref.mean
    se = math.sqrt(_sample_variance(ref) / ref.n + _sample_variance(cur) / cur.n)
    if se == 0.0:
        z = 0.0 if diff == 0.0 else math.copysign(math.inf, diff)
    else:
        z = diff / se
    return Outcome(z, float(2.0 * stats.norm.sf(abs(z))))


def mean_shift_z_test(reference: Any, current: Any) -> TestResult:
    """Two-sided z-test for a shift in the mean (large-sample, unequal variances).

    ``z = (mean_cur - mean_ref) / sqrt(s2_ref / n_ref + s2_cur / n_cur)`` with sample variances
    (``ddof=1``); ``p = 2 * (1 - Phi(|z|))``. The normal approximation needs moderately large
    samples (a Welch t-test is the small-sample version). Both samples constant: ``z = 0`` and
    ``p = 1`` if the constants agree, otherwise ``z = ±inf`` and ``p = 0``.

    Parameters
    ----------
    reference, current : array-like or NumericSummary
        The samples (missing values left out). Only their exact moments are used.

    Returns
    -------
    TestResult
        ``statistic`` = z. NaN (with a warning) when a sample has fewer than two values.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> r = mean_shift_z_test(rng.normal(size=1000), rng.normal(0.2, 1, size=1000))
    >>> round(r.statistic, 2), r.p_value < 1e-4
    (5.36, True)
    """
    ref, cur, notes = pair_numeric(reference, current, "mean_shift_z_test")
    out = finish(with_notes(_mean_z(ref, cur), notes))
    return to_test_result("mean_shift_z", out)


def _variance_f(ref: NumericSummary, cur: NumericSummary) -> Outcome:
    from scipy import stats

    if ref.n < 2 or cur.n < 2:
        return undefined_outcome(
            "variance_f_test is undefined: each sample needs at least two non-missing values "
            f"(reference: {ref.n}, current: {cur.n}).",
            p_value=True,
        )
    s2_ref, s2_cur = _sample_variance(ref), _sample_variance(cur)
    if s2_ref == 0.0:
        return Outcome(1.0, 1.0) if s2_cur == 0.0 else Outcome(math.inf, 0.0)
    f = s2_cur / s2_ref
    dist = stats.f(cur.n - 1, ref.n - 1)
    p = min(1.0, 2.0 * min(float(dist.cdf(f)), float(dist.sf(f))))
    return Outcome(f, p)


def variance_f_test(reference: Any, current: Any) -> TestResult:
    """Two-sided F-test for a change in variance.

    ``F = s2_cur / s2_ref`` (sample variances, ``ddof=1``) against the F distribution with
    ``(n_cur - 1, n_ref - 1)`` degrees of freedom; ``p = min(1, 2 min(P(F' <= F), P(F' >= F)))``.
    The test assumes normal data and is sensitive to heavy tails. A constant reference gives
    ``F = inf, p = 0`` (``F = 1, p = 1`` when the current sample is constant too).

    Parameters
    ----------
    reference, current : array-like or NumericSummary
        The samples (missing values left out).

    Returns
    -------
    TestResult
        ``statistic`` = F. NaN (with a warning) when a sample has fewer than two values.

    References
    ----------
    Snedecor, G. W. and Cochran, W. G. (1989). Statistical Methods, 8th ed., section 6.12.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> r = variance_f_test(rng.normal(size=1000), rng.normal(0, 1.2, size=1000))
    >>> round(r.statistic, 2), r.p_value < 1e-4
    (1.58, True)
    """
    ref, cur, notes = pair_numeric(reference, current, "variance_f_test")
    out = finish(with_notes(_variance_f(ref, cur), notes))
    return to_test_result("variance_f", out)

"""Two-sample tests with p-values for categorical features.

Both tests compare category counts over the union of the two samples' categories, so a category
that appears only in the current data (or vanishes from it) counts as a difference. The
histogram distances (PSI, Jensen–Shannon, Hellinger, total variation, KL) in
:mod:`modelmon.drift.distances` accept categorical samples too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from modelmon._validation import check_bool
from modelmon.drift._common import (
    Outcome,
    categorical,
    empty_sample_message,
    finish,
    to_test_result,
    undefined_outcome,
)
from modelmon.drift.results import TestResult
from modelmon.drift.summaries import CategoricalSummary, category_key

__all__ = ["chi_square_test", "proportions_z_test"]


def _chi_square(
    ref: CategoricalSummary, cur: CategoricalSummary, *, correction: bool = True
) -> Outcome:
    from scipy import stats

    msg = empty_sample_message("chi_square_test", ref.n, cur.n)
    if msg:
        return undefined_outcome(msg, p_value=True)
    _, r, c = ref.aligned(cur)
    observed = np.stack([r, c]).astype(np.float64)
    k = observed.shape[1]
    dof = k - 1
    if dof == 0:
        return Outcome(0.0, 1.0)
    rows = observed.sum(axis=1, keepdims=True)
    cols = observed.sum(axis=0, keepdims=True)
    expected = rows * cols / observed.sum()
    if dof == 1 and correction:
        # Yates' continuity correction, no larger than the difference (as SciPy, gh-13875)
        diff = expected - observed
        observed = observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    return Outcome(chi2, float(stats.chi2.sf(chi2, dof)))


def chi_square_test(reference: Any, current: Any, *, correction: bool = True) -> TestResult:
    """Pearson's chi-square test of homogeneity on the 2 × k table of category counts.

    Rows are the two samples, columns the union of their categories; ``chi2 = sum (O - E)^2 / E``
    with ``E`` from the margins, ``k - 1`` degrees of freedom. Identical to
    :func:`scipy.stats.chi2_contingency` on that table, including its default: with
    ``correction=True`` Yates' continuity correction is applied when the table is 2 × 2 (two
    categories) and has no effect otherwise. One category in all: ``chi2 = 0, p = 1``.

    Parameters
    ----------
    reference, current : array-like or CategoricalSummary
        The samples (None / NaN / nulls left out).
    correction : bool, default True
        Yates' correction for 2 × 2 tables, as in SciPy.

    Returns
    -------
    TestResult
        NaN (with an UndefinedMetricWarning) when a sample is empty.

    References
    ----------
    Pearson, K. (1900). On the criterion that a given system of deviations from the probable ...
    Philosophical Magazine 50(302), 157–175. Yates, F. (1934). Contingency tables involving small
    numbers and the chi-square test. Supplement to the JRSS 1(2), 217–235.

    Examples
    --------
    >>> r = chi_square_test(["a"] * 60 + ["b"] * 30 + ["c"] * 10, ["a"] * 40 + ["b"] * 40 + ["c"] * 20)
    >>> round(r.statistic, 3), round(r.p_value, 4)
    (8.762, 0.0125)
    """
    check_bool(correction, "correction", "chi_square_test")
    out = finish(
        _chi_square(
            categorical(reference, "reference", "chi_square_test"),
            categorical(current, "current", "chi_square_test"),
            correction=correction,
        )
    )
    return to_test_result("chi_square", out)


def _proportions_z(ref: CategoricalSummary, cur: CategoricalSummary) -> Outcome:
    from scipy import stats

    msg = empty_sample_message("proportions_z_test", ref.n, cur.n)
    if msg:
        return undefined_outcome(msg, p_value=True)
    cats, r, c = ref.aligned(cur)
    if len(cats) > 2:
        return undefined_outcome(
            f"proportions_z_test is undefined: the feature has {len(cats)} categories, not two. "
            "Use tests= to choose 'chi_square' for it.",
            p_value=True,
        )
    if len(cats) == 1:
        return Outcome(0.0, 1.0)
    first = min(range(2), key=lambda i: category_key(cats[i]))
    n_ref, n_cur = ref.n, cur.n
    p_ref, p_cur = r[first] / n_ref, c[first] / n_cur
    pooled = (r[first] + c[first]) / (n_ref + n_cur)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_ref + 1.0 / n_cur))
    z = float((p_cur - p_ref) / se)
    return Outcome(z, float(2.0 * stats.norm.sf(abs(z))))


def proportions_z_test(reference: Any, current: Any) -> TestResult:
    """Two-sided z-test for a change in the proportion of a binary feature.

    With ``p_ref``, ``p_cur`` the shares of the first category (in sorted order) and ``p`` the
    pooled share, ``z = (p_cur - p_ref) / sqrt(p (1 - p) (1/n_ref + 1/n_cur))`` and
    ``p-value = 2 (1 - Phi(|z|))``. ``z**2`` equals the chi-square statistic without Yates'
    correction. One category in all: ``z = 0, p = 1``; more than two categories: undefined (use
    :func:`chi_square_test`).

    Parameters
    ----------
    reference, current : array-like or CategoricalSummary
        The samples (None / NaN / nulls left out).

    Returns
    -------
    TestResult
        ``statistic`` = z. NaN (with an UndefinedMetricWarning) when a sample is empty or the
        feature is not binary.

    References
    ----------
    Fleiss, J. L., Levin, B. and Paik, M. C. (2003). Statistical Methods for Rates and
    Proportions, 3rd ed., section 2.5.

    Examples
    --------
    >>> r = proportions_z_test([True] * 70 + [False] * 30, [True] * 50 + [False] * 50)
    >>> round(r.statistic, 3), round(r.p_value, 4)
    (2.887, 0.0039)
    """
    out = finish(
        _proportions_z(
            categorical(reference, "reference", "proportions_z_test"),
            categorical(current, "current", "proportions_z_test"),
        )
    )
    return to_test_result("proportions_z", out)

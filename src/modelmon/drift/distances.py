"""Distances between a reference and a current distribution (effect sizes, no p-values).

* On the real line: Wasserstein-1 (raw, or divided by the reference's standard deviation) and
  energy distance, from one compiled pass over the sorted samples; they agree with
  :func:`scipy.stats.wasserstein_distance` / :func:`scipy.stats.energy_distance`.
* On histograms: population stability index, Jensen–Shannon distance, Kullback–Leibler
  divergence, Hellinger distance and total variation. Numeric samples are binned on the
  reference's quantiles (``bins`` bins, edges where every reference bin is non-empty, open
  outer bins so current values beyond the reference's range count in the end bins); categorical
  samples use the union of their categories (new and vanished categories included).

Each function accepts arrays or summaries (:class:`~modelmon.drift.NumericSummary`,
:class:`~modelmon.drift.CategoricalSummary`) and returns a float.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_int, check_option, check_real
from modelmon.drift._common import (
    Outcome,
    Summary,
    categorical,
    empty_sample_message,
    finish,
    is_categorical_input,
    numeric,
    pair_numeric,
    undefined_outcome,
    with_notes,
)
from modelmon.drift.summaries import DEFAULT_BINS, CategoricalSummary, Note, NumericSummary
from modelmon.exceptions import DataQualityWarning

__all__ = [
    "energy_distance",
    "hellinger_distance",
    "jensen_shannon_distance",
    "kl_divergence",
    "population_stability_index",
    "total_variation_distance",
    "wasserstein_distance",
]

#: Default smoothing for empty bins in PSI and KL divergence.
DEFAULT_EPSILON = 1e-4


def _wasserstein(ref: NumericSummary, cur: NumericSummary, *, normalize: bool = False) -> Outcome:
    from modelmon.drift import _kernels

    owner = "normalized_wasserstein" if normalize else "wasserstein_distance"
    msg = empty_sample_message(owner, ref.n, cur.n)
    if msg:
        return undefined_outcome(msg, p_value=False)
    w = float(_kernels.wasserstein_walk(ref.values, ref.weights, cur.values, cur.weights))
    if not normalize:
        return Outcome(w)
    spread = ref.std
    if spread == 0.0:
        # a constant reference: any movement is infinitely large relative to its spread
        return Outcome(0.0 if w == 0.0 else math.inf)
    return Outcome(w / spread)


def wasserstein_distance(reference: Any, current: Any, *, normalize: bool = False) -> float:
    """Wasserstein-1 (earth mover's) distance between two samples.

    ``W1 = integral |F_ref(x) - F_cur(x)| dx``, in the units of the data; equal to
    :func:`scipy.stats.wasserstein_distance`. With ``normalize=True`` it is divided by the
    reference's population standard deviation (``ddof=0``), as Evidently's
    ``wasserstein_distance_norm`` does, so that 0.1 means "the distribution moved by a tenth of
    a standard deviation" whatever the feature's scale; a constant reference gives 0 when the
    current sample is the same constant and ``inf`` otherwise.

    Parameters
    ----------
    reference, current : array-like or NumericSummary
        The samples (missing values left out).
    normalize : bool, default False
        Divide by the reference standard deviation.

    Returns
    -------
    float
        NaN (with an UndefinedMetricWarning) when a sample is empty.

    References
    ----------
    Vaserstein, L. N. (1969). Markov processes over denumerable products of spaces.
    Ramdas, A., García Trillos, N. and Cuturi, M. (2017). On Wasserstein two-sample testing and
    related families of nonparametric tests. Entropy 19(2), 47.

    Examples
    --------
    >>> wasserstein_distance([0.0, 1.0, 3.0], [5.0, 6.0, 8.0])
    5.0
    >>> round(wasserstein_distance([0.0, 2.0], [1.0, 3.0], normalize=True), 6)
    1.0
    """
    ref, cur, notes = pair_numeric(reference, current, "wasserstein_distance")
    return finish(with_notes(_wasserstein(ref, cur, normalize=normalize), notes)).statistic


def _energy(ref: NumericSummary, cur: NumericSummary) -> Outcome:
    from modelmon.drift import _kernels

    msg = empty_sample_message("energy_distance", ref.n, cur.n)
    if msg:
        return undefined_outcome(msg, p_value=False)
    ta, tb, _, _, _, _, e2 = _kernels.cdf_walk(ref.values, ref.weights, cur.values, cur.weights)
    scale = float(ta) * float(tb)
    return Outcome(float(math.sqrt(2.0) * math.sqrt(e2 / (scale * scale))))


def energy_distance(reference: Any, current: Any) -> float:
    """Energy distance between two samples.

    ``D = sqrt(2 E|X-Y| - E|X-X'| - E|Y-Y'|) = sqrt(2 integral (F_ref - F_cur)^2 dx)`` for
    one-dimensional samples; equal to :func:`scipy.stats.energy_distance`. In the units of the
    data (square-root scale), so it needs a feature-specific threshold.

    Parameters
    ----------
    reference, current : array-like or NumericSummary
        The samples (missing values left out).

    Returns
    -------
    float
        NaN (with an UndefinedMetricWarning) when a sample is empty.

    References
    ----------
    Székely, G. J. and Rizzo, M. L. (2013). Energy statistics: a class of statistics based on
    distances. Journal of Statistical Planning and Inference 143(8), 1249–1272.

    Examples
    --------
    >>> round(energy_distance([0.0], [2.0]), 6)
    2.0
    """
    ref, cur, notes = pair_numeric(reference, current, "energy_distance")
    return finish(with_notes(_energy(ref, cur), notes)).statistic


# ---------------------------------------------------------------- histogram-based measures


def binned_counts(
    ref: Summary, cur: Summary, bins: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Reference and current counts over shared bins (categories or reference-quantile bins)."""
    if isinstance(ref, CategoricalSummary):
        assert isinstance(cur, CategoricalSummary)
        _, r, c = ref.aligned(cur)
        return r, c
    assert isinstance(ref, NumericSummary)
    assert isinstance(cur, NumericSummary)
    edges = ref.quantile_edges(bins)
    if edges.size == 0 and ref.n:
        # a constant reference: separate "below", "equal" and "above" so any move shows
        v = float(ref.values[0])
        edges = np.array([v, np.nextafter(v, np.inf)])
    if ref.bin_counts is not None and edges is ref.bin_edges:
        r = ref.bin_counts
    else:
        r = ref.histogram(edges)
    return r, cur.histogram(edges)


def _prepare(
    ref: Summary, cur: Summary, bins: int, owner: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | Outcome:
    msg = empty_sample_message(owner, ref.n, cur.n)
    if msg:
        return undefined_outcome(msg, p_value=False)
    r, c = binned_counts(ref, cur, bins)
    return r / r.sum(), c / c.sum()


def _smooth(
    p: NDArray[np.float64], q: NDArray[np.float64], epsilon: float, owner: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[Note, ...]]:
    both = (p == 0) & (q == 0)
    if both.any():  # a bin empty on both sides carries no information
        p, q = p[~both], q[~both]
    zero_p, zero_q = p == 0, q == 0
    n_p, n_q = int(zero_p.sum()), int(zero_q.sum())
    if not (n_p or n_q):
        return p, q, ()
    note = (
        DataQualityWarning,
        f"{owner}: {n_p + n_q} bin(s) are empty in one sample (reference: {n_p}, current: "
        f"{n_q}); their proportions were replaced by epsilon={epsilon!r}. Pass epsilon= to "
        "change the smoothing (or fewer bins= for a numeric feature).",
    )
    return np.where(zero_p, epsilon, p), np.where(zero_q, epsilon, q), (note,)


def _psi(
    ref: Summary, cur: Summary, *, bins: int = DEFAULT_BINS, epsilon: float = DEFAULT_EPSILON
) -> Outcome:
    prepared = _prepare(ref, cur, bins, "population_stability_index")
    if isinstance(prepared, Outcome):
        return prepared
    p, q, notes = _smooth(*prepared, epsilon, "population_stability_index")
    return Outcome(float(np.sum((q - p) * np.log(q / p))), None, notes)


def _kl(
    ref: Summary, cur: Summary, *, bins: int = DEFAULT_BINS, epsilon: float = DEFAULT_EPSILON
) -> Outcome:
    from scipy import special

    prepared = _prepare(ref, cur, bins, "kl_divergence")
    if isinstance(prepared, Outcome):
        return prepared
    p, q, notes = _smooth(*prepared, epsilon, "kl_divergence")
    p, q = p / p.sum(), q / q.sum()
    return Outcome(float(np.sum(special.rel_entr(p, q))), None, notes)


def _js(ref: Summary, cur: Summary, *, bins: int = DEFAULT_BINS, base: float = 2.0) -> Outcome:
    from scipy import special

    prepared = _prepare(ref, cur, bins, "jensen_shannon_distance")
    if isinstance(prepared, Outcome):
        return prepared
    p, q = prepared
    m = (p + q) / 2.0
    js = np.sum(special.rel_entr(p, m)) + np.sum(special.rel_entr(q, m))
    js /= np.log(base)
    return Outcome(float(np.sqrt(js / 2.0)))


def _hellinger(ref: Summary, cur: Summary, *, bins: int = DEFAULT_BINS) -> Outcome:
    prepared = _prepare(ref, cur, bins, "hellinger_distance")
    if isinstance(prepared, Outcome):
        return prepared
    p, q = prepared
    return Outcome(float(np.sqrt(np.sum(np.square(np.sqrt(p) - np.sqrt(q)))) / np.sqrt(2.0)))


def _total_variation(ref: Summary, cur: Summary, *, bins: int = DEFAULT_BINS) -> Outcome:
    prepared = _prepare(ref, cur, bins, "total_variation_distance")
    if isinstance(prepared, Outcome):
        return prepared
    p, q = prepared
    return Outcome(float(0.5 * np.sum(np.abs(p - q))))


def _pair(
    reference: Any, current: Any, owner: str, feature_type: str | None
) -> tuple[Summary, Summary, list[Note]]:
    if feature_type is not None:
        check_option(feature_type, "feature_type", owner, ["numeric", "categorical"])
    if is_categorical_input(reference, feature_type):
        return (
            categorical(reference, "reference", owner),
            categorical(current, "current", owner),
            [],
        )
    notes: list[Note] = []
    return (
        numeric(reference, "reference", owner, notes),
        numeric(current, "current", owner, notes),
        notes,
    )


def population_stability_index(
    reference: Any,
    current: Any,
    *,
    bins: int = DEFAULT_BINS,
    epsilon: float = DEFAULT_EPSILON,
    feature_type: str | None = None,
) -> float:
    """Population stability index (PSI).

    ``PSI = sum_i (q_i - p_i) ln(q_i / p_i)`` over bins, ``p`` the reference and ``q`` the
    current proportions — the symmetrised KL divergence. A bin empty in one sample would make it
    infinite, so such proportions are replaced by ``epsilon`` (without renormalising, as the
    usual scorecard formula and Evidently do) and a
    :class:`~modelmon.exceptions.DataQualityWarning` names ``epsilon=``. Rule of thumb (Siddiqi
    2006): below 0.1 no significant change, 0.1–0.25 moderate, above 0.25 major.

    Parameters
    ----------
    reference, current : array-like or summary
        The samples. Numbers are binned on ``bins`` reference quantiles; strings, booleans and
        categorical summaries are compared category by category.
    bins : int, default 10
        Quantile bins for numeric samples (fewer when the reference has ties).
    epsilon : float, default 1e-4
        Proportion used for a bin empty in one sample.
    feature_type : {"numeric", "categorical"}, optional
        Override the numeric/categorical decision for arrays.

    Returns
    -------
    float
        NaN (with an UndefinedMetricWarning) when a sample is empty.

    References
    ----------
    Siddiqi, N. (2006). Credit Risk Scorecards. Wiley, ch. 8.
    Yurdakul, B. (2018). Statistical properties of population stability index. PhD thesis,
    Western Michigan University.

    Examples
    --------
    >>> round(population_stability_index(["a"] * 50 + ["b"] * 50, ["a"] * 30 + ["b"] * 70), 4)
    0.1695
    """
    check_int(bins, "bins", "population_stability_index", low=2)
    check_real(epsilon, "epsilon", "population_stability_index", low=0, high=1, closed="neither")
    ref, cur, notes = _pair(reference, current, "population_stability_index", feature_type)
    return finish(with_notes(_psi(ref, cur, bins=bins, epsilon=epsilon), notes)).statistic


def kl_divergence(
    reference: Any,
    current: Any,
    *,
    bins: int = DEFAULT_BINS,
    epsilon: float = DEFAULT_EPSILON,
    feature_type: str | None = None,
) -> float:
    """Kullback–Leibler divergence ``KL(reference || current)`` in nats.

    ``sum_i p_i ln(p_i / q_i)`` over bins. Proportions of bins empty in one sample are replaced
    by ``epsilon`` and both vectors renormalised (:func:`scipy.stats.entropy` on the smoothed
    vectors), with a DataQualityWarning naming ``epsilon=``. Asymmetric and unbounded.

    Parameters
    ----------
    reference, current : array-like or summary
        The samples (binned like :func:`population_stability_index`).
    bins : int, default 10
        Quantile bins for numeric samples.
    epsilon : float, default 1e-4
        Proportion used for a bin empty in one sample.
    feature_type : {"numeric", "categorical"}, optional
        Override the numeric/categorical decision for arrays.

    Returns
    -------
    float

    References
    ----------
    Kullback, S. and Leibler, R. A. (1951). On information and sufficiency. Annals of
    Mathematical Statistics 22(1), 79–86.

    Examples
    --------
    >>> round(kl_divergence(["a"] * 50 + ["b"] * 50, ["a"] * 30 + ["b"] * 70), 4)
    0.0872
    """
    check_int(bins, "bins", "kl_divergence", low=2)
    check_real(epsilon, "epsilon", "kl_divergence", low=0, high=1, closed="neither")
    ref, cur, notes = _pair(reference, current, "kl_divergence", feature_type)
    return finish(with_notes(_kl(ref, cur, bins=bins, epsilon=epsilon), notes)).statistic


def jensen_shannon_distance(
    reference: Any,
    current: Any,
    *,
    bins: int = DEFAULT_BINS,
    base: float = 2.0,
    feature_type: str | None = None,
) -> float:
    """Jensen–Shannon distance (square root of the JS divergence).

    ``sqrt((KL(p || m) + KL(q || m)) / 2)`` with ``m = (p + q) / 2``, logarithms in ``base``;
    equal to :func:`scipy.spatial.distance.jensenshannon`. With the default base 2 it lies in
    [0, 1] (Lin 1991); SciPy's default (natural log) gives values ``sqrt(ln 2) ≈ 0.833`` times
    as large. Defined with empty bins, so no smoothing.

    Parameters
    ----------
    reference, current : array-like or summary
        The samples (binned like :func:`population_stability_index`).
    bins : int, default 10
        Quantile bins for numeric samples.
    base : float, default 2.0
        Logarithm base.
    feature_type : {"numeric", "categorical"}, optional
        Override the numeric/categorical decision for arrays.

    Returns
    -------
    float

    References
    ----------
    Lin, J. (1991). Divergence measures based on the Shannon entropy. IEEE Transactions on
    Information Theory 37(1), 145–151.

    Examples
    --------
    >>> jensen_shannon_distance(["a", "a"], ["b", "b"])
    1.0
    """
    check_int(bins, "bins", "jensen_shannon_distance", low=2)
    check_real(base, "base", "jensen_shannon_distance", low=1, closed="neither")
    ref, cur, notes = _pair(reference, current, "jensen_shannon_distance", feature_type)
    return finish(with_notes(_js(ref, cur, bins=bins, base=base), notes)).statistic


def hellinger_distance(
    reference: Any, current: Any, *, bins: int = DEFAULT_BINS, feature_type: str | None = None
) -> float:
    """Hellinger distance ``sqrt(sum_i (sqrt(p_i) - sqrt(q_i))^2) / sqrt(2)``, in [0, 1].

    Parameters
    ----------
    reference, current : array-like or summary
        The samples (binned like :func:`population_stability_index`).
    bins : int, default 10
        Quantile bins for numeric samples.
    feature_type : {"numeric", "categorical"}, optional
        Override the numeric/categorical decision for arrays.

    Returns
    -------
    float

    References
    ----------
    Hellinger, E. (1909). Neue Begründung der Theorie quadratischer Formen von unendlichvielen
    Veränderlichen. Journal für die reine und angewandte Mathematik 136, 210–271.

    Examples
    --------
    >>> hellinger_distance(["a", "a"], ["b", "b"])
    1.0
    """
    check_int(bins, "bins", "hellinger_distance", low=2)
    ref, cur, notes = _pair(reference, current, "hellinger_distance", feature_type)
    return finish(with_notes(_hellinger(ref, cur, bins=bins), notes)).statistic


def total_variation_distance(
    reference: Any, current: Any, *, bins: int = DEFAULT_BINS, feature_type: str | None = None
) -> float:
    """Total variation distance ``sum_i |p_i - q_i| / 2``, in [0, 1].

    The largest difference in probability the two distributions give any set of categories.

    Parameters
    ----------
    reference, current : array-like or summary
        The samples (binned like :func:`population_stability_index`).
    bins : int, default 10
        Quantile bins for numeric samples.
    feature_type : {"numeric", "categorical"}, optional
        Override the numeric/categorical decision for arrays.

    Returns
    -------
    float

    References
    ----------
    Levin, D. A., Peres, Y. and Wilmer, E. L. (2009). Markov Chains and Mixing Times, §4.1.

    Examples
    --------
    >>> total_variation_distance(["a", "b"], ["a", "a"])
    0.5
    """
    check_int(bins, "bins", "total_variation_distance", low=2)
    ref, cur, notes = _pair(reference, current, "total_variation_distance", feature_type)
    return finish(with_notes(_total_variation(ref, cur, bins=bins), notes)).statistic

"""Drift thresholds from the reference's own variability (instead of one fixed number).

A fixed threshold (normalised Wasserstein >= 0.1, Jensen-Shannon >= 0.1) is too deaf for a
stable feature and too jumpy for a noisy one: on public benchmark data it missed features whose
statistic was 4-10 times the reference's own window-to-window noise. NannyML instead takes, per
feature, the mean plus three standard deviations of the statistic over reference chunks; with
the usual ten chunks that standard deviation is itself so uncertain (and the statistic so skewed)
that about half the windows of a stable 25-feature model raise some drift alert.

:class:`DriftBands` learns each feature's *noise distribution* and scales it to any window size:

- Under no drift, a distance between a window of ``n`` values and a reference of ``N`` values
  shrinks like ``(1/n + 1/N) ** e`` (``e = 1/2`` for distances such as Wasserstein,
  Jensen-Shannon, Hellinger, KS; ``e = 1`` for divergences such as PSI and KL). The *normalised*
  statistic ``u = s / (1/n + 1/N) ** e`` has (nearly) the same distribution at every ``n``.
- **Simulation from the summary**: stable windows of ``n_b`` values are drawn from the
  reference's own distribution (the stored :class:`~modelmon.drift.Reference`, no raw rows
  needed) and compared with references *also redrawn* from it (a real window is compared with
  one particular reference, which lies some way from the truth; leaving that out makes the
  band too narrow for some features by about 15 %). The squared distance (or the divergence)
  of those windows gives the body of the noise distribution, and an exponential fitted to its
  top fifth its far tail (peaks over a threshold).
- **Reference windows** (optional): the statistics of consecutive chunks of the reference period
  (its own time windows, or row chunks) vs the whole reference, normalised with
  ``(1/n - 1/N) ** e`` (a chunk is part of the reference). They capture variation that is not
  sampling noise (time of day, weekly cycles); their mean plus ``sigma`` standard deviations
  (NannyML's rule) is a second bound.

The threshold of a window of ``n`` values at ``sigma`` standard deviations is::

    upper(n) = max(q(sigma), windows_mean + sigma * windows_std) * (1/min(n, n_chunk) + 1/N) ** e

where ``q(sigma)`` is the noise model's quantile with the normal tail probability of ``sigma``.

Windows larger than the reference's chunks keep the chunks' band (variation that is not
sampling noise does not shrink with more rows). :func:`sigma_for` picks ``sigma`` so that the
chance of a false alarm on any of ``k`` features in one stable window is ``alpha``
(Bonferroni): with 25 features and ``alpha = 0.01``, 3.35 standard deviations;
:meth:`DriftBands.apply` adds a margin of :data:`MARGIN`. On simulated stable models (20
references of 12 windows, 100 windows each) the share of windows with any finding is then 0.9 %
at a nominal 1 % and 3.5 % at 5 %, against 48 % for NannyML's mean + 3 sd over 12 reference
chunks (25 features).

p-value tests (KS, chi-square ...) already account for sample size and have no band.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from modelmon._results import Result
from modelmon._validation import check_int, check_real
from modelmon.drift._frames import column_from_array
from modelmon.drift.compare import _summarize_current
from modelmon.drift.reference import Reference
from modelmon.drift.registry import DriftTest, default_registry
from modelmon.drift.results import DatasetDriftResult, FeatureDriftResult
from modelmon.drift.summaries import (
    CategoricalSummary,
    NumericSummary,
    make_categorical,
    summarize_numeric,
)
from modelmon.exceptions import ModelmonWarning, ParameterError

__all__ = [
    "BAND_TESTS",
    "MARGIN",
    "NULL_EXPONENT",
    "DriftBands",
    "StatisticBand",
    "sigma_for",
]

#: The statistic judged against a band, per feature type, when none is chosen: one distance per
#: feature for every window (so a feature's series is comparable over time and window sizes).
BAND_TESTS = {"numeric": "normalized_wasserstein", "categorical": "jensen_shannon"}

#: How each distance shrinks with the sample size under no drift: ``s ~ (1/n + 1/N) ** e``.
NULL_EXPONENT: dict[str, float] = {
    "normalized_wasserstein": 0.5, "wasserstein": 0.5, "energy": 0.5, "jensen_shannon": 0.5,
    "hellinger": 0.5, "total_variation": 0.5, "psi": 1.0, "kl_divergence": 1.0,
}

_TINY = 1e-12
_NORMAL = NormalDist()
#: Added to ``sigma`` by :meth:`DriftBands.apply`: the simulation cannot know how far this
#: particular reference lies from the truth for a feature, and a threshold a little too low
#: costs more false alarms than one a little too high saves (on simulated stable models the
#: rate of windows with any finding is 3.5 % at a nominal 5 % and 0.9 % at 1 % with it, 5.9 %
#: and 2.0 % without).
MARGIN = 0.25
_DECILE_LEVELS = np.linspace(0.1, 0.9, 9)


def sigma_for(alpha: float, k: int) -> float:
    """Standard deviations for a chance ``alpha`` of a false finding among ``k`` features.

    One-sided and Bonferroni-corrected: ``Phi^-1(1 - alpha / k)``.

    >>> round(sigma_for(0.01, 25), 2), round(sigma_for(0.00135, 1), 2)
    (3.35, 3.0)
    """
    alpha = check_real(alpha, "alpha", "sigma_for", low=0, high=1, closed="neither")
    k = max(1, int(k))
    return NormalDist().inv_cdf(1.0 - alpha / k)


@dataclass(frozen=True)
class StatisticBand(Result):
    """The noise band of one feature's drift statistic (see the module docstring).

    Attributes
    ----------
    feature, test : str
        The feature and the statistic (a registered distance test).
    exponent : float
        ``e`` in ``s ~ (1/n + 1/N) ** e``.
    n_reference : int
        ``N``, non-missing reference values.
    n_chunk : int
        Size of the reference's chunks (or of the bootstrap samples without chunks): windows
        larger than this keep this size's band.
    deciles : tuple of float
        The 10 %, 20 % ... 90 % quantiles of ``t = u ** (1/e)`` (the squared distance, or the
        divergence itself) over the simulated stable windows.
    tail_rate : float
        Beyond its 80 % quantile ``t`` is modelled with an exponential tail (peaks over a
        threshold): ``P(t > q80 + x) = 0.2 exp(-tail_rate x)``. Chi-square-like statistics have
        such tails; on simulated features the 0.1 % quantile it gives is within a few per cent
        of the true one, where a normal fit to ``log u`` or a scaled chi-square fitted by moments
        fall 5-10 % short (too many false alarms). ``inf`` for a feature that never varies: any
        change is drift.
    windows_mean, windows_std : float or None
        Mean and standard deviation of the normalised statistic over the reference's chunks
        (None with fewer than three chunks).
    """

    feature: str
    test: str
    exponent: float
    n_reference: int
    n_chunk: int
    deciles: tuple[float, ...]
    tail_rate: float
    windows_mean: float | None = None
    windows_std: float | None = None

    def scale(self, n: int) -> float:
        """``(1/min(n, n_chunk) + 1/N) ** e``: how large noise is for a window of ``n`` values."""
        m = max(1, min(int(n), self.n_chunk))
        return float((1.0 / m + 1.0 / max(self.n_reference, 1)) ** self.exponent)

    def _quantile(self, sigma: float) -> float:
        """The noise model's normalised statistic exceeded with the normal tail of ``sigma``."""
        p = _NORMAL.cdf(-sigma)
        q80 = self.deciles[7]
        if math.isinf(self.tail_rate):
            return 0.0
        if p < 0.2:
            t = q80 + math.log(0.2 / p) / self.tail_rate
        else:
            t = float(np.interp(1.0 - p, _DECILE_LEVELS, self.deciles))
        return max(t, 0.0) ** self.exponent

    def normalised_upper(self, sigma: float) -> float:
        """The band's upper limit in normalised units."""
        upper = self._quantile(sigma)
        if self.windows_mean is not None and self.windows_std is not None:
            upper = max(upper, self.windows_mean + sigma * self.windows_std)
        return upper

    def upper(self, n: int, sigma: float) -> float:
        """The statistic above which a window of ``n`` values drifted."""
        return self.normalised_upper(sigma) * self.scale(n)

    def mean(self, n: int) -> float:
        """The statistic's typical (median) value without drift, at ``n`` values."""
        return self._quantile(0.0) * self.scale(n)

    def sigmas(self, statistic: float, n: int) -> float:
        """How far ``statistic`` lies in the noise model's upper tail, as normal standard
        deviations (the ``sigma`` at which it would just reach :meth:`upper` without the
        windows bound): ``inf`` when the feature never varied in the reference and now does;
        NaN for an undefined statistic."""
        if statistic is None or not math.isfinite(statistic):
            return math.nan
        if math.isinf(self.tail_rate):
            return 0.0 if statistic <= 0 else math.inf
        t = (max(statistic, 0.0) / self.scale(n)) ** (1.0 / self.exponent)
        q80 = self.deciles[7]
        if t > q80:  # on the log scale: the tail probability underflows far out
            return _upper_z(math.log(0.2) - self.tail_rate * (t - q80))
        return _NORMAL.inv_cdf(float(np.interp(t, self.deciles, _DECILE_LEVELS, left=0.05)))


def _upper_z(log_p: float) -> float:
    """``z`` with an upper normal tail probability of ``exp(log_p)`` (asymptotic beyond the
    range of floating point)."""
    if log_p > -700:
        p = math.exp(log_p)
        if p >= 1e-300:
            return -_NORMAL.inv_cdf(p) if p < 0.5 else _NORMAL.inv_cdf(1.0 - p)
    q = -2.0 * log_p
    return math.sqrt(q - math.log(q) - math.log(2 * math.pi))


def _draw(summary: Any, n: int, rng: np.random.Generator) -> Any:
    """``n`` values drawn from a reference summary's distribution: an array of numbers, or the
    counts of each category."""
    if isinstance(summary, CategoricalSummary):
        return rng.multinomial(n, summary.counts / summary.counts.sum())
    assert isinstance(summary, NumericSummary)
    if summary.counts is not None:
        return rng.choice(summary.values, size=n, p=summary.counts / summary.counts.sum())
    return rng.choice(summary.values, size=n)


def _as_current(summary: Any, drawn: Any) -> Any:
    """A drawn sample as the summary a test compares with the reference."""
    if isinstance(summary, CategoricalSummary):
        return make_categorical(list(summary.categories), drawn, 0)
    return _summarize_current(column_from_array(drawn, "bootstrap"), "numeric", [])


def _as_reference(summary: Any, drawn: Any, bins: int | None) -> Any:
    """A drawn sample as a reference summary (with the reference's binning)."""
    if isinstance(summary, CategoricalSummary):
        return make_categorical(list(summary.categories), drawn, 0)
    return summarize_numeric(drawn, bins=bins, label="the pseudo-reference")


def _null_statistics(test: DriftTest, summary: Any, n: int, n_boot: int, n_refs: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Statistics of ``n_boot`` stable windows of ``n`` values, normalised.

    The data's distribution is taken to be the reference's; the reference itself is redrawn
    ``n_refs`` times from it (``N'`` values, at most 50 windows' worth: beyond that its own
    noise no longer matters), so the spread includes how far a reference of that size lies from
    the truth: a window is compared with *a* reference, not with the truth. Normalised with
    ``(1/n + 1/N') ** e``.
    """
    e = NULL_EXPONENT[test.name]
    big_n = min(summary.n, 50 * n)
    bins = getattr(summary, "n_bins", None)
    per_ref = max(1, n_boot // n_refs)
    stats: list[float] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelmonWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(n_refs):
            pseudo = _as_reference(summary, _draw(summary, big_n, rng), bins)
            for _ in range(per_ref):
                current = _as_current(summary, _draw(summary, n, rng))
                stats.append(test.run(pseudo, current).statistic)
    values = np.asarray(stats)
    values = values[np.isfinite(values)]
    return values / (1.0 / n + 1.0 / big_n) ** e, float(big_n)


def _band_test(reference: Reference, feature: str, tests: Mapping[str, str] | None) -> DriftTest:
    name = (tests or {}).get(feature) or BAND_TESTS[reference[feature].feature_type]
    test = default_registry.get(name)
    if test.kind != "distance" or name not in NULL_EXPONENT:
        raise ParameterError(
            f"The drift statistic of feature {feature!r} must be one of "
            f"{sorted(NULL_EXPONENT)} to be judged against a band. Got {name!r} instead.",
            loc=("tests", feature),
        )
    return test


class DriftBands:
    """Per-feature noise bands of drift statistics, fitted once from a reference.

    Parameters
    ----------
    bands : mapping of str to StatisticBand
        One band per feature.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.drift import Reference
    >>> rng = np.random.default_rng(0)
    >>> ref = Reference.fit({"age": rng.normal(40, 10, 20_000),
    ...                      "plan": rng.choice(["a", "b", "c"], 20_000)})
    >>> bands = DriftBands.fit(ref, n_sample=2000, seed=0)
    >>> current = {"age": rng.normal(43, 10, 2000), "plan": rng.choice(["a", "b", "c"], 2000)}
    >>> result = bands.apply(ref.compare(current, tests=bands.tests), sigma=3.0)
    >>> [(r.feature, r.test, r.drifted) for r in result]
    [('age', 'normalized_wasserstein', True), ('plan', 'jensen_shannon', False)]
    >>> round(bands["age"].sigmas(result["age"].statistic, 2000), 1) > 3
    True
    """

    def __init__(self, bands: Mapping[str, StatisticBand]) -> None:
        self.bands = dict(bands)

    @classmethod
    def fit(
        cls,
        reference: Reference,
        *,
        chunks: Sequence[Any] | None = None,
        tests: Mapping[str, str] | None = None,
        n_sample: int | None = None,
        n_boot: int = 400,
        n_refs: int = 20,
        seed: int = 0,
    ) -> DriftBands:
        """Fit a band for every feature of ``reference``.

        Parameters
        ----------
        reference : Reference
            The fitted reference.
        chunks : sequence of frames, optional
            Consecutive parts of the reference data (its time windows, or row chunks), each a
            frame :func:`~modelmon.drift.compare` accepts; with three or more, NannyML's
            mean + sigma * sd over them is a second bound (see the module docstring).
        tests : mapping of str to str, optional
            The distance per feature (default :data:`BAND_TESTS` by feature type).
        n_sample : int, optional
            Size of the bootstrap samples (default: the chunks' median size, else a tenth of the
            reference, between 100 and 10,000).
        n_boot : int, default 400
            Simulated stable windows per feature.
        n_refs : int, default 20
            Simulated references they are compared with (see the module docstring).
        seed : int, default 0
            Seed of the bootstrap (the bands are reproducible).
        """
        owner = "DriftBands.fit"
        n_boot = check_int(n_boot, "n_boot", owner, low=10)
        n_refs = check_int(n_refs, "n_refs", owner, low=1, high=n_boot)
        chosen = {f: _band_test(reference, f, tests) for f in reference.features}
        chunk_stats: dict[str, list[tuple[float, int]]] = {f: [] for f in reference.features}
        chunk_sizes: list[int] = []
        for chunk in chunks or ():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ModelmonWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                result = reference.compare(chunk, tests={f: t.name for f, t in chosen.items()})
            sizes = [r.n_current for r in result]
            chunk_sizes.append(int(np.median(sizes)) if sizes else 0)
            for r in result:
                if r.n_current > 0 and math.isfinite(r.statistic):
                    chunk_stats[r.feature].append((r.statistic, r.n_current))
        if n_sample is None:
            typical = int(np.median(chunk_sizes)) if chunk_sizes else 0
            n_total = max((reference[f].n for f in reference.features), default=0)
            n_sample = typical if typical > 0 else n_total // 10
            n_sample = min(max(n_sample, 100), 10_000)
        n_sample = check_int(n_sample, "n_sample", owner, low=2)
        n_chunk = int(np.median(chunk_sizes)) if chunk_sizes else n_sample
        rng = np.random.default_rng(seed)
        bands: dict[str, StatisticBand] = {}
        for feature, test in chosen.items():
            summary = reference[feature]
            big_n = summary.n
            e = NULL_EXPONENT[test.name]
            if big_n == 0:
                continue
            u, _ = _null_statistics(test, summary, n_sample, n_boot, n_refs, rng)
            t = np.maximum(u, 0.0) ** (1.0 / e)
            if t.size < 10 or t.mean() <= _TINY:
                deciles: tuple[float, ...] = (0.0,) * 9
                rate = math.inf
            else:
                deciles = tuple(float(q) for q in np.quantile(t, _DECILE_LEVELS))
                excess = t[t > deciles[7]] - deciles[7]
                rate = 1.0 / float(excess.mean()) if excess.size and excess.mean() > 0 \
                    else math.inf
            w_mean = w_std = None
            within = [(s, n) for s, n in chunk_stats[feature] if n < big_n]
            if len(within) >= 3:
                wu = np.array([s / (1.0 / n - 1.0 / big_n) ** e for s, n in within])
                w_mean, w_std = float(wu.mean()), float(wu.std(ddof=1))
            bands[feature] = StatisticBand(feature, test.name, e, int(big_n), int(n_chunk),
                                           deciles, rate, w_mean, w_std)
        return cls(bands)

    # --- reading ----------------------------------------------------------------------------------
    def __getitem__(self, feature: str) -> StatisticBand:
        return self.bands[feature]

    def __contains__(self, feature: object) -> bool:
        return feature in self.bands

    def __len__(self) -> int:
        return len(self.bands)

    @property
    def tests(self) -> dict[str, str]:
        """The statistic of each feature, as ``tests=`` for :meth:`Reference.compare`."""
        return {f: b.test for f, b in self.bands.items()}

    def apply(self, result: DatasetDriftResult, *, sigma: float,
              skip: Collection[str] = (), margin: float = MARGIN) -> DatasetDriftResult:
        """``result`` with each banded feature's threshold and verdict taken from its band, at
        ``sigma + margin`` standard deviations.

        Features without a band, compared with another test than their band's, or named in
        ``skip`` (e.g. given a fixed threshold) keep the result's own threshold and verdict.
        """
        sigma = check_real(sigma, "sigma", "DriftBands.apply", low=0) + margin
        out: list[FeatureDriftResult] = []
        for r in result.features:
            band = self.bands.get(r.feature)
            if band is None or band.test != r.test or r.feature in skip:
                out.append(r)
                continue
            threshold = band.upper(r.n_current, sigma)
            drifted = r.n_current > 0 and math.isfinite(r.statistic) and r.statistic > threshold
            out.append(dataclasses.replace(r, threshold=threshold, drifted=bool(drifted)))
        n_drifted = sum(r.drifted for r in out)
        share = n_drifted / len(out) if out else 0.0
        return dataclasses.replace(result, features=tuple(out), n_drifted=n_drifted,
                                   share_drifted=share,
                                   drifted=bool(out and share >= result.drift_share))

    # --- storage ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (an infinite tail rate written as None)."""
        return {"bands": [{**b.to_dict(), "tail_rate": None if math.isinf(b.tail_rate)
                           else b.tail_rate} for b in self.bands.values()]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftBands:
        bands = {}
        for item in data["bands"]:
            fields = dict(item)
            fields["deciles"] = tuple(fields["deciles"])
            fields["tail_rate"] = math.inf if fields["tail_rate"] is None else fields["tail_rate"]
            band = StatisticBand(**fields)
            bands[band.feature] = band
        return cls(bands)

"""The baseline band of a metric: where its window values lie while nothing is wrong.

A band is fitted from the metric's values in the baseline windows (the reference period cut into
windows of the judged size, or the reference file's chunks): their mean ``m``, standard deviation
``s``, count ``k`` and median sample size ``n0``. A window of ``n`` rows is judged against
``s(n) = s * sqrt(max(1, n0 / n))``: a smaller window has more sampling error (it shrinks like
1/sqrt(n)), a larger one keeps the baseline's spread (variation between windows does not shrink
with more rows).

``s`` estimated from a dozen windows is itself uncertain, so limits are *prediction intervals*:
a new window's value lies beyond ``m + t(1 - a; k - 1) * s * sqrt(1 + 1/k)`` with probability
``a`` when the windows are independent and normal (Student's t, not the normal quantile: with 12
baseline windows and a = 0.001 the multiplier is 4.2, not 3.1). :func:`limit_sigmas` gives that
multiplier; :func:`persistence_sigmas` the smaller one that two of three consecutive windows must
pass for the same false-alarm rate.

Pure: arrays in, numbers out.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from modelmon._results import Result
from modelmon.vocabulary import Direction

__all__ = ["MIN_BAND_WINDOWS", "UNIT_INTERVAL", "MetricBand", "limit_sigmas", "persistence_sigmas"]

#: Fewest baseline windows a band is fitted from.
MIN_BAND_WINDOWS = 4


@functools.lru_cache(maxsize=4096)
def limit_sigmas(alpha: float, windows: int, df: int | None = None) -> float:
    """Prediction-interval multiplier: a stable window passes it with probability ``alpha``.

    The centre comes from ``windows`` values; the spread from ``df`` degrees of freedom
    (``windows - 1`` when the windows also give the spread).

    >>> round(limit_sigmas(0.001, 12), 2), round(limit_sigmas(0.001, 10_000), 2)
    (4.19, 3.09)
    >>> round(limit_sigmas(0.001, 12, df=199), 2)  # spread from a 200-sample bootstrap
    3.25
    """
    k = max(int(windows), 2)
    return float(stats.t.ppf(1.0 - alpha, k - 1 if df is None else df)
                 * math.sqrt(1.0 + 1.0 / k))


@functools.lru_cache(maxsize=4096)
def persistence_sigmas(alpha: float, windows: int, df: int | None = None) -> float:
    """Multiplier that two of three consecutive stable windows pass with probability ``alpha``.

    With a per-window tail probability ``p``, two or more of three exceed it with probability
    ``3 p^2 - 2 p^3``; solved for ``p`` and turned into a prediction-interval multiplier.

    >>> round(persistence_sigmas(0.001, 12), 2)
    2.47
    """
    lo, hi = 0.0, 0.5
    for _ in range(60):
        p = (lo + hi) / 2
        if 3 * p * p - 2 * p**3 > alpha:
            hi = p
        else:
            lo = p
    return limit_sigmas(lo, windows, df)


#: Metrics that lie in [0, 1]: judged on the logit scale (their sampling distributions are
#: skewed towards the worse side near 0 or 1, and the logit makes them close to normal).
UNIT_INTERVAL = frozenset({
    "accuracy", "balanced_accuracy", "precision", "recall", "f1", "fbeta", "specificity",
    "false_positive_rate", "roc_auc", "average_precision", "brier", "positive_rate",
    "expected_calibration_error", "error_rate", "label_coverage_ratio", "drift_share",
    "missing_share", "worst_group_accuracy", "demographic_parity_difference",
    "equal_opportunity_difference", "equalized_odds_difference", "directional_accuracy",
    "hit_rate", "conversion_rate", "conversion_prediction_accuracy",
})


def _forward(scale: str, v: float, eps: float) -> float:
    if scale == "logit":
        p = min(max(v, eps), 1.0 - eps)
        return math.log(p / (1.0 - p))
    if scale == "log":
        return math.log(max(v, eps))
    return v


def _inverse(scale: str, t: float) -> float:
    if scale == "logit":
        return 1.0 / (1.0 + math.exp(-t)) if t > -700 else 0.0
    if scale == "log":
        return math.exp(min(t, 700.0))
    return t


@dataclass(frozen=True)
class MetricBand(Result):
    """A metric's baseline: centre, spread, how many windows and their typical sample size.

    Window values are judged on a scale where their sampling noise is close to normal: the
    logit for metrics in [0, 1] (:data:`UNIT_INTERVAL`), the log for metrics that are always
    positive (log loss, errors, latencies), the values themselves otherwise. On a simulated
    stable classifier with 200-row windows, judging ROC AUC, log loss and Brier score on their
    own scale called 2.3 % of 1,000 stable windows degraded at a nominal 1 %.

    Attributes
    ----------
    metric : str
        The metric.
    mean, std : float
        Mean and standard deviation (``ddof=1``) of the baseline window values on the band's
        scale.
    windows : int
        Baseline windows the band comes from.
    n : float
        Median sample size of those windows.
    source : str
        ``"baseline"`` (stored windows of the baseline period) or ``"reference"`` (chunks of
        the reference file).
    scale : str
        ``"logit"``, ``"log"`` or ``"linear"``.
    eps : float
        How close to 0 (and 1) a value is taken on the logit and log scales.
    noise_std, noise_n : float
        The metric's sampling noise (standard deviation on the band's scale) at ``noise_n`` rows,
        from bootstrap samples of the reference's rows (0 when unknown). A dozen baseline windows
        estimate the spread only roughly (a run of 1,000 stable windows judged against an
        unlucky baseline called 4.8 % of them degraded); the bootstrap knows the sampling part
        precisely, and the band is never narrower than it.

    Examples
    --------
    >>> band = MetricBand.fit("accuracy", [0.90, 0.91, 0.89, 0.90, 0.91, 0.90], [500] * 6)
    >>> band.scale, round(band.center, 3), band.windows
    ('logit', 0.902, 6)
    >>> round(band.sigmas(0.85, 500, Direction.HIGHER), 1)   # worse by 5.7 sd (logit scale)
    5.7
    >>> round(band.sigmas(0.85, 125, Direction.HIGHER), 1)   # a quarter of the rows: 2x the noise
    2.9
    """

    metric: str
    mean: float
    std: float
    windows: int
    n: float
    source: str = "baseline"
    scale: str = "linear"
    eps: float = 1e-6
    noise_std: float = 0.0
    noise_n: float = 0.0

    @classmethod
    def fit(cls, metric: str, values: Sequence[float], sizes: Sequence[float], *,
            source: str = "baseline", floor: float = 0.0, noise: Sequence[float] = (),
            noise_n: float = 0.0) -> MetricBand | None:
        """The band of ``values`` (window values, NaN left out), or None with fewer than
        :data:`MIN_BAND_WINDOWS` values. ``floor`` bounds the standard deviation from below, in
        the metric's units (e.g. one error's worth for a metric that never moved in the
        baseline)."""
        v = np.asarray(values, dtype=np.float64)
        n = np.asarray(sizes, dtype=np.float64)
        keep = np.isfinite(v) & np.isfinite(n)
        v, n = v[keep], n[keep]
        if v.size < MIN_BAND_WINDOWS:
            return None
        n0 = float(np.median(n))
        if metric in UNIT_INTERVAL and v.min() >= 0 and v.max() <= 1:
            scale, eps = "logit", min(max(0.5 / max(n0, 1.0), 1e-6), 0.05)
        elif v.min() > 0:
            scale, eps = "log", float(v.min()) * 1e-3
        else:
            scale, eps = "linear", 0.0
        t = np.array([_forward(scale, float(x), eps) for x in v])
        centre = float(np.mean(v))
        if scale == "logit":  # d logit / dv at the centre: the floor on the band's scale
            slope = 1.0 / max(centre * (1.0 - centre), eps * (1.0 - eps))
        elif scale == "log":
            slope = 1.0 / max(abs(centre), eps)
        else:
            slope = 1.0
        std = max(float(t.std(ddof=1)), floor * slope, 1e-12 * max(1.0, abs(float(t.mean()))))
        noise_std = 0.0
        boot = [float(x) for x in noise if math.isfinite(x)]
        if len(boot) >= 20 and noise_n > 0:
            noise_std = float(np.std([_forward(scale, x, eps) for x in boot], ddof=1))
        return cls(metric, float(t.mean()), std, int(v.size), n0, source, scale, eps,
                   noise_std, float(noise_n) if noise_std > 0 else 0.0)

    @property
    def center(self) -> float:
        """The baseline's typical value, in the metric's units."""
        return _inverse(self.scale, self.mean)

    def spread(self, n: float) -> float:
        """The standard deviation (on the band's scale) expected for a window of ``n`` rows:
        the baseline windows' spread (wider for smaller windows), never narrower than the
        sampling noise at ``n`` rows."""
        if not n or n <= 0:
            return math.inf
        windows = self.std * math.sqrt(max(1.0, self.n / n))
        if self.noise_std > 0:
            return max(windows, self.noise_std * math.sqrt(self.noise_n / n))
        return windows

    def df_for(self, n: float) -> int:
        """Degrees of freedom of the spread at ``n`` rows: the baseline windows' ``windows - 1``,
        or the bootstrap's (199) when the sampling noise sets the spread."""
        if self.noise_std > 0 and n and n > 0 and \
                self.noise_std * math.sqrt(self.noise_n / n) >= self.std * math.sqrt(max(1.0, self.n / n)):
            return max(self.windows - 1, 199)
        return self.windows - 1

    def sigmas(self, value: float, n: float, direction: Direction) -> float:
        """How many (size-adjusted) standard deviations ``value`` is on the *worse* side of the
        baseline: positive when worse, negative when better; for ``UNKNOWN`` and ``TARGET``
        directions the absolute distance. NaN for a missing value."""
        if value is None or not math.isfinite(value):
            return math.nan
        z = (_forward(self.scale, value, self.eps) - self.mean) / self.spread(n)
        if direction is Direction.HIGHER:
            return -z
        if direction is Direction.LOWER:
            return z
        return abs(z)

    def relative_change(self, value: float) -> float:
        """``(value - centre) / |centre|`` (NaN when the centre is 0)."""
        centre = self.center
        if centre == 0 or not math.isfinite(value):
            return math.nan
        return (value - centre) / abs(centre)

    def limits(self, n: float, sigmas: float) -> tuple[float, float]:
        """The band drawn on a chart: ``sigmas`` size-adjusted standard deviations either side
        of the centre, in the metric's units."""
        s = self.spread(n)
        return _inverse(self.scale, self.mean - sigmas * s), _inverse(self.scale,
                                                                        self.mean + sigmas * s)

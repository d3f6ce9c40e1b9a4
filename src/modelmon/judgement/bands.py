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

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from modelmon._results import Result
from modelmon.vocabulary import Direction

__all__ = ["MIN_BAND_WINDOWS", "MetricBand", "limit_sigmas", "persistence_sigmas"]

#: Fewest baseline windows a band is fitted from.
MIN_BAND_WINDOWS = 4


def limit_sigmas(alpha: float, windows: int) -> float:
    """Prediction-interval multiplier: a stable window passes it with probability ``alpha``.

    >>> round(limit_sigmas(0.001, 12), 2), round(limit_sigmas(0.001, 10_000), 2)
    (4.19, 3.09)
    """
    k = max(int(windows), 2)
    return float(stats.t.ppf(1.0 - alpha, k - 1) * math.sqrt(1.0 + 1.0 / k))


def persistence_sigmas(alpha: float, windows: int) -> float:
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
    return limit_sigmas(lo, windows)


@dataclass(frozen=True)
class MetricBand(Result):
    """A metric's baseline: mean, spread, how many windows and their typical sample size.

    Attributes
    ----------
    metric : str
        The metric.
    mean, std : float
        Mean and standard deviation (``ddof=1``) of the baseline window values.
    windows : int
        Baseline windows the band comes from.
    n : float
        Median sample size of those windows.
    source : str
        ``"baseline"`` (stored windows of the baseline period) or ``"reference"`` (chunks of
        the reference file).

    Examples
    --------
    >>> band = MetricBand.fit("accuracy", [0.90, 0.91, 0.89, 0.90, 0.91, 0.90], [500] * 6)
    >>> round(band.mean, 3), round(band.std, 4), band.windows
    (0.902, 0.0075, 6)
    >>> round(band.sigmas(0.85, 500, Direction.HIGHER), 1)   # worse by 6.9 sd
    6.9
    >>> round(band.sigmas(0.85, 125, Direction.HIGHER), 1)   # a quarter of the rows: 2x the noise
    3.4
    """

    metric: str
    mean: float
    std: float
    windows: int
    n: float
    source: str = "baseline"

    @classmethod
    def fit(cls, metric: str, values: Sequence[float], sizes: Sequence[float], *,
            source: str = "baseline", floor: float = 0.0) -> MetricBand | None:
        """The band of ``values`` (window values, NaN left out), or None with fewer than
        :data:`MIN_BAND_WINDOWS` values. ``floor`` bounds the standard deviation from below
        (e.g. one error's worth for a metric that never moved in the baseline)."""
        v = np.asarray(values, dtype=np.float64)
        n = np.asarray(sizes, dtype=np.float64)
        keep = np.isfinite(v) & np.isfinite(n)
        v, n = v[keep], n[keep]
        if v.size < MIN_BAND_WINDOWS:
            return None
        std = max(float(v.std(ddof=1)), floor, 1e-12 * max(1.0, abs(float(v.mean()))))
        return cls(metric, float(v.mean()), std, int(v.size), float(np.median(n)), source)

    def spread(self, n: float) -> float:
        """The standard deviation expected for a window of ``n`` rows."""
        if not n or n <= 0:
            return math.inf
        return self.std * math.sqrt(max(1.0, self.n / n))

    def sigmas(self, value: float, n: float, direction: Direction) -> float:
        """How many (size-adjusted) standard deviations ``value`` is on the *worse* side of the
        mean: positive when worse, negative when better; for ``UNKNOWN`` and ``TARGET``
        directions the absolute distance. NaN for a missing value."""
        if value is None or not math.isfinite(value):
            return math.nan
        z = (value - self.mean) / self.spread(n)
        if direction is Direction.HIGHER:
            return -z
        if direction is Direction.LOWER:
            return z
        return abs(z)

    def relative_change(self, value: float) -> float:
        """``(value - mean) / |mean|`` (NaN when the mean is 0)."""
        if self.mean == 0 or not math.isfinite(value):
            return math.nan
        return (value - self.mean) / abs(self.mean)

    def limits(self, n: float, sigmas: float) -> tuple[float, float]:
        """``mean -/+ sigmas * spread(n)``: the band drawn on a chart."""
        s = self.spread(n)
        return self.mean - sigmas * s, self.mean + sigmas * s

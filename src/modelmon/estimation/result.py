"""Results of a performance estimate: one :class:`EstimatedMetric` per metric."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from modelmon._results import Result

__all__ = ["EstimatedMetric", "PerformanceEstimate"]

#: Metrics bounded to [0, 1] (classification); the others are only bounded below by 0.
_UNIT = frozenset({"accuracy", "precision", "recall", "specificity", "f1", "roc_auc",
                   "average_precision"})


@dataclass(frozen=True)
class EstimatedMetric(Result):
    """One metric estimated without labels.

    Attributes
    ----------
    metric : str
        The metric (``accuracy``, ``roc_auc``, ``mae`` ...), named as the realized one.
    value : float
        The estimate (NaN when it is undefined, e.g. precision without predicted positives).
    sampling_error : float
        Standard deviation of the *realized* metric of these rows around its expectation, from
        the rows' outcomes alone (given the scores, or the inputs).
    reference_error : float
        Standard deviation of the estimate itself over bootstrap replicates of the reference
        (how much a different reference would move it; 0 where not measured, see
        ``docs/estimation.md``).
    n : int
        Rows the estimate covers.
    lower, upper : float
        ``value ∓ 3 standard_error``, clipped to the metric's range: while the assumptions
        hold, the realized value lies in this band in all but a few windows in a thousand.
    """

    metric: str
    value: float
    sampling_error: float
    n: int
    lower: float
    upper: float
    reference_error: float = 0.0

    @classmethod
    def make(cls, metric: str, value: float, sampling_error: float, n: int,
             reference_error: float = 0.0, sigmas: float = 3.0) -> EstimatedMetric:
        """The estimate with its ``sigmas`` band."""
        ref = float(reference_error) if math.isfinite(reference_error) else 0.0
        se = math.hypot(sampling_error, ref)
        lo, hi = value - sigmas * se, value + sigmas * se
        top = 1.0 if metric in _UNIT else math.inf
        return cls(metric, float(value), float(sampling_error), int(n),
                   max(lo, 0.0) if math.isfinite(lo) else lo,
                   min(hi, top) if math.isfinite(hi) else hi, ref)

    @property
    def standard_error(self) -> float:
        """The estimate's total standard error: sampling and reference errors combined."""
        return math.hypot(self.sampling_error, self.reference_error)

    def covers(self, realized: float) -> bool:
        """Whether ``realized`` lies within the band."""
        return bool(self.lower <= realized <= self.upper)


@dataclass(frozen=True)
class PerformanceEstimate(Result):
    """The estimated metrics of one set of rows (a window).

    Attributes
    ----------
    method : str
        ``"cbpe"`` (confidence-based) or ``"dle"`` (direct loss estimation).
    n : int
        Rows estimated.
    metrics : tuple of EstimatedMetric
        One per metric, in the estimator's order.

    Examples
    --------
    >>> est = PerformanceEstimate("cbpe", 100, (EstimatedMetric.make("accuracy", 0.9, 0.03, 100,
    ...                                                                0.04),))
    >>> est["accuracy"].value, est["accuracy"].standard_error, round(est["accuracy"].lower, 2)
    (0.9, 0.05, 0.75)
    """

    method: str
    n: int
    metrics: tuple[EstimatedMetric, ...]

    def __getitem__(self, metric: str) -> EstimatedMetric:
        for m in self.metrics:
            if m.metric == metric:
                return m
        raise KeyError(metric)

    def __iter__(self) -> Iterator[EstimatedMetric]:
        return iter(self.metrics)

    def __contains__(self, metric: object) -> bool:
        return any(m.metric == metric for m in self.metrics)

    def value(self, metric: str) -> float:
        """The estimate of ``metric``."""
        return self[metric].value

    def as_mapping(self) -> Mapping[str, EstimatedMetric]:
        return {m.metric: m for m in self.metrics}

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "n": self.n,
                "metrics": [m.to_dict() for m in self.metrics]}

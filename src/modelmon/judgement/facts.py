"""What the judgement of one window reads: the window's results, its baseline and its settings.

The evaluation layer gathers these from the store (:mod:`modelmon.evaluation.verdicts`); rules
only read them, so every rule is a pure function testable with a hand-made table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from modelmon.judgement.bands import MetricBand
from modelmon.vocabulary import HEADLINE, Severity, Task

__all__ = [
    "DetectorEvent",
    "FeatureFacts",
    "JudgementSettings",
    "Limit",
    "WindowFacts",
]


@dataclass(frozen=True)
class Limit:
    """A fixed limit on a metric: a finding when the value is below ``min`` or above ``max``."""

    metric: str
    min: float | None = None
    max: float | None = None
    severity: Severity = Severity.HIGH

    def crossed(self, value: float) -> float | None:
        """The limit ``value`` crossed, or None."""
        if not math.isfinite(value):
            return None
        if self.min is not None and value < self.min:
            return self.min
        if self.max is not None and value > self.max:
            return self.max
        return None


@dataclass(frozen=True)
class JudgementSettings:
    """How strict the judgement is (the preset's defaults, overridden per model).

    Attributes
    ----------
    quality_alpha : float
        Chance that a stable window is called degraded by the band rules, over all the metrics
        judged (split between them, Bonferroni).
    drift_alpha : float
        Chance that a stable window names any drifted feature (split between the features).
    min_relative_change : float
        A change smaller than this (relative to the baseline mean) is no finding unless it lies
        beyond ``strong_sigmas``: a practical minimum that never hides a change that is both
        significant and many standard deviations large.
    min_change : mapping of str to float
        Per-metric ``min_relative_change``.
    strong_sigmas : float
        Beyond this many standard deviations a change is a finding whatever its size.
    min_labelled : int
        Fewest labelled rows for a quality metric to be judged in a window.
    error_rate : float
        Share of failing predictions that makes a window degraded.
    missing_share : float
        Missing values above the reference's share by this much make a finding.
    unseen_share, out_of_range_share : float
        Shares of unseen categories / out-of-range values that make a finding.
    limits : sequence of Limit
        Fixed limits (``accuracy`` below 0.8 ...).
    """

    quality_alpha: float = 0.01
    drift_alpha: float = 0.01
    min_relative_change: float = 0.02
    min_change: Mapping[str, float] = field(default_factory=dict)
    strong_sigmas: float = 6.0
    min_labelled: int = 30
    error_rate: float = 0.05
    missing_share: float = 0.2
    unseen_share: float = 0.01
    out_of_range_share: float = 0.05
    limits: Sequence[Limit] = ()

    def min_change_of(self, metric: str) -> float:
        return self.min_change.get(metric, self.min_relative_change)


@dataclass(frozen=True)
class FeatureFacts:
    """One feature's drift and data quality in the window.

    ``sigmas``: how far the statistic lies above the reference's noise (NaN without a band);
    ``banded``: the threshold comes from the reference's noise (False: a fixed threshold or a
    p-value test); ``optional``: the model declares the feature not required.
    """

    feature: str
    feature_type: str
    test: str | None
    statistic: float | None
    threshold: float | None
    drifted: bool
    n: int
    p_value: float | None = None
    sigmas: float = math.nan
    banded: bool = False
    missing_share: float | None = None
    missing_share_reference: float | None = None
    out_of_range_share: float | None = None
    unseen_share: float | None = None
    optional: bool = False


@dataclass(frozen=True)
class DetectorEvent:
    """A streaming detector's warning or drift on the error stream."""

    detector: str
    kind: str
    at: datetime
    version: str
    recent_error: float | None = None


@dataclass(frozen=True)
class WindowFacts:
    """Everything the rules read about one window (see the module docstring).

    ``metrics`` and ``history`` hold ``(value, n)`` of every metric of all traffic; ``history``
    is the windows just before this one, oldest first (for persistence rules). ``bands`` are the
    baseline bands of the metrics; ``fairness`` the fairness metrics per segment column with
    their bands in ``fairness_bands`` (keyed ``(segment, metric)``).
    """

    model: str
    task: Task
    window: str
    start: datetime
    end: datetime
    n: int
    metrics: Mapping[str, tuple[float, int]] = field(default_factory=dict)
    complete: bool = True
    history: Sequence[Mapping[str, tuple[float, int]]] = ()
    quality: Sequence[str] = ()
    bands: Mapping[str, MetricBand] = field(default_factory=dict)
    baseline_windows: int = 0
    baseline_needed: int = 0
    features: Sequence[FeatureFacts] = ()
    drift_share_limit: float = 0.5
    detector_events: Sequence[DetectorEvent] = ()
    schema_changes: Sequence[str] = ()
    fairness: Mapping[str, Mapping[str, tuple[float, int]]] = field(default_factory=dict)
    fairness_bands: Mapping[tuple[str, str], MetricBand] = field(default_factory=dict)
    importance: Sequence[str] = ()
    settings: JudgementSettings = field(default_factory=JudgementSettings)

    @property
    def headline(self) -> str:
        return HEADLINE[self.task]

    def value(self, metric: str) -> tuple[float, int]:
        """``(value, n)`` of a metric in this window (NaN, 0 when absent)."""
        v, n = self.metrics.get(metric, (math.nan, 0))
        return (math.nan if v is None else float(v)), int(n or 0)

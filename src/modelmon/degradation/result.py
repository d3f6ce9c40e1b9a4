"""Result objects of the degradation ensemble: one per metric, and the collection of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from modelmon._results import Result

__all__ = ["VERDICTS", "DegradationReport", "MethodVote", "MetricDegradation"]

#: Possible verdicts. ``changed`` is a significant change of a metric whose direction is unknown
#: (or whose evidence is split evenly between better and worse); ``insufficient_data`` means no
#: method could run (no current value, or an empty baseline).
VERDICTS = ("degraded", "improved", "stable", "changed", "insufficient_data")


@dataclass(frozen=True)
class MethodVote(Result):
    """What one method of the ensemble found.

    Attributes
    ----------
    method : str
        Method name (``"welch"``, ``"mann_whitney"``, ``"zscore"``, ``"linear_trend"``,
        ``"mann_kendall"``, ``"cusum"``, ``"pelt"``).
    vote : str
        ``"up"`` or ``"down"`` (a significant change of the tested values in that direction),
        ``"none"`` (no significant change) or ``"abstain"`` (the method could not run on this
        input; see ``note``).
    p_value : float
        The method's p-value (NaN when it abstained, or for PELT when it found no change point).
    statistic : float
        Its statistic: t, U, z, slope, Mann–Kendall S, CUSUM statistic, or for PELT the
        z of the last segment against the baseline mean.
    weight : float
        Weight of the vote.
    note : str
        Why it abstained, or other context.

    Examples
    --------
    >>> from modelmon.degradation import DegradationDetector
    >>> det = DegradationDetector(directions={"auc": "higher"}, methods=["welch"])
    >>> det.assess("auc", [0.9], [0.8, 0.9]).votes[0].vote
    'abstain'
    """

    method: str
    vote: str
    p_value: float
    statistic: float
    weight: float
    note: str = ""


@dataclass(frozen=True)
class MetricDegradation(Result):
    """Verdict on one metric, with the evidence.

    Attributes
    ----------
    metric : str
        Metric name.
    verdict : str
        One of :data:`VERDICTS`.
    direction : str
        ``"higher"``, ``"lower"``, ``"target"`` or ``"unknown"``: which way is better.
    target : float or None
        Best value for ``"target"`` metrics. Their tests run on the distance ``|value - target|``,
        so votes and ``z_score`` refer to that distance (up = further from the target).
    current_mean, baseline_mean : float
        Plain means of the current and baseline values.
    difference : float
        ``current_mean - baseline_mean``.
    percent_change : float
        ``100 * difference / |baseline_mean|``; NaN when the baseline mean is 0.
    z_score, z_p_value : float
        Z-score of the current level against the baseline and its p-value (see
        :func:`~modelmon.degradation.z_score`; weighted when sample sizes are known on both
        sides). Always computed, whether or not ``"zscore"`` votes.
    significant : bool
        Whether the ensemble found a change (verdict degraded, improved or changed).
    better_or_worse : str
        ``"better"``, ``"worse"``, ``"same"`` from the sign of the mean difference and the
        direction, regardless of significance; ``"unknown"`` without a direction.
    n_current, n_baseline : int
        Number of finite values used.
    welch_p_value, mann_whitney_p_value : float
        P-values of the two-sample tests (NaN if not run).
    slope, slope_p_value : float
        Least-squares slope of the current values per unit of time, and its p-value.
    mann_kendall_p_value, sens_slope : float
        Mann–Kendall p-value and Sen's slope of the current values.
    cusum_position : int or None
        CUSUM change position relative to the first current value (negative: inside the
        baseline, -1 being its last value), when CUSUM ran.
    change_points : tuple of int
        PELT change points, relative to the first current value like ``cusum_position``.
    votes : tuple of MethodVote
        Every method's vote.
    votes_up, votes_down, votes_cast : float
        Weight voting up, down, and the weight of all methods that did not abstain.
    votes_needed : float
        The threshold: a direction wins with at least ``min_votes`` when that is set, otherwise
        with more than ``votes_needed = votes_cast / 2`` (a majority of the methods that ran).
    reason : str
        One line for people, e.g. "accuracy 0.71 vs baseline 0.86 (−17.4 %), Welch p < 0.001;
        degraded (6 of 7 methods)".

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.degradation import DegradationDetector
    >>> rng = np.random.default_rng(0)
    >>> det = DegradationDetector(directions={"auc": "higher"})
    >>> res = det.assess("auc", rng.normal(0.80, 0.01, 24), rng.normal(0.86, 0.01, 60))
    >>> res.verdict, res.better_or_worse, round(res.percent_change, 1)
    ('degraded', 'worse', -7.3)
    >>> sorted(res.to_row())[:4]
    ['baseline_mean', 'better_or_worse', 'change_points', 'current_mean']
    """

    metric: str
    verdict: str
    direction: str
    target: float | None
    current_mean: float
    baseline_mean: float
    difference: float
    percent_change: float
    z_score: float
    z_p_value: float
    significant: bool
    better_or_worse: str
    n_current: int
    n_baseline: int
    welch_p_value: float
    mann_whitney_p_value: float
    slope: float
    slope_p_value: float
    mann_kendall_p_value: float
    sens_slope: float
    cusum_position: int | None
    change_points: tuple[int, ...]
    votes: tuple[MethodVote, ...]
    votes_up: float
    votes_down: float
    votes_cast: float
    votes_needed: float
    reason: str

    def to_row(self) -> dict[str, Any]:
        """A flat dict for a table: every scalar field plus ``vote_<method>`` columns."""
        d = self.to_dict()
        d.pop("votes")
        d["change_points"] = list(self.change_points)
        for v in self.votes:
            d[f"vote_{v.method}"] = v.vote
        return d


@dataclass(frozen=True)
class DegradationReport(Result):
    """Verdicts on several metrics, in the order they were given.

    Index it by metric name or position; iterate over :class:`MetricDegradation` objects.

    Attributes
    ----------
    results : tuple of MetricDegradation
        One per metric.

    Examples
    --------
    >>> from modelmon.degradation import detect_degradation
    >>> report = detect_degradation({"error_rate": [0.10, 0.12, 0.11]},
    ...                             {"error_rate": [0.02, 0.03, 0.02, 0.03, 0.02]})
    >>> report.verdict, report.degraded, report.to_frame().shape[0]
    ('degraded', ('error_rate',), 1)
    """

    results: tuple[MetricDegradation, ...]

    def __iter__(self) -> Iterator[MetricDegradation]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, key: str | int) -> MetricDegradation:
        if isinstance(key, int):
            return self.results[key]
        for r in self.results:
            if r.metric == key:
                return r
        raise KeyError(key)

    def metrics(self, verdict: str | None = None) -> tuple[str, ...]:
        """Names of the metrics, optionally only those with ``verdict``."""
        return tuple(r.metric for r in self.results if verdict is None or r.verdict == verdict)

    @property
    def degraded(self) -> tuple[str, ...]:
        """Names of the degraded metrics."""
        return self.metrics("degraded")

    @property
    def verdict(self) -> str:
        """Overall: the first of degraded, changed, improved, stable, insufficient_data present.

        A report with nothing in it is ``"insufficient_data"``.
        """
        present = {r.verdict for r in self.results}
        for v in ("degraded", "changed", "improved", "stable"):
            if v in present:
                return v
        return "insufficient_data"

    def reasons(self, *, include_stable: bool = False) -> list[str]:
        """The one-line reasons, by default only for metrics that changed."""
        return [
            r.reason
            for r in self.results
            if include_stable or r.verdict in ("degraded", "improved", "changed")
        ]

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per metric (:meth:`MetricDegradation.to_row`)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on environment
            raise ImportError("to_frame() needs pandas: pip install pandas") from exc
        return pd.DataFrame.from_records([r.to_row() for r in self.results])

"""From stored window results to stored verdicts: gather each window's facts, judge, store.

For one window size the judge reads, in a handful of queries, the metric points of all traffic
(and the fairness rows of each segment column), the per-feature drift and data-quality rows,
the detector events and schema changes in the range, and the baseline windows; it builds one
:class:`~modelmon.judgement.WindowFacts` per window (with the two windows before it, for the
persistence rules), judges it and stores the verdicts. Nothing is re-read from the predictions:
judging all of a model's history costs a few queries and a few microseconds per window.

Estimated quality (``estimated_*``), the realized-vs-estimated gaps and the multivariate drift
statistics are metric points like the others: the rules read them from the window's metrics.
The multivariate statistics' bands come from the reference profile.

Baselines: the quality, latency, error-rate and fairness bands of a window size come from its
baseline windows: the windows of that size inside ``baseline: {start, end}`` (or
``{first: 7d}``), else its first ``judgement.baseline_windows`` windows. When the reference
file holds the true outcome, the quality bands come from the file's chunks instead.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from modelmon.config.durations import parse_duration
from modelmon.config.models import ModelSpec
from modelmon.drift import sigma_for
from modelmon.evaluation.importance import importance_shift
from modelmon.evaluation.multivariate import multivariate_bands
from modelmon.evaluation.presets import judgement_settings, quality_metric_names
from modelmon.evaluation.references import ReferenceProfile
from modelmon.judgement import (
    DetectorEvent,
    FeatureFacts,
    MetricBand,
    Verdict,
    WindowFacts,
    judge_window,
)
from modelmon.judgement.rules.fairness import fairness_key
from modelmon.store.base import BatchKind
from modelmon.store.results import ALL, StoredVerdict
from modelmon.vocabulary import Metric, Task
from modelmon.windows import RowWindows, WindowScheme

if TYPE_CHECKING:
    from modelmon.store.backend import Backend

__all__ = ["WindowJudge", "chunk_bands", "drift_sigma", "schema_text"]

_US = timedelta(microseconds=1)
#: Operational metrics with bands (their baseline comes from stored windows even when the
#: reference file gives the quality bands).
_OPERATIONAL = (Metric.ERROR_RATE, Metric.LATENCY_P95)
_FAIRNESS = ("demographic_parity_difference", "equal_opportunity_difference",
             "equalized_odds_difference", Metric.WORST_GROUP_ACCURACY)


def drift_sigma(spec: ModelSpec, profile: ReferenceProfile | None) -> float:
    """Standard deviations of noise beyond which a drift statistic is a finding: the model's
    ``drift_alpha`` split between the features (and the output) the reference covers."""
    k = len(profile.reference.features) if profile is not None else len(spec.features) + 1
    return sigma_for(judgement_settings(spec).drift_alpha, max(k, 1))


def schema_text(details: dict[str, Any]) -> str:
    """``'added: x; removed: y'`` for a schema-change event's details."""
    parts = []
    for key in ("added", "removed", "type_changed"):
        if details.get(key):
            value = details[key]
            items = ", ".join(value) if isinstance(value, list) else ", ".join(f"{k}" for k in value)
            parts.append(f"{key.replace('_', ' ')}: {items}")
    return "; ".join(parts) or "feature schema changed"


@dataclass
class _Window:
    start: datetime
    end: datetime
    metrics: dict[str, tuple[float, int]]


def _float(v: Any) -> float:
    return math.nan if v is None else float(v)


class WindowJudge:
    """Judges windows of one model from its stored results (see the module docstring)."""

    def __init__(self, store: Backend) -> None:
        self.store = store

    # --- reading -----------------------------------------------------------------------------------
    def _windows(self, spec: ModelSpec, size: str, start: datetime | None,
                 end: datetime | None) -> list[_Window]:
        table = self.store.metric_series(spec.name, window_size=size, version=ALL, segment=None,
                                         start=start, end=end, limit=10_000_000)
        segments = set(spec.segments)
        by_start: dict[datetime, _Window] = {}
        for row in table.to_pylist():
            seg = row["segment"]
            if seg == ALL:
                key = row["metric"]
            elif seg in segments:
                key = fairness_key(seg, row["metric"])
            else:
                continue
            w = by_start.get(row["window_start"])
            if w is None:
                w = by_start[row["window_start"]] = _Window(row["window_start"], row["window_end"], {})
            w.metrics[key] = (_float(row["value"]), int(row["n"] or 0))
        return [by_start[k] for k in sorted(by_start)]

    def _baseline(self, spec: ModelSpec, size: str, windows: list[_Window],
                  count: int) -> list[_Window]:
        b = spec.baseline
        if b is not None and b.start and b.end:
            lo = datetime.fromisoformat(b.start.replace("Z", "+00:00"))
            hi = datetime.fromisoformat(b.end.replace("Z", "+00:00"))
            return [w for w in windows if lo <= w.start and w.end <= hi]
        if b is not None and b.first and windows:
            hi = windows[0].start + parse_duration(b.first)
            return [w for w in windows if w.end <= hi]
        return windows[:count]

    def _bands(self, spec: ModelSpec, baseline: list[_Window], profile: ReferenceProfile | None,
               min_labelled: int) -> tuple[dict[str, MetricBand], dict[tuple[str, str], MetricBand]]:
        names = quality_metric_names(spec)
        classification = spec.task is not Task.REGRESSION
        bands: dict[str, MetricBand] = {}

        noise = profile.noise if profile is not None else {}
        noise_n = profile.noise_n if profile is not None else 0

        def fit(key: str, metric: str, rows: Sequence[tuple[float, int]], source: str,
                min_n: int) -> MetricBand | None:
            kept = [(v, n) for v, n in rows if n >= min_n and math.isfinite(v)]
            if not kept:
                return None
            median_n = sorted(n for _, n in kept)[len(kept) // 2]
            floor = 1.0 / (2 * median_n) if classification and median_n else 0.0
            return MetricBand.fit(metric, [v for v, _ in kept], [n for _, n in kept],
                                  source=source, floor=floor, noise=noise.get(key, ()),
                                  noise_n=noise_n)

        from_file = profile.quality if profile is not None else {}
        unjudged = profile.unjudged if profile is not None else {}
        for metric in names:
            if metric in unjudged:
                continue
            if metric in from_file:
                band = fit(metric, metric, [(v, int(n)) for v, n in from_file[metric]],
                           "reference", min_labelled)
            else:
                band = fit(metric, metric, [w.metrics.get(metric, (math.nan, 0)) for w in baseline],
                           "baseline", min_labelled)
            if band is not None:
                bands[metric] = band
        for metric in _OPERATIONAL:
            band = fit(metric, metric, [w.metrics.get(metric, (math.nan, 0)) for w in baseline],
                       "baseline", 1)
            if band is not None:
                bands[metric] = band
        # multivariate drift statistics: bands from the reference's own chunks
        bands.update(multivariate_bands(profile.multivariate if profile is not None else None))
        fairness: dict[tuple[str, str], MetricBand] = {}
        for seg in spec.segments:
            for metric in _FAIRNESS:
                key = fairness_key(seg, metric)
                band = fit(key, metric, [w.metrics.get(key, (math.nan, 0)) for w in baseline],
                           "baseline", min_labelled)
                if band is not None:
                    fairness[(seg, metric)] = band
        return bands, fairness

    def _features(self, spec: ModelSpec, size: str, start: datetime | None, end: datetime | None,
                  profile: ReferenceProfile | None) -> dict[datetime, list[FeatureFacts]]:
        table = self.store.feature_results(spec.name, window_size=size, version=ALL,
                                           start=start, end=end, limit=10_000_000)
        fixed = set(spec.drift.thresholds)
        optional = {f.name for f in spec.features if not f.required}
        out: dict[datetime, list[FeatureFacts]] = defaultdict(list)
        ref = profile.reference if profile is not None else None
        bands = profile.bands if profile is not None else None
        for r in table.to_pylist():
            name = r["feature"]
            stat = r["statistic"]
            n = int(r["n_current"] or 0)
            band = bands.bands.get(name) if bands is not None else None
            banded = band is not None and band.test == r["test"] and name not in fixed
            sigmas = band.sigmas(stat, n) if banded and band is not None and stat is not None \
                else math.nan
            ref_missing = None
            if ref is not None and name in ref:
                summary = ref[name]
                total = summary.n + summary.n_missing
                ref_missing = summary.n_missing / total if total else None
            out[r["window_start"]].append(FeatureFacts(
                name, r["feature_type"] or "", r["test"], stat, r["threshold"],
                bool(r["drifted"]), n, r["p_value"], sigmas, banded, r["missing_share"],
                ref_missing, r["out_of_range_share"], r["unseen_share"], name in optional))
        return out

    def _baseline_of(self, spec: ModelSpec, size: str,
                     spans: list[tuple[datetime, datetime]]) -> tuple[list[_Window], int]:
        """The baseline windows of ``size`` and how many a complete baseline holds."""
        count = spec.judgement.baseline_windows
        b = spec.baseline
        if b is not None and b.start and b.end:
            base_lo = datetime.fromisoformat(b.start.replace("Z", "+00:00"))
            base_hi = datetime.fromisoformat(b.end.replace("Z", "+00:00"))
        elif b is not None and b.first:
            base_lo, base_hi = spans[0][0], spans[0][0] + parse_duration(b.first)
        else:
            base_lo, base_hi = spans[0][0], spans[min(count, len(spans)) - 1][1]
        baseline = self._baseline(spec, size, self._windows(spec, size, base_lo, base_hi), count)
        # a baseline period holds what it holds; the default baseline needs ``count`` windows
        return baseline, (len(baseline) if b is not None else count)

    def bands(self, spec: ModelSpec, size: str, *,
              profile: ReferenceProfile | None) -> dict[str, MetricBand]:
        """The bands the windows of ``size`` are judged against (quality, error rate, latency),
        as :meth:`judge` fits them; empty before the first window. The dashboard draws them."""
        spans = self.store.window_starts(spec.name, size)
        if not spans:
            return {}
        baseline, _ = self._baseline_of(spec, size, spans)
        return self._bands(spec, baseline, profile, judgement_settings(spec).min_labelled)[0]

    # --- judging -----------------------------------------------------------------------------------
    def judge(self, spec: ModelSpec, scheme: WindowScheme, *, profile: ReferenceProfile | None,
              now: datetime, starts: Iterable[datetime] | None = None
              ) -> list[tuple[WindowFacts, Verdict]]:
        """Judge (and store) the windows of ``scheme`` starting at ``starts`` (all when None);
        return each window's facts and verdict, oldest first."""
        size = scheme.name
        settings = judgement_settings(spec)
        spans = self.store.window_starts(spec.name, size)
        if not spans:
            return []
        wanted = None if starts is None else set(starts)
        positions = [i for i, (a, _) in enumerate(spans) if wanted is None or a in wanted]
        if not positions:
            return []
        baseline, needed = self._baseline_of(spec, size, spans)
        bands, fairness_bands = self._bands(spec, baseline, profile, settings.min_labelled)
        first = max(0, positions[0] - 2)
        all_windows = self._windows(spec, size, spans[first][0], spans[positions[-1]][0] + _US)
        index = {w.start: k for k, w in enumerate(all_windows)}
        positions = [index[spans[i][0]] for i in positions if spans[i][0] in index]
        lo = all_windows[positions[0]].start
        hi = all_windows[positions[-1]].end
        features = self._features(spec, size, lo, hi + _US, profile)
        events = self.store.detector_events(spec.name, kind="drift", start=lo, end=hi, limit=100_000)
        detector = [DetectorEvent(e["detector"], e["kind"], e["event_time"], e["version"],
                                  _recent_error(e.get("details")))
                    for e in events.to_pylist()]
        schema = [(e.at, schema_text(e.details))
                  for e in self.store.list_events(spec.name, kind="schema_change", limit=1000)]
        importance = self._importance(spec)
        quality = quality_metric_names(spec)
        verdicts: list[tuple[WindowFacts, Verdict]] = []
        stored: list[StoredVerdict] = []
        for i in positions:
            w = all_windows[i]
            n = int(w.metrics.get(Metric.PREDICTION_COUNT, (0.0, 0))[0] or 0)
            if isinstance(scheme, RowWindows):
                complete = n >= scheme.rows
            else:
                complete = w.end <= now
            facts = WindowFacts(
                model=spec.name, task=spec.task, window=size, start=w.start, end=w.end, n=n,
                metrics=w.metrics, complete=complete,
                history=[all_windows[j].metrics for j in range(max(0, i - 2), i)],
                quality=quality, bands=bands, baseline_windows=len(baseline),
                baseline_needed=needed, features=features.get(w.start, []),
                drift_share_limit=spec.drift.drift_share,
                detector_events=[e for e in detector if w.start <= e.at < w.end],
                schema_changes=[t for at, t in schema if w.start <= at < w.end],
                fairness={seg: {m: w.metrics[fairness_key(seg, m)] for m in _FAIRNESS
                                if fairness_key(seg, m) in w.metrics} for seg in spec.segments},
                fairness_bands=fairness_bands,
                importance=[t for at, t in importance if w.start <= at < w.end],
                settings=settings,
            )
            verdict = judge_window(facts)
            verdicts.append((facts, verdict))
            stored.append(StoredVerdict(size, w.start, w.end, verdict.complete, verdict.n,
                                        str(verdict.status),
                                        [r.to_dict() for r in verdict.reasons], now))
        for k in range(0, len(stored), 5000):
            self.store.replace_verdicts(spec.name, stored[k:k + 5000])
        return verdicts

    def _importance(self, spec: ModelSpec) -> list[tuple[datetime, str]]:
        """Each logged importance snapshot that shifted from the first one, with its time."""
        table = self.store.read_table(spec.name, BatchKind.FEATURE_IMPORTANCE)
        if table.num_rows == 0:
            return []
        times = sorted(set(table.column("snapshot_time").to_pylist()))
        out = []
        for t in times[1:]:
            upto = table.filter(pa.compute.less_equal(table.column("snapshot_time"), pa.scalar(
                t, table.schema.field("snapshot_time").type)))
            first = upto.filter(pa.compute.equal(upto.column("snapshot_time"), pa.scalar(
                times[0], table.schema.field("snapshot_time").type)))
            last = upto.filter(pa.compute.equal(upto.column("snapshot_time"), pa.scalar(
                t, table.schema.field("snapshot_time").type)))
            shift = importance_shift(pa.concat_tables([first, last]))
            if shift is not None and shift.shifted:
                out.append((t, shift.reason()))
        return out


@dataclass(frozen=True)
class _ChunkProfile:
    """The parts of a :class:`ReferenceProfile` band fitting reads: quality per chunk."""

    quality: dict[str, list[list[float]]]
    noise: dict[str, list[float]] = field(default_factory=dict)
    noise_n: int = 0
    unjudged: dict[str, str] = field(default_factory=dict)
    multivariate: dict[str, Any] = field(default_factory=dict)


def chunk_bands(spec: ModelSpec, quality: dict[str, list[list[float]]], *,
                unjudged: dict[str, str] | None = None) -> dict[str, MetricBand]:
    """Quality bands from a reference cut into chunks (``{metric: [[value, labelled rows],
    ...]}``), fitted exactly as :meth:`WindowJudge.judge` fits a reference file's bands (the
    offline report judges a current data set against them)."""
    profile = _ChunkProfile(quality, unjudged=dict(unjudged or {}))
    bands, _ = WindowJudge(None)._bands(spec, [], profile,  # type: ignore[arg-type]
                                        judgement_settings(spec).min_labelled)
    return {m: b for m, b in bands.items() if m in quality}


def _recent_error(details: Any) -> float | None:
    if not details:
        return None
    import json

    try:
        value = json.loads(details).get("recent_error") if isinstance(details, str) else \
            details.get("recent_error")
    except (ValueError, AttributeError):
        return None
    return None if value is None else float(value)


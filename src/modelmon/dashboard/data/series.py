"""Metric charts: a model's series over a range, downsampled on the server, with the baseline
band the judgement uses and markers for alerts, detector events, versions and schema changes.

The series come from the JSON API's own query (``GET /v1/models/{m}/metrics``, with ``step``
when a range holds more windows than a chart shows); the bands from the judgement
(:meth:`modelmon.evaluation.verdicts.WindowJudge.bands`): a window's band is the limit
``band_findings`` flags at once, drawn for that window's sample size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from modelmon.config.models import ModelSpec
from modelmon.degradation.directions import default_directions
from modelmon.evaluation.presets import judgement_settings, quality_metric_names
from modelmon.evaluation.references import ReferenceProfile
from modelmon.evaluation.verdicts import WindowJudge
from modelmon.judgement.bands import MetricBand, limit_sigmas
from modelmon.judgement.rules._bands import judged_metrics
from modelmon.service.routes import results as api
from modelmon.vocabulary import ESTIMATED, Direction, Metric, estimated_metric
from modelmon.windows import FixedWindows, parse_window

__all__ = ["MAX_POINTS", "Range", "band_of", "chart_range", "markers", "metric_charts",
           "model_bands", "unix"]

#: Every series the estimators write (``estimated_<metric>``).
ESTIMATES = frozenset(estimated_metric(m) for names in ESTIMATED.values() for m in names)

#: Most points one chart line holds; longer ranges are merged into ``step`` buckets.
MAX_POINTS = 400


def unix(value: datetime | str) -> float:
    """Seconds since the epoch (what the charts take)."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.timestamp()


@dataclass(frozen=True)
class Range:
    """The time range a page shows: ``[start, end)`` of window starts, and its window size."""

    window: str
    start: datetime | None
    end: datetime | None
    days: float

    @property
    def empty(self) -> bool:
        return self.end is None


def chart_range(store: Any, model: str, window: str, days: float) -> Range:
    """The last ``days`` days of windows of ``window`` up to the newest one (the newest data, not
    the server's clock: a backfilled history shows too)."""
    spans = store.window_starts(model, window)
    if not spans:
        return Range(window, None, None, days)
    end = spans[-1][0] + timedelta(microseconds=1)
    return Range(window, max(spans[0][0], spans[-1][1] - timedelta(days=days)), end, days)


def step_for(window: str, rng: Range, max_points: int = MAX_POINTS) -> timedelta | None:
    """The bucket size that keeps a series under ``max_points`` (None: every window).

    >>> from datetime import UTC
    >>> r = Range("1h", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 31, tzinfo=UTC), 30)
    >>> step_for("1h", r)
    datetime.timedelta(seconds=7200)
    """
    scheme = parse_window(window)
    if not isinstance(scheme, FixedWindows) or rng.start is None or rng.end is None:
        return None
    windows = (rng.end - rng.start) / scheme.size
    if windows <= max_points:
        return None
    return scheme.size * math.ceil(windows / max_points)


def model_bands(store: Any, spec: ModelSpec, window: str) -> dict[str, MetricBand]:
    """The bands the model's windows of ``window`` are judged against (none before a baseline)."""
    stored = store.get_reference(spec.name)
    profile = None
    if stored is not None:
        try:
            profile = ReferenceProfile.from_bytes(stored[2])
        except (ValueError, KeyError):
            profile = None
    if window not in {w.name for w in spec.window_schemes}:
        return {}
    return WindowJudge(store).bands(spec, window, profile=profile)


def band_of(spec: ModelSpec, bands: dict[str, MetricBand], metric: str,
            ns: Sequence[int | None]) -> dict[str, list[float | None]] | None:
    """The band of ``metric`` for windows of sample sizes ``ns``: the limits beyond which the
    judgement flags a window at once (the model's alpha shared by its judged metrics)."""
    band = bands.get(metric)
    if band is None or default_directions.get(metric).direction is Direction.UNKNOWN:
        return None
    settings = judgement_settings(spec)
    judged = judged_metrics(quality_metric_names(spec), bands)
    share = settings.quality_alpha / max(len(judged), 1)
    lo: list[float | None] = []
    hi: list[float | None] = []
    for n in ns:
        if not n:
            lo.append(None)
            hi.append(None)
            continue
        k = limit_sigmas(share, band.windows, band.df_for(n))
        a, b = band.limits(n, k)
        lo.append(_finite(a))
        hi.append(_finite(b))
    return {"lo": lo, "hi": hi, "center": [band.center]}


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def markers(store: Any, alerts: Any, model: str, rng: Range) -> list[dict[str, Any]]:
    """Alerts that started, detector drifts, new versions and schema changes in the range."""
    if rng.start is None or rng.end is None:
        return []
    scheme = parse_window(rng.window)
    lo = rng.start
    hi = rng.end + scheme.size if isinstance(scheme, FixedWindows) else rng.end
    out: list[dict[str, Any]] = []
    if alerts is not None:
        for a in alerts.store.list_alerts(model=model, start=lo, end=hi, limit=500,
                                          state=["pending", "firing", "resolved"]):
            out.append({"t": unix(a.started_at), "kind": "alert",
                        "label": f"{a.rule} ({a.severity})"})
    events = store.detector_events(model, kind="drift", start=lo, end=hi, limit=500)
    for e in events.to_pylist():
        out.append({"t": unix(e["event_time"]), "kind": "detector",
                    "label": f"{e['detector']} drift"})
    for v in store.list_versions(model):
        if lo <= v.created_at < hi:
            out.append({"t": unix(v.created_at), "kind": "version",
                        "label": f"version {v.version}"})
    for e in store.list_events(model, kind="schema_change", limit=100):
        if lo <= e.at < hi:
            out.append({"t": unix(e.at), "kind": "schema", "label": "schema change"})
    out.sort(key=lambda m: m["t"])
    return out


def metric_charts(
    store: Any, spec: ModelSpec, metrics: Sequence[str], *, rng: Range, version: str,
    segment: str, bands: dict[str, MetricBand] | None = None,
    marks: list[dict[str, Any]] | None = None, max_points: int = MAX_POINTS,
) -> list[dict[str, Any]]:
    """One chart spec per metric that has points in the range (in the order of ``metrics``)."""
    if rng.empty or not metrics:
        return []
    step = step_for(rng.window, rng, max_points)
    estimated = [estimated_metric(m) for m in metrics if estimated_metric(m) in ESTIMATES]
    body = api._metric_series_body(
        store, spec.name, metrics=[*metrics, *estimated], window=rng.window, version=version,
        segment=segment, start=rng.start, end=rng.end, step=step, limit=api.MAX_POINTS,
        link=lambda **_: "")
    by_metric = {s["metric"]: s for s in body["series"]}
    charts = []
    for metric in metrics:
        s = by_metric.get(metric)
        e = by_metric.get(estimated_metric(metric))
        if s is None and e is None:
            continue
        realized = {p["start"]: p for p in (s["points"] if s else [])}
        guessed = {p["start"]: p for p in (e["points"] if e else [])}
        starts = sorted(realized.keys() | guessed.keys(), key=unix)
        series = [{"label": metric,
                   "values": [realized[t]["value"] if t in realized else None for t in starts]}]
        if e is not None:  # quality estimated without labels, beside the realized metric
            series.append({"label": f"estimated {metric}", "dash": [6, 3],
                           "values": [guessed[t]["value"] if t in guessed else None
                                      for t in starts]})
        spec_: dict[str, Any] = {
            "kind": "series", "title": _title(metric), "metric": metric,
            "x": [unix(t) for t in starts], "series": series,
            "markers": marks or [],
            "step": None if step is None else int(step.total_seconds()),
        }
        ns = [realized[t]["n"] if t in realized else (guessed[t]["n"] if t in guessed else None)
              for t in starts]
        band = band_of(spec, bands or {}, metric, ns)
        if band is not None and version == api.ALL and segment == api.ALL:
            spec_["band"] = band
        charts.append(spec_)
    return charts


_TITLES: dict[str, str] = {Metric.LATENCY_P95: "latency p95 (s)", Metric.LATENCY_P50: "latency p50 (s)",
           Metric.LATENCY_P99: "latency p99 (s)", Metric.THROUGHPUT: "throughput (per s)",
           Metric.ERROR_RATE: "error rate", Metric.PREDICTION_COUNT: "predictions",
           Metric.DRIFT_SHARE: "drift share",
           Metric.RECONSTRUCTION_ERROR: "multivariate drift: PCA reconstruction error",
           Metric.DOMAIN_CLASSIFIER_AUC: "multivariate drift: domain classifier ROC AUC"}


def _title(metric: str) -> str:
    return _TITLES.get(metric, metric.replace("_", " "))

"""A model's page: its status, metric series with bands and markers (quality, operations,
business), the verdict of every window, and its versions side by side.

Every part reads the queries the JSON API answers with (status, status history, metric series,
version comparison); the page only arranges them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow.compute as pc

from modelmon.dashboard.data.overview import business_names
from modelmon.dashboard.data.series import (
    Range,
    chart_range,
    markers,
    metric_charts,
    model_bands,
    unix,
)
from modelmon.evaluation import versions as version_compare
from modelmon.evaluation.presets import quality_metric_names
from modelmon.exceptions import ValidationError
from modelmon.service.routes import results as api
from modelmon.store.results import ALL
from modelmon.vocabulary import HEADLINE, Metric, Task, estimated_metric

__all__ = ["OPERATIONS", "Selection", "model_page", "selection"]

#: Operational metrics charted, in order.
OPERATIONS = (Metric.LATENCY_P95, Metric.LATENCY_P50, Metric.THROUGHPUT, Metric.ERROR_RATE,
              Metric.PREDICTION_COUNT)


@dataclass(frozen=True)
class Selection:
    """What the page's selectors chose: window size, version, segment and days shown."""

    window: str
    version: str
    segment: str
    days: float


def selection(store: Any, model: str, *, window: str | None, version: str | None,
              segment: str | None, days: float | None) -> Selection:
    """The selectors' values, checked as the JSON API checks them (422s name the parameter)."""
    spec = store.get_model(model).spec
    sizes = [w.name for w in spec.window_schemes]
    chosen = window or api._status_window(store, model, sizes)
    if chosen not in sizes:
        raise ValidationError(f"model {model!r} has no window {chosen!r} (windows: "
                              f"{', '.join(sizes)})", code="unknown_window", loc=("query", "window"))
    seg = api._segment(spec, segment or ALL)
    ver = api._version(store, model, version or ALL)
    span = 30.0 if days is None else days
    if not 0 < span <= 3660:
        raise ValidationError("'days' must be in (0, 3660]", code="invalid_value",
                              loc=("query", "days"))
    return Selection(chosen, ver, seg, span)


def _segments(store: Any, model: str, window: str) -> list[str]:
    table = store.latest_metric_points(model, window_size=window)
    segs = pc.unique(table["segment"]).to_pylist() if table.num_rows else []
    return sorted(s for s in segs if s != ALL and "=" in s)


def _history(store: Any, model: str, rng: Range) -> dict[str, Any]:
    body = api._status_history_body(store, model, window=rng.window, start=rng.start,
                                    end=rng.end, status=None, complete=None,
                                    limit=api._MAX_VERDICTS, link=lambda **_: "")
    verdicts = body["verdicts"]
    return {
        "counts": body["counts"],
        "chart": {"kind": "strip", "x": [unix(v["start"]) for v in verdicts],
                  "status": [v["status"] for v in verdicts],
                  "reasons": [v["reasons"][0]["message"] if v["reasons"] else ""
                              for v in verdicts],
                  "empty": "no window judged in this range"},
        "recent": [v for v in reversed(verdicts) if v["status"] != "healthy"][:20],
    }


def _versions(store: Any, model: str, window: str, metrics: list[str],
              rng: Range) -> dict[str, Any]:
    names = [v.version for v in store.list_versions(model)]
    table = store.latest_metric_points(model, window_size=window)
    rows = table.filter(pc.and_(pc.equal(table["segment"], ALL),
                                pc.not_equal(table["version"], ALL))).to_pylist()
    latest: dict[str, dict[str, Any]] = {}
    for r in rows:
        latest.setdefault(r["metric"], {})[r["version"]] = r["value"]
    shown = [v for v in names if any(v in latest.get(m, {}) for m in metrics)]
    compared = None
    if len(shown) >= 2:
        try:
            compared = version_compare.compare_versions(
                store, model, a=shown[-2], b=shown[-1], window=window, metrics=metrics,
                start=rng.start, end=rng.end, max_points=api.MAX_POINTS)
        except version_compare.TooManyPoints:
            compared = None
    return {"versions": shown, "known": names,
            "table": [{"metric": m, "values": [latest.get(m, {}).get(v) for v in shown]}
                      for m in metrics if m in latest],
            "compared": compared}


def model_page(store: Any, alerts: Any, model: str, sel: Selection) -> dict[str, Any]:
    """Everything the model page shows for the selection."""
    info = store.get_model(model)
    spec = info.spec
    status = api._status_body(store, model, alerts)
    rng = chart_range(store, model, sel.window, sel.days)
    latest = store.latest_metric_points(model, window_size=sel.window)
    available = set(latest["metric"].to_pylist()) if latest.num_rows else set()
    headline = HEADLINE[Task(spec.task)]
    quality = [m for m in quality_metric_names(spec)
               if m in available or estimated_metric(m) in available]  # estimates: no labels
    quality.sort(key=lambda m: (m != headline, m))
    ops = [str(m) for m in OPERATIONS if m in available]
    business = business_names(spec, sorted(available))
    bands = model_bands(store, spec, sel.window)
    marks = markers(store, alerts, model, rng)

    def charts(metrics: list[str]) -> list[dict[str, Any]]:
        return metric_charts(store, spec, metrics, rng=rng, version=sel.version,
                             segment=sel.segment, bands=bands, marks=marks)

    drift = [m for m in (Metric.DRIFT_SHARE, Metric.PREDICTION_DRIFT, Metric.RECONSTRUCTION_ERROR,
                         Metric.DOMAIN_CLASSIFIER_AUC, Metric.MISSING_SHARE) if m in available]
    return {
        "model": model, "spec": spec, "task": str(spec.task), "status": status,
        "selection": sel, "range": rng,
        "windows": [w.name for w in spec.window_schemes],
        "version_choices": [ALL, *(v.version for v in store.list_versions(model))],
        "segment_choices": [ALL, *_segments(store, model, sel.window)],
        "quality": charts(quality), "operations": charts(ops), "business": charts(business),
        "drift": charts([str(m) for m in drift]),
        "history": _history(store, model, rng),
        "versions": _versions(store, model, sel.window, quality + ops, rng),
        "markers": marks, "bands": sorted(bands),
    }

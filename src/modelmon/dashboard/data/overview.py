"""The overview page: every model's status, active alerts and headline metric with a sparkline,
status counts, availability and business metrics.

Built on the JSON answer of ``GET /v1/overview`` (the same queries), with one more query for
every model at once: the points of each model's newest windows (sparkline, availability,
business metrics).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pyarrow.compute as pc

from modelmon.evaluation.presets import quality_metric_names
from modelmon.service.routes import results as api
from modelmon.vocabulary import HEADLINE, Metric, Task
from modelmon.windows import window_order

__all__ = ["SPARK_WINDOWS", "availability", "business_names", "overview", "sparkline"]

#: Windows a sparkline shows (the newest ones of the model's smallest window size).
SPARK_WINDOWS = 48

_OPERATIONAL = frozenset(str(m) for m in Metric)


def sparkline(values: list[float | None], width: int = 120, height: int = 26) -> str:
    """SVG polyline points for ``values`` (gaps left out), scaled into the box.

    >>> sparkline([0.0, 1.0, None, 0.5], width=30, height=10)
    '1.0,9.0 10.3,1.0 29.0,5.0'
    """
    finite = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if not finite:
        return ""
    lo = min(v for _, v in finite)
    hi = max(v for _, v in finite)
    span = hi - lo or 1.0
    step = (width - 2) / max(len(values) - 1, 1)
    return " ".join(f"{1 + i * step:.1f},{height - 1 - (v - lo) / span * (height - 2):.1f}"
                    for i, v in finite)


def availability(counts: np.ndarray, error_rates: np.ndarray) -> float | None:
    """Share of predictions served without an error, over windows with their counts.

    >>> availability(np.array([100.0, 300.0]), np.array([0.1, 0.0]))
    0.975
    """
    ok = np.isfinite(counts) & np.isfinite(error_rates) & (counts > 0)
    total = float(counts[ok].sum())
    if total <= 0:
        return None
    return round(1.0 - float((counts[ok] * error_rates[ok]).sum()) / total, 6)


def business_names(spec: Any, metrics: list[str]) -> list[str]:
    """The business, finance and custom metrics among ``metrics`` (neither a quality metric
    the model is judged on nor an operational one)."""
    quality = set(quality_metric_names(spec))
    return sorted(m for m in metrics if m not in quality and m not in _OPERATIONAL
                  and not m.startswith("latency_"))


def _window_of(entry: dict[str, Any], spec: Any) -> str:
    windows = sorted(entry["metrics"], key=window_order)
    return windows[0] if windows else spec.window_schemes[0].name


def _recent(table: Any, spec: Any, headline: str) -> dict[str, Any]:
    """Sparkline, availability and newest business metrics from a model's recent points."""
    if table.num_rows == 0:
        return {"points": "", "availability": None, "n": 0, "business": []}

    def column(metric: str) -> np.ndarray:
        rows = table.filter(pc.equal(table["metric"], metric))
        return rows["value"].to_numpy(zero_copy_only=False).astype(np.float64)

    head = column(headline)
    values = [None if not math.isfinite(v) else float(v) for v in head]
    counts, errors = column(Metric.PREDICTION_COUNT), column(Metric.ERROR_RATE)
    n = min(counts.size, errors.size)
    newest = table.filter(pc.equal(table["window_start"], pc.max(table["window_start"])))
    names = business_names(spec, newest["metric"].to_pylist())
    business = [{"model": r["model"], "metric": r["metric"], "value": r["value"],
                 "window": r["window_size"], "start": r["window_start"].isoformat()}
                for r in newest.to_pylist() if r["metric"] in names]
    return {"points": sparkline(values), "availability": availability(counts[:n], errors[:n]),
            "n": len(values), "business": business}


def overview(store: Any, alerts: Any) -> dict[str, Any]:
    """Everything the overview page shows: ``GET /v1/overview``'s answer, and each model's
    newest ``SPARK_WINDOWS`` windows of its smallest size (one query for every model)."""
    specs = {m.name: m.spec for m in store.list_models()}
    body = api._overview_body(store, limit=max(len(specs), 1), after=None,
                              link=lambda **_: "", alerts=alerts)
    entries = [e for e in body["models"] if e["model"] in specs]
    windows = {e["model"]: _window_of(e, specs[e["model"]]) for e in entries}
    recent = store.recent_points_of(windows, count=SPARK_WINDOWS)
    # the rows come grouped by model: cut them at each change of model
    names = recent["model"].to_numpy(zero_copy_only=False)
    cuts = [0, *(np.flatnonzero(names[1:] != names[:-1]) + 1).tolist(), len(names)]
    by_model = {str(names[a]): recent.slice(a, b - a) for a, b in itertools.pairwise(cuts)
                if b > a}
    sparks = [_recent(by_model.get(e["model"], recent.slice(0, 0)), specs[e["model"]],
                      HEADLINE[Task(specs[e["model"]].task)]) for e in entries]
    rows = []
    fleet_counts, fleet_errors = 0.0, 0.0
    for entry, spark in zip(entries, sparks, strict=True):
        spec = specs[entry["model"]]
        headline = HEADLINE[Task(spec.task)]
        window = _window_of(entry, spec)
        latest = entry["metrics"].get(window, {})
        count = (latest.get(Metric.PREDICTION_COUNT) or {}).get("value")
        error = (latest.get(Metric.ERROR_RATE) or {}).get("value")
        if count:
            fleet_counts += count
            fleet_errors += count * (error or 0.0)
        rows.append({
            **entry, "headline": headline, "window": window,
            "headline_value": (latest.get(headline) or {}).get("value"),
            "latency_p95": (latest.get(Metric.LATENCY_P95) or {}).get("value"),
            "error_rate": error, "predictions": count,
            "drift_share": (latest.get(Metric.DRIFT_SHARE) or {}).get("value"),
            "spark": spark,
        })
    business = [b for entry in rows for b in entry["spark"]["business"]]
    active = [{**a, "model": m["model"]} for m in rows for a in m["alerts"]]
    return {"models": rows, "counts": body["counts"], "alerts": body["alerts"],
            "active_alerts": sorted(active, key=lambda a: a["started_at"], reverse=True)[:50],
            "availability": (None if not fleet_counts
                             else round(1.0 - fleet_errors / fleet_counts, 6)),
            "business": business}

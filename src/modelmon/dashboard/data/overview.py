"""The overview page: every model's status, active alerts and headline metric with a sparkline,
status counts, availability and business metrics.

Built on the JSON answer of ``GET /v1/overview`` (the same query), with per model one more
query: its headline metric, prediction count and error rate over the sparkline's windows.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow.compute as pc

from modelmon.evaluation.presets import quality_metric_names
from modelmon.service.routes import results as api
from modelmon.store.results import ALL
from modelmon.vocabulary import HEADLINE, STATUSES, Metric, Severity, Task
from modelmon.windows import FixedWindows, parse_window, window_order

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


def _spark(store: Any, model: str, window: str, headline: str, newest: str,
           spec: Any) -> dict[str, Any]:
    """The sparkline, availability and business metrics of the newest windows (one query)."""
    scheme = parse_window(window)
    if not isinstance(scheme, FixedWindows):
        return {"points": "", "availability": None, "n": 0, "business": []}
    from datetime import datetime

    end = datetime.fromisoformat(newest) + timedelta(microseconds=1)
    start = end - scheme.size * SPARK_WINDOWS
    table = store.metric_series(model, window_size=window, version=ALL, segment=ALL,
                                start=start, end=end, limit=1_000_000)
    newest_rows = table.filter(pc.equal(table["window_start"], pc.max(table["window_start"]))) \
        if table.num_rows else table
    names = business_names(spec, newest_rows["metric"].to_pylist())
    business = [{"model": model, "metric": r["metric"], "value": r["value"], "window": window,
                 "start": r["window_start"].isoformat()}
                for r in newest_rows.to_pylist() if r["metric"] in names]

    def column(metric: str) -> np.ndarray:
        rows = table.filter(pc.equal(table["metric"], metric))
        return rows["value"].to_numpy(zero_copy_only=False).astype(np.float64)

    head = column(headline)
    values = [None if not math.isfinite(v) else float(v) for v in head]
    counts, errors = column(Metric.PREDICTION_COUNT), column(Metric.ERROR_RATE)
    n = min(counts.size, errors.size)
    return {"points": sparkline(values), "availability": availability(counts[:n], errors[:n]),
            "n": len(values), "business": business}


#: Threads reading models at once (each query holds one DuckDB cursor; a hundred models read
#: one after the other took most of the page's time).
WORKERS = 4


def _models(store: Any, alerts: Any, names: list[str]) -> list[dict[str, Any]]:
    """``GET /v1/overview``'s model entries, read in ``WORKERS`` slices at once."""
    if not names:
        return []
    size = max(1, -(-len(names) // WORKERS))
    afters = [None, *(names[i - 1] for i in range(size, len(names), size))]

    def read(after: str | None) -> list[dict[str, Any]]:
        body = api._overview_body(store, limit=size, after=after, link=lambda **_: "",
                                  alerts=alerts)
        return list(body["models"])

    with ThreadPoolExecutor(max_workers=min(WORKERS, len(afters))) as pool:
        return [m for part in pool.map(read, afters) for m in part]


def _window_of(entry: dict[str, Any], spec: Any) -> str:
    windows = sorted(entry["metrics"], key=window_order)
    return windows[0] if windows else spec.window_schemes[0].name


def _entry_spark(store: Any, entry: dict[str, Any], spec: Any) -> dict[str, Any]:
    window = _window_of(entry, spec)
    latest = entry["metrics"].get(window, {})
    newest = next((p["start"] for p in latest.values()), None)
    if newest is None:
        return {"points": "", "availability": None, "n": 0, "business": []}
    return _spark(store, entry["model"], window, HEADLINE[Task(spec.task)], newest, spec)


def overview(store: Any, alerts: Any) -> dict[str, Any]:
    """Everything the overview page shows."""
    specs = {m.name: m.spec for m in store.list_models()}
    entries = _models(store, alerts, sorted(specs))
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        sparks = list(pool.map(lambda e: _entry_spark(store, e, specs[e["model"]]), entries))
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
    firing = [a for a in active if a["state"] == "firing"]
    counts = {s: sum(m["status"] == s for m in rows) for s in STATUSES}
    alerts_summary = {"firing": len(firing),
                      "by_severity": {str(s): sum(a["severity"] == s for a in firing)
                                      for s in Severity}}
    return {"models": rows, "counts": counts, "alerts": alerts_summary,
            "active_alerts": sorted(active, key=lambda a: a["started_at"], reverse=True)[:50],
            "availability": (None if not fleet_counts
                             else round(1.0 - fleet_errors / fleet_counts, 6)),
            "business": business}

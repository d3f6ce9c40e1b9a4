"""A service window's stored evaluation report (:mod:`modelmon.evaluation.report`) as the HTML
report: its verdict, reasons and recommendations, metrics against their bands, drift by feature,
the window's data quality, and each feature's reference and current distributions (read from
the stored reference and the window's predictions when the page is asked for)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from modelmon.report.html import render_report
from modelmon.store.results import ALL
from modelmon.vocabulary import OUTPUT_FEATURE

__all__ = ["MAX_DISTRIBUTIONS", "window_report_html", "window_report_view"]

#: Features whose distributions a report draws (the most drifted first).
MAX_DISTRIBUTIONS = 50


def _quality_rows(store: Any, model: str, window: dict[str, Any]) -> list[dict[str, Any]]:
    if not window.get("size") or not window.get("start"):
        return []
    start = datetime.fromisoformat(window["start"])
    from datetime import timedelta

    rows = store.feature_results(model, window_size=window["size"], start=start,
                                 end=start + timedelta(microseconds=1), version=ALL,
                                 limit=100_000).to_pylist()
    out = []
    for r in rows:
        if r["feature"] == OUTPUT_FEATURE:
            continue
        issues = [name for key, name in (("missing_share", "missing"),
                                          ("out_of_range_share", "out of range"),
                                          ("unseen_share", "unseen categories"))
                  if (r[key] or 0.0) > 0]
        out.append({"feature": r["feature"], "type": r["feature_type"],
                    "missing_reference": None, "missing_current": r["missing_share"],
                    "out_of_range": r["out_of_range_share"], "unseen": r["unseen_share"],
                    "issues": issues})
    return out


def window_report_view(store: Any, model: str, report: dict[str, Any]) -> dict[str, Any]:
    """The report view (see :func:`modelmon.report.html.render_report`) of a stored report."""
    from modelmon.dashboard.data.drift import feature_distribution

    window = report.get("window") or {}
    drift = report.get("drift") or {}
    features = [f for f in drift.get("features", [])]
    dists: dict[str, Any] = {}
    omitted = 0
    if window.get("start") and window.get("end"):
        start = datetime.fromisoformat(window["start"])
        end = datetime.fromisoformat(window["end"])
        inputs = [f for f in features if f["feature"] != OUTPUT_FEATURE]
        for f in inputs[:MAX_DISTRIBUTIONS]:
            spec = feature_distribution(store, model, f["feature"], start, end)
            if spec is not None:
                dists[f["feature"]] = spec
        omitted = max(0, len(inputs) - MAX_DISTRIBUTIONS)
    tested = [f for f in features if f["feature"] != OUTPUT_FEATURE
              and f.get("statistic") is not None]
    return {
        "title": f"{model}: window {window.get('size') or ''} from "
                 f"{(window.get('start') or '')[:16].replace('T', ' ')}",
        "subtitle": f"Evaluation report {report.get('id')} · reference: "
                    f"{report.get('reference') or 'none'} · {window.get('n') or 0} predictions",
        "generated_at": report.get("created_at"),
        "status": report.get("status"),
        "reasons": report.get("reasons", []),
        "recommendations": report.get("recommendations", []),
        "summary": [("predictions", window.get("n") or 0),
                    ("features drifted", f"{sum(f['drifted'] for f in tested)} of {len(tested)}"),
                    ("baseline windows", (report.get("baseline") or {}).get("windows", 0))],
        "metrics": [{"metric": m["metric"], "reference": m.get("baseline_mean"),
                     "current": m.get("value"), "change": m.get("relative_change"),
                     "sigmas": m.get("sigmas"), "finding": m.get("finding")}
                    for m in report.get("metrics", [])],
        "drift": {"share": drift.get("share"), "tested": len(tested),
                  "drifted": sum(f["drifted"] for f in tested),
                  "features": [{"feature": f["feature"], "type": "", "test": f.get("test"),
                                "statistic": f.get("statistic"), "threshold": f.get("threshold"),
                                "p_value": None, "drifted": f.get("drifted")}
                               for f in features]},
        "distributions": dists, "distributions_omitted": omitted,
        "data_quality": _quality_rows(store, model, window),
    }


def window_report_html(store: Any, model: str, report_id: str) -> str:
    """The stored report ``report_id`` of ``model`` as a self-contained HTML page (raises
    ``model_not_found`` / ``not_found``)."""
    store.get_model(model)
    report = store.get_report(model, report_id)
    return render_report(window_report_view(store, model, report))

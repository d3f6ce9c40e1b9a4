"""A service window's stored evaluation report (:mod:`modelmon.evaluation.report`) as the HTML
report: its verdict, reasons and recommendations, metrics against their bands, drift by feature,
the window's data quality, and each feature's reference and current distributions (read from
the stored reference and the window's predictions when the page is asked for)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from modelmon.report.html import render_report
from modelmon.report.view import MAX_DISTRIBUTIONS, report_view
from modelmon.store.results import ALL
from modelmon.vocabulary import OUTPUT_FEATURE

__all__ = ["MAX_DISTRIBUTIONS", "window_report_html", "window_report_view"]

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
    dists: dict[str, Any] = {}
    if window.get("start") and window.get("end"):
        start = datetime.fromisoformat(window["start"])
        end = datetime.fromisoformat(window["end"])
        features = (report.get("drift") or {}).get("features", [])
        for f in [f for f in features if f["feature"] != OUTPUT_FEATURE][:MAX_DISTRIBUTIONS]:
            spec = feature_distribution(store, model, f["feature"], start, end)
            if spec is not None:
                dists[f["feature"]] = spec
    view = report_view(report, distributions=dists,
                       data_quality=_quality_rows(store, model, window))
    view["title"] = (f"{model}: window {window.get('size') or ''} from "
                     f"{(window.get('start') or '')[:16].replace('T', ' ')}")
    view["subtitle"] = (f"Evaluation report {report.get('id')} · reference: "
                        f"{report.get('reference') or 'none'} · {window.get('n') or 0} "
                        "predictions")
    return view


def window_report_html(store: Any, model: str, report_id: str) -> str:
    """The stored report ``report_id`` of ``model`` as a self-contained HTML page (raises
    ``model_not_found`` / ``not_found``)."""
    store.get_model(model)
    report = store.get_report(model, report_id)
    return render_report(window_report_view(store, model, report))

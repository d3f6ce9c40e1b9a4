"""The report view: what the HTML page shows, from a report in the evaluation report's shape
(a service window's stored report, or the offline report built the same way)."""

from __future__ import annotations

from typing import Any

from modelmon.vocabulary import OUTPUT_FEATURE

__all__ = ["MAX_DISTRIBUTIONS", "report_view"]

#: Features whose distributions a report draws (the most drifted first).
MAX_DISTRIBUTIONS = 50


def report_view(report: dict[str, Any], *, distributions: dict[str, Any],
                data_quality: list[dict[str, Any]]) -> dict[str, Any]:
    """The view :func:`modelmon.report.html.render_report` renders (title and subtitle to be
    set by the caller)."""
    window = report.get("window") or {}
    drift = report.get("drift") or {}
    features = list(drift.get("features", []))
    tested = [f for f in features if f["feature"] != OUTPUT_FEATURE
              and f.get("statistic") is not None]
    drifted = sum(bool(f.get("drifted")) for f in tested)
    shown: dict[str, Any] = {}
    order = [f["feature"] for f in features if f["feature"] != OUTPUT_FEATURE]
    order += [OUTPUT_FEATURE] if any(f["feature"] == OUTPUT_FEATURE for f in features) else []
    for name in order:
        if name in distributions and len(shown) < MAX_DISTRIBUTIONS:
            shown[name] = distributions[name]
    return {
        "title": report.get("model", ""), "subtitle": "",
        "generated_at": report.get("created_at"),
        "status": report.get("status"),
        "reasons": report.get("reasons", []),
        "recommendations": report.get("recommendations", []),
        "summary": [("predictions", window.get("n") or 0),
                    ("features drifted", f"{drifted} of {len(tested)}"),
                    ("baseline", (report.get("baseline") or {}).get("windows", 0))],
        "metrics": [{"metric": m["metric"],
                     "reference": m.get("reference_value", m.get("baseline_mean")),
                     "current": m.get("value"), "change": m.get("relative_change"),
                     "sigmas": m.get("sigmas"), "finding": m.get("finding"),
                     "estimated": m.get("estimated"),
                     "estimated_se": m.get("estimated_standard_error"),
                     "gap": m.get("estimation_gap")}
                    for m in report.get("metrics", [])],
        "estimated": any(m.get("estimated") is not None for m in report.get("metrics", [])),
        "multivariate": report.get("multivariate", []),
        "drift": {"share": drift.get("share"), "tested": len(tested), "drifted": drifted,
                  "features": [{"feature": f["feature"], "type": f.get("type", ""),
                                "test": f.get("test"), "statistic": f.get("statistic"),
                                "threshold": f.get("threshold"), "p_value": f.get("p_value"),
                                "drifted": f.get("drifted")} for f in features]},
        "distributions": shown,
        "distributions_omitted": max(0, len(distributions) - len(shown)),
        "data_quality": data_quality,
    }

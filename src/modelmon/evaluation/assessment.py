"""From stored results to a verdict: model status, human-readable reasons, report and advice.

Pure: it takes the metric series, feature results and detector events the engine read, and
returns an :class:`Assessment`. Status rules (the status window is the model's smallest window):

- ``no_data``: no predictions in the current period;
- ``degraded``: a quality metric is worse than its baseline (the degradation ensemble's verdict,
  significant and beyond ``min_relative_change``), or the error rate is above its threshold;
- ``warning``: input drift, latency worse than baseline, a concept-drift alarm, or a data-quality
  finding (missing values, unseen categories, schema change);
- ``healthy`` otherwise.
"""

from __future__ import annotations

import math
import uuid
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from modelmon.config.models import ModelSpec
from modelmon.degradation import DegradationDetector, default_directions
from modelmon.evaluation.presets import HEADLINE, Thresholds, quality_metric_names
from modelmon.exceptions import ModelmonWarning
from modelmon.metrics.registry import Direction
from modelmon.store.results import ALL
from modelmon.vocabulary import OUTPUT_FEATURE as PREDICTION_FEATURE

__all__ = ["Assessment", "assess", "compare_versions"]

_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
_OPERATIONAL_WATCH = ("latency_p95_seconds", "error_rate")

_TEST_LABEL = {
    "normalized_wasserstein": "Wasserstein (normalised)", "wasserstein": "Wasserstein",
    "jensen_shannon": "Jensen-Shannon", "ks": "KS", "chi_square": "chi-square", "psi": "PSI",
    "hellinger": "Hellinger", "z_proportions": "z (proportions)",
}


@dataclass
class Assessment:
    status: str
    reasons: list[dict[str, Any]]
    report: dict[str, Any]
    degraded_metrics: list[str] = field(default_factory=list)


def _series(points: pa.Table, version: str = ALL) -> dict[str, list[tuple[datetime, float, int]]]:
    out: dict[str, list[tuple[datetime, float, int]]] = defaultdict(list)
    for row in points.to_pylist():
        if row["version"] != version or row["segment"] != ALL or row["value"] is None:
            continue
        out[row["metric"]].append((row["window_start"], float(row["value"]), int(row["n"] or 0)))
    for values in out.values():
        values.sort(key=lambda r: r[0])
    return out


def _fmt(value: float, metric: str) -> str:
    if metric.endswith("_seconds"):
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.4g}"


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _evidence(row: dict[str, Any]) -> str:
    """'Wasserstein (normalised) 0.34' or 'KS 0.21, p < 0.001' for a drift result row."""
    label = _TEST_LABEL.get(row["test"], row["test"])
    stat = row["statistic"]
    if stat is None:
        return label
    if row.get("p_value") is not None:
        return f"{label} {stat:.2f}, {_p_text(row['p_value'])}"
    return f"{label} {stat:.2f} (threshold {row['threshold']:.2f})"


def _reason(severity: str, kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"severity": severity, "kind": kind, "message": message, **extra}


def assess(
    spec: ModelSpec,
    thresholds: Thresholds,
    *,
    window_size: str,
    now: datetime,
    points: pa.Table,
    baseline: tuple[datetime, datetime] | None,
    latest_features: pa.Table,
    detector_events: pa.Table,
    schema_changes: list[str],
) -> Assessment:
    """Judge a model from its stored results (see the module docstring)."""
    series = _series(points)
    counts = series.get("prediction_count", [])
    reasons: list[dict[str, Any]] = []
    report: dict[str, Any] = {
        "id": uuid.uuid4().hex, "kind": "evaluation", "model": spec.name,
        "created_at": now.isoformat(), "window": {"size": window_size},
    }
    if not counts:
        report.update(status="no_data", reasons=[_reason("info", "no_data",
                      "no predictions received yet")], metrics=[], recommendations=[
                      "Send predictions (SDK or POST /v1/predictions) to start monitoring."])
        return Assessment("no_data", report["reasons"], report)

    starts = sorted({r[0] for r in counts})
    if baseline is not None:
        base_windows = [s for s in starts if baseline[0] <= s < baseline[1]]
    else:
        base_windows = starts[: thresholds.baseline_windows]
    base_set = set(base_windows)
    after = [s for s in starts if s not in base_set]
    current = after[-thresholds.current_windows:]
    cur_set = set(current)
    report["window"].update(start=current[0].isoformat() if current else None,
                            end=(current[-1].isoformat() if current else None))
    report["baseline"] = {"windows": len(base_windows),
                          "start": base_windows[0].isoformat() if base_windows else None,
                          "end": base_windows[-1].isoformat() if base_windows else None}

    last_seen = counts[-1][0]
    newest = [c for c in counts if c[0] == last_seen]
    if newest and newest[0][1] == 0:
        reasons.append(_reason("warning", "no_data", "no predictions in the latest window"))

    # --- degradation of quality and operations --------------------------------------------------
    watch = quality_metric_names(spec) + list(_OPERATIONAL_WATCH)
    cur_vals: dict[str, np.ndarray] = {}
    base_vals: dict[str, np.ndarray] = {}
    for metric in watch:
        rows = series.get(metric, [])
        min_n = thresholds.min_labelled if metric not in _OPERATIONAL_WATCH else 1
        b = [v for s, v, n in rows if s in base_set and n >= min_n and math.isfinite(v)]
        c = [v for s, v, n in rows if s in cur_set and n >= min_n and math.isfinite(v)]
        if len(b) >= 2 and c:
            base_vals[metric], cur_vals[metric] = np.asarray(b), np.asarray(c)
    metric_rows: list[dict[str, Any]] = []
    degraded: list[str] = []
    quality_reasons: list[dict[str, Any]] = []
    if cur_vals:
        detector = DegradationDetector(methods=("welch", "mann_whitney", "zscore"),
                                       alpha=thresholds.degradation_alpha,
                                       min_relative_change=thresholds.min_relative_change,
                                       min_votes=2, directions=default_directions)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ModelmonWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            result = detector.detect(cur_vals, base_vals)
        for r in result:
            row = r.to_dict()
            metric_rows.append({k: row.get(k) for k in (
                "metric", "verdict", "current_mean", "baseline_mean", "difference",
                "percent_change", "z_score", "z_p_value", "welch_p_value", "significant",
                "better_or_worse", "n_current", "n_baseline", "reason")})
            if r.verdict != "degraded":
                continue
            degraded.append(r.metric)
            p = min(x for x in (r.welch_p_value, r.mann_whitney_p_value, r.z_p_value)
                    if x is not None and not math.isnan(x))
            ptxt = _p_text(p)
            pct = r.percent_change
            msg = (f"{r.metric} {_fmt(r.current_mean, r.metric)} vs baseline "
                   f"{_fmt(r.baseline_mean, r.metric)} ({pct:+.0f} %), {ptxt}"
                   if pct is not None and math.isfinite(pct) else r.reason)
            if r.metric == "latency_p95_seconds":
                reasons.append(_reason("warning", "latency", msg, metric=r.metric))
            elif r.metric == "error_rate":
                reasons.append(_reason("critical", "errors", msg, metric=r.metric))
            else:
                quality_reasons.append(_reason("critical", "quality", msg, metric=r.metric))
    # The headline metric leads; three quality reasons say enough, the report has the rest.
    headline = HEADLINE[spec.task]
    quality_reasons.sort(key=lambda r: r["metric"] != headline)
    reasons.extend(quality_reasons[:3])
    if len(quality_reasons) > 3:
        others = ", ".join(r["metric"] for r in quality_reasons[3:])
        reasons.append(_reason("critical", "quality", f"also degraded: {others}"))
    report["metrics"] = metric_rows

    # --- absolute error-rate threshold -----------------------------------------------------------
    err = [v for s, v, n in series.get("error_rate", []) if s in cur_set and n > 0]
    if err and max(err) > thresholds.error_rate and "error_rate" not in degraded:
        reasons.append(_reason("critical", "errors",
                               f"{max(err) * 100:.1f} % of predictions failed (threshold "
                               f"{thresholds.error_rate * 100:.0f} %)", metric="error_rate"))

    # --- drift and data quality (latest windows of the status window size) ----------------------
    # A feature counts as drifted when the latest window flags it and so does at least one of the
    # two windows before it: one-window blips (chance at small window sizes) do not change status.
    feature_rows = [r for r in latest_features.to_pylist() if r["version"] == ALL]
    window_starts = sorted({r["window_start"] for r in feature_rows})
    latest_start = window_starts[-1] if window_starts else None
    drift_rows = [r for r in feature_rows if r["window_start"] == latest_start]
    flagged: dict[str, int] = defaultdict(int)
    for r in feature_rows:
        if r["drifted"] and r["window_start"] in window_starts[-3:]:
            flagged[r["feature"]] += 1
    need = min(2, len(window_starts))
    drifted = sorted((r for r in drift_rows if r["drifted"] and r["feature"] != PREDICTION_FEATURE
                      and flagged[r["feature"]] >= need),
                     key=lambda r: -(r["statistic"] or 0))
    for r in drifted[:5]:
        reasons.append(_reason("warning", "drift",
                               f"feature {r['feature']} drifted: {_evidence(r)}",
                               feature=r["feature"]))
    if len(drifted) > 5:
        reasons.append(_reason("warning", "drift", f"{len(drifted) - 5} more features drifted"))
    pred = [r for r in drift_rows if r["feature"] == PREDICTION_FEATURE and r["drifted"]
            and flagged[PREDICTION_FEATURE] >= need]
    if pred:
        reasons.append(_reason("warning", "drift",
                               f"prediction distribution drifted: {_evidence(pred[0])}",
                               feature=PREDICTION_FEATURE))
    dq = []
    for r in drift_rows:
        if r["missing_share"] is not None and r["missing_share"] > thresholds.missing_share:
            dq.append(_reason("warning", "data_quality", f"feature {r['feature']} is missing in "
                              f"{r['missing_share'] * 100:.0f} % of rows", feature=r["feature"]))
        if r["unseen_share"] is not None and r["unseen_share"] > 0.01:
            dq.append(_reason("warning", "data_quality", f"feature {r['feature']}: "
                              f"{r['unseen_share'] * 100:.0f} % of values are categories the "
                              "reference never saw", feature=r["feature"]))
    reasons.extend(dq)
    for ev in schema_changes[:3]:
        reasons.append(_reason("warning", "data_quality", f"schema changed: {ev}"))
    tested = [r for r in drift_rows if r["feature"] != PREDICTION_FEATURE
              and r["drifted"] is not None]
    report["drift"] = {
        "share": sum(bool(r["drifted"]) for r in tested) / len(tested) if tested else None,
        "drifted": [{"feature": r["feature"], "test": r["test"], "statistic": r["statistic"],
                     "threshold": r["threshold"]} for r in drifted],
    }

    # --- concept drift -----------------------------------------------------------------------------
    recent_from = current[0] if current else last_seen
    drifts = [e for e in detector_events.to_pylist()
              if e["kind"] == "drift" and e["event_time"] >= recent_from]
    if drifts:
        e = drifts[0]
        reasons.append(_reason("warning", "concept_drift",
                               f"concept drift detected by {e['detector'].upper()} at "
                               f"{e['event_time']:%H:%M:%S} (version {e['version']})"))
    report["detector_events"] = [
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in e.items()}
        for e in detector_events.to_pylist()[:20]]

    # --- status ------------------------------------------------------------------------------------
    recent_counts = [v for s, v, _ in counts if s in cur_set]
    if current and recent_counts and sum(recent_counts) == 0:
        status = "no_data"
        reasons.insert(0, _reason("warning", "no_data", "no predictions in the current period"))
    elif any(r["severity"] == "critical" for r in reasons):
        status = "degraded"
    elif any(r["severity"] == "warning" for r in reasons):
        status = "warning"
    else:
        status = "healthy"
    reasons.sort(key=lambda r: _SEVERITY_ORDER[r["severity"]])
    report["status"] = status
    report["reasons"] = reasons
    report["recommendations"] = _recommendations(spec, degraded, drifted, reasons, series, cur_set)
    return Assessment(status, reasons, report, degraded)


def _recommendations(
    spec: ModelSpec, degraded: list[str], drifted: list[dict[str, Any]],
    reasons: list[dict[str, Any]], series: dict[str, list[tuple[datetime, float, int]]],
    cur_set: set[datetime],
) -> list[str]:
    recs: list[str] = []
    quality_down = [m for m in degraded if m not in _OPERATIONAL_WATCH]
    names = ", ".join(r["feature"] for r in drifted[:3])
    headline = HEADLINE[spec.task]
    if quality_down and drifted:
        recs.append(f"Retraining recommended: {', '.join(quality_down[:3])} degraded while "
                    f"{len(drifted)} input feature(s) drifted ({names}). Retrain on recent data "
                    "and compare the new version against the current one before promoting it.")
    elif quality_down:
        recs.append(f"{', '.join(quality_down[:3])} degraded without input drift: check for "
                    "concept drift or label problems (delayed or wrong ground truth).")
    elif drifted:
        recs.append(f"Inputs drifted ({names}) but {headline} holds so far: watch quality as "
                    "ground truth arrives; consider refreshing the reference if the change is "
                    "expected.")
    if "latency_p95_seconds" in degraded:
        recs.append("Latency rose: check the serving infrastructure, recent deployments and "
                    "upstream feature services.")
    if any(r["kind"] == "errors" for r in reasons):
        recs.append("Predictions are failing: check the model server's logs for the errors.")
    coverage = [v for s, v, _ in series.get("label_coverage_ratio", []) if s in cur_set]
    if coverage and np.nanmean(coverage) < 0.2 and spec.task is not None:
        recs.append(f"Only {np.nanmean(coverage) * 100:.0f} % of recent predictions have ground "
                    "truth: quality metrics are uncertain; send actuals sooner if you can.")
    if any(r["kind"] == "data_quality" for r in reasons):
        recs.append("Fix the data-quality findings upstream (missing or unseen values) before "
                    "judging the model itself.")
    return recs


def compare_versions(points: pa.Table, metric: str) -> list[str]:
    """Advice comparing versions on ``metric`` over the same windows (used by the report)."""
    by_version: dict[str, dict[datetime, float]] = defaultdict(dict)
    for row in points.to_pylist():
        if row["metric"] == metric and row["segment"] == ALL and row["version"] != ALL \
                and row["value"] is not None:
            by_version[row["version"]][row["window_start"]] = row["value"]
    if len(by_version) < 2:
        return []
    direction = default_directions.get(metric).direction
    versions = sorted(by_version)
    out = []
    for i, a in enumerate(versions):
        for b in versions[i + 1:]:
            common = sorted(set(by_version[a]) & set(by_version[b]))
            if len(common) < 2:
                continue
            ma = float(np.mean([by_version[a][t] for t in common]))
            mb = float(np.mean([by_version[b][t] for t in common]))
            if ma == mb:
                continue
            if direction is Direction.HIGHER:
                better = a if ma > mb else b
            elif direction is Direction.LOWER:
                better = a if ma < mb else b
            else:
                continue
            worse = b if better == a else a
            vb, vw = (ma, mb) if better == a else (mb, ma)
            out.append(f"version {better} outperforms version {worse} on {metric} "
                       f"({vb:.3g} vs {vw:.3g} over {len(common)} windows)")
    return out

"""A model's evaluation report: its status and reasons, every judged metric against its band,
drift by feature, recent detector events, version advice and recommendations.

Built from a window's facts and verdict (:mod:`modelmon.evaluation.verdicts`): the report reads
the reasons, it never re-derives a verdict.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from modelmon.config.models import ModelSpec
from modelmon.degradation import default_directions
from modelmon.judgement import Reason, Verdict, WindowFacts
from modelmon.judgement.rules._bands import judged_metrics
from modelmon.judgement.rules.drift import drift_share
from modelmon.judgement.rules.multivariate import contributors
from modelmon.vocabulary import (
    HEADLINE,
    OUTPUT_FEATURE,
    Direction,
    Metric,
    ReasonKind,
    Status,
    estimated_metric,
    estimation_gap_metric,
    standard_error_metric,
)

__all__ = ["build_report", "recommendations"]


def _num(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def _metric_rows(facts: WindowFacts, reasons: Sequence[Reason]) -> list[dict[str, Any]]:
    named = {r.metric for r in reasons if r.metric}
    rows = []
    for metric in [*judged_metrics(facts.quality, facts.bands),
                   *(m for m in (Metric.ERROR_RATE, Metric.LATENCY_P95) if m in facts.bands)]:
        band = facts.bands[metric]
        value, n = facts.value(metric)
        d = default_directions.get(metric).direction
        rows.append({
            "metric": str(metric), "value": _num(value), "n": n, "direction": d.value,
            "baseline_mean": band.center, "baseline_scale": band.scale,
            "baseline_std": band.std, "baseline_windows": band.windows,
            "baseline_source": band.source,
            "relative_change": _num(band.relative_change(value)),
            "sigmas": _num(band.sigmas(value, n, d)), "finding": metric in named or estimated_metric(str(metric)) in named,
            **_estimate_of(facts, str(metric)),
        })
    return rows


def _estimate_of(facts: WindowFacts, metric: str) -> dict[str, Any]:
    """The metric's estimate without labels, its standard error and the realized-vs-estimated
    gap on the labelled rows, when the window has them."""
    series = estimated_metric(metric)
    if series not in facts.metrics:
        return {}
    gap = estimation_gap_metric(metric)
    return {"estimated": _num(facts.value(series)[0]),
            "estimated_standard_error": _num(facts.value(standard_error_metric(series))[0]),
            "estimation_gap": _num(facts.value(gap)[0]) if gap in facts.metrics else None,
            "estimation_gap_standard_error": _num(facts.value(standard_error_metric(gap))[0])
            if gap in facts.metrics else None}


_MULTIVARIATE = (Metric.RECONSTRUCTION_ERROR, Metric.DOMAIN_CLASSIFIER_AUC)


def _multivariate_rows(facts: WindowFacts, reasons: Sequence[Reason]) -> list[dict[str, Any]]:
    """Multivariate drift statistics with their reference bands and, for the PCA
    reconstruction error, the features contributing most."""
    named = {r.metric for r in reasons if r.kind is ReasonKind.MULTIVARIATE_DRIFT}
    rows = []
    for metric in _MULTIVARIATE:
        if metric not in facts.metrics:
            continue
        value, n = facts.value(metric)
        band = facts.bands.get(metric)
        rows.append({
            "metric": str(metric), "value": _num(value), "n": n,
            "baseline_mean": band.center if band else None,
            "baseline_std": band.std if band else None,
            "sigmas": _num(band.sigmas(value, n, Direction.UNKNOWN)) if band else None,
            "finding": str(metric) in named,
            "contributors": [{"feature": f, "share": s} for f, s in contributors(facts, 5)]
            if metric is Metric.RECONSTRUCTION_ERROR else []})
    return rows


def _drift_rows(facts: WindowFacts) -> dict[str, Any]:
    inputs = [x for x in facts.features if x.feature != OUTPUT_FEATURE]
    ranked = sorted(facts.features, key=lambda x: -(x.sigmas if math.isfinite(x.sigmas)
                                                     else (x.statistic or 0.0)))
    return {
        "share": _num(drift_share(list(facts.features))),
        "tested": sum(1 for x in inputs if x.statistic is not None),
        "features": [{"feature": x.feature, "test": x.test, "statistic": _num(x.statistic),
                      "threshold": _num(x.threshold), "drifted": x.drifted,
                      "sigmas": _num(x.sigmas), "n": x.n} for x in ranked],
    }


def recommendations(spec: ModelSpec, reasons: Sequence[Reason],
                    facts: WindowFacts | None) -> list[str]:
    """What to do about the reasons (one sentence each)."""
    recs: list[str] = []
    quality = [r.metric for r in reasons if r.kind in (ReasonKind.QUALITY, ReasonKind.LIMIT)
               and r.metric and r.severity.rank >= 2]
    drifted = [r.feature for r in reasons if r.kind is ReasonKind.DRIFT and r.feature]
    names = ", ".join(str(f) for f in drifted[:3])
    headline = HEADLINE[spec.task]
    assessed = facts is not None and bool(judged_metrics(facts.quality, facts.bands)) and \
        facts.value(headline)[1] >= facts.settings.min_labelled
    if quality and drifted:
        recs.append(f"Retraining recommended: {', '.join(str(q) for q in quality[:3])} degraded "
                    f"while {len(drifted)} input feature(s) drifted ({names}). Retrain on recent "
                    "data and compare the new version with the current one before promoting it.")
    elif quality:
        recs.append(f"{', '.join(str(q) for q in quality[:3])} degraded without input drift: "
                    "check for concept drift or label problems (delayed or wrong ground truth).")
    elif drifted and assessed:
        recs.append(f"Inputs drifted ({names}) while {headline} stays within its band: watch "
                    "quality as ground truth arrives; refresh the reference if the change is "
                    "expected.")
    elif drifted:
        recs.append(f"Inputs drifted ({names}); quality cannot be judged yet (too few labelled "
                    "predictions or no baseline): send actuals, and watch quality as they "
                    "arrive.")
    kinds = {r.kind for r in reasons}
    estimated = [str(r.evidence.get("estimates")) for r in reasons
                 if r.kind is ReasonKind.ESTIMATED_QUALITY]
    if estimated and not quality:
        recs.append(f"Estimated {', '.join(estimated[:3])} fell below the reference's band "
                    "before any label confirms it: send actuals for these predictions to "
                    "confirm, and look at the drifted inputs meanwhile.")
    if ReasonKind.ESTIMATION_GAP in kinds:
        recs.append("Realized quality departs from its estimate on the same rows: the outcome "
                    "no longer follows the model's outputs as in the reference (concept drift). "
                    "Retrain, and refit the reference; until then, do not rely on the estimates "
                    "of unlabelled windows.")
    if ReasonKind.LATENCY in kinds:
        recs.append("Latency rose: check the serving infrastructure, recent deployments and "
                    "upstream feature services.")
    if ReasonKind.ERRORS in kinds:
        recs.append("Predictions are failing: check the model server's logs for the errors.")
    if facts is not None:
        coverage, n = facts.value(Metric.LABEL_COVERAGE)
        if n and math.isfinite(coverage) and coverage < 0.2:
            recs.append(f"Only {coverage * 100:.0f} % of the window's predictions have ground "
                        "truth: quality metrics are uncertain; send actuals sooner if you can.")
    if kinds & {ReasonKind.DATA_QUALITY, ReasonKind.SCHEMA_CHANGE}:
        recs.append("Fix the data-quality findings upstream (missing or unseen values, schema "
                    "changes) before judging the model itself.")
    if ReasonKind.BASELINE in kinds and not quality:
        recs.append("Quality is judged once the baseline holds enough labelled windows (or "
                    "give the reference file a target column: reference.columns.target).")
    return recs


def build_report(spec: ModelSpec, *, now: datetime, status: Status, reasons: Sequence[Reason],
                 facts: WindowFacts | None, verdict: Verdict | None,
                 reference_source: str | None, detector_events: list[dict[str, Any]],
                 versions: list[str]) -> dict[str, Any]:
    """The report stored by an evaluation cycle (see the module docstring)."""
    report: dict[str, Any] = {
        "id": uuid.uuid4().hex, "kind": "evaluation", "model": spec.name,
        "created_at": now.isoformat(), "status": str(status),
        "reasons": [r.to_dict() for r in reasons],
        "window": {"size": verdict.window if verdict else None,
                   "start": verdict.start.isoformat() if verdict else None,
                   "end": verdict.end.isoformat() if verdict else None,
                   "complete": verdict.complete if verdict else None,
                   "n": verdict.n if verdict else None},
        "reference": reference_source,
        "baseline": {"windows": facts.baseline_windows if facts else 0,
                     "needed": facts.baseline_needed if facts else 0},
        "metrics": _metric_rows(facts, reasons) if facts else [],
        "drift": _drift_rows(facts) if facts else {"share": None, "tested": 0, "features": []},
        "multivariate": _multivariate_rows(facts, reasons) if facts else [],
        "detector_events": detector_events,
        "versions": versions,
        "recommendations": recommendations(spec, reasons, facts) + versions,
    }
    return report

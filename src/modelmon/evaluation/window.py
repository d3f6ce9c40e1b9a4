"""Evaluating one window: quality, operations, data quality, drift and fairness, per slice.

Slices: all rows (version ``*``, segment ``*``); each version when the window holds several; each
value of each segment column (the ``max_segment_values`` most frequent, the rest as ``other``).
Fairness rows use the segment column's name as their segment (``country``: across its values).
Drift and data quality are computed for all rows and for each version; estimated quality
(without labels) and multivariate drift for all rows.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from modelmon.config.models import ModelSpec
from modelmon.evaluation.aggregates import WindowAggregate
from modelmon.evaluation.data_quality import FeatureQuality, feature_quality
from modelmon.evaluation.estimation import window_estimates
from modelmon.evaluation.finance import business_metrics, finance_metrics
from modelmon.evaluation.frame import EvalFrame
from modelmon.evaluation.multivariate import window_multivariate
from modelmon.evaluation.operational import operational_metrics
from modelmon.evaluation.presets import quality_metric_names
from modelmon.evaluation.quality import quality_metrics
from modelmon.evaluation.references import ReferenceProfile, output_column
from modelmon.exceptions import ModelmonWarning
from modelmon.judgement.facts import FeatureFacts
from modelmon.judgement.rules.drift import drift_share
from modelmon.store.results import ALL, FEATURE_RESULT_COLUMNS, METRIC_POINT_COLUMNS, WindowResults
from modelmon.vocabulary import OUTPUT_FEATURE, Metric

__all__ = ["WindowEvaluation", "evaluate_window"]


@dataclass
class WindowEvaluation:
    """Rows produced for one window before they are stored."""

    points: list[dict[str, Any]] = field(default_factory=list)
    features: list[dict[str, Any]] = field(default_factory=list)
    drifted: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    aggregates: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def add_points(self, version: str, segment: str, values: dict[str, tuple[float, int]]) -> None:
        for metric, (value, n) in values.items():
            self.points.append({"version": version, "segment": segment, "metric": metric,
                                "value": None if value is None or math.isnan(value) else float(value),
                                "n": int(n)})

    def to_results(self, window_size: str, start: datetime, end: datetime) -> WindowResults:
        def table(rows: list[dict[str, Any]], columns: dict[str, pa.DataType]) -> pa.Table:
            base = {"window_size": window_size, "window_start": start, "window_end": end}
            full = [{**base, **r} for r in rows]
            return pa.Table.from_pylist(full, schema=pa.schema(columns)) if full else \
                pa.table({k: pa.array([], t) for k, t in columns.items()})

        return WindowResults(window_size, start, end,
                             table(self.points, METRIC_POINT_COLUMNS),
                             table(self.features, FEATURE_RESULT_COLUMNS), dict(self.aggregates))


def _drift(frame: EvalFrame, profile: ReferenceProfile, spec: ModelSpec,
           sigma: float) -> list[Any]:
    """Per-feature drift results (features and output) against the reference's bands; features
    the spec gives a fixed threshold (or a p-value test) keep that instead."""
    reference = profile.reference
    columns = [c for c in reference.features if c in frame.features or c == OUTPUT_FEATURE]
    table = frame.feature_table()
    if OUTPUT_FEATURE in reference.features:
        table = table.append_column(OUTPUT_FEATURE, pa.array(output_column(frame)))
    table = table.select(columns)
    tests = {f: t for f, t in profile.bands.tests.items() if f in columns}
    tests.update({f: t for f, t in spec.drift.tests.items() if f in columns})
    fixed = set(spec.drift.thresholds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelmonWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        result = reference.compare(
            table, tests=tests, thresholds=spec.drift.thresholds or None,
            correction=spec.drift.correction, drift_share=spec.drift.drift_share,
        )
    return list(profile.bands.apply(result, sigma=sigma, skip=fixed).features)


def _feature_rows(
    version: str, drift: Iterable[Any], quality: list[FeatureQuality], types: dict[str, str]
) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for r in drift:
        p = r.p_value_adjusted if getattr(r, "p_value_adjusted", None) is not None else r.p_value
        rows[r.feature] = {
            "version": version, "segment": ALL, "feature": r.feature,
            "feature_type": "prediction" if r.feature == OUTPUT_FEATURE else r.feature_type,
            "test": r.test, "statistic": _num(r.statistic), "p_value": _num(p),
            "threshold": _num(r.threshold), "drifted": bool(r.drifted),
            "n_reference": int(r.n_reference), "n_current": int(r.n_current),
            "missing_share": _num(r.missing_share_current),
        }
    for q in quality:
        row = rows.setdefault(q.feature, {
            "version": version, "segment": ALL, "feature": q.feature,
            "feature_type": types.get(q.feature, "unknown"),
        })
        row["missing_share"] = _num(q.missing_share)
        row["out_of_range_share"] = _num(q.out_of_range_share)
        row["unseen_share"] = _num(q.unseen_share)
    return list(rows.values())


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _segment_slices(frame: EvalFrame, max_values: int) -> Iterable[tuple[str, np.ndarray]]:
    for seg, codes in frame.segments.items():
        labels = frame.segment_labels[seg]
        counts = np.bincount(codes, minlength=len(labels))
        order = np.argsort(-counts, kind="stable")
        top = [int(c) for c in order[:max_values] if counts[c] > 0]
        for code in sorted(top, key=lambda c: labels[c]):
            yield f"{seg}={labels[code]}", codes == code
        if len(labels) > max_values:
            yield f"{seg}=other", ~np.isin(codes, top)


def _fairness(frame: EvalFrame) -> list[tuple[str, dict[str, tuple[float, int]]]]:
    from modelmon.evaluation.fairness import fairness_metrics

    out = []
    for seg in frame.spec.segments:
        values = fairness_metrics(frame, seg)
        if values:
            out.append((seg, values))
    return out


def evaluate_window(
    frame: EvalFrame,
    *,
    window_seconds: float,
    reference: ReferenceProfile | None,
    drift_sigma: float = 3.0,
    max_segment_values: int = 20,
    business_events: pa.Table | None = None,
    prediction_ids: np.ndarray | None = None,
) -> WindowEvaluation:
    """Compute every per-window result for ``frame`` (all rows of one window).

    ``drift_sigma``: standard deviations of the reference's noise beyond which a feature's
    drift statistic is a finding (:func:`modelmon.drift.sigma_for` of the model's
    ``drift_alpha`` and feature count).
    """
    spec = frame.spec
    names = quality_metric_names(spec)
    ev = WindowEvaluation()

    def slice_metrics(f: EvalFrame) -> dict[str, tuple[float, int]]:
        values = operational_metrics(f, window_seconds)
        values.update(quality_metrics(f, names))
        return values

    def drift_and_quality(f: EvalFrame, version: str) -> dict[str, tuple[float, int]]:
        quality = feature_quality(f, reference.reference if reference is not None else None)
        drift: list[Any] = []
        extra: dict[str, tuple[float, int]] = {}
        if reference is not None and f.n:
            drift = _drift(f, reference, spec, drift_sigma)
            share = drift_share([FeatureFacts(r.feature, r.feature_type, r.test, r.statistic,
                                              r.threshold, r.drifted, r.n_current)
                                 for r in drift])
            extra[Metric.DRIFT_SHARE] = (share, f.n)
            extra[Metric.DRIFTED_FEATURES] = (float(sum(r.drifted for r in drift
                                                   if r.feature != OUTPUT_FEATURE)), f.n)
            ev.drifted[(version, ALL)] = [r.feature for r in drift if r.drifted]
            pred = [r for r in drift if r.feature == OUTPUT_FEATURE]
            if pred:
                extra[Metric.PREDICTION_DRIFT] = (_num(pred[0].statistic) or math.nan, f.n)
        if quality:
            shares = [q.missing_share for q in quality if not math.isnan(q.missing_share)]
            extra[Metric.MISSING_SHARE] = (max(shares) if shares else math.nan, f.n)
        types = {feat.name: feat.type.value for feat in spec.features}
        ev.features.extend(_feature_rows(version, drift, quality, types))
        return extra

    all_values = slice_metrics(frame)
    ev.aggregates[(ALL, ALL)] = WindowAggregate.from_frame(frame).to_bytes()
    all_values.update(finance_metrics(frame))
    if business_events is not None and prediction_ids is not None:
        all_values.update(business_metrics(frame, business_events, prediction_ids))
    all_values.update(drift_and_quality(frame, ALL))
    if reference is not None:
        all_values.update(window_estimates(frame, reference.estimator_model(), all_values))
        all_values.update(window_multivariate(frame, reference.multivariate_models()))
    ev.add_points(ALL, ALL, all_values)

    versions = np.unique(frame.version.astype(str)) if frame.n else np.array([], dtype=str)
    if len(versions) > 1:
        for v in versions:
            sub = frame.subset(frame.version == v)
            values = slice_metrics(sub)
            values.update(drift_and_quality(sub, str(v)))
            ev.add_points(str(v), ALL, values)
    elif len(versions) == 1:
        # One version: its series equals the "all" series; store it so version queries work.
        ev.add_points(str(versions[0]), ALL, all_values)

    for segment, mask in _segment_slices(frame, max_segment_values):
        ev.add_points(ALL, segment, slice_metrics(frame.subset(mask, features=False)))
    if spec.task.is_classification:
        for seg, values in _fairness(frame):
            ev.add_points(ALL, seg, values)
    return ev

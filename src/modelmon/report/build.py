"""The offline report: a current data set judged against a reference, as the service judges a
window.

Drift: :meth:`modelmon.drift.Reference.fit` on the reference, ``compare`` on the current data
(features and the model's output). Data quality: missing values (both sides), current values
outside the reference's range, categories the reference never saw. Quality, when both data sets
hold the target and the model's output: the model's quality metrics on each, with the
reference cut into chunks the size of the current data set to give each metric its band
(:func:`modelmon.evaluation.verdicts.chunk_bands`, as the service fits a reference file's
bands). Quality estimated without labels and multivariate drift as for a service window
(:mod:`modelmon.report.estimates`). Then the service's own judgement (:func:`modelmon.judgement.judge_window`) turns these
facts into a status with reasons, and :func:`modelmon.evaluation.report.build_report` into the
same report a service window gets; the HTML page renders it with the features' distributions.

Drift thresholds are the tests' fixed ones here (the service also learns each statistic's noise
from the reference, which takes far longer than a CI job should wait).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.config.inference import infer_feature_type
from modelmon.config.models import RESERVED_NAMES, FeatureType, ModelSpec
from modelmon.drift import Reference
from modelmon.drift.summaries import CategoricalSummary, NumericSummary
from modelmon.evaluation.presets import judgement_settings, quality_metric_names
from modelmon.evaluation.quality import quality_metrics
from modelmon.evaluation.references import reference_frame
from modelmon.evaluation.report import build_report as evaluation_report
from modelmon.evaluation.verdicts import chunk_bands
from modelmon.exceptions import ModelmonWarning, ValidationError
from modelmon.judgement import FeatureFacts, Verdict, WindowFacts, judge_window
from modelmon.report.distributions import distribution_of_values
from modelmon.report.estimates import current_spec, offline_estimates, offline_multivariate
from modelmon.vocabulary import OUTPUT_FEATURE, ReasonKind, Severity, Status, Task

__all__ = ["FAIL_ON", "MAX_CHUNKS", "OfflineReport", "build_offline_report", "spec_for"]

#: What ``--fail-on`` accepts.
FAIL_ON = ("drift", "degradation", "any")
#: Most reference chunks the quality bands come from.
MAX_CHUNKS = 20

_DRIFT_KINDS = (ReasonKind.DRIFT, ReasonKind.PREDICTION_DRIFT, ReasonKind.MULTIVARIATE_DRIFT)
#: Degradation for CI: realized quality, a limit, or quality estimated without labels.
_QUALITY_KINDS = (ReasonKind.QUALITY, ReasonKind.LIMIT, ReasonKind.ESTIMATED_QUALITY,
                  ReasonKind.ESTIMATION_GAP)


@dataclass(frozen=True)
class OfflineReport:
    """The report (JSON-able, the service's report shape plus ``data_quality``,
    ``distributions`` and ``inputs``) and the verdict it holds."""

    report: dict[str, Any]
    verdict: Verdict

    @property
    def drift_found(self) -> bool:
        return any(r.kind in _DRIFT_KINDS for r in self.verdict.reasons)

    @property
    def degradation_found(self) -> bool:
        return any(r.kind in _QUALITY_KINDS and r.severity.rank >= Severity.WARNING.rank
                   for r in self.verdict.reasons)

    def fails(self, fail_on: str | None) -> bool:
        """Whether a CI job asked to fail on ``fail_on`` should fail."""
        if fail_on is None:
            return False
        if fail_on == "drift":
            return self.drift_found
        if fail_on == "degradation":
            return self.degradation_found
        if fail_on == "any":
            return self.verdict.status is not Status.HEALTHY
        raise ValueError(f"fail_on must be one of {FAIL_ON}; got {fail_on!r}")


def _column(table: pa.Table, name: str | None, fallback: str) -> str | None:
    if name is not None:
        if name not in table.column_names:
            raise ValidationError(f"the reference has no column {name!r}", code="invalid_value",
                                  loc=("reference", name))
        return name
    return fallback if fallback in table.column_names else None


def _infer_task(table: pa.Table, target: str | None, prediction: str | None) -> tuple[str, list[str]]:
    column = target or prediction
    if column is None:
        return "binary_classification", []
    values = table.column(column)
    if pa.types.is_floating(values.type):
        distinct = pc.count_distinct(values).as_py()
        if distinct > 20:
            return "regression", []
    labels = sorted(str(v) for v in pc.unique(values.drop_null()).to_pylist())[:1000]
    if pa.types.is_boolean(values.type):
        labels = ["false", "true"]
    return ("binary_classification" if len(labels) <= 2 else "multiclass_classification"), labels


def spec_for(reference: pa.Table, *, reference_path: str, config: dict[str, Any] | None = None,
             target: str | None = None, prediction: str | None = None,
             score: str | None = None, name: str = "report") -> ModelSpec:
    """The model spec a report judges by: ``config`` (a model's YAML mapping) completed with the
    reference's columns, or one inferred from the reference (``target``/``prediction``/
    ``score`` default to columns of those names; the task from the target)."""
    if config is not None:
        data = dict(config)
        ref = dict(data.get("reference") or {})
        ref["path"] = reference_path
        data["reference"] = ref
        data.setdefault("name", name)
        spec = ModelSpec.model_validate(data)
    else:
        target = _column(reference, target, "target")
        prediction = _column(reference, prediction, "prediction")
        score = _column(reference, score, "score")
        task, labels = _infer_task(reference, target, prediction)
        pred: dict[str, Any] = {"score": score is not None}
        if task != "regression" and labels:
            pred["classes"] = labels
        spec = ModelSpec.model_validate({
            "name": name, "task": task, "prediction": pred,
            "reference": {"path": reference_path, "columns": {
                "target": target, "prediction": prediction, "score": score}}})
    if spec.features:
        return spec
    assert spec.reference is not None
    skip = RESERVED_NAMES | set(spec.segments) | spec.reference.columns.mapped | {"target"}
    features = []
    for field in reference.schema:
        ftype = infer_feature_type(field.type)
        if field.name not in skip and ftype is not None:
            features.append({"name": field.name, "type": ftype.value})
    if not features:
        raise ValidationError("the reference has no column usable as a feature",
                              code="empty_input", loc=("reference",))
    return ModelSpec.model_validate({**spec.model_dump(), "features": features})


def _output(spec: ModelSpec, table: pa.Table) -> pa.ChunkedArray | None:
    assert spec.reference is not None
    m = spec.reference.columns
    for name in ((m.score, "score") if spec.task is Task.BINARY else ()) + (
            (m.prediction, "prediction"),):
        if name and name in table.column_names:
            return table.column(name)
    return None


def _inputs(spec: ModelSpec, table: pa.Table, what: str) -> tuple[pa.Table, dict[str, str]]:
    """The features (and the model's output as ``prediction``) of ``table``, with drift types."""
    missing = [f.name for f in spec.features if f.name not in table.column_names]
    if missing:
        raise ValidationError(f"the {what} data has no column(s) {missing[:5]}",
                              code="missing_feature", loc=(what, missing[0]))
    cols = {f.name: table.column(f.name) for f in spec.features}
    types = {f.name: "numeric" if f.type is FeatureType.NUMERIC else "categorical"
             for f in spec.features}
    out = _output(spec, table)
    if out is not None:
        cols[OUTPUT_FEATURE] = out
        types[OUTPUT_FEATURE] = "numeric" if (pa.types.is_floating(out.type) and (
            spec.task is Task.REGRESSION or spec.prediction.score)) else "categorical"
    return pa.table(cols), types


def _range_and_unseen(summary: Any, column: pa.ChunkedArray) -> tuple[float | None, float | None]:
    n = len(column)
    if n == 0:
        return None, None
    if isinstance(summary, NumericSummary):
        if summary.n == 0:
            return None, None
        values = pc.cast(column, pa.float64())
        outside = pc.or_(pc.less(values, summary.minimum), pc.greater(values, summary.maximum))
        return float(pc.sum(outside).as_py() or 0) / n, None
    if isinstance(summary, CategoricalSummary):
        known = pa.array([str(c) for c in summary.categories], pa.string())
        text = pc.cast(column, pa.string())
        new = pc.and_(text.is_valid(), pc.invert(pc.is_in(text, value_set=known)))
        return None, float(pc.sum(new).as_py() or 0) / n
    return None, None


def _values(summary: Any, column: pa.ChunkedArray) -> Any:
    if isinstance(summary, NumericSummary):
        return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False),
                          dtype=np.float64)
    return column


def _quality(spec: ModelSpec, reference: pa.Table, current: pa.Table,
             seed: int) -> tuple[dict[str, tuple[float, int]], dict[str, Any], int, dict[str, Any]]:
    """Current metrics, bands from reference chunks, chunks used, reference metrics."""
    assert spec.reference is not None
    if not spec.reference.columns.target and "target" not in reference.column_names:
        return {}, {}, 0, {}
    # the frames need the outputs and the target only (copying 25 feature columns into them
    # doubled the time of this step at 1,000,000 rows)
    bare = ModelSpec.model_validate({**spec.model_dump(), "features": [], "segments": []})
    ref = reference_frame(bare, reference)
    cur = reference_frame(current_spec(bare, current), current)
    if ref is None or cur is None or not ref.labelled.any():
        return {}, {}, 0, {}
    names = quality_metric_names(spec)
    # without labels in the current data, the bands are still fitted (for its estimates), on
    # chunks the size of the current data set
    judged = int(cur.labelled.sum()) or cur.n
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelmonWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        now = quality_metrics(cur, names) if cur.labelled.any() else {}
        labelled = np.flatnonzero(ref.labelled)
        # the reference's own value (shown beside the current one) from at most 250,000 of
        # its labelled rows: within about 0.001 of the whole, at a quarter of the sorting
        shown = labelled if labelled.size <= 250_000 else np.sort(
            np.random.default_rng(seed + 1).choice(labelled, 250_000, replace=False))
        before = quality_metrics(ref.subset(shown, features=False), names)
        size = min(judged, labelled.size // 4)
        k = min(MAX_CHUNKS, labelled.size // size) if size else 0
        chunks: dict[str, list[list[float]]] = {}
        if k >= 4:
            order = np.random.default_rng(seed).permutation(labelled)
            for i in range(k):
                values = quality_metrics(ref.subset(np.sort(order[i * size:(i + 1) * size]),
                                                    features=False), names)
                for metric, (v, n) in values.items():
                    chunks.setdefault(metric, []).append([float(v), float(n)])
    bands = chunk_bands(spec, chunks) if chunks else {}
    return now, bands, k, before


def _num(v: Any) -> float | None:
    return None if v is None or not isinstance(v, int | float) or not math.isfinite(v) else float(v)


def build_offline_report(
    reference: pa.Table, current: pa.Table, spec: ModelSpec, *, reference_name: str,
    current_name: str, now: datetime | None = None, seed: int = 0,
    step: Callable[[str], None] | None = None,
) -> OfflineReport:
    """Judge ``current`` against ``reference`` (see the module docstring). ``step`` is told each
    stage's name as it starts (the command line's progress bar)."""
    tell = step or (lambda _: None)
    when = now or datetime.now(UTC)
    tell("fitting the reference")
    ref_inputs, types = _inputs(spec, reference, "reference")
    cur_inputs, _ = _inputs(spec, current, "current")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelmonWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        fitted = Reference.fit(ref_inputs, feature_types=types)
        tell("comparing distributions")
        drift = fitted.compare(cur_inputs, tests=dict(spec.drift.tests) or None,
                               thresholds=dict(spec.drift.thresholds) or None,
                               correction=spec.drift.correction,
                               drift_share=spec.drift.drift_share)
    tell("data quality and distributions")
    optional = {f.name for f in spec.features if not f.required}
    features: list[FeatureFacts] = []
    quality_rows: list[dict[str, Any]] = []
    distributions: dict[str, Any] = {}
    for r in drift.features:
        summary = fitted[r.feature]
        column = cur_inputs.column(r.feature)
        oor, unseen = _range_and_unseen(summary, column)
        ftype = "prediction" if r.feature == OUTPUT_FEATURE else r.feature_type
        features.append(FeatureFacts(
            r.feature, ftype, r.test, r.statistic, r.threshold, r.drifted, r.n_current,
            r.p_value_adjusted if r.p_value_adjusted is not None else r.p_value,
            missing_share=_num(r.missing_share_current),
            missing_share_reference=_num(r.missing_share_reference),
            out_of_range_share=oor, unseen_share=unseen, optional=r.feature in optional))
        distributions[r.feature] = distribution_of_values(summary, _values(summary, column))
        if r.feature != OUTPUT_FEATURE:
            quality_rows.append({"feature": r.feature, "type": ftype,
                                 "missing_reference": _num(r.missing_share_reference),
                                 "missing_current": _num(r.missing_share_current),
                                 "out_of_range": oor, "unseen": unseen, "issues": []})
    tell("quality metrics")
    metrics, bands, chunks, before = _quality(spec, reference, current, seed)
    names = quality_metric_names(spec) if metrics or bands else []
    tell("estimating quality and multivariate drift")
    estimates = offline_estimates(spec, reference, current, seed=seed)
    multivariate, multivariate_bands = offline_multivariate(spec, reference, current, seed=seed)
    tell("judging")
    facts = WindowFacts(
        model=spec.name, task=spec.task, window="report", start=when, end=when,
        n=current.num_rows, metrics={**metrics, **estimates, **multivariate}, complete=True,
        quality=names, bands={**bands, **multivariate_bands},
        baseline_windows=chunks, baseline_needed=min(chunks, 4) if names else 0,
        features=features, drift_share_limit=spec.drift.drift_share,
        settings=judgement_settings(spec))
    verdict = judge_window(facts)
    issues: dict[str, list[str]] = {}
    for reason in verdict.reasons:  # the judgement's data-quality findings, by feature
        if reason.kind is ReasonKind.DATA_QUALITY and reason.feature:
            issue = str((reason.evidence or {}).get("issue", "data quality"))
            issues.setdefault(reason.feature, []).append(issue.replace("_", " "))
    for row in quality_rows:
        row["issues"] = issues.get(row["feature"], [])
    report = evaluation_report(spec, now=when, status=verdict.status, reasons=verdict.reasons,
                               facts=facts, verdict=verdict, reference_source=reference_name,
                               detector_events=[], versions=[])
    report["kind"] = "offline"
    report["window"]["size"] = None
    for row in report["metrics"]:
        row["reference_value"] = _num((before.get(row["metric"]) or (math.nan, 0))[0])
    report["inputs"] = {"reference": reference_name, "current": current_name,
                        "reference_rows": reference.num_rows, "current_rows": current.num_rows,
                        "features": len(spec.features), "task": str(spec.task),
                        "quality_chunks": chunks}
    report["data_quality"] = quality_rows
    report["distributions"] = distributions
    report["drift"]["dataset_drifted"] = bool(drift.drifted)
    return OfflineReport(report, verdict)


def offline_view(report: dict[str, Any]) -> dict[str, Any]:
    """The report view (:func:`modelmon.report.html.render_report`) of an offline report."""
    from modelmon.report.view import report_view

    inputs = report["inputs"]
    view = report_view(report, distributions=report["distributions"],
                       data_quality=report["data_quality"])
    view["title"] = f"{Path(inputs['current']).name} against {Path(inputs['reference']).name}"
    view["subtitle"] = (f"{inputs['current_rows']:,} current and {inputs['reference_rows']:,} "
                        f"reference rows · {inputs['features']} features · "
                        f"{inputs['task'].replace('_', ' ')}")
    view["summary"] = [("current rows", f"{inputs['current_rows']:,}"),
                       *view["summary"][1:]]
    return view

"""Success answers of the evaluation-result routes: overview, status, metric series, drift, data
quality, detector events, reports and version comparison."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from modelmon.service.responses import Fixed, Open
from modelmon.service.responses_models import ModelEventBody

NEXT = "Relative URL of the next page (null: last page)."
#: A judged number: infinite values are written "inf" / "-inf", NaN null.
Judged = float | str | None


class ReasonBody(Fixed):
    """One finding about one window."""

    kind: str
    severity: str
    message: str
    metric: str | None
    feature: str | None
    value: Judged
    threshold: Judged
    baseline: Judged
    evidence: dict[str, Any] = Field(description="Numbers behind the finding (sigmas, n ...).")


class AlertBrief(Fixed):
    fingerprint: str
    rule: str
    severity: str
    state: str
    silenced: bool
    started_at: str
    summary: str


class StatusBody(Fixed):
    model: str
    status: str = Field(description="healthy, warning, degraded or no_data")
    reasons: list[ReasonBody]
    report_id: str | None
    updated_at: str | None
    alerts: list[AlertBrief]


class HeadlinePoint(Fixed):
    value: float | None
    n: int | None
    start: str
    end: str


class OverviewModel(Fixed):
    model: str
    status: str
    reasons: list[ReasonBody]
    report_id: str | None
    updated_at: str | None
    task: str
    metrics: dict[str, dict[str, HeadlinePoint]] = Field(
        description="Window size -> headline metric -> its newest point.")
    alerts: list[AlertBrief]


class StatusCounts(Fixed):
    healthy: int
    warning: int
    degraded: int
    no_data: int


class FiringAlerts(Fixed):
    firing: int
    by_severity: dict[str, int]


class OverviewBody(Fixed):
    models: list[OverviewModel]
    counts: StatusCounts
    alerts: FiringAlerts
    next: str | None = Field(description=NEXT)


class VerdictBody(Fixed):
    window: str
    start: str
    end: str
    complete: bool
    n: int
    status: str
    reasons: list[ReasonBody]
    judged_at: str


class StatusHistoryBody(Fixed):
    model: str
    window: str
    counts: StatusCounts
    verdicts: list[VerdictBody]
    next: str | None = Field(description=NEXT)


class SeriesPoint(Fixed):
    start: str
    end: str
    value: float | None
    n: int | None


class Series(Fixed):
    metric: str
    version: str
    segment: str
    window: str
    points: list[SeriesPoint]


class MetricSeriesBody(Fixed):
    model: str
    window: str | None
    version: str
    segment: str
    step: str | None
    series: list[Series]
    next: str | None = Field(description=NEXT)


class LatestPoint(Fixed):
    metric: str
    window: str
    start: str
    end: str
    value: float | None
    n: int | None


class LatestMetricsBody(Fixed):
    model: str
    version: str
    segment: str
    points: list[LatestPoint]
    next: str | None = Field(description=NEXT)


class DriftFeature(Fixed):
    feature: str
    feature_type: str | None
    test: str | None
    statistic: float | None
    p_value: float | None
    threshold: float | None
    drifted: bool | None
    n_reference: int | None
    n_current: int | None


class DriftSummary(Fixed):
    features: int
    tested: int
    drifted: int
    drift_share: float | None
    drifted_features: list[str]
    prediction_drifted: bool | None


class DriftWindow(Fixed):
    window: str
    start: str
    end: str
    summary: DriftSummary
    features: list[DriftFeature]


class DriftBody(Fixed):
    model: str
    version: str
    segment: str
    windows: list[DriftWindow]
    next: str | None = Field(description=NEXT)


class QualityFinding(Fixed):
    window: str
    start: str
    end: str
    feature: str
    feature_type: str | None
    n_current: int | None
    missing_share: float | None
    out_of_range_share: float | None
    unseen_share: float | None
    issues: list[str] = Field(description="missing, out_of_range, unseen_categories")


class DataQualityBody(Fixed):
    model: str
    version: str
    segment: str
    windows_examined: int
    findings: list[QualityFinding]
    schema_changes: list[ModelEventBody]
    next: str | None = Field(description=NEXT)


class DetectorEvent(Fixed):
    event_id: int
    version: str
    detector: str
    kind: str
    event_time: str
    prediction_id: str | None
    position: int
    details: dict[str, Any]


class DetectorEventsBody(Fixed):
    model: str
    events: list[DetectorEvent]
    next: str | None = Field(description=NEXT)


class ReportHeader(Fixed):
    id: str
    created_at: str
    kind: str
    window_size: str | None
    window_start: str | None
    window_end: str | None
    status: str


class ReportsBody(Fixed):
    model: str
    reports: list[ReportHeader]
    next: str | None = Field(description=NEXT)


class ReportWindow(Fixed):
    size: str | None
    start: str | None
    end: str | None
    complete: bool | None
    n: int | None


class ReportBaseline(Fixed):
    windows: int
    needed: int


class ReportMetric(Open):
    """A judged metric against its baseline band (estimates without labels may follow)."""

    metric: str
    value: float | None
    n: int | None
    direction: str
    baseline_mean: float | None
    baseline_scale: str = Field(description="The band's scale: linear, log or logit.")
    baseline_std: float | None
    baseline_windows: int | None
    baseline_source: str | None
    relative_change: float | None
    sigmas: float | None
    finding: bool


class ReportDriftFeature(Fixed):
    feature: str
    test: str | None
    statistic: float | None
    threshold: float | None
    drifted: bool
    sigmas: float | None
    n: int | None


class ReportDrift(Fixed):
    share: float | None
    tested: int
    features: list[ReportDriftFeature]


class Contributor(Fixed):
    feature: str
    share: float | None


class ReportMultivariate(Fixed):
    metric: str
    value: float | None
    n: int | None
    baseline_mean: float | None
    baseline_std: float | None
    sigmas: float | None
    finding: bool
    contributors: list[Contributor]


class ReportBody(Open):
    """An evaluation report (reports of other kinds may hold more keys)."""

    id: str
    kind: str
    model: str
    created_at: str
    status: str
    reasons: list[ReasonBody]
    window: ReportWindow
    reference: str | None
    baseline: ReportBaseline
    metrics: list[ReportMetric]
    drift: ReportDrift
    multivariate: list[ReportMultivariate]
    detector_events: list[dict[str, Any]]
    versions: list[str]
    recommendations: list[str]


class VersionComparison(Fixed):
    metric: str
    direction: str
    windows: int
    a_mean: float | None
    b_mean: float | None
    difference: float | None
    relative_difference: float | None
    p_value: float | None
    significant: bool
    better: str | None
    verdict: str


class CompareBody(Fixed):
    model: str
    a: str
    b: str
    window: str
    segment: str
    alpha: float
    metrics: list[VersionComparison]
    without_shared_windows: list[str] = Field(description="Metrics asked for without a "
                                                          "window both versions served.")

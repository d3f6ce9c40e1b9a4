"""Evaluating a rule's condition: what it reads and the samples it produces.

A condition reads a :class:`ModelContext` (one model's newest complete window: its judgement
facts, verdict and reasons) or a :class:`ServiceContext` (the service's own health) and returns
:class:`Sample` objects: one per series it looks at (one per feature for ``feature: "*"``), each
active or not, with its value, the limit and a severity. Conditions read the judgement's facts
and reasons; none re-derives a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelmon._durations import parse_duration
from modelmon.alerts.rules import (
    AlertRule,
    ChangeCondition,
    DataQualityCondition,
    DetectorCondition,
    DriftCondition,
    DriftShareCondition,
    MetricCondition,
    NoDataCondition,
    ServiceCondition,
    StalenessCondition,
    VerdictCondition,
    compare,
)
from modelmon.degradation.directions import default_directions
from modelmon.judgement import Reason, WindowFacts
from modelmon.judgement.rules.drift import drift_share
from modelmon.vocabulary import OUTPUT_FEATURE, Direction, Health, Severity, Status

__all__ = ["ModelContext", "NotApplicable", "Sample", "ServiceContext", "evaluate_condition"]


class NotApplicable(ValueError):
    """A rule asks for something the model does not have (said in the rule's status)."""


@dataclass(frozen=True)
class Sample:
    """One series a condition looked at: extra labels, value, limit, severity, active or not."""

    labels: Mapping[str, str]
    value: float | None
    threshold: float | None
    active: bool
    severity: Severity | None = None
    n: int | None = None


@dataclass(frozen=True)
class ModelContext:
    """One model at one evaluation: its newest complete window of the status size.

    ``metric(name, window, version)`` reads the newest value of a metric for another window
    size or version than the facts hold (``(value, n)`` or None).
    """

    model: str
    labels: Mapping[str, str]
    at: datetime
    window: str | None
    status: Status
    facts: WindowFacts | None = None
    reasons: Sequence[Reason] = ()
    metric: Callable[[str, str, str], tuple[float, int] | None] | None = None
    last_prediction: datetime | None = None
    last_training: datetime | None = None


@dataclass(frozen=True)
class ServiceContext:
    """The service's own health: component statuses and resource use (ratios 0..1)."""

    at: datetime
    components: Mapping[str, str] = field(default_factory=dict)
    usage: Mapping[str, float] = field(default_factory=dict)


def _value(ctx: ModelContext, metric: str, window: str | None, version: str
           ) -> tuple[float, int] | None:
    if (window is None or window == ctx.window) and version == "*" and ctx.facts is not None:
        got = ctx.facts.metrics.get(metric)
        if got is not None:
            return (math.nan if got[0] is None else float(got[0])), int(got[1] or 0)
    if ctx.metric is not None:
        return ctx.metric(metric, window or (ctx.window or ""), version)
    return None


def _tiered(value: float, op: str, tiers: list[tuple[Severity, float]]
            ) -> tuple[bool, Severity | None, float | None]:
    """Whether ``value`` passes a tier (the most severe first), its severity and limit."""
    for severity, limit in tiers:
        if math.isfinite(value) and compare(value, op, limit):
            return True, severity, limit
    return False, None, tiers[-1][1] if tiers else None


def _metric(c: MetricCondition, rule: AlertRule, ctx: ModelContext) -> list[Sample]:
    got = _value(ctx, c.metric, c.window, c.version)
    labels = {"metric": c.metric}
    if c.version != "*":
        labels["version"] = c.version
    if got is None:
        return [Sample(labels, None, None, False)]
    value, n = got
    active, severity, limit = _tiered(value, c.op, c.tiers(rule.severity))
    return [Sample(labels, value, limit, active, severity, n)]


def _change(c: ChangeCondition, rule: AlertRule, ctx: ModelContext) -> list[Sample]:
    labels = {"metric": c.metric}
    facts = ctx.facts
    if facts is None or (c.window is not None and c.window != ctx.window):
        return [Sample(labels, None, None, False)]
    band = facts.bands.get(c.metric)
    got = facts.metrics.get(c.metric)
    if band is None or got is None or got[0] is None or not math.isfinite(got[0]):
        return [Sample(labels, None, None, False)]
    value, n = float(got[0]), int(got[1] or 0)
    direction = default_directions.get(c.metric).direction
    delta = value - band.center
    worse = {Direction.HIGHER: -delta, Direction.LOWER: delta}.get(direction, abs(delta))
    if c.relative:
        worse = worse / abs(band.center) if band.center else math.nan
    tiers = [(s, t) for s, t in ((Severity.CRITICAL, c.critical), (Severity.WARNING, c.warning))
             if t is not None]
    active, severity, limit = _tiered(worse, ">=", tiers)
    if active and c.min_sigmas > 0 and not band.sigmas(value, n, direction) >= c.min_sigmas:
        active, severity = False, None  # within the noise of a window this size
    return [Sample(labels, worse, limit, active, severity, n)]


def _features(ctx: ModelContext, feature: str) -> list[Any]:
    if ctx.facts is None:
        return []
    rows = list(ctx.facts.features)
    if feature == "*":
        return [x for x in rows if x.feature != OUTPUT_FEATURE]
    return [x for x in rows if x.feature == feature]


def _drift(c: DriftCondition, rule: AlertRule, ctx: ModelContext) -> list[Sample]:
    out = []
    rows = _features(ctx, c.feature)
    if c.test is not None:
        tested = [x for x in rows if x.test == c.test]
        if rows and not tested:
            raise NotApplicable(f"no feature of {ctx.model} is tested with {c.test!r} (set "
                                f"drift.tests for the features to watch)")
        rows = tested
    for x in rows:
        stat = x.statistic
        if c.op is not None and c.value is not None:
            active = stat is not None and math.isfinite(stat) and compare(stat, c.op, c.value)
            limit: float | None = c.value
        else:
            active, limit = bool(x.drifted), x.threshold
        out.append(Sample({"feature": x.feature}, stat, limit, active, None, x.n))
    return out


def _drift_share(c: DriftShareCondition, rule: AlertRule, ctx: ModelContext) -> list[Sample]:
    if ctx.facts is None:
        return [Sample({}, None, c.value, False)]
    share = drift_share(list(ctx.facts.features))
    active = math.isfinite(share) and compare(share, c.op, c.value)
    return [Sample({}, share if math.isfinite(share) else None, c.value, active)]


def _data_quality(c: DataQualityCondition, rule: AlertRule, ctx: ModelContext) -> list[Sample]:
    out = []
    for x in _features(ctx, c.feature):
        share = getattr(x, c.measure)
        active = share is not None and math.isfinite(share) and compare(share, c.op, c.value)
        out.append(Sample({"feature": x.feature, "measure": c.measure}, share, c.value, active,
                          None, x.n))
    return out


def _verdict(c: VerdictCondition, rule: AlertRule, ctx: ModelContext) -> list[Sample]:
    if ctx.status not in c.status:
        return [Sample({}, None, None, False)]
    reasons = [r for r in ctx.reasons if (c.reason is None or r.kind in c.reason)
               and (c.min_severity is None or r.severity.rank >= c.min_severity.rank)]
    if (c.reason is not None or c.min_severity is not None) and not reasons:
        return [Sample({}, None, None, False)]
    worst = max((r.severity for r in reasons), key=lambda s: s.rank, default=None)
    return [Sample({}, None, None, True, worst if worst is not None and worst.rank >= 1 else None)]


def _detector(c: DetectorCondition, rule: AlertRule, ctx: ModelContext) -> list[Sample]:
    events = [e for e in (ctx.facts.detector_events if ctx.facts else ()) if e.kind == c.signal]
    value = events[0].recent_error if events else None
    return [Sample({}, value, None, bool(events))]


def _no_data(c: NoDataCondition, rule: AlertRule, ctx: ModelContext) -> list[Sample]:
    if ctx.last_prediction is None:
        return [Sample({}, None, None, False)]
    quiet = (ctx.at - ctx.last_prediction).total_seconds()
    limit = parse_duration(c.for_).total_seconds()
    return [Sample({}, quiet, limit, quiet >= limit)]


def _staleness(c: StalenessCondition, rule: AlertRule, ctx: ModelContext) -> list[Sample]:
    limit = parse_duration(c.max_age).total_seconds()
    if ctx.last_training is None:
        return [Sample({}, None, limit, False)]
    age = (ctx.at - ctx.last_training).total_seconds()
    return [Sample({}, age, limit, age >= limit)]


def _service(c: ServiceCondition, rule: AlertRule, ctx: ServiceContext) -> list[Sample]:
    if c.check in ("store", "writer", "scheduler"):
        state = ctx.components.get(c.check)
        return [Sample({"component": c.check}, None, None,
                       state is not None and state == Health.UNHEALTHY)]
    value = ctx.usage.get(c.check)
    assert c.value is not None
    active = value is not None and math.isfinite(value) and compare(value, c.op, c.value)
    return [Sample({"resource": c.check}, value, c.value, active)]


_MODEL: dict[str, Callable[[Any, AlertRule, ModelContext], list[Sample]]] = {
    "metric": _metric, "change": _change, "drift": _drift, "drift_share": _drift_share,
    "data_quality": _data_quality, "verdict": _verdict, "detector": _detector,
    "no_data": _no_data, "training_staleness": _staleness,
}


def evaluate_condition(rule: AlertRule, ctx: ModelContext | ServiceContext) -> list[Sample]:
    """The samples of ``rule``'s condition in ``ctx`` (none when the condition does not apply
    to that kind of context)."""
    kind = rule.condition.kind
    if kind == "service":
        assert isinstance(rule.condition, ServiceCondition)
        return _service(rule.condition, rule, ctx) if isinstance(ctx, ServiceContext) else []
    if isinstance(ctx, ServiceContext):
        return []
    samples = _MODEL[kind](rule.condition, rule, ctx)
    if rule.min_samples:
        samples = [s if s.n is None or s.n >= rule.min_samples else
                   Sample(s.labels, s.value, s.threshold, False, s.severity, s.n)
                   for s in samples]
    return samples

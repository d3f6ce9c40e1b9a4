"""The same alert rules as a Prometheus rule file, over the series modelmon's ``/metrics``
exports, for teams that evaluate their rules in Prometheus.

One rule group per model; a tiered rule becomes one Prometheus rule per tier (the ``severity``
label differs; modelmon itself keeps one incident and escalates it). ``for`` as a number of evaluations becomes that many
windows of the model's status window size. Annotations are Prometheus templates
(``{{ $labels.model }}``, ``{{ $value }}``): the summary and the rule's description and runbook
link. Conditions with no series to evaluate in Prometheus (data-quality shares, training
staleness, the service's own health) are listed under ``not_exported`` with the reason. A
``change`` condition is exported as its tiers over ``modelmon_model_metric_baseline``, without
its ``min_sigmas`` noise check (``/metrics`` carries no band spread), so in Prometheus it fires
on small windows' noise that modelmon itself would not alert on.

:func:`rule_tests` writes a ``promtool test rules`` file: for each exported rule one series that
makes it fire and one that does not, so ``promtool test rules`` proves each expression selects
what it should.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from modelmon._durations import format_duration
from modelmon.alerts.engine import model_labels
from modelmon.alerts.rules import (
    AlertRule,
    ChangeCondition,
    DriftCondition,
    DriftShareCondition,
    MetricCondition,
    NoDataCondition,
    VerdictCondition,
)
from modelmon.config.models import ModelSpec
from modelmon.degradation.directions import default_directions
from modelmon.vocabulary import OUTPUT_FEATURE, Direction, Severity
from modelmon.windows import FixedWindows

__all__ = ["ExportedRule", "prometheus_rules", "rule_tests"]

_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


@dataclass
class ExportedRule:
    """One Prometheus rule, with what ``promtool test rules`` needs to exercise it."""

    model: str
    alert: str
    expr: str
    severity: Severity
    labels: dict[str, str]
    annotations: dict[str, str]
    for_: str | None = None
    keep_firing_for: str | None = None
    firing_series: list[tuple[str, float]] = field(default_factory=list)
    quiet_series: list[tuple[str, float]] = field(default_factory=list)
    alert_labels: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"alert": self.alert, "expr": self.expr}
        if self.for_:
            out["for"] = self.for_
        if self.keep_firing_for:
            out["keep_firing_for"] = self.keep_firing_for
        out["labels"] = {"severity": str(self.severity), **self.labels}
        out["annotations"] = self.annotations
        return out


def _q(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _sel(name: str, **labels: str) -> str:
    inner = ",".join(f'{k}="{_q(v)}"' for k, v in labels.items())
    return f"{name}{{{inner}}}"


def _num(value: float) -> str:
    return repr(float(value))


def _status_window(spec: ModelSpec) -> str:
    return spec.judgement.window or spec.window_schemes[0].name


def _duration(rule: AlertRule, spec: ModelSpec) -> str | None:
    if isinstance(rule.for_, str):
        return rule.for_ if rule.for_duration > timedelta(0) else None
    if rule.for_evaluations <= 1:
        return None
    scheme = next(s for s in spec.window_schemes if s.name == _status_window(spec))
    if isinstance(scheme, FixedWindows):
        return format_duration(scheme.size * (rule.for_evaluations - 1))
    return None


def _tiers(c: Any, default: Severity) -> list[tuple[Severity, float]]:
    return c.tiers(default) if hasattr(c, "tiers") else []


def _exprs(rule: AlertRule, spec: ModelSpec
           ) -> tuple[list[tuple[Severity, str, list[tuple[str, float]], list[tuple[str, float]],
                                 dict[str, str]]], str | None]:
    """``(severity, expr, firing series, quiet series, extra alert labels)`` per Prometheus rule,
    or the reason the rule cannot be exported."""
    c = rule.condition
    model = spec.name
    window = _status_window(spec)
    out: list[tuple[Severity, str, list[tuple[str, float]], list[tuple[str, float]],
                    dict[str, str]]] = []
    if isinstance(c, MetricCondition):
        labels = {"model": model, "version": c.version, "window": c.window or window,
                  "metric": c.metric}
        series = _sel("modelmon_model_metric", **labels)
        tiers = _tiers(c, rule.severity)
        for i, (severity, limit) in enumerate(tiers):
            expr = f"{series} {c.op} {_num(limit)}"
            step = 1.0 if c.op in ("<", "<=") else -1.0
            bad, good = limit - step, limit + step
            if i > 0:  # a lower tier holds only outside the tiers above it (one alert at a time)
                above = tiers[i - 1][1]
                expr = f"{expr} unless {series} {c.op} {_num(above)}"
                bad = (limit + above) / 2
            if c.op in ("==", "!="):
                bad, good = (limit, limit + 1) if c.op == "==" else (limit + 1, limit)
            out.append((severity, expr, [(series, bad)], [(series, good)], labels))
        return out, None
    if isinstance(c, ChangeCondition):
        if c.window is not None and c.window != window:
            return [], "a change on another window than the status window has no baseline series"
        direction = default_directions.get(c.metric).direction
        value = _sel("modelmon_model_metric", model=model, version="*", window=window,
                     metric=c.metric)
        base = _sel("modelmon_model_metric_baseline", model=model, window=window,
                    metric=c.metric)
        if direction is Direction.HIGHER:
            delta = f"({base} - ignoring(version) {value})"
        elif direction is Direction.LOWER:
            delta = f"({value} - ignoring(version) {base})"
        else:
            delta = f"abs({value} - ignoring(version) {base})"
        expr_of = (lambda lim: f"{delta} / {base} >= {_num(lim)}") if c.relative \
            else (lambda lim: f"{delta} >= {_num(lim)}")
        change_tiers = [(sev, float(t)) for sev, t in ((Severity.CRITICAL, c.critical),
                                                        (Severity.WARNING, c.warning))
                        if t is not None]
        sign = -1 if direction is Direction.HIGHER else 1
        for i, (severity, limit) in enumerate(change_tiers):
            expr = expr_of(limit)
            worse = 1.5 * limit
            if i > 0:
                above = change_tiers[i - 1][1]
                expr = f"({expr}) unless ({expr_of(above)})"
                worse = (limit + above) / 2
            # a baseline of 1: a value that much worse fires, the baseline itself does not
            out.append((severity, expr, [(value, 1 + sign * worse), (base, 1.0)],
                        [(value, 1.0), (base, 1.0)],
                        {"model": model, "window": window, "metric": c.metric}))
        return out, None
    if isinstance(c, DriftCondition):
        if c.feature == "*":
            match: dict[str, str] = {"model": model}
            selector = f'modelmon_feature_drifted{{model="{_q(model)}",feature!="{OUTPUT_FEATURE}"}}'
            test_feature = "amount"
        else:
            match = {"model": model, "feature": c.feature}
            selector = _sel("modelmon_feature_drifted", **match)
            test_feature = c.feature
        if c.op is not None and c.value is not None:
            return [], ("a limit on the drift statistic needs the test's name in the series "
                        "(modelmon_feature_drift_score{test=...}); use the drift verdict")
        series = _sel("modelmon_feature_drifted", model=model, feature=test_feature)
        out.append((rule.severity, f"{selector} == 1", [(series, 1.0)], [(series, 0.0)],
                    {"feature": test_feature}))
        return out, None
    if isinstance(c, DriftShareCondition):
        series = _sel("modelmon_model_drift_share_ratio", model=model)
        bad = c.value + 0.1 if c.op in (">", ">=") else c.value - 0.1
        good = c.value - 0.1 if c.op in (">", ">=") else c.value + 0.1
        out.append((rule.severity, f"{series} {c.op} {_num(c.value)}", [(series, bad)],
                    [(series, good)], {}))
        return out, None
    if isinstance(c, VerdictCondition):
        if c.reason is not None or c.min_severity is not None:
            return [], "reason kinds and severities are not in /metrics (only the status)"
        statuses = "|".join(str(s) for s in c.status)
        selector = f'modelmon_model_status{{model="{_q(model)}",status=~"{statuses}"}}'
        series = _sel("modelmon_model_status", model=model, status=str(c.status[0]))
        out.append((rule.severity, f"{selector} == 1", [(series, 1.0)], [(series, 0.0)],
                    {"status": str(c.status[0])}))
        return out, None
    if rule.condition.kind == "detector":
        signal = getattr(c, "signal", "drift")
        series = _sel("modelmon_detector_events_total", model=model, detector="adwin",
                      kind=signal)
        selector = f'modelmon_detector_events_total{{model="{_q(model)}",kind="{signal}"}}'
        # NaN stands for a counter that grows (see rule_tests)
        out.append((rule.severity, f"increase({selector}[15m]) > 0", [(series, math.nan)],
                    [(series, 0.0)], {"detector": "adwin", "kind": signal}))
        return out, None
    if isinstance(c, NoDataCondition):
        series = _sel("modelmon_model_last_prediction_timestamp_seconds", model=model)
        seconds = int(_parse(c.for_).total_seconds())
        out.append((rule.severity, f"time() - {series} > {seconds}", [(series, 0.0)], [], {}))
        return out, None
    return [], (f"{rule.condition.kind} conditions have no series in /metrics to evaluate "
                "them in Prometheus")


def _parse(text: str) -> timedelta:
    from modelmon._durations import parse_duration

    return parse_duration(text)


def prometheus_rules(specs: Iterable[ModelSpec],
                     rules_for: Any) -> tuple[dict[str, Any], list[dict[str, str]],
                                              list[ExportedRule]]:
    """A Prometheus rule file (as a dict, to dump as YAML), what could not be exported and why,
    and the exported rules (for :func:`rule_tests`). ``rules_for(spec)`` lists a model's
    rules (:meth:`modelmon.alerts.engine.AlertEngine.rules_for`)."""
    groups = []
    skipped = []
    exported: list[ExportedRule] = []
    for spec in specs:
        labels = {k: v for k, v in model_labels(spec).items() if k not in ("task",)}
        rules = []
        for rule, _source in rules_for(spec):
            parts, why = _exprs(rule, spec)
            if why is not None:
                skipped.append({"model": spec.name, "rule": rule.name, "reason": why})
                continue
            for severity, expr, firing, quiet, extra in parts:
                annotations = {"summary": f"{{{{ $labels.model }}}}: {rule.name}"}
                if rule.description:
                    annotations["description"] = rule.description
                if "runbook_url" in rule.annotations and "{{" not in rule.annotations["runbook_url"]:
                    annotations["runbook_url"] = rule.annotations["runbook_url"]
                ex = ExportedRule(spec.name, rule.name, expr, severity,
                                  {**{k: v for k, v in labels.items() if k != "model"},
                                   **rule.labels},
                                  annotations, _duration(rule, spec), rule.keep_firing_for,
                                  firing, quiet, extra)
                exported.append(ex)
                rules.append(ex.to_dict())
        if rules:
            groups.append({"name": f"modelmon-{spec.name}", "interval": "1m", "rules": rules})
    return {"groups": groups}, skipped, exported


def rule_tests(rule_file: str, exported: list[ExportedRule]) -> dict[str, Any]:
    """A ``promtool test rules`` file: for each exported rule, its firing series make it fire
    (after its ``for``) and its quiet series do not."""
    tests = []
    for ex in exported:
        if not ex.firing_series:
            continue
        wait = int(_parse(ex.for_).total_seconds() // 60) if ex.for_ else 0
        if "modelmon_model_last_prediction_timestamp_seconds" in ex.expr:  # time() must pass it
            wait += int(ex.expr.rsplit(">", 1)[1]) // 60
        steps = wait + 20

        def values(v: float, name: str, steps: int = steps) -> str:
            if math.isnan(v):  # a counter that grows: increase() > 0
                return f"0+1x{steps}"
            if name.startswith("modelmon_detector_events_total"):
                return f"0+0x{steps}"
            return f"{_num(v)}x{steps}"

        expected = {"severity": str(ex.severity), **ex.labels, "model": ex.model,
                    **ex.alert_labels}
        annotations = {k: v.replace("{{ $labels.model }}", ex.model)
                       for k, v in ex.annotations.items()}
        at = f"{wait + 10}m"
        tests.append({"interval": "1m",
                      "input_series": [{"series": s, "values": values(v, s)}
                                       for s, v in ex.firing_series],
                      "alert_rule_test": [{"eval_time": at, "alertname": ex.alert,
                                           "exp_alerts": [{"exp_labels": expected,
                                                           "exp_annotations": annotations}]}]})
        if ex.quiet_series:
            tests.append({"interval": "1m",
                          "input_series": [{"series": s, "values": values(v, s)}
                                           for s, v in ex.quiet_series],
                          "alert_rule_test": [{"eval_time": at, "alertname": ex.alert,
                                               "exp_alerts": []}]})
    return {"rule_files": [rule_file], "evaluation_interval": "1m", "tests": tests}

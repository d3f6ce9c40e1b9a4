"""The rules each preset brings, so a model alerts without any rule written.

| rule | condition | severity | presets |
|---|---|---|---|
| ``ModelDegraded`` | the newest complete window's verdict is ``degraded`` | the worst reason's (critical / high) | all |
| ``HighErrorRate`` | error rate above 5 % (basic 10 %, advanced 2 %) | critical | all |
| ``ModelSilent`` | no prediction for 30 minutes (basic 1 hour) | warning | all |
| ``ServiceUnhealthy`` | the store or the writer unhealthy | critical | all |
| ``LatencyP95High`` | p95 latency above 100 ms (warning) / 1 s (critical) | tiers | standard, advanced |
| ``AccuracyDrop`` | the headline metric 5 % (warning) / 10 % (critical) worse than baseline | tiers | standard, advanced |
| ``FeatureDrift`` | a feature drifted in two consecutive windows | warning | standard, advanced |
| ``PredictionDrift`` | the model output drifted | warning | standard, advanced |
| ``ConceptDrift`` | a streaming detector signalled drift on the error stream | warning | standard, advanced |
| ``ModelWarning`` | the verdict is ``warning`` in three consecutive windows | warning | advanced |
| ``MissingValues`` | a feature missing in more than 20 % of rows | warning | advanced |
| ``DiskAlmostFull`` | the store's disk more than 90 % full | high | all |

Thresholds in the table are the seed systems' (latency 100 ms / 1 s, accuracy -5 % / -10 %,
error rate 1-5 %); a deployment overrides any of them with its own rule of the same name under
``alerts.rules`` (a configured rule replaces the preset rule of that name).
"""

from __future__ import annotations

from functools import lru_cache

from modelmon.alerts.rules import AlertRule
from modelmon.config.models import ModelSpec, Preset
from modelmon.vocabulary import HEADLINE, Metric

__all__ = ["builtin_rules", "service_rules"]

_ERROR_RATE = {Preset.BASIC: 0.10, Preset.STANDARD: 0.05, Preset.ADVANCED: 0.02}
_SILENCE = {Preset.BASIC: "1h", Preset.STANDARD: "30m", Preset.ADVANCED: "30m"}


@lru_cache(maxsize=64)
def _rules(preset: Preset, headline: str) -> tuple[AlertRule, ...]:
    rules = [
        AlertRule.model_validate({
            "name": "ModelDegraded", "condition": {"kind": "verdict", "status": ["degraded"]},
            "severity": "high", "annotations": {
                "summary": "{{ model }} is degraded",
                "description": "{{ reason }}"}}),
        AlertRule.model_validate({
            "name": "HighErrorRate", "severity": "critical",
            "condition": {"kind": "metric", "metric": str(Metric.ERROR_RATE), "op": ">",
                          "value": _ERROR_RATE[preset]},
            "annotations": {"summary": "{{ model }}: {{ (value * 100) | round(1) }} % of "
                                       "predictions failed"}}),
        AlertRule.model_validate({
            "name": "ModelSilent", "condition": {"kind": "no_data", "for": _SILENCE[preset]},
            "annotations": {"summary": "{{ model }} sent no prediction for "
                                       "{{ (value / 60) | round | int }} minutes"}}),
    ]
    if preset is not Preset.BASIC:
        rules += [
            AlertRule.model_validate({
                "name": "LatencyP95High",
                "condition": {"kind": "metric", "metric": str(Metric.LATENCY_P95), "op": ">",
                              "warning": 0.1, "critical": 1.0},
                "annotations": {"summary": "{{ model }}: p95 latency "
                                           "{{ (value * 1000) | round | int }} ms (limit "
                                           "{{ (threshold * 1000) | round | int }} ms)"}}),
            AlertRule.model_validate({
                "name": "AccuracyDrop",
                "condition": {"kind": "change", "metric": headline, "warning": 0.05,
                              "critical": 0.10},
                "annotations": {"summary": "{{ model }}: " + headline + " "
                                           "{{ (value * 100) | round(1) }} % worse than its "
                                           "baseline"}}),
            AlertRule.model_validate({
                "name": "FeatureDrift", "for": 2,
                "condition": {"kind": "drift", "feature": "*"},
                "annotations": {"summary": "{{ model }}: feature {{ labels.feature }} drifted"}}),
            AlertRule.model_validate({
                "name": "PredictionDrift",
                "condition": {"kind": "drift", "feature": "prediction"},
                "annotations": {"summary": "{{ model }}: the model's output drifted"}}),
            AlertRule.model_validate({
                "name": "ConceptDrift", "condition": {"kind": "detector", "signal": "drift"},
                "annotations": {"summary": "{{ model }}: the error stream changed (concept "
                                           "drift)"}}),
        ]
    if preset is Preset.ADVANCED:
        rules += [
            AlertRule.model_validate({
                "name": "ModelWarning", "for": 3,
                "condition": {"kind": "verdict", "status": ["warning"]},
                "annotations": {"summary": "{{ model }} has been in warning for three windows",
                                "description": "{{ reason }}"}}),
            AlertRule.model_validate({
                "name": "MissingValues",
                "condition": {"kind": "data_quality", "measure": "missing_share",
                              "feature": "*", "op": ">", "value": 0.2},
                "annotations": {"summary": "{{ model }}: {{ labels.feature }} missing in "
                                           "{{ (value * 100) | round | int }} % of rows"}}),
        ]
    return tuple(rules)


def builtin_rules(spec: ModelSpec) -> list[AlertRule]:
    """The preset's rules for a model."""
    return list(_rules(spec.preset, HEADLINE[spec.task]))


@lru_cache(maxsize=1)
def service_rules() -> tuple[AlertRule, ...]:
    """Rules about the service itself (store, writer, disk, bursts of refused keys)."""
    return (
        AlertRule.model_validate({
            "name": "ServiceUnhealthy", "severity": "critical",
            "condition": {"kind": "service", "check": "store"},
            "annotations": {"summary": "the store does not answer or its commits fail"}}),
        AlertRule.model_validate({
            "name": "WriterStopped", "severity": "critical",
            "condition": {"kind": "service", "check": "writer"},
            "annotations": {"summary": "the ingest writer is not running"}}),
        AlertRule.model_validate({
            "name": "DiskAlmostFull", "severity": "high",
            "condition": {"kind": "service", "check": "disk", "op": ">", "value": 0.9},
            "annotations": {"summary": "the store's disk is {{ (value * 100) | round | int }} % "
                                       "full"}}),
        AlertRule.model_validate({
            "name": "AuthFailureBurst", "severity": "warning",
            "condition": {"kind": "service", "check": "auth_failures", "op": ">", "value": 50},
            "annotations": {"summary": "{{ value | int }} refused authentications in 5 minutes "
                                       "(someone guessing keys, or a client with a revoked key)",
                            "description": "modelmon_auth_failures_total by reason tells which; "
                                           "addresses past server.auth_failures.limit get 429"}}),
    )

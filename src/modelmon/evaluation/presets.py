"""What each monitoring preset evaluates: quality metrics per task, and how strictly it judges.

``basic`` watches the headline metrics; ``standard`` adds the usual diagnostic ones; ``advanced``
adds every applicable metric. A model's ``metrics:`` list overrides the preset's choice.
"""

from __future__ import annotations

from modelmon.config.models import ModelSpec, Preset, Task
from modelmon.judgement import JudgementSettings, Limit
from modelmon.vocabulary import Severity

__all__ = ["judgement_settings", "quality_metric_names"]

_BINARY = {
    Preset.BASIC: ["accuracy", "f1", "roc_auc"],
    Preset.STANDARD: ["accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc",
                      "average_precision", "log_loss", "brier", "positive_rate"],
    Preset.ADVANCED: ["accuracy", "balanced_accuracy", "precision", "recall", "f1", "specificity",
                      "false_positive_rate", "matthews_corrcoef", "roc_auc", "average_precision",
                      "log_loss", "brier", "expected_calibration_error", "positive_rate"],
}
_MULTICLASS = {
    Preset.BASIC: ["accuracy", "f1"],
    Preset.STANDARD: ["accuracy", "balanced_accuracy", "precision", "recall", "f1", "log_loss",
                      "roc_auc"],
    Preset.ADVANCED: ["accuracy", "balanced_accuracy", "precision", "recall", "f1",
                      "matthews_corrcoef", "log_loss", "roc_auc", "brier",
                      "expected_calibration_error"],
}
_REGRESSION = {
    Preset.BASIC: ["mae", "rmse", "r2"],
    Preset.STANDARD: ["mae", "rmse", "mse", "r2", "mape", "mean_error", "median_ae"],
    Preset.ADVANCED: ["mae", "rmse", "mse", "r2", "mape", "smape", "mean_error", "median_ae",
                      "max_error", "residual_std", "residual_skewness", "residual_kurtosis"],
}

def quality_metric_names(spec: ModelSpec) -> list[str]:
    """Quality metrics evaluated for ``spec`` (its own list, else the preset's)."""
    if spec.metrics is not None:
        return list(spec.metrics)
    table = {Task.BINARY: _BINARY, Task.MULTICLASS: _MULTICLASS, Task.REGRESSION: _REGRESSION}
    names = list(table[spec.task][spec.preset])
    if spec.task is Task.BINARY and not spec.prediction.score:
        names = [n for n in names if n not in _SCORE_METRICS]
    if spec.task is Task.MULTICLASS and not spec.prediction.probabilities:
        names = [n for n in names if n not in _SCORE_METRICS]
    return names


_SCORE_METRICS = {"roc_auc", "average_precision", "log_loss", "brier", "expected_calibration_error"}


#: Judgement defaults per preset: (quality_alpha, drift_alpha, min_relative_change, error_rate,
#: missing_share). ``basic`` pages least (a false degraded window in about 1,000), ``advanced``
#: finds small changes soonest (and flags a stable window more often).
_STRICTNESS = {
    Preset.BASIC: (0.001, 0.001, 0.05, 0.10, 0.3),
    Preset.STANDARD: (0.01, 0.01, 0.02, 0.05, 0.2),
    Preset.ADVANCED: (0.05, 0.05, 0.0, 0.02, 0.1),
}


def judgement_settings(spec: ModelSpec) -> JudgementSettings:
    """The model's judgement settings: its ``judgement`` section over its preset's defaults."""
    j = spec.judgement
    q, d, change, errors, missing = _STRICTNESS[spec.preset]
    limits = tuple(Limit(metric, lim.min, lim.max, Severity(lim.severity))
                   for metric, lim in sorted(j.limits.items()))
    return JudgementSettings(
        quality_alpha=j.quality_alpha if j.quality_alpha is not None else q,
        drift_alpha=j.drift_alpha if j.drift_alpha is not None else d,
        min_relative_change=(j.min_relative_change if j.min_relative_change is not None
                             else change),
        min_change=dict(j.min_change), strong_sigmas=j.strong_sigmas,
        min_labelled=j.min_labelled,
        error_rate=j.error_rate if j.error_rate is not None else errors,
        missing_share=j.missing_share if j.missing_share is not None else missing,
        limits=limits,
    )

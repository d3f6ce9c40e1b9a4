"""What each monitoring preset evaluates: quality metrics per task, thresholds for status.

``basic`` watches the headline metrics; ``standard`` adds the usual diagnostic ones; ``advanced``
adds every applicable metric. A model's ``metrics:`` list overrides the preset's choice.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelmon.config.models import ModelSpec, Preset, Task

__all__ = ["HEADLINE", "Thresholds", "quality_metric_names", "thresholds_for"]

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

#: The metric a status line leads with, per task.
HEADLINE = {Task.BINARY: "accuracy", Task.MULTICLASS: "accuracy", Task.REGRESSION: "mae"}


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


@dataclass(frozen=True)
class Thresholds:
    """When a finding changes a model's status.

    ``degradation_alpha``: significance of the degradation ensemble. ``min_relative_change``:
    smaller relative changes are never called degraded (practical significance).
    ``error_rate``: share of failed predictions that makes a model degraded.
    ``missing_share``: share of missing values in a feature that makes a warning.
    ``baseline_windows`` / ``current_windows``: how many windows of the status window size form
    the baseline (when no baseline period is configured) and the current period.
    """

    degradation_alpha: float = 0.01
    min_relative_change: float = 0.05
    error_rate: float = 0.05
    missing_share: float = 0.2
    baseline_windows: int = 12
    current_windows: int = 3
    min_labelled: int = 30


def thresholds_for(spec: ModelSpec) -> Thresholds:
    """Status thresholds of the model's preset (``advanced`` is more sensitive)."""
    if spec.preset is Preset.ADVANCED:
        return Thresholds(degradation_alpha=0.05, min_relative_change=0.02, error_rate=0.02,
                          missing_share=0.1)
    if spec.preset is Preset.BASIC:
        return Thresholds(min_relative_change=0.1, error_rate=0.1)
    return Thresholds()

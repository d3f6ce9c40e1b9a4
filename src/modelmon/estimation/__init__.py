"""Quality without labels: estimate a model's metrics before (or without) ground truth.

Fit once on a reference with labels, then estimate any number of windows::

    from modelmon.estimation import ConfidenceBasedEstimator, DirectLossEstimator
    cbpe = ConfidenceBasedEstimator().fit(y_true_ref, score_ref)        # classifiers
    est = cbpe.estimate(score_window)                                   # no labels needed
    est["accuracy"].value, est["accuracy"].sampling_error
    state = cbpe.to_dict()                                              # JSON, no pickle

    dle = DirectLossEstimator().fit(features_ref, y_pred_ref, y_true_ref)   # regression
    dle.estimate(features_window, y_pred_window)["mae"]

- :class:`ConfidenceBasedEstimator` (CBPE): the expected confusion matrix from calibrated
  scores (isotonic calibration when it helps): accuracy, precision, recall, specificity, F1,
  ROC AUC, average precision, binary and multiclass;
- :class:`DirectLossEstimator` (DLE): a gradient-boosted model of each row's loss: MAE, MSE,
  RMSE, MAPE (LightGBM grows its trees, imported only then).

Every estimate carries a standard error: how far the realized metric of the same rows is
expected to lie from the estimate by chance alone (sampling, and the reference's own
uncertainty). The assumptions, and when the estimate
cannot be trusted, are in ``docs/estimation.md``. NumPy and SciPy only, except the DLE's loss
models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelmon.estimation._calibration import IsotonicCalibrator, needs_calibration
from modelmon.estimation._expected import BINARY_METRICS
from modelmon.estimation.cbpe import ConfidenceBasedEstimator
from modelmon.estimation.dle import REGRESSION_METRICS, DirectLossEstimator
from modelmon.estimation.result import EstimatedMetric, PerformanceEstimate
from modelmon.exceptions import ValidationError

__all__ = [
    "CBPE",
    "CLASSIFICATION_METRICS",
    "DLE",
    "REGRESSION_METRICS",
    "ConfidenceBasedEstimator",
    "DirectLossEstimator",
    "EstimatedMetric",
    "IsotonicCalibrator",
    "PerformanceEstimate",
    "estimator_from_dict",
    "needs_calibration",
]

#: NannyML's names for the two estimators.
CBPE = ConfidenceBasedEstimator
DLE = DirectLossEstimator
#: Metrics a confidence-based estimate gives.
CLASSIFICATION_METRICS = BINARY_METRICS


def estimator_from_dict(data: Mapping[str, Any]) -> ConfidenceBasedEstimator | DirectLossEstimator:
    """Rebuild either estimator from its ``to_dict()``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> s = rng.random(2000)
    >>> fitted = CBPE(metrics=["accuracy"]).fit((rng.random(2000) < s).astype(int), s)
    >>> type(estimator_from_dict(fitted.to_dict())).__name__
    'ConfidenceBasedEstimator'
    """
    fmt = str(data.get("format", ""))
    if fmt.startswith("modelmon.ConfidenceBasedEstimator/"):
        return ConfidenceBasedEstimator.from_dict(data)
    if fmt.startswith("modelmon.DirectLossEstimator/"):
        return DirectLossEstimator.from_dict(data)
    raise ValidationError(f"Not a stored performance estimator (format {fmt!r}).")

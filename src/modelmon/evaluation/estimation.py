"""Quality without labels in the service: the reference's estimator and each window's estimates.

When the reference holds the true outcome (a reference file with a ``target`` column, or a
baseline period with actuals), :func:`fit_estimator` fits the model's estimator on its labelled
rows, once per reference: confidence-based estimation for classifiers that send a score
(binary) or class probabilities (multiclass), direct loss estimation for regression
(:mod:`modelmon.estimation`). Its JSON state is stored with the :class:`ReferenceProfile`.

Every window then gets, whether it has labels or not (:func:`window_estimates`):

- ``estimated_<metric>`` and its standard error ``estimated_<metric>_standard_error`` (sampling
  and the reference's own uncertainty), for
  each of the model's quality metrics that can be estimated (``ESTIMATED`` in the vocabulary);
- once some rows are labelled, ``estimation_gap_<metric>``: the realized metric minus the
  estimate *on the same labelled rows*, with its standard error. Without concept drift the gap
  stays within a few standard errors of 0; a gap beyond that means the scores (or the inputs)
  no longer mean what they meant in the reference, which estimation alone cannot see.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from modelmon.estimation import (
    ConfidenceBasedEstimator,
    DirectLossEstimator,
    PerformanceEstimate,
    estimator_from_dict,
)
from modelmon.evaluation.frame import EvalFrame
from modelmon.evaluation.presets import quality_metric_names
from modelmon.evaluation.quality import quality_metrics
from modelmon.exceptions import ModelmonError, ModelmonWarning
from modelmon.vocabulary import (
    ESTIMATED,
    Task,
    estimated_metric,
    estimation_gap_metric,
    standard_error_metric,
)

__all__ = ["MIN_ESTIMATOR_ROWS", "estimated_names", "fit_estimator", "load_estimator",
           "window_estimates"]

log = logging.getLogger("modelmon.evaluation")

#: Fewest labelled reference rows an estimator is fitted on.
MIN_ESTIMATOR_ROWS = 200

Estimator = ConfidenceBasedEstimator | DirectLossEstimator


def estimated_names(frame_or_spec: Any) -> list[str]:
    """The model's quality metrics that are estimated without labels."""
    spec = getattr(frame_or_spec, "spec", frame_or_spec)
    names = quality_metric_names(spec)
    return [m for m in ESTIMATED[spec.task] if m in names]


def _usable(frame: EvalFrame) -> np.ndarray | None:
    """Rows an estimate can read (a successful prediction with its score or probabilities), or
    None when the model sends nothing to estimate from."""
    task = frame.spec.task
    ok = ~frame.is_error
    if task is Task.REGRESSION:
        return ok & np.isfinite(frame.y_pred)
    ok &= frame.y_pred >= 0
    if task is Task.BINARY:
        return None if frame.score is None else ok & np.isfinite(frame.score)
    if frame.proba is None or frame.proba.shape[1] != len(frame.classes):
        return None
    return ok & np.isfinite(frame.proba).all(axis=1)


def _feature_types(frame: EvalFrame) -> dict[str, str]:
    return {f.name: ("numeric" if f.type.value == "numeric" else "categorical")
            for f in frame.spec.features}


def fit_estimator(frame: EvalFrame) -> dict[str, Any] | None:
    """The JSON state of an estimator fitted on ``frame``'s labelled rows, or None (nothing to
    estimate, fewer than :data:`MIN_ESTIMATOR_ROWS` labelled rows, or a fit that failed)."""
    names = estimated_names(frame)
    usable = _usable(frame)
    if not names or usable is None:
        return None
    rows = usable & frame.labelled
    if int(rows.sum()) < MIN_ESTIMATOR_ROWS:
        return None
    ref = frame.subset(rows)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ModelmonWarning)
            estimator: Estimator
            if frame.spec.task is Task.REGRESSION:
                estimator = DirectLossEstimator(names, feature_types=_feature_types(frame))
                estimator.fit(ref.features, ref.y_pred, ref.y_true)
            elif frame.spec.task is Task.BINARY:
                assert ref.score is not None
                pos = frame.positive_index
                estimator = ConfidenceBasedEstimator(
                    names, threshold=frame.spec.prediction.threshold)
                estimator.fit((ref.y_true == pos).astype(np.intp), ref.score,
                              (ref.y_pred == pos).astype(np.intp))
            else:
                assert ref.proba is not None
                estimator = ConfidenceBasedEstimator(names).fit(ref.y_true, ref.proba, ref.y_pred)
    except (ModelmonError, ValueError) as exc:
        log.warning("no performance estimator for %s: %s", frame.spec.name, exc)
        return None
    return estimator.to_dict()


def load_estimator(state: Mapping[str, Any] | None) -> Estimator | None:
    """The estimator of a stored state (None when there is none or it cannot be read)."""
    if not state:
        return None
    try:
        return estimator_from_dict(state)
    except (ModelmonError, ValueError, KeyError) as exc:
        log.warning("stored performance estimator unreadable: %s", exc)
        return None


def _estimate(estimator: Estimator, frame: EvalFrame) -> PerformanceEstimate:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelmonWarning)
        if isinstance(estimator, DirectLossEstimator):
            return estimator.estimate(frame.features, frame.y_pred)
        if frame.spec.task is Task.BINARY:
            assert frame.score is not None
            pos = frame.positive_index
            return estimator.estimate(frame.score, (frame.y_pred == pos).astype(np.intp))
        assert frame.proba is not None
        return estimator.estimate(frame.proba, frame.y_pred)


def window_estimates(frame: EvalFrame, estimator: Estimator | None,
                     realized: Mapping[str, tuple[float, int]]) -> dict[str, tuple[float, int]]:
    """The window's estimated metrics, their sampling errors and, on its labelled rows, the
    gaps between realized and estimated values (see the module docstring). ``realized``: the
    window's quality metrics over its labelled rows."""
    usable = _usable(frame) if estimator is not None else None
    if estimator is None or usable is None or not usable.any():
        return {}
    whole = usable.all()
    rows = frame if whole else frame.subset(usable)
    est = _estimate(estimator, rows)
    out: dict[str, tuple[float, int]] = {}
    for m in est:
        name = estimated_metric(m.metric)
        out[name] = (m.value, m.n)
        out[standard_error_metric(name)] = (m.standard_error, m.n)
    labelled = usable & frame.labelled
    n_lab = int(labelled.sum())
    if n_lab == 0:
        return out
    same = bool((labelled == frame.labelled).all())
    if labelled.all():
        on_labels, truth = est, realized
    else:
        sub = frame.subset(labelled)
        on_labels = _estimate(estimator, sub)
        truth = realized if same else quality_metrics(sub, [m.metric for m in est])
    for m in on_labels:
        value, n = truth.get(m.metric, (math.nan, 0))
        if not n or value is None or not math.isfinite(value) or not math.isfinite(m.value):
            continue
        name = estimation_gap_metric(m.metric)
        out[name] = (float(value) - m.value, n_lab)
        out[standard_error_metric(name)] = (m.standard_error, n_lab)
    return out


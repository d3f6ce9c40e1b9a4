"""Quality metrics of a window slice, dispatched through the metric registry.

Binary models are scored with the positive class as 1 and its probability as the score;
multiclass with class indices, macro averages and the probability matrix. Ill-defined values
(one class present, no positive predictions ...) are NaN, not errors: the window still counts.
"""

from __future__ import annotations

import functools
import inspect
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from modelmon.config.models import Task
from modelmon.evaluation.frame import EvalFrame
from modelmon.exceptions import ModelmonWarning, NotFoundError, ValidationError
from modelmon.metrics import binary_classification_report
from modelmon.metrics.registry import get_metric

__all__ = ["call_metric", "quality_metrics"]


@functools.cache
def _accepts(func: Callable[..., Any]) -> frozenset[str]:
    return frozenset(inspect.signature(func).parameters)


def call_metric(func: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """Call a metric with the keyword arguments it accepts; an ill-defined value is NaN."""
    ok = _accepts(func)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelmonWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            value = func(*args, **{k: v for k, v in kwargs.items() if k in ok})
        except (ValidationError, ValueError, ZeroDivisionError):
            return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


#: Report fields by metric name (the one-pass binary report shares one sort across all of them).
_REPORT_FIELDS = {
    "accuracy": "accuracy", "balanced_accuracy": "balanced_accuracy", "precision": "precision",
    "recall": "recall", "f1": "f1", "specificity": "specificity",
    "false_positive_rate": "false_positive_rate", "matthews_corrcoef": "matthews_corrcoef",
    "positive_rate": "positive_rate", "roc_auc": "roc_auc",
    "average_precision": "average_precision", "log_loss": "log_loss", "brier": "brier_score",
}


def _binary_report(lab: EvalFrame, names: list[str]) -> dict[str, tuple[float, int]]:
    """Metrics from :func:`binary_classification_report` when labels follow the score threshold
    (the usual case); empty otherwise, and the caller computes metric by metric."""
    if lab.score is None or not np.isfinite(lab.score).all():
        return {}
    pos = lab.positive_index
    yp = lab.y_pred == pos
    if not np.array_equal(yp, lab.score >= lab.spec.prediction.threshold):
        return {}
    yt = (lab.y_true == pos).astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelmonWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            report = binary_classification_report(yt, lab.score, pos_label=1, zero_division=np.nan,
                                                  threshold=lab.spec.prediction.threshold)
        except (ValidationError, ValueError):
            return {}
    return {name: (float(getattr(report, _REPORT_FIELDS[name])), lab.n)
            for name in names if name in _REPORT_FIELDS}


def quality_metrics(frame: EvalFrame, names: list[str]) -> dict[str, tuple[float, int]]:
    """``{metric: (value, labelled rows used)}`` for the labelled rows of ``frame``."""
    lab = frame.subset(frame.labelled, features=False) if not frame.labelled.all() else frame
    n = lab.n
    out: dict[str, tuple[float, int]] = {}
    if n == 0:
        return {name: (math.nan, 0) for name in names}
    task = frame.spec.task
    k = len(frame.classes)
    if task is Task.BINARY:
        out.update(_binary_report(lab, names))
    for name in names:
        if name in out:
            continue
        try:
            info = get_metric(name)
        except NotFoundError:
            continue
        f = info.func
        if task is Task.REGRESSION:
            value = call_metric(f, lab.y_true, lab.y_pred)
        elif task is Task.BINARY:
            pos = frame.positive_index
            yt = (lab.y_true == pos).astype(np.int64)
            if info.input == "score":
                if lab.score is None or not np.isfinite(lab.score).all():
                    continue
                value = call_metric(f, yt, lab.score, pos_label=1)
            else:
                yp = (lab.y_pred == pos).astype(np.int64)
                value = call_metric(f, yt, yp, pos_label=1, average="binary", zero_division=np.nan)
        else:
            if info.input == "score":
                if lab.proba is None or not np.isfinite(lab.proba).all():
                    continue
                value = call_metric(f, lab.y_true, lab.proba, labels=np.arange(k), average="macro",
                              multi_class="ovr")
            else:
                value = call_metric(f, lab.y_true, lab.y_pred, labels=np.arange(k), average="macro",
                              zero_division=np.nan)
        out[name] = (value, n)
    return out

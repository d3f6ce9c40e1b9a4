"""Fairness of a classification model across the values of one segment column.

Binary models get demographic parity (difference and ratio of positive-prediction rates),
equal opportunity (true-positive-rate gap) and equalised odds (largest of the TPR and FPR gaps),
as defined by fairlearn; every classifier gets its worst group's accuracy.
"""

from __future__ import annotations

import numpy as np

from modelmon.config.models import Task
from modelmon.evaluation.frame import EvalFrame
from modelmon.evaluation.quality import call_metric
from modelmon.metrics import (
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    worst_group_metric,
)
from modelmon.vocabulary import Metric

__all__ = ["fairness_metrics"]


def fairness_metrics(frame: EvalFrame, segment: str, min_group: int = 10) -> dict[str, tuple[float, int]]:
    """``{metric: (value, rows)}`` across the groups of ``segment`` (groups under ``min_group``
    labelled rows are left out: a rate over three rows says nothing)."""
    lab = frame.subset(frame.labelled, features=False)
    if lab.n == 0:
        return {}
    codes = lab.segments[segment]
    counts = np.bincount(codes, minlength=len(frame.segment_labels[segment]))
    big = np.flatnonzero(counts >= min_group)
    if len(big) < 2:
        return {}
    keep = np.isin(codes, big)
    groups = codes
    groups = groups[keep]
    yt, yp = lab.y_true[keep], lab.y_pred[keep]
    n = int(keep.sum())
    out: dict[str, tuple[float, int]] = {
        Metric.WORST_GROUP_ACCURACY: (call_metric(worst_group_metric, "accuracy", yt, yp, groups), n),
    }
    if frame.spec.task is Task.BINARY:
        pos = frame.positive_index
        t01, p01 = (yt == pos).astype(int), (yp == pos).astype(int)
        out["demographic_parity_difference"] = (
            call_metric(demographic_parity_difference, t01, p01, groups=groups), n)
        out["demographic_parity_ratio"] = (
            call_metric(demographic_parity_ratio, t01, p01, groups=groups), n)
        out["equal_opportunity_difference"] = (
            call_metric(equal_opportunity_difference, t01, p01, groups=groups), n)
        out["equalized_odds_difference"] = (
            call_metric(equalized_odds_difference, t01, p01, groups=groups), n)
    return out

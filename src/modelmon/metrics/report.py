"""All binary-classification metrics of a window in one pass over the data.

The evaluation of a binary model needs a dozen metrics from the same ``(y_true, y_score)``;
computing each separately (as one would with scikit-learn) validates, binarises and sorts the
same arrays again and again. :func:`binary_classification_report` splits the scores by class
once, sorts each part once (see :mod:`modelmon.metrics.ranking`), and reads everything from the
two sorted arrays:

* confusion counts at the threshold: one :func:`numpy.searchsorted` per class;
* ROC AUC and average precision: the distinct positive scores against the sorted negatives;
* log loss and Brier score: one vectorised pass over each part.

The label metrics then come from the 2x2 confusion matrix through the same code as
:func:`~modelmon.metrics.precision_score` and friends, so the report agrees with the individual
functions (and with scikit-learn) to rounding.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._results import Result
from modelmon._validation import check_consistent_length, check_real, check_sample_weight
from modelmon.exceptions import UndefinedMetricWarning, ValidationError
from modelmon.metrics._checks import (
    binary_positive_mask,
    check_labels,
    check_probabilities,
    check_zero_division,
)
from modelmon.metrics._confusion import (
    accuracy_from_confusion,
    balanced_accuracy_from_confusion,
    mcc_from_confusion,
    rate_from_confusion,
)
from modelmon.metrics._sorted_scores import SortedScores, auc_ap_from_sorted, sort_scores

__all__ = ["BinaryClassificationReport", "binary_classification_report"]

_EPS = float(np.finfo(np.float64).eps)
_LABELS01 = np.array([0, 1])


@dataclass(frozen=True)
class BinaryClassificationReport(Result):
    """Every binary-classification metric of one set of scores at one threshold.

    Counts are weights when sample weights are given. Metrics that are undefined for the data
    (e.g. ROC AUC with one class) are NaN, and were warned about when the report was made.

    Attributes
    ----------
    n_samples : int
        Number of rows.
    total_weight : float
        Sum of sample weights (``n_samples`` without weights).
    threshold : float
        Scores ``>= threshold`` are predicted positive.
    positives, negatives : float
        (Weighted) count of true positives and negatives in ``y_true``.
    tp, fp, tn, fn : float
        Confusion counts at the threshold.
    accuracy, balanced_accuracy, precision, recall, f1, specificity, false_positive_rate,
    matthews_corrcoef : float
        Label metrics of the thresholded predictions.
    positive_rate : float
        Share of positive predictions.
    prevalence : float
        Share of positives in ``y_true``.
    roc_auc, average_precision : float
        Ranking metrics of the scores.
    log_loss, brier_score : float
        Probabilistic metrics of the scores.

    Examples
    --------
    >>> r = binary_classification_report([0, 1, 1], [0.2, 0.9, 0.4])
    >>> r.tp, r.fn, r.recall
    (1.0, 1.0, 0.5)
    >>> sorted(r.to_dict())[:3]
    ['accuracy', 'average_precision', 'balanced_accuracy']
    """

    n_samples: int
    total_weight: float
    threshold: float
    positives: float
    negatives: float
    tp: float
    fp: float
    tn: float
    fn: float
    accuracy: float
    balanced_accuracy: float
    precision: float
    recall: float
    f1: float
    specificity: float
    false_positive_rate: float
    matthews_corrcoef: float
    positive_rate: float
    prevalence: float
    roc_auc: float
    average_precision: float
    log_loss: float
    brier_score: float

    @property
    def confusion_matrix(self) -> NDArray[np.float64]:
        """``[[tn, fp], [fn, tp]]``, the layout of :func:`~modelmon.metrics.confusion_matrix`."""
        return np.array([[self.tn, self.fp], [self.fn, self.tp]])


def _empty_report(threshold: float) -> BinaryClassificationReport:
    warnings.warn(
        "binary_classification_report is undefined for empty input (no samples); every metric "
        "is NaN.",
        UndefinedMetricWarning,
        stacklevel=3,
    )
    nan = math.nan
    return BinaryClassificationReport(
        0, 0.0, threshold, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, *([nan] * 14)
    )


def _weighted_sum(x: NDArray[np.float64], side: SortedScores) -> float:
    return float(x.sum() if side.weights is None else np.dot(x, side.weights))


def _probability_sums(pos: SortedScores, neg: SortedScores) -> tuple[float, float]:
    """Summed log loss and Brier terms, computed in one reused buffer (no per-metric copies).

    Clipping and the ``1 - p`` of the negatives follow scikit-learn's ``log_loss`` exactly.
    """
    buf = np.empty(max(pos.values.size, neg.values.size))
    b = buf[: pos.values.size]
    np.subtract(1.0, pos.values, out=b)
    np.multiply(b, b, out=b)
    brier = _weighted_sum(b, pos)
    np.clip(pos.values, _EPS, 1.0 - _EPS, out=b)
    np.log(b, out=b)
    loss = -_weighted_sum(b, pos)
    b = buf[: neg.values.size]
    np.multiply(neg.values, neg.values, out=b)
    brier += _weighted_sum(b, neg)
    np.subtract(1.0, neg.values, out=b)
    np.clip(b, _EPS, 1.0 - _EPS, out=b)
    np.log(b, out=b)
    loss -= _weighted_sum(b, neg)
    return loss, brier


def _weight_at_or_above(side: SortedScores, threshold: float) -> float:
    k = np.searchsorted(side.values, threshold, side="left")
    return float(side.tail_at(np.asarray([k]))[0])


def binary_classification_report(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    threshold: float = 0.5,
    sample_weight: ArrayLike | None = None,
    pos_label: Any = None,
    zero_division: Any = "warn",
) -> BinaryClassificationReport:
    """Compute every binary-classification metric of ``y_score`` in one pass sharing one sort.

    Equivalent to calling, on ``y_pred = y_score >= threshold``, :func:`accuracy_score`,
    :func:`balanced_accuracy_score`, :func:`precision_score`, :func:`recall_score`,
    :func:`f1_score`, :func:`specificity_score`, :func:`false_positive_rate`,
    :func:`matthews_corrcoef`, :func:`positive_rate` and :func:`confusion_matrix`, and on the
    scores :func:`roc_auc_score`, :func:`average_precision_score`, :func:`log_loss` and
    :func:`brier_score_loss` — several times faster than the separate calls (see
    ``benchmarks/bench_metrics.py``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels.
    y_score : array-like of shape (n_samples,)
        Predicted probability of the positive class, in [0, 1].
    threshold : float, default=0.5
        Decision threshold: ``y_score >= threshold`` is a positive prediction.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.
    pos_label : label, optional
        Positive class. Default: 1 for labels in {0, 1} or {-1, 1}, else the greater label
        (string labels need it).
    zero_division : {"warn", 0.0, 1.0, nan}, default="warn"
        Value of precision, recall, F1, specificity, false positive rate and MCC when their
        denominator is zero; ``"warn"`` warns and uses NaN.

    Returns
    -------
    BinaryClassificationReport
        Empty input gives a report of NaN metrics (with an UndefinedMetricWarning).

    Examples
    --------
    >>> r = binary_classification_report([0, 0, 1, 1], [0.1, 0.6, 0.35, 0.8])
    >>> r.accuracy, r.precision, r.recall, r.roc_auc
    (0.5, 0.5, 0.5, 0.75)
    >>> r.confusion_matrix
    array([[1., 1.],
           [1., 1.]])
    """
    owner = "binary_classification_report"
    threshold = check_real(threshold, "threshold", owner)
    check_zero_division(zero_division, owner)
    yt = check_labels(y_true, "y_true", owner)
    scores = check_probabilities(y_score, "y_score", owner)
    if scores.ndim == 2:
        if scores.shape[1] != 2:
            raise ValidationError(
                f"The 'y_score' argument of {owner} must be 1-dimensional (probability of the "
                f"positive class) or have two columns. Got shape {scores.shape} instead.",
                code="invalid_shape",
                loc=("y_score",),
            )
        scores = np.ascontiguousarray(scores[:, 1])
    n = check_consistent_length([yt, scores], ["y_true", "y_score"], owner)
    w = check_sample_weight(sample_weight, n, owner)
    if n == 0:
        return _empty_report(threshold)
    positive = binary_positive_mask(yt, pos_label, owner)
    if w is not None:
        keep = w != 0
        if not keep.all():
            scores, positive, w = scores[keep], positive[keep], w[keep]
    negative = ~positive
    pos = sort_scores(scores[positive], None if w is None else w[positive])
    neg = sort_scores(scores[negative], None if w is None else w[negative])
    del positive, negative
    loss_sum, brier_sum = _probability_sums(pos, neg)
    p_total, n_total = pos.total, neg.total
    total = p_total + n_total

    if total == 0.0:
        warnings.warn(
            f"{owner}: the sample weights sum to zero; every metric is NaN.",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        nan = math.nan
        return BinaryClassificationReport(
            n, 0.0, threshold, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, *([nan] * 14)
        )
    tp = _weight_at_or_above(pos, threshold)
    fp = _weight_at_or_above(neg, threshold)
    fn, tn = p_total - tp, n_total - fp
    cm = np.array([[tn, fp], [fn, tp]])

    auc, ap = auc_ap_from_sorted(pos, neg)
    if math.isnan(auc) or math.isnan(ap):
        missing = "positive" if p_total <= 0 else "negative"
        undefined_ones = "ROC AUC and average precision are" if p_total <= 0 else "ROC AUC is"
        warnings.warn(
            f"{undefined_ones} undefined in {owner}: y_true has no {missing} samples (with "
            "non-zero weight); returning NaN.",
            UndefinedMetricWarning,
            stacklevel=2,
        )

    def rate(metric: str) -> float:
        return rate_from_confusion(
            cm,
            _LABELS01,
            metric=metric,
            average="binary",
            pos_label=1,
            zero_division=zero_division,
            owner=owner,
        )

    return BinaryClassificationReport(
        n_samples=n,
        total_weight=total,
        threshold=threshold,
        positives=p_total,
        negatives=n_total,
        tp=tp,
        fp=fp,
        tn=tn,
        fn=fn,
        accuracy=accuracy_from_confusion(cm, True, owner),
        balanced_accuracy=balanced_accuracy_from_confusion(cm, False, owner),
        precision=rate("precision"),
        recall=rate("recall"),
        f1=rate("fbeta"),
        specificity=rate("specificity"),
        false_positive_rate=rate("fpr"),
        matthews_corrcoef=mcc_from_confusion(cm, zero_division, owner),
        positive_rate=(tp + fp) / total,
        prevalence=p_total / total,
        roc_auc=auc,
        average_precision=ap,
        log_loss=loss_sum / total,
        brier_score=brier_sum / total,
    )

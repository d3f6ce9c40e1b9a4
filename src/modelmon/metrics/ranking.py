"""Ranking metrics from scores: ROC AUC and average precision, binary and one-vs-rest.

Both need the scores of positives and negatives in order. Instead of one stable argsort of all
rows (what scikit-learn does), the positives' and the negatives' scores are sorted separately
with NumPy's vectorised :func:`numpy.sort` (an argsort only when weights must travel with the
scores), and every quantity is read at the distinct positive scores:

* ``tp(u)`` and ``fp(u)``: weight of positives / negatives scoring ``>= u`` (a tail sum, or a
  :func:`numpy.searchsorted` into the sorted negatives);
* ROC AUC (the Mann–Whitney statistic, ties counting one half; Hanley & McNeil, 1982)::

      AUC = sum_u w_pos(u) * (W_neg(< u) + W_neg(= u) / 2) / (P * N)

  which equals the trapezoidal area under scikit-learn's ROC curve exactly;
* average precision, the step-wise (non-interpolated) area under the precision–recall curve
  (scikit-learn's definition)::

      AP = sum_u (w_pos(u) / P) * tp(u) / (tp(u) + fp(u))

Zero-weight rows are dropped first, as in scikit-learn.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._validation import check_consistent_length, check_option, check_sample_weight
from modelmon.exceptions import ParameterError, UndefinedMetricWarning, ValidationError
from modelmon.metrics._checks import (
    check_labels,
    check_scores,
    distinct_labels,
    empty_input,
    encode_labels,
    label_index,
)
from modelmon.metrics._sorted_scores import SortedScores, auc_ap_from_sorted, sort_scores
from modelmon.metrics.registry import Direction, register_metric

__all__ = ["average_precision_score", "roc_auc_score"]


def _split_sorted(
    scores: NDArray[np.float64], positive: NDArray[np.bool_], weight: NDArray[np.float64] | None
) -> tuple[SortedScores, SortedScores]:
    if weight is not None:
        keep = weight != 0
        if not keep.all():
            scores, positive, weight = scores[keep], positive[keep], weight[keep]
    negative = ~positive
    pos = sort_scores(scores[positive], None if weight is None else weight[positive])
    neg = sort_scores(scores[negative], None if weight is None else weight[negative])
    return pos, neg


def _binary(
    scores: NDArray[np.float64],
    positive: NDArray[np.bool_],
    weight: NDArray[np.float64] | None,
    metric: str,
    owner: str,
    what: str = "",
) -> float:
    pos, neg = _split_sorted(scores, positive, weight)
    auc_value, ap_value = auc_ap_from_sorted(pos, neg, auc=metric == "auc", ap=metric == "ap")
    value = auc_value if metric == "auc" else ap_value
    if math.isnan(value):
        missing = "positive" if pos.total <= 0 else "negative"
        warnings.warn(
            f"{owner} is undefined{what}: y_true has no {missing} samples (with non-zero "
            "weight). Returning NaN.",
            UndefinedMetricWarning,
            stacklevel=4,
        )
    return value


def _class_columns(
    yt: NDArray[Any], n_columns: int, labels: ArrayLike | None, owner: str
) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """Classes indexing the score columns, and each row's column (validated)."""
    if labels is not None:
        classes = check_labels(labels, "labels", owner)
        if np.unique(classes).size != classes.size:
            raise ParameterError(
                f"The 'labels' parameter of {owner} must not contain duplicates.", loc=("labels",)
            )
        if classes.size != n_columns:
            raise ValidationError(
                f"Number of given labels, {classes.size}, not equal to the number of columns "
                f"in 'y_score', {n_columns} ({owner}).",
                code="invalid_shape",
                loc=("labels",),
            )
        union, (codes, class_codes) = encode_labels([yt, classes], ["y_true", "labels"], owner)
        if union.size > classes.size:
            raise ValidationError(
                f"'y_true' contains labels not in parameter 'labels' ({owner}).", loc=("y_true",)
            )
        column_of = np.empty(union.size, dtype=np.intp)
        column_of[class_codes] = np.arange(classes.size)
        return classes, column_of[codes]
    classes, (codes,) = encode_labels([yt], ["y_true"], owner)
    if classes.size != n_columns:
        raise ValidationError(
            f"Number of classes in y_true ({classes.size}) not equal to the number of columns in "
            f"'y_score' ({n_columns}) in {owner}. Pass labels= to name the columns.",
            code="invalid_shape",
            loc=("y_score",),
        )
    return classes, codes


def _one_vs_rest(
    yt: NDArray[Any],
    scores: NDArray[np.float64],
    labels: ArrayLike | None,
    average: str,
    weight: NDArray[np.float64] | None,
    metric: str,
    owner: str,
) -> float:
    classes, column = _class_columns(yt, scores.shape[1], labels, owner)
    onehot = np.zeros(scores.shape, dtype=bool)
    onehot[np.arange(yt.size), column] = True
    if average == "micro":
        w = None if weight is None else np.repeat(weight, scores.shape[1])
        return _binary(scores.ravel(), onehot.ravel(), w, metric, owner)
    values = np.array(
        [
            _binary(scores[:, c], onehot[:, c], weight, metric, owner, f" for class {classes[c]!r}")
            for c in range(scores.shape[1])
        ]
    )
    if average == "macro":
        return float(np.mean(values))
    support = (
        onehot.sum(axis=0).astype(np.float64)
        if weight is None
        else (onehot * weight[:, None]).sum(axis=0)
    )
    if math.isclose(float(support.sum()), 0.0):
        return 0.0
    return float(np.dot(values, support) / support.sum())


def _prepare(
    y_true: ArrayLike, y_score: ArrayLike, sample_weight: ArrayLike | None, owner: str
) -> tuple[NDArray[Any], NDArray[np.float64], NDArray[np.float64] | None]:
    yt = check_labels(y_true, "y_true", owner)
    scores = check_scores(y_score, "y_score", owner)
    n = check_consistent_length([yt, scores], ["y_true", "y_score"], owner)
    w = check_sample_weight(sample_weight, n, owner)
    return yt, scores, w


@register_metric(
    "roc_auc",
    Direction.HIGHER,
    ("binary", "multiclass"),
    input="score",
    description="Area under the ROC curve (one-vs-rest for multiclass).",
)
def roc_auc_score(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    average: str = "macro",
    multi_class: str = "ovr",
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Area under the ROC curve: the probability that a random positive outranks a random negative.

    Ties between a positive and a negative count one half, which equals the trapezoidal area
    under the ROC curve (Hanley & McNeil, 1982; Fawcett, 2006).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels. Binary: the greater label is the positive class.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: scores of the positive class (any real values, e.g. probabilities or decision
        values); a two-column probability matrix is also accepted (its second column is used).
        Multiclass: probabilities, one column per class in sorted label order (or the order of
        ``labels``); rows must sum to 1.
    average : {"macro", "weighted", "micro"}, default="macro"
        Multiclass one-vs-rest averaging: unweighted mean of the per-class AUCs, mean weighted by
        class prevalence, or the AUC of the pooled one-vs-rest problem.
    multi_class : {"ovr"}, default="ovr"
        Only one-vs-rest is implemented (Provost & Domingos, 2000).
    labels : array-like, optional
        Multiclass: the classes of the columns of ``y_score``, in column order.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights; zero-weight rows are ignored.

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning when ``y_true`` holds a single class (as in
        scikit-learn) or the input is empty (scikit-learn raises).

    References
    ----------
    Hanley, J. A., McNeil, B. J. (1982). The meaning and use of the area under a receiver
    operating characteristic (ROC) curve. Radiology 143(1).
    Fawcett, T. (2006). An introduction to ROC analysis. Pattern Recognition Letters 27(8).

    Examples
    --------
    >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> import numpy as np
    >>> p = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3]])
    >>> round(roc_auc_score([0, 1, 2, 1], p), 4)
    1.0
    """
    owner = "roc_auc_score"
    check_option(average, "average", owner, ("macro", "weighted", "micro"))
    check_option(multi_class, "multi_class", owner, ("ovr",))
    yt, scores, w = _prepare(y_true, y_score, sample_weight, owner)
    if yt.size == 0:
        return empty_input(owner)
    if scores.ndim == 2:
        classes = distinct_labels(yt, owner)
        if labels is None and scores.shape[1] == 2 and classes.size <= 2:
            scores = scores[:, 1]
        else:
            sums = scores.sum(axis=1)
            if not np.allclose(sums, 1.0):
                raise ValidationError(
                    "Target scores need to be probabilities for multiclass roc_auc_score, i.e. "
                    "each row of y_score should sum to 1.0 over classes.",
                    loc=("y_score",),
                )
            return _one_vs_rest(yt, scores, labels, average, w, "auc", owner)
    classes = distinct_labels(yt, owner)
    if classes.size > 2:
        raise ValidationError(
            f"y_true has {classes.size} classes but y_score is 1-dimensional in {owner}; pass "
            "probabilities of shape (n_samples, n_classes) for a multiclass target.",
            code="invalid_shape",
            loc=("y_score",),
        )
    if classes.size < 2:
        return float(
            _warn_nan(f"{owner} is undefined: only one class is present in y_true. Returning NaN.")
        )
    positive = np.asarray(yt == classes[1], dtype=bool)
    return _binary(scores, positive, w, "auc", owner)


def _warn_nan(message: str) -> float:
    warnings.warn(message, UndefinedMetricWarning, stacklevel=3)
    return math.nan


@register_metric(
    "average_precision",
    Direction.HIGHER,
    ("binary", "multiclass"),
    input="score",
    description="Step-wise area under the precision-recall curve.",
)
def average_precision_score(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    average: str = "macro",
    pos_label: Any = 1,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Average precision: precision averaged over the recall steps of the ranking.

    .. math:: \\mathrm{AP} = \\sum_n (R_n - R_{n-1}) P_n

    over the distinct score thresholds, without interpolation (scikit-learn's definition; the
    interpolated PASCAL VOC variant of Everingham et al., 2010 is different).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Scores of the positive class (binary; a two-column probability matrix is accepted) or one
        column per class for a multiclass target (one-vs-rest).
    average : {"macro", "weighted", "micro"}, default="macro"
        Multiclass averaging, as in :func:`roc_auc_score`.
    pos_label : label, default=1
        Positive class of a binary target.
    labels : array-like, optional
        Multiclass: the classes of the columns of ``y_score``, in column order.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights; zero-weight rows are ignored.

    Returns
    -------
    float
        In [0, 1]. With no positive sample, NaN and an UndefinedMetricWarning (scikit-learn
        returns 0.0 after a warning: recall is undefined there, so modelmon says so). Empty input
        gives NaN (scikit-learn raises).

    Examples
    --------
    >>> round(average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    owner = "average_precision_score"
    check_option(average, "average", owner, ("macro", "weighted", "micro"))
    yt, scores, w = _prepare(y_true, y_score, sample_weight, owner)
    if yt.size == 0:
        return empty_input(owner)
    classes = distinct_labels(yt, owner)
    if scores.ndim == 2:
        if labels is None and scores.shape[1] == 2 and classes.size <= 2:
            idx = label_index(classes, pos_label) if classes.size == 2 else None
            scores = scores[:, 1 if idx is None else idx]
        else:
            if pos_label != 1:
                raise ParameterError(
                    "Parameter pos_label is fixed to 1 for multiclass y_true. Do not set "
                    "pos_label or set pos_label to 1.",
                    loc=("pos_label",),
                )
            return _one_vs_rest(yt, scores, labels, average, w, "ap", owner)
    if classes.size > 2:
        raise ValidationError(
            f"y_true has {classes.size} classes but y_score is 1-dimensional in {owner}; pass "
            "scores of shape (n_samples, n_classes) for a multiclass target.",
            code="invalid_shape",
            loc=("y_score",),
        )
    if classes.size == 2 and label_index(classes, pos_label) is None:
        raise ParameterError(
            f"pos_label={pos_label!r} is not a valid label. It should be one of "
            f"{classes.tolist()}.",
            loc=("pos_label",),
        )
    positive = np.asarray(yt == pos_label, dtype=bool)
    if positive.shape != yt.shape:
        positive = np.zeros(yt.shape, dtype=bool)
    return _binary(scores, positive, w, "ap", owner)

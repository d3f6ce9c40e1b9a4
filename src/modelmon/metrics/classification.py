"""Classification metrics from predicted labels.

Binary and multiclass targets, any label type (integers, booleans, strings), optional sample
weights. Each function validates its input once (:mod:`modelmon.metrics._checks`), builds the
weighted confusion matrix with one :func:`numpy.bincount`, and computes the metric from it with
the same code the streaming aggregates use (:mod:`modelmon.metrics._confusion`).

Conventions shared by every function here (and checked by the test-suite against
scikit-learn 1.9):

* Empty input warns (:class:`~modelmon.exceptions.UndefinedMetricWarning`) and returns NaN;
  scikit-learn raises. A monitoring window may legitimately be empty.
* NaN or infinite labels, non-integer float labels, strings mixed with numbers, mismatched
  lengths and negative weights raise :class:`~modelmon.exceptions.ValidationError`.
* Ill-defined ratios follow ``zero_division``: ``"warn"`` (default) warns and returns NaN, as
  scikit-learn does with ``zero_division=np.nan``; ``0.0``/``1.0``/``nan`` are used silently.
  scikit-learn's own ``"warn"`` returns 0.0, which would look like a collapse of the model in a
  monitoring chart, so modelmon reports "unknown" instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._validation import (
    check_bool,
    check_consistent_length,
    check_option,
    check_sample_weight,
)
from modelmon.exceptions import ValidationError
from modelmon.metrics._checks import (
    LabelTargets,
    check_label_targets,
    check_labels,
    empty_input,
    weighted_mean,
)
from modelmon.metrics._confusion import (
    accuracy_from_confusion,
    balanced_accuracy_from_confusion,
    check_beta,
    confusion_from_codes,
    mcc_from_confusion,
    rate_from_confusion,
)
from modelmon.metrics.registry import Direction, register_metric

__all__ = [
    "accuracy_score",
    "balanced_accuracy_score",
    "confusion_matrix",
    "f1_score",
    "false_positive_rate",
    "fbeta_score",
    "matthews_corrcoef",
    "positive_rate",
    "precision_score",
    "recall_score",
    "specificity_score",
]

_LABEL_TASKS = ("binary", "multiclass")


def _confusion(t: LabelTargets) -> NDArray[Any]:
    return confusion_from_codes(t.true_codes, t.pred_codes, t.labels.size, t.weight)


@register_metric(
    "accuracy", Direction.HIGHER, _LABEL_TASKS, description="Share of correct predictions."
)
def accuracy_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    normalize: bool = True,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Share of predictions equal to the true label.

    .. math:: \\mathrm{accuracy} = \\frac{\\sum_i w_i [\\hat y_i = y_i]}{\\sum_i w_i}

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    normalize : bool, default=True
        If False, return the (weighted) number of correct predictions instead of the share.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.

    Returns
    -------
    float
        Accuracy in [0, 1]. NaN with an UndefinedMetricWarning for empty input or weights summing
        to zero (scikit-learn raises); with ``normalize=False`` empty input gives 0.0.

    Examples
    --------
    >>> accuracy_score([0, 1, 2, 2], [0, 2, 2, 2])
    0.75
    >>> accuracy_score(["a", "b"], ["a", "a"], sample_weight=[3, 1])
    0.75
    """
    owner = "accuracy_score"
    normalize = check_bool(normalize, "normalize", owner)
    t = check_label_targets(y_true, y_pred, owner, sample_weight)
    if t.n == 0:
        return empty_input(owner) if normalize else 0.0
    return accuracy_from_confusion(_confusion(t), normalize, owner)


@register_metric(
    "balanced_accuracy",
    Direction.HIGHER,
    _LABEL_TASKS,
    description="Mean recall over the classes present in y_true.",
)
def balanced_accuracy_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    adjusted: bool = False,
) -> float:
    """Balanced accuracy: the mean of per-class recall over the classes present in ``y_true``.

    Classes that appear only in ``y_pred`` have no recall and are left out (scikit-learn does the
    same after a warning). With ``adjusted=True`` the score is rescaled so that chance level is 0
    and perfect is 1: ``(score - 1/K) / (1 - 1/K)`` (Brodersen et al., 2010; Kelleher et al.,
    2015).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.
    adjusted : bool, default=False
        Rescale for chance. Undefined (NaN with a warning) when ``y_true`` holds one class.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for empty input or zero total weight.

    References
    ----------
    Brodersen, Ong, Stephan, Buhmann (2010). The balanced accuracy and its posterior
    distribution. ICPR 2010.

    Examples
    --------
    >>> balanced_accuracy_score([0, 0, 0, 1], [0, 0, 1, 1])
    0.8333...
    """
    owner = "balanced_accuracy_score"
    adjusted = check_bool(adjusted, "adjusted", owner)
    t = check_label_targets(y_true, y_pred, owner, sample_weight)
    if t.n == 0:
        return empty_input(owner)
    return balanced_accuracy_from_confusion(_confusion(t), adjusted, owner)


def confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    normalize: str | None = None,
) -> NDArray[Any]:
    """Confusion matrix ``C[i, j]``: (weighted) count of samples of true class ``i`` predicted ``j``.

    For binary 0/1 labels, ``C.ravel()`` is ``(tn, fp, fn, tp)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    labels : array-like, optional
        Labels indexing the matrix, in this order; samples whose true or predicted label is not
        listed are left out. Default: every label seen in either array, sorted.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights. Without them the matrix holds int64 counts.
    normalize : {"true", "pred", "all"}, optional
        Divide by row sums (recall-like), column sums (precision-like) or the total. Rows/columns
        without samples are 0, as in scikit-learn.

    Returns
    -------
    ndarray of shape (n_labels, n_labels)
        Empty input gives a ``(0, 0)`` matrix (or zeros of the ``labels`` size); scikit-learn
        raises when ``labels`` is not given.

    Examples
    --------
    >>> confusion_matrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2])
    array([[2, 0, 0],
           [0, 0, 1],
           [1, 0, 2]])
    >>> confusion_matrix([0, 1, 1], [0, 1, 0], normalize="true")
    array([[1. , 0. ],
           [0.5, 0.5]])
    """
    owner = "confusion_matrix"
    if normalize is not None:
        check_option(normalize, "normalize", owner, ("true", "pred", "all"))
    t = check_label_targets(y_true, y_pred, owner, sample_weight, labels=labels)
    cm = _confusion(t)
    if labels is not None:
        wanted = check_labels(labels, "labels", owner)
        order = np.array([t.index_of(v) for v in wanted.tolist()], dtype=np.intp)
        if t.n and not np.isin(order, t.true_codes).any():
            raise ValidationError(
                f"At least one label specified must be in y_true ({owner}).", loc=("labels",)
            )
        cm = cm[np.ix_(order, order)]
    if normalize is not None:
        with np.errstate(all="ignore"):
            if normalize == "true":
                cm = cm / cm.sum(axis=1, keepdims=True)
            elif normalize == "pred":
                cm = cm / cm.sum(axis=0, keepdims=True)
            else:
                cm = cm / cm.sum()
        cm = np.nan_to_num(cm)
    return cm


def _rate(
    metric: str,
    owner: str,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None,
    pos_label: Any,
    average: str,
    sample_weight: ArrayLike | None,
    zero_division: Any,
    beta: float = 1.0,
) -> float:
    use_labels = None if average == "binary" else labels
    t = check_label_targets(y_true, y_pred, owner, sample_weight, labels=use_labels)
    if t.n == 0:
        return empty_input(owner)
    selected = None
    if use_labels is not None:
        wanted = check_labels(use_labels, "labels", owner)
        selected = np.array([t.index_of(v) for v in wanted.tolist()], dtype=np.intp)
    return rate_from_confusion(
        _confusion(t),
        t.labels,
        metric=metric,
        average=average,
        pos_label=pos_label,
        zero_division=zero_division,
        owner=owner,
        beta=beta,
        selected=selected,
    )


@register_metric("precision", Direction.HIGHER, _LABEL_TASKS, description="TP / (TP + FP).")
def precision_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    pos_label: Any = 1,
    average: str = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division: Any = "warn",
) -> float:
    """Precision ``tp / (tp + fp)``: the share of predicted positives that are positive.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    labels : array-like, optional
        Labels to average over (not used with ``average="binary"``). Default: all labels seen.
    pos_label : label, default=1
        The positive class for ``average="binary"``.
    average : {"binary", "micro", "macro", "weighted"}, default="binary"
        ``"binary"``: the score of ``pos_label`` only (targets must have at most two labels).
        ``"micro"``: pool the counts of all labels. ``"macro"``: unweighted mean over labels.
        ``"weighted"``: mean over labels weighted by support (true count). Labels with an
        undefined score under ``zero_division="warn"`` are left out of the mean.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.
    zero_division : {"warn", 0.0, 1.0, nan}, default="warn"
        Value when there are no predicted positives. ``"warn"`` warns and returns NaN (matching
        scikit-learn's ``zero_division=np.nan``; scikit-learn's default returns 0.0).

    Returns
    -------
    float

    Examples
    --------
    >>> precision_score([0, 1, 1, 0], [1, 1, 1, 0])
    0.6666...
    >>> precision_score([0, 1, 2, 2], [0, 2, 2, 1], average="macro")
    0.5
    """
    return _rate(
        "precision",
        "precision_score",
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
        zero_division=zero_division,
    )


@register_metric("recall", Direction.HIGHER, _LABEL_TASKS, description="TP / (TP + FN).")
def recall_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    pos_label: Any = 1,
    average: str = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division: Any = "warn",
) -> float:
    """Recall (true positive rate, sensitivity) ``tp / (tp + fn)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    labels : array-like, optional
        Labels to average over (not used with ``average="binary"``).
    pos_label : label, default=1
        The positive class for ``average="binary"``.
    average : {"binary", "micro", "macro", "weighted"}, default="binary"
        See :func:`precision_score`.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.
    zero_division : {"warn", 0.0, 1.0, nan}, default="warn"
        Value when there are no true positives to find; ``"warn"`` warns and returns NaN.

    Returns
    -------
    float

    Examples
    --------
    >>> recall_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    return _rate(
        "recall",
        "recall_score",
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
        zero_division=zero_division,
    )


@register_metric(
    "fbeta",
    Direction.HIGHER,
    _LABEL_TASKS,
    description="Weighted harmonic mean of precision and recall (recall beta times as important).",
)
def fbeta_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    beta: float,
    labels: ArrayLike | None = None,
    pos_label: Any = 1,
    average: str = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division: Any = "warn",
) -> float:
    """F-beta score: ``(1 + b²) tp / ((1 + b²) tp + b² fn + fp)`` (van Rijsbergen, 1979).

    ``beta > 1`` favours recall, ``beta < 1`` precision; ``beta = 0`` is precision.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    beta : float
        Non-negative weight of recall.
    labels, pos_label, average, sample_weight
        See :func:`precision_score`.
    zero_division : {"warn", 0.0, 1.0, nan}, default="warn"
        Value when a label has neither true nor predicted samples; ``"warn"`` warns and
        returns NaN.

    Returns
    -------
    float

    References
    ----------
    van Rijsbergen, C. J. (1979). Information Retrieval, 2nd ed., chapter 7.

    Examples
    --------
    >>> fbeta_score([0, 1, 1, 0], [1, 1, 0, 0], beta=2.0)
    0.5
    """
    owner = "fbeta_score"
    b = check_beta(beta, owner)
    return _rate(
        "fbeta",
        owner,
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
        zero_division=zero_division,
        beta=b,
    )


@register_metric(
    "f1", Direction.HIGHER, _LABEL_TASKS, description="Harmonic mean of precision and recall."
)
def f1_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    pos_label: Any = 1,
    average: str = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division: Any = "warn",
) -> float:
    """F1 score: the harmonic mean of precision and recall, ``2 tp / (2 tp + fp + fn)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    labels, pos_label, average, sample_weight, zero_division
        See :func:`precision_score` and :func:`fbeta_score`.

    Returns
    -------
    float

    Examples
    --------
    >>> f1_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    >>> round(f1_score([0, 1, 2, 2], [0, 2, 2, 1], average="weighted"), 4)
    0.5
    """
    return _rate(
        "fbeta",
        "f1_score",
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
        zero_division=zero_division,
    )


@register_metric(
    "specificity",
    Direction.HIGHER,
    _LABEL_TASKS,
    description="True negative rate TN / (TN + FP).",
)
def specificity_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    pos_label: Any = 1,
    average: str = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division: Any = "warn",
) -> float:
    """Specificity (true negative rate) ``tn / (tn + fp)``: the recall of the negative class.

    For a multiclass target each label is in turn the positive class (one-vs-rest); the
    averages are as in :func:`precision_score` (``"weighted"`` weights by the label's support).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    labels, pos_label, average, sample_weight
        See :func:`precision_score`.
    zero_division : {"warn", 0.0, 1.0, nan}, default="warn"
        Value when there are no negatives; ``"warn"`` warns and returns NaN.

    Returns
    -------
    float

    Examples
    --------
    >>> specificity_score([0, 0, 0, 1], [0, 1, 0, 1])
    0.6666...
    """
    return _rate(
        "specificity",
        "specificity_score",
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
        zero_division=zero_division,
    )


@register_metric(
    "false_positive_rate",
    Direction.LOWER,
    _LABEL_TASKS,
    description="FP / (FP + TN) = 1 - specificity.",
)
def false_positive_rate(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    pos_label: Any = 1,
    average: str = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division: Any = "warn",
) -> float:
    """False positive rate (fall-out) ``fp / (fp + tn)``, i.e. ``1 - specificity``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    labels, pos_label, average, sample_weight
        See :func:`precision_score`.
    zero_division : {"warn", 0.0, 1.0, nan}, default="warn"
        Value when there are no negatives; ``"warn"`` warns and returns NaN.

    Returns
    -------
    float

    Examples
    --------
    >>> false_positive_rate([0, 0, 0, 1], [0, 1, 0, 1])
    0.3333...
    """
    return _rate(
        "fpr",
        "false_positive_rate",
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
        zero_division=zero_division,
    )


@register_metric(
    "matthews_corrcoef",
    Direction.HIGHER,
    _LABEL_TASKS,
    description="Matthews correlation coefficient (phi), in [-1, 1].",
)
def matthews_corrcoef(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    zero_division: Any = "warn",
) -> float:
    """Matthews correlation coefficient, binary (Matthews, 1975) and multiclass (Gorodkin, 2004).

    With the confusion matrix ``C``, ``t = C.sum(1)``, ``p = C.sum(0)``, ``c = trace(C)`` and
    ``s = C.sum()``:

    .. math:: \\mathrm{MCC} = \\frac{c s - t \\cdot p}{\\sqrt{(s^2 - p \\cdot p)(s^2 - t \\cdot t)}}

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.
    zero_division : {"warn", 0.0, 1.0, nan}, default="warn"
        Value when the denominator is 0 (one array holds a single class). ``"warn"`` warns and
        returns NaN; scikit-learn returns 0.0 silently (pass ``zero_division=0.0`` for that).

    Returns
    -------
    float
        In [-1, 1].

    References
    ----------
    Matthews, B. W. (1975). Comparison of the predicted and observed secondary structure of T4
    phage lysozyme. Biochimica et Biophysica Acta 405(2).
    Gorodkin, J. (2004). Comparing two K-category assignments by a K-category correlation
    coefficient. Computational Biology and Chemistry 28(5).

    Examples
    --------
    >>> round(matthews_corrcoef([1, 1, 1, 0], [1, 0, 1, 1]), 4)
    -0.3333
    """
    owner = "matthews_corrcoef"
    t = check_label_targets(y_true, y_pred, owner, sample_weight)
    if t.n == 0:
        return empty_input(owner)
    return mcc_from_confusion(_confusion(t), zero_division, owner)


@register_metric(
    "positive_rate",
    Direction.UNKNOWN,
    _LABEL_TASKS,
    description="Share of positive predictions (selection rate).",
)
def positive_rate(
    y_true: ArrayLike | None,
    y_pred: ArrayLike,
    *,
    pos_label: Any = 1,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Share of predictions equal to ``pos_label`` (fairlearn's *selection rate*).

    ``y_true`` is not used beyond a length check (pass ``None`` if you have no labels yet); it
    is accepted so the metric fits the registry's ``func(y_true, y_pred)`` call.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or None
        Ignored except for its length.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    pos_label : label, default=1
        The label counted as a positive prediction.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for empty input or zero total weight.

    Examples
    --------
    >>> positive_rate(None, [1, 0, 1, 1])
    0.75
    """
    owner = "positive_rate"
    yp = check_labels(y_pred, "y_pred", owner)
    if y_true is not None:
        yt = check_labels(y_true, "y_true", owner)
        check_consistent_length([yt, yp], ["y_true", "y_pred"], owner)
    w = check_sample_weight(sample_weight, yp.size, owner)
    hit = np.asarray(yp == pos_label, dtype=np.float64)
    if hit.shape != yp.shape:
        hit = np.zeros(yp.shape)
    return weighted_mean(hit, w, owner)

"""Label metrics computed from a confusion matrix: the one core behind batch and streaming.

Every label-based classification metric (accuracy, balanced accuracy, precision, recall,
F-beta, specificity, false positive rate, Matthews correlation) is a function of the (weighted)
confusion matrix ``cm[i, j]`` = weight of samples with true label ``labels[i]`` predicted as
``labels[j]``. The batch functions in :mod:`modelmon.metrics.classification` build that matrix
with one :func:`numpy.bincount`; the streaming :class:`~modelmon.metrics.streaming.ConfusionMatrix`
accumulates and merges it. Both then call the functions here, so they agree by construction.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_option, check_real, undefined
from modelmon.exceptions import ParameterError, UndefinedMetricWarning, ValidationError
from modelmon.metrics._checks import check_zero_division, label_index

__all__ = [
    "AVERAGES",
    "accuracy_from_confusion",
    "balanced_accuracy_from_confusion",
    "confusion_from_codes",
    "mcc_from_confusion",
    "rate_from_confusion",
]

AVERAGES = ("binary", "micro", "macro", "weighted")

_RATE_TEXT = {
    "precision": ("Precision", "predicted samples"),
    "recall": ("Recall", "true samples"),
    "fbeta": ("F-score", "true nor predicted samples"),
    "specificity": ("Specificity", "negative samples"),
    "fpr": ("False positive rate", "negative samples"),
}


def confusion_from_codes(
    true_codes: NDArray[np.intp],
    pred_codes: NDArray[np.intp],
    k: int,
    weight: NDArray[np.float64] | None,
) -> NDArray[Any]:
    """Confusion matrix (int64 counts, or float64 weight sums) from integer label codes."""
    flat = true_codes * k + pred_codes
    if weight is None:
        return np.bincount(flat, minlength=k * k).reshape(k, k)
    return np.bincount(flat, weights=weight, minlength=k * k).reshape(k, k)


def accuracy_from_confusion(cm: NDArray[Any], normalize: bool, owner: str) -> float:
    """Share (or weighted count) of samples on the diagonal."""
    correct = float(np.trace(cm))
    if not normalize:
        return correct
    total = float(cm.sum())
    if total == 0.0:
        return undefined(
            f"{owner} is undefined: the sample weights sum to zero. Returning NaN.", stacklevel=4
        )
    return correct / total


def balanced_accuracy_from_confusion(cm: NDArray[Any], adjusted: bool, owner: str) -> float:
    """Mean recall over the classes present in ``y_true`` (rows with positive weight)."""
    support = cm.sum(axis=1).astype(np.float64)
    present = support > 0
    if not present.any():
        return undefined(
            f"{owner} is undefined: the sample weights sum to zero. Returning NaN.", stacklevel=4
        )
    per_class = np.diag(cm)[present] / support[present]
    score = float(np.mean(per_class))
    if adjusted:
        chance = 1.0 / per_class.size
        if chance == 1.0:
            return undefined(
                f"Adjusted {owner} is undefined with a single class in y_true; use adjusted=False "
                "for the unadjusted score. Returning NaN.",
                stacklevel=4,
            )
        score = (score - chance) / (1.0 - chance)
    return score


def mcc_from_confusion(cm: NDArray[Any], zero_division: Any, owner: str) -> float:
    """Matthews correlation coefficient (multiclass R_K of Gorodkin 2004) from a confusion matrix."""
    fill = check_zero_division(zero_division, owner)
    c = cm.astype(np.float64)
    t_sum = c.sum(axis=1)
    p_sum = c.sum(axis=0)
    n_correct = float(np.trace(c))
    n = float(p_sum.sum())
    cov_ytyp = n_correct * n - float(np.dot(t_sum, p_sum))
    cov_ypyp = n * n - float(np.dot(p_sum, p_sum))
    cov_ytyt = n * n - float(np.dot(t_sum, t_sum))
    denom = cov_ypyp * cov_ytyt
    if denom == 0.0:
        if fill is not None:
            return fill
        return undefined(
            f"The Matthews correlation coefficient is ill-defined in {owner}: y_true or y_pred "
            "holds a single class (zero variance). "
            "Returning NaN; use zero_division= to set a value (scikit-learn uses 0.0).",
            stacklevel=4,
        )
    return cov_ytyp / math.sqrt(denom)


def _check_average(average: Any, owner: str) -> str:
    return str(check_option(average, "average", owner, AVERAGES))


def _nanaverage(values: NDArray[np.float64], weights: NDArray[np.float64] | None) -> float:
    # scikit-learn's _nanaverage: NaN entries are left out; zero total weight falls back to the
    # unweighted mean of what is left.
    keep = ~np.isnan(values)
    if not keep.any():
        return math.nan
    v = values[keep]
    if weights is None:
        return float(np.mean(v))
    wk = weights[keep]
    total = float(wk.sum())
    if total == 0.0:
        return float(np.mean(v))
    return float(np.dot(v, wk) / total)


def _divide(
    num: NDArray[np.float64],
    den: NDArray[np.float64],
    fill: float | None,
    metric: str,
    owner: str,
    average: str,
) -> NDArray[np.float64]:
    mask = den == 0
    out = np.divide(num, np.where(mask, 1.0, den))
    if not mask.any():
        return out
    out[mask] = math.nan if fill is None else fill
    if fill is None:
        name, reason = _RATE_TEXT[metric]
        where = (
            "due to no " + reason
            if average in ("binary", "micro") or mask.size == 1
            else f"in {int(mask.sum())} label(s) with no {reason}"
        )
        warnings.warn(
            f"{name} is ill-defined and set to NaN {where} in {owner}. "
            "Use zero_division= to set a value (0.0, 1.0 or nan).",
            UndefinedMetricWarning,
            stacklevel=5,
        )
    return out


def rate_from_confusion(
    cm: NDArray[Any],
    labels: NDArray[Any],
    *,
    metric: str,
    average: Any,
    pos_label: Any,
    zero_division: Any,
    owner: str,
    beta: float = 1.0,
    selected: NDArray[np.intp] | None = None,
) -> float:
    """Precision, recall, F-beta, specificity or false positive rate from a confusion matrix.

    Parameters
    ----------
    cm : ndarray of shape (k, k)
        Confusion matrix over ``labels`` (rows true, columns predicted).
    labels : ndarray of shape (k,)
        Sorted labels indexing ``cm``.
    metric : {"precision", "recall", "fbeta", "specificity", "fpr"}
    average : {"binary", "micro", "macro", "weighted"}
    pos_label : label
        Positive class for ``average="binary"``.
    zero_division : "warn", 0.0, 1.0 or nan
        Value for ill-defined ratios; ``"warn"`` warns and uses NaN.
    selected : ndarray of int, optional
        Positions in ``labels`` to average over (the ``labels=`` argument); default all labels.
    """
    average = _check_average(average, owner)
    fill = check_zero_division(zero_division, owner)
    c = cm.astype(np.float64)
    tp = np.diag(c)
    pred_sum = c.sum(axis=0)
    true_sum = c.sum(axis=1)
    total = float(c.sum())
    if average == "binary":
        n_labels = labels.size
        if n_labels > 2:
            raise ValidationError(
                f"Target is multiclass but average='binary' in {owner}. Please choose another "
                "average setting, one of ['micro', 'macro', 'weighted'].",
                loc=("average",),
            )
        idx = label_index(labels, pos_label)
        if idx is None:
            if n_labels >= 2:
                raise ParameterError(
                    f"pos_label={pos_label!r} is not a valid label. It should be one of "
                    f"{labels.tolist()}.",
                    loc=("pos_label",),
                )
            sel = np.empty(0, dtype=np.intp)
        else:
            sel = np.array([idx], dtype=np.intp)
    else:
        sel = np.arange(labels.size, dtype=np.intp) if selected is None else selected

    def pick(a: NDArray[np.float64]) -> NDArray[np.float64]:
        out = a[sel]
        return out if out.size or average != "binary" else np.zeros(1)

    tp_s, pred_s, true_s = pick(tp), pick(pred_sum), pick(true_sum)
    if average == "micro":
        tp_s, pred_s, true_s = (np.array([a.sum()]) for a in (tp_s, pred_s, true_s))
    if metric == "precision":
        values = _divide(tp_s, pred_s, fill, metric, owner, average)
    elif metric == "recall":
        values = _divide(tp_s, true_s, fill, metric, owner, average)
    elif metric == "fbeta":
        if beta == 0.0:
            values = _divide(tp_s, pred_s, fill, "precision", owner, average)
        else:
            b2 = beta * beta
            values = _divide((1 + b2) * tp_s, b2 * true_s + pred_s, fill, metric, owner, average)
    elif metric in ("specificity", "fpr"):
        negatives = total - true_s
        fp = pred_s - tp_s
        if metric == "specificity":
            values = _divide(negatives - fp, negatives, fill, metric, owner, average)
        else:
            values = _divide(fp, negatives, fill, metric, owner, average)
    else:  # pragma: no cover - internal misuse
        raise ValueError(f"unknown metric {metric!r}")
    if values.size == 0:
        return math.nan
    if average in ("binary", "micro"):
        return float(values[0])
    return _nanaverage(values, true_s if average == "weighted" else None)


def check_beta(beta: Any, owner: str) -> float:
    """``beta`` of an F-score: a finite float >= 0."""
    return check_real(beta, "beta", owner, low=0.0)

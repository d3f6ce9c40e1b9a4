"""Metrics of predicted probabilities: log loss, Brier score, expected calibration error.

``y_prob`` is either the probability of the positive class (1-D, binary target) or a matrix
with one column per class (2-D). Probabilities must lie in [0, 1]; rows of a matrix that do not
sum to 1 are used as given after a :class:`~modelmon.exceptions.DataQualityWarning` (scikit-learn
1.9 does the same with a ``UserWarning``).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._validation import (
    check_bool,
    check_consistent_length,
    check_int,
    check_option,
    check_sample_weight,
)
from modelmon.exceptions import DataQualityWarning, ParameterError, ValidationError
from modelmon.metrics._checks import (
    binary_positive_mask,
    check_labels,
    check_probabilities,
    distinct_labels,
    empty_input,
    encode_labels,
    weighted_mean,
)
from modelmon.metrics.registry import Direction, register_metric

__all__ = ["brier_score_loss", "expected_calibration_error", "log_loss"]

_EPS = float(np.finfo(np.float64).eps)


def _prepare(
    y_true: ArrayLike, y_prob: ArrayLike, sample_weight: ArrayLike | None, owner: str
) -> tuple[NDArray[Any], NDArray[np.float64], NDArray[np.float64] | None]:
    yt = check_labels(y_true, "y_true", owner)
    prob = check_probabilities(y_prob, "y_prob", owner)
    n = check_consistent_length([yt, prob], ["y_true", "y_prob"], owner)
    w = check_sample_weight(sample_weight, n, owner)
    return yt, prob, w


def _warn_unnormalised(prob: NDArray[np.float64], owner: str) -> None:
    sums = prob.sum(axis=1)
    if not np.allclose(sums, 1.0, rtol=math.sqrt(_EPS), atol=0.0):
        warnings.warn(
            f"The rows of y_prob do not sum to one in {owner}; they are used as given. Make sure "
            "to pass probabilities.",
            DataQualityWarning,
            stacklevel=4,
        )


def _columns(
    yt: NDArray[Any], n_columns: int, labels: ArrayLike | None, owner: str
) -> NDArray[np.intp]:
    """Column of each row's true class in a probability matrix (validated)."""
    if labels is not None:
        classes = check_labels(labels, "labels", owner)
        if classes.size < 2:
            raise ParameterError(
                f"The 'labels' parameter of {owner} needs at least two labels, got "
                f"{classes.tolist()}.",
                loc=("labels",),
            )
        if np.unique(classes).size != classes.size:
            raise ParameterError(
                f"The 'labels' parameter of {owner} must not contain duplicates.", loc=("labels",)
            )
        union, (codes, class_codes) = encode_labels([yt, classes], ["y_true", "labels"], owner)
        if union.size > classes.size:
            raise ValidationError(
                f"y_true contains values not belonging to the passed labels in {owner}.",
                loc=("y_true",),
            )
        column_of = np.empty(union.size, dtype=np.intp)
        column_of[class_codes] = np.arange(classes.size)
        if classes.size != n_columns:
            raise ValidationError(
                f"The number of classes in labels ({classes.size}) is different from the number "
                f"of columns of y_prob ({n_columns}) in {owner}.",
                code="invalid_shape",
                loc=("labels",),
            )
        return column_of[codes]
    classes, (codes,) = encode_labels([yt], ["y_true"], owner)
    if classes.size == 1:
        raise ValidationError(
            f"y_true contains only one label ({classes[0]!r}) in {owner}. Please provide the "
            "list of all expected class labels explicitly through the labels argument.",
            loc=("labels",),
        )
    if classes.size != n_columns:
        raise ValidationError(
            f"y_true and y_prob contain different numbers of classes in {owner}: "
            f"{classes.size} vs {n_columns}. Please provide the true labels explicitly through "
            "the labels argument.",
            code="invalid_shape",
            loc=("labels",),
        )
    return codes


def _log_loss_positive(yt: NDArray[Any], labels: ArrayLike | None, owner: str) -> NDArray[Any]:
    """Positive rows for 1-D log loss: the greater of the two classes (scikit-learn's rule)."""
    if labels is not None:
        classes = np.sort(check_labels(labels, "labels", owner))
        if classes.size != 2:
            raise ValidationError(
                f"y_prob is 1-dimensional, so {owner} needs exactly two labels; got "
                f"{classes.tolist()}.",
                code="invalid_shape",
                loc=("labels",),
            )
        union = encode_labels([yt, classes], ["y_true", "labels"], owner)[0]
        if union.size > 2:
            raise ValidationError(
                f"y_true contains values not belonging to the passed labels in {owner}.",
                loc=("y_true",),
            )
        return np.asarray(yt == classes[1], dtype=bool)
    classes = distinct_labels(yt, owner)
    if classes.size > 2:
        raise ValidationError(
            f"y_true has {classes.size} classes but y_prob is 1-dimensional in {owner}; pass "
            "probabilities of shape (n_samples, n_classes).",
            code="invalid_shape",
            loc=("y_prob",),
        )
    if classes.size == 2:
        return np.asarray(yt == classes[1], dtype=bool)
    if classes.dtype.kind in "biuf" and classes[0] in (0, 1):
        return np.asarray(yt == 1, dtype=bool)
    raise ValidationError(
        f"y_true contains only one label ({classes[0]!r}) in {owner}. Please provide the list of "
        "all expected class labels explicitly through the labels argument.",
        loc=("labels",),
    )


@register_metric(
    "log_loss",
    Direction.LOWER,
    ("binary", "multiclass"),
    input="score",
    description="Mean negative log-likelihood of the true class (cross-entropy).",
)
def log_loss(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    normalize: bool = True,
    sample_weight: ArrayLike | None = None,
    labels: ArrayLike | None = None,
) -> float:
    """Log loss (cross-entropy): ``-mean(log p(true class))``.

    Probabilities are clipped to ``[eps, 1 - eps]`` with ``eps`` the float64 machine epsilon, so
    a confident wrong prediction costs about 36 rather than infinity (scikit-learn 1.9's rule).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples,) or (n_samples, n_classes)
        1-D: probability of the positive class, which is the greater of the two labels (or 1 when
        ``y_true`` holds only 0 or only 1). 2-D: one column per class, in sorted label order or
        the order of ``labels``.
    normalize : bool, default=True
        Mean per sample (True) or the sum (False).
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.
    labels : array-like, optional
        The classes; needed when ``y_true`` does not contain them all.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for empty input or zero total weight. Unlike
        scikit-learn, a 0/1 target with a single class present is accepted without ``labels``.

    Examples
    --------
    >>> round(log_loss([0, 1, 1], [0.1, 0.8, 0.6]), 4)
    0.2797
    >>> round(log_loss(["a", "b"], [[0.9, 0.1], [0.2, 0.8]]), 4)
    0.1643
    """
    owner = "log_loss"
    normalize = check_bool(normalize, "normalize", owner)
    yt, prob, w = _prepare(y_true, y_prob, sample_weight, owner)
    if yt.size == 0:
        return empty_input(owner) if normalize else 0.0
    if prob.ndim == 2:
        _warn_unnormalised(prob, owner)
        column = _columns(yt, prob.shape[1], labels, owner)
        p_true = prob[np.arange(yt.size), column]
    else:
        positive = _log_loss_positive(yt, labels, owner)
        p_true = np.where(positive, prob, 1.0 - prob)
    loss = -np.log(np.clip(p_true, _EPS, 1.0 - _EPS))
    if not normalize:
        return float(loss.sum() if w is None else np.dot(loss, w))
    return weighted_mean(loss, w, owner)


@register_metric(
    "brier",
    Direction.LOWER,
    ("binary", "multiclass"),
    input="score",
    description="Mean squared error of predicted probabilities.",
)
def brier_score_loss(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    pos_label: Any = None,
    labels: ArrayLike | None = None,
    scale_by_half: bool | str = "auto",
) -> float:
    """Brier score: mean squared difference between predicted probabilities and outcomes.

    Binary (1-D ``y_prob``): ``mean((y - p)^2)`` with ``y`` 1 for the positive class (Brier, 1950).
    Multiclass (2-D): ``mean(sum_c (y_c - p_c)^2)``, halved when there are two columns so that
    both forms agree (scikit-learn 1.9's ``scale_by_half="auto"``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples,) or (n_samples, n_classes)
        Probability of the positive class, or one column per class.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.
    pos_label : label, optional
        Binary positive class. Default: 1 for labels in {0, 1} or {-1, 1}, else the greater label
        (string labels need it).
    labels : array-like, optional
        Multiclass: the classes of the columns.
    scale_by_half : bool or "auto", default="auto"
        Halve the multiclass sum; "auto" halves for one or two columns.

    Returns
    -------
    float
        In [0, 1] (binary). NaN with an UndefinedMetricWarning for empty input.

    References
    ----------
    Brier, G. W. (1950). Verification of forecasts expressed in terms of probability. Monthly
    Weather Review 78(1).

    Examples
    --------
    >>> round(brier_score_loss([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3]), 4)
    0.0375
    """
    owner = "brier_score_loss"
    if not (isinstance(scale_by_half, bool) or scale_by_half == "auto"):
        check_option(scale_by_half, "scale_by_half", owner, ("auto", True, False))
    yt, prob, w = _prepare(y_true, y_prob, sample_weight, owner)
    if yt.size == 0:
        return empty_input(owner)
    if prob.ndim == 2:
        _warn_unnormalised(prob, owner)
        column = _columns(yt, prob.shape[1], labels, owner)
        diff = prob.copy()
        diff[np.arange(yt.size), column] -= 1.0
        per_row = np.einsum("ij,ij->i", diff, diff)
        half = prob.shape[1] < 3 if scale_by_half == "auto" else bool(scale_by_half)
    else:
        positive = binary_positive_mask(yt, pos_label, owner)
        per_row = 2.0 * (positive - prob) ** 2
        half = True if scale_by_half == "auto" else bool(scale_by_half)
    score = weighted_mean(per_row, w, owner)
    return 0.5 * score if half else score


@register_metric(
    "expected_calibration_error",
    Direction.LOWER,
    ("binary", "multiclass"),
    input="score",
    description="Binned mean |observed frequency - predicted probability|.",
)
def expected_calibration_error(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    n_bins: int = 10,
    strategy: str = "uniform",
    pos_label: Any = None,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Expected calibration error: the binned gap between confidence and observed frequency.

    .. math:: \\mathrm{ECE} = \\sum_b \\frac{W_b}{W} \\left| \\bar o_b - \\bar c_b \\right|
              = \\frac{1}{W} \\sum_b \\Big| \\sum_{i \\in b} w_i (o_i - c_i) \\Big|

    * Binary (1-D ``y_prob``), as in Naeini et al. (2015): ``c`` is the predicted probability of
      the positive class and ``o`` the indicator of the positive class, so the bins are those of
      a reliability diagram (scikit-learn's ``calibration_curve``).
    * Multiclass (2-D), top-label ECE of Guo et al. (2017): ``c`` is the highest probability in
      the row and ``o`` whether its class (first column on ties) is the true class.

    Bins are right-closed like ``calibration_curve``: with ``strategy="uniform"`` the edges are
    ``0, 1/B, ..., 1`` and bin ``b`` holds ``(b/B, (b+1)/B]`` (the first also holds 0);
    ``strategy="quantile"`` puts the edges at the (unweighted) quantiles of ``c`` so bins hold
    about the same number of samples. Empty bins contribute nothing. ``n_bins=10`` follows
    Naeini et al.; Guo et al. used 15. The estimate depends on the binning and is biased upwards
    for small samples, so compare values computed with the same settings.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples,) or (n_samples, n_classes)
        Probability of the positive class, or one column per class.
    n_bins : int, default=10
        Number of bins, at least 1.
    strategy : {"uniform", "quantile"}, default="uniform"
        Bin edges: equal width or equal count.
    pos_label : label, optional
        Binary positive class (see :func:`brier_score_loss`).
    labels : array-like, optional
        Multiclass: the classes of the columns.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning for empty input or zero total weight.

    References
    ----------
    Naeini, M. P., Cooper, G., Hauskrecht, M. (2015). Obtaining well calibrated probabilities
    using Bayesian binning. AAAI 2015.
    Guo, C., Pleiss, G., Sun, Y., Weinberger, K. Q. (2017). On calibration of modern neural
    networks. ICML 2017.

    Examples
    --------
    >>> round(expected_calibration_error([0, 0, 1, 1], [0.2, 0.3, 0.7, 0.9], n_bins=2), 4)
    0.225
    """
    owner = "expected_calibration_error"
    n_bins = check_int(n_bins, "n_bins", owner, low=1)
    check_option(strategy, "strategy", owner, ("uniform", "quantile"))
    yt, prob, w = _prepare(y_true, y_prob, sample_weight, owner)
    if yt.size == 0:
        return empty_input(owner)
    if prob.ndim == 2:
        _warn_unnormalised(prob, owner)
        column = _columns(yt, prob.shape[1], labels, owner)
        top = np.argmax(prob, axis=1)
        conf = prob[np.arange(yt.size), top]
        outcome = (top == column).astype(np.float64)
    else:
        conf = prob
        outcome = binary_positive_mask(yt, pos_label, owner).astype(np.float64)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        # the same expression as calibration_curve, so that quantile edges agree to the bit
        edges = np.percentile(conf, np.linspace(0.0, 1.0, n_bins + 1) * 100)
    bins = np.searchsorted(edges[1:-1], conf)
    gap = outcome - conf
    total = float(yt.size) if w is None else float(w.sum())
    if total == 0.0:
        return weighted_mean(gap, w, owner)
    per_bin = np.bincount(bins, weights=gap if w is None else gap * w, minlength=n_bins)
    return float(np.abs(per_bin).sum() / total)

"""Business metrics: conversions and revenue, realised against predicted.

``y_true`` holds what happened per row (converted 0/1, or revenue realised), ``y_pred`` what the
model predicted (conversion label or probability, or revenue). Totals are weighted sums, so
``sample_weight`` can carry e.g. traffic counts of aggregated rows.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._validation import (
    as_1d_float,
    check_consistent_length,
    check_option,
    check_real,
    check_sample_weight,
    undefined,
)
from modelmon.exceptions import ValidationError
from modelmon.metrics._checks import check_reg_targets, empty_input, weighted_mean
from modelmon.metrics.registry import Direction, register_metric

__all__ = [
    "conversion_prediction_accuracy",
    "conversion_rate",
    "predicted_revenue",
    "realised_revenue",
    "revenue_accuracy",
]

_TASKS = ("business",)


def _outcomes(y: ArrayLike, name: str, owner: str) -> NDArray[np.float64]:
    arr = as_1d_float(y, name, owner)
    if arr.size and not np.isin(arr, (0.0, 1.0)).all():
        raise ValidationError(
            f"The {name!r} argument of {owner} must hold 0/1 (or boolean) conversion outcomes.",
            loc=(name,),
        )
    return arr


@register_metric(
    "conversion_rate",
    Direction.HIGHER,
    _TASKS,
    input="label",
    description="Share of rows that converted.",
)
def conversion_rate(
    y_true: ArrayLike,
    y_pred: ArrayLike | None = None,
    *,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Realised conversion rate: the weighted share of rows with ``y_true == 1``.

    ``y_pred`` is only checked for length (accepted so the metric fits the registry's
    ``func(y_true, y_pred)`` call).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 if the row converted, else 0.
    y_pred : array-like of shape (n_samples,), optional
        Ignored except for its length.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights (e.g. visits per row).

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning for empty input or zero total weight.

    Examples
    --------
    >>> conversion_rate([0, 1, 0, 0])
    0.25
    """
    owner = "conversion_rate"
    yt = _outcomes(y_true, "y_true", owner)
    if y_pred is not None:
        yp = as_1d_float(y_pred, "y_pred", owner)
        check_consistent_length([yt, yp], ["y_true", "y_pred"], owner)
    w = check_sample_weight(sample_weight, yt.size, owner)
    return weighted_mean(yt, w, owner)


@register_metric(
    "conversion_prediction_accuracy",
    Direction.HIGHER,
    _TASKS,
    input="score",
    description="Accuracy of predicted conversion (overall, or on converted / non-converted).",
)
def conversion_prediction_accuracy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    threshold: float = 0.5,
    on: str = "all",
    sample_weight: ArrayLike | None = None,
) -> float:
    """How often the predicted conversion matched the outcome.

    ``y_pred`` may be 0/1 predictions or conversion probabilities; a row is predicted to convert
    when ``y_pred >= threshold``. ``on`` picks the rows judged:

    * ``"all"`` (default): accuracy over every row;
    * ``"converted"``: share of converted rows predicted to convert (recall, sensitivity);
    * ``"non_converted"``: share of non-converted rows predicted not to convert (specificity).

    Rare conversions make ``"all"`` look good for a model that never predicts one; the two
    one-sided variants show where it fails.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        1 if the row converted, else 0.
    y_pred : array-like of shape (n_samples,)
        Predicted conversion (0/1) or probability.
    threshold : float, default=0.5
        Decision threshold for probabilities.
    on : {"all", "converted", "non_converted"}, default="all"
        Which rows to judge.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights.

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning when no row is judged (empty input, or no
        converted / non-converted row for the one-sided variants).

    Examples
    --------
    >>> conversion_prediction_accuracy([1, 0, 0, 1], [0.8, 0.3, 0.6, 0.2])
    0.5
    >>> conversion_prediction_accuracy([1, 0, 0, 1], [0.8, 0.3, 0.6, 0.2], on="converted")
    0.5
    """
    owner = "conversion_prediction_accuracy"
    threshold = check_real(threshold, "threshold", owner)
    check_option(on, "on", owner, ("all", "converted", "non_converted"))
    yt = _outcomes(y_true, "y_true", owner)
    yp = as_1d_float(y_pred, "y_pred", owner)
    n = check_consistent_length([yt, yp], ["y_true", "y_pred"], owner)
    w = check_sample_weight(sample_weight, n, owner)
    if n == 0:
        return empty_input(owner)
    converted = yt == 1.0
    hit = ((yp >= threshold) == converted).astype(np.float64)
    if on == "all":
        return weighted_mean(hit, w, owner)
    rows = converted if on == "converted" else ~converted
    if not rows.any():
        return undefined(
            f"{owner} with on={on!r} is undefined: there is no such row. Returning NaN; use "
            "on='all' for the overall accuracy."
        )
    return weighted_mean(hit[rows], None if w is None else w[rows], owner)


def _total(x: NDArray[np.float64], w: NDArray[np.float64] | None) -> float:
    return float(x.sum() if w is None else np.dot(x, w))


@register_metric(
    "predicted_revenue",
    Direction.UNKNOWN,
    _TASKS,
    input="value",
    description="Total predicted revenue (weighted sum of y_pred).",
)
def predicted_revenue(
    y_true: ArrayLike | None,
    y_pred: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Total predicted revenue ``sum w * y_pred``.

    ``y_true`` is only checked for length (pass None when outcomes are not known yet).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or None
        Ignored except for its length.
    y_pred : array-like of shape (n_samples,)
        Predicted revenue per row.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights.

    Returns
    -------
    float
        A total: 0.0 for empty input.

    Examples
    --------
    >>> predicted_revenue(None, [10.0, 0.0, 25.5])
    35.5
    """
    owner = "predicted_revenue"
    yp = as_1d_float(y_pred, "y_pred", owner)
    if y_true is not None:
        yt = as_1d_float(y_true, "y_true", owner)
        check_consistent_length([yt, yp], ["y_true", "y_pred"], owner)
    return _total(yp, check_sample_weight(sample_weight, yp.size, owner))


@register_metric(
    "realised_revenue",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="Total realised revenue (weighted sum of y_true).",
)
def realised_revenue(
    y_true: ArrayLike,
    y_pred: ArrayLike | None = None,
    *,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Total realised revenue ``sum w * y_true``.

    ``y_pred`` is only checked for length.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Realised revenue per row.
    y_pred : array-like of shape (n_samples,), optional
        Ignored except for its length.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights.

    Returns
    -------
    float
        A total: 0.0 for empty input.

    Examples
    --------
    >>> realised_revenue([12.0, 0.0, 20.0])
    32.0
    """
    owner = "realised_revenue"
    yt = as_1d_float(y_true, "y_true", owner)
    if y_pred is not None:
        yp = as_1d_float(y_pred, "y_pred", owner)
        check_consistent_length([yt, yp], ["y_true", "y_pred"], owner)
    return _total(yt, check_sample_weight(sample_weight, yt.size, owner))


def _revenue_accuracy_from_totals(predicted: float, realised: float, owner: str) -> float:
    """``1 - |P - R| / |R|`` with the zero policy of :func:`revenue_accuracy`."""
    if realised == 0.0:
        if predicted == 0.0:
            return 1.0
        return undefined(
            f"{owner} is undefined: realised revenue is 0 but {predicted:g} was predicted. "
            "Returning NaN; compare the totals with predicted_revenue and realised_revenue.",
            stacklevel=4,
        )
    return 1.0 - abs(predicted - realised) / abs(realised)


@register_metric(
    "revenue_accuracy",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="1 - |predicted total - realised total| / |realised total|.",
)
def revenue_accuracy(
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    """Accuracy of the predicted revenue total: ``1 - |P - R| / |R|``.

    ``P`` and ``R`` are the weighted totals of ``y_pred`` and ``y_true``. 1 is a perfect total;
    0 means the error equals the realised revenue; it is negative when the error is larger (not
    clipped, so large misses stay visible). Row-level errors of opposite sign cancel: this
    judges the total, as a forecast of revenue is used; see :func:`mean_absolute_error` for
    rows.

    Zero policy: if ``R == 0`` the ratio is undefined — the result is 1.0 when ``P == 0`` too
    (nothing predicted, nothing earned), otherwise NaN with an UndefinedMetricWarning.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Realised and predicted revenue per row.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights.

    Returns
    -------
    float
        At most 1. NaN with an UndefinedMetricWarning for empty input.

    Examples
    --------
    >>> revenue_accuracy([100.0, 50.0], [90.0, 75.0])
    0.9
    """
    owner = "revenue_accuracy"
    yt, yp, w = check_reg_targets(y_true, y_pred, owner, sample_weight)
    if yt.size == 0:
        return empty_input(owner)
    return _revenue_accuracy_from_totals(_total(yp, w), _total(yt, w), owner)

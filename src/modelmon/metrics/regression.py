"""Regression metrics: errors, R², percentage errors, bias and the shape of the residuals.

Shared conventions (each checked against scikit-learn 1.9 / SciPy 1.17 in the tests):

* Inputs are 1-D numeric arrays of equal length; NaN and infinities raise
  :class:`~modelmon.exceptions.ValidationError` (drop or impute them first).
* Empty input warns (:class:`~modelmon.exceptions.UndefinedMetricWarning`) and returns NaN;
  scikit-learn raises.
* ``error = y_pred - y_true`` (positive when the model over-predicts, the sign of
  :func:`mean_error`); ``residual = y_true - y_pred`` (the statistical convention: observed minus
  fitted), so ``residual_mean == -mean_error``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._validation import check_bool, check_int, check_option, undefined
from modelmon.exceptions import UndefinedMetricWarning, ValidationError
from modelmon.metrics._checks import check_reg_targets, empty_input, weighted_mean
from modelmon.metrics.registry import Direction, register_metric

__all__ = [
    "max_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_error",
    "mean_squared_error",
    "median_absolute_error",
    "r2_score",
    "residual_kurtosis",
    "residual_mean",
    "residual_skewness",
    "residual_std",
    "root_mean_squared_error",
    "symmetric_mean_absolute_percentage_error",
]

_TASKS = ("regression",)
_EPS = float(np.finfo(np.float64).eps)
ZERO_POLICIES = ("exclude", "epsilon", "raise")


@register_metric("mse", Direction.LOWER, _TASKS, input="value", description="Mean squared error.")
def mean_squared_error(
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    """Mean squared error ``sum w (y_pred - y_true)^2 / sum w``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for empty input or zero total weight.

    Examples
    --------
    >>> mean_squared_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.375
    """
    yt, yp, w = check_reg_targets(y_true, y_pred, "mean_squared_error", sample_weight)
    d = yp - yt
    return weighted_mean(d * d, w, "mean_squared_error")


@register_metric(
    "rmse", Direction.LOWER, _TASKS, input="value", description="Root mean squared error."
)
def root_mean_squared_error(
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    """Root mean squared error, ``sqrt(mean_squared_error)``, in the units of ``y``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for empty input or zero total weight.

    Examples
    --------
    >>> round(root_mean_squared_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]), 4)
    0.6124
    """
    yt, yp, w = check_reg_targets(y_true, y_pred, "root_mean_squared_error", sample_weight)
    d = yp - yt
    return math.sqrt(weighted_mean(d * d, w, "root_mean_squared_error"))


@register_metric("mae", Direction.LOWER, _TASKS, input="value", description="Mean absolute error.")
def mean_absolute_error(
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    """Mean absolute error ``sum w |y_pred - y_true| / sum w``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for empty input or zero total weight.

    Examples
    --------
    >>> mean_absolute_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.5
    """
    yt, yp, w = check_reg_targets(y_true, y_pred, "mean_absolute_error", sample_weight)
    return weighted_mean(np.abs(yp - yt), w, "mean_absolute_error")


def _weighted_median(x: NDArray[np.float64], w: NDArray[np.float64]) -> float:
    """Weighted median by the averaged inverted CDF (scikit-learn's ``_weighted_percentile``).

    Where the cumulative weight reaches exactly half the total at a sample, the median is the
    mean of that value and the next one; otherwise it is the first value whose cumulative weight
    exceeds half. Zero-weight samples are ignored. Returns NaN when every weight is zero.
    """
    keep = w > 0
    x, w = x[keep], w[keep]
    if x.size == 0:
        return math.nan
    order = np.argsort(x)
    xs = x[order]
    cdf = np.cumsum(w[order])
    half = 0.5 * cdf[-1]
    i = min(int(np.searchsorted(cdf, half)), xs.size - 1)
    if cdf[i] - half > _EPS:
        return float(xs[i])
    return float((xs[i] + xs[min(i + 1, xs.size - 1)]) / 2)


@register_metric(
    "median_ae",
    Direction.LOWER,
    _TASKS,
    input="value",
    description="Median absolute error (robust to outliers).",
)
def median_absolute_error(
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    """Median of ``|y_pred - y_true|``; robust to a few wild errors.

    With weights, the weighted median by the averaged inverted CDF (scikit-learn's rule): where
    the cumulative weight hits exactly half, the two neighbouring values are averaged.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for empty input or zero total weight.

    Examples
    --------
    >>> median_absolute_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.5
    """
    owner = "median_absolute_error"
    yt, yp, w = check_reg_targets(y_true, y_pred, owner, sample_weight)
    if yt.size == 0:
        return empty_input(owner)
    err = np.abs(yp - yt)
    if w is None:
        return float(np.median(err))
    value = _weighted_median(err, w)
    if math.isnan(value):
        return undefined(f"{owner} is undefined: the sample weights sum to zero. Returning NaN.")
    return value


@register_metric(
    "max_error",
    Direction.LOWER,
    _TASKS,
    input="value",
    description="Largest absolute error (worst case).",
)
def max_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Largest absolute error ``max |y_pred - y_true|``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for empty input.

    Examples
    --------
    >>> max_error([3, 2, 7, 1], [4, 2, 7, 1])
    1.0
    """
    yt, yp, _ = check_reg_targets(y_true, y_pred, "max_error")
    if yt.size == 0:
        return empty_input("max_error")
    return float(np.max(np.abs(yp - yt)))


def _r2_from_sums(ss_res: float, ss_tot: float, n: int, force_finite: bool, owner: str) -> float:
    """R² from the residual and total sums of squares, with the edge-case policy of r2_score."""
    if n < 2:
        return undefined(
            f"{owner}: R^2 score is not well-defined with less than two samples. Returning NaN.",
            stacklevel=4,
        )
    if ss_tot == 0.0:
        if force_finite:
            return 1.0 if ss_res == 0.0 else 0.0
        return undefined(
            f"{owner}: R^2 is undefined because y_true is constant. Returning NaN; use "
            "force_finite=True for scikit-learn's convention (1.0 if predictions are perfect, "
            "else 0.0).",
            stacklevel=4,
        )
    return 1.0 - ss_res / ss_tot


@register_metric(
    "r2",
    Direction.HIGHER,
    _TASKS,
    input="value",
    description="Coefficient of determination: share of variance explained.",
)
def r2_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    force_finite: bool = False,
) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot``.

    ``SS_res = sum w (y_true - y_pred)^2`` and ``SS_tot = sum w (y_true - mean_w(y_true))^2``.
    The best score is 1; a model predicting the mean scores 0; worse models score below 0.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.
    force_finite : bool, default=False
        What to return when ``y_true`` is constant (``SS_tot = 0``). False: NaN with an
        UndefinedMetricWarning (the ratio is undefined). True: scikit-learn's convention, 1.0 for
        perfect predictions and 0.0 otherwise. scikit-learn's default is True; modelmon's is
        False so that a constant window reads "unknown" rather than "no skill".

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for fewer than two samples (as scikit-learn).

    Examples
    --------
    >>> round(r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]), 4)
    0.9486
    """
    owner = "r2_score"
    force_finite = check_bool(force_finite, "force_finite", owner)
    yt, yp, w = check_reg_targets(y_true, y_pred, owner, sample_weight)
    if yt.size == 0:
        return empty_input(owner)
    d = yt - yp
    if w is None:
        ss_res = float(np.dot(d, d))
        c = yt - yt.mean()
        ss_tot = float(np.dot(c, c))
    else:
        if float(w.sum()) == 0.0:
            return undefined(f"{owner} is undefined: the sample weights sum to zero.")
        ss_res = float(np.dot(w, d * d))
        c = yt - np.dot(w, yt) / w.sum()
        ss_tot = float(np.dot(w, c * c))
        weighted = yt[w > 0]
        if weighted.min() == weighted.max():
            # constant y_true where it counts: the weighted mean may round off that value and
            # leave a total sum of squares of 1e-36 (scikit-learn then answers -6e31)
            ss_tot = 0.0
    return _r2_from_sums(ss_res, ss_tot, yt.size, force_finite, owner)


def _check_zero_policy(zero_policy: Any, owner: str) -> str:
    return str(check_option(zero_policy, "zero_policy", owner, ZERO_POLICIES))


def _ape_terms(
    yt: NDArray[np.float64],
    yp: NDArray[np.float64],
    zero_policy: str,
    owner: str,
) -> tuple[NDArray[np.float64], NDArray[np.bool_] | None]:
    """Absolute percentage errors and the mask of kept rows (None: all kept).

    A ratio beyond the float range (a subnormal actual) becomes inf here, without NumPy's
    RuntimeWarning; :func:`_mape_value` turns a non-finite mean into NaN with a warning.
    """
    abs_true = np.abs(yt)
    if zero_policy == "epsilon":
        with np.errstate(over="ignore"):
            return np.abs(yp - yt) / np.maximum(abs_true, _EPS), None
    zero = abs_true == 0.0
    if not zero.any():
        with np.errstate(over="ignore"):
            return np.abs(yp - yt) / abs_true, None
    if zero_policy == "raise":
        raise ValidationError(
            f"{int(zero.sum())} of {yt.size} values of y_true are 0 in {owner}, where the "
            "percentage error is undefined. Use zero_policy='exclude' to leave those rows out or "
            "zero_policy='epsilon' to divide by max(|y_true|, eps) as scikit-learn does.",
            loc=("y_true",),
        )
    keep = ~zero
    with np.errstate(over="ignore"):
        return np.abs(yp[keep] - yt[keep]) / abs_true[keep], keep


def _mape_value(total: float, weight: float, owner: str) -> float:
    """Mean of the percentage errors; NaN with a warning where it is not finite or has no weight."""
    if weight == 0.0:
        return undefined(
            f"{owner} is undefined: the sample weights sum to zero. Returning NaN.", stacklevel=4
        )
    value = total / weight
    if not math.isfinite(value):
        return undefined(
            f"{owner} overflowed: some |y_true| is so close to 0 that the percentage error "
            "exceeds the float range. Returning NaN; treat such actuals as 0 (they are then "
            "handled by zero_policy=).",
            stacklevel=4,
        )
    return value


def _warn_excluded_zeros(n_zero: float, n_total: float, owner: str, stacklevel: int = 3) -> None:
    """The warning of the ``zero_policy="exclude"`` rule."""
    warnings.warn(
        f"{int(n_zero)} of {int(n_total)} rows have y_true == 0, where the percentage error is "
        f"undefined; they were excluded from {owner}. Use zero_policy='epsilon' "
        "(scikit-learn's behaviour: divide by max(|y_true|, eps)) or zero_policy='raise' to "
        "change this.",
        UndefinedMetricWarning,
        stacklevel=stacklevel,
    )


@register_metric(
    "mape",
    Direction.LOWER,
    _TASKS,
    input="value",
    description="Mean absolute percentage error (fraction; rows with y_true == 0 excluded).",
)
def mean_absolute_percentage_error(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    zero_policy: str = "exclude",
) -> float:
    """Mean absolute percentage error ``mean(|y_pred - y_true| / |y_true|)``, as a fraction.

    The ratio is undefined where ``y_true == 0``. ``zero_policy`` decides what happens there:

    * ``"exclude"`` (default): those rows are left out of the mean, with an
      UndefinedMetricWarning saying how many; if every row is zero the result is NaN.
    * ``"epsilon"``: divide by ``max(|y_true|, eps)`` with ``eps`` the float64 machine epsilon —
      scikit-learn's behaviour, which turns any error on a zero actual into a huge (finite) value.
    * ``"raise"``: raise a ValidationError.

    No policy produces a silent infinity.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.
    zero_policy : {"exclude", "epsilon", "raise"}, default="exclude"
        Handling of zero actuals, see above.

    Returns
    -------
    float
        Not multiplied by 100: 0.1 means 10 %. NaN with an UndefinedMetricWarning for empty
        input, zero total weight or all-zero ``y_true`` (with ``"exclude"``).

    Examples
    --------
    >>> mean_absolute_percentage_error([100, 200, 50], [110, 180, 50])
    0.0666...
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     mean_absolute_percentage_error([0, 100], [5, 90])
    0.1
    """
    owner = "mean_absolute_percentage_error"
    policy = _check_zero_policy(zero_policy, owner)
    yt, yp, w = check_reg_targets(y_true, y_pred, owner, sample_weight)
    if yt.size == 0:
        return empty_input(owner)
    terms, keep = _ape_terms(yt, yp, policy, owner)
    if keep is not None:
        n_zero = yt.size - int(keep.sum())
        if terms.size == 0:
            return undefined(
                f"{owner} is undefined: every value of y_true is 0. Returning NaN; use "
                "zero_policy='epsilon' for scikit-learn's behaviour.",
            )
        _warn_excluded_zeros(n_zero, yt.size, owner)
        if w is not None:
            w = w[keep]
    if w is None:
        return _mape_value(float(terms.sum()), float(terms.size), owner)
    with np.errstate(invalid="ignore"):  # inf * 0 weight
        return _mape_value(float(np.dot(terms, w)), float(w.sum()), owner)


@register_metric(
    "smape",
    Direction.LOWER,
    _TASKS,
    input="value",
    description="Symmetric MAPE, 2|e| / (|y| + |y_hat|), in [0, 2].",
)
def symmetric_mean_absolute_percentage_error(
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    """Symmetric mean absolute percentage error, as a fraction in [0, 2].

    .. math:: \\mathrm{sMAPE} = \\frac{1}{n} \\sum_i
              \\frac{2 |\\hat y_i - y_i|}{|y_i| + |\\hat y_i|}

    the form used in the M3 and M4 forecasting competitions (Makridakis & Hibon, 2000;
    Makridakis et al., 2020), without the factor 100. A zero actual is no problem unless the
    prediction is zero too: a row with ``y_true == y_pred == 0`` is a perfect prediction and
    contributes 0 (the 0/0 is defined so); a zero actual with a non-zero prediction contributes
    the maximum, 2. There is therefore no ``zero_policy`` here.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for empty input or zero total weight.

    References
    ----------
    Makridakis, S., Hibon, M. (2000). The M3-Competition: results, conclusions and
    implications. International Journal of Forecasting 16(4).

    Examples
    --------
    >>> round(symmetric_mean_absolute_percentage_error([100, 0, 0], [110, 0, 5]), 4)
    0.6984
    """
    owner = "symmetric_mean_absolute_percentage_error"
    yt, yp, w = check_reg_targets(y_true, y_pred, owner, sample_weight)
    return weighted_mean(_smape_terms(yt, yp), w, owner)


def _smape_terms(yt: NDArray[np.float64], yp: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per-row sMAPE terms, 0 where both values are 0."""
    denom = np.abs(yt) + np.abs(yp)
    num = 2.0 * np.abs(yp - yt)
    both_zero = denom == 0.0
    return np.divide(num, np.where(both_zero, 1.0, denom))


@register_metric(
    "mean_error",
    Direction.TARGET,
    _TASKS,
    input="value",
    target=0.0,
    description="Bias: mean of y_pred - y_true (positive = over-prediction).",
)
def mean_error(
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    """Mean error (bias) ``mean(y_pred - y_true)``: positive when the model over-predicts.

    Best at 0; errors of opposite sign cancel, so read it beside :func:`mean_absolute_error`.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for empty input or zero total weight.

    Examples
    --------
    >>> mean_error([10, 20, 30], [12, 21, 30])
    1.0
    """
    yt, yp, w = check_reg_targets(y_true, y_pred, "mean_error", sample_weight)
    return weighted_mean(yp - yt, w, "mean_error")


@register_metric(
    "residual_mean",
    Direction.TARGET,
    _TASKS,
    input="value",
    target=0.0,
    description="Mean of y_true - y_pred (= -mean_error).",
)
def residual_mean(
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    """Mean residual ``mean(y_true - y_pred)``; equals ``-mean_error``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for empty input or zero total weight.

    Examples
    --------
    >>> residual_mean([10, 20, 30], [12, 21, 30])
    -1.0
    """
    yt, yp, w = check_reg_targets(y_true, y_pred, "residual_mean", sample_weight)
    return weighted_mean(yt - yp, w, "residual_mean")


@register_metric(
    "residual_std",
    Direction.LOWER,
    _TASKS,
    input="value",
    description="Standard deviation of the residuals y_true - y_pred.",
)
def residual_std(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    ddof: int = 1,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Standard deviation of the residuals ``y_true - y_pred``.

    .. math:: s = \\sqrt{\\frac{\\sum_i w_i (r_i - \\bar r_w)^2}{\\sum_i w_i - \\mathrm{ddof}}}

    Weights are frequency weights (``numpy.cov``'s ``fweights``): a weight of 3 counts a row
    three times, so ``ddof`` is subtracted from the total weight.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.
    ddof : int, default=1
        Delta degrees of freedom: 1 for the sample standard deviation, 0 for the population one
        (``numpy.std``'s default).
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative frequency weights.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning when ``sum(w) - ddof <= 0`` (e.g. one sample with
        ``ddof=1``) or for empty input.

    Examples
    --------
    >>> residual_std([1, 2, 3, 4], [1, 1, 1, 1])
    1.2909...
    """
    owner = "residual_std"
    ddof = check_int(ddof, "ddof", owner, low=0)
    yt, yp, w = check_reg_targets(y_true, y_pred, owner, sample_weight)
    if yt.size == 0:
        return empty_input(owner)
    r = yt - yp
    total = float(r.size) if w is None else float(w.sum())
    if total - ddof <= 0:
        return undefined(
            f"{owner} is undefined: the total weight {total:g} is not above ddof={ddof}. "
            "Returning NaN; use a smaller ddof= or more samples.",
        )
    if w is None:
        c = r - r.mean()
        return math.sqrt(float(np.dot(c, c)) / (total - ddof))
    c = r - np.dot(w, r) / total
    return math.sqrt(float(np.dot(w, c * c)) / (total - ddof))


def _central_moments(
    r: NDArray[np.float64], owner: str
) -> tuple[float, float, float, float] | None:
    """``(n, m2, m3, m4)`` of ``r``; None (after a warning) when the moments are degenerate."""
    n = r.size
    mean = float(r.mean())
    c = r - mean
    c2 = c * c
    m2 = float(c2.mean())
    # scipy.stats.skew/kurtosis treat m2 below (eps * mean)^2 as zero: constant data.
    if m2 <= (_EPS * mean) ** 2:
        undefined(
            f"{owner} is undefined: the residuals are constant (zero variance). Returning NaN.",
            stacklevel=5,
        )
        return None
    m3 = float(np.dot(c2, c) / n)
    m4 = float(np.dot(c2, c2) / n)
    return float(n), m2, m3, m4


@register_metric(
    "residual_skewness",
    Direction.TARGET,
    _TASKS,
    input="value",
    target=0.0,
    description="Skewness of the residuals (0 for symmetric errors).",
)
def residual_skewness(y_true: ArrayLike, y_pred: ArrayLike, *, bias: bool = True) -> float:
    """Sample skewness of the residuals ``y_true - y_pred``, as ``scipy.stats.skew``.

    With central moments ``m_k = mean((r - mean(r))^k)``:

    * ``bias=True`` (default, SciPy's default): ``g1 = m3 / m2^(3/2)``;
    * ``bias=False``: the adjusted Fisher–Pearson coefficient
      ``G1 = g1 * sqrt(n (n - 1)) / (n - 2)`` (needs n > 2).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.
    bias : bool, default=True
        If False, correct for statistical bias.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for constant residuals, empty input, or n <= 2 with
        ``bias=False``.

    References
    ----------
    Joanes, D. N., Gill, C. A. (1998). Comparing measures of sample skewness and kurtosis.
    Journal of the Royal Statistical Society D 47(1).

    Examples
    --------
    >>> round(residual_skewness([1, 2, 3, 10], [0, 0, 0, 0]), 4)
    1.0182
    """
    owner = "residual_skewness"
    bias = check_bool(bias, "bias", owner)
    yt, yp, _ = check_reg_targets(y_true, y_pred, owner)
    if yt.size == 0:
        return empty_input(owner)
    moments = _central_moments(yt - yp, owner)
    if moments is None:
        return math.nan
    n, m2, m3, _ = moments
    g1 = m3 / m2**1.5
    if bias:
        return g1
    if n <= 2:
        return undefined(
            f"{owner} with bias=False needs more than two samples. Returning NaN; use bias=True.",
        )
    return g1 * math.sqrt(n * (n - 1)) / (n - 2)


@register_metric(
    "residual_kurtosis",
    Direction.TARGET,
    _TASKS,
    input="value",
    target=0.0,
    description="Excess kurtosis of the residuals (0 for normal errors).",
)
def residual_kurtosis(
    y_true: ArrayLike, y_pred: ArrayLike, *, fisher: bool = True, bias: bool = True
) -> float:
    """Sample kurtosis of the residuals ``y_true - y_pred``, as ``scipy.stats.kurtosis``.

    * ``bias=True`` (default, SciPy's default): ``g2 = m4 / m2^2``, minus 3 when ``fisher``
      (excess kurtosis: 0 for normally distributed errors, positive for heavy tails);
    * ``bias=False``: the unbiased estimator under normality,
      ``((n^2 - 1) m4 / m2^2 - 3 (n - 1)^2) / ((n - 2)(n - 3)) + 3`` (minus 3 when ``fisher``);
      needs n > 3.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.
    fisher : bool, default=True
        Excess kurtosis (Fisher) if True, plain (Pearson) if False.
    bias : bool, default=True
        If False, correct for statistical bias.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning for constant residuals, empty input, or n <= 3 with
        ``bias=False``.

    References
    ----------
    Joanes, D. N., Gill, C. A. (1998). Comparing measures of sample skewness and kurtosis.
    Journal of the Royal Statistical Society D 47(1).

    Examples
    --------
    >>> round(residual_kurtosis([1, 2, 3, 10], [0, 0, 0, 0]), 4)
    -0.7696
    """
    owner = "residual_kurtosis"
    fisher = check_bool(fisher, "fisher", owner)
    bias = check_bool(bias, "bias", owner)
    yt, yp, _ = check_reg_targets(y_true, y_pred, owner)
    if yt.size == 0:
        return empty_input(owner)
    moments = _central_moments(yt - yp, owner)
    if moments is None:
        return math.nan
    n, m2, _, m4 = moments
    if bias:
        value = m4 / (m2 * m2)
    else:
        if n <= 3:
            return undefined(
                f"{owner} with bias=False needs more than three samples. Returning NaN; use "
                "bias=True.",
            )
        value = ((n * n - 1.0) * m4 / (m2 * m2) - 3.0 * (n - 1.0) ** 2) / ((n - 2.0) * (n - 3.0))
        value += 3.0
    return value - 3.0 if fisher else value

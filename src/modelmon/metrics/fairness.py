"""Fairness across a segment column: any metric per group, parity and odds gaps.

A *group* is a value of the segment column ``groups`` (fairlearn calls it
``sensitive_features``). The definitions follow fairlearn 0.13:

* selection rate ``SR_g``: share of positive predictions in group ``g``
  (:func:`~modelmon.metrics.positive_rate`);
* demographic parity difference ``max_g SR_g - min_g SR_g`` and ratio
  ``min_g SR_g / max_g SR_g``;
* equal opportunity difference: the same gap of true positive rates ``TPR_g``;
* equalized odds difference ``max(TPR gap, FPR gap)`` (``agg="worst_case"``) or their mean
  (``agg="mean"``), and the ratio analogues with ``min``.

``method="to_overall"`` compares every group with the whole population instead of with each
other: the difference is ``max_g |m_g - m_all|`` and the ratio ``min_g min(m_g / m_all,
m_all / m_g)``.

One deliberate difference from fairlearn: a group where a rate is undefined (e.g. no positive
sample, so no TPR) is left out of the gap with an
:class:`~modelmon.exceptions.UndefinedMetricWarning`; fairlearn scores it 0 (through
scikit-learn's ``confusion_matrix(normalize="true")``), which makes the gap look as large as it
can be.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._results import Result
from modelmon._validation import (
    as_1d,
    check_consistent_length,
    check_option,
    check_sample_weight,
    undefined,
)
from modelmon.exceptions import ParameterError, UndefinedMetricWarning, ValidationError
from modelmon.metrics._checks import check_label_targets, label_index
from modelmon.metrics.registry import Direction, default_registry, get_metric, register_metric

__all__ = [
    "MetricByGroup",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "metric_by_group",
    "worst_group_metric",
]

_TASKS = ("fairness",)
METHODS = ("between_groups", "to_overall")


def _check_groups(groups: ArrayLike, owner: str) -> tuple[NDArray[Any], NDArray[np.intp]]:
    arr = as_1d(groups, "groups", owner)
    if arr.dtype.kind == "f" and arr.size and np.isnan(arr).any():
        raise ValidationError(
            f"The 'groups' argument of {owner} contains NaN. Give missing segments a name first.",
            loc=("groups",),
        )
    if arr.dtype.kind == "O" and any(v is None or v != v for v in arr.tolist()):
        raise ValidationError(
            f"The 'groups' argument of {owner} contains missing values (None or NaN). Give "
            "missing segments a name first.",
            loc=("groups",),
        )
    try:
        labels, codes = np.unique(arr, return_inverse=True)
    except TypeError:
        raise ValidationError(
            f"The 'groups' argument of {owner} holds values that cannot be compared "
            "(mixed types?).",
            code="invalid_type",
            loc=("groups",),
        ) from None
    return labels, codes.reshape(-1).astype(np.intp, copy=False)


def _aggregate(
    values: NDArray[np.float64],
    overall: float,
    how: str,
    method: str,
    owner: str,
) -> float:
    """Difference or ratio of per-group values (NaN groups left out)."""
    v = values[~np.isnan(values)]
    if v.size == 0:
        return undefined(f"{owner} is undefined: no group has a defined value.", stacklevel=4)
    if method == "between_groups":
        lo, hi = float(v.min()), float(v.max())
        if how == "difference":
            return hi - lo
        if hi == 0.0:
            return undefined(
                f"{owner} is undefined: every group's value is 0, so the ratio is 0/0.",
                stacklevel=4,
            )
        return lo / hi
    if math.isnan(overall):
        return undefined(f"{owner} is undefined: the overall value is undefined.", stacklevel=4)
    if how == "difference":
        return float(np.max(np.abs(v - overall)))
    if overall == 0.0 or (v == 0.0).any():
        return undefined(
            f"{owner} is undefined: a ratio to the overall value divides by 0.", stacklevel=4
        )
    r = v / overall
    return float(np.min(np.minimum(r, 1.0 / r)))


@dataclass(frozen=True)
class MetricByGroup(Result):
    """A metric computed on every group of a segment column, and on all rows.

    Attributes
    ----------
    metric : str
        Registry name of the metric (or the function's name).
    direction : str
        ``"higher"``, ``"lower"``, ``"target"`` or ``"unknown"`` (a :class:`Direction` value).
    target : float or None
        Best value for ``direction == "target"``.
    groups : tuple
        Group values, sorted.
    values : tuple of float
        Metric per group (NaN where undefined for the group).
    sizes : tuple of int
        Rows per group.
    weights : tuple of float
        Total sample weight per group (equal to ``sizes`` without weights).
    overall : float
        Metric on all rows.

    Examples
    --------
    >>> r = metric_by_group("recall", [1, 1, 1, 1], [1, 0, 1, 1], ["a", "a", "b", "b"])
    >>> r.by_group(), r.overall
    ({'a': 0.5, 'b': 1.0}, 0.75)
    >>> r.ratio(), r.worst()
    (0.5, ('a', 0.5))
    """

    metric: str
    direction: str
    target: float | None
    groups: tuple[Any, ...]
    values: tuple[float, ...]
    sizes: tuple[int, ...]
    weights: tuple[float, ...]
    overall: float

    def by_group(self) -> dict[Any, float]:
        """``{group: value}``."""
        return dict(zip(self.groups, self.values, strict=True))

    def difference(self, method: str = "between_groups") -> float:
        """Largest gap between groups (or to the overall value); NaN groups left out."""
        check_option(method, "method", "MetricByGroup.difference", METHODS)
        return _aggregate(
            np.asarray(self.values, dtype=np.float64),
            self.overall,
            "difference",
            method,
            f"difference of {self.metric} by group",
        )

    def ratio(self, method: str = "between_groups") -> float:
        """Smallest ratio between groups (or to the overall value); NaN groups left out."""
        check_option(method, "method", "MetricByGroup.ratio", METHODS)
        return _aggregate(
            np.asarray(self.values, dtype=np.float64),
            self.overall,
            "ratio",
            method,
            f"ratio of {self.metric} by group",
        )

    def worst(self) -> tuple[Any, float]:
        """``(group, value)`` of the worst group by the metric's direction; NaN groups skipped.

        Lowest value for ``"higher"`` metrics, highest for ``"lower"``, farthest from the target
        for ``"target"``. An ``"unknown"`` direction raises: pass ``direction=`` to
        :func:`metric_by_group`.
        """
        v = np.asarray(self.values, dtype=np.float64)
        ok = ~np.isnan(v)
        if not ok.any():
            message = f"The worst group of {self.metric} is undefined: no group has a value."
            return None, undefined(message, stacklevel=3)
        direction = Direction(self.direction)
        if direction is Direction.UNKNOWN:
            raise ParameterError(
                f"The direction of metric {self.metric!r} is unknown, so there is no worst group. "
                "Pass direction= ('higher', 'lower' or 'target' with target=).",
                loc=("direction",),
            )
        if direction is Direction.HIGHER:
            key = np.where(ok, -v, -np.inf)
        elif direction is Direction.LOWER:
            key = np.where(ok, v, -np.inf)
        else:
            target = 0.0 if self.target is None else self.target
            key = np.where(ok, np.abs(v - target), -np.inf)
        i = int(np.argmax(key))
        return self.groups[i], float(v[i])


def _resolve_metric(
    metric: str | Callable[..., Any],
    direction: Direction | str | None,
    target: float | None,
) -> tuple[str, Callable[..., Any], Direction, float | None]:
    if isinstance(metric, str):
        info = get_metric(metric)
        name, func, found_dir, found_target = info.name, info.func, info.direction, info.target
    elif callable(metric):
        found = [i for i in default_registry if i.func is metric]
        name = found[0].name if found else getattr(metric, "__name__", "metric")
        func = metric
        found_dir = found[0].direction if found else Direction.UNKNOWN
        found_target = found[0].target if found else None
    else:
        raise ParameterError(
            "The 'metric' parameter of metric_by_group must be a registered metric name or a "
            f"callable. Got {metric!r} instead.",
            loc=("metric",),
        )
    if direction is not None:
        found_dir = Direction(direction)
        found_target = target if target is not None else found_target
    elif target is not None:
        found_target = target
    return name, func, found_dir, found_target


def metric_by_group(
    metric: str | Callable[..., Any],
    y_true: ArrayLike | None,
    y_pred: ArrayLike,
    groups: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    direction: Direction | str | None = None,
    target: float | None = None,
    **metric_kwargs: Any,
) -> MetricByGroup:
    """Compute a metric on every group of a segment column (and on all rows).

    Parameters
    ----------
    metric : str or callable
        A registered metric name (``"f1"``, ``"mae"``, ...; see
        :func:`~modelmon.metrics.metric_names`) or a function ``f(y_true, y_pred, **kwargs)``.
    y_true : array-like of shape (n_samples,) or None
        True values.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_classes)
        Predictions (labels, scores or values, whatever the metric takes).
    groups : array-like of shape (n_samples,)
        Segment of each row (strings or numbers; NaN/None are rejected).
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights, passed to the metric per group.
    direction : Direction or str, optional
        Override the metric's direction (needed for :meth:`MetricByGroup.worst` of a callable
        that is not in the registry).
    target : float, optional
        Best value for ``direction="target"``.
    **metric_kwargs
        Passed to the metric, e.g. ``average="macro"``.

    Returns
    -------
    MetricByGroup
        Groups where the metric is undefined hold NaN (the metric's own warning is shown).

    Examples
    --------
    >>> r = metric_by_group("accuracy", [1, 0, 1, 1], [1, 0, 0, 0], ["a", "a", "b", "b"])
    >>> r.by_group()
    {'a': 1.0, 'b': 0.0}
    >>> r.difference(), r.worst()
    (1.0, ('b', 0.0))
    """
    owner = "metric_by_group"
    name, func, found_dir, found_target = _resolve_metric(metric, direction, target)
    labels, codes = _check_groups(groups, owner)
    yp = np.asarray(y_pred)
    yt = None if y_true is None else np.asarray(y_true)
    arrays = [codes, yp if yp.ndim else None, yt if yt is not None and yt.ndim else None]
    n = check_consistent_length(arrays, ["groups", "y_pred", "y_true"], owner)
    w = check_sample_weight(sample_weight, n, owner)
    if w is not None and "sample_weight" not in inspect.signature(func).parameters:
        raise ParameterError(
            f"Metric {name!r} does not take sample weights; call metric_by_group without "
            "sample_weight.",
            loc=("sample_weight",),
        )
    kwargs = dict(metric_kwargs)
    counts = np.bincount(codes, minlength=labels.size)
    group_weight = (
        counts.astype(np.float64)
        if w is None
        else np.bincount(codes, weights=w, minlength=labels.size)
    )
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(counts)))
    values: list[float] = []
    for g in range(labels.size):
        idx = order[bounds[g] : bounds[g + 1]]
        if w is not None:
            kwargs["sample_weight"] = w[idx]
        values.append(float(func(None if yt is None else yt[idx], yp[idx], **kwargs)))
    if w is not None:
        kwargs["sample_weight"] = w
    overall = float(func(yt, yp, **kwargs))
    return MetricByGroup(
        metric=name,
        direction=found_dir.value,
        target=found_target,
        groups=tuple(labels.tolist()),
        values=tuple(values),
        sizes=tuple(int(c) for c in counts),
        weights=tuple(float(x) for x in group_weight),
        overall=overall,
    )


def worst_group_metric(
    metric: str | Callable[..., Any],
    y_true: ArrayLike | None,
    y_pred: ArrayLike,
    groups: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    direction: Direction | str | None = None,
    target: float | None = None,
    **metric_kwargs: Any,
) -> float:
    """Value of the metric on its worst group, judged by the metric's direction.

    Lowest group value for metrics where higher is better (accuracy, AUC), highest where lower
    is better (MAE, log loss), farthest from the target for target metrics (bias). Groups where
    the metric is undefined are skipped. Parameters as in :func:`metric_by_group`.

    Returns
    -------
    float
        NaN with an UndefinedMetricWarning when no group has a defined value. Raises
        ParameterError for a metric whose direction is unknown (pass ``direction=``).

    Examples
    --------
    >>> worst_group_metric("mae", [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 5.0, 4.0], [0, 0, 1, 1])
    1.0
    """
    result = metric_by_group(
        metric,
        y_true,
        y_pred,
        groups,
        sample_weight=sample_weight,
        direction=direction,
        target=target,
        **metric_kwargs,
    )
    return result.worst()[1]


class _GroupRates:
    """Selection rate, TPR and FPR per group and overall, from one pass of bincounts."""

    def __init__(
        self,
        y_true: ArrayLike | None,
        y_pred: ArrayLike,
        groups: ArrayLike,
        sample_weight: ArrayLike | None,
        pos_label: Any,
        owner: str,
    ) -> None:
        self.owner = owner
        self.labels, codes = _check_groups(groups, owner)
        k = self.labels.size
        # Demographic parity needs no truth: validate y_pred against itself then.
        t = check_label_targets(y_pred if y_true is None else y_true, y_pred, owner, sample_weight)
        check_consistent_length([codes, t.pred_codes], ["groups", "y_pred"], owner)
        if t.kind != "binary":
            raise ValidationError(
                f"{owner} needs binary labels; got {t.labels.size} classes "
                f"({t.labels[:10].tolist()}).",
                loc=("y_pred",),
            )
        pos = label_index(t.labels, pos_label)
        pred_pos = np.zeros(t.n, dtype=bool) if pos is None else t.pred_codes == pos
        true_pos = np.zeros(t.n, dtype=bool) if pos is None else t.true_codes == pos
        w = np.ones(t.n) if t.weight is None else t.weight
        self.n = t.n

        def by_group(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
            out: NDArray[np.float64] = np.bincount(
                codes, weights=np.where(mask, w, 0.0), minlength=k
            ).astype(np.float64, copy=False)
            return out

        self.total = np.bincount(codes, weights=w, minlength=k).astype(np.float64, copy=False)
        self.selected = by_group(pred_pos)
        self.positives = by_group(true_pos)
        self.negatives = self.total - self.positives
        self.tp = by_group(pred_pos & true_pos)
        self.fp = self.selected - self.tp

    def _rates(
        self, num: NDArray[np.float64], den: NDArray[np.float64], what: str, lacking: str
    ) -> tuple[NDArray[np.float64], float]:
        bad = den == 0
        values = np.divide(num, np.where(bad, 1.0, den))
        values[bad] = math.nan
        if bad.any() and self.n:
            missing = self.labels[bad].tolist()
            warnings.warn(
                f"The {what} is undefined for group(s) {missing} ({lacking}); they are left out "
                f"of {self.owner}.",
                UndefinedMetricWarning,
                stacklevel=4,
            )
        total_den = float(den.sum())
        overall = float(num.sum()) / total_den if total_den else math.nan
        return values, overall

    def selection(self) -> tuple[NDArray[np.float64], float]:
        return self._rates(self.selected, self.total, "selection rate", "zero total weight")

    def tpr(self) -> tuple[NDArray[np.float64], float]:
        return self._rates(self.tp, self.positives, "true positive rate", "no positive samples")

    def fpr(self) -> tuple[NDArray[np.float64], float]:
        return self._rates(self.fp, self.negatives, "false positive rate", "no negative samples")


def _fair(
    rate: str,
    how: str,
    owner: str,
    y_true: ArrayLike | None,
    y_pred: ArrayLike,
    groups: ArrayLike,
    method: str,
    sample_weight: ArrayLike | None,
    pos_label: Any,
    agg: str = "worst_case",
) -> float:
    check_option(method, "method", owner, METHODS)
    check_option(agg, "agg", owner, ("worst_case", "mean"))
    rates = _GroupRates(y_true, y_pred, groups, sample_weight, pos_label, owner)
    if rates.n == 0:
        return undefined(f"{owner} is undefined for empty input (no samples); returning NaN.")
    if rate == "selection":
        values, overall = rates.selection()
        return _aggregate(values, overall, how, method, owner)
    if rate == "tpr":
        values, overall = rates.tpr()
        return _aggregate(values, overall, how, method, owner)
    parts = [
        _aggregate(*rates.tpr(), how, method, owner),
        _aggregate(*rates.fpr(), how, method, owner),
    ]
    if agg == "mean":
        return float(np.mean(parts))
    return max(parts) if how == "difference" else min(parts)


@register_metric(
    "demographic_parity_difference",
    Direction.LOWER,
    _TASKS,
    description="Largest gap in selection rate between groups.",
)
def demographic_parity_difference(
    y_true: ArrayLike | None,
    y_pred: ArrayLike,
    *,
    groups: ArrayLike,
    method: str = "between_groups",
    sample_weight: ArrayLike | None = None,
    pos_label: Any = 1,
) -> float:
    """Demographic parity difference: ``max_g SR_g - min_g SR_g`` of selection rates.

    0 means every group receives positive predictions at the same rate (Calders & Verwer, 2010;
    fairlearn's definition). ``y_true`` is not used beyond validation.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or None
        True labels (unused by the statistic).
    y_pred : array-like of shape (n_samples,)
        Predicted binary labels.
    groups : array-like of shape (n_samples,)
        Segment of each row (fairlearn's ``sensitive_features``).
    method : {"between_groups", "to_overall"}, default="between_groups"
        Gap between groups, or largest gap to the overall rate.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights.
    pos_label : label, default=1
        The positive prediction.

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning for empty input.

    References
    ----------
    Calders, T., Verwer, S. (2010). Three naive Bayes approaches for discrimination-free
    classification. Data Mining and Knowledge Discovery 21(2).

    Examples
    --------
    >>> demographic_parity_difference(None, [1, 1, 0, 1, 0, 0], groups=["a", "a", "a", "b", "b", "b"])
    0.3333...
    """
    return _fair(
        "selection",
        "difference",
        "demographic_parity_difference",
        y_true,
        y_pred,
        groups,
        method,
        sample_weight,
        pos_label,
    )


@register_metric(
    "demographic_parity_ratio",
    Direction.TARGET,
    _TASKS,
    target=1.0,
    description="Smallest ratio of selection rates between groups (1 = parity).",
)
def demographic_parity_ratio(
    y_true: ArrayLike | None,
    y_pred: ArrayLike,
    *,
    groups: ArrayLike,
    method: str = "between_groups",
    sample_weight: ArrayLike | None = None,
    pos_label: Any = 1,
) -> float:
    """Demographic parity ratio: ``min_g SR_g / max_g SR_g`` of selection rates.

    1 is parity; the "four-fifths rule" of US employment law flags values below 0.8.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or None
        True labels (unused by the statistic).
    y_pred : array-like of shape (n_samples,)
        Predicted binary labels.
    groups : array-like of shape (n_samples,)
        Segment of each row (fairlearn's ``sensitive_features``).
    method : {"between_groups", "to_overall"}, default="between_groups"
        Ratio between groups, or smallest ratio to the overall rate.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights.
    pos_label : label, default=1
        The positive prediction.

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning when every group's rate is 0 (0/0) or for
        empty input.

    Examples
    --------
    >>> demographic_parity_ratio(None, [1, 1, 0, 1, 0, 0], groups=["a", "a", "a", "b", "b", "b"])
    0.5
    """
    return _fair(
        "selection",
        "ratio",
        "demographic_parity_ratio",
        y_true,
        y_pred,
        groups,
        method,
        sample_weight,
        pos_label,
    )


@register_metric(
    "equal_opportunity_difference",
    Direction.LOWER,
    _TASKS,
    description="Largest gap in true positive rate between groups.",
)
def equal_opportunity_difference(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    groups: ArrayLike,
    method: str = "between_groups",
    sample_weight: ArrayLike | None = None,
    pos_label: Any = 1,
) -> float:
    """Equal opportunity difference: ``max_g TPR_g - min_g TPR_g`` (Hardt et al., 2016).

    Groups without positive samples have no TPR and are left out (with a warning).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted binary labels.
    groups : array-like of shape (n_samples,)
        Segment of each row (fairlearn's ``sensitive_features``).
    method : {"between_groups", "to_overall"}, default="between_groups"
        Gap between groups, or largest gap to the overall TPR.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights.
    pos_label : label, default=1
        The positive class.

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning if no group has positives, or for empty
        input.

    References
    ----------
    Hardt, M., Price, E., Srebro, N. (2016). Equality of opportunity in supervised learning.
    NeurIPS 2016.

    Examples
    --------
    >>> equal_opportunity_difference([1, 1, 0, 1, 1, 0], [1, 1, 0, 1, 0, 1], groups=[0, 0, 0, 1, 1, 1])
    0.5
    """
    return _fair(
        "tpr",
        "difference",
        "equal_opportunity_difference",
        y_true,
        y_pred,
        groups,
        method,
        sample_weight,
        pos_label,
    )


@register_metric(
    "equal_opportunity_ratio",
    Direction.TARGET,
    _TASKS,
    target=1.0,
    description="Smallest ratio of true positive rates between groups.",
)
def equal_opportunity_ratio(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    groups: ArrayLike,
    method: str = "between_groups",
    sample_weight: ArrayLike | None = None,
    pos_label: Any = 1,
) -> float:
    """Equal opportunity ratio: ``min_g TPR_g / max_g TPR_g``; 1 is parity.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted binary labels.
    groups : array-like of shape (n_samples,)
        Segment of each row (fairlearn's ``sensitive_features``).
    method : {"between_groups", "to_overall"}, default="between_groups"
        Ratio between groups, or smallest ratio to the overall TPR.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights.
    pos_label : label, default=1
        The positive class.

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning when undefined (see
        :func:`equal_opportunity_difference`, plus all TPRs 0).

    Examples
    --------
    >>> equal_opportunity_ratio([1, 1, 0, 1, 1, 0], [1, 1, 0, 1, 0, 1], groups=[0, 0, 0, 1, 1, 1])
    0.5
    """
    return _fair(
        "tpr",
        "ratio",
        "equal_opportunity_ratio",
        y_true,
        y_pred,
        groups,
        method,
        sample_weight,
        pos_label,
    )


@register_metric(
    "equalized_odds_difference",
    Direction.LOWER,
    _TASKS,
    description="Larger of the TPR gap and the FPR gap between groups.",
)
def equalized_odds_difference(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    groups: ArrayLike,
    method: str = "between_groups",
    agg: str = "worst_case",
    sample_weight: ArrayLike | None = None,
    pos_label: Any = 1,
) -> float:
    """Equalized odds difference: ``max(TPR gap, FPR gap)`` across groups (Hardt et al., 2016).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted binary labels.
    groups : array-like of shape (n_samples,)
        Segment of each row (fairlearn's ``sensitive_features``).
    method : {"between_groups", "to_overall"}, default="between_groups"
        How each gap is measured (see :func:`demographic_parity_difference`).
    agg : {"worst_case", "mean"}, default="worst_case"
        Combine the two gaps by their maximum (fairlearn's default) or their mean.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights.
    pos_label : label, default=1
        The positive class.

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning when either gap is undefined.

    References
    ----------
    Hardt, M., Price, E., Srebro, N. (2016). Equality of opportunity in supervised learning.
    NeurIPS 2016.

    Examples
    --------
    >>> equalized_odds_difference([1, 1, 0, 1, 1, 0], [1, 1, 0, 1, 0, 1], groups=[0, 0, 0, 1, 1, 1])
    1.0
    """
    return _fair(
        "odds",
        "difference",
        "equalized_odds_difference",
        y_true,
        y_pred,
        groups,
        method,
        sample_weight,
        pos_label,
        agg,
    )


@register_metric(
    "equalized_odds_ratio",
    Direction.TARGET,
    _TASKS,
    target=1.0,
    description="Smaller of the TPR ratio and the FPR ratio between groups.",
)
def equalized_odds_ratio(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    groups: ArrayLike,
    method: str = "between_groups",
    agg: str = "worst_case",
    sample_weight: ArrayLike | None = None,
    pos_label: Any = 1,
) -> float:
    """Equalized odds ratio: ``min(TPR ratio, FPR ratio)`` across groups; 1 is parity.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted binary labels.
    groups : array-like of shape (n_samples,)
        Segment of each row (fairlearn's ``sensitive_features``).
    method : {"between_groups", "to_overall"}, default="between_groups"
        How each ratio is measured.
    agg : {"worst_case", "mean"}, default="worst_case"
        Combine the two ratios by their minimum (fairlearn's default) or their mean.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights.
    pos_label : label, default=1
        The positive class.

    Returns
    -------
    float
        In [0, 1]. NaN with an UndefinedMetricWarning when either ratio is undefined.

    Examples
    --------
    >>> equalized_odds_ratio([1, 1, 0, 1, 1, 0], [1, 1, 0, 1, 0, 1], groups=[0, 0, 0, 1, 1, 1])
    0.0
    """
    return _fair(
        "odds",
        "ratio",
        "equalized_odds_ratio",
        y_true,
        y_pred,
        groups,
        method,
        sample_weight,
        pos_label,
        agg,
    )

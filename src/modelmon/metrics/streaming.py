"""Streaming, mergeable metric aggregates.

Each class keeps the sufficient statistics of one metric (a confusion matrix, weighted sums,
moments) so that a window can be reduced to a small partial aggregate, aggregates of
sub-windows or shards can be merged, and the metric read at any time. The value after any
sequence of ``update`` / ``update_many`` / ``merge`` calls equals the batch function on the
concatenated data (to floating-point rounding): the classes call the same validation and the
same final formula as the batch functions. The class shares the stem of its batch function
(``MeanAbsoluteError`` / :func:`~modelmon.metrics.mean_absolute_error`), like River's metrics.

API (every class)::

    m = MeanAbsoluteError()
    m.update(y_true, y_pred, w=1.0)        # one observation, returns m
    m.update_many(y_true, y_pred, sample_weight=None)   # arrays, returns m
    m.merge(other)                         # add another aggregate of the same kind, returns m
    m.get()                                # the metric value
    state = m.to_dict(); type(m).from_dict(state)      # JSON-able round trip

R² merges its moments with the pairwise update of Chan, Golub & LeVeque (1979), which stays
accurate when the mean is large compared with the spread.
"""

from __future__ import annotations

import abc
import math
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._validation import (
    as_1d_float,
    check_bool,
    check_consistent_length,
    check_option,
    check_sample_weight,
    undefined,
)
from modelmon.exceptions import ParameterError, ValidationError
from modelmon.metrics._checks import (
    check_label_targets,
    check_labels,
    check_reg_targets,
    check_zero_division,
    empty_input,
)
from modelmon.metrics._confusion import (
    AVERAGES,
    accuracy_from_confusion,
    balanced_accuracy_from_confusion,
    check_beta,
    confusion_from_codes,
    mcc_from_confusion,
    rate_from_confusion,
)
from modelmon.metrics.regression import (
    ZERO_POLICIES,
    _ape_terms,
    _mape_value,
    _r2_from_sums,
    _warn_excluded_zeros,
)

__all__ = [
    "F1",
    "STREAMING_METRICS",
    "Accuracy",
    "BalancedAccuracy",
    "BrierScore",
    "ConfusionMatrix",
    "FBeta",
    "LogLoss",
    "MatthewsCorrCoef",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanError",
    "MeanSquaredError",
    "Precision",
    "R2Score",
    "Recall",
    "RootMeanSquaredError",
    "StreamingMetric",
    "streaming_metric",
]

_EPS = float(np.finfo(np.float64).eps)


def _scalar_arrays(y_true: Any, y_pred: Any, w: float) -> tuple[Any, Any, NDArray[np.float64]]:
    return np.atleast_1d(np.asarray(y_true)), np.atleast_1d(np.asarray(y_pred)), np.array([w])


class StreamingMetric(abc.ABC):
    """Base class of the mergeable aggregates: update, update_many, merge, get, to/from dict.

    Subclasses keep sufficient statistics in ``_reset`` / ``update_many`` and say how to merge,
    read, and serialise them; ``n`` counts the rows seen.

    Examples
    --------
    >>> m = MeanError()
    >>> m.update(10.0, 12.0).update_many([20.0, 30.0], [21.0, 30.0]).get()
    1.0
    >>> MeanError.from_dict(m.to_dict()).n
    3
    """

    #: Registry name of the metric this aggregate computes.
    name: ClassVar[str] = ""

    def __init__(self) -> None:
        self.n = 0
        self._reset()

    @abc.abstractmethod
    def _reset(self) -> None:
        """(Re)build the empty state."""

    @abc.abstractmethod
    def update_many(
        self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        """Add arrays of observations (with optional non-negative weights); return self."""

    @abc.abstractmethod
    def _merge_state(self, other: Self) -> None:
        """Add ``other``'s state to this one (same type and parameters, checked by merge)."""

    @abc.abstractmethod
    def get(self) -> float:
        """The metric over everything seen so far (NaN with a warning when undefined)."""

    @abc.abstractmethod
    def _params(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able."""

    @abc.abstractmethod
    def _state(self) -> dict[str, Any]:
        """State, JSON-able."""

    @abc.abstractmethod
    def _load_state(self, state: dict[str, Any]) -> None:
        """Restore the state written by :meth:`_state`."""

    def update(self, y_true: Any, y_pred: Any, w: float = 1.0) -> Self:
        """Add one observation with weight ``w``; return self."""
        yt, yp, weight = _scalar_arrays(y_true, y_pred, w)
        return self.update_many(yt, yp, weight)

    def merge(self, other: StreamingMetric) -> Self:
        """Add the observations aggregated in ``other`` (same class and parameters); return self."""
        if type(other) is not type(self) or other._params() != self._params():
            raise ParameterError(
                f"Cannot merge {type(other).__name__}({other._params()}) into "
                f"{type(self).__name__}({self._params()}): the aggregates must be of the same "
                "class with the same parameters.",
                loc=("other",),
            )
        self._merge_state(other)
        self.n += other.n
        return self

    def reset(self) -> Self:
        """Forget every observation; return self."""
        self.n = 0
        self._reset()
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-able ``{"metric", "params", "n", "state"}`` for storage."""
        return {
            "metric": type(self).__name__,
            "params": self._params(),
            "n": self.n,
            "state": self._state(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Rebuild an aggregate from :meth:`to_dict` output."""
        if data.get("metric") != cls.__name__:
            raise ValidationError(
                f"{cls.__name__}.from_dict got the state of {data.get('metric')!r}.",
                loc=("metric",),
            )
        obj = cls(**data["params"])
        obj.n = int(data["n"])
        obj._load_state(data["state"])
        return obj

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({params})"


class _WeightedMean(StreamingMetric):
    """Weighted mean of per-row terms: state is (weight, weighted sum)."""

    owner: ClassVar[str] = ""

    def _reset(self) -> None:
        self.weight = 0.0
        self.total = 0.0

    @abc.abstractmethod
    def _terms(self, y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[np.float64], int]:
        """Per-row terms (validated) and the row count."""

    def _finish(self, mean: float) -> float:
        return mean

    def update_many(
        self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        terms, n = self._terms(y_true, y_pred)
        w = check_sample_weight(sample_weight, n, self.owner)
        self.n += n
        if w is None:
            self.weight += float(n)
            self.total += float(terms.sum())
        else:
            self.weight += float(w.sum())
            self.total += float(np.dot(terms, w))
        return self

    def _merge_state(self, other: Self) -> None:
        self.weight += other.weight
        self.total += other.total

    def get(self) -> float:
        if self.n == 0:
            return empty_input(self.owner)
        if self.weight == 0.0:
            return undefined(
                f"{self.owner} is undefined: the sample weights sum to zero. Returning NaN."
            )
        return self._finish(self.total / self.weight)

    def _params(self) -> dict[str, Any]:
        return {}

    def _state(self) -> dict[str, Any]:
        return {"weight": self.weight, "total": self.total}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.weight = float(state["weight"])
        self.total = float(state["total"])


class MeanAbsoluteError(_WeightedMean):
    """Streaming :func:`~modelmon.metrics.mean_absolute_error`.

    Examples
    --------
    >>> a = MeanAbsoluteError().update_many([3, -0.5], [2.5, 0.0])
    >>> b = MeanAbsoluteError().update(2, 2).update(7, 8)
    >>> a.merge(b).get()
    0.5
    """

    name = "mae"
    owner = "mean_absolute_error"

    def _terms(self, y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[np.float64], int]:
        yt, yp, _ = check_reg_targets(y_true, y_pred, self.owner)
        return np.abs(yp - yt), yt.size


class MeanSquaredError(_WeightedMean):
    """Streaming :func:`~modelmon.metrics.mean_squared_error`.

    Examples
    --------
    >>> MeanSquaredError().update_many([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]).get()
    0.375
    """

    name = "mse"
    owner = "mean_squared_error"

    def _terms(self, y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[np.float64], int]:
        yt, yp, _ = check_reg_targets(y_true, y_pred, self.owner)
        d = yp - yt
        return d * d, yt.size


class RootMeanSquaredError(MeanSquaredError):
    """Streaming :func:`~modelmon.metrics.root_mean_squared_error`.

    Examples
    --------
    >>> round(RootMeanSquaredError().update_many([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]).get(), 4)
    0.6124
    """

    name = "rmse"
    owner = "root_mean_squared_error"

    def _finish(self, mean: float) -> float:
        return math.sqrt(mean)


class MeanError(_WeightedMean):
    """Streaming :func:`~modelmon.metrics.mean_error` (bias, ``y_pred - y_true``).

    Examples
    --------
    >>> MeanError().update_many([10, 20, 30], [12, 21, 30]).get()
    1.0
    """

    name = "mean_error"
    owner = "mean_error"

    def _terms(self, y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[np.float64], int]:
        yt, yp, _ = check_reg_targets(y_true, y_pred, self.owner)
        return yp - yt, yt.size


class _BinaryProbability(_WeightedMean):
    """Per-row terms of a binary probability metric with a fixed positive label."""

    def __init__(self, pos_label: Any = 1) -> None:
        self.pos_label = pos_label
        super().__init__()

    def _positive_and_prob(
        self, y_true: ArrayLike, y_pred: ArrayLike
    ) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        yt = check_labels(y_true, "y_true", self.owner)
        p = as_1d_float(y_pred, "y_prob", self.owner)
        check_consistent_length([yt, p], ["y_true", "y_prob"], self.owner)
        if p.size and (float(p.min()) < 0.0 or float(p.max()) > 1.0):
            raise ValidationError(
                f"The 'y_prob' argument of {self.owner} must contain probabilities in [0, 1].",
                loc=("y_prob",),
            )
        positive = np.asarray(yt == self.pos_label, dtype=bool)
        if positive.shape != yt.shape:
            positive = np.zeros(yt.shape, dtype=bool)
        return positive, p

    def _params(self) -> dict[str, Any]:
        return {"pos_label": self.pos_label}


class LogLoss(_BinaryProbability):
    """Streaming binary :func:`~modelmon.metrics.log_loss` (1-D probabilities).

    Rows with ``y_true == pos_label`` are positives, every other label negative; the positive
    class is fixed up front so that it cannot change between windows.

    Examples
    --------
    >>> round(LogLoss().update_many([0, 1, 1], [0.1, 0.8, 0.6]).get(), 4)
    0.2797
    """

    name = "log_loss"
    owner = "log_loss"

    def _terms(self, y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[np.float64], int]:
        positive, p = self._positive_and_prob(y_true, y_pred)
        p_true = np.where(positive, p, 1.0 - p)
        return -np.log(np.clip(p_true, _EPS, 1.0 - _EPS)), p.size


class BrierScore(_BinaryProbability):
    """Streaming binary :func:`~modelmon.metrics.brier_score_loss` (1-D probabilities).

    Examples
    --------
    >>> round(BrierScore().update_many([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3]).get(), 4)
    0.0375
    """

    name = "brier"
    owner = "brier_score_loss"

    def _terms(self, y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[np.float64], int]:
        positive, p = self._positive_and_prob(y_true, y_pred)
        return (positive - p) ** 2, p.size


class MeanAbsolutePercentageError(StreamingMetric):
    """Streaming :func:`~modelmon.metrics.mean_absolute_percentage_error`, same ``zero_policy``.

    With ``"exclude"``, rows with ``y_true == 0`` are counted and left out; :meth:`get` warns
    how many, exactly as the batch function.

    Examples
    --------
    >>> m = MeanAbsolutePercentageError().update_many([100, 200], [110, 180])
    >>> m.update(50, 50).get()
    0.0666...
    """

    name = "mape"
    owner: ClassVar[str] = "mean_absolute_percentage_error"

    def __init__(self, zero_policy: str = "exclude") -> None:
        check_option(zero_policy, "zero_policy", type(self).__name__, ZERO_POLICIES)
        self.zero_policy = zero_policy
        super().__init__()

    def _reset(self) -> None:
        self.weight = 0.0
        self.total = 0.0
        self.kept = 0
        self.zeros = 0

    def update_many(
        self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        yt, yp, w = check_reg_targets(y_true, y_pred, self.owner, sample_weight)
        terms, keep = _ape_terms(yt, yp, self.zero_policy, self.owner)
        if keep is not None and w is not None:
            w = w[keep]
        self.n += yt.size
        self.kept += terms.size
        self.zeros += yt.size - terms.size
        self.weight += float(terms.size) if w is None else float(w.sum())
        with np.errstate(invalid="ignore"):  # inf * 0 weight
            self.total += float(terms.sum()) if w is None else float(np.dot(terms, w))
        return self

    def _merge_state(self, other: Self) -> None:
        self.weight += other.weight
        self.total += other.total
        self.kept += other.kept
        self.zeros += other.zeros

    def get(self) -> float:
        if self.n == 0:
            return empty_input(self.owner)
        if self.kept == 0:
            return undefined(
                f"{self.owner} is undefined: every value of y_true is 0. Returning NaN; use "
                "zero_policy='epsilon' for scikit-learn's behaviour."
            )
        if self.zeros:
            _warn_excluded_zeros(self.zeros, self.n, self.owner)
        return _mape_value(self.total, self.weight, self.owner)

    def _params(self) -> dict[str, Any]:
        return {"zero_policy": self.zero_policy}

    def _state(self) -> dict[str, Any]:
        return {"weight": self.weight, "total": self.total, "kept": self.kept, "zeros": self.zeros}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.weight = float(state["weight"])
        self.total = float(state["total"])
        self.kept = int(state["kept"])
        self.zeros = int(state["zeros"])


class R2Score(StreamingMetric):
    """Streaming :func:`~modelmon.metrics.r2_score` with mergeable moments.

    State: total weight ``W``, weighted mean and sum of squared deviations ``M2`` of
    ``y_true`` (merged with Chan et al.'s pairwise formula), and the residual sum of squares.

    References
    ----------
    Chan, T. F., Golub, G. H., LeVeque, R. J. (1979). Updating formulae and a pairwise algorithm
    for computing sample variances. Stanford CS report STAN-CS-79-773.

    Examples
    --------
    >>> a = R2Score().update_many([3, -0.5], [2.5, 0.0])
    >>> b = R2Score().update_many([2, 7], [2, 8])
    >>> round(a.merge(b).get(), 4)
    0.9486
    """

    name = "r2"
    owner: ClassVar[str] = "r2_score"

    def __init__(self, force_finite: bool = False) -> None:
        self.force_finite = check_bool(force_finite, "force_finite", type(self).__name__)
        super().__init__()

    def _reset(self) -> None:
        self.weight = 0.0
        self.mean = 0.0
        self.m2 = 0.0
        self.ss_res = 0.0
        # smallest and largest y_true of positive weight: when equal, M2 is exactly 0 (the
        # merged means may round off the value and leave an M2 of 1e-36)
        self.lo = math.inf
        self.hi = -math.inf

    def _combine(self, weight: float, mean: float, m2: float, ss_res: float,
                 lo: float, hi: float) -> None:
        self.ss_res += ss_res
        if weight == 0.0:
            return
        self.lo, self.hi = min(self.lo, lo), max(self.hi, hi)
        total = self.weight + weight
        delta = mean - self.mean
        self.mean += delta * weight / total
        self.m2 += m2 + delta * delta * self.weight * weight / total
        self.weight = total

    def update_many(
        self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        yt, yp, w = check_reg_targets(y_true, y_pred, self.owner, sample_weight)
        self.n += yt.size
        if yt.size == 0:
            return self
        d = yt - yp
        if w is None:
            mean = float(yt.mean())
            c = yt - mean
            self._combine(float(yt.size), mean, float(np.dot(c, c)), float(np.dot(d, d)),
                          float(yt.min()), float(yt.max()))
        else:
            weight = float(w.sum())
            if weight == 0.0:
                self.ss_res += float(np.dot(w, d * d))
                return self
            mean = float(np.dot(w, yt) / weight)
            c = yt - mean
            weighted = yt[w > 0]
            self._combine(weight, mean, float(np.dot(w, c * c)), float(np.dot(w, d * d)),
                          float(weighted.min()), float(weighted.max()))
        return self

    def _merge_state(self, other: Self) -> None:
        self._combine(other.weight, other.mean, other.m2, other.ss_res, other.lo, other.hi)

    def get(self) -> float:
        if self.n == 0:
            return empty_input(self.owner)
        if self.weight == 0.0:
            return undefined(f"{self.owner} is undefined: the sample weights sum to zero.")
        m2 = 0.0 if self.lo == self.hi else self.m2
        return _r2_from_sums(self.ss_res, m2, self.n, self.force_finite, self.owner)

    def _params(self) -> dict[str, Any]:
        return {"force_finite": self.force_finite}

    def _state(self) -> dict[str, Any]:
        seen = self.weight > 0.0  # finite then (JSON has no infinities)
        return {"weight": self.weight, "mean": self.mean, "m2": self.m2, "ss_res": self.ss_res,
                "lo": self.lo if seen else None, "hi": self.hi if seen else None}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.weight = float(state["weight"])
        self.mean = float(state["mean"])
        self.m2 = float(state["m2"])
        self.ss_res = float(state["ss_res"])
        if state.get("lo") is not None and state.get("hi") is not None:
            self.lo, self.hi = float(state["lo"]), float(state["hi"])
        elif self.weight == 0.0:
            self.lo, self.hi = math.inf, -math.inf  # nothing seen yet
        else:  # a state saved before lo and hi existed: the range is unknown (never "constant")
            self.lo, self.hi = -math.inf, math.inf


def _sort_key(label: Any) -> tuple[int, Any]:
    return (0, label) if isinstance(label, int | float | bool) else (1, str(label))


class ConfusionMatrix(StreamingMetric):
    """Streaming, mergeable (weighted) confusion matrix over the labels seen so far.

    :meth:`get` returns the matrix in sorted label order (:attr:`labels`), as
    :func:`~modelmon.metrics.confusion_matrix` without ``labels``; the label metrics
    (:class:`Accuracy`, :class:`Precision`, ...) are computed from it.

    Parameters
    ----------
    labels : array-like, optional
        Labels known in advance; they get rows and columns even before they are seen.

    Examples
    --------
    >>> cm = ConfusionMatrix().update_many(["cat", "dog"], ["cat", "cat"])
    >>> cm.update("dog", "dog").get()
    array([[1., 0.],
           [1., 1.]])
    >>> cm.labels
    array(['cat', 'dog'], dtype='<U3')
    """

    name = "confusion_matrix"
    owner: ClassVar[str] = "ConfusionMatrix"

    def __init__(self, labels: ArrayLike | None = None) -> None:
        self._initial = None if labels is None else check_labels(labels, "labels", self.owner)
        super().__init__()

    def _reset(self) -> None:
        self._index: dict[Any, int] = {}
        self._order: list[Any] = []
        self._counts = np.zeros((0, 0))
        if self._initial is not None:
            self._positions(self._initial.tolist())

    def _positions(self, labels: list[Any]) -> NDArray[np.intp]:
        new = [v for v in labels if v not in self._index]
        if new:
            kinds = {isinstance(v, str) for v in (*self._order, *new)}
            if len(kinds) > 1:
                raise ValidationError(
                    f"Mix of label input types (string and number) in {self.owner}: "
                    f"seen {self._order[:5]}, got {new[:5]}.",
                    code="invalid_type",
                    loc=("y_true",),
                )
            for v in new:
                self._index[v] = len(self._order)
                self._order.append(v)
            k = len(self._order)
            grown = np.zeros((k, k))
            old = self._counts.shape[0]
            grown[:old, :old] = self._counts
            self._counts = grown
        return np.array([self._index[v] for v in labels], dtype=np.intp)

    def update_many(
        self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        t = check_label_targets(y_true, y_pred, self.owner, sample_weight)
        if t.n == 0:
            return self
        pos = self._positions(t.labels.tolist())
        local = confusion_from_codes(t.true_codes, t.pred_codes, t.labels.size, t.weight)
        self._counts[np.ix_(pos, pos)] += local
        self.n += t.n
        return self

    def _merge_state(self, other: Self) -> None:
        pos = self._positions(list(other._order))
        self._counts[np.ix_(pos, pos)] += other._counts

    def _sorted(self) -> tuple[NDArray[Any], NDArray[np.float64]]:
        order = sorted(range(len(self._order)), key=lambda i: _sort_key(self._order[i]))
        labels = np.array([self._order[i] for i in order])
        return labels, self._counts[np.ix_(order, order)]

    @property
    def labels(self) -> NDArray[Any]:
        """Labels seen (and declared), sorted: the row/column order of :meth:`get`."""
        return self._sorted()[0]

    def get(self) -> NDArray[np.float64]:  # type: ignore[override]
        """The confusion matrix, rows true labels, columns predicted labels."""
        return self._sorted()[1]

    def _params(self) -> dict[str, Any]:
        return {"labels": None if self._initial is None else self._initial.tolist()}

    def _state(self) -> dict[str, Any]:
        return {"labels": list(self._order), "counts": self._counts.tolist()}

    def _load_state(self, state: dict[str, Any]) -> None:
        self._index = {}
        self._order = []
        self._counts = np.zeros((0, 0))
        pos = self._positions(list(state["labels"]))
        counts = np.asarray(state["counts"], dtype=np.float64).reshape(pos.size, pos.size)
        self._counts[np.ix_(pos, pos)] = counts


class _FromConfusion(StreamingMetric):
    """A label metric read from a streaming confusion matrix."""

    owner: ClassVar[str] = ""

    def _declared_labels(self) -> ArrayLike | None:
        return None

    def _reset(self) -> None:
        self.confusion = ConfusionMatrix(self._declared_labels())

    def update_many(
        self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        before = self.confusion.n
        self.confusion.update_many(y_true, y_pred, sample_weight)
        self.n += self.confusion.n - before
        return self

    def _merge_state(self, other: Self) -> None:
        self.confusion.merge(other.confusion)

    def _state(self) -> dict[str, Any]:
        return self.confusion.to_dict()

    def _load_state(self, state: dict[str, Any]) -> None:
        self.confusion = ConfusionMatrix.from_dict(state)

    def _matrix(self) -> tuple[NDArray[Any], NDArray[np.float64]] | None:
        if self.n == 0:
            return None
        return self.confusion._sorted()


class Accuracy(_FromConfusion):
    """Streaming :func:`~modelmon.metrics.accuracy_score`.

    Examples
    --------
    >>> Accuracy().update_many([0, 1, 2, 2], [0, 2, 2, 2]).get()
    0.75
    """

    name = "accuracy"
    owner = "accuracy_score"

    def __init__(self, normalize: bool = True) -> None:
        self.normalize = check_bool(normalize, "normalize", type(self).__name__)
        super().__init__()

    def get(self) -> float:
        m = self._matrix()
        if m is None:
            return empty_input(self.owner) if self.normalize else 0.0
        return accuracy_from_confusion(m[1], self.normalize, self.owner)

    def _params(self) -> dict[str, Any]:
        return {"normalize": self.normalize}


class BalancedAccuracy(_FromConfusion):
    """Streaming :func:`~modelmon.metrics.balanced_accuracy_score`.

    Examples
    --------
    >>> round(BalancedAccuracy().update_many([0, 0, 0, 1], [0, 0, 1, 1]).get(), 4)
    0.8333
    """

    name = "balanced_accuracy"
    owner = "balanced_accuracy_score"

    def __init__(self, adjusted: bool = False) -> None:
        self.adjusted = check_bool(adjusted, "adjusted", type(self).__name__)
        super().__init__()

    def get(self) -> float:
        m = self._matrix()
        if m is None:
            return empty_input(self.owner)
        return balanced_accuracy_from_confusion(m[1], self.adjusted, self.owner)

    def _params(self) -> dict[str, Any]:
        return {"adjusted": self.adjusted}


class MatthewsCorrCoef(_FromConfusion):
    """Streaming :func:`~modelmon.metrics.matthews_corrcoef`.

    Examples
    --------
    >>> round(MatthewsCorrCoef().update_many([1, 1, 1, 0], [1, 0, 1, 1]).get(), 4)
    -0.3333
    """

    name = "matthews_corrcoef"
    owner = "matthews_corrcoef"

    def __init__(self, zero_division: Any = "warn") -> None:
        check_zero_division(zero_division, type(self).__name__)
        self.zero_division = zero_division
        super().__init__()

    def get(self) -> float:
        m = self._matrix()
        if m is None:
            return empty_input(self.owner)
        return mcc_from_confusion(m[1], self.zero_division, self.owner)

    def _params(self) -> dict[str, Any]:
        return {"zero_division": self.zero_division}


class _Rate(_FromConfusion):
    metric: ClassVar[str] = ""

    def __init__(
        self,
        *,
        average: str = "binary",
        pos_label: Any = 1,
        labels: ArrayLike | None = None,
        zero_division: Any = "warn",
    ) -> None:
        check_option(average, "average", type(self).__name__, AVERAGES)
        check_zero_division(zero_division, type(self).__name__)
        self.average = average
        self.pos_label = pos_label
        self.labels = (
            None if labels is None else check_labels(labels, "labels", type(self).__name__)
        )
        self.zero_division = zero_division
        super().__init__()

    def _declared_labels(self) -> ArrayLike | None:
        return None if self.average == "binary" else self.labels

    def _beta(self) -> float:
        return 1.0

    def get(self) -> float:
        m = self._matrix()
        if m is None:
            return empty_input(self.owner)
        labels, cm = m
        selected = None
        if self.labels is not None and self.average != "binary":
            where = {v: i for i, v in enumerate(labels.tolist())}
            selected = np.array([where[v] for v in self.labels.tolist()], dtype=np.intp)
        return rate_from_confusion(
            cm,
            labels,
            metric=self.metric,
            average=self.average,
            pos_label=self.pos_label,
            zero_division=self.zero_division,
            owner=self.owner,
            beta=self._beta(),
            selected=selected,
        )

    def _params(self) -> dict[str, Any]:
        return {
            "average": self.average,
            "pos_label": self.pos_label,
            "labels": None if self.labels is None else self.labels.tolist(),
            "zero_division": self.zero_division,
        }


class Precision(_Rate):
    """Streaming :func:`~modelmon.metrics.precision_score` (same parameters).

    Examples
    --------
    >>> p = Precision().update_many([0, 1], [1, 1])
    >>> p.merge(Precision().update_many([1, 0], [1, 0])).get()
    0.6666...
    """

    name = "precision"
    owner = "precision_score"
    metric = "precision"


class Recall(_Rate):
    """Streaming :func:`~modelmon.metrics.recall_score` (same parameters).

    Examples
    --------
    >>> Recall().update_many([0, 1, 1, 0], [1, 1, 0, 0]).get()
    0.5
    """

    name = "recall"
    owner = "recall_score"
    metric = "recall"


class F1(_Rate):
    """Streaming :func:`~modelmon.metrics.f1_score` (same parameters).

    Examples
    --------
    >>> F1().update_many([0, 1, 1, 0], [1, 1, 0, 0]).get()
    0.5
    """

    name = "f1"
    owner = "f1_score"
    metric = "fbeta"


class FBeta(_Rate):
    """Streaming :func:`~modelmon.metrics.fbeta_score` (same parameters).

    Examples
    --------
    >>> FBeta(beta=2.0).update_many([0, 1, 1, 0], [1, 1, 0, 0]).get()
    0.5
    """

    name = "fbeta"
    owner = "fbeta_score"
    metric = "fbeta"

    def __init__(
        self,
        beta: float,
        *,
        average: str = "binary",
        pos_label: Any = 1,
        labels: ArrayLike | None = None,
        zero_division: Any = "warn",
    ) -> None:
        self.beta = check_beta(beta, "FBeta")
        super().__init__(
            average=average, pos_label=pos_label, labels=labels, zero_division=zero_division
        )

    def _beta(self) -> float:
        return self.beta

    def _params(self) -> dict[str, Any]:
        return {"beta": self.beta, **super()._params()}


#: Streaming aggregate class for each registry metric name that has one.
STREAMING_METRICS: dict[str, type[StreamingMetric]] = {
    cls.name: cls
    for cls in (
        Accuracy,
        BalancedAccuracy,
        Precision,
        Recall,
        F1,
        FBeta,
        MatthewsCorrCoef,
        MeanAbsoluteError,
        MeanSquaredError,
        RootMeanSquaredError,
        MeanError,
        R2Score,
        MeanAbsolutePercentageError,
        LogLoss,
        BrierScore,
    )
}


def streaming_metric(name: str, **params: Any) -> StreamingMetric:
    """A new streaming aggregate for the registry metric ``name``.

    Examples
    --------
    >>> m = streaming_metric("mae")
    >>> m.update_many([1.0, 2.0], [1.5, 2.5]).get()
    0.5
    """
    try:
        cls = STREAMING_METRICS[name]
    except KeyError:
        raise ParameterError(
            f"No streaming aggregate for metric {name!r}. Streaming metrics: "
            f"{', '.join(sorted(STREAMING_METRICS))}.",
            loc=("name",),
        ) from None
    return cls(**params)

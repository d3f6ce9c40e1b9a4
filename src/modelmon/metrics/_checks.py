"""Target checks shared by every metric: validate once, at the boundary.

The helpers here play the role of scikit-learn's ``_check_targets`` and ``_check_reg_targets``:
they turn array-likes into NumPy arrays, reject what no metric can use (NaN labels, continuous
values where labels are expected, strings mixed with numbers, mismatched lengths, negative
weights) with errors worded like scikit-learn's, and encode class labels as integer codes so the
metric bodies can count with :func:`numpy.bincount`.

Label encoding is O(n) for integer and boolean labels with a moderate range (a presence table
instead of a sort), so a 10-million-row window does not pay for :func:`numpy.unique`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._validation import (
    as_1d,
    as_1d_float,
    check_consistent_length,
    check_sample_weight,
    undefined,
)
from modelmon.exceptions import ParameterError, ValidationError

__all__ = [
    "BINARY",
    "MULTICLASS",
    "LabelTargets",
    "binary_positive_mask",
    "check_label_targets",
    "check_labels",
    "check_probabilities",
    "check_reg_targets",
    "check_scores",
    "check_zero_division",
    "distinct_labels",
    "empty_input",
    "encode_labels",
    "label_index",
    "weighted_mean",
]

BINARY = "binary"
MULTICLASS = "multiclass"

# Presence tables are used for integer labels whose range is at most this many values (or twice
# the number of samples, whichever is larger); beyond that a sort is cheaper than the table.
_MAX_TABLE_SPAN = 1 << 20


def empty_input(owner: str) -> float:
    """Warn that ``owner`` got no samples and return NaN."""
    return undefined(
        f"{owner} is undefined for empty input (no samples); returning NaN.", stacklevel=4
    )


def _is_string_kind(arr: NDArray[Any]) -> bool:
    return arr.dtype.kind in "US"


def _has_missing_object(arr: NDArray[Any]) -> bool:
    def missing(v: Any) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v))

    return bool(np.frompyfunc(missing, 1, 1)(arr).astype(bool).any())


def check_labels(y: ArrayLike, name: str, owner: str) -> NDArray[Any]:
    """Return class labels ``y`` as a 1-D array, rejecting NaN, inf and continuous values.

    Integer-valued floats (``1.0``) are accepted as labels, like scikit-learn's
    ``type_of_target``; non-integer floats are "continuous" and rejected.

    >>> check_labels([0, 1, 1], "y_true", "accuracy_score")
    array([0, 1, 1])
    >>> check_labels([0.5, 1.0], "y_pred", "accuracy_score")
    Traceback (most recent call last):
    ...
    modelmon.exceptions.ValidationError: The 'y_pred' argument of accuracy_score contains continuous values (non-integer floats); classification metrics need class labels. Threshold scores first, e.g. y_score >= 0.5.
    """
    arr = as_1d(y, name, owner)
    kind = arr.dtype.kind
    if kind == "f":
        if arr.size and not np.isfinite(arr).all():
            what = "NaN" if np.isnan(arr).any() else "infinity"
            raise ValidationError(
                f"The {name!r} argument of {owner} contains {what}. "
                "Drop or impute missing labels first.",
                loc=(name,),
            )
        if arr.size and not np.array_equal(arr, np.floor(arr)):
            raise ValidationError(
                f"The {name!r} argument of {owner} contains continuous values (non-integer "
                "floats); classification metrics need class labels. Threshold scores first, "
                "e.g. y_score >= 0.5.",
                loc=(name,),
            )
    elif kind == "O":
        if arr.size and _has_missing_object(arr):
            raise ValidationError(
                f"The {name!r} argument of {owner} contains missing values (None or NaN). "
                "Drop or impute missing labels first.",
                loc=(name,),
            )
    elif kind not in "biuUS":
        raise ValidationError(
            f"The {name!r} argument of {owner} must hold class labels (numbers or strings). "
            f"Got dtype {arr.dtype} instead.",
            code="invalid_type",
            loc=(name,),
        )
    return arr


def encode_labels(
    arrays: Sequence[NDArray[Any]], names: Sequence[str], owner: str
) -> tuple[NDArray[Any], list[NDArray[np.intp]]]:
    """Return the sorted union of labels in ``arrays`` and each array's integer codes.

    >>> labels, (a, b) = encode_labels([np.array([3, 1]), np.array([1, 7])], ["a", "b"], "f")
    >>> labels, a, b
    (array([1, 3, 7]), array([1, 0]), array([0, 2]))
    """
    present = [a for a in arrays if a.size]
    if not present:
        dtype = np.result_type(*arrays) if arrays else np.float64
        return np.empty(0, dtype=dtype), [np.empty(0, dtype=np.intp) for _ in arrays]
    strings = [n for a, n in zip(arrays, names, strict=True) if a.size and _is_string_kind(a)]
    numbers_ = [n for a, n in zip(arrays, names, strict=True) if a.size and a.dtype.kind in "biuf"]
    if strings and numbers_:
        raise ValidationError(
            f"Mix of label input types (string and number) in {owner}: "
            f"{', '.join(strings)} hold strings but {', '.join(numbers_)} hold numbers.",
            code="invalid_type",
            loc=(numbers_[0],),
        )
    if all(a.dtype.kind in "biuf" for a in arrays):
        ints = [a.astype(np.int64, copy=False) for a in arrays]
        lo = min(int(i.min()) for i in ints if i.size)
        hi = max(int(i.max()) for i in ints if i.size)
        span = hi - lo + 1
        total = sum(i.size for i in ints)
        if span <= max(_MAX_TABLE_SPAN, 2 * total):
            table = np.zeros(span, dtype=bool)
            shifted = [i - lo if lo else i for i in ints]
            for s in shifted:
                table[s] = True
            lut = np.cumsum(table, dtype=np.intp) - 1
            labels = (np.flatnonzero(table) + lo).astype(np.result_type(*arrays))
            return labels, [lut[s] for s in shifted]
    try:
        joined = np.concatenate(arrays)
        labels, inverse = np.unique(joined, return_inverse=True)
    except TypeError:
        raise ValidationError(
            f"Labels in {owner} cannot be compared with each other (mixed types?).",
            code="invalid_type",
            loc=(names[0],),
        ) from None
    inverse = inverse.reshape(-1).astype(np.intp, copy=False)
    out: list[NDArray[np.intp]] = []
    start = 0
    for a in arrays:
        out.append(inverse[start : start + a.size])
        start += a.size
    return labels, out


class LabelTargets:
    """Validated label targets: the label union, integer codes, weights and target kind."""

    __slots__ = ("kind", "labels", "n", "pred_codes", "true_codes", "weight")

    def __init__(
        self,
        labels: NDArray[Any],
        true_codes: NDArray[np.intp],
        pred_codes: NDArray[np.intp],
        weight: NDArray[np.float64] | None,
    ) -> None:
        self.labels = labels
        self.true_codes = true_codes
        self.pred_codes = pred_codes
        self.weight = weight
        self.n = int(true_codes.size)
        self.kind = BINARY if labels.size <= 2 else MULTICLASS

    def index_of(self, label: Any) -> int | None:
        """Position of ``label`` in :attr:`labels`, or ``None`` if absent."""
        return label_index(self.labels, label)


def label_index(labels: NDArray[Any], label: Any) -> int | None:
    """Position of ``label`` in the sorted array ``labels``, or ``None`` if absent."""
    if labels.size == 0:
        return None
    if labels.dtype.kind in "biuf":
        if not isinstance(label, numbers.Number | np.generic) or isinstance(label, str):
            return None
    elif labels.dtype.kind in "US" and not isinstance(label, str | np.str_ | bytes):
        return None
    hits = np.flatnonzero(labels == label)
    return int(hits[0]) if hits.size else None


def check_label_targets(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    owner: str,
    sample_weight: ArrayLike | None = None,
    *,
    labels: ArrayLike | None = None,
) -> LabelTargets:
    """Validate a pair of label arrays (and weights) and encode them on their label union.

    ``labels``, when given, are added to the union so that labels absent from the data still get
    a row and column of the confusion matrix.
    """
    yt = check_labels(y_true, "y_true", owner)
    yp = check_labels(y_pred, "y_pred", owner)
    n = check_consistent_length([yt, yp], ["y_true", "y_pred"], owner)
    w = check_sample_weight(sample_weight, n, owner)
    arrays = [yt, yp]
    names = ["y_true", "y_pred"]
    if labels is not None:
        extra = check_labels(labels, "labels", owner)
        if extra.size == 0:
            raise ParameterError(
                f"The 'labels' parameter of {owner} must contain at least one label.",
                loc=("labels",),
            )
        if np.unique(extra).size != extra.size:
            raise ParameterError(
                f"The 'labels' parameter of {owner} must not contain duplicates.",
                loc=("labels",),
            )
        arrays.append(extra)
        names.append("labels")
    union, codes = encode_labels(arrays, names, owner)
    return LabelTargets(union, codes[0], codes[1], w)


def check_zero_division(value: Any, owner: str) -> float | None:
    """Validate ``zero_division``; return the fill value, or ``None`` for ``"warn"``.

    ``"warn"`` means: warn with :class:`~modelmon.exceptions.UndefinedMetricWarning` and use NaN.
    """
    if isinstance(value, str):
        if value == "warn":
            return None
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        v = float(value)
        if math.isnan(v) or v in (0.0, 1.0):
            return v
    raise ParameterError(
        f"The 'zero_division' parameter of {owner} must be a str among {{'warn'}} or a float "
        f"among {{0.0, 1.0, nan}}. Got {value!r} instead.",
        loc=("zero_division",),
    )


def weighted_mean(x: NDArray[np.float64], w: NDArray[np.float64] | None, owner: str) -> float:
    """Weighted mean of ``x``; NaN with a warning when the weights sum to zero or x is empty."""
    if x.size == 0:
        return empty_input(owner)
    if w is None:
        return float(np.mean(x))
    total = float(np.sum(w))
    if total == 0.0:
        return undefined(
            f"{owner} is undefined: the sample weights sum to zero. Returning NaN.", stacklevel=4
        )
    return float(np.dot(x, w) / total)


def check_reg_targets(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    owner: str,
    sample_weight: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64] | None]:
    """Validate regression targets: finite 1-D floats of equal length, and optional weights."""
    yt = as_1d_float(y_true, "y_true", owner)
    yp = as_1d_float(y_pred, "y_pred", owner)
    n = check_consistent_length([yt, yp], ["y_true", "y_pred"], owner)
    w = check_sample_weight(sample_weight, n, owner)
    return yt, yp, w


def check_scores(y_score: ArrayLike, name: str, owner: str) -> NDArray[np.float64]:
    """Return finite scores as float64, 1-D or 2-D (one column per class)."""
    arr = np.asarray(y_score)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2:
        if arr.dtype.kind not in "biuf":
            raise ValidationError(
                f"The {name!r} argument of {owner} must be numeric. Got dtype {arr.dtype}.",
                code="invalid_type",
                loc=(name,),
            )
        arr = np.ascontiguousarray(arr, dtype=np.float64)
        if arr.size and not np.isfinite(arr).all():
            what = "NaN" if np.isnan(arr).any() else "infinity"
            raise ValidationError(f"The {name!r} argument of {owner} contains {what}.", loc=(name,))
        return arr
    if arr.ndim > 2:
        raise ValidationError(
            f"The {name!r} argument of {owner} must be 1- or 2-dimensional. "
            f"Got an array of shape {arr.shape} instead.",
            code="invalid_shape",
            loc=(name,),
        )
    return as_1d_float(arr, name, owner)


def check_probabilities(y_prob: ArrayLike, name: str, owner: str) -> NDArray[np.float64]:
    """Like :func:`check_scores`, and every value must lie in ``[0, 1]``."""
    arr = check_scores(y_prob, name, owner)
    if arr.size:
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0.0 or hi > 1.0:
            bad = lo if lo < 0.0 else hi
            raise ValidationError(
                f"The {name!r} argument of {owner} must contain probabilities in [0, 1]. "
                f"Got a value of {bad!r}.",
                loc=(name,),
            )
    return arr


def distinct_labels(y: NDArray[Any], owner: str = "") -> NDArray[Any]:
    """Sorted distinct labels of ``y`` (already validated by :func:`check_labels`).

    Integral labels spanning at most two consecutive values are answered from the minimum and
    maximum alone, so checking a 0/1 column costs two reductions.
    """
    if y.size and y.dtype.kind in "biuf":
        lo, hi = y.min(), y.max()
        if float(hi) - float(lo) <= 1:
            return np.unique(np.array([lo, hi], dtype=y.dtype))
    return encode_labels([y], ["y"], owner)[0]


def binary_positive_mask(y_true: NDArray[Any], pos_label: Any, owner: str) -> NDArray[np.bool_]:
    """Boolean mask of positive rows for binary targets, deciding the positive class like sklearn.

    With ``pos_label=None``: labels within ``{0, 1}`` or ``{-1, 1}`` take 1 as positive; other
    numeric labels take the greatest label as positive; string labels need ``pos_label``.
    More than two distinct labels raise.

    >>> binary_positive_mask(np.array([0, 1, 1]), None, "brier_score_loss")
    array([False,  True,  True])
    """
    classes = distinct_labels(y_true, owner)
    if classes.size > 2:
        raise ValidationError(
            f"{owner} supports binary targets only; y_true has {classes.size} classes "
            f"({classes[:10].tolist()}).",
            loc=("y_true",),
        )
    if pos_label is None:
        if classes.dtype.kind in "biuf":
            values = set(classes.tolist())
            pos_label = 1 if values <= {0, 1} or values <= {-1, 1} else classes[-1]
        elif classes.size:
            raise ParameterError(
                f"y_true takes values in {classes.tolist()} and pos_label is not specified in "
                f"{owner}: either make y_true take values in {{0, 1}} or {{-1, 1}} or pass "
                "pos_label explicitly.",
                loc=("pos_label",),
            )
        else:
            pos_label = 1
    elif classes.size == 2 and label_index(classes, pos_label) is None:
        raise ParameterError(
            f"pos_label={pos_label!r} is not a valid label. It should be one of "
            f"{classes.tolist()}.",
            loc=("pos_label",),
        )
    if y_true.dtype == np.bool_ and pos_label in (True, 1):
        return y_true
    mask = np.asarray(y_true == pos_label, dtype=bool)
    if mask.shape != y_true.shape:  # label types that do not compare element-wise
        mask = np.zeros(y_true.shape, dtype=bool)
    return mask

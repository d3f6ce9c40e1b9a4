"""Input validation shared by every numerical layer.

Validate once, at the public boundary, with these helpers; inner functions then trust their
arrays. Messages follow scikit-learn's wording so users recognise them::

    The 'bins' parameter of psi must be an int in the range [2, inf). Got 1 instead.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon.exceptions import ParameterError, UndefinedMetricWarning, ValidationError

__all__ = [
    "as_1d",
    "as_1d_float",
    "check_bool",
    "check_consistent_length",
    "check_int",
    "check_option",
    "check_probability",
    "check_real",
    "check_sample_weight",
    "undefined",
]


def _fmt_range(low: float | None, high: float | None, closed: str) -> str:
    left = "[" if closed in ("both", "left") and low is not None else "("
    right = "]" if closed in ("both", "right") and high is not None else ")"
    lo = "-inf" if low is None else repr(low)
    hi = "inf" if high is None else repr(high)
    return f"{left}{lo}, {hi}{right}"


def _in_range(value: float, low: float | None, high: float | None, closed: str) -> bool:
    if low is not None:
        if closed in ("both", "left"):
            if not value >= low:
                return False
        elif not value > low:
            return False
    if high is not None:
        if closed in ("both", "right"):
            if not value <= high:
                return False
        elif not value < high:
            return False
    return True


def check_int(
    value: Any,
    name: str,
    owner: str,
    *,
    low: int | None = None,
    high: int | None = None,
    closed: str = "both",
) -> int:
    """Check that ``value`` is an int in a range and return it as ``int``.

    ``owner`` is the public function or class the parameter belongs to.

    >>> check_int(5, "bins", "psi", low=2)
    5
    >>> check_int(1, "bins", "psi", low=2)
    Traceback (most recent call last):
    ...
    modelmon.exceptions.ParameterError: The 'bins' parameter of psi must be an int in the range [2, inf). Got 1 instead.
    """
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok or not _in_range(int(value), low, high, closed):
        raise ParameterError(
            f"The {name!r} parameter of {owner} must be an int in the range "
            f"{_fmt_range(low, high, closed)}. Got {value!r} instead.",
            loc=(name,),
        )
    return int(value)


def check_real(
    value: Any,
    name: str,
    owner: str,
    *,
    low: float | None = None,
    high: float | None = None,
    closed: str = "both",
) -> float:
    """Check that ``value`` is a finite real number in a range and return it as ``float``.

    >>> check_real(0.05, "alpha", "ks_test", low=0, high=1, closed="neither")
    0.05
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or not _in_range(float(value), low, high, closed):
        raise ParameterError(
            f"The {name!r} parameter of {owner} must be a float in the range "
            f"{_fmt_range(low, high, closed)}. Got {value!r} instead.",
            loc=(name,),
        )
    return float(value)


def check_probability(value: Any, name: str, owner: str, *, open_: bool = True) -> float:
    """Check a probability-like parameter in ``(0, 1)`` (``open_``) or ``[0, 1]``."""
    return check_real(value, name, owner, low=0.0, high=1.0, closed="neither" if open_ else "both")


def check_bool(value: Any, name: str, owner: str) -> bool:
    """Check that ``value`` is a bool."""
    if not isinstance(value, bool | np.bool_):
        raise ParameterError(
            f"The {name!r} parameter of {owner} must be a bool. Got {value!r} instead.",
            loc=(name,),
        )
    return bool(value)


def check_option(value: Any, name: str, owner: str, options: Collection[Any]) -> Any:
    """Check that ``value`` is one of ``options``.

    >>> check_option("holm", "correction", "compare", ["none", "holm"])
    'holm'
    >>> check_option("x", "correction", "compare", ["none", "holm"])
    Traceback (most recent call last):
    ...
    modelmon.exceptions.ParameterError: The 'correction' parameter of compare must be a str among {'holm', 'none'}. Got 'x' instead.
    """
    try:
        ok = value in options
    except TypeError:  # unhashable value against a set
        ok = False
    if not ok:
        shown = "{" + ", ".join(repr(o) for o in sorted(options, key=str)) + "}"
        kind = "a str among" if all(isinstance(o, str) for o in options) else "one of"
        raise ParameterError(
            f"The {name!r} parameter of {owner} must be {kind} {shown}. Got {value!r} instead.",
            loc=(name,),
        )
    return value


def as_1d(x: ArrayLike, name: str, owner: str) -> NDArray[Any]:
    """Return ``x`` as a 1-D NumPy array (any dtype), raising a clear error otherwise."""
    arr = np.asarray(x)
    if arr.ndim == 0:
        raise ValidationError(
            f"The {name!r} argument of {owner} must be 1-dimensional. Got a scalar instead.",
            code="invalid_shape",
            loc=(name,),
        )
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValidationError(
            f"The {name!r} argument of {owner} must be 1-dimensional. "
            f"Got an array of shape {arr.shape} instead.",
            code="invalid_shape",
            loc=(name,),
        )
    return arr


def as_1d_float(
    x: ArrayLike,
    name: str,
    owner: str,
    *,
    allow_nan: bool = False,
    allow_inf: bool = False,
) -> NDArray[np.float64]:
    """Return ``x`` as a contiguous 1-D float64 array.

    NaN and infinities are rejected unless allowed, with an error naming the argument.

    >>> as_1d_float([1, 2, 3], "y_true", "mean_absolute_error")
    array([1., 2., 3.])
    >>> as_1d_float([1, float("nan")], "y_true", "mean_absolute_error")
    Traceback (most recent call last):
    ...
    modelmon.exceptions.ValidationError: The 'y_true' argument of mean_absolute_error contains NaN. ...
    """
    arr = as_1d(x, name, owner)
    if arr.dtype.kind not in "fiub":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValidationError(
                f"The {name!r} argument of {owner} must be numeric. Got dtype {arr.dtype} instead.",
                code="invalid_type",
                loc=(name,),
            ) from None
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not (allow_nan and allow_inf) and arr.size:
        finite = np.isfinite(arr)
        if not finite.all():
            has_nan = bool(np.isnan(arr).any())
            if has_nan and not allow_nan:
                raise ValidationError(
                    f"The {name!r} argument of {owner} contains NaN. "
                    "Drop or impute missing values first.",
                    loc=(name,),
                )
            has_inf = bool(np.isinf(arr).any())
            if has_inf and not allow_inf:
                raise ValidationError(
                    f"The {name!r} argument of {owner} contains infinity.",
                    loc=(name,),
                )
    return arr


def check_consistent_length(
    arrays: Sequence[NDArray[Any] | None], names: Sequence[str], owner: str
) -> int:
    """Check that the given arrays (``None`` entries skipped) have equal lengths; return it.

    >>> check_consistent_length([np.zeros(3), np.zeros(2)], ["y_true", "y_pred"], "accuracy_score")
    Traceback (most recent call last):
    ...
    modelmon.exceptions.ValidationError: Found input variables of inconsistent lengths in accuracy_score: y_true=3, y_pred=2.
    """
    present = [(n, len(a)) for a, n in zip(arrays, names, strict=True) if a is not None]
    lengths = {n for _, n in present}
    if len(lengths) > 1:
        detail = ", ".join(f"{n}={k}" for n, k in present)
        raise ValidationError(
            f"Found input variables of inconsistent lengths in {owner}: {detail}.",
            code="length_mismatch",
            loc=(present[1][0],),
        )
    return present[0][1] if present else 0


def check_sample_weight(
    sample_weight: ArrayLike | None, n: int, owner: str
) -> NDArray[np.float64] | None:
    """Validate ``sample_weight``: 1-D, length ``n``, finite and non-negative. ``None`` passes."""
    if sample_weight is None:
        return None
    w = as_1d_float(sample_weight, "sample_weight", owner)
    if len(w) != n:
        raise ValidationError(
            f"The 'sample_weight' argument of {owner} has length {len(w)}, expected {n}.",
            code="length_mismatch",
            loc=("sample_weight",),
        )
    if w.size and w.min() < 0:
        raise ValidationError(
            f"The 'sample_weight' argument of {owner} contains negative weights.",
            loc=("sample_weight",),
        )
    return w


def undefined(message: str, *, stacklevel: int = 3) -> float:
    """Warn with :class:`UndefinedMetricWarning` and return NaN.

    The message should say why the value is undefined and which setting controls it, e.g.
    ``"Precision is ill-defined: no predicted samples. Use zero_division= to set a value."``
    """
    warnings.warn(message, UndefinedMetricWarning, stacklevel=stacklevel)
    return math.nan

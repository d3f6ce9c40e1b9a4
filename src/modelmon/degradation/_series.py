"""Checking a metric series once, at the public boundary.

A metric series is a sequence of per-window metric values, optionally with the window timestamps
(floats or ``datetime64``) and the number of samples each value was computed on. Every public
function of :mod:`modelmon.degradation` passes its inputs through :func:`as_series`, so the rules
are the same everywhere:

* NaN values are dropped with a :class:`~modelmon.exceptions.DataQualityWarning` (a window whose
  metric is undefined, e.g. ROC AUC with one class present, is common in production), or rejected
  with ``nan_policy="raise"``. The original positions of the kept values are remembered, so trend
  slopes and change-point positions refer to the series as given.
* Infinite values are always rejected: they have no mean or variance.
* Timestamps must be finite (no NaT) and strictly increasing; ``datetime64`` becomes seconds since
  the epoch.
* Sample sizes must be finite and positive.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._validation import (
    as_1d,
    as_1d_float,
    check_consistent_length,
    check_option,
)
from modelmon.exceptions import DataQualityWarning, ValidationError

__all__ = ["NAN_POLICIES", "Series", "as_series", "as_times"]

NAN_POLICIES = ("omit", "raise")


@dataclass(frozen=True)
class Series:
    """A checked metric series: finite values and what belongs to them."""

    values: NDArray[np.float64]
    positions: NDArray[np.float64]
    times: NDArray[np.float64] | None
    sizes: NDArray[np.float64] | None
    n_dropped: int

    @property
    def n(self) -> int:
        return int(self.values.size)

    @property
    def axis(self) -> NDArray[np.float64]:
        """The time axis for trends: timestamps when given, else the original positions."""
        return self.positions if self.times is None else self.times


def as_times(timestamps: ArrayLike, name: str, owner: str) -> NDArray[np.float64]:
    """Return timestamps as float64 (``datetime64`` as seconds since the epoch), checked.

    >>> as_times(np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"), "t", "f")
    array([1.7040672e+09, 1.7041536e+09])
    """
    arr: NDArray[Any] = as_1d(timestamps, name, owner)
    if arr.dtype.kind == "M":
        if np.isnat(arr).any():
            raise ValidationError(f"The {name!r} argument of {owner} contains NaT.", loc=(name,))
        t = arr.astype("datetime64[ns]").astype(np.int64).astype(np.float64) / 1e9
    else:
        t = as_1d_float(arr, name, owner)
    if t.size > 1 and not bool(np.all(np.diff(t) > 0)):
        raise ValidationError(
            f"The {name!r} argument of {owner} must be strictly increasing. "
            "Sort the series by time and aggregate duplicate timestamps first.",
            loc=(name,),
        )
    return t


def as_series(
    values: ArrayLike,
    name: str,
    owner: str,
    *,
    timestamps: ArrayLike | None = None,
    sample_sizes: ArrayLike | None = None,
    nan_policy: str = "omit",
    timestamps_name: str = "timestamps",
    sample_sizes_name: str = "sample_sizes",
    stacklevel: int = 3,
) -> Series:
    """Check a metric series and drop (or reject) NaN values; see the module docstring.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     s = as_series([0.9, float("nan"), 0.8], "values", "f")
    >>> s.values, s.positions, s.n_dropped
    (array([0.9, 0.8]), array([0., 2.]), 1)
    """
    check_option(nan_policy, "nan_policy", owner, NAN_POLICIES)
    x = as_1d_float(values, name, owner, allow_nan=True)
    t = None if timestamps is None else as_times(timestamps, timestamps_name, owner)
    w = None
    if sample_sizes is not None:
        w = as_1d_float(sample_sizes, sample_sizes_name, owner)
        if w.size and not bool(np.all(w > 0)):
            raise ValidationError(
                f"The {sample_sizes_name!r} argument of {owner} must contain positive "
                "sample sizes.",
                loc=(sample_sizes_name,),
            )
    check_consistent_length([x, t, w], [name, timestamps_name, sample_sizes_name], owner)
    positions = np.arange(x.size, dtype=np.float64)
    nan = np.isnan(x)
    n_dropped = int(nan.sum())
    if n_dropped:
        if nan_policy == "raise":
            raise ValidationError(
                f"The {name!r} argument of {owner} contains NaN. Drop the undefined values "
                "or use nan_policy='omit'.",
                loc=(name,),
            )
        warnings.warn(
            f"{n_dropped} NaN value(s) of {name!r} dropped by {owner}; "
            "use nan_policy='raise' to reject them instead.",
            DataQualityWarning,
            stacklevel=stacklevel,
        )
        keep = ~nan
        x, positions = x[keep], positions[keep]
        t = None if t is None else t[keep]
        w = None if w is None else w[keep]
    return Series(values=x, positions=positions, times=t, sizes=w, n_dropped=n_dropped)

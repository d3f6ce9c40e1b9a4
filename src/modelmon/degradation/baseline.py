"""The baseline a metric is compared with: its values and their summary.

A baseline is the series of a metric's per-window values over a period when the model was known
to be good (for example the first weeks after deployment). It keeps the values themselves, since
the rank test needs them and metric series are small, plus the summary a dashboard shows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._results import Result
from modelmon._validation import undefined
from modelmon.degradation._series import as_series
from modelmon.exceptions import ValidationError

__all__ = ["Baseline"]

_FIELDS = ("values", "mean", "std", "p50", "p95", "p99", "n", "start", "end", "sample_sizes")


@dataclass(frozen=True)
class Baseline(Result):
    """Summary of a metric's values over a reference period.

    Build it with :meth:`from_values`; store it with :meth:`to_dict` and load it with
    :meth:`from_dict`.

    Attributes
    ----------
    values : tuple of float
        The finite baseline values, in time order (NaN values were dropped).
    mean : float
        Arithmetic mean of ``values`` (unweighted, as dashboards show it).
    std : float
        Sample standard deviation (``ddof=1``); NaN with an
        :class:`~modelmon.exceptions.UndefinedMetricWarning` when there is only one value.
    p50, p95, p99 : float
        Percentiles of ``values`` (linear interpolation, as ``numpy.percentile``).
    n : int
        Number of values.
    start, end : float or None
        First and last timestamp when timestamps were given (``datetime64`` is stored as seconds
        since the Unix epoch), else None.
    sample_sizes : tuple of float or None
        Number of samples behind each value, when given; :func:`~modelmon.degradation.z_score`
        then weights values by it.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.degradation import Baseline
    >>> rng = np.random.default_rng(0)
    >>> b = Baseline.from_values(0.86 + 0.01 * rng.standard_normal(30))
    >>> round(b.mean, 3), round(b.std, 4), b.n
    (0.859, 0.0082, 30)
    >>> Baseline.from_dict(b.to_dict()) == b
    True
    """

    values: tuple[float, ...]
    mean: float
    std: float
    p50: float
    p95: float
    p99: float
    n: int
    start: float | None = None
    end: float | None = None
    sample_sizes: tuple[float, ...] | None = None

    @classmethod
    def from_values(
        cls,
        values: ArrayLike,
        *,
        timestamps: ArrayLike | None = None,
        sample_sizes: ArrayLike | None = None,
        nan_policy: str = "omit",
    ) -> Baseline:
        """Summarise a series of metric values.

        Parameters
        ----------
        values : array-like of shape (n,)
            Metric values, one per window, in time order. Infinite values are rejected.
        timestamps : array-like of float or datetime64, optional
            Window timestamps, strictly increasing; they set ``start`` and ``end``.
        sample_sizes : array-like of shape (n,), optional
            Positive number of samples behind each value.
        nan_policy : {"omit", "raise"}, default "omit"
            ``"omit"`` drops NaN values with a :class:`~modelmon.exceptions.DataQualityWarning`;
            ``"raise"`` rejects them.

        Returns
        -------
        Baseline

        Raises
        ------
        ValidationError
            If no finite value remains (an empty baseline cannot judge anything).

        Examples
        --------
        >>> b = Baseline.from_values([0.80, 0.82, 0.84], timestamps=[0.0, 60.0, 120.0])
        >>> b.mean, b.n, b.start, b.end
        (0.82, 3, 0.0, 120.0)
        """
        s = as_series(
            values,
            "values",
            "Baseline.from_values",
            timestamps=timestamps,
            sample_sizes=sample_sizes,
            nan_policy=nan_policy,
        )
        if s.n == 0:
            raise ValidationError(
                "The 'values' argument of Baseline.from_values has no finite value; "
                "a baseline needs at least one.",
                code="empty_input",
                loc=("values",),
            )
        x = s.values
        std = (
            float(np.std(x, ddof=1))
            if s.n > 1
            else undefined(
                "The standard deviation of a baseline is undefined with a single value; "
                "collect more baseline windows.",
                stacklevel=3,
            )
        )
        p50, p95, p99 = (float(q) for q in np.percentile(x, [50.0, 95.0, 99.0]))
        times = s.times
        return cls(
            values=tuple(float(v) for v in x),
            mean=float(np.mean(x)),
            std=std,
            p50=p50,
            p95=p95,
            p99=p99,
            n=s.n,
            start=None if times is None else float(times[0]),
            end=None if times is None else float(times[-1]),
            sample_sizes=None if s.sizes is None else tuple(float(v) for v in s.sizes),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Baseline:
        """Rebuild a baseline stored with :meth:`to_dict`.

        Raises
        ------
        ValidationError
            If a field is missing or ``values``, ``n`` and ``sample_sizes`` disagree.

        Examples
        --------
        >>> Baseline.from_dict(Baseline.from_values([1.0, 2.0]).to_dict()).mean
        1.5
        """
        missing = [f for f in _FIELDS if f not in data]
        if missing:
            raise ValidationError(
                f"Cannot rebuild a Baseline: missing field(s) {', '.join(missing)}.",
                code="invalid_value",
                loc=(missing[0],),
            )
        values = tuple(float(v) for v in data["values"])
        sizes = data["sample_sizes"]
        sample_sizes = None if sizes is None else tuple(float(v) for v in sizes)
        if int(data["n"]) != len(values) or (
            sample_sizes is not None and len(sample_sizes) != len(values)
        ):
            raise ValidationError(
                "Cannot rebuild a Baseline: 'n', 'values' and 'sample_sizes' have "
                "different lengths.",
                code="length_mismatch",
                loc=("values",),
            )
        start, end = data["start"], data["end"]
        return cls(
            values=values,
            mean=float(data["mean"]),
            std=float(data["std"]),
            p50=float(data["p50"]),
            p95=float(data["p95"]),
            p99=float(data["p99"]),
            n=len(values),
            start=None if start is None else float(start),
            end=None if end is None else float(end),
            sample_sizes=sample_sizes,
        )

    def array(self) -> NDArray[np.float64]:
        """The values as a float64 NumPy array.

        >>> Baseline.from_values([1, 2, 3]).array()
        array([1., 2., 3.])
        """
        return np.asarray(self.values, dtype=np.float64)

    @property
    def weighted_mean(self) -> float:
        """Mean weighted by ``sample_sizes`` (the plain mean when sizes are absent).

        >>> Baseline.from_values([0.5, 1.0], sample_sizes=[1, 3]).weighted_mean
        0.875
        """
        if self.sample_sizes is None:
            return self.mean
        return float(np.average(self.array(), weights=np.asarray(self.sample_sizes)))

    def __eq__(self, other: object) -> bool:
        # NaN std (single-value baseline) must not make a baseline unequal to its own copy.
        if not isinstance(other, Baseline):
            return NotImplemented
        return all(_same(getattr(self, f), getattr(other, f)) for f in _FIELDS)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)

"""Column summaries: what every drift test needs from a sample, computed in one scan.

A :class:`NumericSummary` holds a sample's sorted values (exactly, with repeated values stored
once with a count) or — for a reference with more than ``max_exact`` distinct values — a quantile
sketch of ``sketch_size`` weighted points, plus exact count, missing count, mean, variance,
minimum, maximum and the reference-quantile histogram. A :class:`CategoricalSummary` holds the
category counts. Both serialise to JSON-able dicts.

Every test in :mod:`modelmon.drift` runs on two summaries; public test functions summarise raw
arrays first (always exactly), so "raw arrays" and "fitted reference" share one code path.

The sketch groups the sorted sample into ``sketch_size`` runs of equal rank width and keeps each
run's mean with its count. Its distance to the exact sample is measured exactly when it is built
and stored — ``ks_error`` (largest CDF difference) and ``wasserstein_error`` — with
``energy_error = sqrt(2 * ks_error * wasserstein_error)``, a bound on the energy distance
(``integral (F - G)^2 <= sup|F - G| * integral |F - G|``). These are metrics, so by the triangle
inequality a KS statistic, Wasserstein or energy distance computed from the sketch is within
that error of the exact one.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_int
from modelmon.exceptions import DataQualityWarning, ValidationError

__all__ = [
    "DEFAULT_BINS",
    "DEFAULT_MAX_EXACT",
    "DEFAULT_SKETCH_SIZE",
    "CategoricalSummary",
    "NumericSummary",
    "summarize_categorical",
    "summarize_numeric",
]

#: Default number of reference-quantile bins for PSI, Jensen–Shannon, KL, Hellinger on numbers.
DEFAULT_BINS = 10
#: A reference column with at most this many distinct values is stored exactly.
DEFAULT_MAX_EXACT = 100_000
#: Number of weighted points in the quantile sketch of a larger reference column.
DEFAULT_SKETCH_SIZE = 10_000

Note = tuple[type[Warning], str]

_EMPTY_COUNTS = np.empty(0, dtype=np.int64)


def _f64(values: Any) -> NDArray[np.float64]:
    return np.ascontiguousarray(values, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class NumericSummary:
    """Summary of one numeric sample (see the module docstring).

    Build one with :func:`summarize_numeric` or take it from a fitted
    :class:`~modelmon.drift.Reference` (``reference["age"]``); every numeric test accepts it in
    place of an array.

    Attributes
    ----------
    values : ndarray of float64
        Sorted finite values. With ``counts`` each value is distinct; without, values may repeat.
    counts : ndarray of int64 or None
        How many times each value occurs (``None``: once each).
    n_missing : int
        Missing values (NaN, None, ±inf) left out of every test.
    exact : bool
        False when ``values``/``counts`` are a quantile sketch of a larger sample.
    moments : tuple of float or None
        Stored ``(mean, variance, minimum, maximum)``; None for a plain sample, whose moments
        are computed from ``values`` on first use.
    mean, variance, std, minimum, maximum : float
        Exact moments (population variance, ``ddof=0``) and range of the non-missing values.
    bin_edges : ndarray of float64 or None
        Interior edges of the reference-quantile histogram; bins are ``(-inf, e1)``,
        ``[e1, e2)``, ..., ``[ek, inf)``.
    bin_counts : ndarray of int64 or None
        Exact number of values in each bin.
    n_bins : int or None
        Number of quantile bins requested when the edges were computed.
    ks_error, wasserstein_error, energy_error : float
        Distance of the sketch to the exact sample — KS and Wasserstein measured exactly, energy
        as the bound ``sqrt(2 ks_error wasserstein_error)`` (all 0 when exact).

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.drift import summarize_numeric
    >>> s = summarize_numeric(np.array([3.0, 1.0, 2.0, 2.0, np.nan]))
    >>> s.n, s.n_missing, s.values.tolist(), s.counts.tolist()
    (4, 1, [1.0, 2.0, 3.0], [1, 2, 1])
    >>> round(s.mean, 3), s.exact
    (2.0, True)
    """

    feature_type: ClassVar[str] = "numeric"

    values: NDArray[np.float64]
    counts: NDArray[np.int64] | None = None
    n_missing: int = 0
    exact: bool = True
    moments: tuple[float, float, float, float] | None = field(default=None, repr=False)
    bin_edges: NDArray[np.float64] | None = field(default=None, repr=False)
    bin_counts: NDArray[np.int64] | None = field(default=None, repr=False)
    n_bins: int | None = None
    ks_error: float = 0.0
    wasserstein_error: float = 0.0
    energy_error: float = 0.0

    @cached_property
    def n(self) -> int:
        """Number of non-missing values."""
        return int(self.values.size if self.counts is None else self.counts.sum())

    @cached_property
    def weights(self) -> NDArray[np.int64]:
        """``counts``, or an empty array meaning "one each" (the kernels' convention)."""
        return _EMPTY_COUNTS if self.counts is None else self.counts

    @cached_property
    def _stats(self) -> tuple[float, float, float, float]:
        if self.moments is not None:
            return self.moments
        if self.n == 0:
            return (math.nan, math.nan, math.nan, math.nan)
        if self.counts is None:
            from modelmon.drift import _kernels

            _, mean, m2 = _kernels.sorted_stats(self.values)
            mean, var = float(mean), float(m2 / self.n)
        else:
            w = self.counts.astype(np.float64)
            mean = float(np.dot(self.values, w) / self.n)
            var = float(np.dot(np.square(self.values - mean), w) / self.n)
        return (mean, var, float(self.values[0]), float(self.values[-1]))

    @property
    def mean(self) -> float:
        """Mean of the non-missing values (NaN when empty)."""
        return self._stats[0]

    @property
    def variance(self) -> float:
        """Population variance (``ddof=0``) of the non-missing values (NaN when empty)."""
        return self._stats[1]

    @property
    def std(self) -> float:
        """Population standard deviation (``ddof=0``), the spread used to normalise Wasserstein."""
        return math.sqrt(self._stats[1]) if self._stats[1] >= 0 else math.nan

    @property
    def minimum(self) -> float:
        """Smallest non-missing value (NaN when empty)."""
        return self._stats[2]

    @property
    def maximum(self) -> float:
        """Largest non-missing value (NaN when empty)."""
        return self._stats[3]

    @cached_property
    def _cumulative(self) -> NDArray[np.int64]:
        """``C[k]`` = number of values among the first ``k`` stored points (``C[0] = 0``)."""
        if self.counts is None:
            return np.arange(self.values.size + 1, dtype=np.int64)
        out = np.empty(self.counts.size + 1, dtype=np.int64)
        out[0] = 0
        np.cumsum(self.counts, out=out[1:])
        return out

    def count_below(self, edges: NDArray[np.float64]) -> NDArray[np.int64]:
        """Number of values strictly below each edge (exact for an exact summary)."""
        idx = np.searchsorted(self.values, edges, side="left")
        return idx.astype(np.int64) if self.counts is None else self._cumulative[idx]

    def histogram(self, edges: NDArray[np.float64]) -> NDArray[np.int64]:
        """Counts in the bins ``(-inf, e1), [e1, e2), ..., [ek, inf)`` for interior ``edges``."""
        below = self.count_below(edges)
        return np.diff(below, prepend=0, append=self.n)

    def quantile_edges(self, n_bins: int) -> NDArray[np.float64]:
        """Interior edges of ``n_bins`` quantile bins (stored ones when ``n_bins`` matches).

        Edge ``k`` is the inverse-CDF quantile at ``k / n_bins`` (the smallest value whose
        cumulative count reaches ``k * n / n_bins``); repeated edges and edges equal to the
        minimum are dropped, so every bin holds at least one value of this sample.
        """
        if self.bin_edges is not None and n_bins == self.n_bins:
            return self.bin_edges
        return _quantile_edges(
            self.values, None if self.counts is None else self._cumulative, self.n, n_bins
        )

    def to_array(self) -> NDArray[np.float64]:
        """The sample as a sorted array (exact only when ``exact``; a sketch repeats its points)."""
        if self.counts is None:
            return self.values
        return np.repeat(self.values, self.counts)

    def to_dict(self, *, arrays: bool = True) -> dict[str, Any]:
        """JSON-able dict (floats round-trip exactly through :mod:`json`).

        ``arrays=False`` leaves out ``values``, ``counts``, ``bin_edges`` and ``bin_counts``
        (for storage formats that keep arrays separately).
        """
        out: dict[str, Any] = {
            "feature_type": "numeric",
            "n_missing": int(self.n_missing),
            "exact": bool(self.exact),
            "moments": list(self._stats),
            "n_bins": self.n_bins,
            "ks_error": float(self.ks_error),
            "wasserstein_error": float(self.wasserstein_error),
            "energy_error": float(self.energy_error),
        }
        if arrays:
            for key in ("values", "counts", "bin_edges", "bin_counts"):
                value = getattr(self, key)
                out[key] = None if value is None else value.tolist()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericSummary:
        """Rebuild a summary from :meth:`to_dict` output."""
        try:
            counts = data.get("counts")
            moments = data.get("moments")
            edges = data.get("bin_edges")
            bin_counts = data.get("bin_counts")
            out = cls(
                values=_f64(data["values"]),
                counts=None if counts is None else np.asarray(counts, dtype=np.int64),
                n_missing=int(data.get("n_missing", 0)),
                exact=bool(data.get("exact", True)),
                moments=None if moments is None else tuple(float(m) for m in moments),  # type: ignore[arg-type]
                bin_edges=None if edges is None else _f64(edges),
                bin_counts=None if bin_counts is None else np.asarray(bin_counts, dtype=np.int64),
                n_bins=None if data.get("n_bins") is None else int(data["n_bins"]),
                ks_error=float(data.get("ks_error", 0.0)),
                wasserstein_error=float(data.get("wasserstein_error", 0.0)),
                energy_error=float(data.get("energy_error", 0.0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(
                f"Cannot read a numeric summary: {exc}.", code="invalid_value"
            ) from None
        out._check()
        return out

    def _check(self) -> None:
        v = self.values
        bad = v.ndim != 1 or not np.isfinite(v).all() or (v.size > 1 and (np.diff(v) < 0).any())
        if self.counts is not None:
            bad = bad or self.counts.shape != v.shape or bool((self.counts <= 0).any())
        if bad:
            raise ValidationError(
                "A numeric summary needs sorted finite values and positive counts of equal length.",
                code="invalid_value",
            )


@dataclass(frozen=True, eq=False)
class CategoricalSummary:
    """Category counts of one categorical sample.

    Attributes
    ----------
    categories : tuple
        Distinct non-missing values (str, int, float or bool), sorted.
    counts : ndarray of int64
        Occurrences of each category (all positive).
    n_missing : int
        Missing values (None, NaN, nulls), left out of every test.

    Examples
    --------
    >>> from modelmon.drift import summarize_categorical
    >>> s = summarize_categorical(["b", "a", "b", None])
    >>> s.categories, s.counts.tolist(), s.n_missing
    (('a', 'b'), [1, 2], 1)
    """

    feature_type: ClassVar[str] = "categorical"

    categories: tuple[Any, ...]
    counts: NDArray[np.int64]
    n_missing: int = 0

    @cached_property
    def n(self) -> int:
        """Number of non-missing values."""
        return int(self.counts.sum())

    @cached_property
    def index(self) -> dict[Any, int]:
        """Position of each category."""
        return {c: i for i, c in enumerate(self.categories)}

    def aligned(
        self, other: CategoricalSummary
    ) -> tuple[tuple[Any, ...], NDArray[np.int64], NDArray[np.int64]]:
        """Counts of ``self`` and ``other`` over the union of categories (``self``'s first)."""
        idx = self.index
        extra = [c for c in other.categories if c not in idx]
        cats = self.categories + tuple(extra)
        mine = np.zeros(len(cats), dtype=np.int64)
        mine[: len(self.categories)] = self.counts
        theirs = np.zeros(len(cats), dtype=np.int64)
        pos = {c: i for i, c in enumerate(cats)} if extra else idx
        where = np.fromiter(
            (pos[c] for c in other.categories), dtype=np.int64, count=len(other.categories)
        )
        theirs[where] = other.counts
        return cats, mine, theirs

    def to_dict(self, *, arrays: bool = True) -> dict[str, Any]:
        """JSON-able dict (``arrays=False`` leaves out ``counts``)."""
        out: dict[str, Any] = {
            "feature_type": "categorical",
            "categories": list(self.categories),
            "n_missing": int(self.n_missing),
        }
        if arrays:
            out["counts"] = self.counts.tolist()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalSummary:
        """Rebuild a summary from :meth:`to_dict` output."""
        try:
            cats = tuple(data["categories"])
            counts = np.asarray(data["counts"], dtype=np.int64)
            n_missing = int(data.get("n_missing", 0))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(
                f"Cannot read a categorical summary: {exc}.", code="invalid_value"
            ) from None
        if counts.shape != (len(cats),) or (counts <= 0).any() or len(set(cats)) != len(cats):
            raise ValidationError(
                "A categorical summary needs distinct categories with positive counts.",
                code="invalid_value",
            )
        return cls(cats, counts, n_missing)


def category_key(value: Any) -> tuple[str, Any]:
    """Sort key for categories of mixed types (type name first)."""
    return (type(value).__name__, value)


def make_categorical(
    labels: list[Any], counts: NDArray[np.int64], n_missing: int
) -> CategoricalSummary:
    """Build a summary from (possibly unsorted, possibly zero) label counts; labels are Python values."""
    keep = [i for i in range(len(labels)) if counts[i] > 0]
    order = sorted(keep, key=lambda i: category_key(labels[i]))
    cats = tuple(labels[i] for i in order)
    return CategoricalSummary(cats, np.asarray(counts, dtype=np.int64)[order], int(n_missing))


def _quantile_edges(
    values: NDArray[np.float64], cumulative: NDArray[np.int64] | None, n: int, n_bins: int
) -> NDArray[np.float64]:
    """Inverse-CDF quantile edges; ``cumulative`` None means one value per stored point."""
    if n == 0 or values.size == 0:
        return np.empty(0, dtype=np.float64)
    k = np.arange(1, n_bins, dtype=np.int64)
    # the smallest stored point whose cumulative count reaches ceil(k * n / n_bins)
    target = -((-k * n) // n_bins)
    if cumulative is None:
        idx = target - 1
    else:
        idx = np.searchsorted(cumulative[1:], target, side="left")
    edges = values[np.minimum(idx, values.size - 1)]
    edges = edges[np.concatenate(([True], edges[1:] != edges[:-1]))]
    return edges[edges > values[0]]


def _drop_missing(
    x: NDArray[np.float64], label: str, notes: list[Note]
) -> tuple[NDArray[np.float64], int]:
    """Sort ``x`` and return the finite part with the number of missing values."""
    s = np.sort(x)
    hi = s.size
    if hi and np.isnan(s[-1]):
        hi = int(np.searchsorted(s, np.nan, side="left"))
    n_nan = s.size - hi
    lo = 0
    if hi and s[0] == -np.inf:
        lo = int(np.searchsorted(s[:hi], -np.inf, side="right"))
    if hi > lo and s[hi - 1] == np.inf:
        hi = int(np.searchsorted(s[:hi], np.inf, side="left"))
    n_inf = s.size - n_nan - (hi - lo)
    if n_inf:
        notes.append(
            (
                DataQualityWarning,
                f"{label} has {n_inf} infinite value(s); they are treated as missing.",
            )
        )
    return s[lo:hi], n_nan + n_inf


def summarize_numeric(
    x: Any,
    *,
    max_exact: int | None = None,
    sketch_size: int = DEFAULT_SKETCH_SIZE,
    bins: int | None = DEFAULT_BINS,
    label: str = "the sample",
    _notes: list[Note] | None = None,
    _plain: bool = False,
) -> NumericSummary:
    """Summarise a numeric sample.

    NaN and ±inf are missing (infinities warn with :class:`DataQualityWarning`). The sample is
    stored exactly when it has at most ``max_exact`` distinct values (``None``: always exact);
    otherwise as a quantile sketch of ``sketch_size`` points whose error bounds are measured and
    stored. ``bins`` quantile-bin edges and their exact counts are stored for binned tests
    (``None``: skip).

    Parameters
    ----------
    x : array-like of numbers
        The sample.
    max_exact : int or None, default None
        Largest number of distinct values stored exactly.
    sketch_size : int, default 10000
        Points in the sketch used above ``max_exact``.
    bins : int or None, default 10
        Quantile bins to precompute.
    label : str
        How messages name the sample.

    Returns
    -------
    NumericSummary

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=50_000)
    >>> s = summarize_numeric(x, max_exact=1000, sketch_size=500)
    >>> s.exact, s.values.size, s.n, s.ks_error <= 1 / 500
    (False, 500, 50000, True)
    """
    if max_exact is not None:
        check_int(max_exact, "max_exact", "summarize_numeric", low=1)
    check_int(sketch_size, "sketch_size", "summarize_numeric", low=2)
    if bins is not None:
        check_int(bins, "bins", "summarize_numeric", low=2)
    notes: list[Note] = [] if _notes is None else _notes
    arr = np.asarray(x)
    if arr.dtype != np.float64:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValidationError(
                f"{label} must be numeric. Got dtype {arr.dtype} instead.", code="invalid_type"
            ) from None
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    v, n_missing = _drop_missing(arr, label, notes)
    n = v.size
    if n == 0 or _plain:
        # a plain sorted sample: what a current window needs; moments computed on demand
        out = NumericSummary(v, None, n_missing, True, None, n_bins=None if _plain else bins)
        if _notes is None:
            _emit(notes)
        return out
    from modelmon.drift import _kernels

    n_distinct, mean, m2 = _kernels.sorted_stats(v)
    moments = (float(mean), float(m2 / n), float(v[0]), float(v[-1]))
    edges = counts_in_bins = None
    if bins is not None:
        edges = _quantile_edges(v, None, n, bins)
        counts_in_bins = np.diff(np.searchsorted(v, edges, side="left"), prepend=0, append=n)
    if max_exact is None or n_distinct <= max_exact:
        if n_distinct < n:
            starts = np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1])))
            values = v[starts]
            counts = np.diff(starts, append=n).astype(np.int64)
        else:
            values, counts = v, None
        out = NumericSummary(values, counts, n_missing, True, moments, edges, counts_in_bins, bins)
    else:
        out = _sketch(v, sketch_size, n_missing, moments, edges, counts_in_bins, bins)
    if _notes is None:
        _emit(notes)
    return out


def _sketch(
    v: NDArray[np.float64],
    size: int,
    n_missing: int,
    moments: tuple[float, float, float, float] | None,
    edges: NDArray[np.float64] | None,
    bin_counts: NDArray[np.int64] | None,
    bins: int | None,
) -> NumericSummary:
    from modelmon.drift import _kernels

    n = v.size
    starts = (np.arange(size, dtype=np.int64) * n + size - 1) // size
    starts = starts[np.concatenate(([True], starts[1:] != starts[:-1]))]
    stops = np.append(starts[1:], n)
    weights = (stops - starts).astype(np.int64)
    first = v[starts]
    last = v[stops - 1]
    reps = np.add.reduceat(v, starts) / weights
    # a run of one repeated value keeps that value exactly; rounding never leaves the run's range
    reps = np.where(first == last, first, np.clip(reps, first, last))
    w1_error = float(_kernels.wasserstein_walk(v, _EMPTY_COUNTS, reps, weights))
    ks_error = _sketch_ks_error(v, reps, weights)
    return NumericSummary(
        reps,
        weights,
        n_missing,
        False,
        moments,
        edges,
        bin_counts,
        bins,
        ks_error=ks_error,
        wasserstein_error=w1_error,
        # integral (F - G)^2 <= sup|F - G| * integral |F - G|
        energy_error=math.sqrt(2.0 * ks_error * w1_error),
    )


def _sketch_ks_error(
    v: NDArray[np.float64], reps: NDArray[np.float64], weights: NDArray[np.int64]
) -> float:
    """``sup_x |F_sample(x) - F_sketch(x)|``, exactly.

    Between two sketch points the sketch CDF is flat and the sample CDF monotone, so the
    supremum is reached at a sketch point or just before one: two ``searchsorted`` calls.
    """
    n = v.size
    cum = np.concatenate(([0], np.cumsum(weights)))
    at = cum[np.searchsorted(reps, reps, side="right")]
    before = cum[np.searchsorted(reps, reps, side="left")]
    at_v = np.searchsorted(v, reps, side="right")
    before_v = np.searchsorted(v, reps, side="left")
    worst = max(int(np.abs(at_v - at).max()), int(np.abs(before_v - before).max()))
    return worst / n


def summarize_categorical(x: Any, *, label: str = "the sample") -> CategoricalSummary:
    """Summarise a categorical sample (array-like, pandas/polars series or Arrow array).

    None, NaN and nulls are missing. Booleans, integers and strings become Python values.

    Examples
    --------
    >>> summarize_categorical(["x", "y", "x"]).to_dict()
    {'feature_type': 'categorical', 'categories': ['x', 'y'], 'n_missing': 0, 'counts': [2, 1]}
    """
    from modelmon.drift._frames import column_from_array

    return column_from_array(x, label).category_summary()


def _emit(notes: list[Note], stacklevel: int = 3) -> None:
    for category, message in notes:
        warnings.warn(message, category, stacklevel=stacklevel)

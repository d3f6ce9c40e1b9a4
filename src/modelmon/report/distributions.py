"""A feature's reference and current distributions side by side, and one drift score per test.

Pure: column summaries (:mod:`modelmon.drift.summaries`) in, small dicts of numbers out (the
dashboard and the HTML report draw them as grouped bars). Numeric features share equal-width bins
over the range holding 99 % of both samples, with the tails as two more bins; categorical ones
show their most frequent categories and the rest as ``other``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from modelmon.drift.summaries import CategoricalSummary, NumericSummary

__all__ = ["distribution", "distribution_of_values", "drift_score"]

#: Bins of a numeric distribution chart (inside the tails).
BINS = 24
#: Categories a categorical chart shows before ``other``.
TOP_CATEGORIES = 20


def drift_score(kind: str | None, statistic: float | None, p_value: float | None,
                threshold: float | None) -> float | None:
    """How far a feature is from drifting: 1 at its threshold, above 1 when it drifted.

    Distances: ``statistic / threshold``. P-value tests: ``log p / log threshold`` (so
    ``p = threshold`` scores 1 and ``p = threshold**2`` scores 2). None when undefined.

    >>> drift_score("distance", 0.15, None, 0.1), drift_score("p_value", 3.2, 0.0025, 0.05)
    (1.5, 2.0)
    """
    if threshold is None or not math.isfinite(threshold) or threshold <= 0:
        return None
    if kind == "p_value" or (kind is None and p_value is not None):
        if p_value is None or not math.isfinite(p_value) or threshold >= 1:
            return None
        return round(math.log(max(p_value, 1e-300)) / math.log(threshold), 6)
    if statistic is None or not math.isfinite(statistic):
        return None
    return round(statistic / threshold, 6)


def _shares(counts: np.ndarray) -> list[float]:
    total = float(counts.sum())
    return [0.0 if total == 0 else round(float(c) / total, 6) for c in counts]


#: The sample of values a raw column's range is estimated from.
_RANGE_SAMPLE = 100_000


def _span(sample: NumericSummary | np.ndarray) -> tuple[float, float, float, float] | None:
    """(0.5 % quantile, 99.5 % quantile, minimum, maximum) of a summary or of raw values."""
    if isinstance(sample, NumericSummary):
        if sample.n == 0:
            return None
        edges = sample.quantile_edges(200)
        lo = float(edges[0]) if edges.size else sample.minimum
        hi = float(edges[-1]) if edges.size else sample.maximum
        return lo, hi, sample.minimum, sample.maximum
    finite = sample[np.isfinite(sample)]
    if finite.size == 0:
        return None
    step = max(1, finite.size // _RANGE_SAMPLE)
    lo, hi = np.quantile(finite[::step], [0.005, 0.995], method="inverted_cdf")
    return float(lo), float(hi), float(finite.min()), float(finite.max())


def _edge_range(*samples: NumericSummary | np.ndarray) -> tuple[float, float] | None:
    spans = [s for s in (_span(x) for x in samples) if s is not None]
    if not spans:
        return None
    lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
    if not hi > lo:
        lo, hi = min(s[2] for s in spans), max(s[3] for s in spans)
    return (lo, hi) if hi > lo else None


def _counts(sample: NumericSummary | np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in ``(-inf, e1), [e1, e2), ..., [ek, inf)``."""
    if isinstance(sample, NumericSummary):
        return sample.histogram(edges)
    finite = sample[np.isfinite(sample)]
    k = edges.size - 1
    width = (edges[-1] - edges[0]) / k if k > 0 else 0.0
    if width > 0 and np.allclose(np.diff(edges), width, rtol=1e-9, atol=0.0):
        # equal bins (np.linspace): the bin by arithmetic, a sixth of searchsorted's time
        idx = np.floor((finite - edges[0]) / width).astype(np.int64) + 1
        np.clip(idx, 0, k + 1, out=idx)
        # rounding may put a value on an edge one bin off: searchsorted's exact answer
        padded = np.concatenate([[-np.inf], edges, [np.inf]])
        idx -= finite < padded[idx]
        idx += finite >= padded[idx + 1]
        return np.bincount(idx, minlength=k + 2)
    return np.bincount(np.searchsorted(edges, finite, side="right"), minlength=edges.size + 1)


def _label(x: float) -> str:
    a = abs(x)
    if a == 0:
        return "0"
    if a >= 1e5 or a < 1e-3:
        return f"{x:.2e}"
    return f"{x:.3g}"


def numeric_distribution(reference: NumericSummary, current: NumericSummary | np.ndarray,
                         bins: int = BINS) -> dict[str, Any]:
    """Shares of each sample in shared bins (see the module docstring).

    >>> from modelmon.drift import summarize_numeric
    >>> d = numeric_distribution(summarize_numeric(np.arange(100.0)),
    ...                          summarize_numeric(np.arange(50.0, 150.0)), bins=4)
    >>> d["categories"][0], round(sum(d["reference"]), 6), round(sum(d["current"]), 6)
    ('< 1', 1.0, 1.0)
    """
    span = _edge_range(reference, current)
    cur_n = current.n if isinstance(current, NumericSummary) else int(np.isfinite(current).sum())
    if span is None:
        value = reference.minimum if reference.n else (
            current.minimum if isinstance(current, NumericSummary) else
            float(np.nanmin(current)) if cur_n else 0.0)
        return {"categories": [_label(value)], "reference": [1.0 if reference.n else 0.0],
                "current": [1.0 if cur_n else 0.0]}
    edges = np.linspace(span[0], span[1], bins + 1)
    labels = [f"< {_label(edges[0])}"]
    labels += [f"{_label(a)}–{_label(b)}" for a, b in itertools.pairwise(edges)]
    labels.append(f"≥ {_label(edges[-1])}")
    ref, cur = reference.histogram(edges), _counts(current, edges)
    keep = [i for i in range(len(labels)) if i not in (0, len(labels) - 1) or ref[i] or cur[i]]
    return {"categories": [labels[i] for i in keep],
            "reference": [_shares(ref)[i] for i in keep],
            "current": [_shares(cur)[i] for i in keep]}


def categorical_distribution(reference: CategoricalSummary, current: CategoricalSummary,
                             top: int = TOP_CATEGORIES) -> dict[str, Any]:
    """Shares of the most frequent categories (both samples counted), the rest as ``other``."""
    cats, ref, cur = reference.aligned(current)
    ref_s = ref / max(ref.sum(), 1)
    cur_s = cur / max(cur.sum(), 1)
    order = np.argsort(-(ref_s + cur_s), kind="stable")
    shown = order[:top]
    out_ref = [round(float(ref_s[i]), 6) for i in shown]
    out_cur = [round(float(cur_s[i]), 6) for i in shown]
    labels = [str(cats[i]) for i in shown]
    if len(order) > top:
        rest = order[top:]
        labels.append("other")
        out_ref.append(round(float(ref_s[rest].sum()), 6))
        out_cur.append(round(float(cur_s[rest].sum()), 6))
    return {"categories": labels, "reference": out_ref, "current": out_cur}


def distribution_of_values(reference: NumericSummary | CategoricalSummary,
                           values: Any) -> dict[str, Any]:
    """:func:`distribution` with the current side as raw values: a float array for a numeric
    feature (NaN is missing), any Arrow or Python sequence for a categorical one."""
    if isinstance(reference, NumericSummary):
        current: Any = np.asarray(values, dtype=np.float64)
    else:
        import pyarrow as pa
        import pyarrow.compute as pc

        counted = pc.value_counts(pa.chunked_array(values) if isinstance(
            values, pa.ChunkedArray) else pa.array(values)).to_pylist()
        ref_kind = type(reference.categories[0]) if reference.categories else str
        pairs = [(v["values"], v["counts"]) for v in counted if v["values"] is not None]
        if ref_kind is str:
            pairs = [(str(k), c) for k, c in pairs]
        pairs.sort(key=lambda p: str(p[0]))
        current = CategoricalSummary(tuple(k for k, _ in pairs),
                                     np.array([c for _, c in pairs], dtype=np.int64))
    return distribution(reference, current)


def distribution(reference: NumericSummary | CategoricalSummary,
                 current: NumericSummary | CategoricalSummary | np.ndarray) -> dict[str, Any]:
    """The chart spec (``kind: bars``) of one feature's reference and current shares."""
    if isinstance(reference, NumericSummary) and isinstance(current, NumericSummary | np.ndarray):
        d = numeric_distribution(reference, current)
    elif isinstance(reference, CategoricalSummary) and isinstance(current, CategoricalSummary):
        d = categorical_distribution(reference, current)
    else:
        raise TypeError("reference and current must be summaries of the same feature type")
    return {"kind": "bars", "categories": d["categories"],
            "series": [{"label": "reference", "values": d["reference"], "color": "#9aa5b1"},
                       {"label": "current", "values": d["current"], "color": "#3b6fd8"}]}

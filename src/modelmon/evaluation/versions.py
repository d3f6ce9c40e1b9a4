"""Comparing two versions of a model over the windows both served (API and reports)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.degradation import Direction, default_directions, welch_t_test
from modelmon.degradation._format import fmt_p, fmt_percent, fmt_value
from modelmon.store.results import ALL

__all__ = ["TooManyPoints", "compare_versions", "version_advice"]


class TooManyPoints(ValueError):
    """The range holds more points than one comparison reads."""


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _groups(keys: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of equal keys in sorted rows."""
    n = keys.size
    if n == 0:
        return []
    change = np.ones(n, dtype=bool)
    change[1:] = keys[1:] != keys[:-1]
    starts = np.flatnonzero(change)
    return list(zip(starts.tolist(), np.append(starts[1:], n).tolist(), strict=True))


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    encoded = pc.dictionary_encode(column.combine_chunks())
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)




def _verdict(metric: str, a: str, b: str, mean_a: float, mean_b: float, p: float,
             better: str | None, alpha: float, windows: int) -> str:
    if windows < 2:
        return (f"not enough shared windows ({windows}) to compare {b} with {a} on {metric}: "
                f"{fmt_value(mean_b)} vs {fmt_value(mean_a)}")
    if not math.isfinite(p):
        return (f"{b} and {a} cannot be tested on {metric}: its values did not vary over the "
                f"{windows} shared windows ({fmt_value(mean_b)} vs {fmt_value(mean_a)})")
    if better is None:
        winner, loser, w, lo = b, a, mean_b, mean_a
    else:
        winner, loser = better, a if better == b else b
        w, lo = (mean_b, mean_a) if better == b else (mean_a, mean_b)
    change = (w - lo) / abs(lo) * 100 if lo != 0 else math.nan
    numbers = f"{fmt_value(w)} vs {fmt_value(lo)} ({fmt_percent(change)}), {fmt_p(p)}"
    if p >= alpha:
        return f"no significant difference between {winner} and {loser} on {metric}: {numbers}"
    if better is None:
        return (f"{metric} differs between {b} and {a} ({numbers}); its direction is unknown, "
                "so neither is called better")
    return f"{winner} outperforms {loser} on {metric}: {numbers}"


def _better(metric: str, mean_a: float, mean_b: float, a: str, b: str) -> tuple[str, str | None]:
    d = default_directions.get(metric)
    if mean_a == mean_b or not (math.isfinite(mean_a) and math.isfinite(mean_b)):
        return d.direction.value, None
    if d.direction is Direction.HIGHER:
        return d.direction.value, b if mean_b > mean_a else a
    if d.direction is Direction.LOWER:
        return d.direction.value, b if mean_b < mean_a else a
    if d.direction is Direction.TARGET and d.target is not None:
        gap_a, gap_b = abs(mean_a - d.target), abs(mean_b - d.target)
        return d.direction.value, None if gap_a == gap_b else (b if gap_b < gap_a else a)
    return d.direction.value, None


def compare_versions(
    store: Any, model: str, *, a: str, b: str, window: str,
    metrics: Sequence[str] | None = None, segment: str = ALL, start: datetime | None = None,
    end: datetime | None = None, alpha: float = 0.05, max_points: int = 100_000,
) -> dict[str, Any]:
    """Compare versions ``a`` and ``b`` of a model on the windows both served.

    For each metric, over the windows where both versions have a finite value: both means, the
    difference ``b - a`` and ``(b - a) / |a|``, Welch's t-test p-value over the per-window
    values, and which version is better by the metric's direction. The one implementation of
    version comparison: the API and the evaluation reports both use it.
    """
    tables = []
    for name, version in (("a", a), ("b", b)):
        t = store.metric_series(model, metrics=metrics or None, window_size=window,
                                version=version, segment=segment, start=start, end=end,
                                limit=max_points + 1)
        if t.num_rows > max_points:
            raise TooManyPoints(f"version {version!r} has more than {max_points} points in the "
                                "range: narrow it with start/end or name the metrics")
        values = pc.cast(t["value"], pa.float64())
        keep = pc.and_(pc.is_valid(values), pc.is_finite(values))
        tables.append(t.filter(keep).select(["metric", "window_start", "value"])
                      .rename_columns(["metric", "window_start", f"value_{name}"]))
    joined = tables[0].join(tables[1], ["metric", "window_start"], join_type="inner",
                            use_threads=False).sort_by([("metric", "ascending"),
                                                        ("window_start", "ascending")])
    results = []
    names = joined["metric"].to_pylist()
    va = joined["value_a"].to_numpy(zero_copy_only=False)
    vb = joined["value_b"].to_numpy(zero_copy_only=False)
    for i, j in _groups(_codes(joined["metric"])):
        metric, xa, xb = names[i], va[i:j], vb[i:j]
        mean_a, mean_b = float(xa.mean()), float(xb.mean())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # too few windows: NaN p-value, said in the verdict
            p = welch_t_test(xb, xa).p_value if xa.size >= 2 else math.nan
        direction, better = _better(metric, mean_a, mean_b, a, b)
        diff = mean_b - mean_a
        results.append({
            "metric": metric, "direction": direction, "windows": int(xa.size),
            "a_mean": mean_a, "b_mean": mean_b, "difference": diff,
            "relative_difference": diff / abs(mean_a) if mean_a != 0 else None,
            "p_value": _finite(p), "significant": bool(math.isfinite(p) and p < alpha),
            "better": better if math.isfinite(p) and p < alpha else None,
            "verdict": _verdict(metric, a, b, mean_a, mean_b, p, better, alpha, int(xa.size)),
        })
    missing = sorted(set(metrics or ()) - {r["metric"] for r in results})
    return {"model": model, "a": a, "b": b, "window": window, "segment": segment,
            "alpha": alpha, "metrics": results, "without_shared_windows": missing}




def version_advice(store: Any, model: str, window: str, metric: str,
                   versions: Sequence[str], start: datetime | None = None) -> list[str]:
    """One sentence per pair of the given versions on ``metric`` (the report's advice)."""
    out: list[str] = []
    names = sorted(versions)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            result = compare_versions(store, model, a=a, b=b, window=window, metrics=[metric],
                                      start=start)
            out.extend(m["verdict"] for m in result["metrics"] if m["windows"] >= 2)
    return out

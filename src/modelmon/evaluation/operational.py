"""Operational metrics of a window slice: volume, throughput, latency quantiles, errors, labels."""

from __future__ import annotations

import math

import numpy as np

from modelmon.evaluation.frame import EvalFrame

__all__ = ["OPERATIONAL_METRICS", "operational_metrics"]

OPERATIONAL_METRICS = (
    "prediction_count", "throughput_per_second", "error_rate", "latency_p50_seconds",
    "latency_p95_seconds", "latency_p99_seconds", "labelled_count", "label_coverage_ratio",
)


def operational_metrics(frame: EvalFrame, window_seconds: float) -> dict[str, tuple[float, int]]:
    """``{metric: (value, rows)}``. Latency quantiles ignore rows without a latency."""
    n = frame.n
    out: dict[str, tuple[float, int]] = {
        "prediction_count": (float(n), n),
        "throughput_per_second": (n / window_seconds if window_seconds > 0 else math.nan, n),
    }
    if n == 0:
        return out
    out["error_rate"] = (float(frame.is_error.mean()), n)
    lat = frame.latency[np.isfinite(frame.latency)]
    if lat.size:
        q50, q95, q99 = np.quantile(lat, [0.5, 0.95, 0.99])
        out["latency_p50_seconds"] = (float(q50), int(lat.size))
        out["latency_p95_seconds"] = (float(q95), int(lat.size))
        out["latency_p99_seconds"] = (float(q99), int(lat.size))
    n_ok = int((~frame.is_error).sum())
    labelled = int(frame.labelled.sum())
    out["labelled_count"] = (float(labelled), n)
    out["label_coverage_ratio"] = (labelled / n_ok if n_ok else math.nan, n_ok)
    return out

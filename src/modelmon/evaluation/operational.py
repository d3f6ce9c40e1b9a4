"""Operational metrics of a window slice: volume, throughput, latency quantiles, errors, labels."""

from __future__ import annotations

import math

import numpy as np

from modelmon.evaluation.frame import EvalFrame
from modelmon.vocabulary import Metric

__all__ = ["OPERATIONAL_METRICS", "operational_metrics"]

OPERATIONAL_METRICS = (
    Metric.PREDICTION_COUNT, Metric.THROUGHPUT, Metric.ERROR_RATE, Metric.LATENCY_P50,
    Metric.LATENCY_P95, Metric.LATENCY_P99, Metric.LABELLED_COUNT, Metric.LABEL_COVERAGE,
)


def operational_metrics(frame: EvalFrame, window_seconds: float) -> dict[str, tuple[float, int]]:
    """``{metric: (value, rows)}``. Latency quantiles ignore rows without a latency."""
    n = frame.n
    out: dict[str, tuple[float, int]] = {
        Metric.PREDICTION_COUNT: (float(n), n),
        Metric.THROUGHPUT: (n / window_seconds if window_seconds > 0 else math.nan, n),
    }
    if n == 0:
        return out
    out[Metric.ERROR_RATE] = (float(frame.is_error.mean()), n)
    lat = frame.latency[np.isfinite(frame.latency)]
    if lat.size:
        q50, q95, q99 = np.quantile(lat, [0.5, 0.95, 0.99])
        out[Metric.LATENCY_P50] = (float(q50), int(lat.size))
        out[Metric.LATENCY_P95] = (float(q95), int(lat.size))
        out[Metric.LATENCY_P99] = (float(q99), int(lat.size))
    n_ok = int((~frame.is_error).sum())
    labelled = int(frame.labelled.sum())
    out[Metric.LABELLED_COUNT] = (float(labelled), n)
    out[Metric.LABEL_COVERAGE] = (labelled / n_ok if n_ok else math.nan, n_ok)
    return out

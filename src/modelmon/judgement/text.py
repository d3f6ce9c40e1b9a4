"""How reasons say numbers: values, changes, standard deviations, tests and times."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from modelmon.degradation._format import fmt_p, fmt_percent, fmt_value
from modelmon.vocabulary import Metric

__all__ = ["fmt_metric", "fmt_p", "fmt_percent", "fmt_sigmas", "fmt_time", "fmt_value",
           "test_label"]

_TEST_LABEL = {
    "normalized_wasserstein": "Wasserstein (normalised)", "wasserstein": "Wasserstein",
    "jensen_shannon": "Jensen-Shannon", "ks": "KS", "chi_square": "chi-square", "psi": "PSI",
    "hellinger": "Hellinger", "proportions_z": "z (proportions)", "energy": "energy distance",
    "total_variation": "total variation", "kl_divergence": "KL divergence",
}


def test_label(test: str | None) -> str:
    """A drift test's name as people write it.

    >>> test_label("normalized_wasserstein"), test_label("my_test")
    ('Wasserstein (normalised)', 'my_test')
    """
    return _TEST_LABEL.get(test or "", test or "drift test")


def fmt_metric(value: float, metric: str) -> str:
    """A metric value in its unit: latencies in ms or s, shares as plain ratios.

    >>> fmt_metric(0.3241, "latency_p95_seconds"), fmt_metric(0.8612, "accuracy")
    ('324 ms', '0.861')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    if metric.endswith("_seconds") or metric in (Metric.LATENCY_P50, Metric.LATENCY_P95,
                                                 Metric.LATENCY_P99):
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    return fmt_value(value)


def fmt_sigmas(sigmas: float) -> str:
    """``'8.2 sd'`` (``'far beyond'`` for infinity).

    >>> fmt_sigmas(8.23), fmt_sigmas(float("inf")), fmt_sigmas(75.4)
    ('8.2 sd', 'infinitely many sd', '75 sd')
    """
    if math.isinf(sigmas):
        return "infinitely many sd"
    return f"{sigmas:.0f} sd" if abs(sigmas) >= 20 else f"{sigmas:.1f} sd"


def fmt_time(at: datetime) -> str:
    """Date and time in UTC, to the minute (``2026-03-02 14:05 UTC``).

    >>> fmt_time(datetime(2026, 3, 2, 14, 5, 31, tzinfo=UTC))
    '2026-03-02 14:05 UTC'
    """
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

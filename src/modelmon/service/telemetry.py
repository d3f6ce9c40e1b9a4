"""The service's own Prometheus metrics, on a registry per app (tests build many apps).

Names follow Prometheus conventions: base units (``_seconds``, ``_bytes``), counters end in
``_total``, and labels are bounded (route templates, not raw paths; model names from the registry,
never prediction ids).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["BatchHistograms", "ConfidenceHistograms", "LatencyHistograms", "ServiceMetrics",
           "confidence_of"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_CONFIDENCE_BUCKETS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


class BatchHistograms(Collector):
    """A Prometheus histogram per ``{model, version}`` of a value stored predictions carry
    (``histogram_quantile`` works on it). Bucket counts are added a whole batch at a time
    (NumPy), at most ``max_versions`` versions per model (the rest counted as ``other``).

    >>> import numpy as np
    >>> h = LatencyHistograms()
    >>> h.observe("fraud", np.array(["v1", "v1", "v2"]), np.array([0.004, 0.2, np.nan]))
    >>> [(m.name, s.labels, s.value) for m in h.collect() for s in m.samples
    ...  if s.name.endswith("_count")]
    [('modelmon_prediction_latency_seconds', {'model': 'fraud', 'version': 'v1'}, 2.0)]
    """

    name = "modelmon_prediction_latency_seconds"
    doc = "Latency reported with each stored prediction, by model and version."
    default_buckets: tuple[float, ...] = _LATENCY_BUCKETS

    def __init__(self, buckets: tuple[float, ...] | None = None, max_versions: int = 50) -> None:
        self.buckets = np.asarray(buckets or self.default_buckets, dtype=np.float64)
        self.max_versions = max_versions
        self._counts: dict[tuple[str, str], np.ndarray] = {}
        self._sums: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def observe(self, model: str, versions: np.ndarray, latency: np.ndarray) -> None:
        """Add a batch: ``versions`` and ``latency`` (seconds; NaN for rows without one)."""
        ok = np.isfinite(latency) & (latency >= 0)
        if not ok.any():
            return
        versions, latency = versions[ok], latency[ok]
        slots = np.searchsorted(self.buckets, latency, side="left")
        with self._lock:
            for version in np.unique(versions):
                mask = versions == version
                key = (model, str(version))
                if key not in self._counts:
                    known = sum(1 for m, _ in self._counts if m == model)
                    if known >= self.max_versions:
                        key = (model, "other")
                    self._counts.setdefault(key, np.zeros(self.buckets.size + 1, np.int64))
                    self._sums.setdefault(key, 0.0)
                self._counts[key] += np.bincount(slots[mask], minlength=self.buckets.size + 1)
                self._sums[key] += float(latency[mask].sum())

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        family = HistogramMetricFamily(self.name, self.doc, labels=["model", "version"])
        with self._lock:
            items = [(k, v.copy(), self._sums[k]) for k, v in sorted(self._counts.items())]
        for (model, version), counts, total in items:
            cumulative = np.cumsum(counts)
            buckets = [(repr(float(b)), float(c)) for b, c in zip(self.buckets, cumulative[:-1],
                                                                  strict=True)]
            buckets.append(("+Inf", float(cumulative[-1])))
            family.add_metric([model, version], buckets, total)
        yield family


class LatencyHistograms(BatchHistograms):
    """``modelmon_prediction_latency_seconds{model,version}``: the latency the model servers
    report with each stored prediction."""


class ConfidenceHistograms(BatchHistograms):
    """``modelmon_prediction_confidence{model,version}``: how sure the model was of each stored
    prediction (:func:`confidence_of`), a ratio 0..1. A shift of this histogram is often the
    first sign of drift, long before ground truth arrives."""

    name = "modelmon_prediction_confidence"
    doc = ("Confidence of each stored prediction (the largest class probability; a binary "
           "score s counts as max(s, 1 - s)), by model and version.")
    default_buckets = _CONFIDENCE_BUCKETS


def confidence_of(scores: np.ndarray | None, probabilities: list[np.ndarray] | None,
                  offsets: np.ndarray | None = None) -> np.ndarray | None:
    """Each prediction's confidence: ``max(s, 1 - s)`` of a binary score, else the largest of
    its class probabilities (flattened ``probabilities`` cut at ``offsets``); NaN when unknown.

    >>> confidence_of(np.array([0.9, 0.2, np.nan]), None).tolist()
    [0.9, 0.8, nan]
    >>> confidence_of(None, np.array([0.1, 0.7, 0.2, 0.5, 0.5]), np.array([0, 3, 5])).tolist()
    [0.7, 0.5]
    """
    if scores is not None:
        s = np.asarray(scores, dtype=np.float64)
        return np.maximum(s, 1.0 - s)
    if probabilities is None or offsets is None or len(offsets) < 2:
        return None
    flat = np.asarray(probabilities, dtype=np.float64)
    lengths = np.diff(offsets)
    out = np.full(lengths.size, np.nan)
    filled = lengths > 0
    if flat.size and filled.any():
        out[filled] = np.maximum.reduceat(flat, offsets[:-1][filled])
    return out


class _CallbackGauges(Collector):
    """Gauges whose values are read at scrape time (store size, queue depth)."""

    def __init__(self, gauges: dict[str, tuple[str, Callable[[], float]]]) -> None:
        self._gauges = gauges

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        for name, (doc, read) in self._gauges.items():
            try:
                value = float(read())
            except Exception:
                continue
            yield GaugeMetricFamily(name, doc, value=value)


class ServiceMetrics:
    """Every metric the service itself exports."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        self.http_requests = Counter(
            "modelmon_http_requests_total", "HTTP requests by route template and status.",
            ["method", "route", "status"], registry=r,
        )
        self.http_duration = Histogram(
            "modelmon_http_request_duration_seconds", "HTTP request latency by route template.",
            ["method", "route"], buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.auth_failures = Counter(
            "modelmon_auth_failures_total",
            "Refused authentications: missing or invalid key, forbidden (a valid key of another "
            "role or models), rate_limited (locked out after repeated failures).",
            ["reason"], registry=r,
        )
        self.ingested = Counter(
            "modelmon_ingested_records_total", "Records stored, by model and kind.",
            ["model", "kind"], registry=r,
        )
        self.duplicates = Counter(
            "modelmon_ingest_duplicates_total",
            "Prediction records skipped because their id was already stored.",
            ["model"], registry=r,
        )
        self.rejected = Counter(
            "modelmon_ingest_rejected_total",
            "Ingest requests rejected, by error code (nothing of them was stored).",
            ["code"], registry=r,
        )
        self.commit_duration = Histogram(
            "modelmon_store_commit_duration_seconds",
            "Duration of group commits to the store.", buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.commit_rows = Counter(
            "modelmon_store_committed_rows_total", "Rows written by group commits.", registry=r,
        )
        self.info = Gauge(
            "modelmon_build_info", "Always 1; labels carry the modelmon version.", ["version"],
            registry=r,
        )
        self.latency = LatencyHistograms()
        r.register(self.latency)
        self.confidence = ConfidenceHistograms()
        r.register(self.confidence)
        self.rule_duration = Histogram(
            "modelmon_alert_rule_evaluation_duration_seconds",
            "Duration of one evaluation of an alert rule.", ["rule"],
            buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0), registry=r,
        )
        self.rule_failures = Counter(
            "modelmon_alert_rule_evaluation_failures_total",
            "Evaluations of an alert rule that failed (the other rules go on).", ["rule"],
            registry=r,
        )

        self.retention_deleted = Counter(
            "modelmon_retention_deleted_rows_total",
            "Rows deleted by retention, by model and kind (predictions, actuals, results).",
            ["model", "kind"], registry=r,
        )
        self.retention_last = Gauge(
            "modelmon_retention_last_run_timestamp_seconds",
            "Unix time the retention job last ran (0: never).", registry=r,
        )
        self.notifications = Counter(
            "modelmon_notifications_total",
            "Notification attempts by receiver, integration and result (delivered, retry, "
            "failed, expired).", ["receiver", "integration", "result"], registry=r,
        )
        self.notification_latency = Histogram(
            "modelmon_notification_delivery_seconds",
            "From a notification queued to its receiver accepting it.", ["integration"],
            buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 1800.0, 7200.0),
            registry=r,
        )

    def observe_retention(self, pruned: Any) -> None:
        """One model's retention pass (:class:`~modelmon.store.maintenance.Pruned`)."""
        for kind in ("predictions", "actuals", "results"):
            count = getattr(pruned, kind)
            if count:
                self.retention_deleted.labels(pruned.model, kind).inc(count)
        self.retention_last.set(time.time())

    def observe_notification(self, receiver: str, integration: str, result: str,
                             seconds: float | None) -> None:
        """One delivery attempt (``seconds``: queued to delivered, for delivered ones)."""
        self.notifications.labels(receiver, integration, result).inc()
        if seconds is not None:
            self.notification_latency.labels(integration).observe(seconds)

    def watch(self, name: str, doc: str, read: Callable[[], float]) -> None:
        """Export ``read()`` as a gauge evaluated at scrape time."""
        self.registry.register(_CallbackGauges({name: (doc, read)}))

    def observe_rule(self, rule: str, seconds: float, failed: bool) -> None:
        """One evaluation of an alert rule."""
        self.rule_duration.labels(rule).observe(seconds)
        if failed:
            self.rule_failures.labels(rule).inc()

    def on_commit(self, seconds: float, rows: int) -> None:
        self.commit_duration.observe(seconds)
        self.commit_rows.inc(rows)

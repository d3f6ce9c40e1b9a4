"""The system page: the host (CPU, memory, disk, network, GPUs) and the service itself (uptime,
requests, ingest, store, writer, scheduler)."""

from __future__ import annotations

from typing import Any

import modelmon

__all__ = ["service_figures", "system_page"]


def _sum_samples(metric: Any, suffix: str = "_total") -> dict[tuple[tuple[str, str], ...], float]:
    out: dict[tuple[tuple[str, str], ...], float] = {}
    for family in metric.collect():
        for s in family.samples:
            if s.name.endswith(suffix):
                key = tuple(sorted(s.labels.items()))
                out[key] = out.get(key, 0.0) + s.value
    return out


def service_figures(state: Any) -> dict[str, Any]:
    """Counters of the service since it started: requests by status class, records stored,
    rejected requests, the writer and the queue."""
    requests = _sum_samples(state.metrics.http_requests)
    by_class: dict[str, float] = {}
    for labels, value in requests.items():
        status = dict(labels).get("status", "")
        key = f"{status[:1]}xx" if status else "other"
        by_class[key] = by_class.get(key, 0.0) + value
    ingested: dict[str, float] = {}
    for labels, value in _sum_samples(state.metrics.ingested).items():
        kind = dict(labels).get("kind", "")
        ingested[kind] = ingested.get(kind, 0.0) + value
    rejected = sum(_sum_samples(state.metrics.rejected).values())
    stats = state.writer.stats
    return {
        "version": modelmon.__version__,
        "uptime_seconds": state.uptime_seconds,
        "started_at": state.started_at.isoformat(),
        "requests": dict(sorted(by_class.items())),
        "ingested": dict(sorted(ingested.items())),
        "rejected": rejected,
        "queue_rows": state.writer.queued_rows,
        "writer_failing": bool(state.writer.failing()),
        "commit_failures_in_a_row": stats.failures_in_a_row,
        "store_bytes": state.store.size_bytes(),
        "models": len(state.store.list_models()),
        "validation_workers": len(state.pool.pids),
        "scheduler": {"enabled": state.settings.scheduler.enabled,
                      "interval_seconds": state.settings.scheduler.interval_seconds},
        "alerts_active": 0 if state.alerts is None else len(state.alerts.active()),
    }


def system_page(state: Any, host: dict[str, Any]) -> dict[str, Any]:
    """The host snapshot (``GET /v1/system``'s answer) beside the service's own figures."""
    return {"host": host, "service": service_figures(state)}

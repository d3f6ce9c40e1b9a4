"""What a running service holds: settings, store, writer, metrics, clock. Lives on ``app.state.mm``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from modelmon.config.durations import parse_duration
from modelmon.config.models import ModelSpec
from modelmon.config.settings import Settings
from modelmon.ingest._values import EventTimeBounds
from modelmon.ingest.coalesce import RecordCoalescer
from modelmon.ingest.pool import ValidationPool
from modelmon.ingest.writer import GroupCommitWriter
from modelmon.service.telemetry import ServiceMetrics
from modelmon.store.backend import Backend

__all__ = ["ServiceState"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ServiceState:
    settings: Settings
    store: Backend
    writer: GroupCommitWriter
    metrics: ServiceMetrics
    clock: Callable[[], datetime] = _utcnow
    started_monotonic: float = field(default_factory=time.monotonic)
    started_at: datetime = field(default_factory=_utcnow)
    components: dict[str, Any] = field(default_factory=dict)
    #: Groups concurrent single-record requests for validation (see modelmon.ingest.coalesce).
    coalescer: RecordCoalescer = field(default_factory=RecordCoalescer)
    #: Worker processes validating large JSON batches (see modelmon.ingest.pool).
    pool: ValidationPool = field(default_factory=lambda: ValidationPool(0))
    #: The evaluation scheduler (set at start-up; ``run_now`` even when scheduling is disabled).
    scheduler: Any = None
    #: Backfill jobs of the scheduler's evaluator (set with it).
    backfills: Any = None
    #: The alert engine (set with the scheduler; None when alerting is off).
    alerts: Any = None
    #: Several servers on one PostgreSQL store: whether this one leads the background work
    #: (:mod:`modelmon.evaluation.coordination`); None with one server.
    leadership: Any = None
    #: Notifications (dispatcher and delivery; None when alerting is off).
    notifications: Any = None
    #: The retention job (None when no retention is configured).
    retention: Any = None
    #: The action runner (set with the alert engine; see modelmon.actions).
    actions: Any = None
    #: The keys the service accepts (modelmon.service.keyring; the store's once it is open).
    keyring: Any = None
    #: Failed authentications per address and key id (modelmon.access.limiter).
    auth_limiter: Any = None

    def ingest_now(self) -> EventTimeBounds:
        """The server's time and the event times ingest accepts now (``ingest.max_event_age``,
        ``ingest.max_future_skew``)."""
        ingest = self.settings.ingest
        return EventTimeBounds(self.clock(), parse_duration(ingest.max_event_age),
                               parse_duration(ingest.max_future_skew))

    def spec(self, model: str) -> ModelSpec:
        """The current spec of ``model`` (raises ``model_not_found``)."""
        return self.store.get_model(model).spec

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_monotonic

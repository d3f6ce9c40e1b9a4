"""Starts the evaluation scheduler and the alert engine with the service (a start-up hook of
``create_app``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Protocol, runtime_checkable

import psutil

from modelmon.alerts.builtin import builtin_rules
from modelmon.alerts.conditions import ServiceContext
from modelmon.alerts.engine import AlertEngine
from modelmon.config.durations import parse_duration
from modelmon.evaluation import DetectorConfig, Evaluator, Scheduler
from modelmon.evaluation.backfill import BackfillJobs
from modelmon.evaluation.coordination import LeaseLeadership, Leases
from modelmon.service.actions_hook import start_actions
from modelmon.service.state import ServiceState
from modelmon.service.system_metrics import store_folder
from modelmon.vocabulary import Health

__all__ = ["alert_engine", "leadership", "service_context", "start_scheduler"]


@runtime_checkable
class PostgresLeasesHolder(Protocol):
    """A store with leases (the PostgreSQL store)."""

    @property
    def leases(self) -> Leases: ...


def service_context(state: ServiceState) -> ServiceContext:
    """The service's own health for service rules: store commits, writer, scheduler, and the
    use of CPU, memory, the store's disk and the ingest queue (ratios 0..1), and the refused
    authentications of the last 5 minutes (a count)."""
    writer = state.writer
    components = {
        "store": Health.UNHEALTHY if writer.failing() else Health.HEALTHY,
        "writer": Health.HEALTHY if writer.running else Health.UNHEALTHY,
    }
    if state.scheduler is not None:
        components["scheduler"] = state.scheduler.health()["status"]
    disk = psutil.disk_usage(store_folder(state.settings.store.path))
    usage = {
        "cpu": psutil.cpu_percent(interval=None) / 100.0,
        "memory": psutil.virtual_memory().percent / 100.0,
        "disk": disk.used / (disk.used + disk.free) if disk.used + disk.free else 0.0,
        "queue": writer.queued_rows / writer.max_queue_records if writer.max_queue_records else 0.0,
        "auth_failures": float(state.auth_limiter.recent(300)) if state.auth_limiter else 0.0,
    }
    return ServiceContext(state.clock(), components, usage)


def leadership(state: ServiceState) -> LeaseLeadership | None:
    """Several servers on one PostgreSQL store: this server's part in electing the one that
    runs the background work (:mod:`modelmon.evaluation.coordination`); None on the embedded
    store (one server)."""
    if not isinstance(state.store, PostgresLeasesHolder):
        return None
    ttl = timedelta(seconds=state.settings.store.lease_seconds)
    return LeaseLeadership(state.store.leases, ttl).start()


def alert_engine(state: ServiceState) -> AlertEngine | None:
    """The alert engine of the settings' rules (None when alerting is off)."""
    cfg = state.settings.alerts
    if not cfg.enabled:
        return None
    url = external_url(state)
    metrics = state.metrics
    return AlertEngine(state.store.alerts, [(r, "config") for r in cfg.rules],
                       builtin=builtin_rules if cfg.presets else None, dashboard_url=url,
                       observe=metrics.observe_rule if metrics is not None else None)


def external_url(state: ServiceState) -> str:
    """The service's address as people reach it (links in alerts and notifications)."""
    server = state.settings.server
    return state.settings.alerts.external_url or f"http://{server.host}:{server.port}"


def start_notifications(state: ServiceState) -> Callable[[], None] | None:
    """Start the notification dispatcher and delivery (after the scheduler built the alert
    engine); its stopper. Without alerting nothing starts."""
    from modelmon.notify.service import NotificationService

    if state.alerts is None:
        return None
    metrics = state.metrics
    service = NotificationService(
        state.settings.notifications, state.store, state.alerts, state.clock, external_url(state),
        observe=metrics.observe_notification if metrics is not None else None,
        leadership=state.leadership)
    state.notifications = service
    if metrics is not None:
        metrics.watch("modelmon_notification_outbox_messages",
                      "Notifications queued and not yet delivered.",
                      service.store.notifications.queued)
    service.start()
    return service.stop


def start_retention(state: ServiceState) -> Callable[[], None] | None:
    """Start the retention job when any retention is configured; its stopper."""
    from modelmon.evaluation.retention import RetentionJob

    cfg = state.settings.retention
    configured = cfg.predictions or cfg.results or any(
        m.retention is not None for m in state.settings.models)
    if not configured:
        return None
    job = RetentionJob(state.store, state.clock, predictions=cfg.predictions,
                       results=cfg.results, interval=cfg.interval,
                       observe=state.metrics.observe_retention, leadership=state.leadership)
    state.retention = job
    job.start()
    return job.stop


def start_scheduler(state: ServiceState) -> Callable[[], None]:
    """Build the evaluator, alert engine and scheduler from the settings, start the scheduler,
    return its stopper."""
    cfg = state.settings.scheduler
    state.leadership = leadership(state)
    state.alerts = alert_engine(state)
    stop_actions = start_actions(state)  # listens before the first evaluation
    evaluator = Evaluator(
        state.store,
        clock=state.clock,
        max_windows_per_cycle=cfg.max_windows_per_cycle,
        detector=DetectorConfig(name=cfg.detector, lateness=parse_duration(cfg.detector_lateness)),
        alerts=state.alerts,
        service_context=lambda: service_context(state),
        leadership=state.leadership,
    )
    scheduler = Scheduler(evaluator, interval_seconds=cfg.interval_seconds, enabled=cfg.enabled)
    state.scheduler = scheduler
    state.backfills = BackfillJobs(evaluator, clock=state.clock)
    state.components["scheduler"] = scheduler.health
    lead = state.leadership
    if lead is not None:
        state.components["leadership"] = lambda: {
            "status": Health.HEALTHY, "server": lead.owner, "leader": lead.term() is not None}
    if cfg.enabled:
        scheduler.start()

    def stop() -> None:
        scheduler.stop()
        stop_actions()
        if state.leadership is not None:
            state.leadership.stop()  # the next server leads at once, not after the lease

    return stop

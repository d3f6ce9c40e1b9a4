"""Starts the evaluation scheduler with the service (a start-up hook of ``create_app``)."""

from __future__ import annotations

from collections.abc import Callable

from modelmon.config.durations import parse_duration
from modelmon.evaluation import DetectorConfig, Evaluator, Scheduler
from modelmon.evaluation.backfill import BackfillJobs
from modelmon.service.state import ServiceState

__all__ = ["start_scheduler"]


def start_scheduler(state: ServiceState) -> Callable[[], None]:
    """Build the evaluator and scheduler from the settings, start it, return its stopper."""
    cfg = state.settings.scheduler
    evaluator = Evaluator(
        state.store,
        clock=state.clock,
        max_windows_per_cycle=cfg.max_windows_per_cycle,
        detector=DetectorConfig(name=cfg.detector, lateness=parse_duration(cfg.detector_lateness)),
    )
    scheduler = Scheduler(evaluator, interval_seconds=cfg.interval_seconds, enabled=cfg.enabled)
    state.scheduler = scheduler
    state.backfills = BackfillJobs(evaluator, clock=state.clock)
    state.components["scheduler"] = scheduler.health
    if cfg.enabled:
        scheduler.start()
    return scheduler.stop

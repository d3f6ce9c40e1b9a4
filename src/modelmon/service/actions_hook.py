"""Starts the action runner with the service: it listens to the alert engine (before the first
evaluation, so no alert is missed) and exports its counts on ``/metrics``."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter

from modelmon.actions.record import ActionState
from modelmon.actions.runner import ActionRunner
from modelmon.service.state import ServiceState

__all__ = ["start_actions"]


def start_actions(state: ServiceState) -> Callable[[], None]:
    """Build the runner of ``settings.actions`` over the service's store and alert engine
    (``state.actions``), start it and return its stopper."""
    settings = state.settings.actions
    registry = state.metrics.registry
    counts = Counter("modelmon_actions_total",
                     "Action records by action and the state they reached (succeeded, failed, "
                     "dry_run, skipped_cooldown, pending_approval ...).", ["action", "state"],
                     registry=registry)
    store = state.store.actions
    runner = ActionRunner(settings, store, state.store, alerts=state.alerts, clock=state.clock,
                          observe=lambda action, st: counts.labels(action, st).inc())
    state.metrics.watch(
        "modelmon_actions_pending_approval", "Actions waiting for approval.",
        lambda: len(store.list_actions(state=[ActionState.PENDING_APPROVAL], limit=100_000)))
    state.actions = runner
    if not settings.enabled:
        return lambda: None
    if state.alerts is not None:
        state.alerts.listeners.append(runner.listen)
    lead = state.leadership
    if lead is None:
        runner.start()
        return runner.stop
    # several servers: only the leader resumes unfinished actions, when it starts leading
    runner.start(resume=False)
    lead.on_lead.append(runner.take_over)
    if lead.term() is not None:
        runner.take_over()
    return runner.stop

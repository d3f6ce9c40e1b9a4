"""The alert lifecycle: inactive -> pending -> firing -> resolved, one incident per alert.

An alert instance is identified by the fingerprint of its labels but ``severity``: a tiered
rule's incident that crosses from its warning tier to its critical one is the same incident,
escalated (a history event ``escalated``, or ``deescalated`` on the way back), its ``severity``
label the current tier's. (Prometheus knows only separate rules per tier; the exported rule
file has one per tier.) While its condition holds it
is ``pending`` until ``for`` has passed (a duration, or a number of consecutive evaluations),
then ``firing``; when the condition stops holding a pending alert is dropped and a firing one
stays firing for ``keep_firing_for`` before it is ``resolved``. A resolved alert whose
condition holds again is a new incident. Pure: the engine stores what :func:`advance` returns.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from modelmon.alerts.rules import AlertRule
from modelmon.vocabulary import Severity

__all__ = ["ACTIVE", "AlertInstance", "AlertState", "Transition", "advance"]


class AlertState:
    """The states of an alert (text values, as stored and served)."""

    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


#: States of an ongoing incident.
ACTIVE = (AlertState.PENDING, AlertState.FIRING)


@dataclass(frozen=True)
class AlertInstance:
    """One incident of one alert."""

    alert_id: str
    fingerprint: str
    rule: str
    model: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    state: str
    severity: Severity
    value: float | None
    threshold: float | None
    started_at: datetime
    last_active_at: datetime
    last_evaluated_at: datetime
    evaluations: int = 1
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    silenced: bool = False
    acked_by: str | None = None
    acked_at: datetime | None = None
    ack_note: str | None = None
    backfilled: bool = False
    keep_firing_since: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        def t(v: datetime | None) -> str | None:
            return None if v is None else v.isoformat()

        return {"id": self.alert_id, "fingerprint": self.fingerprint, "rule": self.rule,
                "model": self.model, "labels": self.labels, "annotations": self.annotations,
                "state": self.state, "severity": str(self.severity), "value": self.value,
                "threshold": self.threshold, "started_at": t(self.started_at),
                "fired_at": t(self.fired_at), "resolved_at": t(self.resolved_at),
                "last_active_at": t(self.last_active_at),
                "last_evaluated_at": t(self.last_evaluated_at), "evaluations": self.evaluations,
                "silenced": self.silenced,
                "ack": None if self.acked_by is None else {
                    "by": self.acked_by, "at": t(self.acked_at), "note": self.ack_note},
                "backfilled": self.backfilled}


@dataclass(frozen=True)
class Transition:
    """What an evaluation did to an alert: its state after (``None``: dropped) and whether it
    changed state (a history event)."""

    instance: AlertInstance | None
    changed: bool
    event: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _fired(rule: AlertRule, inst: AlertInstance, now: datetime) -> bool:
    if rule.for_evaluations:
        return inst.evaluations >= rule.for_evaluations
    return now - inst.started_at >= rule.for_duration


def advance(rule: AlertRule, current: AlertInstance | None, *, active: bool, now: datetime,
            fingerprint: str, labels: dict[str, str], annotations: dict[str, str],
            severity: Severity, value: float | None, threshold: float | None,
            model: str | None, backfilled: bool = False) -> Transition:
    """The next state of an alert after one evaluation of its rule."""
    live = current is not None and current.state in ACTIVE
    if not active:
        if not live or current is None:
            return Transition(current, False)
        if current.state == AlertState.PENDING:
            return Transition(None, True, "cancelled")
        # as Prometheus: kept firing for keep_firing_for from the first evaluation without it
        since = current.keep_firing_since or now
        if now - since < rule.keep_firing:
            return Transition(replace(current, last_evaluated_at=now, keep_firing_since=since),
                              False)
        return Transition(replace(current, state=AlertState.RESOLVED, resolved_at=now,
                                  last_evaluated_at=now, keep_firing_since=None), True,
                          AlertState.RESOLVED)
    if not live or current is None:  # a new incident
        inst = AlertInstance(uuid.uuid4().hex, fingerprint, rule.name, model, labels,
                             annotations, AlertState.PENDING, severity, value, threshold, now, now,
                             now, 1, backfilled=backfilled)
        if _fired(rule, inst, now):
            inst = replace(inst, state=AlertState.FIRING, fired_at=now)
            return Transition(inst, True, AlertState.FIRING)
        return Transition(inst, True, AlertState.PENDING)
    inst = replace(current, evaluations=current.evaluations + 1, last_active_at=now,
                   last_evaluated_at=now, value=value, threshold=threshold,
                   annotations=annotations, labels=labels, keep_firing_since=None,
                   severity=severity)
    if inst.state == AlertState.PENDING and _fired(rule, inst, now):
        return Transition(replace(inst, state=AlertState.FIRING, fired_at=now), True,
                          AlertState.FIRING)
    if severity is not current.severity:
        event = "escalated" if severity.rank > current.severity.rank else "deescalated"
        return Transition(inst, True, event, {"from": str(current.severity),
                                              "to": str(severity)})
    return Transition(inst, False)

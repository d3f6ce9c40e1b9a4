"""What is recorded of every action: what triggered it, the request, the response, the outcome,
who approved it. One :class:`ActionRecord` per trigger of an action (a skipped one too), kept in
the store and served at ``/v1/actions``.

States::

    trigger ──guardrails──▶ skipped_cooldown | skipped_daily_max     (nothing sent)
                       ├──▶ dry_run                                  (the request, not sent)
                       ├──▶ pending_approval ──approve──▶ approved ──▶ running
                       │                     ├─reject──▶ rejected
                       │                     └─approval_timeout──▶ expired
                       └──▶ running ──▶ succeeded | failed | superseded (a rollback that found
                                                             the model already rolled back)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

__all__ = ["COUNTED", "FINAL", "UNFINISHED", "ActionRecord", "ActionState", "idempotency_key"]


class ActionState:
    """The states of an action record (text values, as stored and served)."""

    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    DRY_RUN = "dry_run"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    SKIPPED_COOLDOWN = "skipped_cooldown"
    SKIPPED_DAILY_MAX = "skipped_daily_max"

    ALL = ("pending_approval", "approved", "rejected", "expired", "dry_run", "running",
           "succeeded", "failed", "superseded", "skipped_cooldown", "skipped_daily_max")


#: States that end a record.
FINAL = frozenset({ActionState.REJECTED, ActionState.EXPIRED, ActionState.DRY_RUN,
                   ActionState.SUCCEEDED, ActionState.FAILED, ActionState.SUPERSEDED,
                   ActionState.SKIPPED_COOLDOWN, ActionState.SKIPPED_DAILY_MAX})
#: States a restart finds work in: waiting for approval (still waiting), approved or running
#: (resumed with the same idempotency key).
UNFINISHED = (ActionState.PENDING_APPROVAL, ActionState.APPROVED, ActionState.RUNNING)
#: Triggers the guardrails let through: they count for the cooldown and the daily maximum.
COUNTED = frozenset({ActionState.PENDING_APPROVAL, ActionState.APPROVED, ActionState.REJECTED,
                     ActionState.EXPIRED, ActionState.DRY_RUN, ActionState.RUNNING,
                     ActionState.SUCCEEDED, ActionState.FAILED})


def idempotency_key(action: str, alert_id: str, event: str, severity: str) -> str:
    """One key per action, incident and severity (``resolved`` for a resolution): the same alert
    escalated again, replayed or caught up after a restart never runs an action twice, and the
    serving system sees a retry of one request as that request.

    >>> idempotency_key("rollback", "a1", "firing", "critical") == \\
    ...     idempotency_key("rollback", "a1", "escalated", "critical")
    True
    >>> len(idempotency_key("rollback", "a1", "resolved", "critical"))
    32
    """
    level = "resolved" if event == "resolved" else severity
    return hashlib.sha256(f"{action}\x1f{alert_id}\x1f{level}".encode()).hexdigest()[:32]


def _t(v: datetime | None) -> str | None:
    return None if v is None else v.isoformat()


@dataclass(frozen=True)
class ActionRecord:
    """One trigger of one action and what became of it."""

    action_id: str
    idempotency_key: str
    action: str
    type: str
    model: str | None
    rule: str | None
    alert_id: str | None
    fingerprint: str | None
    trigger: str
    severity: str | None
    state: str
    dry_run: bool
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    #: what was (or would be) sent: method, url, headers (secret ones as ``***``), body; or the
    #: command's argv and stdin
    request: dict[str, Any] | None = None
    #: what came back: status and a body excerpt; or exit code and output excerpts
    response: dict[str, Any] | None = None
    #: the rollback's versions (``from_version``, ``to_version``) and other facts
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    #: why a record was skipped or superseded
    note: str | None = None
    #: the record that answered this one (the rollback that superseded it)
    related_id: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None

    def evolve(self, at: datetime, **changes: Any) -> ActionRecord:
        """A copy with ``changes`` and ``updated_at`` set to ``at``."""
        return replace(self, updated_at=at, **changes)

    def to_dict(self) -> dict[str, Any]:
        approval = None
        if self.decided_by is not None:
            approval = {"by": self.decided_by, "at": _t(self.decided_at),
                        "note": self.decision_note,
                        "decision": "rejected" if self.state == ActionState.REJECTED
                        else "approved"}
        return {"id": self.action_id, "action": self.action, "type": self.type,
                "model": self.model, "state": self.state, "dry_run": self.dry_run,
                "trigger": {"rule": self.rule, "alert_id": self.alert_id,
                            "fingerprint": self.fingerprint, "event": self.trigger,
                            "severity": self.severity},
                "idempotency_key": self.idempotency_key, "created_at": _t(self.created_at),
                "updated_at": _t(self.updated_at), "started_at": _t(self.started_at),
                "finished_at": _t(self.finished_at), "attempts": self.attempts,
                "request": self.request, "response": self.response, "details": self.details,
                "error": self.error, "note": self.note, "related_id": self.related_id,
                "approval": approval}

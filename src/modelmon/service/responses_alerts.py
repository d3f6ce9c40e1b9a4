"""Success answers of the alert, silence, rule, notification, action, key and audit routes."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from modelmon.alerts.rules import AlertRule
from modelmon.service.responses import Fixed

NEXT = "Relative URL of the next page (null: last page)."

# --- alerts ----------------------------------------------------------------------------------------


class AckInfo(Fixed):
    by: str
    at: str | None
    note: str | None


class AlertBody(Fixed):
    """One incident of one alert."""

    id: str
    fingerprint: str
    rule: str
    model: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    state: str = Field(description="pending, firing, resolved (cancelled in the history)")
    severity: str
    value: float | None
    threshold: float | None
    started_at: str | None
    fired_at: str | None
    resolved_at: str | None
    last_active_at: str | None
    last_evaluated_at: str | None
    evaluations: int
    silenced: bool
    ack: AckInfo | None
    backfilled: bool


class ActiveAlertsBody(Fixed):
    alerts: list[AlertBody]
    count: int = Field(description="Matching alerts (the list holds at most `limit`).")


class AlertPageBody(Fixed):
    alerts: list[AlertBody]
    next: str | None = Field(description=NEXT)


class AlertEvent(Fixed):
    at: str
    event: str
    state: str | None
    value: float | None
    note: str | None


class AlertWithHistory(AlertBody):
    history: list[AlertEvent]


# --- silences --------------------------------------------------------------------------------------


class MatcherBody(Fixed):
    name: str
    op: str
    value: str


class SilenceInfo(Fixed):
    id: str
    matchers: list[MatcherBody]
    starts_at: str
    ends_at: str
    created_by: str
    comment: str
    created_at: str
    expired_at: str | None
    state: str = Field(description="active, pending or expired")


class NewSilenceBody(SilenceInfo):
    matching_alerts: list[str] = Field(description="Fingerprints of the alerts it silences now.")


class SilencesBody(Fixed):
    silences: list[SilenceInfo]


# --- rules -----------------------------------------------------------------------------------------


class RuleStatusBody(Fixed):
    name: str
    source: str = Field(description="config, api or preset:<name>")
    enabled: bool
    rule: AlertRule
    evaluations: int
    last_evaluated_at: str | None
    last_error: str | None
    seconds: float
    active_alerts: int


class RulesBody(Fixed):
    rules: list[RuleStatusBody]
    models: dict[str, list[str]] = Field(description="Model -> the rules applied to it.")


class DeletedRuleBody(Fixed):
    deleted: str


# --- notifications ---------------------------------------------------------------------------------


class NotifiedAlert(Fixed):
    fingerprint: str | None
    alert_id: str | None
    alertname: str | None
    model: str | None
    status: str | None
    severity: str | None


class NotificationBody(Fixed):
    id: int
    created_at: str
    receiver: str
    integration: str
    index: int
    kind: str
    group_key: str
    state: str
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    delivered_at: str | None
    alerts: list[NotifiedAlert]


class NotificationWithPayload(NotificationBody):
    payload: dict[str, Any] = Field(description="What was sent (the integration's format).")


class NotificationsBody(Fixed):
    notifications: list[NotificationBody]
    next: str | None = Field(description=NEXT)
    queued: int


class ReceiverBody(Fixed):
    name: str
    integrations: dict[str, int] = Field(description="Integration kind -> how many.")


class ReceiversBody(Fixed):
    receivers: list[ReceiverBody]
    alertmanagers: int


class ReceiverTestResult(Fixed):
    integration: str
    index: int
    delivered: bool
    error: str | None


class ReceiverTestBody(Fixed):
    receiver: str
    results: list[ReceiverTestResult]
    delivered: bool


# --- actions ---------------------------------------------------------------------------------------


class ActionTrigger(Fixed):
    rule: str | None
    alert_id: str | None
    fingerprint: str | None
    event: str
    severity: str | None


class ActionApproval(Fixed):
    by: str
    at: str | None
    note: str | None
    decision: str = Field(description="approved or rejected")


class ActionBody(Fixed):
    id: str
    action: str
    type: str
    model: str | None
    state: str
    dry_run: bool
    trigger: ActionTrigger
    idempotency_key: str
    created_at: str | None
    updated_at: str | None
    started_at: str | None
    finished_at: str | None
    attempts: int
    request: dict[str, Any] | None
    response: dict[str, Any] | None
    details: dict[str, Any]
    error: str | None
    note: str | None
    related_id: str | None
    approval: ActionApproval | None


class ActionsBody(Fixed):
    actions: list[ActionBody]
    next: str | None = Field(description=NEXT)


class DefinitionsBody(Fixed):
    dry_run: bool
    actions: list[dict[str, Any]] = Field(
        description="Each action's definition as configured, secrets as '***'.")


# --- keys and audit --------------------------------------------------------------------------------


class KeyBody(Fixed):
    key_id: str
    name: str
    role: str = Field(description="admin, read or ingest")
    models: list[str] | None
    created_at: str | None
    created_by: str | None
    revoked_at: str | None
    revoked_by: str | None
    source: str = Field(description="store or config")


class NewKeyAnswer(KeyBody):
    key: str = Field(description="The key itself: shown in this answer only.")


class KeysBody(Fixed):
    keys: list[KeyBody]


class AuditEntry(Fixed):
    id: int | None
    at: str
    key_id: str
    key_name: str
    role: str
    client: str
    method: str
    path: str
    action: str
    status: int
    outcome: str = Field(description="ok, refused or failed")
    model: str | None
    target: str | None
    request_id: str | None
    details: dict[str, Any]


class AuditBody(Fixed):
    entries: list[AuditEntry]
    next: str | None = Field(description=NEXT)

"""What a notification says: one group's alerts for one receiver (pure).

A :class:`Notification` is what the outbox stores and every integration renders: the receiver,
the group, its status (``firing`` while any of its alerts fires), and each alert in
Alertmanager's shape (``status``, ``labels``, ``annotations``, ``startsAt``, ``endsAt``,
``generatorURL``, ``fingerprint``) with modelmon's extras (model, severity, value, threshold,
acknowledgement). It never holds a receiver's URL or key: those are read from the settings when
it is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelmon.alerts.state import AlertInstance, AlertState

__all__ = ["NOTIFICATION_KINDS", "Notification", "alert_entry", "common"]

#: ``notification`` (a group's news), ``escalation`` (unacknowledged too long), ``acknowledge``
#: (an acknowledgement, for integrations that track incidents: PagerDuty), ``test``.
NOTIFICATION_KINDS = ("notification", "escalation", "acknowledge", "test")
_ZERO_TIME = "0001-01-01T00:00:00Z"


def _iso(at: datetime | None) -> str:
    if at is None:
        return _ZERO_TIME
    return at.isoformat().replace("+00:00", "Z")


def alert_entry(a: AlertInstance, external_url: str) -> dict[str, Any]:
    """One alert as notifications carry it (Alertmanager's fields first)."""
    resolved = a.state == AlertState.RESOLVED
    return {
        "status": "resolved" if resolved else "firing",
        "labels": dict(a.labels),
        "annotations": dict(a.annotations),
        "startsAt": _iso(a.fired_at or a.started_at),
        "endsAt": _iso(a.resolved_at) if resolved else _ZERO_TIME,
        "generatorURL": f"{external_url}/v1/alerts/{a.fingerprint}" if external_url else "",
        "fingerprint": a.fingerprint,
        "alert_id": a.alert_id,
        "rule": a.rule,
        "model": a.model,
        "severity": str(a.severity),
        "value": a.value,
        "threshold": a.threshold,
        "acked_by": a.acked_by,
    }


def common(items: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The label pairs every mapping shares."""
    it = iter(items)
    first = next(it, None)
    if first is None:
        return {}
    shared = dict(first)
    for m in it:
        shared = {k: v for k, v in shared.items() if m.get(k) == v}
    return shared


@dataclass(frozen=True)
class Notification:
    """One message for one receiver (see the module docstring)."""

    receiver: str
    group_key: str
    kind: str
    group_labels: dict[str, str]
    alerts: list[dict[str, Any]]
    external_url: str
    created_at: str
    truncated: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, receiver: str, group_key: str, group_labels: Mapping[str, str],
              alerts: Sequence[AlertInstance], external_url: str, now: datetime, *,
              kind: str = "notification", extra: Mapping[str, Any] | None = None
              ) -> Notification:
        entries = [alert_entry(a, external_url) for a in alerts]
        # firing first, the most severe first: what a person reads first
        order = {"critical": 0, "high": 1, "warning": 2, "info": 3}
        entries.sort(key=lambda e: (e["status"] != "firing", order.get(e["severity"], 9),
                                    e["labels"].get("alertname", ""), e["fingerprint"]))
        return cls(receiver, group_key, kind, dict(group_labels), entries,
                   external_url.rstrip("/"), _iso(now), 0, dict(extra or {}))

    @property
    def status(self) -> str:
        return "firing" if any(a["status"] == "firing" for a in self.alerts) else "resolved"

    @property
    def firing(self) -> list[dict[str, Any]]:
        return [a for a in self.alerts if a["status"] == "firing"]

    @property
    def resolved(self) -> list[dict[str, Any]]:
        return [a for a in self.alerts if a["status"] == "resolved"]

    @property
    def common_labels(self) -> dict[str, str]:
        return common(a["labels"] for a in self.alerts)

    @property
    def common_annotations(self) -> dict[str, str]:
        return common(a["annotations"] for a in self.alerts)

    @property
    def title(self) -> str:
        """``[FIRING:2] FeatureDrift fraud`` (Alertmanager's default title)."""
        head = f"[{self.status.upper()}:{len(self.firing) or len(self.alerts)}]"
        if self.kind == "escalation":
            head = f"[ESCALATED] {head}"
        elif self.kind == "test":
            return "[TEST] modelmon notification test"
        labels = self.group_labels or self.common_labels
        names = [labels[k] for k in ("alertname", "model") if k in labels]
        names += [v for k, v in sorted(labels.items()) if k not in ("alertname", "model")]
        return " ".join([head, *names]) if names else head

    def without_resolved(self) -> Notification:
        """The same message without its resolved alerts (``send_resolved: false``)."""
        return Notification(self.receiver, self.group_key, self.kind, self.group_labels,
                            self.firing, self.external_url, self.created_at, self.truncated,
                            self.extra)

    def to_dict(self) -> dict[str, Any]:
        return {"receiver": self.receiver, "group_key": self.group_key, "kind": self.kind,
                "group_labels": self.group_labels, "alerts": self.alerts,
                "external_url": self.external_url, "created_at": self.created_at,
                "truncated": self.truncated, "extra": self.extra}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notification:
        return cls(**dict(data))

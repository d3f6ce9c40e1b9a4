"""Audit entries: who changed what, when, from where, and how it ended.

The service writes one for every request that needs the ``admin`` role (models, versions, rules,
silences, acknowledgements, approvals, actions, evaluations, deletions, retention, backups,
keys), whatever its outcome, and for the dashboard's forms; the log is append-only (no route
deletes or edits it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["AuditEntry"]


@dataclass(frozen=True)
class AuditEntry:
    """One change, as the audit log keeps it."""

    at: datetime
    key_id: str          # never the key
    key_name: str
    role: str
    client: str          # the client's address
    method: str
    path: str            # the request path (no query string)
    action: str          # the route, e.g. "POST /v1/silences"
    status: int          # the HTTP status answered
    model: str | None = None
    target: str | None = None   # the path's other identifier (silence id, rule name, key id...)
    request_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    @property
    def outcome(self) -> str:
        return "ok" if self.status < 400 else "refused" if self.status < 500 else "failed"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "key_id": self.key_id,
                "key_name": self.key_name, "role": self.role, "client": self.client,
                "method": self.method, "path": self.path, "action": self.action,
                "status": self.status, "outcome": self.outcome, "model": self.model,
                "target": self.target, "request_id": self.request_id, "details": self.details}

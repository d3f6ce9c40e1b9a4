"""The audit log's writer: one entry for every request that needs the ``admin`` role.

:func:`modelmon.service.auth.require_api_key` marks such a request (``scope["modelmon.audit"]``
with the principal) before checking its role, so refused attempts by a valid key are kept as
well; the dashboard's forms mark theirs. When the route answers, this middleware appends the
entry (who, what, when, from where, the status) to the store *before* the response starts, so a
client never sees a change succeed that the log lacks. Routes add details with
:func:`audit_note` (e.g. what a deletion removed). Unauthenticated requests are not audited
(they are counted in ``modelmon_auth_failures_total``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.types import Scope

from modelmon.access.audit import AuditEntry

__all__ = ["AUDIT_SCOPE", "AuditMiddleware", "audit_note", "mark_audited"]

log = logging.getLogger("modelmon.service")

AUDIT_SCOPE = "modelmon.audit"


def mark_audited(request: Request, principal: Any) -> None:
    """Audit this request as ``principal``'s."""
    request.scope.setdefault(AUDIT_SCOPE, {})["principal"] = principal


def audit_note(request: Request, **details: Any) -> None:
    """Add details to this request's audit entry (JSON-able values)."""
    request.scope.setdefault(AUDIT_SCOPE, {}).setdefault("details", {}).update(details)


def _entry(scope: Scope, info: dict[str, Any], status: int) -> AuditEntry:
    principal = info["principal"]
    route = scope.get("route")
    template = getattr(route, "path", None) or scope.get("path", "")
    params = dict(scope.get("path_params") or {})
    model = params.pop("model", None)
    client = scope.get("client")
    return AuditEntry(
        at=datetime.now(UTC), key_id=principal.key_id, key_name=principal.name,
        role=str(principal.role), client=client[0] if client else "unknown",
        method=scope.get("method", ""), path=scope.get("path", ""),
        action=f"{scope.get('method', '')} {template}", status=status,
        model=str(model) if model is not None else None,
        target=str(next(iter(params.values()))) if params else None,
        request_id=scope.get("state", {}).get("request_id"),
        details=info.get("details", {}))


class AuditMiddleware:
    """Pure ASGI middleware writing audit entries (see the module docstring)."""

    def __init__(self, app: Any, *, state: Any) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_audited(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                info = scope.get(AUDIT_SCOPE)
                if info and "principal" in info:
                    await self._write(_entry(scope, info, int(message["status"])))
            await send(message)

        await self.app(scope, receive, send_audited)

    async def _write(self, entry: AuditEntry) -> None:
        try:
            await asyncio.to_thread(self.state.store.access.append_audit, entry)
        except Exception:  # the change is done; the log must say the entry is missing
            log.exception("audit entry not written: %s by key %s", entry.action, entry.key_id)

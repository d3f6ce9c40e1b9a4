"""The actions page: what alert rules' actions did (rollbacks, webhooks, commands), newest
first, with the ones waiting for approval on top (from the action runner's store, as
``/v1/actions`` answers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from modelmon.actions.record import ActionState

__all__ = ["PAGE", "actions_page"]

PAGE = 50


def _what(r: dict[str, Any]) -> str:
    details = r.get("details") or {}
    if r["type"] == "rollback" and details.get("from_version"):
        return f"{details['from_version']} → {details['to_version']}"
    return r.get("error") or r.get("note") or ""


def actions_page(runner: Any, *, model: str | None, state: str | None,
                 before: datetime | None) -> dict[str, Any]:
    """Records waiting for approval, one page of every record, counts by state, and the
    configured actions (secrets as ``***``)."""
    if runner is None:
        return {"enabled": False, "waiting": [], "records": [], "next": None, "counts": {},
                "definitions": []}
    store = runner.store
    waiting = store.list_actions(model=model, state=[ActionState.PENDING_APPROVAL], limit=100)
    rows = store.list_actions(model=model, state=[state] if state else None, before=before,
                              limit=PAGE + 1)
    page = rows[:PAGE]
    records = [{**r.to_dict(), "what": _what(r.to_dict())} for r in page]
    counts: dict[str, int] = {}
    for r in page:
        counts[r.state] = counts.get(r.state, 0) + 1
    return {
        "enabled": True,
        "waiting": [{**r.to_dict(), "what": _what(r.to_dict())} for r in waiting],
        "records": records,
        "next": page[-1].created_at.isoformat() if len(rows) > PAGE else None,
        "counts": counts,
        "states": list(ActionState.ALL),
        "dry_run": runner.settings.dry_run,
        "definitions": [a.describe() for a in runner.settings.definitions],
    }

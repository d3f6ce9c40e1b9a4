"""The alerts page: active alerts, their history and silences (from the alert engine and its
store, as ``/v1/alerts``, ``/v1/alerts/history`` and ``/v1/silences`` answer)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["HISTORY_PAGE", "alerts_page"]

HISTORY_PAGE = 50


def alerts_page(engine: Any, now: datetime, *, model: str | None,
                before: datetime | None) -> dict[str, Any]:
    """Active alerts (most severe first), one page of history and every silence."""
    if engine is None:
        return {"enabled": False, "active": [], "history": [], "silences": [], "next": None}
    active = [a for a in engine.active() if model is None or a.model == model]
    active.sort(key=lambda a: (-a.severity.rank, a.started_at))
    rows = engine.store.list_alerts(model=model, before=before, limit=HISTORY_PAGE + 1,
                                    state=["pending", "firing", "resolved"])
    history = rows[:HISTORY_PAGE]
    silences = sorted(engine.silences(), key=lambda s: s.created_at, reverse=True)
    return {
        "enabled": True,
        "active": [a.to_dict() for a in active],
        "history": [a.to_dict() for a in history],
        "next": history[-1].started_at.isoformat() if len(rows) > HISTORY_PAGE else None,
        "silences": [s.to_dict(now) for s in silences],
        "counts": {"firing": sum(a.state == "firing" for a in active),
                   "pending": sum(a.state == "pending" for a in active),
                   "silenced": sum(a.silenced for a in active)},
    }

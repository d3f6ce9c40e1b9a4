"""Where notifications wait and what was said: the outbox, the notification log, escalations.

The outbox holds one row per message per receiver integration, written (with the notification
log's update, in one transaction) before anything is sent and marked after: ``queued`` until
``delivered``, ``failed`` (the receiver refused it for good, e.g. a 400) or ``expired`` (older
than the delivery's ``max_age``). Rows hold what to say (the notification), never a receiver's
URL or key. A *lane* is one group's messages to one receiver integration (``receiver``,
``integration``, ``idx``, ``group_key``): they go out one at a time in the order they were
queued, so a group's firing message is never overtaken by its resolution, while other groups
(and other receivers) go out in parallel.

:class:`DuckDBNotifications` is a part composed into the DuckDB store (``store.notifications``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from modelmon.store._rows import TIMESTAMP, arrow_rows
from modelmon.store._time import aware, naive_utc

__all__ = ["DuckDBNotifications", "NewMessage", "NotificationStore", "OutboxItem", "OutboxState"]


class OutboxState:
    QUEUED = "queued"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"


@dataclass(frozen=True)
class NewMessage:
    """A message to queue for one receiver integration."""

    receiver: str
    integration: str
    idx: int
    kind: str
    group_key: str
    fingerprints: list[str]
    payload: dict[str, Any]


@dataclass(frozen=True)
class OutboxItem:
    """A queued (or sent) message."""

    id: int
    created_at: datetime
    receiver: str
    integration: str
    idx: int
    kind: str
    group_key: str
    fingerprints: list[str]
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None

    @property
    def lane(self) -> tuple[str, str, int, str]:
        return self.receiver, self.integration, self.idx, self.group_key

    def to_dict(self) -> dict[str, Any]:
        """As ``GET /v1/notifications`` shows it (what was said, not the whole payload)."""
        alerts = self.payload.get("alerts") or []
        return {
            "id": self.id, "created_at": self.created_at.isoformat(), "receiver": self.receiver,
            "integration": self.integration, "index": self.idx, "kind": self.kind,
            "group_key": self.group_key, "state": self.state, "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat()
            if self.state == OutboxState.QUEUED else None,
            "last_error": self.last_error,
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
            "alerts": [{"fingerprint": a.get("fingerprint"), "alert_id": a.get("alert_id"),
                        "alertname": (a.get("labels") or {}).get("alertname"),
                        "model": a.get("model"), "status": a.get("status"),
                        "severity": a.get("severity")} for a in alerts],
        }


_COLUMNS = ("id", "created_at", "receiver", "integration", "idx", "kind", "group_key",
            "fingerprints", "payload", "state", "attempts", "next_attempt_at", "last_error",
            "delivered_at")
_NEW = ("created_at", "receiver", "integration", "idx", "kind", "group_key", "fingerprints",
        "payload", "state", "attempts", "next_attempt_at")
_NEW_TYPES = (TIMESTAMP, pa.string(), pa.string(), pa.int32(), pa.string(), pa.string(),
              pa.string(), pa.string(), pa.string(), pa.int32(), TIMESTAMP)


def outbox_item(r: Sequence[Any]) -> OutboxItem:
    (id_, created, receiver, integration, idx, kind, group_key, fps, payload, state, attempts,
     next_at, error, delivered) = r
    return OutboxItem(int(id_), aware(created), receiver, integration, int(idx), kind, group_key,
                      json.loads(fps), json.loads(payload), state, int(attempts), aware(next_at),
                      error, aware(delivered))


@runtime_checkable
class NotificationStore(Protocol):
    """The outbox, the notification log and escalations (``store.notifications``)."""

    def enqueue(self, messages: Sequence[NewMessage], now: datetime, *,
                log: Sequence[tuple[str, str, list[str]]] = (),
                forget: Sequence[tuple[str, str]] = (),
                escalations: Sequence[tuple[str, str]] = ()) -> None:
        """Queue ``messages`` and, in the same transaction, record what each group told its
        receiver, forget groups that ended and record escalations sent."""

    def record(self, message: NewMessage, now: datetime, state: str, error: str | None) -> None:
        """Record a message sent at once, outside the outbox (a receiver test)."""

    def mark(self, item_id: int, state: str, *, attempts: int, next_attempt_at: datetime,
             last_error: str | None, delivered_at: datetime | None) -> None:
        """Record a delivery attempt's outcome."""

    def due(self, now: datetime, *, busy: Sequence[tuple[str, str, int, str]] = (),
            limit: int = 100) -> list[OutboxItem]:
        """The oldest queued message of each lane whose attempt is due, lanes in ``busy``
        left out."""

    def next_due(self) -> datetime | None:
        """When the earliest queued message is due (None: nothing queued)."""

    def queued(self) -> int:
        """Messages queued."""

    def list_notifications(self, *, receiver: str | None = None, state: str | None = None,
                           fingerprint: str | None = None, kind: str | None = None,
                           before: int | None = None, limit: int = 100) -> list[OutboxItem]:
        """Messages newest first; ``before`` is the paging cursor (an id)."""

    def get_notification(self, item_id: int) -> OutboxItem | None:
        """One message."""

    def notification_log(self) -> dict[tuple[str, str], tuple[datetime, list[str]]]:
        """What each group last told each receiver."""

    def escalations(self) -> set[tuple[str, str]]:
        """``(alert_id, route)`` of the escalations already sent."""


class DuckDBNotifications:
    """The outbox, the notification log and escalations on the store's DuckDB database."""

    def __init__(self, cursor: Callable[[], AbstractContextManager[Any]],
                 transaction: Callable[[], AbstractContextManager[Any]], lock: Any) -> None:
        self._cursor = cursor
        self._transaction = transaction
        self._lock = lock

    # --- writes ----------------------------------------------------------------------------------
    def enqueue(self, messages: Sequence[NewMessage], now: datetime, *,
                log: Sequence[tuple[str, str, list[str]]] = (),
                forget: Sequence[tuple[str, str]] = (),
                escalations: Sequence[tuple[str, str]] = ()) -> None:
        """Queue ``messages`` and, in the same transaction, record what each group told its
        receiver (``log``: ``(receiver, group_key, firing fingerprints)``), forget groups that
        ended (``forget``) and record escalations sent (``(alert_id, route)``)."""
        at = naive_utc(now)
        _new = arrow_rows(
            [[at, m.receiver, m.integration, m.idx, m.kind, m.group_key,
              json.dumps(m.fingerprints), json.dumps(m.payload), OutboxState.QUEUED, 0, at]
             for m in messages], _NEW, _NEW_TYPES)
        _log = arrow_rows([[receiver, key, at, json.dumps(sorted(firing))]
                           for receiver, key, firing in log],
                          ("receiver", "group_key", "sent_at", "firing"),
                          (pa.string(), pa.string(), TIMESTAMP, pa.string()))
        with self._lock, self._transaction() as con:
            if messages:
                cols = ", ".join(_NEW)
                con.execute(f"INSERT INTO notifications ({cols}) SELECT {cols} FROM _new")
            if log:
                con.execute("INSERT OR REPLACE INTO notification_log SELECT * FROM _log")
            for receiver, key in forget:
                con.execute("DELETE FROM notification_log WHERE receiver = ? AND group_key = ?",
                            [receiver, key])
            for alert_id, route in escalations:
                con.execute("INSERT OR REPLACE INTO notification_escalations VALUES (?, ?, ?)",
                            [alert_id, route, at])

    def record(self, message: NewMessage, now: datetime, state: str, error: str | None) -> None:
        """Record a message sent at once, outside the outbox (a receiver test)."""
        at = naive_utc(now)
        with self._lock, self._transaction() as con:
            con.execute(
                f"INSERT INTO notifications ({', '.join(_NEW)}, last_error, delivered_at) "
                f"VALUES ({', '.join('?' for _ in _NEW)}, ?, ?)",
                [at, message.receiver, message.integration, message.idx, message.kind,
                 message.group_key, json.dumps(message.fingerprints),
                 json.dumps(message.payload), state, 1, at, error,
                 at if state == OutboxState.DELIVERED else None])

    def mark(self, item_id: int, state: str, *, attempts: int, next_attempt_at: datetime,
             last_error: str | None, delivered_at: datetime | None) -> None:
        with self._lock, self._transaction() as con:
            con.execute("UPDATE notifications SET state = ?, attempts = ?, next_attempt_at = ?, "
                        "last_error = ?, delivered_at = ? WHERE id = ?",
                        [state, attempts, naive_utc(next_attempt_at), last_error,
                         naive_utc(delivered_at), item_id])

    # --- reads -----------------------------------------------------------------------------------
    def due(self, now: datetime, *, busy: Sequence[tuple[str, str, int, str]] = (),
            limit: int = 100) -> list[OutboxItem]:
        """The oldest queued message of each lane whose attempt is due (a lane's later
        messages wait for it), lanes in ``busy`` left out."""
        sql = (f"SELECT {', '.join(_COLUMNS)} FROM notifications WHERE state = 'queued' "
               "QUALIFY row_number() OVER (PARTITION BY receiver, integration, idx, group_key "
               "ORDER BY id) = 1 ORDER BY id")
        with self._cursor() as cur:
            rows = [outbox_item(r) for r in cur.execute(sql).fetchall()]
        skip = set(busy)
        return [r for r in rows if r.next_attempt_at <= now and r.lane not in skip][:limit]

    def next_due(self) -> datetime | None:
        """When the earliest queued message is due (None: nothing queued)."""
        with self._cursor() as cur:
            row = cur.execute("SELECT min(next_attempt_at) FROM notifications "
                              "WHERE state = 'queued'").fetchone()
        return aware(row[0]) if row and row[0] is not None else None

    def queued(self) -> int:
        with self._cursor() as cur:
            row = cur.execute("SELECT count(*) FROM notifications WHERE state = 'queued'"
                              ).fetchone()
        return int(row[0]) if row else 0

    def list_notifications(self, *, receiver: str | None = None, state: str | None = None,
                           fingerprint: str | None = None, kind: str | None = None,
                           before: int | None = None, limit: int = 100) -> list[OutboxItem]:
        """Messages newest first; ``before`` is the paging cursor (an id)."""
        conds: list[str] = []
        params: list[Any] = []
        for column, value in (("receiver", receiver), ("state", state), ("kind", kind)):
            if value is not None:
                conds.append(f"{column} = ?")
                params.append(value)
        if fingerprint is not None:
            conds.append("list_contains(CAST(fingerprints AS VARCHAR[]), ?)")
            params.append(fingerprint)
        if before is not None:
            conds.append("id < ?")
            params.append(before)
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        sql = (f"SELECT {', '.join(_COLUMNS)} FROM notifications{where} ORDER BY id DESC "
               f"LIMIT {int(limit)}")
        with self._cursor() as cur:
            return [outbox_item(r) for r in cur.execute(sql, params).fetchall()]

    def get_notification(self, item_id: int) -> OutboxItem | None:
        with self._cursor() as cur:
            rows = cur.execute(f"SELECT {', '.join(_COLUMNS)} FROM notifications WHERE id = ?",
                               [item_id]).fetchall()
        return outbox_item(rows[0]) if rows else None

    def notification_log(self) -> dict[tuple[str, str], tuple[datetime, list[str]]]:
        """What each group last told each receiver: ``(receiver, group_key) -> (when,
        firing fingerprints)``."""
        with self._cursor() as cur:
            rows = cur.execute("SELECT receiver, group_key, sent_at, firing "
                               "FROM notification_log").fetchall()
        return {(r[0], r[1]): (aware(r[2]), json.loads(r[3])) for r in rows}

    def escalations(self) -> set[tuple[str, str]]:
        """``(alert_id, route)`` of the escalations already sent."""
        with self._cursor() as cur:
            rows = cur.execute("SELECT alert_id, route FROM notification_escalations").fetchall()
        return {(r[0], r[1]) for r in rows}

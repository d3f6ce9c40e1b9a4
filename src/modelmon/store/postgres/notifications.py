"""PostgreSQL implementation of :class:`~modelmon.store.notifications.NotificationStore`
(``store.notifications``): the outbox, the notification log and escalations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from modelmon.store.notifications import _COLUMNS, _NEW, NewMessage, OutboxItem, OutboxState
from modelmon.store.notifications import outbox_item as _item
from modelmon.store.postgres._access import Access

__all__ = ["PostgresNotifications"]

_INSERT = f"INSERT INTO notifications ({', '.join(_NEW)}) VALUES ({', '.join('%s' for _ in _NEW)})"


class PostgresNotifications:
    """The outbox, the notification log and escalations on the store's database."""

    def __init__(self, access: Access) -> None:
        self._a = access

    def enqueue(self, messages: Sequence[NewMessage], now: datetime, *,
                log: Sequence[tuple[str, str, list[str]]] = (),
                forget: Sequence[tuple[str, str]] = (),
                escalations: Sequence[tuple[str, str]] = ()) -> None:
        with self._a.transaction() as con, con.cursor() as cur:
            if messages:
                cur.executemany(_INSERT, [
                    [now, m.receiver, m.integration, m.idx, m.kind, m.group_key,
                     json.dumps(m.fingerprints), json.dumps(m.payload), OutboxState.QUEUED, 0,
                     now] for m in messages])
            if log:
                cur.executemany(
                    "INSERT INTO notification_log VALUES (%s, %s, %s, %s) ON CONFLICT "
                    "(receiver, group_key) DO UPDATE SET sent_at = excluded.sent_at, "
                    "firing = excluded.firing",
                    [[receiver, key, now, json.dumps(sorted(firing))]
                     for receiver, key, firing in log])
            if forget:
                cur.executemany("DELETE FROM notification_log WHERE receiver = %s "
                                "AND group_key = %s", [list(f) for f in forget])
            if escalations:
                cur.executemany("INSERT INTO notification_escalations VALUES (%s, %s, %s) "
                                "ON CONFLICT (alert_id, route) DO UPDATE SET "
                                "sent_at = excluded.sent_at",
                                [[alert_id, route, now] for alert_id, route in escalations])

    def record(self, message: NewMessage, now: datetime, state: str, error: str | None) -> None:
        with self._a.transaction() as con:
            con.execute(
                f"INSERT INTO notifications ({', '.join(_NEW)}, last_error, delivered_at) "
                f"VALUES ({', '.join('%s' for _ in _NEW)}, %s, %s)",
                [now, message.receiver, message.integration, message.idx, message.kind,
                 message.group_key, json.dumps(message.fingerprints),
                 json.dumps(message.payload), state, 1, now, error,
                 now if state == OutboxState.DELIVERED else None])

    def mark(self, item_id: int, state: str, *, attempts: int, next_attempt_at: datetime,
             last_error: str | None, delivered_at: datetime | None) -> None:
        with self._a.transaction() as con:
            con.execute("UPDATE notifications SET state = %s, attempts = %s, next_attempt_at = %s,"
                        " last_error = %s, delivered_at = %s WHERE id = %s",
                        [state, attempts, next_attempt_at, last_error, delivered_at, item_id])

    def _items(self, sql: str, params: Sequence[Any] = ()) -> list[OutboxItem]:
        with self._a.cursor() as cur:
            return [_item(r) for r in cur.execute(sql, list(params)).fetchall()]

    def due(self, now: datetime, *, busy: Sequence[tuple[str, str, int, str]] = (),
            limit: int = 100) -> list[OutboxItem]:
        cols = ", ".join(_COLUMNS)
        rows = self._items(
            f"SELECT {cols} FROM (SELECT DISTINCT ON (receiver, integration, idx, group_key) "
            f"{cols} FROM notifications WHERE state = 'queued' ORDER BY receiver, integration, "
            "idx, group_key, id) t ORDER BY id")
        skip = set(busy)
        return [r for r in rows if r.next_attempt_at <= now and r.lane not in skip][:limit]

    def next_due(self) -> datetime | None:
        with self._a.cursor() as cur:
            row = cur.execute("SELECT min(next_attempt_at) FROM notifications "
                              "WHERE state = 'queued'").fetchone()
        return row[0] if row else None

    def queued(self) -> int:
        with self._a.cursor() as cur:
            row = cur.execute("SELECT count(*) FROM notifications WHERE state = 'queued'"
                              ).fetchone()
        return int(row[0]) if row else 0

    def list_notifications(self, *, receiver: str | None = None, state: str | None = None,
                           fingerprint: str | None = None, kind: str | None = None,
                           before: int | None = None, limit: int = 100) -> list[OutboxItem]:
        conds: list[str] = []
        params: list[Any] = []
        for column, value in (("receiver", receiver), ("state", state), ("kind", kind)):
            if value is not None:
                conds.append(f"{column} = %s")
                params.append(value)
        if fingerprint is not None:
            conds.append("fingerprints::jsonb ? %s")
            params.append(fingerprint)
        if before is not None:
            conds.append("id < %s")
            params.append(before)
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        return self._items(f"SELECT {', '.join(_COLUMNS)} FROM notifications{where} "
                           f"ORDER BY id DESC LIMIT {int(limit)}", params)

    def get_notification(self, item_id: int) -> OutboxItem | None:
        found = self._items(f"SELECT {', '.join(_COLUMNS)} FROM notifications WHERE id = %s",
                            [item_id])
        return found[0] if found else None

    def notification_log(self) -> dict[tuple[str, str], tuple[datetime, list[str]]]:
        with self._a.cursor() as cur:
            rows = cur.execute("SELECT receiver, group_key, sent_at, firing "
                               "FROM notification_log").fetchall()
        return {(r[0], r[1]): (r[2], json.loads(r[3])) for r in rows}

    def escalations(self) -> set[tuple[str, str]]:
        with self._a.cursor() as cur:
            rows = cur.execute("SELECT alert_id, route FROM notification_escalations").fetchall()
        return {(r[0], r[1]) for r in rows}

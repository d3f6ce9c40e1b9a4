"""PostgreSQL implementation of :class:`~modelmon.store.alerts.AlertStore` (``store.alerts``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from modelmon.alerts.matchers import Matcher
from modelmon.alerts.silences import Silence
from modelmon.alerts.state import ACTIVE, AlertInstance
from modelmon.store.alerts import _ALERT_COLUMNS, AlertEvent, alert_from_row, alert_row
from modelmon.store.postgres._access import Access
from modelmon.store.postgres._filters import listing_filter

__all__ = ["PostgresAlerts"]

# An acknowledgement is never taken back: one made on another server while this one held an
# older copy of the alert survives this one's write.
_KEEP = {"acked_by", "acked_at", "ack_note"}
_UPSERT = (f"INSERT INTO alerts ({', '.join(_ALERT_COLUMNS)}) "
           f"VALUES ({', '.join('%s' for _ in _ALERT_COLUMNS)}) ON CONFLICT (alert_id) DO UPDATE "
           "SET " + ", ".join(
               f"{c} = coalesce(excluded.{c}, alerts.{c})" if c in _KEEP else f"{c} = excluded.{c}"
               for c in _ALERT_COLUMNS[1:]))


class PostgresAlerts:
    """Alerts, their history, silences and API-made rules on the store's database."""

    def __init__(self, access: Access) -> None:
        self._a = access

    def save_alerts(self, alerts: Sequence[AlertInstance], events: Sequence[AlertEvent]) -> None:
        if not alerts and not events:
            return
        latest = {a.alert_id: a for a in alerts}
        with self._a.transaction() as con, con.cursor() as cur:
            if latest:
                cur.executemany(_UPSERT, [alert_row(a) for a in latest.values()])
            if events:
                cur.executemany(
                    "INSERT INTO alert_events (alert_id, fingerprint, occurred_at, event, state, "
                    "value, note) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [[a.alert_id, a.fingerprint, at, event, a.state, a.value, note]
                     for a, at, event, note in events])

    def _select(self, where: str, params: list[Any], order: str,
                limit: int) -> list[AlertInstance]:
        sql = (f"SELECT {', '.join(_ALERT_COLUMNS)} FROM alerts{where} ORDER BY {order} "
               f"LIMIT {int(limit)}")
        with self._a.cursor() as cur:
            return [alert_from_row(r) for r in cur.execute(sql, params).fetchall()]

    def active_alerts(self) -> list[AlertInstance]:
        return self._select(" WHERE state = ANY(%s)", [list(ACTIVE)], "started_at", 1_000_000)

    def list_alerts(self, *, model: str | None = None, severity: str | None = None,
                    state: Sequence[str] | None = None, silenced: bool | None = None,
                    start: datetime | None = None, end: datetime | None = None,
                    before: datetime | None = None, limit: int = 100) -> list[AlertInstance]:
        where, params = listing_filter(
            (("model", model), ("severity", severity), ("silenced", silenced)), state,
            "started_at", start, end, before)
        return self._select(where, params, "started_at DESC, alert_id", limit)

    def get_alert(self, key: str) -> AlertInstance | None:
        found = self._select(" WHERE fingerprint = %s OR alert_id = %s", [key, key],
                             "started_at DESC", 1)
        return found[0] if found else None

    def alert_events(self, alert_id: str, *, limit: int = 1000) -> list[dict[str, Any]]:
        with self._a.cursor() as cur:
            rows = cur.execute(
                "SELECT occurred_at, event, state, value, note FROM alert_events "
                f"WHERE alert_id = %s ORDER BY occurred_at, seq LIMIT {int(limit)}",
                [alert_id]).fetchall()
        return [{"at": at.isoformat(), "event": event, "state": state, "value": value,
                 "note": note} for at, event, state, value, note in rows]

    def save_silence(self, silence: Silence) -> None:
        with self._a.transaction() as con:
            con.execute(
                "INSERT INTO silences VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (silence_id) DO UPDATE SET matchers = excluded.matchers, "
                "starts_at = excluded.starts_at, ends_at = excluded.ends_at, "
                "created_by = excluded.created_by, comment = excluded.comment, "
                "created_at = excluded.created_at, expired_at = excluded.expired_at",
                [silence.silence_id, json.dumps([m.to_dict() for m in silence.matchers]),
                 silence.starts_at, silence.ends_at, silence.created_by, silence.comment,
                 silence.created_at, silence.expired_at])

    def list_silences(self) -> list[Silence]:
        with self._a.cursor() as cur:
            rows = cur.execute("SELECT * FROM silences ORDER BY created_at DESC").fetchall()
        return [Silence(sid, tuple(Matcher(**m) for m in json.loads(matchers)), s, e, by,
                        comment, created, expired)
                for sid, matchers, s, e, by, comment, created, expired in rows]

    def save_alert_rule(self, name: str, spec: dict[str, Any]) -> None:
        now = self._a.clock()
        with self._a.transaction() as con:
            con.execute("INSERT INTO alert_rules VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO "
                        "UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at",
                        [name, json.dumps(spec), now, now])

    def delete_alert_rule(self, name: str) -> None:
        with self._a.transaction() as con:
            con.execute("DELETE FROM alert_rules WHERE name = %s", [name])

    def list_alert_rules(self) -> list[tuple[str, dict[str, Any]]]:
        with self._a.cursor() as cur:
            rows = cur.execute("SELECT name, spec FROM alert_rules ORDER BY name").fetchall()
        return [(name, json.loads(spec)) for name, spec in rows]

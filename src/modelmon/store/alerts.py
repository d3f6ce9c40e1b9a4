"""Where alerts live: their incidents and history, silences, and rules made over the API.

:class:`AlertStore` is the protocol the alert engine and the API use; :class:`DuckDBAlerts` is
its DuckDB implementation, a *part* composed into :class:`~modelmon.store.duckdb_store.DuckDBStore`
(``store.alerts``) over the store's connection helpers rather than a mixin of its class.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from modelmon.alerts.matchers import Matcher
from modelmon.alerts.silences import Silence
from modelmon.alerts.state import ACTIVE, AlertInstance
from modelmon.store._filters import listing_filter
from modelmon.store._rows import TIMESTAMP, arrow_rows
from modelmon.store._time import aware, naive_utc
from modelmon.vocabulary import Severity

__all__ = ["AlertEvent", "AlertStore", "DuckDBAlerts"]

#: ``(alert, at, event, note)``: one line of an alert's history.
AlertEvent = tuple[AlertInstance, datetime, str, "str | None"]

_ALERT_COLUMNS = ("alert_id", "fingerprint", "rule", "model", "labels", "annotations", "state",
                  "severity", "value", "threshold", "started_at", "fired_at", "resolved_at",
                  "last_active_at", "last_evaluated_at", "evaluations", "silenced", "acked_by",
                  "acked_at", "ack_note", "backfilled", "keep_firing_since")


@runtime_checkable
class AlertStore(Protocol):
    """Storage of alerts (see the module docstring)."""

    def save_alerts(self, alerts: Sequence[AlertInstance], events: Sequence[AlertEvent]) -> None:
        """Upsert incidents and append history lines, in one transaction."""

    def active_alerts(self) -> list[AlertInstance]:
        """Incidents pending or firing."""

    def list_alerts(
        self, *, model: str | None = None, severity: str | None = None,
        state: Sequence[str] | None = None, silenced: bool | None = None,
        start: datetime | None = None, end: datetime | None = None,
        before: datetime | None = None, limit: int = 100,
    ) -> list[AlertInstance]:
        """Incidents, newest start first; ``start``/``end`` bound their start; ``before`` is the
        paging cursor (exclusive)."""

    def get_alert(self, key: str) -> AlertInstance | None:
        """The newest incident of a fingerprint (or the incident with that id)."""

    def alert_events(self, alert_id: str, *, limit: int = 1000) -> list[dict[str, Any]]:
        """An incident's history, oldest first."""

    def save_silence(self, silence: Silence) -> None:
        """Create or update a silence."""

    def list_silences(self) -> list[Silence]:
        """Every silence (expired ones too), newest first."""

    def save_alert_rule(self, name: str, spec: dict[str, Any]) -> None:
        """Create or replace a rule made over the API."""

    def delete_alert_rule(self, name: str) -> None:
        """Delete a rule made over the API."""

    def list_alert_rules(self) -> list[tuple[str, dict[str, Any]]]:
        """Rules made over the API, by name."""


_TS = TIMESTAMP
#: Arrow types of the alerts table's columns (rows go in as one Arrow table: DuckDB's
#: executemany takes milliseconds per row).
_ALERT_TYPES = (pa.string(), pa.string(), pa.string(), pa.string(), pa.string(), pa.string(),
                pa.string(), pa.string(), pa.float64(), pa.float64(), _TS, _TS, _TS, _TS, _TS,
                pa.int32(), pa.bool_(), pa.string(), _TS, pa.string(), pa.bool_(), _TS)
_EVENT_SCHEMA = pa.schema([("alert_id", pa.string()), ("fingerprint", pa.string()),
                          ("occurred_at", _TS), ("event", pa.string()), ("state", pa.string()),
                          ("value", pa.float64()), ("note", pa.string())])


def alert_row(a: AlertInstance) -> list[Any]:
    """An alert as the values of ``_ALERT_COLUMNS`` (times naive UTC; PostgreSQL takes them as
    UTC too, its sessions run in UTC)."""
    return [a.alert_id, a.fingerprint, a.rule, a.model, json.dumps(a.labels),
            json.dumps(a.annotations), a.state, str(a.severity), a.value, a.threshold,
            naive_utc(a.started_at), naive_utc(a.fired_at), naive_utc(a.resolved_at),
            naive_utc(a.last_active_at), naive_utc(a.last_evaluated_at), a.evaluations,
            a.silenced, a.acked_by, naive_utc(a.acked_at), a.ack_note, a.backfilled,
            naive_utc(a.keep_firing_since)]


def alert_from_row(r: Sequence[Any]) -> AlertInstance:
    (alert_id, fp, rule, model, labels, annotations, state, severity, value, threshold, started,
     fired, resolved, last_active, last_eval, evaluations, silenced, acked_by, acked_at, note,
     backfilled, keep_since) = r
    return AlertInstance(alert_id, fp, rule, model, json.loads(labels), json.loads(annotations),
                         state, Severity(severity), value, threshold, aware(started),
                         aware(last_active), aware(last_eval), int(evaluations), aware(fired),
                         aware(resolved), bool(silenced), acked_by, aware(acked_at), note,
                         bool(backfilled), aware(keep_since))


class DuckDBAlerts:
    """:class:`AlertStore` on the store's DuckDB database."""

    def __init__(self, cursor: Callable[[], AbstractContextManager[Any]],
                 transaction: Callable[[], AbstractContextManager[Any]], lock: Any,
                 clock: Callable[[], datetime]) -> None:
        self._cursor = cursor
        self._transaction = transaction
        self._lock = lock
        self._clock = clock

    def save_alerts(self, alerts: Sequence[AlertInstance], events: Sequence[AlertEvent]) -> None:
        if not alerts and not events:
            return
        latest = {a.alert_id: a for a in alerts}  # one row per incident, its last state
        cols = ", ".join(_ALERT_COLUMNS)
        _new_alerts = arrow_rows([alert_row(a) for a in latest.values()], _ALERT_COLUMNS, _ALERT_TYPES)
        _new_events = arrow_rows(
            [[a.alert_id, a.fingerprint, naive_utc(at), event, a.state, a.value, note]
             for a, at, event, note in events], _EVENT_SCHEMA.names, _EVENT_SCHEMA.types)
        with self._lock, self._transaction() as con:
            # DuckDB reads the Arrow tables by their local names (replacement scans)
            if latest:
                con.execute(f"INSERT OR REPLACE INTO alerts ({cols}) "
                            f"SELECT {cols} FROM _new_alerts")
            if events:
                con.execute("INSERT INTO alert_events SELECT * FROM _new_events")

    def _select(self, where: str, params: list[Any], order: str, limit: int) -> list[AlertInstance]:
        sql = (f"SELECT {', '.join(_ALERT_COLUMNS)} FROM alerts{where} ORDER BY {order} "
               f"LIMIT {int(limit)}")
        with self._cursor() as cur:
            return [alert_from_row(r) for r in cur.execute(sql, params).fetchall()]

    def active_alerts(self) -> list[AlertInstance]:
        return self._select(f" WHERE state IN ({', '.join('?' for _ in ACTIVE)})", list(ACTIVE),
                            "started_at", 1_000_000)

    def list_alerts(
        self, *, model: str | None = None, severity: str | None = None,
        state: Sequence[str] | None = None, silenced: bool | None = None,
        start: datetime | None = None, end: datetime | None = None,
        before: datetime | None = None, limit: int = 100,
    ) -> list[AlertInstance]:
        where, params = listing_filter(
            (("model", model), ("severity", severity), ("silenced", silenced)), state,
            "started_at", start, end, before)
        return self._select(where, params, "started_at DESC, alert_id", limit)

    def get_alert(self, key: str) -> AlertInstance | None:
        found = self._select(" WHERE fingerprint = ? OR alert_id = ?", [key, key],
                             "started_at DESC", 1)
        return found[0] if found else None

    def alert_events(self, alert_id: str, *, limit: int = 1000) -> list[dict[str, Any]]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT occurred_at, event, state, value, note FROM alert_events "
                f"WHERE alert_id = ? ORDER BY occurred_at LIMIT {int(limit)}",
                [alert_id]).fetchall()
        return [{"at": aware(at).isoformat(), "event": event, "state": state, "value": value,
                 "note": note} for at, event, state, value, note in rows]

    def save_silence(self, silence: Silence) -> None:
        with self._lock, self._transaction() as con:
            con.execute("INSERT OR REPLACE INTO silences VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                silence.silence_id, json.dumps([m.to_dict() for m in silence.matchers]),
                naive_utc(silence.starts_at), naive_utc(silence.ends_at), silence.created_by,
                silence.comment, naive_utc(silence.created_at), naive_utc(silence.expired_at)])

    def list_silences(self) -> list[Silence]:
        with self._cursor() as cur:
            rows = cur.execute("SELECT * FROM silences ORDER BY created_at DESC").fetchall()
        return [Silence(sid, tuple(Matcher(**m) for m in json.loads(matchers)), aware(s),
                        aware(e), by, comment, aware(created), aware(expired))
                for sid, matchers, s, e, by, comment, created, expired in rows]

    def save_alert_rule(self, name: str, spec: dict[str, Any]) -> None:
        now = naive_utc(self._clock())
        with self._lock, self._transaction() as con:
            con.execute("INSERT INTO alert_rules VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE "
                        "SET spec = excluded.spec, updated_at = excluded.updated_at",
                        [name, json.dumps(spec), now, now])

    def delete_alert_rule(self, name: str) -> None:
        with self._lock, self._transaction() as con:
            con.execute("DELETE FROM alert_rules WHERE name = ?", [name])

    def list_alert_rules(self) -> list[tuple[str, dict[str, Any]]]:
        with self._cursor() as cur:
            rows = cur.execute("SELECT name, spec FROM alert_rules ORDER BY name").fetchall()
        return [(name, json.loads(spec)) for name, spec in rows]

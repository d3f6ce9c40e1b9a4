"""Where action records live, and the registry change a rollback makes.

:class:`ActionStore` is the protocol the action runner and the API use; :class:`DuckDBActions`
is its DuckDB implementation, a *part* composed into
:class:`~modelmon.store.duckdb_store.DuckDBStore` (``store.actions``) over the store's
connection helpers, like :class:`~modelmon.store.alerts.DuckDBAlerts`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from modelmon.actions.record import UNFINISHED, ActionRecord, ActionState
from modelmon.exceptions import NotFoundError
from modelmon.store._filters import listing_filter
from modelmon.store._time import aware, naive_utc

__all__ = ["ActionStore", "DuckDBActions"]

_COLUMNS = ("action_id", "idempotency_key", "action", "type", "model", "rule", "alert_id",
            "fingerprint", "trigger", "severity", "state", "dry_run", "created_at", "updated_at",
            "started_at", "finished_at", "attempts", "request", "response", "details", "error",
            "note", "related_id", "decided_by", "decided_at", "decision_note")
_JSON = frozenset({"request", "response", "details"})
_TIMES = frozenset({"created_at", "updated_at", "started_at", "finished_at", "decided_at"})


@runtime_checkable
class ActionStore(Protocol):
    """Storage of action records (see the module docstring)."""

    def insert_action(self, record: ActionRecord) -> bool:
        """Store a new record; ``False`` (and nothing stored) when a record with its
        idempotency key exists."""

    def save_action(self, record: ActionRecord) -> None:
        """Replace a record (its new state)."""

    def get_action(self, action_id: str) -> ActionRecord | None:
        """A record by id."""

    def find_by_key(self, key: str) -> ActionRecord | None:
        """The record of an idempotency key."""

    def list_actions(
        self, *, model: str | None = None, action: str | None = None,
        state: Sequence[str] | None = None, rule: str | None = None,
        start: datetime | None = None, end: datetime | None = None,
        before: datetime | None = None, limit: int = 100,
    ) -> list[ActionRecord]:
        """Records, newest first; ``start``/``end`` bound their creation; ``before`` is the
        paging cursor (exclusive)."""

    def recent_actions(self, action: str, model: str | None, since: datetime
                       ) -> list[ActionRecord]:
        """Records of one action for one model created at or after ``since``."""

    def unfinished_actions(self) -> list[ActionRecord]:
        """Records waiting for approval, approved or running, oldest first."""

    def last_rollback(self, model: str) -> ActionRecord | None:
        """The newest rollback of ``model`` that succeeded (dry runs excluded)."""

    def finish_rollback(self, record: ActionRecord, from_version: str, to_version: str) -> None:
        """In one transaction: the record (succeeded), ``from_version``'s stage
        ``rolled_back``, ``to_version``'s ``active``, and a model event ``rolled_back``."""


def action_row(r: ActionRecord) -> list[Any]:
    """A record as the values of ``_COLUMNS`` (JSON as text, times naive UTC)."""
    out = []
    for name in _COLUMNS:
        value = getattr(r, name)
        if name in _JSON:
            value = None if value is None else json.dumps(value, default=str)
        elif name in _TIMES:
            value = naive_utc(value)
        out.append(value)
    return out


def action_from_row(row: Sequence[Any]) -> ActionRecord:
    values = {}
    for name, value in zip(_COLUMNS, row, strict=True):
        if name in _JSON:
            value = None if value is None else json.loads(value)
        elif name in _TIMES:
            value = aware(value)
        values[name] = value
    values["details"] = values["details"] or {}
    values["dry_run"] = bool(values["dry_run"])
    values["attempts"] = int(values["attempts"])
    return ActionRecord(**values)


class DuckDBActions:
    """:class:`ActionStore` on the store's DuckDB database."""

    def __init__(self, cursor: Callable[[], AbstractContextManager[Any]],
                 transaction: Callable[[], AbstractContextManager[Any]], lock: Any) -> None:
        self._cursor = cursor
        self._transaction = transaction
        self._lock = lock

    _INSERT = (f"INSERT OR REPLACE INTO actions ({', '.join(_COLUMNS)}) "
               f"VALUES ({', '.join('?' for _ in _COLUMNS)})")

    def insert_action(self, record: ActionRecord) -> bool:
        with self._lock, self._transaction() as con:
            if con.execute("SELECT 1 FROM actions WHERE idempotency_key = ?",
                           [record.idempotency_key]).fetchall():
                return False
            con.execute(self._INSERT, action_row(record))
        return True

    def save_action(self, record: ActionRecord) -> None:
        with self._lock, self._transaction() as con:
            con.execute(self._INSERT, action_row(record))

    def _select(self, where: str, params: list[Any], order: str = "created_at DESC, action_id",
                limit: int = 100) -> list[ActionRecord]:
        sql = (f"SELECT {', '.join(_COLUMNS)} FROM actions{where} ORDER BY {order} "
               f"LIMIT {int(limit)}")
        with self._cursor() as cur:
            return [action_from_row(r) for r in cur.execute(sql, params).fetchall()]

    def get_action(self, action_id: str) -> ActionRecord | None:
        found = self._select(" WHERE action_id = ?", [action_id], limit=1)
        return found[0] if found else None

    def find_by_key(self, key: str) -> ActionRecord | None:
        found = self._select(" WHERE idempotency_key = ?", [key], limit=1)
        return found[0] if found else None

    def list_actions(
        self, *, model: str | None = None, action: str | None = None,
        state: Sequence[str] | None = None, rule: str | None = None,
        start: datetime | None = None, end: datetime | None = None,
        before: datetime | None = None, limit: int = 100,
    ) -> list[ActionRecord]:
        where, params = listing_filter((("model", model), ("action", action), ("rule", rule)),
                                       state, "created_at", start, end, before)
        return self._select(where, params, limit=limit)

    def recent_actions(self, action: str, model: str | None, since: datetime
                       ) -> list[ActionRecord]:
        return self._select(" WHERE action = ? AND model IS NOT DISTINCT FROM ? "
                            "AND created_at >= ?", [action, model, naive_utc(since)],
                            order="created_at", limit=100_000)

    def unfinished_actions(self) -> list[ActionRecord]:
        return self._select(f" WHERE state IN ({', '.join('?' for _ in UNFINISHED)})",
                            list(UNFINISHED), order="created_at", limit=100_000)

    def last_rollback(self, model: str) -> ActionRecord | None:
        found = self._select(" WHERE model = ? AND type = 'rollback' AND state = ? "
                             "AND NOT dry_run", [model, ActionState.SUCCEEDED],
                             order="finished_at DESC", limit=1)
        return found[0] if found else None

    def finish_rollback(self, record: ActionRecord, from_version: str, to_version: str) -> None:
        at = naive_utc(record.finished_at or record.updated_at)
        with self._lock, self._transaction() as con:
            found = con.execute("SELECT model_id FROM models WHERE name = ?",
                                [record.model]).fetchall()
            if not found:
                raise NotFoundError(f"no model {record.model!r}", code="model_not_found",
                                    loc=("model",))
            model_id = found[0][0]
            for version, stage in ((from_version, "rolled_back"), (to_version, "active")):
                con.execute("UPDATE model_versions SET stage = ? WHERE model_id = ? "
                            "AND version = ?", [stage, model_id, version])
            con.execute("INSERT INTO model_events (model_id, kind, occurred_at, details) "
                        "VALUES (?, 'rolled_back', ?, ?)",
                        [model_id, at, json.dumps({"from_version": from_version,
                                                   "to_version": to_version,
                                                   "action": record.action,
                                                   "action_id": record.action_id})])
            con.execute(self._INSERT, action_row(record))

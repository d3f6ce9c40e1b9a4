"""PostgreSQL implementation of :class:`~modelmon.store.actions.ActionStore`
(``store.actions``). An idempotency key is unique in the table itself, so two servers that
start the same action at once store one record."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from modelmon.actions.record import UNFINISHED, ActionRecord, ActionState
from modelmon.exceptions import NotFoundError
from modelmon.store.actions import _COLUMNS, action_from_row, action_row
from modelmon.store.postgres._access import Access
from modelmon.store.postgres._filters import listing_filter

__all__ = ["PostgresActions"]

_VALUES = f"({', '.join(_COLUMNS)}) VALUES ({', '.join('%s' for _ in _COLUMNS)})"
_UPSERT = (f"INSERT INTO actions {_VALUES} ON CONFLICT (action_id) DO UPDATE SET "
           f"{', '.join(f'{c} = excluded.{c}' for c in _COLUMNS[1:])}")


class PostgresActions:
    """Action records on the store's database."""

    def __init__(self, access: Access) -> None:
        self._a = access

    def insert_action(self, record: ActionRecord) -> bool:
        with self._a.transaction() as con:
            row = con.execute(f"INSERT INTO actions {_VALUES} ON CONFLICT DO NOTHING "
                              "RETURNING 1", action_row(record)).fetchone()
        return row is not None

    def save_action(self, record: ActionRecord) -> None:
        with self._a.transaction() as con:
            con.execute(_UPSERT, action_row(record))

    def _select(self, where: str, params: list[Any], order: str = "created_at DESC, action_id",
                limit: int = 100) -> list[ActionRecord]:
        sql = (f"SELECT {', '.join(_COLUMNS)} FROM actions{where} ORDER BY {order} "
               f"LIMIT {int(limit)}")
        with self._a.cursor() as cur:
            return [action_from_row(r) for r in cur.execute(sql, params).fetchall()]

    def get_action(self, action_id: str) -> ActionRecord | None:
        found = self._select(" WHERE action_id = %s", [action_id], limit=1)
        return found[0] if found else None

    def find_by_key(self, key: str) -> ActionRecord | None:
        found = self._select(" WHERE idempotency_key = %s", [key], limit=1)
        return found[0] if found else None

    def list_actions(self, *, model: str | None = None, action: str | None = None,
                     state: Sequence[str] | None = None, rule: str | None = None,
                     start: datetime | None = None, end: datetime | None = None,
                     before: datetime | None = None, limit: int = 100) -> list[ActionRecord]:
        where, params = listing_filter((("model", model), ("action", action), ("rule", rule)),
                                       state, "created_at", start, end, before)
        return self._select(where, params, limit=limit)

    def recent_actions(self, action: str, model: str | None,
                       since: datetime) -> list[ActionRecord]:
        return self._select(" WHERE action = %s AND model IS NOT DISTINCT FROM %s "
                            "AND created_at >= %s", [action, model, since],
                            order="created_at", limit=100_000)

    def unfinished_actions(self) -> list[ActionRecord]:
        return self._select(" WHERE state = ANY(%s)", [list(UNFINISHED)], order="created_at",
                            limit=100_000)

    def last_rollback(self, model: str) -> ActionRecord | None:
        found = self._select(" WHERE model = %s AND type = 'rollback' AND state = %s "
                             "AND NOT dry_run", [model, ActionState.SUCCEEDED],
                             order="finished_at DESC", limit=1)
        return found[0] if found else None

    def finish_rollback(self, record: ActionRecord, from_version: str, to_version: str) -> None:
        at = record.finished_at or record.updated_at
        with self._a.transaction() as con:
            found = con.execute("SELECT model_id FROM models WHERE name = %s",
                                [record.model]).fetchone()
            if found is None:
                raise NotFoundError(f"no model {record.model!r}", code="model_not_found",
                                    loc=("model",))
            model_id = found[0]
            for version, stage in ((from_version, "rolled_back"), (to_version, "active")):
                con.execute("UPDATE model_versions SET stage = %s WHERE model_id = %s "
                            "AND version = %s", [stage, model_id, version])
            con.execute("INSERT INTO model_events (model_id, kind, occurred_at, details) "
                        "VALUES (%s, 'rolled_back', %s, %s)",
                        [model_id, at, json.dumps({"from_version": from_version,
                                                   "to_version": to_version,
                                                   "action": record.action,
                                                   "action_id": record.action_id})])
            con.execute(_UPSERT, action_row(record))

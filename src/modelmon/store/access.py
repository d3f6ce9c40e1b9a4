"""Where API keys (their hashes) and the audit log live.

:class:`AccessStore` is the protocol the service uses; :class:`DuckDBAccess` is its DuckDB
implementation, a *part* composed into :class:`~modelmon.store.duckdb_store.DuckDBStore`
(``store.access``) like :class:`~modelmon.store.alerts.DuckDBAlerts`. The audit log is only
ever appended to: no method edits or deletes an entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from modelmon.access.audit import AuditEntry
from modelmon.access.keys import KeyRecord, Role
from modelmon.store._filters import listing_filter
from modelmon.store._time import aware, naive_utc

__all__ = ["AccessStore", "DuckDBAccess", "audit_from_row", "key_from_row"]

_KEY_COLUMNS = ("key_id", "name", "role", "key_hash", "models", "created_at", "created_by",
                "revoked_at", "revoked_by")
_AUDIT_COLUMNS = ("id", "at", "key_id", "key_name", "role", "client", "method", "path", "action",
                  "status", "model", "target", "request_id", "details")
_AUDIT_SQL = ", ".join(f'"{c}"' for c in _AUDIT_COLUMNS)  # "at" is a keyword to DuckDB


@runtime_checkable
class AccessStore(Protocol):
    """Keys and the audit log (see the module docstring)."""

    def insert_key(self, record: KeyRecord) -> None:
        """Store a new key (its id must be new)."""

    def list_keys(self, *, include_revoked: bool = False) -> list[KeyRecord]:
        """Keys, oldest first."""

    def get_key(self, key_id: str) -> KeyRecord | None:
        """A key by id."""

    def revoke_key(self, key_id: str, at: datetime, by: str) -> KeyRecord | None:
        """Revoke a key (no-op when already revoked); the key after, or None when unknown."""

    def append_audit(self, entry: AuditEntry) -> int:
        """Append an entry; its id."""

    def list_audit(self, *, key_id: str | None = None, model: str | None = None,
                   action: str | None = None, start: datetime | None = None,
                   end: datetime | None = None, before: int | None = None,
                   limit: int = 100) -> list[AuditEntry]:
        """Entries, newest first; ``before`` is the paging cursor (an entry id, exclusive)."""


def key_from_row(row: Sequence[Any]) -> KeyRecord:
    v = dict(zip(_KEY_COLUMNS, row, strict=True))
    models = v["models"]
    if isinstance(models, str):  # DuckDB's JSON is text; PostgreSQL's jsonb arrives decoded
        models = json.loads(models)
    return KeyRecord(key_id=v["key_id"], name=v["name"], role=Role(v["role"]),
                     key_hash=v["key_hash"], created_at=aware(v["created_at"]),
                     created_by=v["created_by"],
                     models=tuple(models) if models is not None else None,
                     revoked_at=aware(v["revoked_at"]) if v["revoked_at"] else None,
                     revoked_by=v["revoked_by"])


def audit_from_row(row: Sequence[Any]) -> AuditEntry:
    v = dict(zip(_AUDIT_COLUMNS, row, strict=True))
    v["at"] = aware(v["at"])
    details = v["details"]
    v["details"] = (json.loads(details) if isinstance(details, str) else details) or {}
    return AuditEntry(**v)


class DuckDBAccess:
    """:class:`AccessStore` on the store's DuckDB database."""

    def __init__(self, cursor: Callable[[], AbstractContextManager[Any]],
                 transaction: Callable[[], AbstractContextManager[Any]], lock: Any) -> None:
        self._cursor = cursor
        self._transaction = transaction
        self._lock = lock

    def insert_key(self, record: KeyRecord) -> None:
        row = [record.key_id, record.name, str(record.role), record.key_hash,
               json.dumps(list(record.models)) if record.models is not None else None,
               naive_utc(record.created_at), record.created_by, None, None]
        with self._lock, self._transaction() as con:
            con.execute(f"INSERT INTO api_keys ({', '.join(_KEY_COLUMNS)}) "
                        f"VALUES ({', '.join('?' for _ in _KEY_COLUMNS)})", row)

    def list_keys(self, *, include_revoked: bool = False) -> list[KeyRecord]:
        where = "" if include_revoked else " WHERE revoked_at IS NULL"
        with self._cursor() as cur:
            rows = cur.execute(f"SELECT {', '.join(_KEY_COLUMNS)} FROM api_keys{where} "
                               "ORDER BY created_at, key_id").fetchall()
        return [key_from_row(r) for r in rows]

    def get_key(self, key_id: str) -> KeyRecord | None:
        with self._cursor() as cur:
            rows = cur.execute(f"SELECT {', '.join(_KEY_COLUMNS)} FROM api_keys "
                               "WHERE key_id = ?", [key_id]).fetchall()
        return key_from_row(rows[0]) if rows else None

    def revoke_key(self, key_id: str, at: datetime, by: str) -> KeyRecord | None:
        with self._lock, self._transaction() as con:
            con.execute("UPDATE api_keys SET revoked_at = ?, revoked_by = ? "
                        "WHERE key_id = ? AND revoked_at IS NULL", [naive_utc(at), by, key_id])
        return self.get_key(key_id)

    def append_audit(self, entry: AuditEntry) -> int:
        cols = _AUDIT_COLUMNS[1:]
        names = ", ".join(f'"{c}"' for c in cols)
        values = [naive_utc(entry.at) if c == "at" else
                  json.dumps(entry.details, default=str) if c == "details" else
                  getattr(entry, c) for c in cols]
        with self._lock, self._transaction() as con:
            got = con.execute(f"INSERT INTO audit_log ({names}) "
                              f"VALUES ({', '.join('?' for _ in cols)}) RETURNING id",
                              values).fetchone()
        return int(got[0]) if got else 0

    def list_audit(self, *, key_id: str | None = None, model: str | None = None,
                   action: str | None = None, start: datetime | None = None,
                   end: datetime | None = None, before: int | None = None,
                   limit: int = 100) -> list[AuditEntry]:
        where, params = listing_filter([("key_id", key_id), ("model", model),
                                        ("action", action)], None, '"at"', start, end, None)
        if before is not None:
            where += (" AND" if where else " WHERE") + " id < ?"
            params.append(int(before))
        with self._cursor() as cur:
            rows = cur.execute(f"SELECT {_AUDIT_SQL} FROM audit_log{where} "
                               f"ORDER BY id DESC LIMIT {int(limit)}", params).fetchall()
        return [audit_from_row(r) for r in rows]

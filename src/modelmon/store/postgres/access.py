"""PostgreSQL implementation of :class:`~modelmon.store.access.AccessStore` (``store.access``):
API keys (their SHA-256 only) and the append-only audit log, shared by every server."""

from __future__ import annotations

import json
from datetime import datetime

from modelmon.access.audit import AuditEntry
from modelmon.access.keys import KeyRecord
from modelmon.store.access import _AUDIT_COLUMNS, _KEY_COLUMNS, audit_from_row, key_from_row
from modelmon.store.postgres._access import Access
from modelmon.store.postgres._filters import listing_filter

__all__ = ["PostgresAccessStore"]

_AUDIT_SQL = ", ".join(f'"{c}"' for c in _AUDIT_COLUMNS)


class PostgresAccessStore:
    """Keys and the audit log on the store's database."""

    def __init__(self, access: Access) -> None:
        self._a = access

    def insert_key(self, record: KeyRecord) -> None:
        row = [record.key_id, record.name, str(record.role), record.key_hash,
               json.dumps(list(record.models)) if record.models is not None else None,
               record.created_at, record.created_by, None, None]
        with self._a.transaction() as con:
            con.execute(f"INSERT INTO api_keys ({', '.join(_KEY_COLUMNS)}) "
                        f"VALUES ({', '.join('%s' for _ in _KEY_COLUMNS)})", row)

    def list_keys(self, *, include_revoked: bool = False) -> list[KeyRecord]:
        where = "" if include_revoked else " WHERE revoked_at IS NULL"
        with self._a.cursor() as cur:
            rows = cur.execute(f"SELECT {', '.join(_KEY_COLUMNS)} FROM api_keys{where} "
                               "ORDER BY created_at, key_id").fetchall()
        return [key_from_row(r) for r in rows]

    def get_key(self, key_id: str) -> KeyRecord | None:
        with self._a.cursor() as cur:
            rows = cur.execute(f"SELECT {', '.join(_KEY_COLUMNS)} FROM api_keys "
                               "WHERE key_id = %s", [key_id]).fetchall()
        return key_from_row(rows[0]) if rows else None

    def revoke_key(self, key_id: str, at: datetime, by: str) -> KeyRecord | None:
        with self._a.transaction() as con:
            con.execute("UPDATE api_keys SET revoked_at = %s, revoked_by = %s "
                        "WHERE key_id = %s AND revoked_at IS NULL", [at, by, key_id])
        return self.get_key(key_id)

    def append_audit(self, entry: AuditEntry) -> int:
        cols = _AUDIT_COLUMNS[1:]
        names = ", ".join(f'"{c}"' for c in cols)
        values = [json.dumps(entry.details, default=str) if c == "details" else
                  getattr(entry, c) for c in cols]
        with self._a.transaction() as con:
            got = con.execute(f"INSERT INTO audit_log ({names}) "
                              f"VALUES ({', '.join('%s' for _ in cols)}) RETURNING id",
                              values).fetchone()
        return int(got[0]) if got else 0

    def list_audit(self, *, key_id: str | None = None, model: str | None = None,
                   action: str | None = None, start: datetime | None = None,
                   end: datetime | None = None, before: int | None = None,
                   limit: int = 100) -> list[AuditEntry]:
        where, params = listing_filter([("key_id", key_id), ("model", model),
                                        ("action", action)], None, '"at"', start, end, None)
        if before is not None:
            where += (" AND" if where else " WHERE") + " id < %s"
            params.append(int(before))
        with self._a.cursor() as cur:
            rows = cur.execute(f"SELECT {_AUDIT_SQL} FROM audit_log{where} "
                               f"ORDER BY id DESC LIMIT {int(limit)}", params).fetchall()
        return [audit_from_row(r) for r in rows]

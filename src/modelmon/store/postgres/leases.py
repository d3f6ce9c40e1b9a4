"""Leases: which server does a piece of shared work now (``store.leases``).

A lease is a row ``(name, owner, expires_at, generation)``. :meth:`PostgresLeases.acquire`
takes a free or expired lease, or renews one the caller holds, in one statement, so two
servers never both hold it; ``generation`` grows each time the lease changes hands. A server
that stops renewing (killed, partitioned away) loses the lease when it expires, and the next
server to ask takes the work over. Expiry is judged by the database's clock, so servers' clocks
need not agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from modelmon.store.postgres._access import Access

__all__ = ["Lease", "PostgresLeases"]


@dataclass(frozen=True)
class Lease:
    name: str
    owner: str
    expires_at: datetime
    generation: int


class PostgresLeases:
    """Leases on the store's database (see the module docstring)."""

    def __init__(self, access: Access) -> None:
        self._a = access

    def acquire(self, name: str, owner: str, ttl: timedelta) -> bool:
        """Take (or renew) ``name`` for ``ttl``; False while another owner holds it."""
        with self._a.transaction() as con:
            row = con.execute(
                "INSERT INTO leases (name, owner, expires_at, taken_at, generation) "
                "VALUES (%s, %s, clock_timestamp() + %s, clock_timestamp(), 1) "
                "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
                "expires_at = excluded.expires_at, "
                "taken_at = CASE WHEN leases.owner = excluded.owner THEN leases.taken_at "
                "ELSE excluded.taken_at END, "
                "generation = CASE WHEN leases.owner = excluded.owner THEN leases.generation "
                "ELSE leases.generation + 1 END "
                "WHERE leases.owner = excluded.owner OR leases.expires_at < clock_timestamp() "
                "RETURNING generation", [name, owner, ttl]).fetchone()
        return row is not None

    def release(self, name: str, owner: str) -> None:
        """Give ``name`` up (if ``owner`` holds it)."""
        with self._a.transaction() as con:
            con.execute("DELETE FROM leases WHERE name = %s AND owner = %s", [name, owner])

    def holders(self) -> list[Lease]:
        """Every lease, expired ones too, by name."""
        with self._a.cursor() as cur:
            rows = cur.execute("SELECT name, owner, expires_at, generation FROM leases "
                               "ORDER BY name").fetchall()
        return [Lease(n, o, e, int(g)) for n, o, e, g in rows]

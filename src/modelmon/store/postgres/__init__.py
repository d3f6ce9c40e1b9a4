"""The PostgreSQL store: one database shared by several modelmon servers (see :mod:`.store`).

Needs ``psycopg`` 3 and ``psycopg_pool`` (``pip install 'modelmon[postgres]'``).
"""

from __future__ import annotations

from modelmon.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]

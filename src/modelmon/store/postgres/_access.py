"""What the parts of the PostgreSQL store share: a connection pool, transactions, the clock and
the catalog entry of a model (like :mod:`modelmon.store.duckdb._access`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from modelmon.exceptions import StoreError
from modelmon.store.base import ModelInfo

__all__ = ["Access", "ModelEntry"]

Connection = psycopg.Connection[Any]


@dataclass
class ModelEntry:
    """Cached catalog facts about one model."""

    model_id: int
    info: ModelInfo
    feature_columns: dict[str, str]  # feature name -> physical column
    segment_columns: dict[str, str]  # segment name -> physical column
    partition_days: int
    known_versions: set[str] = field(default_factory=set)
    partitions: set[int] = field(default_factory=set)  # partition numbers known to exist
    loaded_at: float = field(default_factory=time.monotonic)  # when read from the database

    @property
    def pred_table(self) -> str:
        return f"pred_{self.model_id}"

    @property
    def pid_table(self) -> str:
        return f"pid_{self.model_id}"

    @property
    def act_table(self) -> str:
        return f"act_{self.model_id}"


class Access:
    """The pool and the helpers every part uses."""

    def __init__(self, pool: Callable[[], ConnectionPool], clock: Callable[[], datetime],
                 entry: Callable[[str], ModelEntry]) -> None:
        self._pool = pool
        self.clock = clock
        self.entry = entry

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on return, rolled back on error
        (a database error becomes :class:`~modelmon.exceptions.StoreError`)."""
        try:
            with self._pool().connection() as con, con.transaction():
                yield con
        except psycopg.Error as exc:
            raise StoreError(f"write failed and was rolled back: {exc}") from exc

    @contextmanager
    def cursor(self) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor for reads (committed data only)."""
        try:
            with self._pool().connection() as con, con.cursor() as cur:
                yield cur
        except psycopg.Error as exc:
            raise StoreError(f"read failed: {exc}") from exc

"""The PostgreSQL store: one database shared by several modelmon servers.

Layout: catalog tables (:mod:`._migrations`) plus, per model, ``pred_<id>`` (one typed column
per feature and segment, partitioned by event time in ranges of ``partition_days``), ``pid_<id>``
(the stored prediction ids: idempotency) and ``act_<id>`` (ground truth by prediction id).
Retention drops whole partitions (:mod:`.maintenance`). Connections come from a pool
(``psycopg_pool``); every write is one transaction, committed before the call returns.

Why psycopg 3 (not asyncpg): the store's callers are threads (the group-commit writer, the
evaluation scheduler, ``asyncio.to_thread`` in routes), and psycopg's synchronous API with a
thread-safe pool fits them without an event loop of the store's own; it adapts Python lists to
PostgreSQL arrays, which carries a whole Arrow column per parameter (:mod:`._sql`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from modelmon.config.models import ModelSpec
from modelmon.exceptions import NotFoundError, StoreError
from modelmon.store._forward import ForwardResults
from modelmon.store._time import utcnow
from modelmon.store.base import (
    BatchKind,
    Deletion,
    ModelEvent,
    ModelInfo,
    VersionInfo,
    WriteBatch,
    WriteResult,
)
from modelmon.store.postgres._access import Access, ModelEntry
from modelmon.store.postgres._catalog import (
    CATALOG_LOCK,
    add_event,
    create_partitions,
    existing_partitions,
    load_entries,
    save_spec,
)
from modelmon.store.postgres._migrations import apply_migrations
from modelmon.store.postgres._reads import prediction_query, table_query, time_filter
from modelmon.store.postgres._sql import from_rows
from modelmon.store.postgres._writes import deletion_details, partition_numbers, write_batches
from modelmon.store.postgres.access import PostgresAccessStore
from modelmon.store.postgres.actions import PostgresActions
from modelmon.store.postgres.alerts import PostgresAlerts
from modelmon.store.postgres.leases import PostgresLeases
from modelmon.store.postgres.maintenance import PostgresMaintenance
from modelmon.store.postgres.notifications import PostgresNotifications
from modelmon.store.postgres.results import PostgresResults

__all__ = ["PostgresStore"]

#: Advisory-lock namespace of a model's partition creation (the second key is the model id).
_PARTITION_LOCK = 0x6D6D0003


class PostgresStore(ForwardResults):
    """Storage on a PostgreSQL database (data, registry, results, alerts, notifications,
    actions), shared by every server configured with the same URL.

    Parameters
    ----------
    url : str
        ``postgresql://user@host:port/database`` (libpq connection string or URI).
    pool_min, pool_max : int
        Connections kept open and the most opened at once.
    partition_days : int
        Width of a new model's prediction partitions in days (retention drops whole ones).
    clock : callable
        Returns the current UTC time (tests pass a fake clock).
    """

    def __init__(self, url: str, *, pool_min: int = 1, pool_max: int = 10,
                 partition_days: int = 1, clock: Callable[[], datetime] = utcnow,
                 **_ignored: Any) -> None:
        self.url = url
        self.pool_min = pool_min
        self.pool_max = pool_max
        self.partition_days = partition_days
        self.clock = clock
        #: How long a model's cached catalog entry is trusted before it is read again (other
        #: servers may change the spec).
        self.catalog_seconds = 5.0
        self._pool: ConnectionPool | None = None
        self._models: dict[str, ModelEntry] = {}
        self._models_lock = threading.Lock()
        self._access = Access(self._get_pool, lambda: self.clock(), self._entry)
        #: Metric points, feature results, verdicts, detectors, reports, status, references.
        self.results = PostgresResults(self._access)
        #: Alerts, silences and API-made rules.
        self.alerts = PostgresAlerts(self._access)
        #: The notification outbox, log and escalations.
        self.notifications = PostgresNotifications(self._access)
        #: Action records and the registry change of a rollback.
        self.actions = PostgresActions(self._access)
        #: API keys (hashed) and the audit log.
        self.access = PostgresAccessStore(self._access)
        #: Retention by dropping partitions.
        self.maintenance = PostgresMaintenance(self, self._access)
        #: Which server evaluates which model (several servers on one database).
        self.leases = PostgresLeases(self._access)

    # --- lifecycle -----------------------------------------------------------------------------
    def _get_pool(self) -> ConnectionPool:
        if self._pool is None:
            raise StoreError("the store is not open")
        return self._pool

    def open(self) -> None:
        if self._pool is not None:
            return
        pool = ConnectionPool(self.url, min_size=self.pool_min, max_size=self.pool_max,
                              kwargs={"options": "-c TimeZone=UTC"}, open=False,
                              name="modelmon")
        try:
            pool.open(wait=True, timeout=30)
            with pool.connection() as con:
                apply_migrations(con)
        except (psycopg.Error, TimeoutError, psycopg.errors.Error) as exc:
            pool.close()
            raise StoreError(f"cannot open the PostgreSQL store: {exc}") from exc
        except BaseException:
            pool.close()
            raise
        self._pool = pool
        self._reload()

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
        self._models.clear()

    def ping(self) -> None:
        with self._access.cursor() as cur:
            cur.execute("SELECT 1")

    def size_bytes(self) -> int:
        with self._access.cursor() as cur:
            row = cur.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0

    def maintain(self) -> None:
        """Nothing to do between writes: PostgreSQL's autovacuum keeps the tables in shape."""

    # --- catalog -------------------------------------------------------------------------------
    def _reload(self, name: str | None = None) -> None:
        with self._access.cursor() as cur:
            fresh = load_entries(cur.connection, name)
        with self._models_lock:
            if name is None:
                old, self._models = self._models, {}
            else:
                old = {name: self._models[name]} if name in self._models else {}
            for model, entry in fresh.items():
                prior = old.get(model)
                if prior is not None and prior.model_id == entry.model_id:
                    entry.partitions = prior.partitions
                self._models[model] = entry

    def _entry(self, name: str) -> ModelEntry:
        entry = self._models.get(name)
        # another server may have registered the model, or changed its spec
        if entry is None or time.monotonic() - entry.loaded_at > self.catalog_seconds:
            self._reload(name)
            entry = self._models.get(name)
        if entry is None:
            raise NotFoundError(f"model {name!r} is not registered", code="model_not_found",
                                loc=("model",))
        return entry

    def save_model(self, spec: ModelSpec, *, source: str = "api") -> ModelInfo:
        with self._access.transaction() as con:
            con.execute("SELECT pg_advisory_xact_lock(%s)", [CATALOG_LOCK])
            save_spec(con, spec, source, self.clock(), self.partition_days)
        self._reload(spec.name)
        return self._entry(spec.name).info

    def get_model(self, name: str) -> ModelInfo:
        return self._entry(name).info

    def list_models(self) -> list[ModelInfo]:
        self._reload()
        return [self._models[n].info for n in sorted(self._models)]

    def register_version(self, model: str, version: str, *,
                         metadata: dict[str, Any] | None = None,
                         stage: str = "active") -> VersionInfo:
        entry = self._entry(model)
        now = self.clock()
        meta = json.dumps(metadata or {}, default=str)
        with self._access.transaction() as con:
            added = con.execute(
                "INSERT INTO model_versions VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING "
                "RETURNING version", [entry.model_id, version, now, meta, stage]).fetchone()
            if added is not None:
                add_event(con, entry.model_id, "version_registered", now,
                          {"version": version, "stage": stage})
            else:
                sets, params = ["stage = %s"], [stage]
                if metadata is not None:
                    sets.append("metadata = %s")
                    params.append(meta)
                con.execute(f"UPDATE model_versions SET {', '.join(sets)} "
                            "WHERE model_id = %s AND version = %s",
                            [*params, entry.model_id, version])
        entry.known_versions.add(version)
        return next(v for v in self.list_versions(model) if v.version == version)

    def list_versions(self, model: str) -> list[VersionInfo]:
        entry = self._entry(model)
        with self._access.cursor() as cur:
            rows = cur.execute("SELECT version, created_at, metadata, stage FROM model_versions "
                               "WHERE model_id = %s ORDER BY created_at, version",
                               [entry.model_id]).fetchall()
        return [VersionInfo(model, v, c, json.loads(m), s) for v, c, m, s in rows]

    def list_events(self, model: str, *, kind: str | None = None, limit: int = 100,
                    before_id: int | None = None) -> list[ModelEvent]:
        entry = self._entry(model)
        sql = "SELECT event_id, kind, occurred_at, details FROM model_events WHERE model_id = %s"
        params: list[Any] = [entry.model_id]
        if kind is not None:
            sql += " AND kind = %s"
            params.append(kind)
        if before_id is not None:
            sql += " AND event_id < %s"
            params.append(before_id)
        sql += " ORDER BY event_id DESC LIMIT %s"
        params.append(int(limit))
        with self._access.cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
        return [ModelEvent(int(i), model, k, a, json.loads(d)) for i, k, a, d in rows]

    # --- writes --------------------------------------------------------------------------------
    def _ensure_partitions(self, entry: ModelEntry, numbers: set[int]) -> None:
        missing = numbers - entry.partitions
        if not missing:
            return
        with self._access.transaction() as con:
            con.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_PARTITION_LOCK, entry.model_id])
            present = existing_partitions(con, entry)
            create_partitions(con, entry, missing - present)
        entry.partitions |= present | missing

    def write(self, batches: Sequence[WriteBatch]) -> list[WriteResult]:
        if not batches:
            return []
        entries = [self._entry(b.model) for b in batches]
        for batch, entry in zip(batches, entries, strict=True):
            if batch.kind is BatchKind.PREDICTIONS:
                self._ensure_partitions(entry, partition_numbers(batch.table,
                                                                 entry.partition_days))
        with self._access.transaction() as con:
            results = write_batches(con, batches, entries, self.clock())
        for batch, entry in zip(batches, entries, strict=True):
            if batch.kind is BatchKind.PREDICTIONS and batch.num_rows:
                entry.known_versions |= set(batch.table.column("version").to_pylist())
        return results

    def delete_predictions(
        self, model: str, *, start: datetime | None = None, end: datetime | None = None,
        version: str | None = None, prediction_ids: Sequence[str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> Deletion:
        entry = self._entry(model)
        conds, params = time_filter("event_time", start, end)
        if version is not None:
            conds.append("version = %s")
            params.append(version)
        if prediction_ids is not None:
            conds.append("prediction_id = ANY(%s)")
            params.append(list(prediction_ids))
        where = " WHERE " + " AND ".join(conds) if conds else ""
        now = self.clock()
        with self._access.transaction() as con:
            con.execute("SELECT 1 FROM model_stamps WHERE model_id = %s FOR UPDATE",
                        [entry.model_id])
            gone = [r[0] for r in con.execute(
                f"DELETE FROM {entry.pred_table}{where} RETURNING prediction_id",
                params).fetchall()]
            con.execute(f"DELETE FROM {entry.pid_table} WHERE prediction_id = ANY(%s)", [gone])
            ids = list({*gone, *(prediction_ids or [])})
            actuals = con.execute(
                f"WITH d AS (DELETE FROM {entry.act_table} WHERE prediction_id = ANY(%s) "
                "RETURNING prediction_id) SELECT count(DISTINCT prediction_id) FROM d",
                [ids]).fetchone()
            n_actuals = int(actuals[0]) if actuals else 0
            event_id = add_event(con, entry.model_id, "data_deleted", now, {
                **deletion_details(start, end, version, prediction_ids),
                "predictions": len(gone), "actuals": n_actuals, **(details or {})})
        return Deletion(model, len(gone), n_actuals, event_id)

    # --- reads ---------------------------------------------------------------------------------
    def count(self, model: str, kind: BatchKind = BatchKind.PREDICTIONS, *,
              start: datetime | None = None, end: datetime | None = None) -> int:
        entry = self._entry(model)
        if kind is BatchKind.PREDICTIONS:
            conds, params = time_filter("event_time", start, end)
            sql = f"SELECT count(*) FROM {entry.pred_table}"
        elif kind is BatchKind.ACTUALS:
            conds, params = time_filter("event_time", start, end)
            sql = f"SELECT count(DISTINCT prediction_id) FROM {entry.act_table}"
        else:
            sql, params, _ = table_query(entry, kind, start, end, None)
            sql = f"SELECT count(*) FROM ({sql}) t"
            conds = []
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        with self._access.cursor() as cur:
            row = cur.execute(sql, params).fetchone()
        return int(row[0]) if row else 0

    def read_predictions(
        self, model: str, *, start: datetime | None = None, end: datetime | None = None,
        columns: Sequence[str] | None = None, version: str | None = None,
        with_actuals: bool = True, limit: int | None = None, ordered: bool = True,
        first: tuple[datetime, str] | None = None, last: tuple[datetime, str] | None = None,
    ) -> Any:
        entry = self._entry(model)
        sql, params, schema = prediction_query(
            entry, start=start, end=end, columns=columns, version=version,
            with_actuals=with_actuals, limit=limit, ordered=ordered, first=first, last=last)
        with self._access.cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
        return from_rows(rows, schema)

    def get_prediction(self, model: str, prediction_id: str) -> dict[str, Any] | None:
        entry = self._entry(model)
        sql, params, schema = prediction_query(
            entry, start=None, end=None, columns=None, version=None, with_actuals=True,
            limit=1, ordered=False, first=None, last=None, prediction_id=prediction_id)
        with self._access.cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
        if not rows:
            return None
        return {k: v[0] for k, v in from_rows(rows, schema).to_pydict().items()}

    def read_table(self, model: str, kind: BatchKind, *, start: datetime | None = None,
                   end: datetime | None = None, limit: int | None = None) -> Any:
        if kind is BatchKind.PREDICTIONS:
            return self.read_predictions(model, start=start, end=end, with_actuals=False,
                                         limit=limit)
        entry = self._entry(model)
        sql, params, schema = table_query(entry, kind, start, end, limit)
        with self._access.cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
        return from_rows(rows, schema)

"""The embedded DuckDB store: one file, no server, one process.

Layout: catalog tables (see :mod:`modelmon.store._duckdb_migrations`) plus two tables per model,
``pred_<id>`` (one typed column per feature, ``seg_<name>`` per segment) and ``act_<id>``
(ground truth by prediction id). Writes run on one connection under a lock; reads use their own
cursors and see committed data only.

Idempotency without a primary-key index (which would cut bulk-insert throughput by 3-4x): a
:class:`~modelmon.store.recent_ids.RecentIdIndex` of 64-bit prediction-id hashes flags
candidate duplicates, which are confirmed by exact id against the table inside the same
transaction. While the index still holds every id of a model (the default capacity is ten million
per model), duplicates are rejected at write time; past that, reads also deduplicate (first write
wins) so a late re-send never counts twice.

Durability: DuckDB writes each commit to its write-ahead log and syncs it before ``COMMIT``
returns. Checkpoints (folding the WAL into the database file) stall every commit while they run,
so they are rare and the store runs them itself (:meth:`DuckDBStore.maintain`, between group
commits) rather than inside whichever commit crossed a threshold: once the WAL reaches
``checkpoint_threshold``, and at least every ``checkpoint_interval_seconds`` while it holds
anything. Until a checkpoint, DuckDB keeps the rows appended since the last one in memory: under
steady ingest the interval is what keeps the server's memory flat (a 10-minute soak at 1,200
rows/s grew RSS by 16 MB/min with the 512 MB threshold alone; a minute's log folds in about
0.1 s). :meth:`close` always checkpoints.

Threads: DuckDB runs with ``threads`` worker threads (1 by default); checkpoints and reads of
prediction rows (evaluation windows, reports, exports) run with ``checkpoint_threads`` (one per
core by default) while they last. DuckDB's thread count is one setting for the whole database,
so this is a counted switch (:meth:`DuckDBStore._parallel`). Measured on 2 cores under ingest
load, one thread inserts faster than two (JSON batches 74,000-103,000 against 64,000-84,000
rows/s, runs alternated; the store alone commits 8,000 rows in 16 ms against 28 ms), while a
checkpoint takes half as long with two (0.55 against 1.1 s per 128 MB of log) and a
1,000,000-row evaluation window reads 10-25 % faster.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.config.models import FeatureType, ModelSpec
from modelmon.config.settings import parse_size
from modelmon.exceptions import NotFoundError, SchemaError, StoreError
from modelmon.store._duckdb_migrations import apply_migrations
from modelmon.store._forward import ForwardResults
from modelmon.store._shared import (
    SIMPLE_TABLES,
    STAMPED,
    TIME_COLUMN,
    first_occurrence_mask,
    schema_diff,
)
from modelmon.store._time import aware as _aware
from modelmon.store._time import naive_utc as _naive_utc
from modelmon.store._time import utc_columns as _utc_columns
from modelmon.store._time import utcnow as _utcnow
from modelmon.store.access import DuckDBAccess
from modelmon.store.actions import DuckDBActions
from modelmon.store.alerts import DuckDBAlerts
from modelmon.store.base import (
    FEATURE_PREFIX,
    SEGMENT_PREFIX,
    BatchKind,
    Deletion,
    ModelEvent,
    ModelInfo,
    VersionInfo,
    WriteBatch,
    WriteResult,
)
from modelmon.store.duckdb._access import Access, ModelEntry
from modelmon.store.duckdb.results import DuckDBResults
from modelmon.store.maintenance import DuckDBMaintenance
from modelmon.store.notifications import DuckDBNotifications
from modelmon.store.recent_ids import RecentIdIndex, hash_ids

__all__ = ["DuckDBStore"]

log = logging.getLogger("modelmon.store")

_SQL_TYPES = {
    FeatureType.NUMERIC: "DOUBLE",
    FeatureType.CATEGORICAL: "VARCHAR",
    FeatureType.BOOLEAN: "BOOLEAN",
}

_PRED_BASE = [
    ("prediction_id", "VARCHAR NOT NULL"),
    ("version", "VARCHAR NOT NULL"),
    ("event_time", "TIMESTAMP NOT NULL"),
    ("received_at", "TIMESTAMP NOT NULL"),
    ("label", "VARCHAR"),
    ("score", "DOUBLE"),
    ("probabilities", "DOUBLE[]"),
    ("value", "DOUBLE"),
    ("latency_seconds", "DOUBLE"),
    ("status", "VARCHAR"),
    ("error", "VARCHAR"),
]

_PRED_COLUMN_NAMES = frozenset(n for n, _ in _PRED_BASE)
def _q(identifier: str) -> str:
    """Quote an SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'


class DuckDBStore(ForwardResults):
    """Storage on an embedded DuckDB database (data, registry and evaluation results).

    Parameters
    ----------
    path : str
        Database file, or ``":memory:"`` (tests; nothing survives ``close``).
    memory_limit, threads, checkpoint_threads, checkpoint_threshold, checkpoint_interval_seconds :
        DuckDB settings (see :class:`~modelmon.config.settings.StoreSettings`); ``None``
        threads: DuckDB's default (one per core).
    dedup_capacity : int
        Prediction ids per model kept in the in-memory duplicate index.
    clock : callable
        Returns the current UTC time (tests pass a fake clock).

    Examples
    --------
    >>> from modelmon.config import ModelSpec
    >>> store = DuckDBStore(":memory:")
    >>> store.open()
    >>> store.save_model(ModelSpec(name="fraud", task="binary_classification")).revision
    1
    >>> store.close()
    """

    def __init__(
        self,
        path: str = ":memory:",
        *,
        memory_limit: str = "2GB",
        threads: int | None = 1,
        checkpoint_threads: int | None = None,
        checkpoint_threshold: str = "512MB",
        checkpoint_interval_seconds: float = 60.0,
        dedup_capacity: int = 10_000_000,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.path = path
        self.memory_limit = memory_limit
        self.threads = threads
        self.checkpoint_threads = checkpoint_threads
        self.checkpoint_threshold = checkpoint_threshold
        self._checkpoint_bytes = parse_size(checkpoint_threshold)
        self.checkpoint_interval_seconds = checkpoint_interval_seconds
        self._checkpointed_at = time.monotonic()
        self.dedup_capacity = dedup_capacity
        self.clock = clock
        self._con: duckdb.DuckDBPyConnection | None = None
        self._base_threads = 1
        self._parallel_lock = threading.Lock()
        self._parallel_users = 0
        self._write_lock = threading.RLock()
        self._cursor_lock = threading.Lock()
        self._models: dict[str, ModelEntry] = {}
        self._stamp_lock = threading.Lock()
        self._last_stamp_us = 0
        access = Access(self._cursor, self._transaction, self._parallel, self._write_lock,
                        lambda: self.clock(), self._entry)
        #: Metric points, feature results, verdicts, detectors, reports, status, references
        #: (a part over this store's connection; the store forwards ResultStore to it).
        self.results = DuckDBResults(access)
        #: Alerts, silences and API-made rules (a part over the same connection).
        self.alerts = DuckDBAlerts(self._cursor, self._transaction, self._write_lock,
                                   lambda: self.clock())
        #: Retention and backups (a part over the same connection).
        self.maintenance = DuckDBMaintenance(self, access)
        #: The notification outbox, log and escalations (a part over the same connection).
        self.notifications = DuckDBNotifications(self._cursor, self._transaction,
                                                 self._write_lock)
        #: Action records and the registry change of a rollback (a part, like ``alerts``).
        self.actions = DuckDBActions(self._cursor, self._transaction, self._write_lock)
        #: API keys (hashed) and the audit log (a part, like ``alerts``).
        self.access = DuckDBAccess(self._cursor, self._transaction, self._write_lock)

    # --- lifecycle -------------------------------------------------------------------------------
    def open(self) -> None:
        if self._con is not None:
            return
        if self.path != ":memory:":
            parent = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(parent, exist_ok=True)
        try:
            con = duckdb.connect(self.path)
            con.execute("SET TimeZone = 'UTC'")
            con.execute(f"SET memory_limit = '{self.memory_limit}'")
            # The store checkpoints itself (maintain): never inside a commit.
            con.execute("SET checkpoint_threshold = '1000GB'")
            con.execute("SET preserve_insertion_order = false")
            if self.threads:
                con.execute(f"SET threads = {int(self.threads)}")
            self._base_threads = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
            apply_migrations(con)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open DuckDB store at {self.path}: {exc}") from exc
        self._con = con
        self._load_catalog()

    def close(self) -> None:
        con, self._con = self._con, None
        if con is None:
            return
        failure: duckdb.Error | None = None
        with self._write_lock:
            try:
                if self.path != ":memory:":
                    con.execute("CHECKPOINT")
            except duckdb.Error as exc:  # a full disk: the log keeps every committed write
                failure = exc
            finally:
                with suppress(duckdb.Error):
                    con.close()
        self._models.clear()
        if failure is not None:
            raise StoreError(f"could not fold the write-ahead log into {self.path} at close "
                             f"({failure}); every committed write is in the log and is replayed "
                             "when the store opens again")

    def ping(self) -> None:
        try:
            with self._cursor() as cur:
                cur.execute("SELECT 1").fetchall()
        except duckdb.Error as exc:
            raise StoreError(f"store does not answer: {exc}") from exc

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file (blocks writers meanwhile)."""
        with self._write_lock, self._parallel():
            self._conn.execute("CHECKPOINT")
            self._checkpointed_at = time.monotonic()

    @contextmanager
    def _parallel(self) -> Iterator[None]:
        """Run DuckDB with ``checkpoint_threads`` while any caller is inside (counted: the
        thread count is one setting for the whole database)."""
        threads = self.checkpoint_threads or os.cpu_count() or 1
        if threads == self._base_threads:
            yield
            return
        with self._parallel_lock:
            self._parallel_users += 1
            if self._parallel_users == 1:
                self._set_threads(threads)
        try:
            yield
        finally:
            with self._parallel_lock:
                self._parallel_users -= 1
                if self._parallel_users == 0 and self._con is not None:
                    self._set_threads(self._base_threads)

    def _set_threads(self, threads: int) -> None:
        with self._cursor() as cur:  # any connection: the setting is global
            cur.execute(f"SET threads = {int(threads)}")

    def maintain(self) -> None:
        """Checkpoint once the write-ahead log reached ``checkpoint_threshold``, or holds anything
        ``checkpoint_interval_seconds`` after the last checkpoint."""
        if self.path == ":memory:" or self._con is None:
            return
        wal = self.wal_bytes()
        due = (self.checkpoint_interval_seconds > 0 and wal > 0
               and time.monotonic() - self._checkpointed_at >= self.checkpoint_interval_seconds)
        if wal < self._checkpoint_bytes and not due:
            return
        try:
            self.checkpoint()
        except duckdb.Error as exc:  # committed data is safe in the log; the next call retries
            log.warning("checkpoint failed (%s); retrying after the next write", exc)

    def wal_bytes(self) -> int:
        """Size of the write-ahead log (what the next checkpoint folds in)."""
        wal = self.path + ".wal"
        return os.path.getsize(wal) if self.path != ":memory:" and os.path.exists(wal) else 0

    def memory_bytes(self) -> int:
        """Bytes DuckDB's buffer manager holds now (tables, indexes, hash tables ...; bounded by
        ``store.memory_limit``), 0 when the store is closed."""
        if self._con is None:
            return 0
        with self._cursor() as cur:
            got = cur.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()
        return int(got[0] or 0) if got else 0

    def size_bytes(self) -> int:
        if self.path == ":memory:":
            return 0
        return (os.path.getsize(self.path) if os.path.exists(self.path) else 0) + self.wal_bytes()

    @property
    def _conn(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise StoreError("the store is not open")
        return self._con

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._cursor_lock:
            cur = self._conn.cursor()
        try:
            cur.execute("SET TimeZone = 'UTC'")
            yield cur
        finally:
            cur.close()

    # --- catalog ---------------------------------------------------------------------------------
    def _load_catalog(self) -> None:
        self._models.clear()
        con = self._conn
        rows = con.execute(
            "SELECT model_id, name, spec, revision, source, created_at, updated_at FROM models"
        ).fetchall()
        for model_id, name, spec, revision, source, created, updated in rows:
            info = ModelInfo(name, ModelSpec.model_validate_json(spec), revision,
                             _aware(created), _aware(updated), source)
            self._models[name] = self._entry_from_db(model_id, info)

    def _entry_from_db(self, model_id: int, info: ModelInfo) -> ModelEntry:
        con = self._conn
        cols = con.execute(
            "SELECT feature, type, column_name FROM feature_columns WHERE model_id = ?", [model_id]
        ).fetchall()
        types = {f.name: f.type.value for f in info.spec.features}
        feature_columns = {f: c for f, t, c in cols if types.get(f) == t}
        versions = {
            r[0]
            for r in con.execute(
                "SELECT version FROM model_versions WHERE model_id = ?", [model_id]
            ).fetchall()
        }
        segment_columns = {s: f"seg_{s}" for s in info.spec.segments}
        return ModelEntry(model_id, info, feature_columns, segment_columns, versions)

    def _entry(self, name: str) -> ModelEntry:
        try:
            return self._models[name]
        except KeyError:
            raise NotFoundError(
                f"model {name!r} is not registered", code="model_not_found", loc=("model",)
            ) from None

    def save_model(self, spec: ModelSpec, *, source: str = "api") -> ModelInfo:
        now = _naive_utc(self.clock())
        spec_json = spec.model_dump_json()
        with self._write_lock, self._transaction() as con:
            existing = self._models.get(spec.name)
            if existing is None:
                model_id = int(
                    con.execute("SELECT coalesce(max(model_id), 0) + 1 FROM models").fetchall()[0][0]
                )
                con.execute(
                    "INSERT INTO models VALUES (?, ?, ?, ?, 1, ?, ?, ?)",
                    [model_id, spec.name, spec.task.value, spec_json, source, now, now],
                )
                con.execute(
                    "INSERT INTO model_revisions VALUES (?, 1, ?, ?, ?)",
                    [model_id, spec_json, source, now],
                )
                self._create_model_tables(con, model_id, spec, now)
                self._event(con, model_id, "model_created", now,
                            {"revision": 1, "source": source, "schema": spec.schema_fingerprint()})
                revision, created = 1, now
            else:
                model_id = existing.model_id
                old = existing.info.spec
                if old.model_dump_json() == spec_json:
                    return existing.info
                revision = existing.info.revision + 1
                created = _naive_utc(existing.info.created_at)
                con.execute(
                    "UPDATE models SET spec = ?, task = ?, revision = ?, source = ?, updated_at = ? "
                    "WHERE model_id = ?",
                    [spec_json, spec.task.value, revision, source, now, model_id],
                )
                con.execute(
                    "INSERT INTO model_revisions VALUES (?, ?, ?, ?, ?)",
                    [model_id, revision, spec_json, source, now],
                )
                changed = sorted(
                    k for k in type(spec).model_fields
                    if getattr(old, k) != getattr(spec, k)
                )
                self._event(con, model_id, "spec_updated", now,
                            {"revision": revision, "source": source, "changed": changed})
                diff = schema_diff(old, spec)
                if diff:
                    self._event(con, model_id, "schema_change", now, {"revision": revision, **diff})
                self._add_columns(con, model_id, spec, now)
        assert created is not None and now is not None
        info = ModelInfo(spec.name, spec, revision, _aware(created), _aware(now), source)
        entry = self._entry_from_db(model_id, info)
        prior = self._models.get(spec.name)
        if prior is not None:
            entry.ids, entry.read_dedupe = prior.ids, prior.read_dedupe
            entry.watermarks = prior.watermarks
        self._models[spec.name] = entry
        return info

    def _create_model_tables(
        self, con: duckdb.DuckDBPyConnection, model_id: int, spec: ModelSpec, now: datetime | None
    ) -> None:
        # Every column in one statement: adding them one by one cost O(columns) each (a model
        # of 3,000 features took 12 s to register, 0.2 s this way).
        features = [(f.name, f.type.value, f"f_{f.name}") for f in spec.features]
        cols = [*_PRED_BASE, *((f"seg_{s}", "VARCHAR") for s in spec.segments),
                *((col, _SQL_TYPES[FeatureType(t)]) for _, t, col in features)]
        con.execute(f"CREATE TABLE pred_{model_id} ({', '.join(f'{_q(n)} {t}' for n, t in cols)})")
        con.execute(
            f"CREATE TABLE act_{model_id} (prediction_id VARCHAR NOT NULL, label VARCHAR, "
            "value DOUBLE, event_time TIMESTAMP NOT NULL, received_at TIMESTAMP NOT NULL, "
            "seq BIGINT NOT NULL)"
        )
        if features:
            names, types, columns = (list(c) for c in zip(*features))
            _columns_in = pa.table({
                "model_id": pa.array([model_id] * len(features), pa.int32()),
                "feature": names, "type": types, "column_name": columns,
                "added_at": pa.array([now] * len(features), pa.timestamp("us")),
            })
            con.execute("INSERT INTO feature_columns SELECT * FROM _columns_in")

    def _add_columns(
        self, con: duckdb.DuckDBPyConnection, model_id: int, spec: ModelSpec, now: datetime | None
    ) -> None:
        table = f"pred_{model_id}"
        present = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [table]
            ).fetchall()
        }
        for seg in spec.segments:
            col = f"seg_{seg}"
            if col not in present:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {_q(col)} VARCHAR")
                present.add(col)
        mapped = {
            (f, t)
            for f, t in con.execute(
                "SELECT feature, type FROM feature_columns WHERE model_id = ?", [model_id]
            ).fetchall()
        }
        for feat in spec.features:
            if (feat.name, feat.type.value) in mapped:
                continue
            col = f"f_{feat.name}"
            if col in present:  # the feature changed type: keep the old column, add a new one
                col = f"f_{feat.name}__{feat.type.value}"
            con.execute(f"ALTER TABLE {table} ADD COLUMN {_q(col)} {_SQL_TYPES[feat.type]}")
            present.add(col)
            con.execute(
                "INSERT INTO feature_columns VALUES (?, ?, ?, ?, ?)",
                [model_id, feat.name, feat.type.value, col, now],
            )

    def _event(
        self, con: duckdb.DuckDBPyConnection, model_id: int, kind: str, at: datetime | None,
        details: dict[str, Any],
    ) -> int:
        rows = con.execute(
            "INSERT INTO model_events (model_id, kind, occurred_at, details) VALUES (?, ?, ?, ?) "
            "RETURNING event_id",
            [model_id, kind, at, json.dumps(details, default=str)],
        ).fetchall()
        return int(rows[0][0])

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self._conn
        try:
            con.execute("BEGIN TRANSACTION")
        except duckdb.Error as exc:
            raise StoreError(f"cannot start a transaction: {exc}") from exc
        try:
            yield con
        except BaseException as exc:
            with suppress(duckdb.Error):
                con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise StoreError(f"write failed and was rolled back: {exc}") from exc
            raise
        else:
            try:
                con.execute("COMMIT")
            except duckdb.Error as exc:
                raise StoreError(f"commit failed; nothing was stored: {exc}") from exc

    def get_model(self, name: str) -> ModelInfo:
        return self._entry(name).info

    def list_models(self) -> list[ModelInfo]:
        return [self._models[n].info for n in sorted(self._models)]

    def register_version(
        self, model: str, version: str, *, metadata: dict[str, Any] | None = None,
        stage: str = "active",
    ) -> VersionInfo:
        entry = self._entry(model)
        now = _naive_utc(self.clock())
        meta = json.dumps(metadata or {}, default=str)
        with self._write_lock, self._transaction() as con:
            rows = con.execute(
                "SELECT created_at FROM model_versions WHERE model_id = ? AND version = ?",
                [entry.model_id, version],
            ).fetchall()
            if not rows:
                con.execute(
                    "INSERT INTO model_versions VALUES (?, ?, ?, ?, ?)",
                    [entry.model_id, version, now, meta, stage],
                )
                self._event(con, entry.model_id, "version_registered", now,
                            {"version": version, "stage": stage})
            else:
                sets, params = ["stage = ?"], [stage]
                if metadata is not None:
                    sets.append("metadata = ?")
                    params.append(meta)
                con.execute(
                    f"UPDATE model_versions SET {', '.join(sets)} "
                    "WHERE model_id = ? AND version = ?",
                    [*params, entry.model_id, version],
                )
        entry.known_versions.add(version)
        return self._version_info(model, version)

    def _version_info(self, model: str, version: str) -> VersionInfo:
        entry = self._entry(model)
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT created_at, metadata, stage FROM model_versions "
                "WHERE model_id = ? AND version = ?",
                [entry.model_id, version],
            ).fetchall()
        if not rows:
            raise NotFoundError(
                f"model {model!r} has no version {version!r}", code="version_not_found",
                loc=("version",),
            )
        created, meta, stage = rows[0]
        return VersionInfo(model, version, _aware(created), json.loads(meta), stage)

    def list_versions(self, model: str) -> list[VersionInfo]:
        entry = self._entry(model)
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT version, created_at, metadata, stage FROM model_versions "
                "WHERE model_id = ? ORDER BY created_at, version",
                [entry.model_id],
            ).fetchall()
        return [VersionInfo(model, v, _aware(c), json.loads(m), s) for v, c, m, s in rows]

    def list_events(
        self, model: str, *, kind: str | None = None, limit: int = 100,
        before_id: int | None = None,
    ) -> list[ModelEvent]:
        entry = self._entry(model)
        sql = "SELECT event_id, kind, occurred_at, details FROM model_events WHERE model_id = ?"
        params: list[Any] = [entry.model_id]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        if before_id is not None:
            sql += " AND event_id < ?"
            params.append(before_id)
        sql += " ORDER BY event_id DESC LIMIT ?"
        params.append(int(limit))
        with self._cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
        return [ModelEvent(i, model, k, _aware(a), json.loads(d)) for i, k, a, d in rows]

    # --- writes ----------------------------------------------------------------------------------
    def write(self, batches: Sequence[WriteBatch]) -> list[WriteResult]:
        if not batches:
            return []
        entries = [self._entry(b.model) for b in batches]
        stamps: list[tuple[ModelEntry, BatchKind, int]] = []
        new_ids: list[tuple[ModelEntry, np.ndarray]] = []
        new_versions: list[tuple[ModelEntry, set[str]]] = []
        results: list[WriteResult | None] = [None] * len(batches)
        with self._write_lock:
            for entry in {id(e): e for e in entries}.values():
                self._ensure_id_index(entry)
            with self._transaction() as con:
                # Batches of the same model and kind (one group commit holds many requests) are
                # written as one table: per-statement overhead, not rows, dominates small writes.
                groups: dict[tuple[BatchKind, str], list[int]] = {}
                for i, (batch, entry) in enumerate(zip(batches, entries, strict=True)):
                    if batch.idempotency_key is not None:
                        results[i] = self._seen_key(con, batch, entry)
                        if results[i] is not None:
                            continue
                    groups.setdefault((batch.kind, batch.model), []).append(i)
                for (kind, model), idxs in groups.items():
                    entry = self._models[model]
                    tables = [batches[i].table for i in idxs]
                    merged = tables[0] if len(tables) == 1 else pa.concat_tables(
                        tables, promote_options="default")
                    if len(tables) > 1 and merged.num_rows < 64 * len(tables):
                        # Many small requests (single predictions): DuckDB's scan (and the id
                        # hashing) pay per chunk, so one chunk per column is much cheaper.
                        merged = merged.combine_chunks()
                    sizes = [t.num_rows for t in tables]
                    if kind in STAMPED and merged.num_rows:
                        merged, stamp = self._stamp(merged)
                        stamps.append((entry, kind, stamp))
                    if kind is BatchKind.PREDICTIONS:
                        keep, hashes, versions = self._write_predictions(con, entry, merged,
                                                                         new_ids)
                        new_ids.append((entry, hashes))
                        new_versions.append((entry, versions))
                        ids = merged.column("prediction_id")
                        offset = 0
                        for i, size in zip(idxs, sizes, strict=True):
                            kept = int(keep[offset:offset + size].sum())
                            dup_ids: tuple[str, ...] = ()
                            if kept < size:
                                dups = np.flatnonzero(~keep[offset:offset + size])[:100] + offset
                                dup_ids = tuple(ids.take(pa.array(dups)).to_pylist())
                            results[i] = WriteResult(kind, model, kept, size - kept,
                                                     duplicate_ids=dup_ids)
                            offset += size
                        continue
                    if kind is BatchKind.ACTUALS:
                        self._write_actuals(con, entry, merged)
                    else:
                        self._write_simple(con, entry, merged, kind)
                    for i, size in zip(idxs, sizes, strict=True):
                        results[i] = WriteResult(kind, model, size)
            # Only after COMMIT: a rolled-back write must not teach the index anything.
            for entry, hashes in new_ids:
                assert entry.ids is not None
                entry.ids.add(hashes)
                if not entry.ids.covers_everything:
                    entry.read_dedupe = True
            for entry, versions in new_versions:
                entry.known_versions |= versions
            for entry, kind, stamp in stamps:
                self._advance_watermark(entry, kind, stamp)
        return [r for r in results if r is not None]

    @staticmethod
    def _advance_watermark(entry: ModelEntry, kind: BatchKind, stamp_us: int) -> None:
        if entry.watermarks is None:
            return  # not loaded yet: the first data_watermarks() call reads the table
        latest = datetime.fromtimestamp(stamp_us / 1_000_000, UTC)
        preds, acts = entry.watermarks
        if kind is BatchKind.PREDICTIONS:
            preds = latest if preds is None or latest > preds else preds
        elif kind is BatchKind.ACTUALS:
            acts = latest if acts is None or latest > acts else acts
        entry.watermarks = (preds, acts)

    def _stamp(self, table: pa.Table) -> tuple[pa.Table, int]:
        """Set ``received_at`` to this store's strictly increasing write time (µs).

        Evaluation finds new data by ``received_at > watermark``; two writes in the same
        microsecond must not look alike, so the store, not the request, owns this column.
        """
        with self._stamp_lock:
            now_us = int(self.clock().timestamp() * 1_000_000)
            now_us = max(now_us, self._last_stamp_us + 1)
            self._last_stamp_us = now_us
        stamp = pa.array(np.full(table.num_rows, now_us, dtype=np.int64),
                         pa.int64()).view(pa.timestamp("us", tz="UTC"))
        idx = table.schema.get_field_index("received_at")
        if idx < 0:
            return table.append_column("received_at", stamp), now_us
        return table.set_column(idx, "received_at", stamp), now_us

    def _seen_key(self, con: duckdb.DuckDBPyConnection, batch: WriteBatch,
                  entry: ModelEntry) -> WriteResult | None:
        """The result of a batch whose key was seen (a replay, or a conflict when the request
        differs); None for a new key, which is recorded."""
        seen = con.execute(
            "SELECT body_hash FROM ingest_batches WHERE idempotency_key = ?", [batch.idempotency_key]
        ).fetchall()
        if seen:
            stored = seen[0][0]
            conflict = (stored is not None and batch.fingerprint is not None
                        and stored != batch.fingerprint)
            return WriteResult(batch.kind, batch.model, 0, replayed=not conflict,
                               conflict=conflict)
        con.execute(
            "INSERT INTO ingest_batches (idempotency_key, model_id, kind, records, received_at, "
            "body_hash) VALUES (?, ?, ?, ?, ?, ?)",
            [batch.idempotency_key, entry.model_id, batch.kind.value, batch.num_rows,
             _naive_utc(self.clock()), batch.fingerprint],
        )
        return None

    def _ensure_id_index(self, entry: ModelEntry) -> None:
        if entry.ids is not None:
            return
        index = RecentIdIndex(capacity=self.dedup_capacity)
        con = self._conn
        total = int(con.execute(f"SELECT count(*) FROM {entry.pred_table}").fetchall()[0][0])
        if total:
            sql = f"SELECT prediction_id FROM {entry.pred_table}"
            if total > self.dedup_capacity:
                sql += f" ORDER BY received_at DESC LIMIT {int(self.dedup_capacity * 7 // 8)}"
                entry.read_dedupe = True
            reader = con.sql(sql).to_arrow_reader(1_000_000)
            for batch in reader:
                index.add(hash_ids(batch.column(0)))
            if entry.read_dedupe:
                index._evicted = True  # it never saw the older ids
        entry.ids = index

    def _write_predictions(
        self,
        con: duckdb.DuckDBPyConnection,
        entry: ModelEntry,
        table: pa.Table,
        pending: list[tuple[ModelEntry, np.ndarray]],
    ) -> tuple[np.ndarray, np.ndarray, set[str]]:
        """Insert the rows whose id is new; return the kept-row mask, their hashes, new versions."""
        ids = table.column("prediction_id")
        n = len(ids)
        # First occurrence wins inside the batch (Python lists only when there are duplicates).
        if pc.count_distinct(ids).as_py() == n:
            keep = np.ones(n, dtype=bool)
        else:
            keep = first_occurrence_mask(ids.to_pylist())
        hashes = hash_ids(ids)
        assert entry.ids is not None
        candidate = entry.ids.contains(hashes)
        for other, other_hashes in pending:  # earlier batches of this same transaction
            if other is entry:
                candidate |= np.isin(hashes, other_hashes)
        candidate &= keep
        if candidate.any():
            id_list = ids.to_pylist()
            cand_ids = [id_list[i] for i in np.flatnonzero(candidate)]
            con.register("_cand", pa.table({"prediction_id": pa.array(cand_ids, pa.string())}))
            try:
                found = {
                    r[0]
                    for r in con.execute(
                        f"SELECT DISTINCT p.prediction_id FROM {entry.pred_table} p "
                        "JOIN _cand c ON p.prediction_id = c.prediction_id"
                    ).fetchall()
                }
            finally:
                con.unregister("_cand")
            if found:
                for i in np.flatnonzero(candidate):
                    if id_list[i] in found:
                        keep[i] = False
        if not keep.all():
            table = table.filter(pa.array(keep))
            hashes = hashes[keep]
        versions: set[str] = set()
        if table.num_rows:
            self._insert(con, entry.pred_table, table, self._prediction_column_map(entry, table))
            versions = set(pc.unique(table.column("version")).to_pylist()) - entry.known_versions
            if versions:
                self._new_versions(con, entry, versions)
        return keep, hashes, versions

    def _new_versions(self, con: duckdb.DuckDBPyConnection, entry: ModelEntry, versions: set[str]) -> None:
        now = _naive_utc(self.clock())
        for version in sorted(versions):
            inserted = con.execute(
                "INSERT INTO model_versions VALUES (?, ?, ?, '{}', 'active') "
                "ON CONFLICT DO NOTHING RETURNING version",
                [entry.model_id, version, now],
            ).fetchall()
            if inserted:
                self._event(con, entry.model_id, "version_registered", now,
                            {"version": version, "stage": "active", "source": "ingest"})

    def _prediction_column_map(self, entry: ModelEntry, table: pa.Table) -> list[tuple[str, str]]:
        mapping = []
        for name in table.column_names:
            if name.startswith(FEATURE_PREFIX):
                physical = entry.feature_columns.get(name[len(FEATURE_PREFIX):])
                code = "unknown_feature"
            elif name.startswith(SEGMENT_PREFIX):
                physical = entry.segment_columns.get(name[len(SEGMENT_PREFIX):])
                code = "unknown_segment"
            else:
                physical, code = (name if name in _PRED_COLUMN_NAMES else None), "unknown_field"
            if physical is None:
                # Validation checks against the spec; this only happens when the spec changed
                # between validation and write. The client may simply retry.
                raise SchemaError(
                    f"column {name!r} does not belong to model {entry.info.name!r} (its spec "
                    "changed while the request was in flight?)", code=code, loc=(name,),
                )
            mapping.append((name, physical))
        return mapping

    def _insert(
        self, con: duckdb.DuckDBPyConnection, target: str, table: pa.Table,
        mapping: list[tuple[str, str]],
    ) -> None:
        # DuckDB's replacement scan reads this frame's local variable (registering a view
        # instead costs two more statements, a catalog change each, per write).
        _batch_in = table
        cols = ", ".join(_q(p) for _, p in mapping)
        exprs = ", ".join(_q(logical) for logical, _ in mapping)
        con.execute(f"INSERT INTO {target} ({cols}) SELECT {exprs} FROM _batch_in")

    def _write_actuals(self, con: duckdb.DuckDBPyConnection, entry: ModelEntry, table: pa.Table) -> None:
        start = int(con.execute(f"SELECT coalesce(max(seq), 0) FROM {entry.act_table}").fetchall()[0][0])
        table = table.append_column(
            "seq", pa.array(np.arange(start + 1, start + 1 + table.num_rows, dtype=np.int64))
        )
        self._insert(con, entry.act_table, table, [(c, c) for c in table.column_names])

    def _write_simple(
        self, con: duckdb.DuckDBPyConnection, entry: ModelEntry, table: pa.Table, kind: BatchKind
    ) -> None:
        table = table.append_column(
            "model_id", pa.array(np.full(table.num_rows, entry.model_id, dtype=np.int32))
        )
        self._insert(con, SIMPLE_TABLES[kind], table, [(c, c) for c in table.column_names])

    def delete_predictions(
        self, model: str, *, start: datetime | None = None, end: datetime | None = None,
        version: str | None = None, prediction_ids: Sequence[str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> Deletion:
        entry = self._entry(model)
        where, params = self._time_filter("event_time", start, end)
        conds = [where.removeprefix(" WHERE ")] if where else []
        if version is not None:
            conds.append("version = ?")
            params.append(version)
        # DuckDB reads this frame's local variable by name (a replacement scan).
        _deleted_ids = pa.table({"prediction_id": pa.array(prediction_ids or [], pa.string())})
        if prediction_ids is not None:
            conds.append("prediction_id IN (SELECT prediction_id FROM _deleted_ids)")
        where = " WHERE " + " AND ".join(conds) if conds else ""
        matched = f"SELECT prediction_id FROM {entry.pred_table}{where}"
        now = _naive_utc(self.clock())
        with self._write_lock, self._transaction() as con:
            predictions = int(con.execute(f"SELECT count(DISTINCT prediction_id) FROM ({matched})",
                                          params).fetchall()[0][0])
            actuals = int(con.execute(
                f"SELECT count(DISTINCT prediction_id) FROM {entry.act_table} WHERE prediction_id "
                f"IN ({matched}) OR prediction_id IN (SELECT prediction_id FROM _deleted_ids)",
                params).fetchall()[0][0])
            con.execute(f"DELETE FROM {entry.act_table} WHERE prediction_id IN ({matched}) "
                        "OR prediction_id IN (SELECT prediction_id FROM _deleted_ids)", params)
            con.execute(f"DELETE FROM {entry.pred_table}{where}", params)
            filters = {"start": start.isoformat() if start else None,
                       "end": end.isoformat() if end else None, "version": version,
                       "prediction_ids": (list(prediction_ids[:100])
                                          if prediction_ids is not None else None),
                       "prediction_id_count": (len(prediction_ids)
                                               if prediction_ids is not None else None)}
            event_id = self._event(con, entry.model_id, "data_deleted", now, {
                **filters, "predictions": predictions, "actuals": actuals, **(details or {})})
        return Deletion(model, predictions, actuals, event_id)

    # --- reads -----------------------------------------------------------------------------------
    def count(
        self, model: str, kind: BatchKind = BatchKind.PREDICTIONS, *,
        start: datetime | None = None, end: datetime | None = None,
    ) -> int:
        entry = self._entry(model)
        where, params = self._time_filter(TIME_COLUMN[kind], start, end)
        if kind is BatchKind.PREDICTIONS:
            what = "count(DISTINCT prediction_id)" if entry.read_dedupe else "count(*)"
            sql = f"SELECT {what} FROM {entry.pred_table}{where}"
        elif kind is BatchKind.ACTUALS:
            sql = f"SELECT count(DISTINCT prediction_id) FROM {entry.act_table}{where}"
        else:
            extra = " AND " if where else " WHERE "
            sql = f"SELECT count(*) FROM {SIMPLE_TABLES[kind]}{where}{extra}model_id = ?"
            params.append(entry.model_id)
        with self._cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
        return int(rows[0][0]) if rows else 0

    @staticmethod
    def _time_filter(
        column: str, start: datetime | None, end: datetime | None, alias: str = ""
    ) -> tuple[str, list[Any]]:
        conds, params = [], []
        if start is not None:
            conds.append(f"{alias}{column} >= ?")
            params.append(_naive_utc(start))
        if end is not None:
            conds.append(f"{alias}{column} < ?")
            params.append(_naive_utc(end))
        return (" WHERE " + " AND ".join(conds) if conds else ""), params

    def _select_list(self, entry: ModelEntry, columns: Sequence[str] | None) -> list[str]:
        base = [n for n, _ in _PRED_BASE]
        features = {f"{FEATURE_PREFIX}{f}": c for f, c in entry.feature_columns.items()}
        segments = {f"{SEGMENT_PREFIX}{s}": c for s, c in entry.segment_columns.items()}
        wanted = list(columns) if columns is not None else [*base, *segments, *features]
        out = []
        for name in wanted:
            if name in base:
                out.append(f"p.{_q(name)}")
            elif name in features:
                out.append(f"p.{_q(features[name])} AS {_q(name)}")
            elif name in segments:
                out.append(f"p.{_q(segments[name])} AS {_q(name)}")
            elif name in ("actual_label", "actual_value", "actual_time"):
                continue
            else:
                raise NotFoundError(f"model {entry.info.name!r} has no column {name!r}",
                                    loc=("columns",))
        return out

    def read_predictions(
        self, model: str, *, start: datetime | None = None, end: datetime | None = None,
        columns: Sequence[str] | None = None, version: str | None = None,
        with_actuals: bool = True, limit: int | None = None, ordered: bool = True,
        first: tuple[datetime, str] | None = None, last: tuple[datetime, str] | None = None,
    ) -> pa.Table:
        entry = self._entry(model)
        select = self._select_list(entry, columns)
        where, params = self._time_filter("event_time", start, end, alias="p.")
        if version is not None:
            where += (" AND " if where else " WHERE ") + "p.version = ?"
            params.append(version)
        # A row window: from (time, id) ``first`` to ``last`` inclusive, in event-time order.
        for bound, op in ((first, ">"), (last, "<")):
            if bound is None:
                continue
            t, pid = _naive_utc(bound[0]), bound[1]
            where += (" AND " if where else " WHERE ") + (
                f"p.event_time {op}= ? AND (p.event_time {op} ? OR p.prediction_id {op}= ?)")
            params.extend([t, t, pid])
        inner = f"SELECT p.* FROM {entry.pred_table} p{where}"
        if entry.read_dedupe:
            inner += " QUALIFY row_number() OVER (PARTITION BY p.prediction_id ORDER BY p.received_at) = 1"
        sql = f"SELECT {', '.join(select)}"
        if with_actuals:
            # The latest actual per id (ground truth can be corrected): a hash aggregate over
            # the actuals of these predictions only (a semi-join first): aggregating the whole
            # actuals table for each window made every read cost as much as the table is large
            # (19 -> 6 ms for a 500-row window of a 200k-row model).
            sql = (
                f"WITH p AS ({inner}) {sql}"
                ", a.label AS actual_label, a.value AS actual_value, a.event_time AS actual_time"
                " FROM p LEFT JOIN ("
                "SELECT prediction_id, arg_max(label, seq) AS label, arg_max(value, seq) AS value,"
                f" arg_max(event_time, seq) AS event_time FROM {entry.act_table} "
                "WHERE prediction_id IN (SELECT prediction_id FROM p) "
                "GROUP BY prediction_id) a ON p.prediction_id = a.prediction_id"
            )
        else:
            sql += f" FROM ({inner}) p"
        if ordered:
            sql += " ORDER BY p.event_time, p.prediction_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._parallel(), self._cursor() as cur:
            return _utc_columns(cur.sql(sql, params=params).to_arrow_table())

    def get_prediction(self, model: str, prediction_id: str) -> dict[str, Any] | None:
        entry = self._entry(model)
        select = self._select_list(entry, None)
        sql = (
            f"SELECT {', '.join(select)}, a.label AS actual_label, a.value AS actual_value, "
            f"a.event_time AS actual_time FROM {entry.pred_table} p LEFT JOIN ("
            f"SELECT prediction_id, label, value, event_time FROM {entry.act_table} "
            "WHERE prediction_id = ? ORDER BY received_at DESC, seq DESC LIMIT 1) a "
            "ON p.prediction_id = a.prediction_id WHERE p.prediction_id = ? "
            "ORDER BY p.received_at LIMIT 1"
        )
        with self._cursor() as cur:
            table = cur.sql(sql, params=[prediction_id, prediction_id]).to_arrow_table()
        if table.num_rows == 0:
            return None
        return {k: v[0] for k, v in _utc_columns(table).to_pydict().items()}

    def read_table(
        self, model: str, kind: BatchKind, *, start: datetime | None = None,
        end: datetime | None = None, limit: int | None = None,
    ) -> pa.Table:
        entry = self._entry(model)
        where, params = self._time_filter(TIME_COLUMN[kind], start, end)
        if kind is BatchKind.ACTUALS:
            sql = f"SELECT * EXCLUDE (seq) FROM {entry.act_table}{where} ORDER BY seq"
        elif kind is BatchKind.PREDICTIONS:
            return self.read_predictions(model, start=start, end=end, with_actuals=False,
                                         limit=limit)
        else:
            sql = (
                f"SELECT * EXCLUDE (model_id) FROM {SIMPLE_TABLES[kind]}{where}"
                f"{' AND ' if where else ' WHERE '}model_id = ? ORDER BY {TIME_COLUMN[kind]}"
            )
            params.append(entry.model_id)
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._cursor() as cur:
            return _utc_columns(cur.sql(sql, params=params).to_arrow_table())

"""Versioned schema migrations of the DuckDB store, applied in order at start-up.

Each migration runs in its own transaction and is recorded in ``schema_migrations``; a database
written by a newer modelmon (a migration number this code does not know) refuses to open.
Per-model tables (``pred_<id>``, ``act_<id>``) are created by the store when a model is
registered; migrations that change them iterate over ``models``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

__all__ = ["MIGRATIONS", "Migration", "apply_migrations"]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


def _sql(*statements: str) -> Callable[[duckdb.DuckDBPyConnection], None]:
    def run(con: duckdb.DuckDBPyConnection) -> None:
        for statement in statements:
            con.execute(statement)

    return run


_M1 = _sql(
    """CREATE TABLE models (
        model_id INTEGER PRIMARY KEY,
        name VARCHAR NOT NULL UNIQUE,
        task VARCHAR NOT NULL,
        spec JSON NOT NULL,
        revision INTEGER NOT NULL,
        source VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE model_revisions (
        model_id INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        spec JSON NOT NULL,
        source VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (model_id, revision)
    )""",
    """CREATE TABLE model_versions (
        model_id INTEGER NOT NULL,
        version VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        metadata JSON NOT NULL,
        stage VARCHAR NOT NULL,
        PRIMARY KEY (model_id, version)
    )""",
    "CREATE SEQUENCE model_event_ids START 1",
    """CREATE TABLE model_events (
        event_id BIGINT PRIMARY KEY DEFAULT nextval('model_event_ids'),
        model_id INTEGER NOT NULL,
        kind VARCHAR NOT NULL,
        occurred_at TIMESTAMP NOT NULL,
        details JSON NOT NULL
    )""",
    """CREATE TABLE feature_columns (
        model_id INTEGER NOT NULL,
        feature VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        column_name VARCHAR NOT NULL,
        added_at TIMESTAMP NOT NULL,
        PRIMARY KEY (model_id, feature, type)
    )""",
    """CREATE TABLE metric_events (
        model_id INTEGER NOT NULL,
        name VARCHAR NOT NULL,
        value DOUBLE,
        kind VARCHAR NOT NULL,
        version VARCHAR,
        prediction_id VARCHAR,
        segment VARCHAR,
        event_time TIMESTAMP NOT NULL,
        received_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE feature_importance (
        model_id INTEGER NOT NULL,
        version VARCHAR,
        feature VARCHAR NOT NULL,
        importance DOUBLE NOT NULL,
        method VARCHAR,
        snapshot_time TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE training_runs (
        model_id INTEGER NOT NULL,
        run_id VARCHAR NOT NULL,
        version VARCHAR,
        kind VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        started_at TIMESTAMP,
        finished_at TIMESTAMP,
        duration_seconds DOUBLE,
        samples BIGINT,
        details JSON
    )""",
    """CREATE TABLE ingest_batches (
        idempotency_key VARCHAR PRIMARY KEY,
        model_id INTEGER NOT NULL,
        kind VARCHAR NOT NULL,
        records BIGINT NOT NULL,
        received_at TIMESTAMP NOT NULL
    )""",
)


MIGRATIONS: list[Migration] = [
    Migration(1, "models, versions, events, data tables", _M1),
]


def apply_migrations(con: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None) -> list[int]:
    """Apply pending migrations; return the versions applied now."""
    migrations = MIGRATIONS if migrations is None else migrations
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    known = {m.version for m in migrations}
    unknown = sorted(done - known)
    if unknown:
        from modelmon.exceptions import StoreError

        raise StoreError(
            f"the database was written by a newer modelmon (schema migrations {unknown} are "
            "unknown to this version); upgrade modelmon to open it"
        )
    applied = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            migration.apply(con)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)",
                [migration.version, migration.name],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied

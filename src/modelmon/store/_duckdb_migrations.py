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


_M2 = _sql(
    # One row per (model, version, segment, window, metric): the time series of evaluations.
    # version/segment '*' mean "all"; a segment row is 'name=value'.
    """CREATE TABLE metric_points (
        model_id INTEGER NOT NULL,
        version VARCHAR NOT NULL,
        segment VARCHAR NOT NULL,
        window_size VARCHAR NOT NULL,
        window_start TIMESTAMP NOT NULL,
        window_end TIMESTAMP NOT NULL,
        metric VARCHAR NOT NULL,
        value DOUBLE,
        n BIGINT,
        computed_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE feature_results (
        model_id INTEGER NOT NULL,
        version VARCHAR NOT NULL,
        segment VARCHAR NOT NULL,
        window_size VARCHAR NOT NULL,
        window_start TIMESTAMP NOT NULL,
        window_end TIMESTAMP NOT NULL,
        feature VARCHAR NOT NULL,
        feature_type VARCHAR NOT NULL,
        test VARCHAR,
        statistic DOUBLE,
        p_value DOUBLE,
        threshold DOUBLE,
        drifted BOOLEAN,
        n_reference BIGINT,
        n_current BIGINT,
        missing_share DOUBLE,
        out_of_range_share DOUBLE,
        unseen_share DOUBLE,
        computed_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE window_aggregates (
        model_id INTEGER NOT NULL,
        version VARCHAR NOT NULL,
        segment VARCHAR NOT NULL,
        window_size VARCHAR NOT NULL,
        window_start TIMESTAMP NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (model_id, version, segment, window_size, window_start)
    )""",
    "CREATE SEQUENCE detector_event_ids START 1",
    """CREATE TABLE detector_events (
        event_id BIGINT PRIMARY KEY DEFAULT nextval('detector_event_ids'),
        model_id INTEGER NOT NULL,
        version VARCHAR NOT NULL,
        detector VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        event_time TIMESTAMP NOT NULL,
        prediction_id VARCHAR,
        position BIGINT NOT NULL,
        details JSON NOT NULL,
        created_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE detector_state (
        model_id INTEGER NOT NULL,
        version VARCHAR NOT NULL,
        detector VARCHAR NOT NULL,
        state BLOB NOT NULL,
        processed BIGINT NOT NULL,
        cursor_time TIMESTAMP,
        cursor_id VARCHAR,
        updated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (model_id, version, detector)
    )""",
    """CREATE TABLE reports (
        report_id VARCHAR PRIMARY KEY,
        model_id INTEGER NOT NULL,
        created_at TIMESTAMP NOT NULL,
        kind VARCHAR NOT NULL,
        window_size VARCHAR,
        window_start TIMESTAMP,
        window_end TIMESTAMP,
        status VARCHAR NOT NULL,
        body JSON NOT NULL
    )""",
    """CREATE TABLE model_status (
        model_id INTEGER PRIMARY KEY,
        status VARCHAR NOT NULL,
        reasons JSON NOT NULL,
        report_id VARCHAR,
        updated_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE reference_summaries (
        model_id INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        source VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        n_rows BIGINT NOT NULL,
        summary BLOB NOT NULL,
        PRIMARY KEY (model_id, revision)
    )""",
    """CREATE TABLE evaluation_state (
        model_id INTEGER PRIMARY KEY,
        predictions_seen TIMESTAMP,
        actuals_seen TIMESTAMP,
        pending JSON NOT NULL,
        updated_at TIMESTAMP NOT NULL
    )""",
)

_M4 = _sql(
    """CREATE TABLE window_verdicts (
        model_id INTEGER NOT NULL,
        window_size VARCHAR NOT NULL,
        window_start TIMESTAMP NOT NULL,
        window_end TIMESTAMP NOT NULL,
        complete BOOLEAN NOT NULL,
        n BIGINT NOT NULL,
        status VARCHAR NOT NULL,
        reasons JSON NOT NULL,
        judged_at TIMESTAMP NOT NULL,
        PRIMARY KEY (model_id, window_size, window_start)
    )""",
)


# An idempotency key remembers a hash of the request that first carried it: the same key with
# another body is a conflict, not a replay that silently drops the new data.
_M3 = _sql("ALTER TABLE ingest_batches ADD COLUMN body_hash VARCHAR")

_M5 = _sql(
    """CREATE TABLE alerts (
        alert_id VARCHAR PRIMARY KEY,
        fingerprint VARCHAR NOT NULL,
        rule VARCHAR NOT NULL,
        model VARCHAR,
        labels JSON NOT NULL,
        annotations JSON NOT NULL,
        state VARCHAR NOT NULL,
        severity VARCHAR NOT NULL,
        value DOUBLE,
        threshold DOUBLE,
        started_at TIMESTAMP NOT NULL,
        fired_at TIMESTAMP,
        resolved_at TIMESTAMP,
        last_active_at TIMESTAMP NOT NULL,
        last_evaluated_at TIMESTAMP NOT NULL,
        evaluations INTEGER NOT NULL,
        silenced BOOLEAN NOT NULL,
        acked_by VARCHAR,
        acked_at TIMESTAMP,
        ack_note VARCHAR,
        backfilled BOOLEAN NOT NULL,
        keep_firing_since TIMESTAMP
    )""",
    """CREATE TABLE alert_events (
        alert_id VARCHAR NOT NULL,
        fingerprint VARCHAR NOT NULL,
        occurred_at TIMESTAMP NOT NULL,
        event VARCHAR NOT NULL,
        state VARCHAR NOT NULL,
        value DOUBLE,
        note VARCHAR
    )""",
    """CREATE TABLE silences (
        silence_id VARCHAR PRIMARY KEY,
        matchers JSON NOT NULL,
        starts_at TIMESTAMP NOT NULL,
        ends_at TIMESTAMP NOT NULL,
        created_by VARCHAR NOT NULL,
        comment VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        expired_at TIMESTAMP
    )""",
    """CREATE TABLE alert_rules (
        name VARCHAR PRIMARY KEY,
        spec JSON NOT NULL,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL
    )""",
)

_M7 = _sql(
    """CREATE TABLE actions (
        action_id VARCHAR PRIMARY KEY,
        idempotency_key VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        model VARCHAR,
        rule VARCHAR,
        alert_id VARCHAR,
        fingerprint VARCHAR,
        trigger VARCHAR NOT NULL,
        severity VARCHAR,
        state VARCHAR NOT NULL,
        dry_run BOOLEAN NOT NULL,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        started_at TIMESTAMP,
        finished_at TIMESTAMP,
        attempts INTEGER NOT NULL,
        request JSON,
        response JSON,
        details JSON NOT NULL,
        error VARCHAR,
        note VARCHAR,
        related_id VARCHAR,
        decided_by VARCHAR,
        decided_at TIMESTAMP,
        decision_note VARCHAR
    )""",
    "CREATE INDEX actions_by_key ON actions (idempotency_key)",
)


# The notification outbox (a row per message per receiver integration, written before it is
# sent), the notification log (what each group last told each receiver: nothing is sent twice
# after a restart) and the escalations already sent.
_M6 = _sql(
    """CREATE SEQUENCE notification_ids START 1""",
    """CREATE TABLE notifications (
        id BIGINT PRIMARY KEY DEFAULT nextval('notification_ids'),
        created_at TIMESTAMP NOT NULL,
        receiver VARCHAR NOT NULL,
        integration VARCHAR NOT NULL,
        idx INTEGER NOT NULL,
        kind VARCHAR NOT NULL,
        group_key VARCHAR NOT NULL,
        fingerprints JSON NOT NULL,
        payload JSON NOT NULL,
        state VARCHAR NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at TIMESTAMP NOT NULL,
        last_error VARCHAR,
        delivered_at TIMESTAMP
    )""",
    """CREATE TABLE notification_log (
        receiver VARCHAR NOT NULL,
        group_key VARCHAR NOT NULL,
        sent_at TIMESTAMP NOT NULL,
        firing JSON NOT NULL,
        PRIMARY KEY (receiver, group_key)
    )""",
    """CREATE TABLE notification_escalations (
        alert_id VARCHAR NOT NULL,
        route VARCHAR NOT NULL,
        sent_at TIMESTAMP NOT NULL,
        PRIMARY KEY (alert_id, route)
    )""",
)

# API keys (their SHA-256 only) and the append-only audit log.
_M8 = _sql(
    """CREATE TABLE api_keys (
        key_id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        key_hash VARCHAR NOT NULL UNIQUE,
        models JSON,
        created_at TIMESTAMP NOT NULL,
        created_by VARCHAR NOT NULL,
        revoked_at TIMESTAMP,
        revoked_by VARCHAR
    )""",
    "CREATE SEQUENCE audit_ids START 1",
    """CREATE TABLE audit_log (
        id BIGINT PRIMARY KEY DEFAULT nextval('audit_ids'),
        "at" TIMESTAMP NOT NULL,
        key_id VARCHAR NOT NULL,
        key_name VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        client VARCHAR NOT NULL,
        method VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        status INTEGER NOT NULL,
        model VARCHAR,
        target VARCHAR,
        request_id VARCHAR,
        details JSON
    )""",
)

MIGRATIONS: list[Migration] = [
    Migration(1, "models, versions, events, data tables", _M1),
    Migration(2, "evaluation results: metric points, feature results, detectors, reports", _M2),
    Migration(3, "idempotency keys remember the hash of their request", _M3),
    Migration(4, "a verdict per window: status and reasons", _M4),
    Migration(5, "alerts, their history, silences and rules made over the API", _M5),
    Migration(6, "notification outbox, notification log, escalations", _M6),
    Migration(7, "actions: what triggered each, its request, response and outcome", _M7),
    Migration(8, "API keys (hashed) and the audit log", _M8),
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

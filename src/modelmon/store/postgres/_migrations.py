"""Versioned schema migrations of the PostgreSQL store, applied in order at start-up.

Pending migrations are applied in one transaction (each in a savepoint) and recorded in
``schema_migrations``. Several servers may start at once: an advisory lock makes one of them
migrate while the others wait, then find nothing left to do.
A database written by a newer modelmon (a migration number this code does not know) refuses to
open. Per-model tables (``pred_<id>`` partitioned by event time, ``pid_<id>``, ``act_<id>``) are
created by the store when a model is registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from modelmon.exceptions import StoreError

__all__ = ["MIGRATIONS", "Migration", "apply_migrations"]

#: Advisory-lock key of schema migrations (any constant shared by every server).
MIGRATION_LOCK = 0x6D6D0001


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


_CATALOG = (
    """CREATE TABLE models (
        model_id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        task text NOT NULL,
        spec text NOT NULL,
        revision integer NOT NULL,
        source text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        partition_days integer NOT NULL
    )""",
    """CREATE TABLE model_revisions (
        model_id integer NOT NULL, revision integer NOT NULL, spec text NOT NULL,
        source text NOT NULL, created_at timestamptz NOT NULL,
        PRIMARY KEY (model_id, revision))""",
    """CREATE TABLE model_versions (
        model_id integer NOT NULL, version text NOT NULL, created_at timestamptz NOT NULL,
        metadata text NOT NULL, stage text NOT NULL, PRIMARY KEY (model_id, version))""",
    """CREATE TABLE model_events (
        event_id bigserial PRIMARY KEY, model_id integer NOT NULL, kind text NOT NULL,
        occurred_at timestamptz NOT NULL, details text NOT NULL)""",
    "CREATE INDEX model_events_by_model ON model_events (model_id, event_id)",
    # Physical columns of features (kind numeric/categorical/boolean) and segments (kind
    # 'segment'): numbered, as PostgreSQL names are at most 63 bytes long.
    """CREATE TABLE model_columns (
        model_id integer NOT NULL, name text NOT NULL, kind text NOT NULL,
        column_name text NOT NULL, added_at timestamptz NOT NULL,
        PRIMARY KEY (model_id, name, kind))""",
    # Write stamps: the last received_at given out, and the newest of predictions and actuals.
    # Writers of a model take this row's lock first, so stamps follow commit order.
    """CREATE TABLE model_stamps (
        model_id integer PRIMARY KEY, last_stamp timestamptz,
        predictions_at timestamptz, actuals_at timestamptz)""",
    """CREATE TABLE metric_events (
        model_id integer NOT NULL, name text NOT NULL, value float8, kind text NOT NULL,
        version text, prediction_id text, segment text, event_time timestamptz NOT NULL,
        received_at timestamptz NOT NULL)""",
    "CREATE INDEX metric_events_by_time ON metric_events (model_id, event_time)",
    """CREATE TABLE feature_importance (
        model_id integer NOT NULL, version text, feature text NOT NULL,
        importance float8 NOT NULL, method text, snapshot_time timestamptz NOT NULL)""",
    """CREATE TABLE training_runs (
        model_id integer NOT NULL, run_id text NOT NULL, version text, kind text NOT NULL,
        status text NOT NULL, started_at timestamptz, finished_at timestamptz,
        duration_seconds float8, samples int8, details text)""",
    """CREATE TABLE ingest_batches (
        idempotency_key text PRIMARY KEY, model_id integer NOT NULL, kind text NOT NULL,
        records int8 NOT NULL, received_at timestamptz NOT NULL, body_hash text)""",
)

_RESULTS = (
    """CREATE TABLE metric_points (
        model_id integer NOT NULL, version text NOT NULL, segment text NOT NULL,
        window_size text NOT NULL, window_start timestamptz NOT NULL,
        window_end timestamptz NOT NULL, metric text NOT NULL, value float8, n int8,
        computed_at timestamptz NOT NULL)""",
    "CREATE INDEX metric_points_by_window ON metric_points (model_id, window_size, window_start)",
    """CREATE TABLE feature_results (
        model_id integer NOT NULL, version text NOT NULL, segment text NOT NULL,
        window_size text NOT NULL, window_start timestamptz NOT NULL,
        window_end timestamptz NOT NULL, feature text NOT NULL, feature_type text NOT NULL,
        test text, statistic float8, p_value float8, threshold float8, drifted boolean,
        n_reference int8, n_current int8, missing_share float8, out_of_range_share float8,
        unseen_share float8, computed_at timestamptz NOT NULL)""",
    "CREATE INDEX feature_results_by_window ON feature_results "
    "(model_id, window_size, window_start)",
    """CREATE TABLE window_aggregates (
        model_id integer NOT NULL, version text NOT NULL, segment text NOT NULL,
        window_size text NOT NULL, window_start timestamptz NOT NULL, data bytea NOT NULL,
        PRIMARY KEY (model_id, window_size, window_start, version, segment))""",
    """CREATE TABLE detector_events (
        event_id bigserial PRIMARY KEY, model_id integer NOT NULL, version text NOT NULL,
        detector text NOT NULL, kind text NOT NULL, event_time timestamptz NOT NULL,
        prediction_id text, position int8 NOT NULL, details text NOT NULL,
        created_at timestamptz NOT NULL)""",
    "CREATE INDEX detector_events_by_time ON detector_events (model_id, event_time)",
    """CREATE TABLE detector_state (
        model_id integer NOT NULL, version text NOT NULL, detector text NOT NULL,
        state bytea NOT NULL, processed int8 NOT NULL, cursor_time timestamptz,
        cursor_id text, updated_at timestamptz NOT NULL,
        PRIMARY KEY (model_id, version, detector))""",
    """CREATE TABLE reports (
        report_id text PRIMARY KEY, model_id integer NOT NULL, created_at timestamptz NOT NULL,
        kind text NOT NULL, window_size text, window_start timestamptz,
        window_end timestamptz, status text NOT NULL, body text NOT NULL)""",
    "CREATE INDEX reports_by_model ON reports (model_id, created_at)",
    """CREATE TABLE model_status (
        model_id integer PRIMARY KEY, status text NOT NULL, reasons text NOT NULL,
        report_id text, updated_at timestamptz NOT NULL)""",
    """CREATE TABLE reference_summaries (
        model_id integer NOT NULL, revision integer NOT NULL, source text NOT NULL,
        created_at timestamptz NOT NULL, n_rows int8 NOT NULL, summary bytea NOT NULL,
        PRIMARY KEY (model_id, revision))""",
    """CREATE TABLE evaluation_state (
        model_id integer PRIMARY KEY, predictions_seen timestamptz, actuals_seen timestamptz,
        pending text NOT NULL, updated_at timestamptz NOT NULL)""",
    """CREATE TABLE window_verdicts (
        model_id integer NOT NULL, window_size text NOT NULL,
        window_start timestamptz NOT NULL, window_end timestamptz NOT NULL,
        complete boolean NOT NULL, n int8 NOT NULL, status text NOT NULL,
        reasons text NOT NULL, judged_at timestamptz NOT NULL,
        PRIMARY KEY (model_id, window_size, window_start))""",
)

_ALERTS = (
    """CREATE TABLE alerts (
        alert_id text PRIMARY KEY, fingerprint text NOT NULL, rule text NOT NULL, model text,
        labels text NOT NULL, annotations text NOT NULL, state text NOT NULL,
        severity text NOT NULL, value float8, threshold float8,
        started_at timestamptz NOT NULL, fired_at timestamptz, resolved_at timestamptz,
        last_active_at timestamptz NOT NULL, last_evaluated_at timestamptz NOT NULL,
        evaluations integer NOT NULL, silenced boolean NOT NULL, acked_by text,
        acked_at timestamptz, ack_note text, backfilled boolean NOT NULL,
        keep_firing_since timestamptz)""",
    "CREATE INDEX alerts_by_fingerprint ON alerts (fingerprint, started_at)",
    "CREATE INDEX alerts_by_start ON alerts (started_at)",
    """CREATE TABLE alert_events (
        seq bigserial PRIMARY KEY, alert_id text NOT NULL, fingerprint text NOT NULL,
        occurred_at timestamptz NOT NULL, event text NOT NULL, state text NOT NULL,
        value float8, note text)""",
    "CREATE INDEX alert_events_by_alert ON alert_events (alert_id, occurred_at)",
    """CREATE TABLE silences (
        silence_id text PRIMARY KEY, matchers text NOT NULL, starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL, created_by text NOT NULL, comment text NOT NULL,
        created_at timestamptz NOT NULL, expired_at timestamptz)""",
    """CREATE TABLE alert_rules (
        name text PRIMARY KEY, spec text NOT NULL, created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL)""",
    """CREATE TABLE notifications (
        id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, receiver text NOT NULL,
        integration text NOT NULL, idx integer NOT NULL, kind text NOT NULL,
        group_key text NOT NULL, fingerprints text NOT NULL, payload text NOT NULL,
        state text NOT NULL, attempts integer NOT NULL, next_attempt_at timestamptz NOT NULL,
        last_error text, delivered_at timestamptz)""",
    "CREATE INDEX notifications_queued ON notifications (state, id)",
    """CREATE TABLE notification_log (
        receiver text NOT NULL, group_key text NOT NULL, sent_at timestamptz NOT NULL,
        firing text NOT NULL, PRIMARY KEY (receiver, group_key))""",
    """CREATE TABLE notification_escalations (
        alert_id text NOT NULL, route text NOT NULL, sent_at timestamptz NOT NULL,
        PRIMARY KEY (alert_id, route))""",
    """CREATE TABLE actions (
        action_id text PRIMARY KEY, idempotency_key text NOT NULL UNIQUE, action text NOT NULL,
        type text NOT NULL, model text, rule text, alert_id text, fingerprint text,
        trigger text NOT NULL, severity text, state text NOT NULL, dry_run boolean NOT NULL,
        created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
        started_at timestamptz, finished_at timestamptz, attempts integer NOT NULL,
        request text, response text, details text NOT NULL, error text, note text,
        related_id text, decided_by text, decided_at timestamptz, decision_note text)""",
)

# Several servers evaluate together: a lease per model says which server evaluates it now.
_LEASES = (
    """CREATE TABLE leases (
        name text PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL,
        taken_at timestamptz NOT NULL, generation int8 NOT NULL)""",
)

# API keys (their SHA-256 only) and the append-only audit log.
_ACCESS = (
    """CREATE TABLE api_keys (
        key_id text PRIMARY KEY, name text NOT NULL, role text NOT NULL,
        key_hash text NOT NULL UNIQUE, models jsonb, created_at timestamptz NOT NULL,
        created_by text NOT NULL, revoked_at timestamptz, revoked_by text)""",
    """CREATE TABLE audit_log (
        id bigserial PRIMARY KEY, "at" timestamptz NOT NULL, key_id text NOT NULL,
        key_name text NOT NULL, role text NOT NULL, client text NOT NULL, method text NOT NULL,
        path text NOT NULL, action text NOT NULL, status int4 NOT NULL, model text,
        target text, request_id text, details jsonb)""",
    "CREATE INDEX audit_log_at ON audit_log (\"at\")",
)

MIGRATIONS: list[Migration] = [
    Migration(1, "models, versions, events, columns, stamps, data tables", _CATALOG),
    Migration(2, "evaluation results: metric points, feature results, verdicts, detectors, "
                 "reports, status, references, evaluation state", _RESULTS),
    Migration(3, "alerts, silences, rules, notification outbox and log, actions", _ALERTS),
    Migration(4, "leases: which server evaluates which model", _LEASES),
    Migration(5, "API keys (hashed) and the audit log", _ACCESS),
]


def apply_migrations(con: psycopg.Connection[Any],
                     migrations: list[Migration] | None = None) -> list[int]:
    """Apply pending migrations (one server at a time); return the versions applied now."""
    migrations = MIGRATIONS if migrations is None else migrations
    applied: list[int] = []
    with con.transaction():
        con.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
        con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
                    " name text NOT NULL, applied_at timestamptz NOT NULL)")
        done = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
        unknown = sorted(done - {m.version for m in migrations})
        if unknown:
            raise StoreError(
                f"the database was written by a newer modelmon (schema migrations {unknown} are "
                "unknown to this version); upgrade modelmon to open it")
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version in done:
                continue
            with con.transaction():  # a savepoint: each migration whole or not at all
                for statement in migration.statements:
                    con.execute(statement)
                con.execute("INSERT INTO schema_migrations VALUES (%s, %s, now())",
                            [migration.version, migration.name])
            applied.append(migration.version)
    return applied

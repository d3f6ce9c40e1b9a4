"""The model registry of the PostgreSQL store: models and their revisions, physical columns,
per-model tables (predictions partitioned by event time), versions and model events.

Several servers share the registry: changes run under an advisory lock, and a server reads a
model it has not seen (or all of them, when listing) from the database rather than its cache.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from modelmon.config.models import FeatureType, ModelSpec
from modelmon.store._shared import schema_diff
from modelmon.store.base import ModelInfo
from modelmon.store.postgres._access import Connection, ModelEntry
from modelmon.store.postgres._sql import q

__all__ = ["CATALOG_LOCK", "PRED_BASE", "add_event", "create_partitions", "load_entries",
           "partition_bounds", "save_spec"]

#: Advisory-lock key of registry changes.
CATALOG_LOCK = 0x6D6D0002
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_SQL_TYPES = {FeatureType.NUMERIC: "float8", FeatureType.CATEGORICAL: "text",
              FeatureType.BOOLEAN: "boolean"}

PRED_BASE = [
    ("prediction_id", "text NOT NULL"),
    ("version", "text NOT NULL"),
    ("event_time", "timestamptz NOT NULL"),
    ("received_at", "timestamptz NOT NULL"),
    ("label", "text"),
    ("score", "float8"),
    ("probabilities", "float8[]"),
    ("value", "float8"),
    ("latency_seconds", "float8"),
    ("status", "text"),
    ("error", "text"),
]


def add_event(con: Connection, model_id: int, kind: str, at: datetime,
              details: dict[str, Any]) -> int:
    row = con.execute(
        "INSERT INTO model_events (model_id, kind, occurred_at, details) VALUES (%s, %s, %s, %s)"
        " RETURNING event_id", [model_id, kind, at, json.dumps(details, default=str)]).fetchone()
    assert row is not None
    return int(row[0])


def load_entries(con: Connection, name: str | None = None) -> dict[str, ModelEntry]:
    """Catalog entries of every model (or of ``name``) as the database has them."""
    cond, params = ("WHERE name = %s", [name]) if name is not None else ("", [])
    rows = con.execute("SELECT model_id, name, spec, revision, source, created_at, updated_at, "
                       f"partition_days FROM models {cond}", params).fetchall()
    out: dict[str, ModelEntry] = {}
    for model_id, model, spec, revision, source, created, updated, days in rows:
        info = ModelInfo(model, ModelSpec.model_validate_json(spec), revision, created, updated,
                         source)
        cols = con.execute("SELECT name, kind, column_name FROM model_columns "
                           "WHERE model_id = %s", [model_id]).fetchall()
        types = {f.name: f.type.value for f in info.spec.features}
        features = {n: c for n, k, c in cols if types.get(n) == k}
        segments = {n: c for n, k, c in cols if k == "segment" and n in info.spec.segments}
        versions = {r[0] for r in con.execute(
            "SELECT version FROM model_versions WHERE model_id = %s", [model_id]).fetchall()}
        out[model] = ModelEntry(model_id, info, features, segments, int(days), versions)
    return out


def save_spec(con: Connection, spec: ModelSpec, source: str, now: datetime,
              partition_days: int) -> None:
    """Create or update a model inside the caller's transaction (which holds ``CATALOG_LOCK``)."""
    spec_json = spec.model_dump_json()
    row = con.execute("SELECT model_id, spec, revision FROM models WHERE name = %s",
                      [spec.name]).fetchone()
    if row is None:
        got = con.execute(
            "INSERT INTO models (name, task, spec, revision, source, created_at, updated_at, "
            "partition_days) VALUES (%s, %s, %s, 1, %s, %s, %s, %s) RETURNING model_id",
            [spec.name, spec.task.value, spec_json, source, now, now, partition_days]).fetchone()
        assert got is not None
        model_id = int(got[0])
        con.execute("INSERT INTO model_revisions VALUES (%s, 1, %s, %s, %s)",
                    [model_id, spec_json, source, now])
        con.execute("INSERT INTO model_stamps (model_id) VALUES (%s)", [model_id])
        _create_tables(con, model_id)
        _add_columns(con, model_id, spec, now)
        add_event(con, model_id, "model_created", now,
                  {"revision": 1, "source": source, "schema": spec.schema_fingerprint()})
        return
    model_id, old_json, revision = int(row[0]), row[1], int(row[2])
    if old_json == spec_json:
        return
    old = ModelSpec.model_validate_json(old_json)
    revision += 1
    con.execute("UPDATE models SET spec = %s, task = %s, revision = %s, source = %s, "
                "updated_at = %s WHERE model_id = %s",
                [spec_json, spec.task.value, revision, source, now, model_id])
    con.execute("INSERT INTO model_revisions VALUES (%s, %s, %s, %s, %s)",
                [model_id, revision, spec_json, source, now])
    changed = sorted(k for k in type(spec).model_fields if getattr(old, k) != getattr(spec, k))
    add_event(con, model_id, "spec_updated", now,
              {"revision": revision, "source": source, "changed": changed})
    diff = schema_diff(old, spec)
    if diff:
        add_event(con, model_id, "schema_change", now, {"revision": revision, **diff})
    _add_columns(con, model_id, spec, now)


def _create_tables(con: Connection, model_id: int) -> None:
    cols = ", ".join(f"{q(n)} {t}" for n, t in PRED_BASE)
    con.execute(f"CREATE TABLE pred_{model_id} ({cols}) PARTITION BY RANGE (event_time)")
    con.execute(f"CREATE INDEX ON pred_{model_id} (event_time, prediction_id)")
    con.execute(f"CREATE INDEX ON pred_{model_id} (received_at)")
    # Idempotency: one row per stored prediction id (a partitioned table cannot hold a unique
    # key without its partition column).
    con.execute(f"CREATE TABLE pid_{model_id} (prediction_id text PRIMARY KEY, "
                "event_time timestamptz NOT NULL)")
    con.execute(f"CREATE INDEX ON pid_{model_id} (event_time)")
    con.execute(f"CREATE TABLE act_{model_id} (seq bigserial PRIMARY KEY, "
                "prediction_id text NOT NULL, label text, value float8, "
                "event_time timestamptz NOT NULL, received_at timestamptz NOT NULL)")
    con.execute(f"CREATE INDEX ON act_{model_id} (prediction_id, seq)")
    con.execute(f"CREATE INDEX ON act_{model_id} (received_at)")


def _add_columns(con: Connection, model_id: int, spec: ModelSpec, now: datetime) -> None:
    mapped = {(n, k) for n, k in con.execute(
        "SELECT name, kind FROM model_columns WHERE model_id = %s", [model_id]).fetchall()}
    count = len(mapped)
    wanted = [(s, "segment", "text") for s in spec.segments]
    wanted += [(f.name, f.type.value, _SQL_TYPES[f.type]) for f in spec.features]
    adds: list[str] = []
    for name, kind, sql_type in wanted:
        if (name, kind) in mapped:
            continue
        column = f"{'s' if kind == 'segment' else 'f'}{count}"
        count += 1
        adds.append(f"ADD COLUMN {q(column)} {sql_type}")
        con.execute("INSERT INTO model_columns VALUES (%s, %s, %s, %s, %s)",
                    [model_id, name, kind, column, now])
    if adds:  # one statement for every column (a model may have thousands of features)
        con.execute(f"ALTER TABLE pred_{model_id} {', '.join(adds)}")


def partition_bounds(number: int, days: int) -> tuple[datetime, datetime]:
    """Event-time range ``[start, end)`` of partition ``number`` of width ``days``."""
    width = timedelta(days=days)
    return _EPOCH + number * width, _EPOCH + (number + 1) * width


def create_partitions(con: Connection, entry: ModelEntry, numbers: set[int]) -> None:
    """Create the prediction partitions ``numbers`` that do not exist yet (the caller's
    transaction holds the model's partition lock)."""
    for number in sorted(numbers):
        start, end = partition_bounds(number, entry.partition_days)
        con.execute(f"CREATE TABLE IF NOT EXISTS {entry.pred_table}_{number} PARTITION OF "
                    f"{entry.pred_table} FOR VALUES FROM (%s) TO (%s)".replace("%s", "'{}'")
                    .format(start.isoformat(), end.isoformat()))


def existing_partitions(con: Connection, entry: ModelEntry) -> set[int]:
    """Numbers of the model's prediction partitions."""
    rows = con.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = "
                       "i.inhrelid WHERE i.inhparent = %s::regclass",
                       [entry.pred_table]).fetchall()
    prefix = entry.pred_table + "_"
    return {int(r[0][len(prefix):]) for r in rows if r[0].startswith(prefix)}

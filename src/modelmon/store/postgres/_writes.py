"""Ingest into PostgreSQL: one transaction per group of batches, all or nothing, committed
(and so durable: ``synchronous_commit`` is on by default) before the call returns.

Order inside a transaction: prediction rows are first copied into a staging table (no lock
held: servers writing the same model overlap in this, the larger part); then the stamp rows of
the models written are locked (in model order, so concurrent writers never deadlock),
idempotency keys are claimed, and rows go in. Holding a model's stamp row until commit makes ``received_at`` stamps follow commit order
across servers, so evaluation never misses a row committed late with an old stamp.

Prediction ids are claimed in ``pid_<id>`` (its primary key): ``ON CONFLICT DO NOTHING``
returns the new ids, and only those rows enter the partitioned ``pred_<id>``. A concurrent
writer of the same id waits for the first to commit and then finds it taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.exceptions import SchemaError
from modelmon.store._shared import SIMPLE_TABLES, STAMPED, first_occurrence_mask
from modelmon.store.base import FEATURE_PREFIX, SEGMENT_PREFIX, BatchKind, WriteBatch, WriteResult
from modelmon.store.postgres._access import Connection, ModelEntry
from modelmon.store.postgres._catalog import PRED_BASE, add_event
from modelmon.store.postgres._sql import copy_into_temp, q, unnest_select

__all__ = ["partition_numbers", "write_batches"]

_PRED_NAMES = frozenset(n for n, _ in PRED_BASE)
_DAY_US = 86_400_000_000


def partition_numbers(table: pa.Table, days: int) -> set[int]:
    """Partition numbers the event times of ``table`` fall in."""
    if table.num_rows == 0:
        return set()
    us = pc.cast(table.column("event_time").cast(pa.timestamp("us", tz="UTC")), pa.int64())
    numbers = np.floor_divide(us.to_numpy(), days * _DAY_US)
    return {int(n) for n in np.unique(numbers)}


def _stamp(con: Connection, entry: ModelEntry, kind: BatchKind, now: datetime) -> datetime:
    column = {BatchKind.PREDICTIONS: "predictions_at", BatchKind.ACTUALS: "actuals_at"}.get(kind)
    extra = f", {column} = greatest(coalesce({column}, s.stamp), s.stamp)" if column else ""
    row = con.execute(
        "WITH s AS (SELECT greatest(%s::timestamptz, coalesce(last_stamp, %s::timestamptz) + "
        "interval '1 microsecond') AS stamp FROM model_stamps WHERE model_id = %s) "
        f"UPDATE model_stamps m SET last_stamp = s.stamp{extra} FROM s WHERE m.model_id = %s "
        "RETURNING m.last_stamp",
        [now, now - timedelta(seconds=1), entry.model_id, entry.model_id]).fetchone()
    assert row is not None
    return row[0]


def _with_stamp(table: pa.Table, stamp: datetime) -> pa.Table:
    column = pa.array([stamp] * table.num_rows, pa.timestamp("us", tz="UTC"))
    idx = table.schema.get_field_index("received_at")
    if idx < 0:
        return table.append_column("received_at", column)
    return table.set_column(idx, "received_at", column)


def _seen_key(con: Connection, batch: WriteBatch, entry: ModelEntry,
              now: datetime) -> WriteResult | None:
    claimed = con.execute(
        "INSERT INTO ingest_batches (idempotency_key, model_id, kind, records, received_at, "
        "body_hash) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (idempotency_key) DO NOTHING "
        "RETURNING 1", [batch.idempotency_key, entry.model_id, batch.kind.value,
                        batch.num_rows, now, batch.fingerprint]).fetchone()
    if claimed is not None:
        return None
    row = con.execute("SELECT body_hash FROM ingest_batches WHERE idempotency_key = %s",
                      [batch.idempotency_key]).fetchone()
    stored = row[0] if row else None
    conflict = stored is not None and batch.fingerprint is not None and stored != batch.fingerprint
    return WriteResult(batch.kind, batch.model, 0, replayed=not conflict, conflict=conflict)


def _column_map(entry: ModelEntry, table: pa.Table) -> list[tuple[str, str]]:
    mapping = []
    for name in table.column_names:
        if name.startswith(FEATURE_PREFIX):
            physical = entry.feature_columns.get(name[len(FEATURE_PREFIX):])
            code = "unknown_feature"
        elif name.startswith(SEGMENT_PREFIX):
            physical = entry.segment_columns.get(name[len(SEGMENT_PREFIX):])
            code = "unknown_segment"
        else:
            physical, code = (name if name in _PRED_NAMES else None), "unknown_field"
        if physical is None:
            raise SchemaError(f"column {name!r} does not belong to model {entry.info.name!r} "
                              "(its spec changed while the request was in flight?)",
                              code=code, loc=(name,))
        mapping.append((name, physical))
    return mapping


def _insert(con: Connection, target: str, table: pa.Table,
            mapping: list[tuple[str, str]]) -> None:
    select, params = unnest_select(table, [logical for logical, _ in mapping])
    cols = ", ".join(q(p) for _, p in mapping)
    con.execute(f"INSERT INTO {target} ({cols}) {select}", params)


@dataclass
class _Staged:
    """A model's prediction batches copied into a temporary table (column ``_row``: the row's
    position in ``table``, all the batches one after the other)."""

    name: str
    table: pa.Table
    mapping: list[tuple[str, str]]
    spans: dict[int, tuple[int, int]]  # batch index -> (first row, rows)


def _stage(con: Connection, entry: ModelEntry, idxs: list[int],
           batches: Sequence[WriteBatch]) -> _Staged:
    """Copy the prediction batches ``idxs`` of one model into a staging table: before any
    lock is taken, so servers writing the same model overlap in this (the larger) part."""
    tables = [batches[i].table for i in idxs]
    merged = tables[0] if len(tables) == 1 else pa.concat_tables(tables,
                                                                 promote_options="default")
    if "received_at" in merged.column_names:  # the store stamps it, in the final insert
        merged = merged.drop_columns(["received_at"])
    spans, offset = {}, 0
    for i, t in zip(idxs, tables, strict=True):
        spans[i] = (offset, t.num_rows)
        offset += t.num_rows
    mapping = _column_map(entry, merged)
    name = f"_stage_{entry.model_id}"
    with con.cursor() as cur:
        copy_into_temp(cur, name, entry.pred_table, merged.append_column(
            "_row", pa.array(np.arange(merged.num_rows, dtype=np.int64))),
            [*mapping, ("_row", "_row")])
    return _Staged(name, merged, mapping, spans)


def _write_predictions(con: Connection, entry: ModelEntry, staged: _Staged, idxs: list[int],
                       stamp: datetime, now: datetime) -> tuple[pa.Table, np.ndarray]:
    """Move the staged rows of batches ``idxs`` whose id is new into the partitions; those
    batches' rows and the mask of rows kept."""
    positions = np.concatenate([np.arange(staged.spans[i][0], sum(staged.spans[i]))
                                for i in idxs]) if idxs else np.empty(0, np.int64)
    table = staged.table.take(pa.array(positions))
    ids = table.column("prediction_id")
    n = table.num_rows
    if pc.count_distinct(ids).as_py() == n:
        first = np.ones(n, dtype=bool)
    else:
        first = first_occurrence_mask(ids.to_pylist())
    physical = ", ".join(q(p) for _, p in staged.mapping)
    values = ", ".join(f"s.{q(p)}" for _, p in staged.mapping)
    wanted = positions[first]
    if len(wanted) == staged.table.num_rows:  # the usual case: every staged row
        source, params = f"{staged.name} s", []
    else:  # a join, not "_row = ANY(array)": that compares each row with every element
        source = f"{staged.name} s JOIN unnest(%s::int8[]) AS k(_row) USING (_row)"
        params = [wanted.tolist()]
    fresh = {r[0] for r in con.execute(
        f"WITH picked AS MATERIALIZED (SELECT s.* FROM {source}), "
        f"fresh AS (INSERT INTO {entry.pid_table} (prediction_id, event_time) "
        "SELECT prediction_id, event_time FROM picked "
        "ON CONFLICT (prediction_id) DO NOTHING RETURNING prediction_id) "
        f"INSERT INTO {entry.pred_table} ({physical}, received_at) "
        f"SELECT {values}, %s FROM picked s JOIN fresh USING (prediction_id) "
        "RETURNING prediction_id", [*params, stamp]).fetchall()}
    keep = first & np.asarray(pc.is_in(ids, value_set=pa.array(list(fresh), pa.string()))
                              .to_numpy(zero_copy_only=False), dtype=bool)
    if keep.any():
        versions = set(pc.unique(table.filter(pa.array(keep)).column("version")).to_pylist())
        for version in sorted(versions - entry.known_versions):
            added = con.execute("INSERT INTO model_versions VALUES (%s, %s, %s, '{}', 'active') "
                                "ON CONFLICT DO NOTHING RETURNING version",
                                [entry.model_id, version, now]).fetchone()
            if added is not None:
                add_event(con, entry.model_id, "version_registered", now,
                          {"version": version, "stage": "active", "source": "ingest"})
    return table, keep


def write_batches(con: Connection, batches: Sequence[WriteBatch],
                  entries: Sequence[ModelEntry], now: datetime) -> list[WriteResult]:
    """Apply ``batches`` inside the caller's transaction."""
    by_model = {b.model: e for b, e in zip(batches, entries, strict=True)}
    staged: dict[str, _Staged] = {}
    every: dict[str, list[int]] = {}
    for i, batch in enumerate(batches):
        if batch.kind is BatchKind.PREDICTIONS:
            every.setdefault(batch.model, []).append(i)
    for model, idxs in every.items():
        staged[model] = _stage(con, by_model[model], idxs, batches)
    ids = sorted({e.model_id for e in entries})
    con.execute("SELECT model_id FROM model_stamps WHERE model_id = ANY(%s) ORDER BY model_id "
                "FOR UPDATE", [ids])
    results: list[WriteResult | None] = [None] * len(batches)
    groups: dict[tuple[BatchKind, str], list[int]] = {}
    for i, (batch, entry) in enumerate(zip(batches, entries, strict=True)):
        if batch.idempotency_key is not None:
            results[i] = _seen_key(con, batch, entry, now)
            if results[i] is not None:
                continue
        groups.setdefault((batch.kind, batch.model), []).append(i)
    for (kind, model), idxs in groups.items():
        entry = by_model[model]
        sizes = [batches[i].num_rows for i in idxs]
        if kind is BatchKind.PREDICTIONS:
            stamp = _stamp(con, entry, kind, now) if sum(sizes) else now
            merged, keep = _write_predictions(con, entry, staged[model], idxs, stamp, now)
            all_ids = merged.column("prediction_id")
            offset = 0
            for i, size in zip(idxs, sizes, strict=True):
                kept = int(keep[offset:offset + size].sum())
                dup_ids: tuple[str, ...] = ()
                if kept < size:
                    dups = np.flatnonzero(~keep[offset:offset + size])[:100] + offset
                    dup_ids = tuple(all_ids.take(pa.array(dups)).to_pylist())
                results[i] = WriteResult(kind, model, kept, size - kept, duplicate_ids=dup_ids)
                offset += size
            continue
        tables = [batches[i].table for i in idxs]
        merged = tables[0] if len(tables) == 1 else pa.concat_tables(
            tables, promote_options="default")
        if kind in STAMPED and merged.num_rows:
            merged = _with_stamp(merged, _stamp(con, entry, kind, now))
        if merged.num_rows:
            if kind is BatchKind.ACTUALS:
                _insert(con, entry.act_table, merged, [(c, c) for c in merged.column_names])
            else:
                merged = merged.append_column(
                    "model_id", pa.array(np.full(merged.num_rows, entry.model_id, np.int64)))
                _insert(con, SIMPLE_TABLES[kind], merged,
                        [(c, c) for c in merged.column_names])
        for i, size in zip(idxs, sizes, strict=True):
            results[i] = WriteResult(kind, model, size)
    for stage in staged.values():
        con.execute(f"DROP TABLE {stage.name}")
    return [r for r in results if r is not None]


def deletion_details(start: datetime | None, end: datetime | None, version: str | None,
                     prediction_ids: Sequence[str] | None) -> dict[str, object]:
    return {"start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None, "version": version,
            "prediction_ids": list(prediction_ids[:100]) if prediction_ids is not None else None,
            "prediction_id_count": len(prediction_ids) if prediction_ids is not None else None}



"""Reads of predictions, actuals and the other kinds from PostgreSQL as Arrow tables with the
logical column names of :mod:`modelmon.store.base`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from modelmon.config.models import FeatureType
from modelmon.exceptions import NotFoundError
from modelmon.store._shared import SIMPLE_TABLES, TIME_COLUMN
from modelmon.store.base import (
    ACTUAL_COLUMNS,
    FEATURE_IMPORTANCE_COLUMNS,
    FEATURE_PREFIX,
    METRIC_EVENT_COLUMNS,
    PREDICTION_COLUMNS,
    SEGMENT_PREFIX,
    TRAINING_RUN_COLUMNS,
    BatchKind,
)
from modelmon.store.postgres._access import ModelEntry
from modelmon.store.postgres._catalog import PRED_BASE
from modelmon.store.postgres._sql import q

__all__ = ["prediction_query", "table_query", "time_filter"]

_TS = pa.timestamp("us", tz="UTC")
_ARROW = {FeatureType.NUMERIC: pa.float64(), FeatureType.CATEGORICAL: pa.string(),
          FeatureType.BOOLEAN: pa.bool_()}
_BASE_TYPES = {**PREDICTION_COLUMNS, "received_at": _TS}
_ACTUAL_TYPES = {"actual_label": pa.string(), "actual_value": pa.float64(), "actual_time": _TS}
_KIND_COLUMNS = {
    BatchKind.METRIC_EVENTS: {**METRIC_EVENT_COLUMNS, "received_at": _TS},
    BatchKind.FEATURE_IMPORTANCE: FEATURE_IMPORTANCE_COLUMNS,
    BatchKind.TRAINING_RUNS: TRAINING_RUN_COLUMNS,
    BatchKind.ACTUALS: {**ACTUAL_COLUMNS, "received_at": _TS},
}


def time_filter(column: str, start: datetime | None, end: datetime | None,
                alias: str = "") -> tuple[list[str], list[Any]]:
    conds: list[str] = []
    params: list[Any] = []
    if start is not None:
        conds.append(f"{alias}{column} >= %s")
        params.append(start)
    if end is not None:
        conds.append(f"{alias}{column} < %s")
        params.append(end)
    return conds, params


def _select_list(entry: ModelEntry, columns: Sequence[str] | None
                 ) -> tuple[list[str], dict[str, pa.DataType]]:
    base = [n for n, _ in PRED_BASE]
    spec_types = {f.name: _ARROW[f.type] for f in entry.info.spec.features}
    features = {f"{FEATURE_PREFIX}{f}": c for f, c in entry.feature_columns.items()}
    segments = {f"{SEGMENT_PREFIX}{s}": c for s, c in entry.segment_columns.items()}
    wanted = list(columns) if columns is not None else [*base, *segments, *features]
    out: list[str] = []
    schema: dict[str, pa.DataType] = {}
    for name in wanted:
        if name in base:
            out.append(f"p.{q(name)}")
            schema[name] = _BASE_TYPES[name]
        elif name in features:
            out.append(f"p.{q(features[name])} AS {q(name)}")
            schema[name] = spec_types[name[len(FEATURE_PREFIX):]]
        elif name in segments:
            out.append(f"p.{q(segments[name])} AS {q(name)}")
            schema[name] = pa.string()
        elif name in _ACTUAL_TYPES:
            continue
        else:
            raise NotFoundError(f"model {entry.info.name!r} has no column {name!r}",
                                loc=("columns",))
    return out, schema


def prediction_query(
    entry: ModelEntry, *, start: datetime | None, end: datetime | None,
    columns: Sequence[str] | None, version: str | None, with_actuals: bool,
    limit: int | None, ordered: bool, first: tuple[datetime, str] | None,
    last: tuple[datetime, str] | None, prediction_id: str | None = None,
) -> tuple[str, list[Any], dict[str, pa.DataType]]:
    """SQL, parameters and result schema of a prediction read."""
    select, schema = _select_list(entry, columns)
    conds, params = time_filter("event_time", start, end, "p.")
    if version is not None:
        conds.append("p.version = %s")
        params.append(version)
    if prediction_id is not None:
        conds.append("p.prediction_id = %s")
        params.append(prediction_id)
    if first is not None:
        conds.append("(p.event_time, p.prediction_id) >= (%s, %s)")
        params.extend(first)
    if last is not None:
        conds.append("(p.event_time, p.prediction_id) <= (%s, %s)")
        params.extend(last)
    sql = f"SELECT {', '.join(select)}"
    if with_actuals:
        # The latest actual per id (ground truth can be corrected).
        sql += (", a.label AS actual_label, a.value AS actual_value, a.event_time AS actual_time"
                f" FROM {entry.pred_table} p LEFT JOIN LATERAL (SELECT label, value, event_time "
                f"FROM {entry.act_table} x WHERE x.prediction_id = p.prediction_id "
                "ORDER BY x.seq DESC LIMIT 1) a ON true")
        schema.update(_ACTUAL_TYPES)
    else:
        sql += f" FROM {entry.pred_table} p"
    if conds:
        sql += " WHERE " + " AND ".join(conds)
    if ordered:
        sql += " ORDER BY p.event_time, p.prediction_id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, params, schema


def table_query(entry: ModelEntry, kind: BatchKind, start: datetime | None,
                end: datetime | None, limit: int | None
                ) -> tuple[str, list[Any], dict[str, pa.DataType]]:
    """SQL, parameters and schema of a read of a non-prediction kind."""
    schema = _KIND_COLUMNS[kind]
    cols = ", ".join(q(c) for c in schema)
    conds, params = time_filter(TIME_COLUMN[kind], start, end)
    if kind is BatchKind.ACTUALS:
        sql = f"SELECT {cols} FROM {entry.act_table}"
        order = "seq"
    else:
        sql = f"SELECT {cols} FROM {SIMPLE_TABLES[kind]}"
        conds.append("model_id = %s")
        params.append(entry.model_id)
        order = TIME_COLUMN[kind]
    if conds:
        sql += " WHERE " + " AND ".join(conds)
    sql += f" ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, params, schema

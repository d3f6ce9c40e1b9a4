"""Actuals (ground truth): what really happened, joined to predictions by prediction id.

A record: ``{"prediction_id": "...", "actual": <label or number>, "timestamp": ...}`` (plus
``model`` when the request does not name it). Actuals may arrive before their prediction; a later
actual for the same id replaces the earlier one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from modelmon.config.models import ModelSpec, Task
from modelmon.ingest._values import (
    Now,
    Problems,
    check_ids,
    numeric_column,
    text_column,
    timestamp_column,
)

__all__ = ["ACTUAL_FIELDS", "actuals_from_records", "actuals_from_table"]

ACTUAL_FIELDS = frozenset({"model", "prediction_id", "actual", "timestamp"})


def actuals_from_records(
    spec: ModelSpec,
    records: Sequence[Any],
    *,
    now: Now,
    prefix: tuple[str | int, ...] = ("records",),
    single: bool = False,
    max_errors: int = 50,
) -> pa.Table:
    """Validate actual records; return the store's logical Arrow table."""
    problems = Problems(max_errors)

    def loc(path: str):  # type: ignore[no-untyped-def]
        return lambda i: (*prefix, path) if single else (*prefix, i, path)

    for i, rec in enumerate(records):
        where = prefix if single else (*prefix, i)
        if type(rec) is not dict:
            problems.add("invalid_type", "an actual record must be an object", where)
            continue
        for key in sorted(rec.keys() - ACTUAL_FIELDS):
            problems.add("unknown_field", f"unknown field {key!r} in an actual record (known: "
                         f"{', '.join(sorted(ACTUAL_FIELDS))})", (*where, key))
        if rec.get("model") not in (None, spec.name):
            problems.add("invalid_value", f"record is for model {rec['model']!r} but the request is "
                         f"for {spec.name!r}", (*where, "model"))
    columns = {
        name: [r.get(name) if type(r) is dict else None for r in records]
        for name in ("prediction_id", "actual", "timestamp")
    }
    return _convert(spec, columns, len(records), problems, now, loc)


def actuals_from_table(spec: ModelSpec, table: pa.Table, *, now: Now, max_errors: int = 50) -> pa.Table:
    """Validate a bulk table of actuals (columns ``prediction_id``, ``actual``, ``timestamp``)."""
    problems = Problems(max_errors)
    names = set(table.column_names)
    for key in sorted(names - ACTUAL_FIELDS):
        problems.add("unknown_field", f"unknown column {key!r} in actuals", ("columns", key))
    columns = {
        name: table.column(name) if name in names else [None] * table.num_rows
        for name in ("prediction_id", "actual", "timestamp")
    }

    def loc(path: str):  # type: ignore[no-untyped-def]
        return lambda i: ("rows", i, path)

    return _convert(spec, columns, table.num_rows, problems, now, loc)


def _convert(spec: ModelSpec, columns: dict[str, Any], n: int, problems: Problems, now: Now, loc: Any) -> pa.Table:
    ids = text_column(columns["prediction_id"], loc("prediction_id"), problems, what="prediction_id",
                      code="invalid_type", nullable=False, max_length=256, null_code="missing_field")
    check_ids(ids, loc("prediction_id"), problems, what="prediction_id")
    if spec.task is Task.REGRESSION:
        value = numeric_column(columns["actual"], loc("actual"), problems, what="actual",
                               code="invalid_type", nullable=False, nan_is_null=False,
                               null_code="missing_field")
        label = pa.nulls(n, pa.string())
    else:
        label = text_column(columns["actual"], loc("actual"), problems, what="actual",
                            code="invalid_type", nullable=False, max_length=256,
                            null_code="missing_field")
        classes = spec.prediction.classes
        if classes:
            valid = np.asarray([x is None or x in classes for x in label.to_pylist()], dtype=bool)
            for i in np.flatnonzero(~valid)[: problems.limit]:
                problems.add("invalid_value", f"actual class {label[int(i)].as_py()!r} is not one of "
                             f"the model's classes {classes}", loc("actual")(int(i)))
        value = pa.nulls(n, pa.float64())
    times = timestamp_column(columns["timestamp"], loc("timestamp"), problems, what="timestamp", now=now)
    problems.raise_if_any()
    return pa.table({"prediction_id": ids, "label": label, "value": value, "event_time": times})

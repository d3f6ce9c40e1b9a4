"""What both backends share: which kinds the store stamps, where the simple kinds live, the
time column of each kind, first-write-wins inside a batch, a schema change's description and
result tables conformed to their documented columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from modelmon.config.models import ModelSpec
from modelmon.store.base import BatchKind

__all__ = [
    "SIMPLE_TABLES",
    "STAMPED",
    "TIME_COLUMN",
    "conform",
    "first_occurrence_mask",
    "schema_diff",
    "with_model_column",
]

#: Kinds whose ``received_at`` the store sets at commit.
STAMPED = frozenset({BatchKind.PREDICTIONS, BatchKind.ACTUALS, BatchKind.METRIC_EVENTS})

SIMPLE_TABLES = {
    BatchKind.METRIC_EVENTS: "metric_events",
    BatchKind.FEATURE_IMPORTANCE: "feature_importance",
    BatchKind.TRAINING_RUNS: "training_runs",
}

TIME_COLUMN = {
    BatchKind.METRIC_EVENTS: "event_time",
    BatchKind.FEATURE_IMPORTANCE: "snapshot_time",
    BatchKind.TRAINING_RUNS: "started_at",
    BatchKind.ACTUALS: "event_time",
    BatchKind.PREDICTIONS: "event_time",
}


def conform(table: pa.Table, columns: dict[str, pa.DataType]) -> pa.Table:
    """Select and cast ``table`` to the documented columns (missing columns become nulls)."""
    arrays = []
    for name, dtype in columns.items():
        if name in table.column_names:
            arrays.append(table.column(name).cast(dtype))
        else:
            arrays.append(pa.nulls(table.num_rows, dtype))
    return pa.table(arrays, names=list(columns))


def first_occurrence_mask(values: list[str]) -> np.ndarray:
    seen: set[str] = set()
    mask = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if v not in seen:
            seen.add(v)
            mask[i] = True
    return mask


def schema_diff(old: ModelSpec, new: ModelSpec) -> dict[str, Any]:
    before, after = old.schema_fingerprint(), new.schema_fingerprint()
    added = {k: v for k, v in after.items() if k not in before}
    removed = sorted(k for k in before if k not in after)
    retyped = {k: [before[k], after[k]] for k in after if k in before and before[k] != after[k]}
    seg_added = sorted(set(new.segments) - set(old.segments))
    seg_removed = sorted(set(old.segments) - set(new.segments))
    diff: dict[str, Any] = {}
    if added:
        diff["added"] = added
    if removed:
        diff["removed"] = removed
    if retyped:
        diff["type_changed"] = retyped
    if seg_added:
        diff["segments_added"] = seg_added
    if seg_removed:
        diff["segments_removed"] = seg_removed
    return diff


def with_model_column(table: pa.Table, ids: Mapping[int, str]) -> pa.Table:
    """A table with ``model_id`` and the metric point columns, as a ``model`` column (the
    names of ``ids``) before the documented metric point columns."""
    from modelmon.store.results import METRIC_POINT_COLUMNS

    names = pa.array([ids[int(i)] for i in table["model_id"].to_pylist()], pa.string())
    rest = conform(table.drop(["model_id"]), METRIC_POINT_COLUMNS)
    return rest.add_column(0, "model", names)

"""Custom and business metric events, feature-importance snapshots, training runs.

- Metric event: ``{"name": "revenue", "value": 12.5, "kind": "business", "version": "v3",
  "prediction_id": "...", "segment": "eu", "timestamp": ...}``; ``kind`` is ``custom``
  (default) or ``business`` (conversions, revenue: linked to predictions by id when given).
- Feature importance: ``{"version": "v3", "importances": {"age": 0.31, ...}, "method": "shap",
  "timestamp": ...}``; every feature must belong to the model.
- Training run or online-learning update: ``{"run_id": "...", "version": "v4", "kind":
  "training" | "online_update", "status": "success" | "failed" | "running", "started_at": ...,
  "finished_at": ..., "duration_seconds": 12.0, "samples": 50000, "details": {...}}``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from modelmon.config.models import ModelSpec
from modelmon.ingest._values import (
    Now,
    Problems,
    check_ids,
    numeric_column,
    text_column,
    timestamp_column,
)
from modelmon.ingest.predictions import new_prediction_id
from modelmon.store.base import (
    FEATURE_IMPORTANCE_COLUMNS,
    METRIC_EVENT_COLUMNS,
    TRAINING_RUN_COLUMNS,
)

__all__ = ["feature_importance_from_record", "metric_events_from_records", "training_run_from_record"]

_EVENT_FIELDS = frozenset({"model", "name", "value", "kind", "version", "prediction_id", "segment",
                           "timestamp"})
_EVENT_KINDS = frozenset({"custom", "business"})
_RUN_FIELDS = frozenset({"model", "run_id", "version", "kind", "status", "started_at", "finished_at",
                         "duration_seconds", "samples", "details"})
_RUN_KINDS = frozenset({"training", "online_update"})
_RUN_STATUSES = frozenset({"success", "failed", "running"})


def _check_fields(rec: Any, allowed: frozenset[str], where: tuple[str | int, ...], spec: ModelSpec,
                  problems: Problems, what: str) -> bool:
    if type(rec) is not dict:
        problems.add("invalid_type", f"{what} must be an object", where)
        return False
    for key in sorted(rec.keys() - allowed):
        problems.add("unknown_field", f"unknown field {key!r} in {what} (known: "
                     f"{', '.join(sorted(allowed))})", (*where, key))
    if rec.get("model") not in (None, spec.name):
        problems.add("invalid_value", f"record is for model {rec['model']!r} but the request is for "
                     f"{spec.name!r}", (*where, "model"))
    return True


def _text(rec: dict[str, Any], name: str, problems: Problems, *,
          max_length: int = 128) -> str | None:
    """An optional text field of a single record (None when absent or invalid)."""
    value = rec.get(name)
    if value is None:
        return None
    if type(value) is not str:
        problems.add("invalid_type", f"{name} must be a string; got {type(value).__name__}",
                     (name,))
        return None
    if not value or len(value) > max_length or "\x00" in value:
        problems.add("invalid_value", f"{name} must be 1-{max_length} characters, without NUL",
                     (name,))
        return None
    return value


def _choice(rec: dict[str, Any], name: str, allowed: frozenset[str], default: str,
            problems: Problems) -> str:
    value = rec.get(name, default)
    if type(value) is not str or value not in allowed:
        problems.add("invalid_value", f"{name} must be one of {sorted(allowed)}; got {value!r:.40}",
                     (name,))
        return default
    return value


def metric_events_from_records(
    spec: ModelSpec, records: Sequence[Any], *, now: Now,
    prefix: tuple[str | int, ...] = ("records",), single: bool = False,
) -> pa.Table:
    """Validate metric events; return the store's logical Arrow table."""
    problems = Problems()

    def loc(path: str):  # type: ignore[no-untyped-def]
        return lambda i: (*prefix, path) if single else (*prefix, i, path)

    for i, rec in enumerate(records):
        _check_fields(rec, _EVENT_FIELDS, prefix if single else (*prefix, i), spec, problems,
                      "a metric event")
    col = {k: [r.get(k) if type(r) is dict else None for r in records] for k in _EVENT_FIELDS}
    names = text_column(col["name"], loc("name"), problems, what="name", code="invalid_type",
                        nullable=False, max_length=128, null_code="missing_field")
    values = numeric_column(col["value"], loc("value"), problems, what="value", code="invalid_type",
                            nullable=False, nan_is_null=False, null_code="missing_field")
    kinds = text_column(col["kind"], loc("kind"), problems, what="kind", code="invalid_value")
    kinds = kinds.fill_null("custom") if kinds.null_count else kinds
    for i, k in enumerate(kinds.to_pylist()):
        if k not in _EVENT_KINDS:
            problems.add("invalid_value", f"kind must be 'custom' or 'business'; got {k!r}", loc("kind")(i))
    ids = text_column(col["prediction_id"], loc("prediction_id"), problems,
                      what="prediction_id", code="invalid_type", max_length=256)
    check_ids(ids, loc("prediction_id"), problems, what="prediction_id")
    table = pa.table({
        "name": names,
        "value": values,
        "kind": kinds,
        "version": text_column(col["version"], loc("version"), problems, what="version", code="invalid_type"),
        "prediction_id": ids,
        "segment": text_column(col["segment"], loc("segment"), problems, what="segment", code="invalid_type"),
        "event_time": timestamp_column(col["timestamp"], loc("timestamp"), problems, what="timestamp", now=now),
    })
    problems.raise_if_any()
    return table.cast(pa.schema(METRIC_EVENT_COLUMNS))


def feature_importance_from_record(spec: ModelSpec, rec: Any, *, now: Now) -> pa.Table:
    """Validate one importance snapshot; one output row per feature."""
    problems = Problems()
    imps: dict[str, Any] = {}
    version = method = None
    allowed = frozenset({"model", "version", "importances", "method", "timestamp"})
    if _check_fields(rec, allowed, (), spec, problems, "a feature-importance snapshot"):
        raw = rec.get("importances")
        if type(raw) is not dict or not raw:
            problems.add("missing_field", "importances must be a non-empty object {feature: value}",
                         ("importances",))
        else:
            imps = raw
        version = _text(rec, "version", problems)
        method = _text(rec, "method", problems)
        known = {f.name for f in spec.features}
        for name, value in imps.items():
            if name not in known:
                problems.add("unknown_feature", f"model {spec.name!r} has no feature {name!r}",
                             ("importances", name))
            if type(value) not in (int, float) or not math.isfinite(value):
                problems.add("invalid_value", "an importance must be a finite number",
                             ("importances", name))
    problems.raise_if_any()
    n = len(imps)
    snap = timestamp_column([rec.get("timestamp")], lambda i: ("timestamp",), problems,
                            what="timestamp", now=now)
    problems.raise_if_any()
    table = pa.table({
        "version": pa.array([version] * n, pa.string()),
        "feature": pa.array(list(imps), pa.string()),
        "importance": pa.array([float(v) for v in imps.values()], pa.float64()),
        "method": pa.array([method] * n, pa.string()),
        "snapshot_time": pa.array([snap[0].as_py()] * n, FEATURE_IMPORTANCE_COLUMNS["snapshot_time"]),
    })
    return table


def training_run_from_record(spec: ModelSpec, rec: Any, *, now: Now) -> pa.Table:
    """Validate one training run / online-learning update record."""
    problems = Problems()
    if not _check_fields(rec, _RUN_FIELDS, (), spec, problems, "a training run"):
        problems.raise_if_any()
    kind = _choice(rec, "kind", _RUN_KINDS, "training", problems)
    status = _choice(rec, "status", _RUN_STATUSES, "success", problems)
    version = _text(rec, "version", problems)
    one = lambda name: (lambda i: (name,))  # noqa: E731
    started = timestamp_column([rec.get("started_at")], one("started_at"), problems,
                               what="started_at", now=now)
    finished_raw = rec.get("finished_at")
    finished = (timestamp_column([finished_raw], one("finished_at"), problems, what="finished_at", now=now)
                if finished_raw is not None else pa.nulls(1, TRAINING_RUN_COLUMNS["finished_at"]))
    duration = numeric_column([rec.get("duration_seconds")], one("duration_seconds"), problems,
                              what="duration_seconds", code="invalid_type", nan_is_null=False, low=0.0)
    samples = rec.get("samples")
    if samples is not None and (type(samples) is not int or samples < 0):
        problems.add("invalid_value", "samples must be a non-negative integer", ("samples",))
    details = rec.get("details")
    if details is not None and type(details) is not dict:
        problems.add("invalid_type", "details must be an object", ("details",))
    run_id = _text(rec, "run_id", problems, max_length=256)
    problems.raise_if_any()
    if duration[0].as_py() is None and finished_raw is not None:
        secs = (finished[0].as_py() - started[0].as_py()).total_seconds()
        duration = pa.array([max(secs, 0.0)], pa.float64())
    return pa.table({
        "run_id": pa.array([run_id or new_prediction_id()], pa.string()),
        "version": pa.array([version], pa.string()),
        "kind": pa.array([kind], pa.string()),
        "status": pa.array([status], pa.string()),
        "started_at": started,
        "finished_at": finished.cast(TRAINING_RUN_COLUMNS["finished_at"]),
        "duration_seconds": duration,
        "samples": pa.array([samples], pa.int64()),
        "details": pa.array([json.dumps(details) if details is not None else None], pa.string()),
    })


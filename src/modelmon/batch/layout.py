"""What a batch job reads: Parquet prediction logs in the store's logical columns.

Predictions: ``prediction_id``, ``event_time`` (timestamp, UTC), optional ``version``,
``label``/``score``/``probabilities`` (classification) or ``value`` (regression), optional
``latency_seconds`` and ``status``, ``feature.<name>`` and ``segment.<name>`` columns (what
``store.read_predictions`` returns, so a store's rows export as they are). Actuals (optional, a
separate file or folder): ``prediction_id``, ``label`` or ``value``, ``event_time``; an id's
actual is its newest by event time (ties: the later row in the file).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from modelmon.config.models import FeatureType, ModelSpec, Task
from modelmon.exceptions import ValidationError
from modelmon.store.base import FEATURE_PREFIX, SEGMENT_PREFIX
from modelmon.windows import FixedWindows, WindowScheme, parse_window

__all__ = ["BatchInput", "check_batchable", "positive_index", "prepare_actuals",
           "prepare_predictions"]


@dataclass(frozen=True)
class BatchInput:
    """The files of one batch evaluation and its window."""

    predictions: str
    actuals: str | None
    window: str

    @property
    def scheme(self) -> FixedWindows:
        scheme: WindowScheme = parse_window(self.window)
        if not isinstance(scheme, FixedWindows):
            raise ValidationError(f"batch evaluation takes fixed windows such as '1h' or '1d'; "
                                  f"got {self.window!r}", code="invalid_parameter",
                                  loc=("window",))
        return scheme


def check_batchable(spec: ModelSpec) -> list[str]:
    """The model's classes (classification; empty for regression). A batch job needs them
    declared (``prediction.classes``): learning them per window from the data would give each
    engine's partitions their own order."""
    if spec.task is Task.REGRESSION:
        return []
    if not spec.prediction.classes:
        raise ValidationError(f"model {spec.name!r}: batch evaluation needs prediction.classes",
                              code="invalid_parameter", loc=("prediction", "classes"))
    return [str(c) for c in spec.prediction.classes]


def positive_index(spec: ModelSpec, classes: list[str]) -> int:
    pos = spec.positive_class
    return classes.index(pos) if pos in classes else len(classes) - 1




_OPTIONAL: dict[str, pa.DataType] = {
    "version": pa.string(), "status": pa.string(), "latency_seconds": pa.float64(),
    "label": pa.string(), "score": pa.float64(), "probabilities": pa.list_(pa.float64()),
    "value": pa.float64(),
}
_FEATURE_TYPES = {FeatureType.NUMERIC: pa.float64(), FeatureType.CATEGORICAL: pa.string(),
                  FeatureType.BOOLEAN: pa.bool_()}


def prepare_predictions(spec: ModelSpec, table: pa.Table) -> pa.Table:
    """The columns evaluation reads, those the file lacks as nulls (a missing feature column:
    every value missing); ``prediction_id`` and ``event_time`` are required."""
    for required in ("prediction_id", "event_time"):
        if required not in table.column_names:
            raise ValidationError(f"the predictions have no {required!r} column",
                                  code="missing_field", loc=(required,))
    wanted = {"prediction_id": pa.string(), "event_time": pa.timestamp("us", tz="UTC"),
              **_OPTIONAL}
    wanted.update({SEGMENT_PREFIX + s: pa.string() for s in spec.segments})
    wanted.update({FEATURE_PREFIX + f.name: _FEATURE_TYPES[f.type] for f in spec.features})
    extra = [c for c in table.column_names if c.startswith(("actual_", "_"))]
    columns = {}
    for name, dtype in wanted.items():
        if name in table.column_names:
            col = table.column(name)
            columns[name] = col if col.type == dtype else col.cast(dtype)
        else:
            columns[name] = pa.nulls(table.num_rows, dtype)
    actual_types = {"actual_label": pa.string(), "actual_value": pa.float64(),
                    "actual_time": pa.timestamp("us", tz="UTC")}
    for name in extra:
        col = table.column(name)
        dtype = actual_types.get(name)
        columns[name] = col.cast(dtype) if dtype is not None and col.type != dtype else col
    return pa.table(columns)


def prepare_actuals(spec: ModelSpec, table: pa.Table) -> pa.Table:
    """``prediction_id, actual_label | actual_value, actual_time``."""
    target = "value" if spec.task is Task.REGRESSION else "label"
    for required in ("prediction_id", target, "event_time"):
        if required not in table.column_names:
            raise ValidationError(f"the actuals have no {required!r} column",
                                  code="missing_field", loc=(required,))
    dtype = pa.float64() if target == "value" else pa.string()
    return pa.table({"prediction_id": table.column("prediction_id").cast(pa.string()),
                     f"actual_{target}": table.column(target).cast(dtype),
                     "actual_time": table.column("event_time").cast(
                         pa.timestamp("us", tz="UTC"))})

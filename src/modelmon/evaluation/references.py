"""The reference a model's windows are compared with, fitted once and stored.

Source, in order: the model's ``reference`` file (Parquet/CSV); else its baseline period of
stored predictions (``baseline: {start, end}`` or ``{first: 7d}``); else, by default, the first
``baseline_windows`` windows of the smallest window size after the first prediction. The summary
is refitted when the spec's revision changes. A reference file with a ``prediction`` (or, for
binary models, ``score``) column also gives output drift.
"""

from __future__ import annotations

import logging
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from modelmon.config.durations import parse_duration
from modelmon.config.inference import read_reference
from modelmon.config.models import ModelSpec, Task
from modelmon.drift import Reference
from modelmon.store.base import FEATURE_PREFIX
from modelmon.store.duckdb_store import DuckDBStore
from modelmon.vocabulary import OUTPUT_FEATURE as PREDICTION_FEATURE

__all__ = ["ReferenceManager", "baseline_period"]

log = logging.getLogger("modelmon.evaluation")


def _feature_types(spec: ModelSpec) -> dict[str, str]:
    return {f.name: ("numeric" if f.type.value == "numeric" else "categorical") for f in spec.features}


def _output_from_file(spec: ModelSpec, table: pa.Table) -> tuple[pa.Array | None, str | None]:
    names = set(table.column_names)
    if spec.task is Task.BINARY and "score" in names:
        return table.column("score").cast(pa.float64()), "numeric"
    if "prediction" in names:
        if spec.task is Task.REGRESSION:
            return table.column("prediction").cast(pa.float64()), "numeric"
        col = table.column("prediction")
        return pc.cast(col, pa.string()) if not pa.types.is_string(col.type) else col, "categorical"
    return None, None


def _as_category(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Booleans are compared as the categories "true"/"false", as in evaluation frames."""
    if pa.types.is_boolean(col.type):
        return pc.if_else(col, "true", "false")
    return col


def baseline_period(
    spec: ModelSpec, first_prediction: datetime | None, baseline_windows: int
) -> tuple[datetime, datetime] | None:
    """``(start, end)`` of the baseline period, or None when it cannot be known yet."""
    b = spec.baseline
    if b is not None and b.start and b.end:
        return datetime.fromisoformat(b.start.replace("Z", "+00:00")), datetime.fromisoformat(
            b.end.replace("Z", "+00:00"))
    if first_prediction is None:
        return None
    length = (parse_duration(b.first) if b is not None and b.first
              else min(spec.window_durations) * baseline_windows)
    return first_prediction, first_prediction + length


class ReferenceManager:
    """Fits, stores and caches each model's reference summary."""

    def __init__(self, store: DuckDBStore, *, baseline_windows: int = 12) -> None:
        self.store = store
        self.baseline_windows = baseline_windows
        self._cache: dict[str, tuple[int, Reference]] = {}

    def get(self, model: str, now: datetime) -> Reference | None:
        info = self.store.get_model(model)
        cached = self._cache.get(model)
        if cached is not None and cached[0] == info.revision:
            return cached[1]
        stored = self.store.get_reference(model)
        if stored is not None and stored[0] == info.revision:
            ref = Reference.from_bytes(stored[2])
            self._cache[model] = (info.revision, ref)
            return ref
        fitted, source, n = self._fit(info.spec, now)
        if fitted is None:
            return None
        ref = fitted
        self.store.save_reference(model, info.revision, source, n, ref.to_bytes())
        self._cache[model] = (info.revision, ref)
        log.info("fitted reference for %s from %s (%d rows)", model, source, n)
        return ref

    def _fit(self, spec: ModelSpec, now: datetime) -> tuple[Reference | None, str, int]:
        types = _feature_types(spec)
        if spec.reference is not None:
            table = read_reference(spec.reference.path, spec.reference.format)
            bools = {f.name for f in spec.features if f.type.value == "boolean"}
            cols = {name: _as_category(table.column(name)) if name in bools else table.column(name)
                    for name in types if name in table.column_names}
            output, out_type = _output_from_file(spec, table)
            if output is not None and out_type is not None:
                cols[PREDICTION_FEATURE] = output
                types = {**types, PREDICTION_FEATURE: out_type}
            data = pa.table(cols)
            return (Reference.fit(data, feature_types={k: types[k] for k in cols}),
                    f"file:{spec.reference.path}", data.num_rows)
        first = self._first_prediction(spec.name)
        period = baseline_period(spec, first, self.baseline_windows)
        if period is None or now < period[1]:
            return None, "", 0
        start, end = period
        columns = [FEATURE_PREFIX + f.name for f in spec.features]
        table = self.store.read_predictions(spec.name, start=start, end=end, columns=columns,
                                            with_actuals=False)
        if table.num_rows == 0:
            return None, "", 0
        bools = {f.name for f in spec.features if f.type.value == "boolean"}
        data = pa.table({
            name[len(FEATURE_PREFIX):]: (_as_category(table.column(name))
                                         if name[len(FEATURE_PREFIX):] in bools
                                         else table.column(name))
            for name in columns})
        source = f"baseline:{start.isoformat()}/{end.isoformat()}"
        return Reference.fit(data, feature_types=types), source, data.num_rows

    def _first_prediction(self, model: str) -> datetime | None:
        table = self.store.read_predictions(model, columns=["event_time"], with_actuals=False,
                                            limit=1)
        return table.column("event_time")[0].as_py() if table.num_rows else None

    def forget(self, model: str) -> None:
        self._cache.pop(model, None)



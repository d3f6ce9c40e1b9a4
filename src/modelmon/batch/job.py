"""``evaluate_batch``: aggregates of a batch of logs (either engine) into the store."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from modelmon.batch.layout import BatchInput, check_batchable, positive_index
from modelmon.config.models import ModelSpec
from modelmon.evaluation.aggregates import WindowAggregate
from modelmon.evaluation.presets import quality_metric_names
from modelmon.store.results import ALL, FEATURE_RESULT_COLUMNS, METRIC_POINT_COLUMNS, WindowResults

if TYPE_CHECKING:
    from modelmon.store.backend import Backend

__all__ = ["BatchSummary", "compute_aggregates", "evaluate_batch", "window_results"]

#: Decomposable quality metrics (the others are operational: counts, rates, latency).
_QUALITY = frozenset({
    "accuracy", "balanced_accuracy", "precision", "recall", "f1", "specificity",
    "false_positive_rate", "matthews_corrcoef", "positive_rate", "log_loss", "brier", "mae",
    "mse", "rmse", "r2", "mean_error", "mape", "smape"})


@dataclass(frozen=True)
class BatchSummary:
    model: str
    engine: str
    windows: int
    rows: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "engine": self.engine, "windows": self.windows,
                "rows": self.rows, "seconds": round(self.seconds, 3)}


def compute_aggregates(spec: ModelSpec, inp: BatchInput, engine: str, *,
                       master: str = "local[*]",
                       session: Any = None) -> dict[datetime, WindowAggregate]:
    """Each window's aggregate by ``engine`` (``embedded`` or ``spark``)."""
    check_batchable(spec)
    if engine == "spark":
        from modelmon.batch.spark import spark_aggregates

        return spark_aggregates(spec, inp, master=master, session=session)
    if engine == "embedded":
        from modelmon.batch.embedded import embedded_aggregates

        return embedded_aggregates(spec, inp)
    raise ValueError(f"unknown batch engine {engine!r}: 'embedded' or 'spark'")


def window_results(spec: ModelSpec, inp: BatchInput,
                   aggregates: dict[datetime, WindowAggregate]) -> list[WindowResults]:
    """What the service stores for a window from its aggregate: the decomposable metrics of
    all versions and segments, and the aggregate itself."""
    scheme = inp.scheme
    classes = check_batchable(spec)
    positive = positive_index(spec, classes) if classes else None
    seconds = scheme.size.total_seconds()
    # the quality metrics the service evaluates for this model (its list or its preset's)
    skip = _QUALITY - set(quality_metric_names(spec))
    out = []
    for start, agg in sorted(aggregates.items()):
        end = start + scheme.size
        rows = [{"version": ALL, "segment": ALL, "window_size": scheme.name,
                 "window_start": start, "window_end": end, "metric": str(metric),
                 "value": None if value is None or math.isnan(value) else float(value), "n": n}
                for metric, (value, n) in agg.metrics(seconds, positive).items()
                if metric not in skip]
        points = pa.Table.from_pylist(rows, schema=pa.schema(METRIC_POINT_COLUMNS))
        features = pa.schema(FEATURE_RESULT_COLUMNS).empty_table()
        out.append(WindowResults(scheme.name, start, end, points, features,
                                 {(ALL, ALL): agg.to_bytes()}))
    return out


def evaluate_batch(store: Backend, model: str, inp: BatchInput, *, engine: str = "embedded",
                   master: str = "local[*]", session: Any = None) -> BatchSummary:
    """Evaluate the logs of ``inp`` for ``model`` (registered in ``store``) and store each
    window's results, replacing what was stored for those windows."""
    t0 = time.perf_counter()
    spec = store.get_model(model).spec
    aggregates = compute_aggregates(spec, inp, engine, master=master, session=session)
    results = window_results(spec, inp, aggregates)
    for i in range(0, len(results), 500):
        store.replace_window_results(model, results[i:i + 500])
    return BatchSummary(model, engine, len(results), sum(a.n for a in aggregates.values()),
                        time.perf_counter() - t0)

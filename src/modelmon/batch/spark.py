"""The Spark engine: the same window aggregates computed by an Apache Spark job.

The job reads the Parquet logs, keeps each id's newest actual (a window function) and joins it
to its prediction, tags each row with its window, and hands the rows to modelmon's own
aggregate code on the executors (``mapInArrow``: Arrow batches in, one partial
:class:`~modelmon.evaluation.aggregates.WindowAggregate` per window and task out). The driver
merges the partials of each window (every field is a count, a sum or a sketch: merging is
what they are for). ``local[*]`` runs it in this process's machine; a cluster URL runs the same
job there (the executors need modelmon installed).

Aggregates equal the embedded engine's: counts, confusion matrices, sketches and category
counts exactly, sums up to floating-point summation order. One difference by construction: a
window whose scores are finite in some rows and not in others is judged per part (whether log
loss and Brier score can be computed), where the embedded engine judges the window whole.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from modelmon.batch.layout import BatchInput, prepare_predictions
from modelmon.config.models import ModelSpec, Task
from modelmon.evaluation.aggregates import WindowAggregate
from modelmon.evaluation.frame import EvalFrame

__all__ = ["spark_aggregates", "spark_session"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Spark reads a dot in a column name as a struct field: ``feature.x`` travels as
#: ``feature__dot__x`` and is named back on the executors.
_DOT = "__dot__"


def spark_session(master: str = "local[*]") -> Any:
    """A Spark session in UTC (the executors run this Python)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master(master).appName("modelmon-evaluate-batch")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.execution.arrow.maxRecordsPerBatch", "200000")
            .config("spark.driver.memory", os.environ.get("MODELMON_SPARK_DRIVER_MEMORY", "2g"))
            .getOrCreate())


def _partials(spec: ModelSpec, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Executor side: one partial aggregate per window of this task's rows."""
    parts: dict[int, WindowAggregate] = {}
    for batch in batches:
        if batch.num_rows == 0:
            continue
        table = pa.Table.from_batches([batch])
        table = table.rename_columns([c.replace(_DOT, ".") for c in table.column_names])
        starts = table.column("_window").to_numpy()
        rows = prepare_predictions(spec, table)
        for start in np.unique(starts):
            frame = EvalFrame.from_arrow(spec, rows.filter(pa.array(starts == start)))
            agg = WindowAggregate.from_frame(frame)
            key = int(start)
            parts[key] = parts[key].merge(agg) if key in parts else agg
    yield pa.RecordBatch.from_pydict(
        {"window_start": pa.array(list(parts), pa.int64()),
         "data": pa.array([a.to_bytes() for a in parts.values()], pa.binary())})


def spark_aggregates(spec: ModelSpec, inp: BatchInput, *, master: str = "local[*]",
                     session: Any = None) -> dict[datetime, WindowAggregate]:
    """Each window's aggregate, by window start, computed by Spark."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = session or spark_session(master)
    scheme = inp.scheme
    width = scheme.size // timedelta(microseconds=1)
    offset = scheme.offset // timedelta(microseconds=1)
    preds = spark.read.parquet(inp.predictions)
    preds = preds.toDF(*[c.replace(".", _DOT) for c in preds.columns])
    if inp.actuals is not None:
        target = "value" if spec.task is Task.REGRESSION else "label"
        kind = "double" if target == "value" else "string"
        acts = (spark.read.parquet(inp.actuals)
                .select(F.col("prediction_id").cast("string").alias("prediction_id"),
                        F.col(target).cast(kind).alias(f"actual_{target}"),
                        F.col("event_time").alias("actual_time"))
                .withColumn("_row", F.monotonically_increasing_id()))
        newest = Window.partitionBy("prediction_id").orderBy(F.col("actual_time").desc(),
                                                             F.col("_row").desc())
        acts = (acts.withColumn("_rank", F.row_number().over(newest))
                .where(F.col("_rank") == 1).drop("_rank", "_row"))
        preds = preds.join(acts, "prediction_id", "left")
    rel = F.unix_micros(F.col("event_time")) - F.lit(offset)
    preds = preds.withColumn("_window", rel - F.pmod(rel, F.lit(width)) + F.lit(offset))
    # Each task takes whole windows, in order: its Arrow batches hold one or two windows each,
    # so the aggregate code runs on large slices (a task per partition of the join left every
    # task a sliver of every window).
    parts = max(2, 2 * spark.sparkContext.defaultParallelism)
    preds = preds.repartition(parts, "_window").sortWithinPartitions("_window")

    def partials(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return _partials(spec, batches)

    rows = preds.mapInArrow(partials, "window_start long, data binary").collect()
    out: dict[int, WindowAggregate] = {}
    for row in rows:
        part = WindowAggregate.from_bytes(bytes(row["data"]))
        key = int(row["window_start"])
        out[key] = out[key].merge(part) if key in out else part
    return {_EPOCH + timedelta(microseconds=k): out[k] for k in sorted(out)}

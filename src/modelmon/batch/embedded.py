"""The embedded engine: a batch of Parquet logs evaluated in this process with PyArrow and
NumPy, window by window through :meth:`WindowAggregate.from_frame` (the service's own code)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from modelmon.batch.layout import BatchInput, prepare_actuals, prepare_predictions
from modelmon.config.models import ModelSpec
from modelmon.evaluation.aggregates import WindowAggregate
from modelmon.evaluation.frame import EvalFrame

__all__ = ["embedded_aggregates", "window_starts_us"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def window_starts_us(event_time: pa.ChunkedArray | pa.Array, width_us: int,
                     offset_us: int) -> np.ndarray:
    """Epoch microseconds of the start of each row's window."""
    us = pc.cast(event_time.cast(pa.timestamp("us", tz="UTC")), pa.int64()).to_numpy(
        zero_copy_only=False)
    return (us - offset_us) // width_us * width_us + offset_us


def latest_actuals(table: pa.Table) -> pa.Table:
    """Each id's newest actual by event time (ties: the later row)."""
    order = pc.sort_indices(pa.table({
        "id": table.column("prediction_id"), "t": table.column("actual_time"),
        "row": pa.array(np.arange(table.num_rows))}),
        sort_keys=[("id", "ascending"), ("t", "ascending"), ("row", "ascending")])
    ordered = table.take(order)
    ids = ordered.column("prediction_id").to_numpy(zero_copy_only=False)
    last = np.ones(len(ids), dtype=bool)
    if len(ids) > 1:
        last[:-1] = ids[1:] != ids[:-1]
    return ordered.filter(pa.array(last))


def embedded_aggregates(spec: ModelSpec, inp: BatchInput) -> dict[datetime, WindowAggregate]:
    """Each window's aggregate, by window start."""
    scheme = inp.scheme
    width = scheme.size // timedelta(microseconds=1)
    offset = scheme.offset // timedelta(microseconds=1)
    table = prepare_predictions(spec, pq.read_table(inp.predictions))
    if inp.actuals is not None:
        acts = latest_actuals(prepare_actuals(spec, pq.read_table(inp.actuals)))
        # a left join by hand: Arrow's join does not carry list columns (probabilities)
        where = pc.index_in(table.column("prediction_id"), value_set=acts.column("prediction_id"))
        for name in acts.column_names[1:]:
            table = table.append_column(name, acts.column(name).take(where))
    starts = window_starts_us(table.column("event_time"), width, offset)
    out: dict[datetime, WindowAggregate] = {}
    for start in np.unique(starts):
        frame = EvalFrame.from_arrow(spec, table.filter(pa.array(starts == start)))
        out[_EPOCH + timedelta(microseconds=int(start))] = WindowAggregate.from_frame(frame)
    return out

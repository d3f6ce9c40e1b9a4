"""Retention on PostgreSQL (``store.maintenance``): old predictions go by dropping whole
event-time partitions (no row-by-row delete, no table bloat); only the partition that straddles
the cutoff is deleted from row by row. Result retention deletes rows (results are small).

Backups of a PostgreSQL store are PostgreSQL's own business (``pg_dump``, base backups and WAL
archiving): ``modelmon backup`` copies the embedded DuckDB store only.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from modelmon.store.maintenance import Pruned
from modelmon.store.postgres._access import Access
from modelmon.store.postgres._catalog import add_event, existing_partitions, partition_bounds

if TYPE_CHECKING:
    from modelmon.store.base import Store

__all__ = ["PostgresMaintenance"]

_RESULT_TABLES = (("metric_points", "window_end"), ("feature_results", "window_end"),
                  ("window_verdicts", "window_end"), ("window_aggregates", "window_start"),
                  ("detector_events", "event_time"))


class PostgresMaintenance:
    """Retention on the store's database (see the module docstring)."""

    def __init__(self, store: Store, access: Access) -> None:
        self._store = store
        self._a = access

    def prune_predictions(self, model: str, before: datetime) -> Pruned:
        """Drop the partitions wholly before ``before``, delete older rows of the one that
        straddles it, with their ids and actuals; one ``data_deleted`` event (``reason:
        retention``, ``partitions_dropped``)."""
        entry = self._a.entry(model)
        with self._a.transaction() as con:
            con.execute("SELECT 1 FROM model_stamps WHERE model_id = %s FOR UPDATE",
                        [entry.model_id])
            dropped: list[int] = []
            predictions = 0
            for number in sorted(existing_partitions(con, entry)):
                if partition_bounds(number, entry.partition_days)[1] > before:
                    continue
                table = f"{entry.pred_table}_{number}"
                row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
                predictions += int(row[0]) if row else 0
                con.execute(f"DROP TABLE {table}")
                dropped.append(number)
            row = con.execute(f"WITH d AS (DELETE FROM {entry.pred_table} WHERE event_time < %s "
                              "RETURNING 1) SELECT count(*) FROM d", [before]).fetchone()
            predictions += int(row[0]) if row else 0
            row = con.execute(
                f"WITH gone AS (DELETE FROM {entry.pid_table} WHERE event_time < %s "
                "RETURNING prediction_id), a AS (DELETE FROM "
                f"{entry.act_table} x USING gone WHERE x.prediction_id = gone.prediction_id "
                "RETURNING x.prediction_id) SELECT count(DISTINCT prediction_id) FROM a",
                [before]).fetchone()
            actuals = int(row[0]) if row else 0
            add_event(con, entry.model_id, "data_deleted", self._a.clock(), {
                "start": None, "end": before.isoformat(), "version": None,
                "prediction_ids": None, "prediction_id_count": None,
                "predictions": predictions, "actuals": actuals, "reason": "retention",
                "partitions_dropped": len(dropped)})
        entry.partitions -= set(dropped)
        return Pruned(model, predictions=predictions, actuals=actuals)

    def prune_results(self, model: str, before: datetime) -> Pruned:
        """Delete the model's window results whose window ended before ``before`` (the report
        its status points to is kept)."""
        model_id = self._a.entry(model).model_id
        deleted = 0
        with self._a.transaction() as con:
            for table, column in _RESULT_TABLES:
                cur = con.execute(f"DELETE FROM {table} WHERE model_id = %s AND {column} < %s",
                                  [model_id, before])
                deleted += max(cur.rowcount, 0)
            cur = con.execute(
                "DELETE FROM reports WHERE model_id = %s AND coalesce(window_end, created_at) < %s"
                " AND report_id NOT IN (SELECT report_id FROM model_status WHERE model_id = %s "
                "AND report_id IS NOT NULL)", [model_id, before, model_id])
            deleted += max(cur.rowcount, 0)
        return Pruned(model, results=deleted)

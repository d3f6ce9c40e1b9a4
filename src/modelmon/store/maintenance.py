"""Keeping the store in shape: retention of old data and consistent backups.

- **Retention** deletes a model's raw predictions (with their actuals) older than a cutoff, and
  separately its window results (metric points, feature results, aggregates, verdicts, detector
  events, reports) older than another: results are small and usually kept longer than the rows
  they summarise. The report a model's status points to is kept.
- **Backups** copy the whole database into a new DuckDB file inside one read transaction
  (``COPY FROM DATABASE``): a consistent snapshot while the service goes on ingesting and
  evaluating, with nothing paused.

:class:`DuckDBMaintenance` is a part composed into the DuckDB store (``store.maintenance``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from modelmon.store._time import naive_utc

if TYPE_CHECKING:
    from modelmon.store.base import Store
    from modelmon.store.duckdb._access import Access

__all__ = ["DuckDBMaintenance", "Pruned", "Retention"]


@dataclass(frozen=True)
class Pruned:
    """What one retention pass deleted for one model."""

    model: str
    predictions: int = 0
    actuals: int = 0
    results: int = 0


@runtime_checkable
class Retention(Protocol):
    """What the retention job needs of a store (``store.maintenance``)."""

    def prune_predictions(self, model: str, before: datetime) -> Pruned:
        """Delete the model's predictions (and their actuals) with event time before
        ``before``; recorded as a ``data_deleted`` event with ``reason: retention``."""

    def prune_results(self, model: str, before: datetime) -> Pruned:
        """Delete the model's window results whose window ended before ``before`` (the report
        the model's status points to is kept)."""


#: Result tables and the column that says when a row's window ended (aggregates know only
#: their start).
_RESULT_TABLES = (("metric_points", "window_end"), ("feature_results", "window_end"),
                  ("window_verdicts", "window_end"), ("window_aggregates", "window_start"))


class DuckDBMaintenance:
    """Retention and backups on the store's DuckDB database (see the module docstring)."""

    def __init__(self, store: Store, access: Access) -> None:
        self._store = store
        self._entry = access.entry
        self._cursor = access.cursor
        self._transaction = access.transaction
        self._lock = access.lock

    def prune_predictions(self, model: str, before: datetime) -> Pruned:
        """Delete the model's predictions (and their actuals) with event time before
        ``before``; recorded as a ``data_deleted`` event with ``reason: retention``."""
        deletion = self._store.delete_predictions(model, end=before,
                                                  details={"reason": "retention"})
        return Pruned(model, predictions=deletion.predictions, actuals=deletion.actuals)

    def prune_results(self, model: str, before: datetime) -> Pruned:
        """Delete the model's window results whose window ended before ``before``."""
        entry = self._entry(model)
        cutoff = naive_utc(before)
        deleted = 0
        with self._lock, self._transaction() as con:
            for table, column in _RESULT_TABLES:
                deleted += int(con.execute(
                    f"DELETE FROM {table} WHERE model_id = ? AND {column} < ?",
                    [entry.model_id, cutoff]).fetchall()[0][0])
            deleted += int(con.execute(
                "DELETE FROM detector_events WHERE model_id = ? AND event_time < ?",
                [entry.model_id, cutoff]).fetchall()[0][0])
            deleted += int(con.execute(
                "DELETE FROM reports WHERE model_id = ? AND coalesce(window_end, created_at) < ? "
                "AND report_id NOT IN (SELECT report_id FROM model_status "
                "WHERE model_id = ? AND report_id IS NOT NULL)",
                [entry.model_id, cutoff, entry.model_id]).fetchall()[0][0])
        return Pruned(model, results=deleted)

    def backup(self, path: str | Path) -> int:
        """Copy the whole database into a new DuckDB file at ``path`` (which must not exist):
        one consistent snapshot, taken while writes go on. Its size in bytes."""
        target = Path(path)
        if target.exists():
            raise FileExistsError(f"{target.name} exists")
        with self._cursor() as cur:
            source = cur.execute("SELECT current_database()").fetchall()[0][0]
            cur.execute("ATTACH ? AS modelmon_backup", [str(target)])
            try:
                cur.execute(f'COPY FROM DATABASE "{source}" TO modelmon_backup')
            finally:
                cur.execute("DETACH modelmon_backup")
        return target.stat().st_size

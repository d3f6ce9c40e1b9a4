"""The evaluation side of storage: metric time series, per-feature results, detector events and
state, reports, model status, reference summaries and evaluation watermarks.

Kept apart from :class:`~modelmon.store.base.Store` (ingest and registry) so each protocol stays
small; a backend implements both. Conventions: ``version`` and ``segment`` are ``"*"`` for "all";
a segment value is written ``"name=value"``; windows are named by their size (``"1h"``) and
start; all times are UTC.

Tables returned use these columns:

- metric points: ``version, segment, window_size, window_start, window_end, metric, value, n``;
- feature results: ``version, segment, window_size, window_start, window_end, feature,
  feature_type, test, statistic, p_value, threshold, drifted, n_reference, n_current,
  missing_share, out_of_range_share, unseen_share``;
- detector events: ``event_id, version, detector, kind, event_time, prediction_id, position,
  details``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from modelmon.windows import WindowScheme

__all__ = [
    "ALL",
    "DETECTOR_EVENT_COLUMNS",
    "FEATURE_RESULT_COLUMNS",
    "METRIC_POINT_COLUMNS",
    "DetectorState",
    "ModelStatus",
    "ResultStore",
    "RowChunk",
    "StoredVerdict",
    "WindowResults",
]

ALL = "*"

_TS = pa.timestamp("us", tz="UTC")

METRIC_POINT_COLUMNS: dict[str, pa.DataType] = {
    "version": pa.string(),
    "segment": pa.string(),
    "window_size": pa.string(),
    "window_start": _TS,
    "window_end": _TS,
    "metric": pa.string(),
    "value": pa.float64(),
    "n": pa.int64(),
}

FEATURE_RESULT_COLUMNS: dict[str, pa.DataType] = {
    "version": pa.string(),
    "segment": pa.string(),
    "window_size": pa.string(),
    "window_start": _TS,
    "window_end": _TS,
    "feature": pa.string(),
    "feature_type": pa.string(),
    "test": pa.string(),
    "statistic": pa.float64(),
    "p_value": pa.float64(),
    "threshold": pa.float64(),
    "drifted": pa.bool_(),
    "n_reference": pa.int64(),
    "n_current": pa.int64(),
    "missing_share": pa.float64(),
    "out_of_range_share": pa.float64(),
    "unseen_share": pa.float64(),
}

DETECTOR_EVENT_COLUMNS: dict[str, pa.DataType] = {
    "version": pa.string(),
    "detector": pa.string(),
    "kind": pa.string(),
    "event_time": _TS,
    "prediction_id": pa.string(),
    "position": pa.int64(),
    "details": pa.string(),
}


@dataclass(frozen=True)
class WindowResults:
    """Everything computed for one window of one model (all versions and segments)."""

    window_size: str
    window_start: datetime
    window_end: datetime
    metric_points: pa.Table
    feature_results: pa.Table
    aggregates: dict[tuple[str, str], bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredVerdict:
    """A window's stored verdict (reasons as dicts: see :class:`modelmon.judgement.Reason`)."""

    window_size: str
    window_start: datetime
    window_end: datetime
    complete: bool
    n: int
    status: str
    reasons: list[dict[str, Any]]
    judged_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"window": self.window_size, "start": self.window_start.isoformat(),
                "end": self.window_end.isoformat(), "complete": self.complete, "n": self.n,
                "status": self.status, "reasons": self.reasons,
                "judged_at": self.judged_at.isoformat()}


@dataclass(frozen=True)
class RowChunk:
    """One row window: its position, first and last prediction (event time, id) and size."""

    index: int
    first_time: datetime
    first_id: str
    last_time: datetime
    last_id: str
    n: int
    changed: bool = False


@dataclass(frozen=True)
class DetectorState:
    """Where a streaming detector stopped: serialised state and its event-time cursor."""

    version: str
    detector: str
    state: bytes
    processed: int
    cursor_time: datetime | None
    cursor_id: str | None


@dataclass(frozen=True)
class ModelStatus:
    """A model's current status with its human-readable reasons."""

    model: str
    status: str
    reasons: list[dict[str, Any]]
    report_id: str | None
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "status": self.status, "reasons": self.reasons,
                "report_id": self.report_id, "updated_at": self.updated_at.isoformat()}


@runtime_checkable
class ResultStore(Protocol):
    """Storage of evaluation outputs (see the module docstring)."""

    # --- what changed ----------------------------------------------------------------------------
    def data_watermarks(self, model: str) -> tuple[datetime | None, datetime | None]:
        """Latest ``received_at`` of the model's predictions and of its actuals (cheap)."""

    def changed_windows(
        self, model: str, scheme: WindowScheme, *, predictions_since: datetime | None,
        actuals_since: datetime | None, min_start: datetime | None = None,
    ) -> list[datetime]:
        """Starts of the windows of a time ``scheme`` holding predictions received after
        ``predictions_since`` or predictions whose actual was received after
        ``actuals_since``. Windows starting before ``min_start`` are left out."""

    def window_counts(self, model: str, scheme: WindowScheme, *, limit: int = 100) -> list[int]:
        """Predictions in each of the first ``limit`` windows of a time scheme, oldest first."""

    def row_chunks(
        self, model: str, rows: int, *, predictions_since: datetime | None,
        actuals_since: datetime | None,
    ) -> list[RowChunk]:
        """Every row window of ``rows`` predictions in event-time order (ties by id), each
        marked ``changed`` when it holds a prediction received after ``predictions_since`` or
        one whose actual was received after ``actuals_since``."""

    def delete_window_results(self, model: str, window_size: str,
                              starts: Sequence[datetime]) -> None:
        """Delete every result and verdict stored for these windows of one size."""

    def window_starts(self, model: str, window_size: str) -> list[tuple[datetime, datetime]]:
        """``(start, end)`` of every evaluated window of one size, oldest first."""

    def evaluation_state(
        self, model: str
    ) -> tuple[datetime | None, datetime | None, list[tuple[str, datetime, str]], str | None]:
        """Watermarks up to which changes were picked up, windows still to evaluate as
        ``(size, start, kind)`` (kind ``evaluate``, or ``final``: an open window rolled up from
        aggregates, due for a full evaluation once it closes), and the key of the reference the
        windows were evaluated against. ``(None, None, [], None)`` at first."""

    def set_evaluation_state(
        self, model: str, predictions_seen: datetime | None, actuals_seen: datetime | None,
        pending: Sequence[tuple[str, datetime, str]] = (), reference: str | None = None,
    ) -> None:
        """Record evaluation progress: watermarks, windows still pending, reference key."""

    def event_time_range(self, model: str) -> tuple[datetime | None, datetime | None]:
        """Earliest and latest event time of the model's predictions."""

    def replace_metric_points(
        self, model: str, window_size: str, window_start: datetime, points: pa.Table
    ) -> None:
        """Replace just the given points (same version, segment, metric) of one window."""

    # --- window results --------------------------------------------------------------------------
    def replace_window_results(self, model: str, results: Sequence[WindowResults]) -> None:
        """Atomically replace everything stored for these windows."""

    def metric_series(
        self, model: str, *, metrics: Sequence[str] | None = None, window_size: str | None = None,
        version: str | None = ALL, segment: str | None = ALL, start: datetime | None = None,
        end: datetime | None = None, limit: int = 100_000,
    ) -> pa.Table:
        """Metric points ordered by window start, then metric."""

    def latest_metric_points(self, model: str, *, window_size: str | None = None) -> pa.Table:
        """For each (version, segment, window size, metric): the newest point."""

    def latest_points_of(self, models: Sequence[str], *,
                         metrics: Sequence[str] | None = None) -> pa.Table:
        """For several models at once: the newest point of each (model, window size, metric)
        of all versions and segments (``"*"``), as :meth:`latest_metric_points` finds it per
        model; a ``model`` column before the metric point columns."""

    def recent_points_of(self, windows: Mapping[str, str], *, count: int) -> pa.Table:
        """For several models at once (``{model: window size}``): the points (version and
        segment ``"*"``) of each model's newest ``count`` windows of that size, ordered by
        model, window start and metric; a ``model`` column before the metric point columns."""

    def statuses(self, models: Sequence[str]) -> dict[str, ModelStatus]:
        """The current status of each of ``models`` that has one."""

    def feature_results(
        self, model: str, *, window_size: str | None = None, start: datetime | None = None,
        end: datetime | None = None, feature: str | Sequence[str] | None = None,
        version: str | None = ALL, segment: str = ALL, limit: int = 100_000,
    ) -> pa.Table:
        """Per-feature drift and data-quality rows ordered by window start, then feature
        (``feature``: one feature or a list of them)."""

    def window_aggregates(
        self, model: str, window_size: str, start: datetime, end: datetime,
    ) -> list[tuple[str, str, datetime, bytes]]:
        """Stored mergeable aggregates ``(version, segment, window_start, data)`` in a range."""

    # --- verdicts --------------------------------------------------------------------------------
    def replace_verdicts(self, model: str, verdicts: Sequence[StoredVerdict]) -> None:
        """Store (replace) the verdicts of these windows."""

    def verdicts(
        self, model: str, *, window_size: str | None = None, start: datetime | None = None,
        end: datetime | None = None, status: str | None = None, complete: bool | None = None,
        limit: int = 1000, newest_first: bool = False,
    ) -> list[StoredVerdict]:
        """Stored verdicts ordered by window start (then size)."""

    # --- detectors -------------------------------------------------------------------------------
    def detector_states(self, model: str) -> list[DetectorState]:
        """Saved detector states of a model."""

    def save_detector_progress(
        self, model: str, state: DetectorState, events: pa.Table
    ) -> None:
        """Atomically store new detector events and the state after them."""

    def detector_events(
        self, model: str, *, kind: str | None = None, start: datetime | None = None,
        end: datetime | None = None, limit: int = 1000,
    ) -> pa.Table:
        """Detector warnings and drifts, newest first."""

    # --- reports, status, references -------------------------------------------------------------
    def save_report(self, model: str, report: dict[str, Any]) -> str:
        """Store a report (``report["id"]`` set by the caller) and return its id."""

    def get_report(self, model: str, report_id: str) -> dict[str, Any]:
        """One report (raises ``not_found``)."""

    def list_reports(
        self, model: str, *, limit: int = 50, before: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Report headers (no body), newest first."""

    def set_status(self, model: str, status: str, reasons: list[dict[str, Any]],
                   report_id: str | None) -> None:
        """Set the model's current status."""

    def get_status(self, model: str) -> ModelStatus | None:
        """The model's current status (None before the first evaluation)."""

    def save_reference(self, model: str, revision: int, source: str, n_rows: int,
                       summary: bytes) -> None:
        """Store a fitted reference summary for a spec revision."""

    def get_reference(self, model: str) -> tuple[int, str, bytes] | None:
        """``(revision, source, summary)`` of the newest stored reference, or None."""

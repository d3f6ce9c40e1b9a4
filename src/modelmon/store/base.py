"""The storage interface every backend implements, and the records that cross it.

Writes travel as :class:`WriteBatch` objects: a kind (predictions, actuals, ...), a model name and
a validated ``pyarrow.Table`` whose columns use *logical* names (see :data:`PREDICTION_COLUMNS`;
features are ``feature.<name>``, segments ``segment.<name>``). A backend maps them to its own
physical layout. :meth:`Store.write` applies a group of batches in one transaction and returns only
once it is durable; if it raises, nothing of the group was applied.

Contract (checked for every backend by ``tests/store/test_contract.py``):

- a write is all-or-nothing and durable on return (survives a restart);
- predictions are idempotent by ``(model, prediction_id)``: writing an id again stores nothing
  (first write wins) and is reported in :attr:`WriteResult.duplicates`;
- a batch whose idempotency key was stored before stores nothing: a replay when its fingerprint
  matches (or either has none), a conflict otherwise;
- actuals may arrive before their prediction and are joined when it arrives; a later actual for
  the same id replaces the earlier one (ground truth can be corrected);
- a model spec change creates a new revision; a changed feature schema records a
  ``schema_change`` event;
- the store, not the caller, sets ``received_at`` on predictions, actuals and metric events:
  its commit time, strictly increasing (evaluation finds new data by it);
- deleting predictions deletes their actuals too and records a ``data_deleted`` model event in
  the same transaction; a deleted prediction id may be written again.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from modelmon.config.models import ModelSpec

__all__ = [
    "ACTUAL_COLUMNS",
    "FEATURE_PREFIX",
    "FIRST_USABLE_TIME",
    "LAST_USABLE_TIME",
    "PREDICTION_COLUMNS",
    "SEGMENT_PREFIX",
    "BatchKind",
    "Deletion",
    "ModelEvent",
    "ModelInfo",
    "Store",
    "VersionInfo",
    "WriteBatch",
    "WriteResult",
]

FEATURE_PREFIX = "feature."
SEGMENT_PREFIX = "segment."

#: Event times readers use lie between these (a day inside Python's years 1-9999, so a window
#: start or end computed from them stays a datetime). Ingest refuses times far inside them; a
#: row stored before times were checked may lie outside (year 0 in UTC), and evaluation passes
#: it by (delete it with ``POST /v1/models/{m}/delete-data`` by id).
FIRST_USABLE_TIME = datetime(1, 1, 2, tzinfo=UTC)
LAST_USABLE_TIME = datetime(9999, 12, 30, tzinfo=UTC)

#: Fixed logical columns of a prediction batch (features and segments come on top).
PREDICTION_COLUMNS: dict[str, pa.DataType] = {
    "prediction_id": pa.string(),
    "version": pa.string(),
    "event_time": pa.timestamp("us", tz="UTC"),
    "label": pa.string(),
    "score": pa.float64(),
    "probabilities": pa.list_(pa.float64()),
    "value": pa.float64(),
    "latency_seconds": pa.float64(),
    "status": pa.string(),
    "error": pa.string(),
}

#: Logical columns of an actuals (ground truth) batch.
ACTUAL_COLUMNS: dict[str, pa.DataType] = {
    "prediction_id": pa.string(),
    "label": pa.string(),
    "value": pa.float64(),
    "event_time": pa.timestamp("us", tz="UTC"),
}

#: Custom / business metric events.
METRIC_EVENT_COLUMNS: dict[str, pa.DataType] = {
    "name": pa.string(),
    "value": pa.float64(),
    "kind": pa.string(),
    "version": pa.string(),
    "prediction_id": pa.string(),
    "segment": pa.string(),
    "event_time": pa.timestamp("us", tz="UTC"),
}

#: Feature-importance snapshots: one row per feature.
FEATURE_IMPORTANCE_COLUMNS: dict[str, pa.DataType] = {
    "version": pa.string(),
    "feature": pa.string(),
    "importance": pa.float64(),
    "method": pa.string(),
    "snapshot_time": pa.timestamp("us", tz="UTC"),
}

#: Training runs and online-learning updates.
TRAINING_RUN_COLUMNS: dict[str, pa.DataType] = {
    "run_id": pa.string(),
    "version": pa.string(),
    "kind": pa.string(),
    "status": pa.string(),
    "started_at": pa.timestamp("us", tz="UTC"),
    "finished_at": pa.timestamp("us", tz="UTC"),
    "duration_seconds": pa.float64(),
    "samples": pa.int64(),
    "details": pa.string(),
}


class BatchKind(enum.StrEnum):
    """What a :class:`WriteBatch` holds."""

    PREDICTIONS = "predictions"
    ACTUALS = "actuals"
    METRIC_EVENTS = "metric_events"
    FEATURE_IMPORTANCE = "feature_importance"
    TRAINING_RUNS = "training_runs"


@dataclass(frozen=True)
class WriteBatch:
    """Validated rows of one kind for one model, ready to store.

    ``idempotency_key`` (optional) makes a whole batch idempotent: a batch whose key was already
    stored is skipped and reported as a replay, or as a conflict when its ``fingerprint`` (a hash
    of the request that carried the key) differs from the one stored with the key.
    """

    kind: BatchKind
    model: str
    table: pa.Table
    idempotency_key: str | None = None
    fingerprint: str | None = None

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)


@dataclass(frozen=True)
class WriteResult:
    """What a write stored: rows inserted, duplicates skipped, whether it replayed a known key,
    or stored nothing because the key came with another request (``conflict``)."""

    kind: BatchKind
    model: str
    inserted: int
    duplicates: int = 0
    replayed: bool = False
    duplicate_ids: tuple[str, ...] = ()
    conflict: bool = False


@dataclass(frozen=True)
class Deletion:
    """What :meth:`Store.delete_predictions` removed, and the model event recording it."""

    model: str
    predictions: int
    actuals: int
    event_id: int

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "predictions_deleted": self.predictions,
                "actuals_deleted": self.actuals, "event_id": self.event_id}


@dataclass(frozen=True)
class ModelInfo:
    """A registered model: its current spec and bookkeeping."""

    name: str
    spec: ModelSpec
    revision: int
    created_at: datetime
    updated_at: datetime
    source: str = "config"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.spec.task.value,
            "revision": self.revision,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "source": self.source,
            "spec": self.spec.model_dump(mode="json"),
        }


@dataclass(frozen=True)
class VersionInfo:
    """A version of a model (a trained artefact that served predictions)."""

    model: str
    version: str
    created_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)
    stage: str = "active"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "metadata": self.metadata,
            "stage": self.stage,
        }


@dataclass(frozen=True)
class ModelEvent:
    """Something that happened to a model: created, spec updated, schema changed, version added."""

    id: int
    model: str
    kind: str
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "details": self.details,
        }


@runtime_checkable
class Store(Protocol):
    """What the service needs from storage. See the module docstring for the contract."""

    def open(self) -> None:
        """Connect and apply pending schema migrations."""

    def close(self) -> None:
        """Flush and release everything; the store may be opened again later."""

    def ping(self) -> None:
        """Raise :class:`~modelmon.exceptions.StoreError` if the store cannot serve requests."""

    # --- models --------------------------------------------------------------------------------
    def save_model(self, spec: ModelSpec, *, source: str = "api") -> ModelInfo:
        """Create or update a model. A changed spec gets a new revision; a changed feature
        schema also records a ``schema_change`` event."""

    def get_model(self, name: str) -> ModelInfo:
        """Return the model or raise :class:`~modelmon.exceptions.NotFoundError`."""

    def list_models(self) -> list[ModelInfo]:
        """All models, by name."""

    def register_version(
        self, model: str, version: str, *, metadata: dict[str, Any] | None = None,
        stage: str = "active",
    ) -> VersionInfo:
        """Create a version (or update its metadata/stage)."""

    def list_versions(self, model: str) -> list[VersionInfo]:
        """Versions of a model, oldest first."""

    def list_events(
        self, model: str, *, kind: str | None = None, limit: int = 100,
        before_id: int | None = None,
    ) -> list[ModelEvent]:
        """Model events, newest first, paginated by id."""

    # --- data ----------------------------------------------------------------------------------
    def write(self, batches: Sequence[WriteBatch]) -> list[WriteResult]:
        """Apply ``batches`` in one transaction, durable on return; all or nothing."""

    def delete_predictions(
        self, model: str, *, start: datetime | None = None, end: datetime | None = None,
        version: str | None = None, prediction_ids: Sequence[str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> Deletion:
        """Delete the predictions of ``model`` that match every filter given (event time in
        ``[start, end)``, ``version``, ``prediction_ids``; none: all of them) with their actuals
        (and the actuals of ``prediction_ids`` whose prediction never arrived), in one
        transaction that also records a ``data_deleted`` event with the filters, the counts and
        ``details``. Durable on return."""

    def count(
        self, model: str, kind: BatchKind = BatchKind.PREDICTIONS, *,
        start: datetime | None = None, end: datetime | None = None,
    ) -> int:
        """Rows of ``kind`` for ``model`` (event time in ``[start, end)`` when given)."""

    def get_prediction(self, model: str, prediction_id: str) -> dict[str, Any] | None:
        """One prediction with its actual (if any), as a dict with logical names."""

    def read_predictions(
        self, model: str, *, start: datetime | None = None, end: datetime | None = None,
        columns: Sequence[str] | None = None, version: str | None = None,
        with_actuals: bool = True, limit: int | None = None, ordered: bool = True,
        first: tuple[datetime, str] | None = None, last: tuple[datetime, str] | None = None,
    ) -> pa.Table:
        """Predictions in ``[start, end)`` of event time, joined with their latest actual
        (columns ``actual_label``, ``actual_value``, ``actual_time``), logical column names;
        in event-time order unless ``ordered`` is false (cheaper for large windows).
        ``first``/``last``: only rows from/to this ``(event time, prediction id)`` inclusive, in
        event-time-then-id order (a row window)."""

    def read_table(
        self, model: str, kind: BatchKind, *, start: datetime | None = None,
        end: datetime | None = None, limit: int | None = None,
    ) -> pa.Table:
        """Rows of a non-prediction kind (metric events, importance, training runs)."""

    def size_bytes(self) -> int:
        """Bytes the store occupies on disk (0 for in-memory)."""

    def maintain(self) -> None:
        """Housekeeping between writes (the DuckDB store folds its write-ahead log into the
        database file once it reached its threshold). The ingest writer calls it after each
        group commit, once the group's requests are answered."""

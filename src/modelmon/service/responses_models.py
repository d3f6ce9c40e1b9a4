"""Success answers of the model registry and stored-data routes (models, versions, events,
predictions, counts, deletions, feature importance and training runs)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from modelmon.config.models import ModelSpec
from modelmon.service.responses import Fixed, Open


class ModelBody(Fixed):
    name: str
    task: str
    revision: int
    created_at: str
    updated_at: str
    source: str = Field(description="config, api or ...: where the spec came from.")
    spec: ModelSpec


class ModelsBody(Fixed):
    models: list[ModelBody]


class VersionInfoBody(Fixed):
    model: str
    version: str
    created_at: str
    metadata: dict[str, Any]
    stage: str


class VersionsBody(Fixed):
    versions: list[VersionInfoBody]


class ModelEventBody(Fixed):
    id: int
    model: str
    kind: str
    at: str
    details: dict[str, Any]


class ModelEventsBody(Fixed):
    events: list[ModelEventBody]
    next_before: int | None = Field(description="The `before` of the next page (null: last).")


class PredictionBody(Open):
    """A stored prediction with its latest actual; features and segments follow as
    ``feature.<name>`` and ``segment.<name>`` keys."""

    prediction_id: str
    version: str
    event_time: str
    received_at: str
    label: str | None
    score: float | None
    probabilities: list[float | None] | None
    value: float | None
    latency_seconds: float | None
    status: str | None
    error: str | None
    actual_label: str | None
    actual_value: float | None
    actual_time: str | None


class CountsBody(Fixed):
    model: str
    start: str | None
    end: str | None
    predictions: int
    actuals: int
    metric_events: int
    feature_importance: int
    training_runs: int


class DeletionBody(Fixed):
    model: str
    predictions_deleted: int
    actuals_deleted: int
    event_id: int = Field(description="The model event recording the deletion.")


class StoredBody(Fixed):
    """What a feature-importance snapshot or training run stored."""

    accepted: int
    replayed: bool


class TrainingRunStored(Fixed):
    accepted: int
    replayed: bool
    run_id: str


class ImportanceRow(Fixed):
    version: str | None
    feature: str
    importance: float | None
    method: str | None
    snapshot_time: str


class ImportanceBody(Fixed):
    rows: list[ImportanceRow]


class TrainingRun(Fixed):
    run_id: str
    version: str | None
    kind: str
    status: str
    started_at: str | None
    finished_at: str | None
    duration_seconds: float | None
    samples: int | None
    details: dict[str, Any] | None


class TrainingKindSummary(Fixed):
    count: int
    succeeded: int
    failed: int
    last_success_at: str | None
    mean_duration_seconds: float | None


class TrainingSummary(Fixed):
    training: TrainingKindSummary
    online_update: TrainingKindSummary


class TrainingRunsBody(Fixed):
    summary: TrainingSummary
    runs: list[TrainingRun]

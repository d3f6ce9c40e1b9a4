"""Request and response shapes, for the OpenAPI document (``/docs``).

Ingest bodies are parsed and validated column-wise by :mod:`modelmon.ingest` (much faster than
validating each record as an object); these models describe the same shapes for readers and for
generated clients.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FeatureValue = float | int | str | bool | None


class PredictionRecord(BaseModel):
    """One prediction. ``model`` is required when the record is sent on its own."""

    model_config = ConfigDict(extra="forbid")
    model: str | None = Field(None, description="Model name (required for single records).")
    version: str | None = Field(None, max_length=128, description="Model version; default 'default'.")
    prediction_id: str | None = Field(None, max_length=256,
                                      description="Client id, unique per model; assigned if absent.")
    timestamp: str | float | None = Field(
        None, description="Event time: ISO 8601 text or epoch seconds; server time if absent.")
    features: dict[str, FeatureValue] = Field(default_factory=dict,
                                              description="Feature name -> value (null = missing).")
    prediction: float | int | str | bool | None = Field(
        None, description="Predicted label (classification) or value (regression).")
    score: float | None = Field(None, ge=0, le=1, description="Probability of the positive class.")
    probabilities: dict[str, float] | list[float] | None = Field(
        None, description="Class probabilities (multiclass), by class or in class order.")
    latency_seconds: float | None = Field(None, ge=0)
    latency_ms: float | None = Field(None, ge=0)
    segments: dict[str, str | int | bool | None] = Field(default_factory=dict)
    status: Literal["ok", "error"] | None = None
    error: str | None = Field(None, max_length=4096)


class PredictionBatchBody(BaseModel):
    """Several predictions of one model, stored all-or-nothing."""

    model_config = ConfigDict(extra="forbid")
    model: str
    version: str | None = Field(None, description="Default version for records without one.")
    records: list[PredictionRecord]


class IngestResponse(BaseModel):
    accepted: int = Field(description="Records stored by this request.")
    duplicates: int = Field(0, description="Prediction ids already stored (skipped).")
    replayed: bool = Field(False, description="The Idempotency-Key was seen: nothing stored again.")
    ids: list[str] = Field(default_factory=list, description="Prediction ids, in request order.")


class ActualRecord(BaseModel):
    """The real outcome of a prediction, by prediction id."""

    model_config = ConfigDict(extra="forbid")
    model: str | None = None
    prediction_id: str = Field(max_length=256)
    actual: float | int | str | bool
    timestamp: str | float | None = None


class ActualBatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    records: list[ActualRecord]


class MetricEventRecord(BaseModel):
    """A custom or business metric event (conversion, revenue ...)."""

    model_config = ConfigDict(extra="forbid")
    model: str | None = None
    name: str = Field(max_length=128)
    value: float
    kind: Literal["custom", "business"] = "custom"
    version: str | None = None
    prediction_id: str | None = None
    segment: str | None = None
    timestamp: str | float | None = None


class MetricEventBatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    records: list[MetricEventRecord]


class FeatureImportanceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str | None = None
    importances: dict[str, float]
    method: str | None = None
    timestamp: str | float | None = None


class TrainingRunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run_id: str | None = None
    version: str | None = None
    kind: Literal["training", "online_update"] = "training"
    status: Literal["success", "failed", "running"] = "success"
    started_at: str | float | None = None
    finished_at: str | float | None = None
    duration_seconds: float | None = Field(None, ge=0)
    samples: int | None = Field(None, ge=0)
    details: dict[str, Any] | None = None


class VersionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str = Field(max_length=128)
    metadata: dict[str, Any] = Field(default_factory=dict)
    stage: Literal["active", "shadow", "canary", "retired", "rolled_back"] = "active"


class DeleteDataBody(BaseModel):
    """Which predictions to delete (with their actuals): every filter given must match."""

    model_config = ConfigDict(extra="forbid")
    start: str | None = Field(None, description="ISO 8601 event time (inclusive).")
    end: str | None = Field(None, description="ISO 8601 event time (exclusive).")
    version: str | None = Field(None, min_length=1, max_length=128)
    prediction_ids: list[Annotated[str, Field(min_length=1, max_length=256)]] | None = Field(
        None, min_length=1, max_length=10_000)
    all: bool = Field(False, description="Delete every prediction of the model (no filter).")


class ErrorBody(BaseModel):
    """Every error response."""

    code: str = Field(description="Stable machine-readable code (docs/errors.md).")
    message: str
    loc: list[str | int] = Field(description="Path of the offending field.")
    errors: list[dict[str, Any]] | None = Field(None, description="All problems, when several.")

"""Ingest routes: predictions, actuals, metric events, feature importance, training runs.

Every write is validated completely before anything is queued, written in one transaction and
acknowledged only once durable (group commit, see :mod:`modelmon.ingest.writer`).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from fastapi import APIRouter, Header, Query, Request, Response

from modelmon.config.models import NAME_PATTERN, ModelSpec
from modelmon.exceptions import ConflictError, NotFoundError, ValidationError
from modelmon.ingest.actuals import actuals_from_records
from modelmon.ingest.bulk import actuals_from_upload
from modelmon.ingest.events import (
    feature_importance_from_record,
    metric_events_from_records,
    training_run_from_record,
)
from modelmon.ingest.json_batch import NotFastPath, check_batch_size, decode_envelope, sniff_model
from modelmon.ingest.predictions import predictions_from_records
from modelmon.service.auth import require_model
from modelmon.service.logs import current_model
from modelmon.service.openapi import body_doc, error_responses
from modelmon.service.responses_models import StoredBody, TrainingRunStored
from modelmon.service.routes._body import (
    BULK_TYPES,
    json_response,
    parse_json,
    read_bulk,
    read_json,
    read_json_body,
    require_object,
    service_state,
)
from modelmon.service.schemas import (
    ActualBatchBody,
    ActualRecord,
    FeatureImportanceBody,
    IngestResponse,
    MetricEventBatchBody,
    MetricEventRecord,
    PredictionBatchBody,
    PredictionRecord,
    TrainingRunBody,
)
from modelmon.service.state import ServiceState
from modelmon.store.base import BatchKind, WriteBatch, WriteResult

router = APIRouter(prefix="/v1", tags=["ingest"])

# 409: an Idempotency-Key reused with another body
_ERRORS = error_responses(400, 401, 404, 409, 413, 415, 422, 503)
_BATCH_FIELDS = {"model", "version", "records"}
# Bodies above this size take the schema-decoding path (modelmon.ingest.json_batch): about
# 50 records of 25 features. Smaller ones are cheap either way.
_FAST_JSON_BYTES = 32_768


def _model_name(data: dict[str, Any], loc: tuple[str, ...] = ("model",)) -> str:
    name = data.get("model")
    if name is None:
        raise ValidationError("'model' is required: name the model this data belongs to",
                              code="missing_field", loc=loc)
    if type(name) is not str:
        raise ValidationError("'model' must be a string", code="invalid_type", loc=loc)
    current_model.set(name)
    return name


def _envelope(data: Any, max_records: int, allowed: set[str] = _BATCH_FIELDS) -> tuple[str, list[Any]]:
    body = require_object(data, "a batch")
    for key in sorted(body.keys() - allowed):
        raise ValidationError(f"unknown field {key!r} in a batch (known: {', '.join(sorted(allowed))})",
                              code="unknown_field", loc=(key,))
    model = _model_name(body)
    records = body.get("records")
    if records is None:
        raise ValidationError("'records' is required: a list of records", code="missing_field",
                              loc=("records",))
    if type(records) is not list:
        raise ValidationError("'records' must be a list", code="invalid_type", loc=("records",))
    check_batch_size(len(records), max_records)
    return model, records


async def _store(state: ServiceState, batches: Sequence[WriteBatch]) -> list[WriteResult]:
    for batch in batches:  # a key limited to some models writes to those only
        require_model(state, batch.model)
    # the writer counts what each commit stored (modelmon.service.ingest_metrics)
    results = await state.writer.write(batches)
    for r in results:
        if r.conflict:
            raise ConflictError(
                "this Idempotency-Key was already used for a request with a different body; "
                "nothing was stored (send new data with a new key)",
                loc=("header", "idempotency-key"))
    return results


async def _batch(request: Request, kind: BatchKind, model: str, table: pa.Table,
                 key: str | None, *parameters: str | None) -> WriteBatch:
    """The batch to write; with an ``Idempotency-Key``, it carries a hash of the request (body
    and ``parameters``): the key replays the same request, and refuses another (409)."""
    if key is None:
        return WriteBatch(kind, model, table)
    if not 1 <= len(key) <= 200:
        raise ValidationError("Idempotency-Key must be 1-200 characters", code="invalid_value",
                              loc=("header", "idempotency-key"))
    digest = hashlib.sha256(await request.body())
    for p in parameters:
        digest.update(b"\0" + (b"-" if p is None else b"=" + p.encode()))
    return WriteBatch(kind, model, table, f"{model}:{kind.value}:{key}", digest.hexdigest())


async def _validate(func: Any, spec: ModelSpec, records: list[Any], **kwargs: Any) -> pa.Table:
    """Validate on a worker thread for large batches, so the event loop keeps answering (health
    probes, single predictions) while a 10,000-record batch is checked."""
    if len(records) > 200:
        return await asyncio.to_thread(func, spec, records, **kwargs)
    return func(spec, records, **kwargs)


def _prediction_response(table: pa.Table, result: WriteResult) -> dict[str, Any]:
    return {"accepted": result.inserted, "duplicates": result.duplicates,
            "replayed": result.replayed, "ids": table.column("prediction_id").to_pylist()}


@router.post("/predictions", summary="Log one prediction", openapi_extra=body_doc(PredictionRecord),
             responses={200: {"model": IngestResponse}, **_ERRORS})
async def log_prediction(request: Request) -> Response:
    state = service_state(request)
    record = require_object(await read_json(request), "a prediction record")
    spec = state.spec(_model_name(record))
    # In the validation workers when there are any: the event loop keeps to HTTP.
    offload = state.pool.validate_records if state.pool.workers > 0 else None
    table = await state.coalescer.validate(predictions_from_records, spec, record, state.ingest_now(),
                                           offload=offload)
    [result] = await _store(state, [WriteBatch(BatchKind.PREDICTIONS, spec.name, table)])
    return json_response(_prediction_response(table, result))


@router.post("/predictions/batch", summary="Log a batch of predictions (all or nothing)",
             openapi_extra=body_doc(PredictionBatchBody),
             responses={200: {"model": IngestResponse}, **_ERRORS})
async def log_predictions(
    request: Request, idempotency_key: str | None = Header(None, alias="Idempotency-Key")
) -> Response:
    state = service_state(request)
    body = await read_json_body(request)
    max_records = state.settings.ingest.max_batch_records
    found = await _one_pass_batch(state, body, max_records) if len(body) > _FAST_JSON_BYTES else None
    model, table = found if found is not None else await _two_step_batch(state, body, max_records)
    batch = await _batch(request, BatchKind.PREDICTIONS, model, table, idempotency_key)
    [result] = await _store(state, [batch])
    return json_response(_prediction_response(table, result))


async def _one_pass_batch(state: ServiceState, body: bytes,
                          max_records: int) -> tuple[str, pa.Table] | None:
    """A large batch that names its model first, decoded whole in a validation worker (the
    server reads only the name); None when it needs the two-step path."""
    model = sniff_model(body)
    if model is None:
        return None
    try:
        spec = state.spec(model)
    except NotFoundError:
        return None  # the two-step path reports it, with the model's path in the body
    current_model.set(model)
    try:
        with state.writer.incoming():
            table = await state.pool.predictions_from_batch_json(
                spec, body, model=model, now=state.ingest_now(), max_records=max_records)
    except NotFastPath:
        return None
    return model, table


async def _two_step_batch(state: ServiceState, body: bytes,
                          max_records: int) -> tuple[str, pa.Table]:
    envelope = decode_envelope(body) if len(body) > _FAST_JSON_BYTES else None
    if envelope is not None:
        # Large batch, well-formed envelope: decode the records against the model's schema.
        model = envelope.model
        current_model.set(model)
        spec = state.spec(model)
        with state.writer.incoming():
            table = await state.pool.predictions_from_json(
                spec, envelope.records, now=state.ingest_now(), version=envelope.version,
                max_records=max_records)
        return model, table
    data = parse_json(body)
    model, records = _envelope(data, max_records)
    spec = state.spec(model)
    version = data.get("version")
    if version is not None and type(version) is not str:
        raise ValidationError("'version' must be a string", code="invalid_type",
                              loc=("version",))
    return model, await _validate(predictions_from_records, spec, records, now=state.ingest_now(),
                                  version=version)


async def _log_predictions_lane(request: Request) -> Response:
    return await log_predictions(request, request.headers.get("idempotency-key"))


#: Routes answered by the service's fast lane (see :mod:`modelmon.service.fast_lane`).
FAST_LANE = {"/v1/predictions": log_prediction, "/v1/predictions/batch": _log_predictions_lane}


async def _bulk_table(request: Request, spec: ModelSpec, kind: BatchKind, version: str | None) -> pa.Table:
    state = service_state(request)
    media, body = await read_bulk(request)
    limit = state.settings.ingest.max_bulk_records
    now = state.ingest_now()
    with state.writer.incoming():
        if kind is BatchKind.PREDICTIONS:
            # Read and validated in a validation worker (the bytes travel as they came).
            return await state.pool.predictions_from_upload(spec, body, kind=media, now=now,
                                                            version=version, max_rows=limit)
        return await asyncio.to_thread(actuals_from_upload, spec, body, kind=media, now=now,
                                       max_rows=limit)


_BULK_DOC = body_doc(content_types=tuple(BULK_TYPES), binary=True)


@router.post("/models/{model}/predictions/bulk",
             summary="Upload many predictions as NDJSON, Arrow IPC or Parquet (all or nothing)",
             openapi_extra=_BULK_DOC, responses={200: {"model": IngestResponse}, **_ERRORS})
async def upload_predictions(
    request: Request, model: str,
    version: str | None = Query(None, pattern=NAME_PATTERN,
                                description="Version of rows without one (a name: letters, "
                                "digits, '_ . -', 1-128 characters)."),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Response:
    state = service_state(request)
    current_model.set(model)
    spec = state.spec(model)
    table = await _bulk_table(request, spec, BatchKind.PREDICTIONS, version)
    batch = await _batch(request, BatchKind.PREDICTIONS, model, table, idempotency_key, version)
    [result] = await _store(state, [batch])
    body = {"accepted": result.inserted, "duplicates": result.duplicates,
            "replayed": result.replayed}
    return json_response(body)


@router.post("/actuals", summary="Log the actual outcome of one prediction",
             openapi_extra=body_doc(ActualRecord), responses={200: {"model": IngestResponse}, **_ERRORS})
async def log_actual(request: Request) -> Response:
    state = service_state(request)
    record = require_object(await read_json(request), "an actual record")
    spec = state.spec(_model_name(record))
    table = await state.coalescer.validate(actuals_from_records, spec, record, state.ingest_now())
    [result] = await _store(state, [WriteBatch(BatchKind.ACTUALS, spec.name, table)])
    return json_response({"accepted": result.inserted, "replayed": result.replayed,
                  "ids": table.column("prediction_id").to_pylist()})


@router.post("/actuals/batch", summary="Log a batch of actuals (all or nothing)",
             openapi_extra=body_doc(ActualBatchBody), responses={200: {"model": IngestResponse}, **_ERRORS})
async def log_actuals(
    request: Request, idempotency_key: str | None = Header(None, alias="Idempotency-Key")
) -> Response:
    state = service_state(request)
    model, records = _envelope(await read_json(request), state.settings.ingest.max_batch_records,
                               {"model", "records"})
    spec = state.spec(model)
    table = await _validate(actuals_from_records, spec, records, now=state.ingest_now())
    batch = await _batch(request, BatchKind.ACTUALS, model, table, idempotency_key)
    [result] = await _store(state, [batch])
    return json_response({"accepted": result.inserted, "replayed": result.replayed,
                  "ids": table.column("prediction_id").to_pylist()})


@router.post("/models/{model}/actuals/bulk",
             summary="Upload many actuals as NDJSON, Arrow IPC or Parquet (all or nothing)",
             openapi_extra=_BULK_DOC, responses={200: {"model": IngestResponse}, **_ERRORS})
async def upload_actuals(
    request: Request, model: str,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Response:
    state = service_state(request)
    current_model.set(model)
    spec = state.spec(model)
    table = await _bulk_table(request, spec, BatchKind.ACTUALS, None)
    batch = await _batch(request, BatchKind.ACTUALS, model, table, idempotency_key)
    [result] = await _store(state, [batch])
    return json_response({"accepted": result.inserted, "replayed": result.replayed})


@router.post("/events", summary="Log custom or business metric events (one, or a batch)",
             openapi_extra=body_doc(MetricEventRecord, MetricEventBatchBody),
             responses={200: {"model": IngestResponse}, **_ERRORS})
async def log_events(
    request: Request, idempotency_key: str | None = Header(None, alias="Idempotency-Key")
) -> Response:
    state = service_state(request)
    data = require_object(await read_json(request), "a metric event")
    if "records" in data:
        model, records = _envelope(data, state.settings.ingest.max_batch_records, {"model", "records"})
        spec = state.spec(model)
        table = metric_events_from_records(spec, records, now=state.ingest_now())
    else:
        spec = state.spec(_model_name(data))
        table = metric_events_from_records(spec, [data], now=state.ingest_now(), prefix=(), single=True)
    batch = await _batch(request, BatchKind.METRIC_EVENTS, spec.name, table, idempotency_key)
    [result] = await _store(state, [batch])
    return json_response({"accepted": result.inserted, "replayed": result.replayed})


@router.post("/models/{model}/feature-importance", summary="Log a feature-importance snapshot",
             openapi_extra=body_doc(FeatureImportanceBody),
             responses={200: {"model": StoredBody}, **_ERRORS})
async def log_feature_importance(
    request: Request, model: str,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Response:
    state = service_state(request)
    current_model.set(model)
    spec = state.spec(model)
    data = require_object(await read_json(request), "a feature-importance snapshot")
    table = feature_importance_from_record(spec, data, now=state.ingest_now())
    batch = await _batch(request, BatchKind.FEATURE_IMPORTANCE, model, table, idempotency_key)
    [result] = await _store(state, [batch])
    return json_response({"accepted": result.inserted, "replayed": result.replayed})


@router.post("/models/{model}/training-runs",
             summary="Log a training run or an online-learning update",
             openapi_extra=body_doc(TrainingRunBody),
             responses={200: {"model": TrainingRunStored}, **_ERRORS})
async def log_training_run(
    request: Request, model: str,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Response:
    state = service_state(request)
    current_model.set(model)
    spec = state.spec(model)
    data = require_object(await read_json(request), "a training run")
    table = training_run_from_record(spec, data, now=state.ingest_now())
    batch = await _batch(request, BatchKind.TRAINING_RUNS, model, table, idempotency_key)
    [result] = await _store(state, [batch])
    return json_response({"accepted": result.inserted, "replayed": result.replayed,
                  "run_id": table.column("run_id")[0].as_py()})

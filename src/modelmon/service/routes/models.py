"""Model registry routes: models, versions, events, stored predictions and training history."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from modelmon.config.admission import admit_spec, check_size
from modelmon.config.models import ModelSpec
from modelmon.config.settings import RegistrySettings
from modelmon.exceptions import NotFoundError, ValidationError
from modelmon.service.auth import principal_of
from modelmon.service.logs import current_model, current_request_id
from modelmon.service.openapi import body_doc, error_responses
from modelmon.service.params import time_range
from modelmon.service.responses_models import (
    CountsBody,
    DeletionBody,
    ImportanceBody,
    ModelBody,
    ModelEventsBody,
    ModelsBody,
    PredictionBody,
    TrainingRunsBody,
    VersionInfoBody,
    VersionsBody,
)
from modelmon.service.routes._body import (
    json_response,
    read_json,
    require_object,
    service_state,
    validated,
)
from modelmon.service.schemas import DeleteDataBody, VersionBody
from modelmon.service.state import ServiceState
from modelmon.store.base import BatchKind, ModelInfo

router = APIRouter(prefix="/v1/models", tags=["models"])
log = logging.getLogger("modelmon.service")

_ERRORS = error_responses(400, 401, 404, 415, 422)


def parse_spec(data: Any, settings: RegistrySettings, *, name: str | None = None) -> ModelSpec:
    """A :class:`ModelSpec` from a JSON body, with errors as ``{"code", "message", "loc"}``, as
    the server stores it (see :func:`~modelmon.config.admission.admit_spec`)."""
    body = require_object(data, "a model spec")
    check_size(body, settings)
    if name is not None:
        if body.get("name", name) != name:
            raise ValidationError(f"the body names model {body['name']!r} but the URL names {name!r}",
                                  code="invalid_value", loc=("name",))
        body = {**body, "name": name}
    spec = validated(ModelSpec, body)
    return admit_spec(spec, settings)


def _spec_doc() -> dict[str, Any]:
    return body_doc(ModelSpec)


@router.get("", summary="List models", responses={200: {"model": ModelsBody}})
async def list_models(request: Request) -> Response:
    infos = await asyncio.to_thread(service_state(request).store.list_models)
    only = principal_of(request).models  # a key limited to some models sees those
    return json_response({"models": [i.to_dict() for i in infos
                                     if only is None or i.name in only]})


def _register(state: ServiceState, data: Any, name: str | None = None) -> tuple[ModelInfo, bool]:
    """Parse, admit and save a spec sent over the API; whether the model existed before."""
    if name is not None:
        state.store.get_model(name)
    spec = parse_spec(data, state.settings.registry, name=name)
    existed = spec.name in {m.name for m in state.store.list_models()}
    return state.store.save_model(spec, source="api"), existed


@router.post("", summary="Register a model (or update it if the name exists)",
             openapi_extra=_spec_doc(), status_code=201,
             responses={201: {"model": ModelBody, "description": "The model was created"},
                        200: {"model": ModelBody,
                              "description": "The model existed: its spec is a new revision"},
                        **_ERRORS})
async def register_model(request: Request) -> Response:
    data = await read_json(request)
    if isinstance(data, dict) and isinstance(data.get("name"), str):
        current_model.set(data["name"])
    # Off the event loop: a spec of many features takes a while to parse and to store.
    info, existed = await asyncio.to_thread(_register, service_state(request), data)
    return json_response(info.to_dict(), 200 if existed else 201)


@router.get("/{model}", summary="One model with its current spec",
            responses={200: {"model": ModelBody}, **_ERRORS})
async def get_model(request: Request, model: str) -> Response:
    info = await asyncio.to_thread(service_state(request).store.get_model, model)
    return json_response(info.to_dict())


@router.put("/{model}", summary="Replace a model's spec (a new revision)",
            openapi_extra=_spec_doc(), responses={200: {"model": ModelBody}, **_ERRORS})
async def update_model(request: Request, model: str) -> Response:
    current_model.set(model)
    data = await read_json(request)
    info, _ = await asyncio.to_thread(_register, service_state(request), data, model)
    return json_response(info.to_dict())


@router.get("/{model}/versions", summary="Versions of a model",
            responses={200: {"model": VersionsBody}, **_ERRORS})
async def list_versions(request: Request, model: str) -> Response:
    versions = await asyncio.to_thread(service_state(request).store.list_versions, model)
    return json_response({"versions": [v.to_dict() for v in versions]})


@router.post("/{model}/versions", summary="Register a version or change its stage",
             openapi_extra=body_doc(VersionBody), status_code=201,
             responses={201: {"model": VersionInfoBody}, **_ERRORS})
async def register_version(request: Request, model: str) -> Response:
    state = service_state(request)
    current_model.set(model)
    v = validated(VersionBody, require_object(await read_json(request), "a version"))
    info = await asyncio.to_thread(state.store.register_version, model, v.version,
                                   metadata=v.metadata, stage=v.stage)
    return json_response(info.to_dict(), 201)


@router.get("/{model}/events", summary="Model events (created, spec updated, schema changes, "
            "versions), newest first", responses={200: {"model": ModelEventsBody}, **_ERRORS})
async def list_events(
    request: Request, model: str, kind: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    before: int | None = Query(None, ge=1, description="Return events with a smaller id"),
) -> Response:
    events = await asyncio.to_thread(service_state(request).store.list_events, model, kind=kind,
                                     limit=limit, before_id=before)
    next_before = events[-1].id if len(events) == limit else None
    return json_response({"events": [e.to_dict() for e in events], "next_before": next_before})


@router.get("/{model}/predictions/{prediction_id}", summary="One stored prediction and its actual",
            responses={200: {"model": PredictionBody}, **_ERRORS})
async def get_prediction(request: Request, model: str, prediction_id: str) -> Response:
    row = await asyncio.to_thread(service_state(request).store.get_prediction, model,
                                  prediction_id)
    if row is None:
        raise NotFoundError(f"model {model!r} has no prediction {prediction_id!r}",
                            loc=("prediction_id",))
    return json_response(row)


@router.get("/{model}/counts", summary="Stored predictions, actuals and events",
            responses={200: {"model": CountsBody}, **_ERRORS})
async def counts(request: Request, model: str,
                 start: str | None = Query(None, description="ISO 8601 time (inclusive)"),
                 end: str | None = Query(None, description="ISO 8601 time (exclusive)"),
                 ) -> Response:
    s, e = time_range(start, end)
    store = service_state(request).store

    def count_all() -> dict[str, int]:
        store.get_model(model)
        return {kind.value: store.count(model, kind, start=s, end=e) for kind in BatchKind}

    out = await asyncio.to_thread(count_all)
    return json_response({"model": model, "start": s, "end": e, **out})


@router.post("/{model}/delete-data",
             summary="Delete stored predictions and their actuals (by time range, version or ids)",
             openapi_extra=body_doc(DeleteDataBody),
             responses={200: {"model": DeletionBody}, **_ERRORS})
async def delete_data(request: Request, model: str) -> Response:
    current_model.set(model)
    what = validated(DeleteDataBody, require_object(await read_json(request), "a deletion"))
    start, end = time_range(what.start, what.end, where=())
    filtered = what.start or what.end or what.version or what.prediction_ids is not None
    if what.all == bool(filtered):
        raise ValidationError(
            "name what to delete: 'start' and/or 'end', 'version', 'prediction_ids', or "
            "'all': true for every prediction of the model (not both)",
            code="missing_field" if not filtered else "invalid_value", loc=("all",))
    state = service_state(request)
    gone = await asyncio.to_thread(
        state.store.delete_predictions, model, start=start, end=end, version=what.version,
        prediction_ids=what.prediction_ids,
        details={"all": what.all, "source": "api", "request_id": current_request_id.get()})
    log.info("deleted %d predictions and %d actuals of model %s (event %d)",
                gone.predictions, gone.actuals, model, gone.event_id)
    return json_response(gone.to_dict())


@router.get("/{model}/feature-importance", summary="Feature-importance snapshots",
            responses={200: {"model": ImportanceBody}, **_ERRORS})
async def feature_importance(request: Request, model: str,
                             limit: int = Query(1000, ge=1, le=100_000)) -> Response:
    table = await asyncio.to_thread(service_state(request).store.read_table, model,
                                    BatchKind.FEATURE_IMPORTANCE, limit=limit)
    return json_response({"rows": table.to_pylist()})


@router.get("/{model}/training-runs", summary="Training runs and online-learning updates, "
            "with a summary", responses={200: {"model": TrainingRunsBody}, **_ERRORS})
async def training_runs(request: Request, model: str,
                        limit: int = Query(1000, ge=1, le=100_000)) -> Response:
    table = await asyncio.to_thread(service_state(request).store.read_table, model,
                                    BatchKind.TRAINING_RUNS, limit=limit)
    rows = table.to_pylist()
    for r in rows:
        if r.get("details"):
            r["details"] = json.loads(r["details"])
    summary: dict[str, Any] = {}
    for kind in ("training", "online_update"):
        runs = [r for r in rows if r["kind"] == kind]
        done = [r for r in runs if r["status"] == "success"]
        durations = [r["duration_seconds"] for r in runs if r["duration_seconds"] is not None]
        summary[kind] = {
            "count": len(runs),
            "succeeded": len(done),
            "failed": sum(r["status"] == "failed" for r in runs),
            "last_success_at": max((r["finished_at"] or r["started_at"] for r in done), default=None),
            "mean_duration_seconds": sum(durations) / len(durations) if durations else None,
        }
    return json_response({"summary": summary, "runs": rows})

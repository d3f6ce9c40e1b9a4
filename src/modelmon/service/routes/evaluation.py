"""Triggering evaluation: run a cycle now instead of waiting for the scheduler."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from modelmon.evaluation.backfill import BackfillJobs
from modelmon.exceptions import NotFoundError, StoreError
from modelmon.service.openapi import error_responses
from modelmon.service.responses_ops import BackfillBody, CycleBody, CycleTimeoutBody, ModelCycleBody
from modelmon.service.routes._body import json_response
from modelmon.service.state import ServiceState

router = APIRouter(prefix="/v1", tags=["evaluation"])


@router.post("/evaluate", summary="Run an evaluation cycle over every model now and wait for it",
             responses={200: {"model": CycleBody | CycleTimeoutBody}, **error_responses(401, 503)})
async def evaluate_all(request: Request) -> Response:
    state: ServiceState = request.app.state.mm
    if state.scheduler is None:
        raise StoreError("the evaluation scheduler is not available")
    summary = await asyncio.to_thread(state.scheduler.run_now)
    return json_response(summary.to_dict() if summary is not None else {"status": "timeout"})


@router.post("/models/{model}/evaluate", summary="Evaluate one model now and wait for it",
             responses={200: {"model": ModelCycleBody}, **error_responses(401, 404, 503)})
async def evaluate_model(request: Request, model: str) -> Response:
    state: ServiceState = request.app.state.mm
    await asyncio.to_thread(state.store.get_model, model)
    if state.scheduler is None:
        raise StoreError("the evaluation scheduler is not available")
    result = await asyncio.to_thread(state.scheduler.evaluator.evaluate_model, model)
    return json_response(result.__dict__)


def _jobs(state: ServiceState) -> BackfillJobs:
    if state.backfills is None:
        raise StoreError("the evaluation scheduler is not available")
    return state.backfills


@router.post("/models/{model}/backfill",
             summary="Evaluate and judge a model's whole history in the background",
             status_code=202,
             responses={202: {"model": BackfillBody}, **error_responses(401, 404, 409, 503)})
async def start_backfill(request: Request, model: str) -> Response:
    """Starts a backfill job (``409 conflict`` when one is running); ``GET`` the same path for
    its progress. Scheduled evaluation of the other models goes on meanwhile."""
    state: ServiceState = request.app.state.mm
    await asyncio.to_thread(state.store.get_model, model)
    job = _jobs(state).start(model)
    return json_response(job.to_dict(), status=202)


@router.get("/models/{model}/backfill", summary="The progress of a model's latest backfill",
            responses={200: {"model": BackfillBody}, **error_responses(401, 404, 503)})
async def backfill_progress(request: Request, model: str) -> Response:
    state: ServiceState = request.app.state.mm
    await asyncio.to_thread(state.store.get_model, model)
    job = _jobs(state).get(model)
    if job is None:
        raise NotFoundError(f"model {model!r} has no backfill yet: POST this path to start one",
                            loc=("model",))
    return json_response(job.to_dict())

"""Triggering evaluation: run a cycle now instead of waiting for the scheduler."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from modelmon.exceptions import StoreError
from modelmon.service.openapi import error_responses
from modelmon.service.routes._body import json_response
from modelmon.service.state import ServiceState

router = APIRouter(prefix="/v1", tags=["evaluation"])


@router.post("/evaluate", summary="Run an evaluation cycle over every model now and wait for it",
             responses=error_responses(401, 503))
async def evaluate_all(request: Request) -> Response:
    state: ServiceState = request.app.state.mm
    if state.scheduler is None:
        raise StoreError("the evaluation scheduler is not available")
    summary = await asyncio.to_thread(state.scheduler.run_now)
    return json_response(summary.to_dict() if summary is not None else {"status": "timeout"})


@router.post("/models/{model}/evaluate", summary="Evaluate one model now and wait for it",
             responses=error_responses(401, 404, 503))
async def evaluate_model(request: Request, model: str) -> Response:
    state: ServiceState = request.app.state.mm
    state.store.get_model(model)
    if state.scheduler is None:
        raise StoreError("the evaluation scheduler is not available")
    result = await asyncio.to_thread(state.scheduler.evaluator.evaluate_model, model)
    return json_response(result.__dict__)

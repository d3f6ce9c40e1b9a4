"""Action routes: what actions ran (or were skipped, or wait), their definitions, approval.

Records come from the store (off the event loop); approving and rejecting go through the action
runner. Errors are ``{code, message, loc}`` as everywhere else.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from modelmon.actions.record import ActionState
from modelmon.exceptions import NotFoundError, StoreError, ValidationError
from modelmon.service.openapi import body_doc, error_responses
from modelmon.service.params import next_page, parse_time, time_range
from modelmon.service.responses_alerts import ActionBody, ActionsBody, DefinitionsBody
from modelmon.service.routes._body import json_response, read_json, require_object, validated

router = APIRouter(prefix="/v1/actions", tags=["actions"])

_ERRORS = error_responses(400, 401, 404, 409, 415, 422, 503)
_STATES = Query(None, description="repeat: " + ", ".join(ActionState.ALL))


class DecisionBody(BaseModel):
    """Approve or reject an action waiting for approval: who and why."""

    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=200)
    note: str = Field("", max_length=2000)


def _runner(request: Request) -> Any:
    runner = request.app.state.mm.actions
    if runner is None:
        raise StoreError("actions are not started yet")
    return runner


@router.get("", summary="Action records, newest first (every trigger: run, skipped, waiting)",
            responses={200: {"model": ActionsBody}, **_ERRORS})
async def list_actions(
    request: Request,
    model: str | None = Query(None), action: str | None = Query(None),
    rule: str | None = Query(None),
    state: list[str] | None = _STATES,
    start: str | None = Query(None, description="ISO 8601; records created at or after"),
    end: str | None = Query(None, description="ISO 8601; records created before"),
    before: str | None = Query(None, description="the cursor of `next`"),
    limit: int = Query(100, ge=1, le=10_000),
) -> Response:
    for s in state or ():
        if s not in ActionState.ALL:
            raise ValidationError(f"'state' must be one of {', '.join(ActionState.ALL)}; got "
                                  f"{s!r}", code="invalid_value", loc=("query", "state"))
    lo, hi = time_range(start, end)
    cursor = parse_time(before, "before")
    runner = _runner(request)
    rows = await asyncio.to_thread(runner.store.list_actions, model=model, action=action,
                                   rule=rule, state=state, start=lo, end=hi, before=cursor,
                                   limit=limit + 1)
    page, nxt = next_page(request.url, rows, limit, lambda r: r.created_at)
    return json_response({"actions": [r.to_dict() for r in page], "next": nxt})


@router.get("/definitions", summary="The configured actions (secrets shown as ***)",
            responses={200: {"model": DefinitionsBody}, **_ERRORS})
async def definitions(request: Request) -> Response:
    runner = _runner(request)
    return json_response({"dry_run": runner.settings.dry_run,
                          "actions": [a.describe() for a in runner.settings.definitions]})


@router.get("/{action_id}", summary="One action record", responses={200: {"model": ActionBody}, **_ERRORS})
async def get_action(request: Request, action_id: str) -> Response:
    found = await asyncio.to_thread(_runner(request).store.get_action, action_id)
    if found is None:
        raise NotFoundError(f"no action {action_id!r}", loc=("action_id",))
    return json_response(found.to_dict())


async def _decide(request: Request, action_id: str, approve: bool) -> Response:
    body = validated(DecisionBody, require_object(await read_json(request), "a decision"))
    runner = _runner(request)
    do = runner.approve if approve else runner.reject
    record = await asyncio.to_thread(do, action_id, body.by, body.note)
    return json_response(record.to_dict())


@router.post("/{action_id}/approve", summary="Approve an action waiting for approval (it runs "
             "at once)", openapi_extra=body_doc(DecisionBody), responses={200: {"model": ActionBody}, **_ERRORS})
async def approve(request: Request, action_id: str) -> Response:
    return await _decide(request, action_id, True)


@router.post("/{action_id}/reject", summary="Reject an action waiting for approval",
             openapi_extra=body_doc(DecisionBody), responses={200: {"model": ActionBody}, **_ERRORS})
async def reject(request: Request, action_id: str) -> Response:
    return await _decide(request, action_id, False)

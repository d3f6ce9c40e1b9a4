"""``/ui/actions``: the actions log (every trigger: run, skipped, dry run, waiting), with
approve and reject for actions waiting for approval. The forms call what
``POST /v1/actions/{id}/approve|reject`` calls (the action runner) and redirect back; a
read-only session sees no forms, and its posts are refused (403)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from modelmon.dashboard.access import Viewer
from modelmon.dashboard.data.actions import actions_page
from modelmon.dashboard.pages._common import page
from modelmon.dashboard.pages._forms import form_action, who
from modelmon.exceptions import StoreError
from modelmon.service.params import parse_time

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/actions")
async def actions_view(request: Request, session: Viewer) -> HTMLResponse:
    state = request.app.state.mm
    q = request.query_params

    def build() -> dict[str, Any]:
        before = parse_time(q.get("before") or None, "before")
        return {"data": actions_page(state.actions, model=q.get("model") or None,
                                     state=q.get("state") or None, before=before)}

    return await page(request, session, "actions.html.j2", build, nav="actions",
                      done=q.get("done"), failed=q.get("error"))


def _runner(request: Request) -> Any:
    runner = request.app.state.mm.actions
    if runner is None:
        raise StoreError("actions are not started (alerting is off)")
    return runner


async def _decide(request: Request, action_id: str, session: Any, approve: bool) -> Response:
    def action(form: dict[str, str]) -> str:
        runner = _runner(request)
        do = runner.approve if approve else runner.reject
        record = do(action_id, who(session, form), form.get("note", "")[:2000])
        return (f"{'approved' if approve else 'rejected'} {record.action} of "
                f"{record.model or 'the service'}")

    return await form_action(request, session, action, back="/ui/actions", nav="actions")


@router.post("/actions/{action_id}/approve")
async def approve(request: Request, action_id: str, session: Viewer) -> Response:
    return await _decide(request, action_id, session, True)


@router.post("/actions/{action_id}/reject")
async def reject(request: Request, action_id: str, session: Viewer) -> Response:
    return await _decide(request, action_id, session, False)

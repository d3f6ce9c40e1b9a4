"""``/ui/``: every model at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from modelmon.dashboard.access import Viewer
from modelmon.dashboard.data.overview import overview
from modelmon.dashboard.pages._common import page

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> Response:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui")
async def ui_root() -> Response:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui/")
async def overview_page(request: Request, session: Viewer) -> HTMLResponse:
    state = request.app.state.mm
    return await page(request, session, "overview.html.j2",
                      lambda: {"data": overview(state.store, state.alerts)}, nav="overview")

"""``/ui/system``: the host and the service; ``/ui/system/sample`` feeds its live charts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from modelmon.dashboard.access import Viewer
from modelmon.dashboard.data.system import service_figures, system_page
from modelmon.dashboard.pages._common import off_loop, page
from modelmon.service.routes._body import json_response
from modelmon.service.routes.system import _monitor

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/system")
async def system_view(request: Request, session: Viewer) -> HTMLResponse:
    state = request.app.state.mm
    monitor = _monitor(request)

    def build() -> dict[str, Any]:
        return {"data": system_page(state, monitor.snapshot())}

    return await page(request, session, "system.html.j2", build, nav="system")


@router.get("/system/sample")
async def system_sample(request: Request, session: Viewer) -> Response:
    """One sample for the page's live charts: CPU, memory and the service's counters."""
    state = request.app.state.mm
    monitor = _monitor(request)

    def build() -> dict[str, Any]:
        host = monitor.snapshot()
        return {"time": host["time"], "cpu": host["cpu"]["utilization_ratio"],
                "memory": host["memory"]["used_bytes"] / max(host["memory"]["total_bytes"], 1),
                "service": service_figures(state)}

    return json_response(await off_loop(build))

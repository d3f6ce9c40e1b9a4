"""``/ui/alerts``: active alerts, history and silences; acknowledging, silencing and expiring from
the page. Each form calls what the JSON API calls (``AlertEngine.acknowledge``,
``build_silence`` + ``add_silence``, ``expire_silence``) and redirects back (post/redirect/get).
A read-only session sees no forms, and its posts are refused (403)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from modelmon.dashboard.access import Viewer
from modelmon.dashboard.data.alerts import alerts_page
from modelmon.dashboard.pages._common import page
from modelmon.dashboard.pages._forms import form_action, who
from modelmon.dashboard.sessions import Session
from modelmon.exceptions import StoreError
from modelmon.service.params import parse_time
from modelmon.service.routes._body import validated
from modelmon.service.routes.alerts import SilenceBody, build_silence

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/alerts")
async def alerts_view(request: Request, session: Viewer) -> HTMLResponse:
    state = request.app.state.mm
    q = request.query_params

    def build() -> dict[str, Any]:
        before = parse_time(q.get("before") or None, "before")
        return {"data": alerts_page(state.alerts, state.clock(), model=q.get("model") or None,
                                    before=before)}

    return await page(request, session, "alerts.html.j2", build, nav="alerts",
                      done=q.get("done"), failed=q.get("error"))


def _engine(request: Request) -> Any:
    engine = request.app.state.mm.alerts
    if engine is None:
        raise StoreError("alerting is off (alerts.enabled: false) or not started yet")
    return engine


async def _act(request: Request, session: Session, action: Any) -> Response:
    return await form_action(request, session, action, back="/ui/alerts", nav="alerts")


@router.post("/alerts/{fingerprint}/ack")
async def ack(request: Request, fingerprint: str,
              session: Viewer) -> Response:
    state = request.app.state.mm

    def action(form: dict[str, str]) -> str:
        acked = _engine(request).acknowledge(fingerprint, who(session, form),
                                             form.get("note", "")[:2000], state.clock())
        return f"acknowledged {acked.rule}"

    return await _act(request, session, action)


@router.post("/silences")
async def create_silence(request: Request, session: Viewer) -> Response:
    state = request.app.state.mm

    def action(form: dict[str, str]) -> str:
        matchers = [line.strip() for line in form.get("matchers", "").splitlines()
                    if line.strip()]
        body = validated(SilenceBody, {
            "matchers": matchers, "duration": form.get("duration") or "1h",
            "created_by": who(session, form), "comment": form.get("comment", "")})
        now = state.clock()
        silence = build_silence(body, now)
        engine = _engine(request)
        engine.add_silence(silence)
        n = len(engine.matching(silence.matchers))
        return f"silence {silence.silence_id[:8]} created; it matches {n} active alert(s)"

    return await _act(request, session, action)


@router.post("/silences/{silence_id}/expire")
async def expire_silence(request: Request, silence_id: str,
                         session: Viewer) -> Response:
    state = request.app.state.mm

    def action(form: dict[str, str]) -> str:
        _engine(request).expire_silence(silence_id, state.clock())
        return f"silence {silence_id[:8]} expired"

    return await _act(request, session, action)

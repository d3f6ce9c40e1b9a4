"""``/ui/alerts``: active alerts, history and silences; acknowledging, silencing and expiring from
the page. Each form calls what the JSON API calls (``AlertEngine.acknowledge``,
``build_silence`` + ``add_silence``, ``expire_silence``) and redirects back (post/redirect/get).
A read-only session sees no forms, and its posts are refused (403)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from modelmon.dashboard.access import Viewer, WriteForbidden, check_form
from modelmon.dashboard.data.alerts import alerts_page
from modelmon.dashboard.pages._common import off_loop, page, render
from modelmon.dashboard.sessions import Session
from modelmon.exceptions import ModelmonError, StoreError
from modelmon.service.errors import status_for
from modelmon.service.params import parse_time
from modelmon.service.routes._body import validated
from modelmon.service.routes.alerts import SilenceBody, build_silence

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)


def _back(message: str, error: bool = False) -> Response:
    key = "error" if error else "done"
    return RedirectResponse(f"/ui/alerts?{key}={quote(message)}", status_code=303)


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


async def _form(request: Request, session: Session) -> dict[str, str]:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    check_form(request, session, form)
    return form


def _engine(request: Request) -> Any:
    engine = request.app.state.mm.alerts
    if engine is None:
        raise StoreError("alerting is off (alerts.enabled: false) or not started yet")
    return engine


def _who(session: Session, form: dict[str, str]) -> str:
    given = form.get("by", "").strip()
    if session.name != "anonymous":
        return session.name
    return given or "dashboard"


async def _act(request: Request, session: Session, action: Any) -> Response:
    try:
        form = await _form(request, session)
        message = await off_loop(action, form)
    except WriteForbidden as exc:
        return render(request, session, "error.html.j2", status=403, nav="alerts",
                      error=exc)
    except ModelmonError as exc:
        if status_for(exc) == 404:
            return _back(exc.message, error=True)
        return _back(f"{exc.message} ({'.'.join(str(p) for p in exc.loc)})"
                     if exc.loc else exc.message, error=True)
    return _back(message)


@router.post("/alerts/{fingerprint}/ack")
async def ack(request: Request, fingerprint: str,
              session: Viewer) -> Response:
    state = request.app.state.mm

    def action(form: dict[str, str]) -> str:
        acked = _engine(request).acknowledge(fingerprint, _who(session, form),
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
            "created_by": _who(session, form), "comment": form.get("comment", "")})
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

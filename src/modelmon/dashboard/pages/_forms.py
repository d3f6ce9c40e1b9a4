"""Forms that change something (post/redirect/get): check the session and its CSRF token (and
audit the attempt), run the change off the event loop, redirect back with what happened."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from modelmon.dashboard.access import WriteForbidden, check_form
from modelmon.dashboard.pages._common import off_loop, render
from modelmon.dashboard.sessions import Session
from modelmon.exceptions import ModelmonError
from modelmon.service.errors import status_for

__all__ = ["form_action", "who"]


def _back(path: str, message: str, error: bool = False) -> Response:
    key = "error" if error else "done"
    return RedirectResponse(f"{path}?{key}={quote(message)}", status_code=303)


def who(session: Session, form: dict[str, str]) -> str:
    """Who acted: the session's key name, or (open dashboard) the form's ``by``."""
    given = form.get("by", "").strip()
    if session.name != "anonymous":
        return session.name
    return given or "dashboard"


async def form_action(request: Request, session: Session, action: Callable[[dict[str, str]], str],
                      *, back: str, nav: str) -> Response:
    """Run ``action(form)`` (its answer: the message shown) and redirect to ``back``."""
    try:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        check_form(request, session, form)
        message = await off_loop(action, form)
    except WriteForbidden as exc:
        return render(request, session, "error.html.j2", status=403, nav=nav, error=exc)
    except ModelmonError as exc:
        if status_for(exc) == 404:
            return _back(back, exc.message, error=True)
        return _back(back, f"{exc.message} ({'.'.join(str(p) for p in exc.loc)})"
                     if exc.loc else exc.message, error=True)
    return _back(back, message)

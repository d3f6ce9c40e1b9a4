"""What every page handler shares: rendering with the base context, running the data layer off
the event loop, and error pages for the mistakes a person can make in a URL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse

import modelmon
from modelmon.dashboard.render import environment
from modelmon.dashboard.sessions import Session
from modelmon.dashboard.views import VIEW_TITLES, shows_for, view_of
from modelmon.exceptions import ModelmonError
from modelmon.service.errors import status_for
from modelmon.service.logs import current_model

__all__ = ["off_loop", "page", "render"]

T = TypeVar("T")


def render(request: Request, session: Session, template: str, *, status: int = 200,
           **context: Any) -> HTMLResponse:
    """``template`` with the base context: who is signed in, the role view, the nav."""
    view = view_of(request.query_params.get("view"))
    base = {
        "request": request, "session": session, "view": view, "views": VIEW_TITLES,
        "shows": shows_for(view), "auth": request.app.state.mm.keyring.required,
        "version": modelmon.__version__, "path": request.url.path,
        "query": dict(request.query_params), "model": None, "tab": None,
    }
    html = environment().get_template(template).render(**{**base, **context})
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


async def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking data function in a thread (store queries block)."""
    return await asyncio.to_thread(fn, *args, **kwargs)


async def page(request: Request, session: Session, template: str,
               build: Callable[[], dict[str, Any]], *, model: str | None = None,
               **context: Any) -> HTMLResponse:
    """Build the page's data off the loop and render it; a modelmon error (unknown model, bad
    parameter) renders an error page with the API's status and message."""
    if model is not None:
        current_model.set(model)
    try:
        data = await off_loop(build)
    except ModelmonError as exc:
        return render(request, session, "error.html.j2", status=status_for(exc),
                      error=exc, model=model, **context)
    return render(request, session, template, model=model, **context, **data)

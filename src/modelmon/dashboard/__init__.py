"""The web dashboard, served by the service itself under ``/ui/`` (nothing else to run).

Pages (server-rendered with Jinja2; charts drawn by uPlot and a small script shipped in the
package, no CDN): overview ``/ui/``; a model ``/ui/models/{m}`` (metrics with bands and markers,
verdicts, versions) with tabs ``/drift``, ``/quality``, ``/fairness``, ``/importance`` and
``/reports``; alerts ``/ui/alerts`` (silences and acknowledgements); actions ``/ui/actions`` (the log, approval); system ``/ui/system``.
``?view=executive|operations|science`` selects a role view of the same components
(:mod:`modelmon.dashboard.views`). With API keys configured, pages need signing in
(:mod:`modelmon.dashboard.sessions`). ``docs/dashboard.md`` describes every page.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from modelmon.dashboard.access import SignInRequired

__all__ = ["install_dashboard"]


def install_dashboard(app: FastAPI) -> None:
    """Add the dashboard's routes (and its sign-in redirect) to the service."""
    from modelmon.dashboard.pages import actions, alerts, models, overview, signin, system

    for module in (overview, models, alerts, actions, system, signin):
        app.include_router(module.router)

    async def sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        return RedirectResponse(exc.next_url, status_code=303)

    app.add_exception_handler(SignInRequired, sign_in)

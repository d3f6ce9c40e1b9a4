"""Signing in and out of the dashboard with an API key (when the service has keys), and the
static assets."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from modelmon.access.keys import Role
from modelmon.dashboard.access import OPEN_SESSION, signer
from modelmon.dashboard.assets import asset_bytes, asset_hash, media_type
from modelmon.dashboard.pages._common import render
from modelmon.dashboard.sessions import COOKIE
from modelmon.exceptions import ModelmonError
from modelmon.service.auth import check_key

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no scheme, host or ``//``): never an open redirect."""
    if not target:
        return "/ui/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/ui/"
    return target


def _secure(request: Request) -> bool:
    server = request.app.state.mm.settings.server
    public = server.public_url or ""
    return server.tls or request.url.scheme == "https" or public.startswith("https://")


@router.get("/signin")
async def signin_form(request: Request) -> HTMLResponse:
    return render(request, OPEN_SESSION, "signin.html.j2", nav=None,
                  next=_safe_next(request.query_params.get("next")), failed=False)


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await request.form()
    key = str(form.get("key") or "").strip()
    target = _safe_next(str(form.get("next") or ""))
    state = request.app.state.mm
    if not state.keyring.required:
        return render(request, OPEN_SESSION, "signin.html.j2", status=401, nav=None,
                      next=target, failed=False)
    try:  # counted and rate-limited like the API's failures
        principal = check_key(state, request, key)
    except ModelmonError as exc:
        return render(request, OPEN_SESSION, "signin.html.j2",
                      status=429 if exc.code == "rate_limited" else 401, nav=None, next=target,
                      failed=True, refusal=exc.message if exc.code == "rate_limited" else None)
    if principal.role is Role.INGEST or principal.scoped:
        reason = ("an ingest key may only send data" if principal.role is Role.INGEST else
                  "a key limited to some models may use the API, not the dashboard")
        return render(request, OPEN_SESSION, "signin.html.j2", status=403, nav=None,
                      next=target, failed=True, refusal=f"this key cannot sign in: {reason}")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, signer(request).issue(principal.key_id, str(principal.role)),
                        max_age=signer(request).seconds, httponly=True, samesite="lax",
                        secure=_secure(request), path="/ui")
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    response = RedirectResponse("/ui/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="lax",
                           secure=_secure(request))
    return response


@router.get("/assets/{name:path}")
async def asset(request: Request, name: str) -> Response:
    try:
        body = asset_bytes(name)
    except KeyError:
        return Response("not found", status_code=404, media_type="text/plain")
    etag = f'"{asset_hash(name)}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=31536000, immutable"
               if request.query_params.get("v") == asset_hash(name) else "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type(name), headers=headers)

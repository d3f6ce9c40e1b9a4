"""HTTP error responses: every error is ``{"code", "message", "loc"}`` with a fitting status.

Client mistakes are 4xx with a stable code (see ``docs/errors.md``); a 500 means a bug in modelmon,
never something a client sent.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from modelmon.exceptions import (
    ConfigError,
    ConflictError,
    ModelmonError,
    NotFoundError,
    OverloadedError,
    StoreError,
    ValidationError,
)

__all__ = ["error_response", "install_error_handlers", "modelmon_error_response", "status_for",
           "unexpected_error_response"]

log = logging.getLogger("modelmon.service")

_STATUS_BY_CODE = {
    "malformed_body": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "rate_limited": 429,
    "payload_too_large": 413,
    "request_timeout": 408,
    "batch_too_large": 413,
    "unsupported_media_type": 415,
    "method_not_allowed": 405,
}


def status_for(exc: ModelmonError) -> int:
    """HTTP status for a modelmon error."""
    if exc.code in _STATUS_BY_CODE:
        return _STATUS_BY_CODE[exc.code]
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, ValidationError | ConfigError):
        return 422
    if isinstance(exc, StoreError):
        return 503
    return 500


def error_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers=headers)


def _count_rejection(request: Request, code: str, status: int) -> None:
    if request.method == "POST" and 400 <= status < 500:
        state = getattr(request.app.state, "mm", None)
        if state is not None:
            state.metrics.rejected.labels(code).inc()


def modelmon_error_response(request: Request, exc: ModelmonError) -> Response:
    """The response for a modelmon error (status, ``Retry-After`` when retrying helps)."""
    status = status_for(exc)
    headers = None
    if isinstance(exc, OverloadedError) or getattr(exc, "retry_after", None) is not None:
        headers = {"Retry-After": str(getattr(exc, "retry_after", 1))}
    elif isinstance(exc, StoreError):
        headers = {"Retry-After": "5"}
        log.error("store error: %s", exc.message)
        # The store's own message names its files and carries the database's error text: the
        # log has it, the client learns what it needs.
        body = {"code": exc.code, "loc": list(exc.loc),
                "message": "the store could not apply the request; nothing was stored (retry "
                           "after Retry-After; the server log has the cause)"}
        return error_response(status, body, headers)
    _count_rejection(request, exc.code, status)
    return error_response(status, exc.to_dict(), headers)


def unexpected_error_response(request: Request) -> Response:
    """A 500 for a bug in modelmon, logged with the exception being handled."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, {"code": "internal_error",
                                "message": "internal error; nothing was stored", "loc": []})


def _allowed_methods(request: Request) -> str:
    """Every method the API documents at this path: Starlette's 405 names only the first
    matching route's (a PATCH of /v1/rules answered ``Allow: GET``, not ``GET, POST``)."""
    path = request.url.path
    for template, operations in request.app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), path):
            return ", ".join(sorted(m.upper() for m in operations))
    return ""


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ModelmonError)
    async def _modelmon(request: Request, exc: ModelmonError) -> Response:
        return modelmon_error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for err in exc.errors():
            kind = err.get("type", "")
            code = ("missing_field" if kind == "missing"
                    else "malformed_body" if kind == "json_invalid"
                    else "invalid_type" if kind.endswith("_type") or kind.endswith("_parsing")
                    else "invalid_value")
            errors.append({"code": code, "message": err.get("msg", "invalid"),
                           "loc": [p for p in err.get("loc", ())]})
        first = errors[0] if errors else {"code": "invalid_value", "message": "invalid request",
                                          "loc": []}
        body = {**first, "errors": errors} if len(errors) > 1 else first
        status = 400 if first["code"] == "malformed_body" else 422
        _count_rejection(request, str(first["code"]), status)
        return error_response(status, body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized",
                413: "payload_too_large", 415: "unsupported_media_type"}.get(
            exc.status_code, "invalid_value" if exc.status_code < 500 else "internal_error")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path}"
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
        return error_response(exc.status_code, {"code": code, "message": message, "loc": []},
                              headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return unexpected_error_response(request)

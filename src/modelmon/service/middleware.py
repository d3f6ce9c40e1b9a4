"""One pure-ASGI middleware for every request: request id, size and time limits of the body,
metrics, access log.

Pure ASGI (not Starlette's ``BaseHTTPMiddleware``) because it sits on the hot ingest path.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import MutableMapping
from typing import Any

import orjson

from modelmon.service.logs import current_model, current_request_id
from modelmon.service.telemetry import ServiceMetrics

__all__ = ["BodyTimeout", "BodyTooLarge", "RequestMiddleware", "UnreadableBody"]

log = logging.getLogger("modelmon.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

Scope = MutableMapping[str, Any]
Message = dict[str, Any]


class UnreadableBody(Exception):
    """Raised by the limited receive; the middleware answers (routes must let it through)."""


class BodyTooLarge(UnreadableBody):
    """The body exceeds ``max_body``: the middleware answers 413."""


class BodyTimeout(UnreadableBody):
    """The body did not arrive within ``body_timeout``: the middleware answers 408 and closes
    the connection (a client that announced more than it sends held connections forever)."""


def _key_id(scope: Scope) -> str | None:
    """The id of the key the request authenticated with (never the key)."""
    principal = scope.get("state", {}).get("principal")
    return getattr(principal, "key_id", None)


class RequestMiddleware:
    """Request id in/out, body-size limit (413), body deadline (408), per-route metrics and an
    access log line."""

    def __init__(self, app: Any, *, metrics: ServiceMetrics, max_body: int, access_log: bool,
                 body_timeout: float = 60.0) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body
        self.access_log = access_log
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _VALID_ID.match(given) else uuid.uuid4().hex
        token = current_request_id.set(request_id)
        model_token = current_model.set(None)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = [500]
        rid_header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], rid_header]
            await send(message)

        length = headers.get(b"content-length")
        try:
            if length is not None and length.isdigit() and int(length) > self.max_body:
                await self._too_large(send_with_id)
                return
            received = 0
            reading = True  # until the last part of the body arrived
            deadline = time.monotonic() + self.body_timeout

            async def limited_receive() -> Message:
                nonlocal received, reading
                if not reading:  # later calls wait for a disconnect: no deadline
                    return await receive()
                try:
                    async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                        message: Message = await receive()
                except TimeoutError:
                    raise BodyTimeout from None
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_body:
                        raise BodyTooLarge
                    reading = bool(message.get("more_body"))
                return message

            try:
                await self.app(scope, limited_receive, send_with_id)
            except BodyTooLarge:
                await self._too_large(send_with_id)
            except BodyTimeout:
                await self._timed_out(send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            status = status_holder[0]
            self.metrics.http_requests.labels(method, template, str(status)).inc()
            self.metrics.http_duration.labels(method, template).observe(elapsed)
            if self.access_log or status >= 500:
                log.log(
                    logging.ERROR if status >= 500 else logging.INFO,
                    "%s %s %s", method, scope.get("path"), status,
                    extra={"status": status, "duration_seconds": round(elapsed, 6),
                           "route": template, "key_id": _key_id(scope)},
                )
            current_request_id.reset(token)
            current_model.reset(model_token)

    async def _too_large(self, send: Any) -> None:
        await self._refuse(send, 413, "payload_too_large",
                           f"request body exceeds the limit of {self.max_body} bytes "
                           "(ingest.max_body_bytes); split the batch")

    async def _timed_out(self, send: Any) -> None:
        # The rest of the body may still come: this connection cannot carry another request.
        await self._refuse(send, 408, "request_timeout",
                           f"the request body did not arrive within {self.body_timeout:g} s "
                           "(server.body_timeout_seconds)", close=True)

    async def _refuse(self, send: Any, status: int, code: str, message: str,
                      close: bool = False) -> None:
        body = orjson.dumps({"code": code, "message": message, "loc": ["body"]})
        self.metrics.rejected.labels(code).inc()
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode())]
        if close:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

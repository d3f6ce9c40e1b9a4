"""Notification routes: the delivery log, receivers and receiver tests.

Receivers are listed by name and integration kinds only: URLs, keys and passwords never leave
the settings.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from modelmon.exceptions import NotFoundError, StoreError, ValidationError
from modelmon.notify.messages import NOTIFICATION_KINDS
from modelmon.service.openapi import error_responses
from modelmon.service.responses_alerts import (
    NotificationsBody,
    NotificationWithPayload,
    ReceiversBody,
    ReceiverTestBody,
)
from modelmon.service.routes._body import json_response
from modelmon.store.notifications import OutboxState

router = APIRouter(prefix="/v1", tags=["notifications"])

_ERRORS = error_responses(400, 401, 404, 422, 503)
_STATES = (OutboxState.QUEUED, OutboxState.DELIVERED, OutboxState.FAILED, OutboxState.EXPIRED)


def _service(request: Request) -> Any:
    service = request.app.state.mm.notifications
    if service is None:
        raise StoreError("notifications are off (alerting is off) or not started yet")
    return service


def _choice(value: str | None, name: str, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise ValidationError(f"'{name}' must be one of {', '.join(allowed)}; got {value!r}",
                              code="invalid_value", loc=("query", name))


@router.get("/notifications", summary="The delivery log: each message to each receiver "
            "integration, newest first", responses={200: {"model": NotificationsBody}, **_ERRORS})
async def list_notifications(
    request: Request,
    receiver: str | None = Query(None), state: str | None = Query(
        None, description="queued, delivered, failed or expired"),
    alert: str | None = Query(None, description="an alert's fingerprint"),
    kind: str | None = Query(None, description="notification, escalation, acknowledge, "
                                               "forward or test"),
    before: int | None = Query(None, ge=1, description="the cursor of `next`"),
    limit: int = Query(100, ge=1, le=1000),
) -> Response:
    _choice(state, "state", _STATES)
    _choice(kind, "kind", (*NOTIFICATION_KINDS, "forward"))
    service = _service(request)
    rows = await asyncio.to_thread(service.store.notifications.list_notifications,
                                   receiver=receiver, state=state, fingerprint=alert, kind=kind,
                                   before=before, limit=limit + 1)
    page = rows[:limit]
    nxt = None
    if len(rows) > limit:
        url = request.url.include_query_params(before=page[-1].id)
        nxt = f"{url.path}?{url.query}"
    return json_response({"notifications": [r.to_dict() for r in page], "next": nxt,
                          "queued": await asyncio.to_thread(
                              service.store.notifications.queued)})


@router.get("/notifications/{notification_id}", summary="One message with what it said",
            responses={200: {"model": NotificationWithPayload}, **_ERRORS})
async def get_notification(request: Request, notification_id: int) -> Response:
    service = _service(request)
    item = await asyncio.to_thread(service.store.notifications.get_notification,
                                   notification_id)
    if item is None:
        raise NotFoundError(f"no notification {notification_id}", loc=("notification_id",))
    return json_response({**item.to_dict(), "payload": item.payload})


@router.get("/receivers", summary="Receivers and their integration kinds (no URLs or keys)",
            responses={200: {"model": ReceiversBody}, **_ERRORS})
async def list_receivers(request: Request) -> Response:
    service = _service(request)
    return json_response({"receivers": service.receivers(),
                          "alertmanagers": len(service.settings.alertmanagers)})


@router.post("/receivers/{name}/test", summary="Send a test message through each of a "
             "receiver's integrations now", responses={200: {"model": ReceiverTestBody}, **_ERRORS})
async def test_receiver(request: Request, name: str) -> Response:
    service = _service(request)
    if service.settings.receiver(name) is None:
        raise NotFoundError(f"no receiver {name!r}", loc=("name",))
    results = await asyncio.to_thread(service.test, name)
    return json_response({"receiver": name, "results": results,
                          "delivered": all(r["delivered"] for r in results)})

"""Notifications in the running service: the dispatcher and the delivery, wired to the alert
engine, and receiver tests."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from modelmon.notify.config import NotificationSettings
from modelmon.notify.delivery import Delivery, Observer
from modelmon.notify.dispatcher import Dispatcher, messages_for
from modelmon.notify.messages import Notification
from modelmon.notify.transport import DeliveryError, deliver
from modelmon.store.notifications import OutboxState

if TYPE_CHECKING:
    from modelmon.evaluation.coordination import Leadership

__all__ = ["NotificationService", "test_notification"]


def test_notification(receiver: str, external_url: str, now: datetime) -> Notification:
    """A message that says it is a test (one made-up alert of severity ``info``)."""
    stamp = now.isoformat().replace("+00:00", "Z")
    entry = {"status": "firing",
             "labels": {"alertname": "ModelmonTest", "severity": "info"},
             "annotations": {"summary": f"A test notification from modelmon to {receiver}",
                             "description": "If you read this, the receiver works."},
             "startsAt": stamp, "endsAt": "0001-01-01T00:00:00Z",
             "generatorURL": f"{external_url}/v1/alerts" if external_url else "",
             "fingerprint": f"test-{uuid.uuid4().hex[:12]}", "alert_id": None,
             "rule": "ModelmonTest", "model": None, "severity": "info", "value": None,
             "threshold": None, "acked_by": None}
    return Notification(receiver, "test", "test", {}, [entry], external_url.rstrip("/"), stamp)


class NotificationService:
    """Dispatcher and delivery over one store and alert engine."""

    def __init__(self, settings: NotificationSettings, store: Any, engine: Any,
                 clock: Callable[[], datetime], external_url: str,
                 observe: Observer | None = None, leadership: Leadership | None = None) -> None:
        self.settings = settings
        self.store = store
        self.engine = engine
        self.clock = clock
        self.external_url = external_url.rstrip("/")
        self.wake = threading.Event()
        self.dispatcher = Dispatcher(settings, store, engine.active, clock, self.external_url,
                                     wake=self.wake, leadership=leadership)
        self.delivery = Delivery(settings, store, clock, wake=self.wake, observe=observe,
                                 leadership=leadership)

    @property
    def enabled(self) -> bool:
        return bool(self.settings.receivers or self.settings.alertmanagers)

    def start(self) -> NotificationService:
        self.engine.listeners.append(self.dispatcher)
        self.dispatcher.start()
        self.delivery.start()
        return self

    def stop(self) -> None:
        if self.dispatcher in self.engine.listeners:
            self.engine.listeners.remove(self.dispatcher)
        self.dispatcher.stop()
        self.delivery.stop()

    def receivers(self) -> list[dict[str, Any]]:
        """Each receiver's name and integrations (kinds and counts, never URLs or keys)."""
        out = []
        for r in self.settings.receivers:
            kinds: dict[str, int] = {}
            for kind, _, _ in r.integrations():
                kinds[kind] = kinds.get(kind, 0) + 1
            out.append({"name": r.name, "integrations": kinds})
        return out

    def test(self, receiver: str) -> list[dict[str, Any]]:
        """Send a test message through each integration of ``receiver`` now; each result (also
        recorded in the delivery log)."""
        now = self.clock()
        n = test_notification(receiver, self.external_url, now)
        results = []
        with httpx.Client() as client:
            for msg in messages_for(self.settings, n):
                try:
                    deliver(self.settings, client, msg.receiver, msg.integration, msg.idx,
                            msg.payload, now.timestamp())
                    state, error = OutboxState.DELIVERED, None
                except DeliveryError as exc:
                    state, error = OutboxState.FAILED, str(exc)
                self.store.notifications.record(msg, self.clock(), state, error)
                results.append({"integration": msg.integration, "index": msg.idx,
                                "delivered": state == OutboxState.DELIVERED, "error": error})
        return results

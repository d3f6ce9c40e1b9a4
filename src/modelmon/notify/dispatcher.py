"""The dispatcher: alert changes in, messages into the outbox.

The alert engine tells the dispatcher of each change after it is stored
(:attr:`~modelmon.alerts.engine.AlertEngine.listeners`); the dispatcher only queues it, so
evaluation never waits on notifications. Its own thread then, every ``tick`` (a quarter second):

- puts new and changed alerts into their routes' groups (:mod:`~modelmon.notify.groups`);
- looks at the groups due and at escalations, and queues their messages in the store's outbox,
  one per receiver integration, with the notification log, in one transaction;
- queues PagerDuty ``acknowledge`` events for alerts acknowledged in modelmon;
- forwards alert changes to the configured Alertmanagers at once, and every firing alert again
  each ``resend_interval``.

At start it rebuilds its groups from the engine's firing alerts and reads the notification log
and the escalations sent, so a restart neither loses a group nor tells it twice.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from modelmon.alerts.engine import AlertChange
from modelmon.alerts.matchers import Matcher, matches_all
from modelmon.alerts.state import AlertInstance, AlertState
from modelmon.notify.config import NotificationSettings, duration
from modelmon.notify.groups import Flush, Grouper
from modelmon.notify.messages import Notification, alert_entry
from modelmon.notify.routing import Inhibitor, RouteTree, TimeIntervals
from modelmon.store.notifications import NewMessage

if TYPE_CHECKING:
    from modelmon.evaluation.coordination import Leadership
    from modelmon.store.backend import Backend

__all__ = ["Dispatcher", "messages_for"]

log = logging.getLogger("modelmon.notify")

_GROUPED = frozenset({"firing", "live", "escalated", "deescalated", "resolved"})


def messages_for(settings: NotificationSettings, n: Notification) -> list[NewMessage]:
    """One outbox message per integration of the notification's receiver (acknowledgements go
    to PagerDuty integrations only)."""
    rec = settings.receiver(n.receiver)
    if rec is None:
        return []
    fps = [a["fingerprint"] for a in n.alerts]
    payload = n.to_dict()
    return [NewMessage(n.receiver, kind, idx, n.kind, n.group_key, fps, payload)
            for kind, idx, _ in rec.integrations()
            if n.kind != "acknowledge" or kind == "pagerduty"]


class Dispatcher:
    """See the module docstring."""

    def __init__(self, settings: NotificationSettings, store: Backend,
                 active: Callable[[], Sequence[AlertInstance]], clock: Callable[[], datetime],
                 external_url: str, *, wake: threading.Event | None = None,
                 tick: float = 0.25, leadership: Leadership | None = None) -> None:
        self.settings = settings
        self.store = store.notifications
        self._alerts = store.alerts
        #: Several servers on one store: only the leader groups, flushes and forwards.
        self.leadership = leadership
        self._term: int | None = None
        self.active = active
        self.clock = clock
        self.external_url = external_url.rstrip("/")
        self.wake = wake or threading.Event()  # set when messages were queued
        self.tick = tick
        self._changes: queue.SimpleQueue[Sequence[AlertChange]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.tree = RouteTree(settings.route) if settings.route is not None else None
        self.grouper: Grouper | None = None
        self._targets = [[Matcher.parse(m) for m in t.match] for t in settings.alertmanagers]
        self._resent: list[datetime | None] = [None] * len(settings.alertmanagers)
        self.errors = 0

    # --- the listener ----------------------------------------------------------------------------
    def __call__(self, changes: Sequence[AlertChange]) -> None:
        """The alert engine's listener: only queues (evaluation never waits)."""
        self._changes.put(changes)

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Dispatcher:
        self._build(self.clock(), self.active())
        if self.leadership is not None:
            self._term = self.leadership.term()
        self._thread = threading.Thread(target=self._run, name="modelmon-notify-dispatch",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.step(self.clock())  # what arrived meanwhile is queued, not lost

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                self.step(self.clock())
            except Exception:  # keep dispatching; the error is logged and counted
                self.errors += 1
                log.exception("notification dispatch failed")

    def _build(self, now: datetime, active: Sequence[AlertInstance]) -> None:
        """Groups from the notification log, the escalations sent and the firing alerts."""
        if self.tree is None:
            return
        self.grouper = Grouper(self.tree, Inhibitor(self.settings.inhibit_rules),
                               TimeIntervals(self.settings.time_intervals), self.external_url,
                               self.store.notification_log(), self.store.escalations())
        for a in active:
            if a.state == AlertState.FIRING:
                self.grouper.add(a, now)

    # --- one step --------------------------------------------------------------------------------
    def step(self, now: datetime) -> int:
        """Take the queued changes, decide, queue messages; how many were queued."""
        changes: list[AlertChange] = []
        while True:
            try:
                changes += self._changes.get_nowait()
            except queue.Empty:
                break
        if self.leadership is not None:
            term = self.leadership.term()
            if term is None:  # a follower tells only of what was done here: acknowledgements
                return self._follow(changes, now)
            if term != self._term:  # leading anew: the groups as the store has them now
                self._term = term
                self._build(now, self._alerts.active_alerts())
        messages: list[NewMessage] = []
        flush = Flush()
        if self.grouper is not None:
            for c in changes:
                if c.event in _GROUPED:
                    self.grouper.add(c.alert, now)
                elif c.event == "acknowledged":
                    self.grouper.update(c.alert)
                    messages += self._acknowledge(c.alert, now)
            if self.grouper.due(now):  # most ticks: nothing due, nothing to look at
                firing = [a.labels for a in self.active() if a.state == AlertState.FIRING]
                flush = self.grouper.flush(now, firing)
                for n in flush.notifications:
                    messages += messages_for(self.settings, n)
        if self.settings.alertmanagers:
            messages += self._forward(changes, now)
        if messages or flush:
            self.store.enqueue(messages, now, log=flush.log, forget=flush.forget,
                               escalations=flush.escalations)
        if messages:
            self.wake.set()
        return len(messages)

    def _follow(self, changes: Sequence[AlertChange], now: datetime) -> int:
        messages: list[NewMessage] = []
        if self.grouper is not None:
            for c in changes:
                if c.event == "acknowledged":
                    messages += self._acknowledge(c.alert, now)
        if messages:
            self.store.enqueue(messages, now)
            self.wake.set()
        return len(messages)

    def _acknowledge(self, alert: AlertInstance, now: datetime) -> list[NewMessage]:
        assert self.grouper is not None
        out = []
        for route in self.grouper.routes_of(alert):
            n = Notification.build(route.receiver, f"{route.path}/ack", {}, [alert],
                                   self.external_url, now, kind="acknowledge",
                                   extra={"by": alert.acked_by, "note": alert.ack_note})
            out += messages_for(self.settings, n)
        return out

    def _forward(self, changes: Sequence[AlertChange], now: datetime) -> list[NewMessage]:
        out = []
        for i, target in enumerate(self.settings.alertmanagers):
            resend = duration(target.resend_interval)
            last = self._resent[i]
            if last is None or now - last >= resend:
                alerts = [a for a in self.active()
                          if a.state == AlertState.FIRING and not a.backfilled]
                self._resent[i] = now
            else:
                alerts = [c.alert for c in changes if c.event in _GROUPED
                          and not c.alert.backfilled]
            alerts = [a for a in alerts if not a.silenced
                      and matches_all(self._targets[i], a.labels)]
            latest = {a.fingerprint: a for a in alerts}  # the newest state of each
            if not latest:
                continue
            entries = [alert_entry(a, self.external_url) for a in latest.values()]
            out.append(NewMessage("alertmanager", "alertmanager", i, "forward", f"alertmanager[{i}]",
                                  [e["fingerprint"] for e in entries], {"alerts": entries}))
        return out

"""Delivery: the outbox's messages out to their receivers, at least once.

A thread takes the due messages (the oldest queued one of each lane, a lane being one group's
messages to one receiver integration) and hands each to a pool of workers; a lane has at most
one message in flight, so a group's messages go out in order, and a slow or failing receiver
holds only its own lanes and at most a quarter of the workers (at least one), so other
receivers keep going. A message
is marked ``delivered`` after its receiver accepted it; when sending fails it is tried again
after a backoff doubling from ``min_backoff`` to ``max_backoff`` (times a random factor in
[0.5, 1], so receivers coming back are not hit all at once), until it is refused for good
(``failed``) or older than ``max_age`` (``expired``). A crash between sending and marking sends
that message again after the restart: at least once, never lost.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx

from modelmon.notify.config import NotificationSettings, duration
from modelmon.notify.transport import DeliveryError, deliver
from modelmon.store.notifications import OutboxItem, OutboxState

if TYPE_CHECKING:
    from modelmon.evaluation.coordination import Leadership
    from modelmon.store.backend import Backend

__all__ = ["Delivery", "backoff"]

log = logging.getLogger("modelmon.notify")

#: ``observe(receiver, integration, result, seconds from queued to delivered or None)``
Observer = Callable[[str, str, str, float | None], None]


def backoff(attempts: int, low: timedelta, high: timedelta, jitter: float) -> timedelta:
    """The wait after ``attempts`` failed attempts: ``low * 2**(attempts-1)`` capped at
    ``high``, times ``jitter`` (0.5..1).

    >>> backoff(1, timedelta(seconds=1), timedelta(minutes=5), 1.0).total_seconds()
    1.0
    >>> backoff(20, timedelta(seconds=1), timedelta(minutes=5), 0.5).total_seconds()
    150.0
    """
    wait = min(high.total_seconds(), low.total_seconds() * 2 ** max(0, attempts - 1))
    return timedelta(seconds=wait * jitter)


class Delivery:
    """See the module docstring."""

    def __init__(self, settings: NotificationSettings, store: Backend,
                 clock: Callable[[], datetime], *, wake: threading.Event | None = None,
                 observe: Observer | None = None, rng: random.Random | None = None,
                 leadership: Leadership | None = None) -> None:
        self.settings = settings
        self.store = store.notifications
        #: Several servers share one outbox: only the leader delivers.
        self.leadership = leadership
        self.clock = clock
        self.wake = wake or threading.Event()
        self.observe = observe
        self.rng = rng or random.Random()
        d = settings.delivery
        self.min_backoff, self.max_backoff = duration(d.min_backoff), duration(d.max_backoff)
        self.max_age = duration(d.max_age)
        self._pool = ThreadPoolExecutor(d.workers, thread_name_prefix="modelmon-notify-send")
        self._client = httpx.Client(follow_redirects=False)
        self._busy: set[tuple[str, str, int, str]] = set()
        self._per_target: dict[tuple[str, str, int], int] = {}
        self.target_limit = max(1, d.workers // 4)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Delivery:
        self._thread = threading.Thread(target=self._run, name="modelmon-notify-deliver",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.wake.clear()
            try:
                self.dispatch(self.clock())
            except Exception:
                log.exception("notification delivery loop failed")
            self.wake.wait(self._until_next())

    def _until_next(self) -> float:
        """How long to sleep unless woken: until the earliest retry is due; with nothing
        queued, until the dispatcher queues something (a minute at most). A follower looks
        again each second (it may be leading by then)."""
        if self.leadership is not None and self.leadership.term() is None:
            return 1.0
        try:
            nxt = self.store.next_due()
        except Exception:
            return 1.0
        if nxt is None:
            return 60.0
        return min(60.0, max(0.02, (nxt - self.clock()).total_seconds()))

    def dispatch(self, now: datetime) -> int:
        """Hand the due messages to the workers; how many (none unless this server leads:
        several servers share one outbox)."""
        if self.leadership is not None and self.leadership.term() is None:
            return 0
        with self._lock:
            busy = list(self._busy)
        items = self.store.due(now, busy=busy)
        sent = 0
        for item in items:
            target = item.lane[:3]
            with self._lock:
                if item.lane in self._busy or \
                        self._per_target.get(target, 0) >= self.target_limit:
                    continue
                self._busy.add(item.lane)
                self._per_target[target] = self._per_target.get(target, 0) + 1
            self._pool.submit(self._attempt, item)
            sent += 1
        return sent

    def _attempt(self, item: OutboxItem) -> None:
        try:
            self.attempt(item)
        finally:
            with self._lock:
                self._busy.discard(item.lane)
                self._per_target[item.lane[:3]] -= 1
            self.wake.set()

    def attempt(self, item: OutboxItem) -> str:
        """Send one message and mark it; its new state."""
        now = self.clock()
        attempts = item.attempts + 1
        try:
            deliver(self.settings, self._client, item.receiver, item.integration, item.idx,
                    item.payload, now.timestamp())
        except Exception as exc:
            permanent = isinstance(exc, DeliveryError) and exc.permanent
            error = str(exc) if isinstance(exc, DeliveryError) else type(exc).__name__
            if not isinstance(exc, DeliveryError):
                log.exception("sending notification %d failed", item.id)
            done = self.clock()
            if permanent:
                state, next_at = OutboxState.FAILED, done
            elif done - item.created_at >= self.max_age:
                state, next_at = OutboxState.EXPIRED, done
            else:
                state = OutboxState.QUEUED
                next_at = done + backoff(attempts, self.min_backoff, self.max_backoff,
                                         self.rng.uniform(0.5, 1.0))
            self.store.mark(item.id, state, attempts=attempts, next_attempt_at=next_at,
                            last_error=error, delivered_at=None)
            log.warning("notification %d to %s/%s: %s (%s)", item.id, item.receiver,
                        item.integration, error, state)
            if self.observe is not None:
                self.observe(item.receiver, item.integration,
                             "retry" if state == OutboxState.QUEUED else state, None)
            return state
        done = self.clock()
        self.store.mark(item.id, OutboxState.DELIVERED, attempts=attempts, next_attempt_at=done,
                        last_error=None, delivered_at=done)
        if self.observe is not None:
            self.observe(item.receiver, item.integration, OutboxState.DELIVERED,
                         (done - item.created_at).total_seconds())
        return OutboxState.DELIVERED

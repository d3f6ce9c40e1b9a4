"""The outbox's delivery: per-lane order, a slow lane holding only itself, backoff and retry,
refusals for good, expiry, and the states the delivery log shows."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from modelmon.notify.config import NotificationSettings
from modelmon.notify.delivery import Delivery
from modelmon.notify.dispatcher import messages_for
from modelmon.notify.messages import Notification
from modelmon.store.duckdb_store import DuckDBStore
from tests.notify.test_groups import alert
from tests.support.receivers import Receiver


@pytest.fixture
def store() -> Iterator[DuckDBStore]:
    s = DuckDBStore(":memory:")
    s.open()
    yield s
    s.close()


def _settings(fast: Receiver, slow: Receiver, **delivery: str) -> NotificationSettings:
    return NotificationSettings.model_validate({
        "receivers": [{"name": "fast", "webhook": [{"url": fast.url}]},
                      {"name": "slow", "webhook": [{"url": slow.url, "timeout": "5s"}]}],
        "route": {"receiver": "fast"},
        "delivery": {"min_backoff": "1s", "max_backoff": "2s", **delivery}})


def _queue(store: DuckDBStore, settings: NotificationSettings, receiver: str, n: int,
           at: datetime, group: str | None = None) -> None:
    for i in range(n):
        note = Notification.build(receiver, group or f"g{i}", {"i": str(i)}, [alert(f"A{i}")],
                                  "", at)
        store.notifications.enqueue(messages_for(settings, note), at)


def test_a_slow_receiver_holds_only_itself_and_a_group_keeps_its_order(
        store: DuckDBStore) -> None:
    fast, slow = Receiver(), Receiver(delay=1.5)
    try:
        settings = _settings(fast, slow)
        now = datetime.now(UTC)
        _queue(store, settings, "slow", 6, now)              # more groups than workers
        _queue(store, settings, "fast", 5, now, group="g")   # one group: in order
        wake = threading.Event()
        d = Delivery(settings, store, lambda: datetime.now(UTC), wake=wake).start()
        try:
            t0 = time.monotonic()
            fast.wait_for(5, timeout=5)
            fast_done = time.monotonic() - t0
            slow.wait_for(6, timeout=15)
        finally:
            d.stop()
        assert fast_done < 1.5                      # not behind the slow receiver's 1.5 s
        assert [r.json()["groupLabels"]["i"] for r in fast.requests] == list("01234")
        assert sorted(r.json()["groupLabels"]["i"] for r in slow.requests) == list("012345")
        states = {n.state for n in store.notifications.list_notifications()}
        assert states == {"delivered"}
    finally:
        fast.close()
        slow.close()


def test_failures_back_off_then_deliver_refusals_fail_and_old_messages_expire(
        store: DuckDBStore) -> None:
    hook, other = Receiver(), Receiver()
    try:
        settings = _settings(hook, other, max_age="1h")
        clock = [datetime(2026, 12, 7, 12, 0, tzinfo=UTC)]
        d = Delivery(settings, store, lambda: clock[0], rng=random.Random(0))
        _queue(store, settings, "fast", 1, clock[0])
        hook.fail_next(2, 503)
        [item] = store.notifications.due(clock[0])
        assert d.attempt(item) == "queued"
        [again] = store.notifications.list_notifications()
        assert again.attempts == 1 and "HTTP 503" in (again.last_error or "")
        assert store.notifications.due(clock[0]) == []                 # backing off
        clock[0] += timedelta(seconds=1)
        [item] = store.notifications.due(clock[0])
        assert d.attempt(item) == "queued"
        clock[0] += timedelta(seconds=2)
        [item] = store.notifications.due(clock[0])
        assert d.attempt(item) == "delivered" and len(hook.requests) == 1
        # refused for good: not tried again
        _queue(store, settings, "fast", 1, clock[0])
        hook.fail_next(1, 400)
        [item] = store.notifications.due(clock[0])
        assert d.attempt(item) == "failed"
        assert store.notifications.due(clock[0] + timedelta(hours=1)) == []
        # older than max_age: expired after its last failed attempt
        hook.down()
        old = clock[0]
        _queue(store, settings, "fast", 1, old)
        clock[0] = old + timedelta(hours=2)
        [item] = store.notifications.due(clock[0])
        assert d.attempt(item) == "expired"
        log = [(n.state, n.attempts) for n in store.notifications.list_notifications()]
        assert log == [("expired", 1), ("failed", 1), ("delivered", 3)]
    finally:
        hook.close()
        other.close()

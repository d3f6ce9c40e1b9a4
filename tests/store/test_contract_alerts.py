"""Alerts, silences, rules made over the API, the notification outbox and retention: the same
contract on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from tests.store.conftest import StoreFactory
from tests.store.test_contract import SPEC, T0, acts, preds
from tests.store.test_contract_results import window

from modelmon.alerts.matchers import Matcher
from modelmon.alerts.silences import Silence
from modelmon.alerts.state import AlertInstance
from modelmon.store import BatchKind
from modelmon.store.backend import Backend
from modelmon.store.notifications import NewMessage, OutboxState
from modelmon.vocabulary import Severity

H = timedelta(hours=1)


@pytest.fixture
def store(factory: StoreFactory) -> Iterator[Backend]:
    s = factory()
    s.open()
    s.save_model(SPEC, source="test")
    yield s
    s.close()


def alert(i: int, state: str = "firing", model: str = "fraud") -> AlertInstance:
    at = T0 + i * H
    return AlertInstance(f"a{i}", f"fp{i % 2}", "QualityDrop", model, {"model": model},
                         {"summary": "low"}, state, Severity.CRITICAL, 0.5, 0.8, at, at, at,
                         fired_at=at if state == "firing" else None)


def test_alerts_history_and_listing(store: Backend) -> None:
    part = store.alerts
    a0, a1, a2 = alert(0), alert(1, "pending"), alert(2, "resolved", model="other")
    part.save_alerts([a0, a1, a2], [(a0, T0, "fired", None), (a1, T0 + H, "pending", "n")])
    part.save_alerts([replace(a0, evaluations=5, acked_by="ann", acked_at=T0 + H)],
                     [(a0, T0 + 2 * H, "acknowledged", "on it")])
    assert {a.alert_id for a in part.active_alerts()} == {"a0", "a1"}
    got = part.get_alert("a0")
    assert got is not None and got.evaluations == 5 and got.acked_by == "ann"
    assert got.started_at == T0 and got.severity is Severity.CRITICAL
    assert part.get_alert("fp0") is not None and part.get_alert("fp0").alert_id == "a2"  # type: ignore[union-attr]
    assert [a.alert_id for a in part.list_alerts()] == ["a2", "a1", "a0"]
    assert [a.alert_id for a in part.list_alerts(model="fraud", state=["firing"])] == ["a0"]
    assert [a.alert_id for a in part.list_alerts(before=T0 + 2 * H, limit=1)] == ["a1"]
    assert [a.alert_id for a in part.list_alerts(start=T0 + H, end=T0 + 2 * H)] == ["a1"]
    events = part.alert_events("a0")
    assert [e["event"] for e in events] == ["fired", "acknowledged"]
    assert events[1]["note"] == "on it" and events[0]["at"] == T0.isoformat()


def test_silences_and_rules(store: Backend) -> None:
    part = store.alerts
    s1 = Silence("s1", (Matcher("model", "=", "fraud"),), T0, T0 + H, "ann", "deploy", T0)
    s2 = Silence("s2", (Matcher("severity", "=~", "crit.*"),), T0, T0 + 2 * H, "bob", "x",
                 T0 + H)
    part.save_silence(s1)
    part.save_silence(s2)
    part.save_silence(replace(s1, expired_at=T0 + H / 2))
    assert part.list_silences() == [s2, replace(s1, expired_at=T0 + H / 2)]
    part.save_alert_rule("r1", {"metric": "accuracy", "below": 0.8})
    part.save_alert_rule("r1", {"metric": "accuracy", "below": 0.7})
    part.save_alert_rule("r0", {"metric": "f1"})
    assert part.list_alert_rules() == [("r0", {"metric": "f1"}),
                                       ("r1", {"metric": "accuracy", "below": 0.7})]
    part.delete_alert_rule("r0")
    assert [n for n, _ in part.list_alert_rules()] == ["r1"]


def message(group: str, kind: str = "firing", fps: tuple[str, ...] = ("fp0",)) -> NewMessage:
    return NewMessage("team", "webhook", 0, kind, group, list(fps),
                      {"alerts": [{"fingerprint": f, "status": kind} for f in fps]})


def test_outbox_lanes_marks_log_and_escalations(store: Backend) -> None:
    part = store.notifications
    part.enqueue([message("g1"), message("g1", "resolved"), message("g2", fps=("fp1",))], T0,
                 log=[("team", "g1", ["fp0"]), ("team", "g2", ["fp1"])],
                 escalations=[("a0", "pager")])
    assert part.queued() == 3 and part.next_due() == T0
    due = part.due(T0)
    assert [(d.group_key, d.kind) for d in due] == [("g1", "firing"), ("g2", "firing")]
    assert part.due(T0, busy=[due[0].lane]) == [due[1]]
    first = due[0]
    part.mark(first.id, OutboxState.QUEUED, attempts=1, next_attempt_at=T0 + H,
              last_error="503", delivered_at=None)
    assert [d.group_key for d in part.due(T0)] == ["g2"]  # g1 waits for its retry
    part.mark(first.id, OutboxState.DELIVERED, attempts=2, next_attempt_at=T0 + H,
              last_error=None, delivered_at=T0 + H)
    assert [(d.group_key, d.kind) for d in part.due(T0 + H)] == [("g1", "resolved"),
                                                                 ("g2", "firing")]
    got = part.get_notification(first.id)
    assert got is not None and got.state == "delivered" and got.delivered_at == T0 + H
    assert [n.group_key for n in part.list_notifications(fingerprint="fp1")] == ["g2"]
    assert [n.kind for n in part.list_notifications(state="queued")] == ["firing", "resolved"]
    page = part.list_notifications(limit=1)
    assert part.list_notifications(before=page[0].id, limit=5)[0].id < page[0].id
    assert part.notification_log() == {("team", "g1"): (T0, ["fp0"]),
                                       ("team", "g2"): (T0, ["fp1"])}
    part.enqueue([], T0 + H, log=[("team", "g2", ["fp1", "fp0"])], forget=[("team", "g1")],
                 escalations=[("a0", "pager"), ("a1", "pager")])
    assert part.notification_log() == {("team", "g2"): (T0 + H, ["fp0", "fp1"])}
    assert part.escalations() == {("a0", "pager"), ("a1", "pager")}
    part.record(message("test", "test"), T0, OutboxState.DELIVERED, None)
    assert part.list_notifications(kind="test")[0].state == "delivered"


def test_retention_of_predictions_and_results(store: Backend) -> None:
    days = timedelta(days=1)
    store.write([preds(["old1", "old2"], t=T0 - 3 * days), preds(["mid"], t=T0 - days),
                 preds(["new"], t=T0), acts([("old1", 1), ("new", 0)])])
    pruned = store.maintenance.prune_predictions("fraud", T0 - days + H)
    assert (pruned.predictions, pruned.actuals) == (3, 1)
    assert store.read_predictions("fraud").column("prediction_id").to_pylist() == ["new"]
    assert store.count("fraud", BatchKind.ACTUALS) == 1
    [event] = store.list_events("fraud", kind="data_deleted")
    assert event.details["reason"] == "retention" and event.details["predictions"] == 3
    # A pruned id may come again; the kept one is still a duplicate.
    [r] = store.write([preds(["old1", "new"], t=T0 - 3 * days)])
    assert (r.inserted, r.duplicates) == (1, 1)
    store.replace_window_results("fraud", [window(-30, {"accuracy": 0.5}),
                                           window(0, {"accuracy": 0.9})])
    assert store.maintenance.prune_results("fraud", T0 - days).results >= 3
    assert store.window_starts("fraud", "1h") == [(T0, T0 + H)]

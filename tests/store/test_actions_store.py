"""Action records (every backend): one record per idempotency key, filters and paging, what a
restart finds unfinished, the last rollback, and a rollback's registry change made in the same
transaction as its record (all or nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.store.conftest import StoreFactory

from modelmon.actions.record import ActionRecord, ActionState
from modelmon.config import ModelSpec
from modelmon.exceptions import NotFoundError

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def rec(i: int, state: str = ActionState.SUCCEEDED, *, action: str = "rb", model: str = "fraud",
        kind: str = "rollback", dry_run: bool = False) -> ActionRecord:
    at = T0 + timedelta(minutes=i)
    return ActionRecord(f"id{i}", f"key{i}", action, kind, model, "R", f"a{i}", "fp", "firing",
                        "critical", state, dry_run, at, at, started_at=at, finished_at=at,
                        attempts=1, request={"url": "http://h/", "body": {"n": i}},
                        response={"status": 200}, details={"from_version": "v2",
                                                           "to_version": "v1"})


def test_records_round_trip_filter_page_and_survive_a_restart(factory: StoreFactory) -> None:
    store = factory()
    store.open()
    part = store.actions
    assert part.insert_action(rec(1))
    assert not part.insert_action(rec(1))  # the same idempotency key: kept once
    for i, state in enumerate([ActionState.PENDING_APPROVAL, ActionState.RUNNING,
                               ActionState.APPROVED, ActionState.FAILED], start=2):
        assert part.insert_action(rec(i, state))
    part.insert_action(rec(6, action="scale", kind="scale", model="intent"))
    part.insert_action(rec(7, dry_run=True, state=ActionState.DRY_RUN))
    assert part.get_action("id1") == rec(1)
    assert part.find_by_key("key3") == rec(3, ActionState.RUNNING)
    assert [r.action_id for r in part.list_actions(limit=3)] == ["id7", "id6", "id5"]
    assert [r.action_id for r in part.list_actions(before=T0 + timedelta(minutes=5))] == [
        "id4", "id3", "id2", "id1"]
    assert [r.action_id for r in part.list_actions(model="intent")] == ["id6"]
    assert [r.action_id for r in part.list_actions(
        state=[ActionState.FAILED, ActionState.DRY_RUN])] == ["id7", "id5"]
    assert [r.action_id for r in part.list_actions(
        start=T0 + timedelta(minutes=2), end=T0 + timedelta(minutes=4))] == ["id3", "id2"]
    assert [r.action_id for r in part.recent_actions("rb", "fraud",
                                                     T0 + timedelta(minutes=4))] == [
        "id4", "id5", "id7"]
    store.close()
    store = factory()
    store.open()
    try:
        assert [r.action_id for r in store.actions.unfinished_actions()] == ["id2", "id3", "id4"]
        assert store.actions.last_rollback("fraud") == rec(1)  # not the dry run
        assert store.actions.last_rollback("intent") is None
    finally:
        store.close()


def test_a_rollback_changes_the_registry_with_its_record_or_not_at_all(
        factory: StoreFactory) -> None:
    store = factory()
    store.open()
    try:
        store.save_model(ModelSpec.model_validate({"name": "fraud", "task": "regression"}))
        for v in ("v1", "v2"):
            store.register_version("fraud", v)
        running = rec(1, ActionState.RUNNING)
        store.actions.insert_action(running)
        done = running.evolve(T0 + timedelta(minutes=2), state=ActionState.SUCCEEDED)
        store.actions.finish_rollback(done, "v2", "v1")
        assert {v.version: v.stage for v in store.list_versions("fraud")} == {
            "v1": "active", "v2": "rolled_back"}
        assert store.actions.get_action("id1") == done
        [event] = store.list_events("fraud", kind="rolled_back")
        assert event.details["action_id"] == "id1" and event.details["from_version"] == "v2"
        ghost = rec(2, ActionState.RUNNING, model="ghost")
        store.actions.insert_action(ghost)
        with pytest.raises(NotFoundError):
            store.actions.finish_rollback(ghost.evolve(T0, state=ActionState.SUCCEEDED),
                                          "v2", "v1")
        assert store.actions.get_action("id2") == ghost  # nothing of it was written
    finally:
        store.close()

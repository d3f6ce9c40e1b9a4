"""The actions page on a live service with keys: the log, approving (the webhook is called)
and rejecting from the page, read-only sessions without forms, and the audit of each form."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from modelmon.actions.record import ActionRecord, ActionState
from modelmon.config import load_settings
from tests.support.live_server import live_server
from tests.support.webhook_receiver import receiver

ADMIN, READ = "actions-admin", "actions-read"


def _pending(i: int) -> ActionRecord:
    now = datetime.now(UTC)
    return ActionRecord(f"act-{i}", f"key-{i}", "notify-serving", "webhook", "fraud",
                        "AccuracyLow", f"alert-{i}", f"fp-{i}", "firing", "critical",
                        ActionState.PENDING_APPROVAL, False, now, now)


def test_the_actions_page_lists_approves_and_rejects(tmp_path: Path) -> None:
    with receiver() as hook:
        settings = load_settings(env={}, overrides={
            "store": {"path": str(tmp_path / "a.duckdb")}, "scheduler": {"enabled": False},
            "server": {"api_keys": [{"key": ADMIN, "role": "admin", "name": "carol"},
                                    {"key": READ, "role": "read", "name": "viewer"}]},
            "actions": {"definitions": [{"name": "notify-serving", "type": "webhook",
                                         "url": hook.url + "/hook", "approval": True}]}})
        with live_server(settings) as s, httpx.Client(base_url=s.url, timeout=30) as c:
            runner = s.state.actions
            for i in (1, 2):
                runner.store.insert_action(_pending(i))
            with httpx.Client(base_url=s.url, timeout=30) as viewer:
                viewer.post("/ui/signin", data={"key": READ, "next": "/ui/actions"})
                page = viewer.get("/ui/actions").text
                assert 'data-action="act-1"' in page and "approve-form" not in page
                refused = viewer.post("/ui/actions/act-1/approve", data={"csrf": "x"})
                assert refused.status_code == 403
            c.post("/ui/signin", data={"key": ADMIN, "next": "/ui/actions"})
            page = c.get("/ui/actions").text
            assert "approve-form" in page and "notify-serving" in page
            token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            done = c.post("/ui/actions/act-1/approve", data={"csrf": token, "note": "go"})
            assert done.status_code == 303 and "approved" in done.headers["location"]
            [call] = hook.wait_for(1)
            assert call.path == "/hook"
            deadline = time.monotonic() + 10
            while runner.store.get_action("act-1").state != ActionState.SUCCEEDED:
                assert time.monotonic() < deadline, runner.store.get_action("act-1")
                time.sleep(0.05)
            no = c.post("/ui/actions/act-2/reject", data={"csrf": token, "note": "not now"})
            assert no.status_code == 303
            assert runner.store.get_action("act-2").state == ActionState.REJECTED
            again = c.post("/ui/actions/act-2/approve", data={"csrf": token})
            assert again.status_code == 303 and "error=" in again.headers["location"]  # 409
            log = c.get("/ui/actions").text
            assert "Nothing waits for approval" in log
            assert "approved by carol" in log and "rejected by carol" in log
            filtered = c.get("/ui/actions", params={"state": "rejected"}).text
            assert 'data-action="act-2"' in filtered and 'data-action="act-1"' not in filtered
            audit = c.get("/v1/audit", headers={"x-api-key": ADMIN}).json()["entries"]
            assert {(e["action"], e["target"]) for e in audit} >= {
                ("POST /ui/actions/{action_id}/approve", "act-1"),
                ("POST /ui/actions/{action_id}/reject", "act-2")}

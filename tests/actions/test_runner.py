"""Actions run for real: the serving system's webhooks are HTTP servers on loopback, commands are
real processes, the store is DuckDB and alerts come from the alert engine. Every guardrail:
dry run, cooldown, daily maximum, approval and rejection, two rollbacks racing, a failing
webhook raising its own alert, restarts while an action waits or runs."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from modelmon.actions.record import ActionState
from modelmon.actions.runner import ACTION_FAILED
from modelmon.alerts.conditions import ModelContext
from modelmon.alerts.rules import AlertRule
from modelmon.exceptions import ConflictError, NotFoundError
from modelmon.judgement import WindowFacts
from modelmon.vocabulary import Status, Task
from tests.actions.harness import HOUR, SPEC, T0, accuracy_rule, harness
from tests.support.webhook_receiver import receiver


def rollback(url: str, **kw: Any) -> dict[str, Any]:
    return {"name": "rollback", "type": "rollback", "url": url + "/models/{model}/rollback",
            "retry_delay": 0.05, **kw}


CRITICAL = [{"name": "rollback", "min_severity": "critical"}]


# --- the rollback, end to end ---------------------------------------------------------------------

def test_a_critical_alert_rolls_back_to_the_previous_good_version(tmp_path: Path) -> None:
    with receiver() as serving:
        h = harness(tmp_path / "db", [rollback(
            serving.url, headers={"X-Team": "risk"},
            secret_headers={"Authorization": "Bearer s3cret-token"},
            secret="sign-me")], CRITICAL)
        try:
            h.window(0.90)
            h.window(0.83)  # a warning: below the action's min_severity
            assert h.records() == [] and serving.requests == []
            h.window(0.70)  # escalated to critical: roll back
            [req] = serving.requests
            [rec] = h.records()
            assert rec.state == ActionState.SUCCEEDED, rec
            assert (rec.trigger, rec.severity, rec.rule, rec.attempts) == (
                "escalated", "critical", "AccuracyLow", 1)
            assert req.path == "/models/fraud/rollback"
            assert req.headers["Idempotency-Key"] == rec.idempotency_key
            assert req.headers["Authorization"] == "Bearer s3cret-token"
            assert req.headers["X-Team"] == "risk"
            # signed as notifications' webhooks are: HMAC-SHA256 of "<timestamp>.<body>"
            ts = req.headers["X-Modelmon-Timestamp"]
            assert abs(time.time() - int(ts)) < 60
            assert req.headers["X-Modelmon-Signature"] == "sha256=" + hmac.new(
                b"sign-me", ts.encode() + b"." + req.raw, hashlib.sha256).hexdigest()
            assert req.body["rollback"] == {"from_version": "v2", "to_version": "v1"}
            assert req.body["alert"]["labels"]["alertname"] == "AccuracyLow"
            assert req.body["trigger"] == {"event": "escalated", "rule": "AccuracyLow",
                                           "severity": "critical"}
            assert h.stages() == {"v1": "active", "v2": "rolled_back"}
            [event] = [e for e in h.store.list_events("fraud") if e.kind == "rolled_back"]
            assert event.details == {"from_version": "v2", "to_version": "v1",
                                     "action": "rollback", "action_id": rec.action_id}
            # the record: what triggered it, the request without secrets, the response
            shown = rec.to_dict()
            assert shown["request"]["headers"]["Authorization"] == "***"
            assert shown["request"]["signed"] is True
            assert "X-Modelmon-Signature" not in shown["request"]["headers"]
            assert "s3cret" not in json.dumps(shown) and "sign-me" not in json.dumps(shown)
            assert shown["response"]["status"] == 200
            assert shown["details"]["from_version"] == "v2"
            # the same incident staying critical, then resolving: nothing more
            h.window(0.70)
            h.window(0.90)
            assert len(serving.requests) == 1 and len(h.records()) == 1
        finally:
            h.close()


def test_backfilled_alerts_never_trigger_actions(tmp_path: Path) -> None:
    with receiver() as serving:
        h = harness(tmp_path / "db", [rollback(serving.url)], ["rollback"])
        try:
            h.window(0.50, backfilled=True)
            h.window(0.50, backfilled=True)
            assert [a.rule for a in h.engine.active()] == ["AccuracyLow"]
            assert h.records() == [] and serving.requests == []
        finally:
            h.close()


def test_a_slow_webhook_never_holds_up_evaluation(tmp_path: Path) -> None:
    with receiver(delay=1.5) as serving:
        h = harness(tmp_path / "db", [rollback(serving.url)], ["rollback"])
        try:
            started = time.perf_counter()
            h.hour += 1
            h.clock.now = T0 + HOUR
            facts = WindowFacts("fraud", Task.BINARY, "1h", T0, T0 + HOUR, 1000,
                                metrics={"accuracy": (0.5, 1000)})
            h.engine.evaluate_model(SPEC, ModelContext(
                "fraud", {"model": "fraud"}, T0 + HOUR, "1h", Status.HEALTHY, facts, []))
            assert time.perf_counter() - started < 1.0  # the webhook takes 1.5 s
            assert h.runner.drain(10)
            assert [r.state for r in h.records()] == [ActionState.SUCCEEDED]
            assert len(serving.requests) == 1
        finally:
            h.close()


# --- guardrails -----------------------------------------------------------------------------------

def test_dry_run_records_the_request_and_sends_nothing(tmp_path: Path) -> None:
    with receiver() as serving:
        h = harness(tmp_path / "db", [rollback(serving.url, dry_run=True,
                                               secret_headers={"Authorization": "tok"})],
                    ["rollback"])
        try:
            h.window(0.70)
            [rec] = h.records()
            assert rec.state == ActionState.DRY_RUN and rec.dry_run
            assert rec.request is not None
            assert rec.request["url"] == serving.url + "/models/fraud/rollback"
            assert rec.request["body"]["rollback"] == {"from_version": "v2", "to_version": "v1"}
            assert rec.request["body"]["dry_run"] is True
            assert rec.request["headers"]["Authorization"] == "***"
            assert serving.requests == []
            assert h.stages() == {"v1": "active", "v2": "active"}
        finally:
            h.close()
    # the whole section's switch
    with receiver() as serving:
        h = harness(tmp_path / "db2", [rollback(serving.url)], ["rollback"], dry_run=True)
        try:
            h.window(0.70)
            assert [r.state for r in h.records()] == [ActionState.DRY_RUN]
            assert serving.requests == []
        finally:
            h.close()


def test_cooldown_and_daily_maximum_per_action_and_model(tmp_path: Path) -> None:
    scale = {"name": "scale_up", "type": "scale", "replicas": 6, "cooldown": "3h",
             "max_per_day": 2}
    with receiver() as serving:
        h = harness(tmp_path / "db", [{**scale, "url": serving.url + "/scale"}], ["scale_up"])
        try:
            h.window(0.70)      # hour 1: runs
            h.window(0.90)
            h.window(0.70)      # hour 3, a new incident within the 3 h cooldown: skipped
            h.window(0.90)
            h.window(0.70)      # hour 5: 4 h after the first: runs (2 in 24 h)
            h.window(0.90)
            for _ in range(3):  # hours 7-9
                h.window(0.90)
            h.window(0.70)      # hour 10: out of the cooldown, but 2 ran in 24 h: skipped
            h.window(0.90)
            h.window(0.70, at=T0 + 26 * HOUR)  # the first run is more than 24 h old: runs
            states = [(r.state, r.created_at) for r in h.records()]
            assert states == [
                (ActionState.SUCCEEDED, T0 + HOUR),
                (ActionState.SKIPPED_COOLDOWN, T0 + 3 * HOUR),
                (ActionState.SUCCEEDED, T0 + 5 * HOUR),
                (ActionState.SKIPPED_DAILY_MAX, T0 + 10 * HOUR),
                (ActionState.SUCCEEDED, T0 + 26 * HOUR)]
            skipped = h.records(state=[ActionState.SKIPPED_COOLDOWN])[0]
            assert "cooldown 3h" in (skipped.note or "") and skipped.related_id
            assert "max_per_day 2" in (h.records(state=[ActionState.SKIPPED_DAILY_MAX])[0].note
                                       or "")
            assert len(serving.requests) == 3
            assert {r.body["replicas"] for r in serving.requests} == {6}
        finally:
            h.close()


def test_approval_rejection_and_expiry(tmp_path: Path) -> None:
    toggle = {"name": "kill_switch", "type": "toggle_feature", "feature": "new_ranker",
              "feature_enabled": False, "approval": True, "approval_timeout": "2h",
              "cooldown": None}
    with receiver() as serving:
        h = harness(tmp_path / "db", [{**toggle, "url": serving.url + "/flags"}],
                    ["kill_switch"])
        try:
            h.window(0.70)
            [waiting] = h.records()
            assert waiting.state == ActionState.PENDING_APPROVAL and serving.requests == []
            assert waiting.request is not None
            assert waiting.request["body"]["feature"] == {"name": "new_ranker", "enabled": False}
            approved = h.runner.approve(waiting.action_id, "alice", "go ahead")
            assert approved.state == ActionState.APPROVED
            assert h.runner.drain(10)
            [done] = h.records()
            assert done.state == ActionState.SUCCEEDED and len(serving.requests) == 1
            assert done.to_dict()["approval"] == {
                "by": "alice", "at": done.decided_at.isoformat() if done.decided_at else None,
                "note": "go ahead", "decision": "approved"}
            with pytest.raises(ConflictError, match="not waiting for approval"):
                h.runner.approve(done.action_id, "bob")
            with pytest.raises(NotFoundError):
                h.runner.reject("nope", "bob")
            # a second incident: rejected, never sent
            h.window(0.90)
            h.window(0.70)
            second = h.records()[-1]
            rejected = h.runner.reject(second.action_id, "bob", "not during the sale")
            assert rejected.state == ActionState.REJECTED and rejected.decided_by == "bob"
            assert h.runner.drain(10) and len(serving.requests) == 1
            # a third: nobody answers within approval_timeout
            h.window(0.90)
            h.window(0.70)
            third = h.records()[-1]
            h.clock.now += timedelta(hours=1)
            assert h.runner.expire_approvals() == []
            h.clock.now += timedelta(hours=1, seconds=1)
            deadline = time.monotonic() + 10  # the dispatcher expires it on its own
            while h.store.actions.get_action(third.action_id).state != ActionState.EXPIRED:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            expired = h.store.actions.get_action(third.action_id)
            assert expired.note == "no approval within 2h"
            with pytest.raises(ConflictError):
                h.runner.approve(third.action_id, "alice")
            assert len(serving.requests) == 1
        finally:
            h.close()


def test_two_rollbacks_racing_one_runs_the_other_finds_its_result(tmp_path: Path) -> None:
    with receiver(delay=0.5) as serving:
        defs = [rollback(serving.url, name="rollback_a"), rollback(serving.url, name="rollback_b")]
        h = harness(tmp_path / "db", defs, ["rollback_a", "rollback_b"],
                    versions=("v0", "v1", "v2"))
        try:
            h.window(0.70)  # one alert, two rollback actions, at the same moment
            records = h.records()
            assert sorted(r.state for r in records) == [ActionState.SUCCEEDED,
                                                        ActionState.SUPERSEDED]
            done = next(r for r in records if r.state == ActionState.SUCCEEDED)
            other = next(r for r in records if r.state == ActionState.SUPERSEDED)
            assert other.related_id == done.action_id
            assert "rolled back from v2 to v1" in (other.note or "")
            assert len(serving.requests) == 1 and serving.max_in_flight == 1
            assert h.stages() == {"v0": "active", "v1": "active", "v2": "rolled_back"}
            # an incident that started after that rollback may roll back again (once)
            h.window(0.90)
            h.window(0.70)
            newest = h.records()[-2:]
            assert sorted(r.state for r in newest) == [ActionState.SUCCEEDED,
                                                       ActionState.SUPERSEDED]
            assert len(serving.requests) == 2 and serving.max_in_flight == 1
            assert serving.requests[1].body["rollback"] == {"from_version": "v1",
                                                            "to_version": "v0"}
            assert h.stages() == {"v0": "active", "v1": "rolled_back", "v2": "rolled_back"}
        finally:
            h.close()


def test_a_burst_of_rollbacks_of_one_model_runs_one_at_a_time(tmp_path: Path) -> None:
    """Two rules' alerts start in the same window and each asks for a rollback: the second
    waits for the first and is superseded by it."""
    rules = [accuracy_rule(["rollback"]),
             AlertRule.model_validate({"name": "RecallLow", "actions": ["rollback_again"],
                                       "condition": {"kind": "metric", "metric": "accuracy",
                                                     "op": "<", "value": 0.75}})]
    with receiver(delay=0.3) as serving:
        h = harness(tmp_path / "db", [rollback(serving.url),
                                      rollback(serving.url, name="rollback_again")],
                    [], rules=rules, versions=("v0", "v1", "v2"))
        try:
            h.window(0.70)
            states = {r.action: r.state for r in h.records()}
            assert sorted(states.values()) == ["succeeded", "superseded"], states
            assert len(serving.requests) == 1 and serving.max_in_flight == 1
            assert h.stages()["v1"] == "active"
        finally:
            h.close()


# --- failures -------------------------------------------------------------------------------------

def test_a_failing_webhook_is_retried_then_raises_its_own_alert(tmp_path: Path) -> None:
    backup = {"name": "to_backup", "type": "route_to_backup", "backup": "fraud-v0",
              "retries": 2, "retry_delay": 0.05, "cooldown": None}
    with receiver([(503, "busy"), (503, "busy"), (503, "still busy"), (200, "{}")]) as serving:
        h = harness(tmp_path / "db", [{**backup, "url": serving.url + "/route"}], ["to_backup"])
        try:
            h.window(0.70)
            [rec] = h.records()
            assert rec.state == ActionState.FAILED and rec.attempts == 3
            assert rec.error == "HTTP 503 from the serving system"
            assert rec.response == {"status": 503, "body": "still busy",
                                    "content_type": "application/json"}
            keys = {r.headers["Idempotency-Key"] for r in serving.requests}
            assert keys == {rec.idempotency_key} and len(serving.requests) == 3
            assert serving.requests[0].body["backup"] == "fraud-v0"
            [failed] = [a for a in h.engine.active() if a.rule == ACTION_FAILED]
            assert failed.state == "firing" and failed.severity == "critical"
            assert failed.labels == {"alertname": ACTION_FAILED, "severity": "critical",
                                     "model": "fraud", "action": "to_backup"}
            assert failed.annotations["description"] == "HTTP 503 from the serving system"
            assert failed.annotations["action"] == (
                f"https://modelmon.example/v1/actions/{rec.action_id}")
            # the next incident's action succeeds: the ActionFailed alert resolves
            h.window(0.90)
            h.window(0.70)
            assert h.records()[-1].state == ActionState.SUCCEEDED
            assert [a for a in h.engine.active() if a.rule == ACTION_FAILED] == []
            history = h.store.alerts.list_alerts(state=["resolved"])
            assert ACTION_FAILED in {a.rule for a in history}
        finally:
            h.close()


def test_a_client_error_is_not_retried(tmp_path: Path) -> None:
    with receiver([(400, '{"error": "unknown model"}')]) as serving:
        h = harness(tmp_path / "db", [rollback(serving.url)], ["rollback"])
        try:
            h.window(0.70)
            [rec] = h.records()
            assert rec.state == ActionState.FAILED and rec.attempts == 1
            assert h.stages() == {"v1": "active", "v2": "active"}  # the registry is unchanged
            assert ACTION_FAILED in {a.rule for a in h.engine.active()}
        finally:
            h.close()


def test_a_rollback_with_nothing_to_return_to_fails_visibly(tmp_path: Path) -> None:
    with receiver() as serving:
        h = harness(tmp_path / "db", [rollback(serving.url)], ["rollback"], versions=("v1",))
        try:
            h.window(0.70)
            [rec] = h.records()
            assert rec.state == ActionState.FAILED and serving.requests == []
            assert rec.error == "model 'fraud' has no version before 'v1' to roll back to " \
                                "(stages active, retired)"
            assert ACTION_FAILED in {a.rule for a in h.engine.active()}
        finally:
            h.close()


def test_an_action_no_longer_defined_fails_visibly(tmp_path: Path) -> None:
    """A rule made over the API names an action a later deployment file dropped."""
    h = harness(tmp_path / "db", [], ["ghost"])
    try:
        h.window(0.70)
        [rec] = h.records()
        assert rec.state == ActionState.FAILED
        assert rec.error == "no action named 'ghost' is defined (actions.definitions)"
        [alert] = [a for a in h.engine.active() if a.rule == ACTION_FAILED]
        assert alert.labels["action"] == "ghost"
    finally:
        h.close()


# --- commands -------------------------------------------------------------------------------------

SCRIPT = """
import json, os, sys
payload = json.load(sys.stdin)
out = {"payload": payload, "env": {k: v for k, v in os.environ.items() if k.startswith(("MODELMON_", "RETRAIN_"))}}
open(sys.argv[1], "w").write(json.dumps(out))
print("queued retraining of", payload["model"], "with", os.environ["RETRAIN_TOKEN"])
sys.exit(int(sys.argv[2]))
"""


def test_commands_get_the_alert_as_json_on_stdin(tmp_path: Path) -> None:
    script = tmp_path / "retrain.py"
    script.write_text(SCRIPT)
    out = tmp_path / "out.json"
    retrain = {"name": "retrain", "type": "retrain", "cooldown": None,
               "command": [sys.executable, str(script), str(out), "0"],
               "env": {"RETRAIN_QUEUE": "gpu"}, "secret_env": {"RETRAIN_TOKEN": "t0ken-xyz"},
               "params": {"epochs": 3}}
    h = harness(tmp_path / "db", [retrain],
                [{"name": "retrain", "on": ["resolved"]}])
    try:
        h.window(0.70)
        assert h.records() == []  # only on resolved
        h.window(0.90)
        [rec] = h.records()
        assert rec.state == ActionState.SUCCEEDED and rec.trigger == "resolved", rec
        got = json.loads(out.read_text())
        assert got["payload"]["alert"]["state"] == "resolved"
        assert got["payload"]["params"] == {"epochs": 3}
        assert got["env"]["MODELMON_IDEMPOTENCY_KEY"] == rec.idempotency_key
        assert got["env"]["MODELMON_MODEL"] == "fraud"
        assert got["env"]["RETRAIN_QUEUE"] == "gpu" and got["env"]["RETRAIN_TOKEN"] == "t0ken-xyz"
        assert rec.response is not None and rec.response["exit_code"] == 0
        # the command printed the secret: the record keeps it blanked
        assert rec.response["stdout"] == "queued retraining of fraud with ***\n"
        assert rec.request is not None and rec.request["env"]["RETRAIN_TOKEN"] == "***"
        assert "t0ken-xyz" not in json.dumps(rec.to_dict())
    finally:
        h.close()


def test_a_failing_or_hanging_command_fails_the_action(tmp_path: Path) -> None:
    script = tmp_path / "retrain.py"
    script.write_text(SCRIPT)
    failing = {"name": "retrain", "type": "command", "cooldown": None, "retries": 0,
               "command": [sys.executable, str(script), str(tmp_path / "o.json"), "3"],
               "secret_env": {"RETRAIN_TOKEN": "x"}}
    hanging = {"name": "hang", "type": "command", "cooldown": None, "timeout": 1,
               "command": [sys.executable, "-c", "import time; time.sleep(30)"]}
    h = harness(tmp_path / "db", [failing, hanging], ["retrain", "hang"])
    try:
        started = time.monotonic()
        h.window(0.70)
        assert time.monotonic() - started < 15
        recs = {r.action: r for r in h.records()}
        assert recs["retrain"].state == ActionState.FAILED
        assert recs["retrain"].error == "the command exited with 3"
        assert recs["hang"].state == ActionState.FAILED
        assert recs["hang"].error == "the command did not finish within 1 s (killed)"
        failed = {a.labels["action"] for a in h.engine.active() if a.rule == ACTION_FAILED}
        assert failed == {"retrain", "hang"}
    finally:
        h.close()


def test_secrets_from_files_and_the_environment_are_sent_and_never_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = tmp_path / "token"
    token.write_text("from-a-file-0123\n")
    monkeypatch.setenv("TEAM_KEY", "team-key-4567")
    echo = '{"header": "from-a-file-0123", "key": "Bearer team-key-4567"}'
    with receiver([(200, echo)]) as serving:
        spec = rollback(serving.url, secret_headers={"X-Api-Key": {"file": str(token)},
                                                     "X-Team-Key": {"env": "TEAM_KEY"}})
        h = harness(tmp_path / "db", [spec], ["rollback"])
        try:
            h.window(0.70)
            [rec] = h.records()
            assert serving.requests[0].headers["X-Api-Key"] == "from-a-file-0123"
            assert serving.requests[0].headers["X-Team-Key"] == "team-key-4567"
            assert rec.response is not None
            assert rec.response["body"] == '{"header": "***", "key": "Bearer ***"}'
            shown = json.dumps(rec.to_dict())
            assert "from-a-file" not in shown and "team-key" not in shown
            assert str(tmp_path / "token") not in shown
        finally:
            h.close()


# --- restarts -------------------------------------------------------------------------------------

def test_a_restart_keeps_an_action_waiting_for_approval(tmp_path: Path) -> None:
    with receiver() as serving:
        spec = rollback(serving.url, approval=True)
        h = harness(tmp_path / "db", [spec], ["rollback"])
        h.window(0.70)
        [waiting] = h.records()
        assert waiting.state == ActionState.PENDING_APPROVAL
        h.close()
        # the process starts again
        h2 = harness(tmp_path / "db", [spec], ["rollback"], clock=h.clock)
        try:
            [still] = h2.records()
            assert still.state == ActionState.PENDING_APPROVAL and still == waiting
            assert h2.runner.drain(5) and serving.requests == []
            h2.runner.approve(waiting.action_id, "carol")
            assert h2.runner.drain(10)
            [done] = h2.records()
            assert done.state == ActionState.SUCCEEDED and done.decided_by == "carol"
            assert len(serving.requests) == 1
            assert serving.requests[0].headers["Idempotency-Key"] == waiting.idempotency_key
            assert h2.stages() == {"v1": "active", "v2": "rolled_back"}
        finally:
            h2.close()


def test_a_restart_resumes_an_action_that_was_running(tmp_path: Path) -> None:
    """The process died after the webhook was sent and before the answer was recorded: at
    start the rollback is sent again with the same key and the same versions."""
    with receiver() as serving:
        spec = rollback(serving.url)
        h = harness(tmp_path / "db", [spec], ["rollback"])
        h.window(0.70)
        [done] = h.records()
        first = serving.requests[0]
        # what a crash between sending and recording leaves: running, the registry unchanged
        h.store.actions.save_action(done.evolve(done.started_at, state=ActionState.RUNNING,
                                                finished_at=None, response=None))
        h.store.register_version("fraud", "v2", stage="active")
        h.close()
        h2 = harness(tmp_path / "db", [spec], ["rollback"], clock=h.clock)
        try:
            assert h2.runner.drain(10)
            [resumed] = h2.records()
            assert resumed.state == ActionState.SUCCEEDED, resumed
            assert resumed.note == "resumed after a restart"
            assert len(serving.requests) == 2
            again = serving.requests[1]
            assert again.headers["Idempotency-Key"] == first.headers["Idempotency-Key"]
            assert again.body == first.body
            assert h2.stages() == {"v1": "active", "v2": "rolled_back"}
        finally:
            h2.close()


def test_an_alert_that_fired_while_no_runner_listened_is_caught_up(tmp_path: Path) -> None:
    with receiver() as serving:
        spec = rollback(serving.url)
        h = harness(tmp_path / "db", [spec], ["rollback"], start=False)
        h.engine.listeners.clear()  # the process died between the alert and its action
        h.window(0.70)
        assert h.records() == []
        h.close()
        h2 = harness(tmp_path / "db", [spec], ["rollback"], clock=h.clock)
        try:
            assert h2.runner.drain(10)
            [rec] = h2.records()
            assert rec.state == ActionState.SUCCEEDED and rec.trigger == "firing"
            assert len(serving.requests) == 1
        finally:
            h2.close()
